#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_hairpin.sh - hairpinning in naptd on a real TUN (RFC 4787 REQ-9, RFC 5382 REQ-8,
# docs/behaviour.md 9): lan2 (192.168.77.3) offers an HTTP server and a UDP echo, forwarded
# with naptctl from the external address; lan (192.168.77.2) reaches both through
# 198.51.100.10:PORT, and the servers see the external address as the client's source,
# never the inside address.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require curl ss
topo_up_extra
lan2_up

HTTP_EXT=8080 HTTP_IN=80
UDP_EXT=5353 UDP_IN=53

echo hairpin-ok >"$TOPO_DIR/hello.txt"
http_serve "$NS_LAN2" "$LAN2_IP" $HTTP_IN "$TOPO_DIR" "$TOPO_DIR/http.log"
# UDP echo: answers "echo from=ADDR:PORT" to every datagram, logs the sender.
bg "$NS_LAN2" "$TOPO_DIR/udp.log" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(2048)
    print("from %s:%d" % peer, flush=True)
    s.sendto(b"echo from=%s:%d" % (peer[0].encode(), peer[1]), peer)
' "$LAN2_IP" $UDP_IN

naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
ctl forward add tcp $HTTP_EXT "$LAN2_IP:$HTTP_IN" >/dev/null || fail "naptctl forward add tcp failed"
ctl forward add udp $UDP_EXT "$LAN2_IP:$UDP_IN" >/dev/null || fail "naptctl forward add udp failed"
wait_listen "$NS_LAN2" udp "$LAN2_IP:$UDP_IN"
hairpinned=$(stat_value hairpinned)

# TCP: curl accepts the answer only if it comes back from EXT_IP:HTTP_EXT, the address it
# connected to, so success also shows the reverse translation.
body=$(in_lan curl -sS --max-time 10 "http://$EXT_IP:$HTTP_EXT/hello.txt") ||
	fail "curl from $LAN_IP to $EXT_IP:$HTTP_EXT failed"
[ "$body" = hairpin-ok ] || fail "curl through the hairpin got '$body'"
grep -q "^$EXT_IP .*GET /hello.txt" "$TOPO_DIR/http.log" ||
	fail "the HTTP server on $LAN2_IP did not see $EXT_IP: $(cat "$TOPO_DIR/http.log")"
! grep -q "^$LAN_IP " "$TOPO_DIR/http.log" || fail "the HTTP server saw the inside address $LAN_IP"
echo "ok: curl $LAN_IP -> $EXT_IP:$HTTP_EXT reached $LAN2_IP:$HTTP_IN, the server saw $EXT_IP"

# UDP: a connected socket accepts the reply only from EXT_IP:UDP_EXT.
answer=$(in_lan "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"hi")
print(s.recv(2048).decode())
' "$EXT_IP" $UDP_EXT 2>&1) || fail "UDP $LAN_IP -> $EXT_IP:$UDP_EXT got no answer: $answer"
case $answer in
"echo from=$EXT_IP:"*) ;;
*) fail "the UDP server on $LAN2_IP answered '$answer', expected the sender $EXT_IP:PORT" ;;
esac
echo "ok: UDP $LAN_IP -> $EXT_IP:$UDP_EXT reached $LAN2_IP:$UDP_IN, the server saw ${answer#echo from=}"

now=$(stat_value hairpinned)
[ "$now" -gt "$hairpinned" ] || fail "naptctl show stats: hairpinned stayed at $now"
echo "ok: naptctl show stats counts $((now - hairpinned)) hairpinned packets"

# The forward's sessions: inside 192.168.77.3, remote the external address.
sessions=$(ctl show sessions inside "$LAN2_IP")
for p in "tcp $LAN2_IP:$HTTP_IN $EXT_IP:$HTTP_EXT" "udp $LAN2_IP:$UDP_IN $EXT_IP:$UDP_EXT"; do
	awk -v p="$p" -v e="$EXT_IP" '$1 " " $2 " " $3 == p && index($4, e ":") == 1 && $6 == "forward"' \
		<<<"$sessions" | grep -q . || fail "no forward session '$p' from $EXT_IP in:
$sessions"
done
echo "ok: show sessions lists the forward sessions of $LAN2_IP with remote $EXT_IP"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
