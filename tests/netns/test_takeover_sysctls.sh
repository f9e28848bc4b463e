#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_takeover_sysctls.sh - attack (h-break1): the take-over after a kill covers naptd's
# rules and unreachable routes (protocol 245), not the sysctls it changed. In Easy IP mode on
# a router with ip_forward 0: naptd sets ip_forward 1, moves ip_local_port_range to
# local-ports and turns early demux off; killed with SIGKILL it leaves all of them; a next
# naptd that read those as "the old values" would put them back at a clean stop, and once
# naptd is gone the router would forward (untranslated: no rule is left) for good. After
# start, kill -9, start, SIGTERM all must be as before the first start, and the record of
# the old values (/run/naptd/sysctls.INODE, sysctl_record.h) gone. Then a record that is
# not naptd's (an unknown key, a value of another form) is ignored with a log line.
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
	local k
	for k in ip_forward ip_local_port_range tcp_early_demux udp_early_demux \
		ip_local_reserved_ports; do
		printf '%s=[%s] ' "$k" "$(in_rtr sysctl -n "net.ipv4.$k" | tr '\t' ' ')"
	done
}
record=/run/naptd/sysctls.$(stat -L -c %i "/run/netns/$NS_RTR")
before=$(sysctls)
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
running=$(sysctls)
echo "running: $running"
[ "$running" != "$before" ] || fail "naptd changed no sysctl: the test shows nothing"
[ -f "$record" ] || fail "no record $record while naptd runs"
kill -KILL "$NAPTD_PID"
wait "$NAPTD_PID" 2>/dev/null
NAPTD_PID=
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start after kill -9"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
after=$(sysctls)
[ "$after" = "$before" ] || fail "after start, kill -9, start, SIGTERM: $after, before: $before"
[ ! -e "$record" ] || fail "$record is left after a clean stop"
echo "ok: the sysctls are as before: $after"

# A hostile record: its values must not be put back, the start goes on.
in_rtr sysctl -qw net.ipv4.ip_forward=0
before=$(sysctls)
cookie=$(in_rtr /usr/bin/python3 -c 'import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])') # SO_NETNS_COOKIE
mkdir -p -m 0700 /run/naptd
printf 'netns %s\nip_forward 1\nip_local_port_range 1\t2\ntcp_early_demux 0\nudp_early_demux 0\nrp_filter 0\n' \
	"$cookie" >"$record"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start over a hostile record"
grep -q "$record: unknown key: ignored" "$NAPTD_LOG" || fail "no log line on the hostile record"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
after=$(sysctls)
[ "$after" = "$before" ] || fail "after a start over a hostile record: $after, before: $before"
[ ! -e "$record" ] || fail "$record is left after a clean stop"
echo "ok: a hostile record is ignored: $after"
exit 0
