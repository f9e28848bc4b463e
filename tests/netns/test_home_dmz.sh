#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_home_dmz.sh - the home router under Easy IP with a DMZ host (issue 12, items 1 and 2):
# "external interface wan0", "dmz LAN-HOST", "local-service tcp 2222", no forward. A WAN host
# reaches the DMZ host on TCP 80, 5000 and 50000 (naptd's port-range), UDP 6000 and by ping;
# the router's own SSH-like service on tcp 2222 (the DMZ host listens there too) answers
# instead of the DMZ host; the router's own DNS query, HTTP fetch and ping work, and so does
# an upload of 2 MB to a host behind a 1280-byte link, which needs path-MTU discovery (RFC
# 1191: the router's "fragmentation needed" comes back to the WAN address). After SIGTERM
# rules, routes and the sysctls naptd changed are as before.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require curl ping socat ss nstat
topo_up_extra
far_up
# The far link is narrower than the router's: wan answers 1500-byte packets with DF set
# with ICMP "fragmentation needed", MTU 1280.
ip -n "$NS_WAN" link set far0 mtu 1280

easyip_config "dmz $LAN_IP" "local-service tcp 2222" >"$TOPO_DIR/naptd.conf"
before=$(easyip_snapshot)

# expect_banner NS ADDR PORT TEXT WHAT
expect_banner() {
	local got
	got=$(banner "$1" "$2" "$3") || fail "$5: no answer from $2:$3"
	[ "$got" = "$4" ] || fail "$5: $2:$3 answered '$got', not '$4'"
	echo "ok: $5 ($2:$3 answered $got)"
}

mkdir -p "$TOPO_DIR/dmz" "$TOPO_DIR/web"
echo dmz-web >"$TOPO_DIR/dmz/id.txt"
echo wan-web >"$TOPO_DIR/web/id.txt"
http_serve "$NS_LAN" 0.0.0.0 80 "$TOPO_DIR/dmz" "$TOPO_DIR/dmz-http.log"
banner_server "$NS_LAN" 5000 dmz-5000
banner_server "$NS_LAN" 50000 dmz-50000
banner_server "$NS_LAN" 2222 dmz-2222
bg "$NS_LAN" "$TOPO_DIR/udp.log" socat UDP-RECVFROM:6000,fork "SYSTEM:echo dmz-udp"
wait_listen "$NS_LAN" udp "0.0.0.0:6000"
banner_server "$NS_RTR" 2222 router-ssh
http_serve "$NS_WAN" "$WAN_IP" 80 "$TOPO_DIR/web" "$TOPO_DIR/wan-http.log"
bg "$NS_WAN" "$TOPO_DIR/dns.log" "$PY" "$(dirname "$0")/dns_peer.py" serve "$WAN_IP" 53 \
	192.0.2.53
wait_listen "$NS_WAN" udp "$WAN_IP:53"
bg "$NS_FAR" "$TOPO_DIR/sink.log" socat -u TCP-LISTEN:9000,reuseaddr \
	"CREATE:$TOPO_DIR/received.bin"
wait_listen "$NS_FAR" tcp "0.0.0.0:9000"

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# The DMZ host, on ports no forward names.
body=$(in_wan curl -sS --max-time 10 "http://$RTR_WAN_IP/id.txt") ||
	fail "DMZ: curl from the WAN to $RTR_WAN_IP:80 failed"
[ "$body" = dmz-web ] || fail "DMZ: port 80 answered '$body', not the DMZ host"
echo "ok: tcp 80 of the WAN address reaches the DMZ host"
expect_banner "$NS_WAN" "$RTR_WAN_IP" 5000 dmz-5000 "tcp 5000 reaches the DMZ host"
expect_banner "$NS_WAN" "$RTR_WAN_IP" 50000 dmz-50000 "tcp 50000 (port-range) reaches the DMZ host"
got=$(udp_ask "$NS_WAN" "$RTR_WAN_IP" 6000 dmz-udp)
[ "$got" = dmz-udp ] || fail "DMZ: udp 6000 answered '$got'"
echo "ok: udp 6000 reaches the DMZ host"
echoes_before=$(in_lan nstat -saz IcmpInEchos | awk '$1 == "IcmpInEchos" { print $2 }')
in_wan ping -c 3 -i 0.2 -W 2 -w 10 "$RTR_WAN_IP" >"$TOPO_DIR/ping-dmz.log" ||
	fail "ping of the WAN address failed: $(cat "$TOPO_DIR/ping-dmz.log")"
echoes=$(in_lan nstat -saz IcmpInEchos | awk '$1 == "IcmpInEchos" { print $2 }')
[ $((echoes - echoes_before)) -ge 3 ] ||
	fail "the DMZ host answered $((echoes - echoes_before)) of 3 pings, not all"
echo "ok: pings of the WAN address are answered by the DMZ host"

# The router's own.
expect_banner "$NS_WAN" "$RTR_WAN_IP" 2222 router-ssh \
	"local-service tcp 2222 is the router's, ahead of the DMZ"
addr=$(in_rtr "$PY" "$(dirname "$0")/dns_peer.py" ask "$WAN_IP" 53 gw.example.test) ||
	fail "the router's DNS query got no answer"
[ "$addr" = 192.0.2.53 ] || fail "the router's DNS query answered $addr"
echo "ok: the router's own DNS query is answered"
body=$(in_rtr curl -sS --max-time 10 "http://$WAN_IP/id.txt") ||
	fail "the router's own HTTP fetch failed"
[ "$body" = wan-web ] || fail "the router's HTTP fetch got '$body'"
echo "ok: the router's own HTTP fetch works"
in_rtr ping -c 3 -i 0.2 -W 2 -w 10 "$WAN_IP" >"$TOPO_DIR/ping-rtr.log" ||
	fail "the router's own ping failed: $(cat "$TOPO_DIR/ping-rtr.log")"
echo "ok: the router's own ping works"
head -c 2000000 /dev/urandom >"$TOPO_DIR/upload.bin"
in_rtr timeout 30 socat -u "OPEN:$TOPO_DIR/upload.bin" "TCP:$FAR_IP:9000,connect-timeout=5" ||
	fail "the router's upload to $FAR_IP failed"
wait_until 10 cmp -s "$TOPO_DIR/upload.bin" "$TOPO_DIR/received.bin" ||
	fail "the far host received $(stat -c %s "$TOPO_DIR/received.bin" 2>/dev/null) of 2000000 bytes"
in_rtr ip route get "$FAR_IP" | grep -q "mtu 1280" ||
	fail "no path MTU learnt: $(in_rtr ip route get "$FAR_IP")"
echo "ok: the router's 2 MB upload through a 1280-byte link arrived (path MTU 1280 learnt)"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
expect_unchanged "$before" "$(easyip_snapshot)" "routing or sysctls not restored after naptd exited"
echo "ok: rules, routes, local port range and early demux as before naptd started"
exit 0
