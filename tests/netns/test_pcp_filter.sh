#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_pcp_filter.sh - PCP MAP with FILTER (RFC 6887 section 13.3) with pcp_client.py (written
# from the RFC): a lease whose FILTER names the WAN host admits its datagrams and drops those
# of another outside host (the far host), counted dropped-peer-filtered; "show forwards" and
# the state file carry the filter and a restart keeps it enforced, a kill -9 the renewed set;
# a renewal without FILTER options keeps the set (renewals add filters, RFC 6887 13.3: "There
# is no mechanism to remove a specific filter"); one with a prefix length 0 FILTER removes
# them, and the other host's datagrams pass; five filters (over naptd's four) are EXCESSIVE_REMOTE_PEERS and change nothing.
set -u
. "$(dirname "$0")/lib_extra.sh"

topo_require ss
topo_up_extra
far_up

pcp_lan_up test_pcp_filter
send() { udp_from "$1" "$2" "$3" 5000; }
got() { grep -q "^$1 $2:3478$" "$TOPO_DIR/got.txt" 2>/dev/null; }
# admits WORD: the WAN host's datagram arrives and the far host's, sent first, does not.
admits_wan_only() {
	local before
	before=$(stat_value dropped-peer-filtered)
	send in_far "$FAR_IP" "far-$1"
	send in_wan "$WAN_IP" "wan-$1"
	wait_until 5 got "wan-$1" "$WAN_IP" || fail "$1: the WAN host's datagram did not arrive"
	got "far-$1" "$FAR_IP" && fail "$1: the far host's datagram passed the filter"
	[ "$(stat_value dropped-peer-filtered)" -gt "${before:-0}" ] ||
		fail "$1: dropped-peer-filtered did not grow ($before)"
	echo "ok: $1: the WAN host's datagram arrives, the far host's is dropped (peer-filtered)"
}

NONCE=00112233445566778899aabb
out=$(in_lan env PCP_NONCE="$NONCE" "${PCP[@]}" map udp 5000 5000 600 filter "$WAN_IP/32:0")
[[ "$out" == "result=0 "*" port=5000 "* ]] || fail "MAP with FILTER: $out"
ctl show forwards | grep -q "^udp *5000 .* from $WAN_IP/32:0$" ||
	fail "show forwards: $(ctl show forwards)"
admits_wan_only first

stop_naptd || fail "naptd exited with status $?"
grep -q "^forward udp 5000 $LAN_IP:5000 expires [0-9]* filter $WAN_IP/32:0 nonce " \
	"$TOPO_DIR/naptd.state" || fail "state file: $(cat "$TOPO_DIR/naptd.state")"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not restart"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:5351"
admits_wan_only "after-restart"

# A renewal that changes the set, once on disk, survives kill -9 (no orderly save).
out=$(in_lan env PCP_NONCE="$NONCE" "${PCP[@]}" map udp 5000 5000 600 filter "$WAN_IP/32:0" \
	filter 192.0.2.77/32:0)
[[ "$out" == "result=0 "* ]] || fail "renewal with two filters: $out"
two="filter $WAN_IP/32:0 filter 192.0.2.77/32:0 nonce "
wait_until 5 grep -q "$two" "$TOPO_DIR/naptd.state" || fail "state file: $(cat "$TOPO_DIR/naptd.state")"
kill -KILL "$NAPTD_PID"
wait "$NAPTD_PID" 2>/dev/null
NAPTD_PID=
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start after kill -9"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:5351"
ctl show forwards | grep -q "^udp *5000 .* from $WAN_IP/32:0,192.0.2.77/32:0$" ||
	fail "show forwards after kill -9: $(ctl show forwards)"
admits_wan_only "after-kill-9"

# Over naptd's four filters: EXCESSIVE_REMOTE_PEERS (result 13), nothing mapped.
out=$(in_lan "${PCP[@]}" map udp 5001 5001 600 filter 192.0.2.1/32:1 filter 192.0.2.2/32:1 \
	filter 192.0.2.3/32:1 filter 192.0.2.4/32:1 filter 192.0.2.5/32:1)
[[ "$out" == "result=13 "* ]] || fail "MAP with five filters: $out"
ctl show forwards | grep -q "^udp *5001 " && fail "five filters made a mapping"
echo "ok: five filters are EXCESSIVE_REMOTE_PEERS and map nothing"

# A renewal (same nonce) without FILTER keeps the set; one with prefix length 0 removes it.
out=$(in_lan env PCP_NONCE="$NONCE" "${PCP[@]}" map udp 5000 5000 600)
[[ "$out" == "result=0 "*" port=5000 "* ]] || fail "renewal without FILTER: $out"
admits_wan_only "renewal-without-filter"
out=$(in_lan env PCP_NONCE="$NONCE" "${PCP[@]}" map udp 5000 5000 600 filter-none)
[[ "$out" == "result=0 "*" port=5000 "* ]] || fail "renewal with prefix length 0: $out"
ctl show forwards | grep -q "^udp *5000 .*left$" || fail "show forwards: $(ctl show forwards)"
send in_far "$FAR_IP" far-open
wait_until 5 got far-open "$FAR_IP" || fail "after prefix length 0 the far host is still dropped"
echo "ok: a renewal with a prefix length 0 FILTER removes the filters: the far host's datagram arrives"
exit 0
