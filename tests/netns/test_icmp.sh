#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_icmp.sh - ICMP through naptd on a real TUN:
#  1. two LAN hosts ping the WAN host at once with the SAME echo identifier: both get every
#     reply, so naptd gave them different external identifiers (RFC 5508 REQ-1, identifier
#     as port) and demultiplexed the replies;
#  2. traceroute -n in UDP mode and in ICMP mode (-I) from the LAN to a host two routers out
#     completes, every hop answers, and the hops are rtr, rtr again (the TTL also drops when
#     rtr forwards out of the TUN), the WAN router, the far host. The time-exceeded messages
#     of hops 2 and 3 and the port unreachable of hop 4 reach the LAN host only if naptd
#     translates the ICMP errors back (RFC 5508 section 4).
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require ping traceroute ss
topo_up_extra
lan2_up
far_up

naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# --- 1. two hosts, one identifier -------------------------------------------------------
ECHO_ID=4242
in_lan ping -c 5 -i 0.2 -W 2 -w 15 -e $ECHO_ID "$WAN_IP" >"$TOPO_DIR/ping1.log" 2>&1 &
p1=$!
in_lan2 ping -c 5 -i 0.2 -W 2 -w 15 -e $ECHO_ID "$WAN_IP" >"$TOPO_DIR/ping2.log" 2>&1 &
p2=$!
wait $p1 || fail "ping from $LAN_IP failed: $(cat "$TOPO_DIR/ping1.log")"
wait $p2 || fail "ping from $LAN2_IP failed: $(cat "$TOPO_DIR/ping2.log")"
for f in ping1 ping2; do
	grep -q "5 received, 0% packet loss" "$TOPO_DIR/$f.log" ||
		fail "$f lost replies: $(cat "$TOPO_DIR/$f.log")"
done
echo "ok: $LAN_IP and $LAN2_IP pinged $WAN_IP at once with identifier $ECHO_ID, 5/5 replies each"

# Both echo sessions are in the table, with the inside identifier kept and two distinct
# external identifiers on the one external address.
sessions=$(ctl show sessions icmp) || fail "naptctl show sessions icmp failed"
ext1=$(awk -v i="$LAN_IP:$ECHO_ID" '$2 == i { print $3 }' <<<"$sessions")
ext2=$(awk -v i="$LAN2_IP:$ECHO_ID" '$2 == i { print $3 }' <<<"$sessions")
if [ -z "$ext1" ] || [ -z "$ext2" ]; then
	fail "echo sessions missing from show sessions:
$sessions"
fi
if [ "${ext1%:*}" != "$EXT_IP" ] || [ "${ext2%:*}" != "$EXT_IP" ]; then
	fail "echo sessions not on $EXT_IP: $ext1 $ext2"
fi
[ "$ext1" != "$ext2" ] || fail "both hosts got the same external identifier $ext1"
echo "ok: show sessions lists $LAN_IP:$ECHO_ID as $ext1 and $LAN2_IP:$ECHO_ID as $ext2"

# --- 2. traceroute ------------------------------------------------------------------------
# hops FILE: the address (or *) each hop line of `traceroute -n -q 1` shows, space separated.
hops() {
	awk '$1 ~ /^[0-9]+$/ { printf "%s%s", sep, $2; sep = " " }' "$1"
}

# check_trace MODE [OPTION]: traceroute to the far host and check the four hops.
check_trace() {
	local mode=$1 log=$TOPO_DIR/trace-$1.log got
	shift
	in_lan timeout 30 traceroute -n -q 1 -w 2 -m 8 "$@" "$FAR_IP" >"$log" 2>&1 ||
		fail "traceroute ($mode) failed: $(cat "$log")"
	got=$(hops "$log")
	read -r h1 h2 h3 h4 rest <<<"$got"
	[ "$h1" = "$RTR_LAN_IP" ] || fail "traceroute ($mode) hop 1 is '$h1', not $RTR_LAN_IP: $got"
	# Hop 2: rtr's time-exceeded to the external address, sent from one of its addresses.
	[ "$h2" = "$RTR_LAN_IP" ] || [ "$h2" = "$RTR_WAN_IP" ] ||
		fail "traceroute ($mode) hop 2 (rtr forwarding out of the TUN) is '$h2': $got"
	[ "$h3" = "$WAN_IP" ] ||
		fail "traceroute ($mode) hop 3 (time-exceeded from the WAN router) is '$h3': $got"
	if [ "$h4" != "$FAR_IP" ] || [ -n "${rest:-}" ]; then
		fail "traceroute ($mode) does not end at $FAR_IP after 4 hops: $got"
	fi
	echo "ok: traceroute $mode from $LAN_IP to $FAR_IP: $got"
}

errors_before=$(stat_value icmp-errors-translated)
check_trace UDP
check_trace ICMP -I
errors_after=$(stat_value icmp-errors-translated)
# UDP mode: 2 time-exceeded + 1 port unreachable; ICMP mode: 2 time-exceeded.
[ $((errors_after - errors_before)) -ge 5 ] ||
	fail "icmp-errors-translated rose by $((errors_after - errors_before)), expected >= 5"
echo "ok: naptctl show stats counts $((errors_after - errors_before)) ICMP errors translated"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
