#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_basic.sh - naptd on a real TUN: curl and ping from the LAN reach a WAN host that has
# no route back to the LAN, the server sees the external address, naptd keeps only
# CAP_NET_ADMIN, and after SIGTERM the router's rules, routes, proxy neighbour entries and
# ip_forward are exactly as before.
set -u
. "$(dirname "$0")/lib.sh"

topo_require curl ping
topo_up

naptd_config "# test_basic: the defaults of lib.sh" >"$TOPO_DIR/naptd.conf"
before=$(routing_snapshot)

bg "$NS_WAN" "$TOPO_DIR/http.log" "$PY" -m http.server --bind "$WAN_IP" 8080 \
	--directory "$TOPO_DIR"
echo hello-through-nat >"$TOPO_DIR/hello.txt"

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# After set-up naptd keeps CAP_NET_ADMIN (bit 12) only: capabilities(7).
caps=$(awk '/^CapEff:/ {print $2}' "/proc/$NAPTD_PID/status")
[ "$caps" = 0000000000001000 ] || fail "naptd's effective capabilities are $caps, not CAP_NET_ADMIN only"
echo "ok: naptd runs with CAP_NET_ADMIN only"

# Wait (bounded) for the HTTP server to listen.
for ((i = 0; i < 50; i++)); do
	in_wan ss -ltn | grep -q "$WAN_IP:8080" && break
	sleep 0.1
done

body=$(in_lan curl -sS --max-time 10 "http://$WAN_IP:8080/hello.txt") ||
	fail "curl from the LAN to $WAN_IP failed"
[ "$body" = hello-through-nat ] || fail "curl got '$body'"
grep -q "^$EXT_IP .*GET /hello.txt" "$TOPO_DIR/http.log" ||
	fail "the server did not see $EXT_IP as client: $(cat "$TOPO_DIR/http.log")"
echo "ok: curl crossed the NAT, the server saw $EXT_IP"

in_lan ping -c 3 -i 0.2 -W 2 -w 10 "$WAN_IP" >"$TOPO_DIR/ping.log" ||
	fail "ping $WAN_IP from the LAN failed: $(cat "$TOPO_DIR/ping.log")"
grep -q " 0% packet loss" "$TOPO_DIR/ping.log" || fail "ping lost packets"
echo "ok: ping from the LAN to $WAN_IP"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
expect_unchanged "$before" "$(routing_snapshot)" "routing not restored after naptd exited"
echo "ok: rules, routes, proxy neighbours and ip_forward as before naptd started"
exit 0
