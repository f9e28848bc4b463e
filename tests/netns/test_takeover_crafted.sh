#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_takeover_crafted.sh - attack (h-break1): at start naptd takes over the rules a killed
# naptd left (protocol 245, route_setup.c same_rule) where it makes the same rule again. A
# leftover that carries naptd's protocol and the selectors of one of its rules, but more
# (a fwmark, the "not" flag), is not that rule: taken over, it stays in force instead of
# naptd's own. Here: the WAN guard "pref 0 iif wan0 from INSIDE blackhole" with "fwmark 0x1"
# added (the guard then stops nothing unmarked), and "pref 4239 iif wan0 to INSIDE lookup
# 4242" with "not" (everything to the LAN not from wan0, the router's own replies included,
# goes into the NAT table). After the start the rules must be exactly those a start on a
# clean router makes, and the LAN host must reach the router's LAN address.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require ping
topo_up_extra

# shellcheck disable=SC2119 # the config needs no extra lines
naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
clean=$(ip -n "$NS_RTR" rule)
stop_naptd || fail "naptd exited with status $?"

ip -n "$NS_RTR" rule add pref 0 iif wan0 from "$INSIDE" fwmark 0x1 blackhole proto 245
ip -n "$NS_RTR" rule add pref 4239 not iif wan0 to "$INSIDE" lookup 4242 proto 245
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start over the crafted leftovers"
expect_unchanged "$clean" "$(ip -n "$NS_RTR" rule)" \
	"the rules after a start over crafted leftovers differ from a clean start's"
echo "ok: crafted leftovers with naptd's protocol are not taken for its own rules"
in_lan ping -c 2 -i 0.2 -W 2 "$RTR_LAN_IP" >/dev/null ||
	fail "the LAN host cannot reach the router's LAN address"
echo "ok: the LAN host reaches the router"
stop_naptd || fail "naptd exited with status $?"
exit 0
