#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break12b_stale_filter.sh - review of issue 12's TUN filter (helper break12b): a naptd
# killed with SIGKILL cannot detach its filter, and a persistent TUN device (made by the
# administrator with "ip tuntap add", which naptd's TUNSETIFF attaches to) keeps it, with
# its map frozen as the dead naptd left it. The next naptd that runs without the filter
# (no CAP_BPF: a unit edited, an older kernel) must not forward through the stale one: a LAN client's new UDP flow,
# whose port nobody held before the kill, gets its reply.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require socat setpriv
topo_up
easyip_config "" >"$TOPO_DIR/naptd.conf"
bg "$NS_WAN" "$TOPO_DIR/udp-wan.log" socat UDP-RECVFROM:6000,fork "SYSTEM:echo wan-udp"
wait_listen "$NS_WAN" udp "0.0.0.0:6000"
in_rtr ip tuntap add dev napt0 mode tun || fail "cannot make a persistent TUN"

# shellcheck disable=SC2086 # one word per capability
capped $UNIT_CAPS
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
[ "$(stat_value tun-filter-on)" = 1 ] || fail "the tun filter is not on"
kill -KILL "$NAPTD_PID"
wait "$NAPTD_PID" 2>/dev/null
NAPTD_PID=
in_rtr ip link show napt0 >/dev/null || fail "the persistent TUN went with naptd"
echo "ok: naptd killed, its persistent TUN is still there"
# Its routes through napt0 stay with the device (they go with a device naptd made): the
# administrator clears them, or the next naptd cannot add its own.
in_rtr ip route flush table 4242
in_rtr ip route del "$RTR_WAN_IP/32" dev napt0 2>/dev/null

# The same naptd under the unit's bounding set without CAP_BPF: the filter cannot load.
# shellcheck disable=SC2086
capped ${UNIT_CAPS//CAP_BPF/}
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start again"
[ "$(stat_value tun-filter-on)" = 0 ] || fail "tun-filter-on is not 0 without CAP_BPF"
# A new flow from a source port the first naptd never saw; up to three tries on that flow
# (a datagram may be lost on a loaded machine; a stale filter drops all three).
for _ in 1 2 3; do
	got=$(echo ping | in_lan timeout 10 socat -T 3 -t 3 - \
		"UDP:$WAN_IP:6000,sourceport=41234,reuseaddr") || got=
	[ "$got" = wan-udp ] && break
done
[ "$got" = wan-udp ] ||
	fail "a new LAN flow got no reply after the restart (a stale filter dropped it?)"
echo "ok: without the filter, a new LAN flow gets its reply through the kept device"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
in_rtr ip tuntap del dev napt0 mode tun
exit 0
