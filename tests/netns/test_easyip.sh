#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_easyip.sh - Easy IP: "external interface wan0", the router's one WAN address shared
# by the LAN. curl, ping and a forward work through it, with external ports in the default
# range of this mode (49152-65534); the router's own HTTP service on its WAN address, named
# by local-service, still answers from the WAN, and its DHCP client's port (udp 68, kept
# without a line) receives a unicast datagram from the WAN; a renumbering of wan0 (as on a DHCP renew) is followed: new flows
# leave with the new address; after SIGTERM the routing (rules: the local rule at priority 0
# included), ip_forward, ip_local_port_range and early demux are as before.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require curl ping ss socat
topo_up

NEW_WAN_IP=198.51.100.3
easyip_config "forward tcp 8080 $LAN_IP:80" "local-service tcp 8000" >"$TOPO_DIR/naptd.conf"
before=$(easyip_snapshot)

# WAN: a TCP server that answers with the client's address and port as it sees them.
bg "$NS_WAN" "$TOPO_DIR/echo.log" "$PY" "$(dirname "$0")/tcp_peer_echo.py" "$WAN_IP" 7000
wait_listen "$NS_WAN" tcp "$WAN_IP:7000"
mkdir -p "$TOPO_DIR/lan" "$TOPO_DIR/rtr"
echo lan-service >"$TOPO_DIR/lan/id.txt"
echo router-service >"$TOPO_DIR/rtr/id.txt"
http_serve "$NS_LAN" "$LAN_IP" 80 "$TOPO_DIR/lan" "$TOPO_DIR/lan-http.log"
# The router's own service, on its WAN address, named by local-service.
http_serve "$NS_RTR" 0.0.0.0 8000 "$TOPO_DIR/rtr" "$TOPO_DIR/rtr-http.log"
# The router's DHCP client socket: a server answers a renewal by unicast to W:68.
bg "$NS_RTR" "$TOPO_DIR/dhcp.log" socat -u UDP-RECV:68 "OPEN:$TOPO_DIR/dhcp.got,creat"
wait_listen "$NS_RTR" udp "0.0.0.0:68"

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# seen_as ADDR: curl the echo server from the LAN; the client it saw must be ADDR with a port
# of 49152-65534 (the default port-range with "external interface").
seen_as() {
	local seen port
	seen=$(in_lan curl -sS --max-time 10 "telnet://$WAN_IP:7000" </dev/null) ||
		fail "no answer from the WAN echo server"
	port=${seen##*:}
	[ "${seen%%:*}" = "$1" ] || fail "the WAN host saw $seen, not $1"
	[ "$port" -ge 49152 ] && [ "$port" -le 65534 ] ||
		fail "external port $port is outside 49152-65534"
	echo "ok: the WAN host saw the LAN host as $seen"
}
seen_as "$RTR_WAN_IP"

in_lan ping -c 3 -i 0.2 -W 2 -w 10 "$WAN_IP" >"$TOPO_DIR/ping.log" ||
	fail "ping $WAN_IP from the LAN failed: $(cat "$TOPO_DIR/ping.log")"
echo "ok: ping from the LAN through the WAN address"

body=$(in_wan curl -sS --max-time 10 "http://$RTR_WAN_IP:8080/id.txt") ||
	fail "forward: curl from the WAN to $RTR_WAN_IP:8080 failed"
[ "$body" = lan-service ] || fail "forward: got '$body', not the LAN service"
echo "ok: forward tcp 8080 on the WAN address reaches the LAN service"

body=$(in_wan curl -sS --max-time 10 "http://$RTR_WAN_IP:8000/id.txt") ||
	fail "the router's own service on $RTR_WAN_IP:8000 does not answer from the WAN"
[ "$body" = router-service ] || fail "router service: got '$body'"
echo "ok: the router's own service on its WAN address still answers"

# shellcheck disable=SC2317 # called through wait_until
dhcp_got() { grep -q renewal-ack "$TOPO_DIR/dhcp.got" 2>/dev/null; }
for _ in 1 2 3; do
	echo renewal-ack | in_wan socat -u - "UDP:$RTR_WAN_IP:68,sourceport=67"
	wait_until 2 dhcp_got && break
done
dhcp_got || fail "a unicast datagram from the WAN to $RTR_WAN_IP:68 (a DHCP server's answer" \
	"to a renewal) did not reach the router's DHCP client"
echo "ok: udp 68 on the WAN address is the router's DHCP client's without a local-service line"

# Renumbering: the old address goes, a new one comes; the WAN host forgets the old one.
in_rtr ip addr del "$RTR_WAN_IP/24" dev wan0
in_rtr ip addr add "$NEW_WAN_IP/24" dev wan0
in_wan ip neigh flush dev eth0
wait_until 5 grep -q "address $RTR_WAN_IP -> $NEW_WAN_IP" "$NAPTD_LOG" ||
	fail "naptd did not log the address change"
echo "ok: naptd logged the change to $NEW_WAN_IP"
seen_as "$NEW_WAN_IP"
body=$(in_wan curl -sS --max-time 10 "http://$NEW_WAN_IP:8080/id.txt") ||
	fail "forward on the new address failed"
[ "$body" = lan-service ] || fail "forward on the new address: got '$body'"
echo "ok: the forward follows the new address"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
in_rtr ip addr del "$NEW_WAN_IP/24" dev wan0
in_rtr ip addr add "$RTR_WAN_IP/24" dev wan0
expect_unchanged "$before" "$(easyip_snapshot)" "routing not restored after naptd exited"
echo "ok: rules, routes, ip_forward, local port range and early demux as before naptd started"
exit 0
