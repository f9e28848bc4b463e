#!/usr/bin/env bash
# test_takeover_sysctls.sh - attack (h-break1): the take-over after a kill covers naptd's
# rules and unreachable routes (protocol 245), not the sysctls it changed. In Easy IP mode on
# a router with ip_forward 0: naptd sets ip_forward 1 and reserves its port range
# (ip_local_reserved_ports); killed with SIGKILL it leaves both; the next naptd reads those
# as "the old values" and a clean stop puts them back. Once naptd is gone the router then
# forwards (untranslated: no rule is left) and keeps the range reserved for good. After
# start, kill -9, start, SIGTERM both must be as before the first start.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require ss
topo_up_extra

# shellcheck disable=SC2119 # the config needs no extra lines
naptd_config | sed '/^wan-interface /d; s/^external .*/external interface wan0/' \
	>"$TOPO_DIR/naptd.conf"
in_rtr sysctl -qw net.ipv4.ip_forward=0
sysctls() {
	echo "ip_forward=$(in_rtr sysctl -n net.ipv4.ip_forward)" \
		"reserved=[$(in_rtr sysctl -n net.ipv4.ip_local_reserved_ports)]"
}
before=$(sysctls)
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
echo "running: $(sysctls)"
kill -KILL "$NAPTD_PID"
wait "$NAPTD_PID" 2>/dev/null
NAPTD_PID=
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start after kill -9"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
after=$(sysctls)
[ "$after" = "$before" ] || fail "after start, kill -9, start, SIGTERM: $after, before: $before"
echo "ok: the sysctls are as before: $after"
exit 0
