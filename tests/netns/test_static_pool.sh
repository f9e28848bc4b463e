#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_static_pool.sh - an address pool and static NAT. Two `external` addresses: each LAN
# host keeps one of them (paired pooling, RFC 4787 REQ-2), the one of index ntohl(host) % 2
# (198.51.100.10 for 192.168.77.2, 198.51.100.11 for 192.168.77.3). A `static` host
# (192.168.77.4 -> 198.51.100.20) is reachable from the WAN on any port, and its own traffic
# leaves with its static address, its ports kept.
set -u
. "$(dirname "$0")/lib_extra.sh"

topo_require curl ss
topo_up_extra
lan2_up

EXT2_IP=198.51.100.11
STATIC_IN=192.168.77.4
STATIC_EXT=198.51.100.20
in_lan ip addr add "$STATIC_IN/24" dev eth0
naptd_config "external $EXT2_IP" "static $STATIC_IN $STATIC_EXT" >"$TOPO_DIR/naptd.conf"

# WAN: a TCP server that answers with the client's address and port as it sees them.
bg "$NS_WAN" "$TOPO_DIR/echo.log" "$PY" "$(dirname "$0")/tcp_peer_echo.py" "$WAN_IP" 7000
wait_listen "$NS_WAN" tcp "$WAN_IP:7000"
mkdir -p "$TOPO_DIR/static"
echo static-host >"$TOPO_DIR/static/id.txt"
http_serve "$NS_LAN" "$STATIC_IN" 9123 "$TOPO_DIR/static" "$TOPO_DIR/static-http.log"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# seen NS [CURL-OPTION...]: the WAN's view of a connection from NS.
seen() {
	local ns=$1
	shift
	ip netns exec "$ns" curl -sS --max-time 10 "$@" "telnet://$WAN_IP:7000" </dev/null
}

for i in 1 2 3; do
	a=$(seen "$NS_LAN" --interface "$LAN_IP") || fail "no answer for $LAN_IP"
	[ "${a%%:*}" = "$EXT_IP" ] || fail "$LAN_IP left as $a, not $EXT_IP (index 0)"
	b=$(seen "$NS_LAN2") || fail "no answer for $LAN2_IP"
	[ "${b%%:*}" = "$EXT2_IP" ] || fail "$LAN2_IP left as $b, not $EXT2_IP (index 1)"
done
echo "ok: paired pooling: $LAN_IP -> $EXT_IP, $LAN2_IP -> $EXT2_IP, every time"

c=$(seen "$NS_LAN" --interface "$STATIC_IN" --local-port 40123) ||
	fail "no answer for the static host"
[ "$c" = "$STATIC_EXT:40123" ] || fail "the static host left as $c, not $STATIC_EXT:40123"
echo "ok: the static host leaves as $c"

body=$(in_wan curl -sS --max-time 10 "http://$STATIC_EXT:9123/id.txt") ||
	fail "the WAN host cannot reach $STATIC_EXT:9123"
[ "$body" = static-host ] || fail "got '$body' from $STATIC_EXT:9123"
echo "ok: the static host is reachable from the WAN on an unmapped port (9123)"
exit 0
