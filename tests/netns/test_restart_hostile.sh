#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_restart_hostile.sh - issue 14 item 5: the sessions file is input a start must survive.
# After a kill -9 there is none and naptd starts cold; a file saved a day ago restores
# nothing (its sessions are past their timeouts); in a file of good and bad records (a
# record whose check fails, a duplicate, an address no longer external, an unknown
# protocol) only the good one is restored; a file that is not one, a cut one and a FIFO are
# refused whole. naptd starts every time, counts what it skipped (naptctl show stats) and
# says so in its log; the records come from restart_peer.py, which writes the layout of
# docs/design.md on its own.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

topo_require
topo_up
NAPTD_KEEP_SESSIONS=yes # the sessions file is what these tests are about
peer=$(dirname "$0")/restart_peer.py
file=$TOPO_DIR/naptd.state.sessions
naptd_config >"$TOPO_DIR/naptd.conf"

stat_of() { # NAME: its value in naptctl show stats
	in_rtr "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" show stats | awk -v k="$1" '$1 == k { print $2 }'
}

# expect NAME=VALUE...: each counter as given.
expect() {
	local kv
	for kv in "$@"; do
		[ "$(stat_of "${kv%%=*}")" = "${kv#*=}" ] ||
			fail "$what: ${kv%%=*} is $(stat_of "${kv%%=*}"), not ${kv#*=}"
	done
}

# restart_with WHAT CMD...: stop naptd (which writes its own file), put the file WHAT in its
# place (CMD writes $file), start again.
restart_with() {
	what=$1
	shift
	stop_naptd || fail "naptd exited with status $? after SIGTERM"
	rm -f "$file"
	"$@"
	start_naptd "$TOPO_DIR/naptd.conf" || fail "$what: naptd did not start"
	[ ! -e "$file" ] || fail "$what: the file was not removed"
}

# The files put in place of naptd's own.
made() { "$PY" "$peer" sessions-file "$file" "$1"; }
garbage() { head -c 4096 /dev/urandom >"$file"; }
cut_short() { made mixed && truncate -s 100 "$file"; }
fifo() { mkfifo "$file"; }

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
in_lan ping -c 2 -i 0.2 -W 2 "$WAN_IP" >/dev/null || fail "no ping through naptd"
kill -KILL "$NAPTD_PID"
wait "$NAPTD_PID" 2>/dev/null
NAPTD_PID=
[ ! -e "$file" ] || fail "a sessions file after kill -9"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start after kill -9"
! grep -q 'sessions file' "$NAPTD_LOG" || fail "sessions file lines after kill -9: $(cat "$NAPTD_LOG")"
what="after kill -9" expect sessions-restore-restored=0 sessions-file-rejected=0
in_lan ping -c 2 -i 0.2 -W 2 "$WAN_IP" >/dev/null || fail "no ping after the cold start"
echo "ok: after kill -9 no file, a cold start, translating"

restart_with "a day old" made old
expect sessions-restore-restored=0 sessions-restore-stale=2 sessions-file-rejected=0
grep -q 'skipped: 2 stale' "$NAPTD_LOG" || fail "no log line for the stale sessions"
echo "ok: a file saved a day ago: its 2 sessions skipped as stale"

restart_with "mixed" made mixed
expect sessions-restore-restored=1 sessions-restore-duplicate=1 sessions-restore-conflict=1 \
	sessions-restore-invalid=2 sessions-file-rejected=0
grep -q '1 sessions restored; skipped: 0 stale, 1 conflicting, 1 duplicate, 2 invalid (1 failed their check)' \
	"$NAPTD_LOG" || fail "no log line for the mixed file: $(cat "$NAPTD_LOG")"
in_rtr "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" show sessions | grep -q '192.168.77.2:40001' ||
	fail "the good record's session is not in the table"
echo "ok: good, damaged, duplicate, conflicting and invalid records: only the good one restored"

restart_with "not a sessions file" garbage
expect sessions-restore-restored=0 sessions-file-rejected=1
grep -q "sessions file $file: not a sessions file" "$NAPTD_LOG" || fail "no log line for the garbage"
echo "ok: random bytes refused whole"

restart_with "cut" cut_short
expect sessions-restore-restored=0 sessions-file-rejected=1
grep -q "length does not match" "$NAPTD_LOG" || fail "no log line for the cut file"
echo "ok: a cut file refused whole"

restart_with "FIFO" fifo
expect sessions-file-rejected=1
grep -q "not a regular file" "$NAPTD_LOG" || fail "no log line for the FIFO"
echo "ok: a FIFO refused without waiting"
exit 0
