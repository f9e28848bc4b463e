#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_tun_filter.sh - Easy IP's flood filter on the TUN (issue 12; src/naptd/tun_filter.c):
# with "external interface wan0" and "unsolicited-syn rst" the filter is on (show stats
# tun-filter-on 1); a LAN client's TCP and UDP flows get their replies (their ports' bits);
# a forward added by naptctl on tcp 8080, outside port-range, works at once and stops when
# deleted; a DMZ set by naptctl gets unnamed ports and, cleared, no more; 20 UDP datagrams
# from the WAN to an unnamed port are dropped before the engine (tun-filter-dropped grows by
# 20 or more, dropped-no-mapping does not move); an unsolicited SYN still reaches the engine
# and is answered by a RST (after RFC 5382 REQ-4's 6 s, waited for in the background).
# naptd runs under the capabilities of docs/naptd.service.in (its CapabilityBoundingSet, as
# setpriv applies it): the filter must load with them. Last, under that set without CAP_BPF
# the filter cannot load: naptd starts all the same, logs why, shows tun-filter-on 0, and
# the LAN's flows work.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require socat ss setpriv
topo_up_extra
easyip_config "unsolicited-syn rst" >"$TOPO_DIR/naptd.conf"

# silent PORT: nothing answers on W:PORT from the WAN within 2 s (a LAN service would at
# once; the engine's RST for an unsolicited SYN waits 6 s).
silent() {
	! in_wan timeout 4 socat -T 1 - "TCP:$RTR_WAN_IP:$1,connect-timeout=2" </dev/null \
		>/dev/null 2>&1
}
# shellcheck disable=SC2086 # one word per capability
capped $UNIT_CAPS

banner_server "$NS_WAN" 7000 wan-7000
bg "$NS_WAN" "$TOPO_DIR/udp-wan.log" socat UDP-RECVFROM:6000,fork "SYSTEM:echo wan-udp"
wait_listen "$NS_WAN" udp "0.0.0.0:6000"
banner_server "$NS_LAN" 80 lan-80
banner_server "$NS_LAN" 5000 lan-5000

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
[ "$(stat_value tun-filter-on)" = 1 ] ||
	fail "the tun filter is not on: $(grep -i 'tun filter' "$NAPTD_LOG")"
echo "ok: the tun filter is on under Easy IP"

# An unsolicited SYN to an unnamed port: answered (RST) after its 6 s, so started now.
in_wan timeout 15 socat -T 1 - "TCP:$RTR_WAN_IP:7777,connect-timeout=12" </dev/null \
	>"$TOPO_DIR/syn.out" 2>&1 &
syn_pid=$!

expect_banner "$NS_LAN" "$WAN_IP" 7000 wan-7000 "a LAN client's TCP flow gets its replies"
got=$(udp_ask "$NS_LAN" "$WAN_IP" 6000 wan-udp)
[ "$got" = wan-udp ] || fail "LAN UDP client: got '$got' from the WAN"
echo "ok: a LAN client's UDP flow gets its replies"

ctl forward add tcp 8080 "$LAN_IP:80" >/dev/null || fail "forward add failed"
expect_banner "$NS_WAN" "$RTR_WAN_IP" 8080 lan-80 \
	"a forward added by naptctl outside port-range works at once"
ctl forward del tcp 8080 >/dev/null || fail "forward del failed"
silent 8080 || fail "tcp 8080 still answers after forward del"
echo "ok: after forward del tcp 8080 no longer answers"

silent 5000 || fail "tcp 5000 answers without a DMZ"
ctl dmz set "$LAN_IP" >/dev/null || fail "dmz set failed"
expect_banner "$NS_WAN" "$RTR_WAN_IP" 5000 lan-5000 "a DMZ set by naptctl gets an unnamed port"
ctl dmz clear >/dev/null || fail "dmz clear failed"

# 20 datagrams to an unnamed port: dropped by the filter, never seen by the engine.
why=$(filter_drops "$NS_WAN" "$RTR_WAN_IP" 9999) || fail "UDP to an unnamed port: $why"
echo "ok: UDP to an unnamed port is dropped before the TUN's queue and counted"

wait "$syn_pid"
grep -qi refused "$TOPO_DIR/syn.out" ||
	fail "the unsolicited SYN got no RST: $(cat "$TOPO_DIR/syn.out")"
echo "ok: with unsolicited-syn rst an unsolicited SYN still reaches the engine and is answered"

stop_naptd || fail "naptd exited with status $? after SIGTERM"

# Without CAP_BPF: no filter, said once, and naptd works as before.
# shellcheck disable=SC2086
capped ${UNIT_CAPS//CAP_BPF/}
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start without CAP_BPF"
[ "$(stat_value tun-filter-on)" = 0 ] || fail "tun-filter-on is not 0 without CAP_BPF"
grep -q "tun filter off (map not made: Operation not permitted)" "$NAPTD_LOG" ||
	fail "no warning that the filter is off: $(cat "$NAPTD_LOG")"
got=$(banner "$NS_LAN" "$WAN_IP" 7000) || fail "without the filter: no answer from the WAN"
[ "$got" = wan-7000 ] || fail "without the filter: got '$got'"
echo "ok: without CAP_BPF naptd starts without the filter, says why, and forwards"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
