#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_home_renumber.sh - Easy IP rules that change while naptd runs, and a WAN address that
# changes under them (issue 12, items 1 and 6):
# - "naptctl forward add tcp 8080" (outside naptd's port-range) and a forward added to the
#   file and applied by "naptctl reload" work at once, from the WAN; "naptctl dmz set" too;
# - a forward that would hide "local-service tcp 2222" is refused, by naptctl and by reload,
#   with a message naming the local-service; a local-service added by reload takes its port
#   from the DMZ at once;
# - wan0 is renumbered (as on a DHCP renew) while the LAN host pings the WAN host every 2 ms:
#   no packet with an inside source reaches the WAN meanwhile; the forward and the DMZ work
#   on the new address,
#   and the NAT-PMP/PCP clients are told: an announcement with the new address reaches the
#   LAN host (RFC 6886 section 3.2.1), natpmpc reads the new address;
# - "naptctl forward del" and "dmz clear" are undone at once: port 8080 then reaches the DMZ
#   host's own port 8080, port 5000 nothing;
# - a "static" line added by reload is reachable at once, and unrouted once removed.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require curl socat ss natpmpc
topo_up_extra
lan2_up

NEW_WAN_IP=198.51.100.3
write_conf() {
	easyip_config "wan-interface wan0" "local-service tcp 2222" "pcp-allow $INSIDE 1024-65535" "$@"
}
write_conf >"$TOPO_DIR/naptd.conf"

# reach ADDR PORT: what the WAN host gets from ADDR:PORT.
reach() { banner "$NS_WAN" "$1" "$2" 2>/dev/null; }
# expect_reach ADDR PORT TEXT WHAT
expect_reach() {
	local got
	got=$(reach "$1" "$2")
	[ "$got" = "$3" ] || fail "$4: $1:$2 gave '$got', not '$3'"
	echo "ok: $4"
}

banner_server "$NS_LAN" 80 lan-80
banner_server "$NS_LAN" 8080 dmz-8080
banner_server "$NS_LAN" 5000 dmz-5000
banner_server "$NS_LAN" 8081 lan-8081
banner_server "$NS_LAN" 2223 dmz-2223
banner_server "$NS_RTR" 2222 router-ssh
banner_server "$NS_RTR" 2223 router-2223

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:5351"

out=$(ctl forward add tcp 8080 "$LAN_IP:80") || fail "forward add tcp 8080: $out"
expect_reach "$RTR_WAN_IP" 8080 lan-80 "a forward added by naptctl outside the port-range works at once"
out=$(ctl forward add tcp 2222 "$LAN_IP:22" 2>&1) && fail "forward add tcp 2222 accepted: $out"
[[ "$out" == *"local-service tcp 2222"* ]] || fail "forward add tcp 2222: unclear refusal: $out"
echo "ok: naptctl refuses a forward that would hide local-service tcp 2222: $out"
expect_reach "$RTR_WAN_IP" 2222 router-ssh "tcp 2222 stays the router's"

write_conf "forward tcp 8081 $LAN_IP:8081" >"$TOPO_DIR/naptd.conf"
out=$(ctl reload) || fail "reload with forward tcp 8081: $out"
expect_reach "$RTR_WAN_IP" 8081 lan-8081 "a forward added to the file works after reload"
write_conf "forward tcp 2000-2999 $LAN_IP:2000-2999" >"$TOPO_DIR/naptd.conf"
out=$(ctl reload 2>&1) && fail "reload with a forward over local-service accepted: $out"
[[ "$out" == *"local-service tcp 2222"* ]] || fail "reload: unclear refusal: $out"
echo "ok: reload refuses a forward over local-service tcp 2222: $out"
expect_reach "$RTR_WAN_IP" 8081 lan-8081 "the refused reload left the running config"

out=$(ctl dmz set "$LAN_IP") || fail "dmz set: $out"
expect_reach "$RTR_WAN_IP" 5000 dmz-5000 "the DMZ set by naptctl takes port 5000 at once"
expect_reach "$RTR_WAN_IP" 2223 dmz-2223 "with the DMZ set, the unnamed port 2223 is the DMZ host's"
write_conf "forward tcp 8081 $LAN_IP:8081" "local-service tcp 2223" >"$TOPO_DIR/naptd.conf"
out=$(ctl reload) || fail "reload with local-service tcp 2223: $out"
expect_reach "$RTR_WAN_IP" 2223 router-2223 "a local-service added by reload is the router's at once"
expect_reach "$RTR_WAN_IP" 5000 dmz-5000 "the DMZ stays after the reload"

# The announcement of the new address, caught on the LAN host (NAT-PMP opcode 128, result 0).
in_lan "$PY" -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 5350))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.0.1") + socket.inet_aton(sys.argv[1]))
s.settimeout(20)
while True:
    msg = s.recv(64)
    if len(msg) == 12 and msg[0] == 0 and msg[1] == 128 and msg[2:4] == b"\0\0" \
       and socket.inet_ntoa(msg[8:12]) == sys.argv[2]:
        print("announced", sys.argv[2])
        break
