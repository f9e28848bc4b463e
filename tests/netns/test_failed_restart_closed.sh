#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_failed_restart_closed.sh - attack (h-break1): naptd killed with SIGKILL leaves the
# router closed (test_fail_closed.sh); a restart that then FAILS during routing set-up must
# leave it closed too. Here the restart's config has a second external address whose /32
# the administrator already routes, so adding naptd's route fails ("Object exists") after
# set-up took over what the killed naptd left (the unreachable default of table 4242, the
# WAN guard, the first address's unreachable route). The rules into table 4242 that it had
# not reached yet stay; if the failed start removes what it took over, table 4242 is empty
# and the LAN host's packets go out untranslated, the WAN host's come in (fail open). Once
# the clash is gone a start must work and a clean stop restore the routing.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require ping curl
topo_up_extra

ip -n "$NS_WAN" route add "$INSIDE" via "$RTR_WAN_IP"
# shellcheck disable=SC2119 # the config needs no extra lines
naptd_config >"$TOPO_DIR/naptd.conf"
before=$(routing_snapshot)
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
in_lan ping -c 2 -i 0.2 -W 2 "$WAN_IP" >/dev/null || fail "no ping through naptd"
kill -KILL "$NAPTD_PID"
wait "$NAPTD_PID" 2>/dev/null
NAPTD_PID=
closed "naptd killed"

ip -n "$NS_RTR" route add 198.51.100.12/32 dev wan0
echo "external 198.51.100.12" >>"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" 2>/dev/null && fail "naptd started despite the clash"
grep -q "198.51.100.12/32.*exists" "$NAPTD_LOG" ||
	fail "the restart did not fail where expected: $(cat "$NAPTD_LOG")"
echo "ok: the restart failed: $(grep -m1 exists "$NAPTD_LOG")"
closed "killed, then a failed restart"

# The clash gone, a start takes over, and a clean stop leaves the routing as at first (the
# killed naptd's proxy neighbour entry aside, test_fail_closed.sh).
ip -n "$NS_RTR" route del 198.51.100.12/32 dev wan0
sed -i '$d' "$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start once the clash was gone"
in_lan ping -c 2 -i 0.2 -W 2 "$WAN_IP" >/dev/null || fail "no ping through naptd"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
ip -n "$NS_RTR" neigh del proxy "$EXT_IP" dev wan0
expect_unchanged "$before" "$(routing_snapshot)" "routing not restored after SIGTERM"
echo "ok: then started, translating, and a clean stop restores the routing"
exit 0
