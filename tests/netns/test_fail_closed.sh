#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_fail_closed.sh - naptd killed with SIGKILL leaves the router closed, not open (issue
# 11, docs/routing.md "After a kill"): its policy rules stay but its TUN routes go with the
# device; the unreachable routes it added behind them (table 4242, each external address)
# stay too. In pool mode and in Easy IP mode:
#  1. naptd runs: the LAN host pings the WAN host (the positive control);
#  2. naptd killed with SIGKILL: nothing from the LAN host (ping, UDP, TCP SYN) arrives on
#     the WAN host's interface, translated or not, and nothing from a WAN host that routes
#     the inside prefix at the router (ping, UDP, TCP SYN) arrives on the LAN host's;
#  3. naptd started again: it takes over what the killed one left (no error, the routing is
#     the same as before the kill) and traffic flows, translated;
#  4. after SIGTERM the routing is as before the first start (a clean exit removes all).
# Then, pool mode: killed (as if while moving the local rule), and started with another
# external address: the rules and the unreachable route of the old one are gone, the local
# rule is back at priority 0 and its copy gone.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require ping curl
topo_up_extra

EXT2_IP=198.51.100.11
PROBE_PORT=7000

kill_naptd() {
	kill -KILL "$NAPTD_PID"
	wait "$NAPTD_PID" 2>/dev/null
	NAPTD_PID=
}

# flows MODE SEEN_AS: step 1 and 3: ping through, and the WAN host sees SEEN_AS only.
flows() {
	local got
	in_lan ping -c 3 -i 0.2 -W 2 -w 10 "$WAN_IP" >"$TOPO_DIR/ping.log" 2>&1 ||
		fail "$1: ping from the LAN failed: $(tail -2 "$TOPO_DIR/ping.log")"
	got=$(crossed "$NS_WAN" eth0 "$NS_LAN" "$WAN_IP" none | awk '{ print $2 }' | sort -u)
	[ "$got" = "$2" ] || fail "$1: the WAN host saw packets from '$got', not from $2 alone"
	echo "ok: $1: the LAN host reaches the WAN host, seen as $2"
}

# cycle MODE SEEN_AS: steps 1 to 4 with the config in naptd.conf.
cycle() {
	local before running
	before=$(routing_snapshot)
	start_naptd "$TOPO_DIR/naptd.conf" || fail "$1: naptd did not start"
	flows "$1" "$2"
	running=$(routing_snapshot)
	kill_naptd
	closed "$1: after kill -9"
	start_naptd "$TOPO_DIR/naptd.conf" || fail "$1: naptd did not start again after kill -9"
	grep -qiE "cannot|error" "$NAPTD_LOG" && fail "$1: the restart logged errors"
	expect_unchanged "$running" "$(routing_snapshot)" "$1: routing after the restart differs"
	echo "ok: $1: started again, it took over what the killed naptd left: the same routing"
	flows "$1" "$2"
	stop_naptd || fail "$1: naptd exited with status $? after SIGTERM"
	expect_unchanged "$before" "$(routing_snapshot)" "$1: routing not restored after SIGTERM"
	echo "ok: $1: after SIGTERM the routing is as before naptd started"
}

# The WAN host routes the inside prefix at the router, as a hostile neighbour would.
ip -n "$NS_WAN" route add "$INSIDE" via "$RTR_WAN_IP"
mkdir -p "$TOPO_DIR/www"
http_serve "$NS_WAN" "$WAN_IP" "$PROBE_PORT" "$TOPO_DIR/www" "$TOPO_DIR/wan-http.log"

# shellcheck disable=SC2119 # the config needs no extra lines
naptd_config >"$TOPO_DIR/naptd.conf"
cycle pool "$EXT_IP"

# Easy IP: the external address is wan0's own, and no wan-interface line.
# shellcheck disable=SC2119
naptd_config | sed '/^wan-interface /d; s/^external .*/external interface wan0/' \
	>"$TOPO_DIR/naptd.conf"
cycle "easy-ip" "$RTR_WAN_IP"

# Killed, then started with another external address: what only the old config had goes.
before=$(routing_snapshot)
# shellcheck disable=SC2119
naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
kill_naptd
# As if killed while moving the local rule (routing.md 15): only naptd's copy at priority 1.
ip -n "$NS_RTR" rule add pref 1 lookup local proto 245
ip -n "$NS_RTR" rule del pref 0 lookup local proto kernel
sed -i "s/^external .*/external $EXT2_IP/" "$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with external $EXT2_IP"
# Proxy neighbour entries carry no protocol to tell naptd's from the administrator's: the
# killed naptd's stays (harmless: the kernel answers for an address only while it routes
# to another interface, docs/routing.md).
left=$(routing_snapshot | grep -F "$EXT_IP" | grep -v " proxy")
[ -z "$left" ] || fail "entries for the old external address $EXT_IP stayed:
$left"
flows "new external address" "$EXT2_IP"
ip -n "$NS_RTR" rule | grep -q "^1:" && fail "the killed naptd's copy of the local rule stayed"
ip -n "$NS_RTR" rule | grep -q "^0:.*lookup local" || fail "no local rule at priority 0"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
ip -n "$NS_RTR" neigh del proxy "$EXT_IP" dev wan0
expect_unchanged "$before" "$(routing_snapshot)" "routing not restored after SIGTERM"
echo "ok: started after kill -9 with external $EXT2_IP: the killed naptd's entries for $EXT_IP" \
	"are gone, and a clean exit leaves the routing as before"
exit 0