' "$LAN_IP" "$NEW_WAN_IP" >"$TOPO_DIR/announce.log" 2>&1 &
ANNOUNCE_PID=$!
TOPO_PIDS+=("$ANNOUNCE_PID")
wait_listen "$NS_LAN" udp "0.0.0.0:5350"

# While the routing is made again, nothing leaves untranslated: a recorder on the WAN host
# counts packets with an inside source while the LAN host pings it every 2 ms.
in_wan "$PY" -c '
import sys, time
from scapy.all import AsyncSniffer, IP
rec = AsyncSniffer(iface="eth0", store=True,
                   lfilter=lambda p: IP in p and p[IP].src.startswith("192.168.77."))
rec.start()
time.sleep(1)
print("ready", flush=True)
time.sleep(float(sys.argv[1]))
rec.stop()
print("leaked", len(rec.results), flush=True)
' 6 >"$TOPO_DIR/leak.log" 2>&1 &
LEAK_PID=$!
TOPO_PIDS+=("$LEAK_PID")
wait_until 15 grep -q ready "$TOPO_DIR/leak.log" || fail "the recorder did not start: $(cat "$TOPO_DIR/leak.log")"
in_lan ping -q -i 0.002 -w 5 "$WAN_IP" >"$TOPO_DIR/ping-flood.log" 2>&1 &
PING_PID=$!
sleep 1
in_rtr ip addr del "$RTR_WAN_IP/24" dev wan0
in_rtr ip addr add "$NEW_WAN_IP/24" dev wan0
in_wan ip neigh flush dev eth0
wait_until 5 grep -q "address $RTR_WAN_IP -> $NEW_WAN_IP" "$NAPTD_LOG" ||
	fail "naptd did not log the address change"
echo "ok: naptd follows wan0 to $NEW_WAN_IP"
wait "$PING_PID"
wait "$LEAK_PID" || true
grep -q "^leaked 0$" "$TOPO_DIR/leak.log" ||
	fail "packets with an inside source reached the WAN while the routing was made again: $(cat "$TOPO_DIR/leak.log")"
echo "ok: nothing left untranslated while the routing was made again ($(grep -o '[0-9]* packets transmitted' "$TOPO_DIR/ping-flood.log") meanwhile)"
wait "$ANNOUNCE_PID" || fail "no NAT-PMP announcement of $NEW_WAN_IP: $(cat "$TOPO_DIR/announce.log")"
echo "ok: the LAN host was told: $(cat "$TOPO_DIR/announce.log")"
out=$(in_lan natpmpc -g "$RTR_LAN_IP" 2>&1)
grep -q "Public IP address : $NEW_WAN_IP" <<<"$out" || fail "natpmpc after the change: $out"
echo "ok: natpmpc reads the new address $NEW_WAN_IP"
expect_reach "$NEW_WAN_IP" 8080 lan-80 "the naptctl forward follows the new address"
expect_reach "$NEW_WAN_IP" 8081 lan-8081 "the config forward follows the new address"
expect_reach "$NEW_WAN_IP" 5000 dmz-5000 "the DMZ follows the new address"
expect_reach "$NEW_WAN_IP" 2222 router-ssh "the local-service follows the new address"

out=$(ctl forward del tcp 8080) || fail "forward del tcp 8080: $out"
expect_reach "$NEW_WAN_IP" 8080 dmz-8080 "after forward del, port 8080 is the DMZ host's own"
out=$(ctl dmz clear) || fail "dmz clear: $out"
[ -z "$(reach "$NEW_WAN_IP" 5000)" ] || fail "after dmz clear, port 5000 still reaches the LAN"
echo "ok: after dmz clear, port 5000 reaches nothing"

# A static entry added by reload: its address is routed into naptd at once, and no more once
# the line is gone.
STATIC_IP=198.51.100.20
bg "$NS_LAN2" "$TOPO_DIR/banner-lan2.log" socat TCP-LISTEN:7000,reuseaddr,fork "SYSTEM:echo lan2-7000"
wait_listen "$NS_LAN2" tcp "0.0.0.0:7000"
write_conf "forward tcp 8081 $LAN_IP:8081" "local-service tcp 2223" \
	"static $LAN2_IP $STATIC_IP" >"$TOPO_DIR/naptd.conf"
out=$(ctl reload) || fail "reload with a static line: $out"
expect_reach "$STATIC_IP" 7000 lan2-7000 "a static entry added by reload is reachable at once"
write_conf "forward tcp 8081 $LAN_IP:8081" "local-service tcp 2223" >"$TOPO_DIR/naptd.conf"
out=$(ctl reload) || fail "reload without the static line: $out"
in_rtr ip route show table all | grep -q "$STATIC_IP" &&
	fail "the static address is still routed after reload: $(in_rtr ip route show table all | grep "$STATIC_IP")"
[ -z "$(reach "$STATIC_IP" 7000)" ] || fail "the removed static entry still reaches the LAN host"
echo "ok: a static entry removed by reload is no longer routed"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
