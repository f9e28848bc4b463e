#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_install.sh - make install (into a DESTDIR) puts in place the programs, the man pages,
# the example config and the systemd unit, with this installation's paths in the unit; the
# installed naptd accepts the installed example (naptd -t) and systemd-analyze verify finds
# nothing to say about the unit. PID 1 here need not be systemd: verify reads files only.
set -u
BUILD_DIR=${BUILD_DIR:-$PWD}
dest=$(mktemp -d /tmp/napt-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Not the jobserver of the make check that runs this test.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$BUILD_DIR" install DESTDIR="$dest" \
	>"$dest.log" 2>&1 || { cat "$dest.log" >&2; rm -f "$dest.log"; fail "make install failed"; }
rm -f "$dest.log"

# find_one NAME: the one installed file called NAME (under any prefix).
find_one() {
	local hits
	mapfile -t hits < <(find "$dest" -name "$1" -type f)
	[ "${#hits[@]}" = 1 ] || fail "$1: installed ${#hits[@]} times: ${hits[*]}"
	echo "${hits[0]}"
}

for f in sbin/naptd sbin/naptctl bin/napt-replay bin/napt-bench man5/naptd.conf.5 \
	man8/naptd.8 man8/naptctl.8 examples/naptd.conf.example systemd/system/naptd.service; do
	path=$(find_one "$(basename "$f")")
	case "$path" in */"$f") ;; *) fail "$f installed as $path" ;; esac
done
for f in naptd naptctl napt-replay napt-bench; do
	[ -x "$(find_one "$f")" ] || fail "$f is not executable"
done
echo "ok: programs, man pages, example config and unit installed"

unit=$(find_one naptd.service)
! grep -n '@' "$unit" || fail "unsubstituted @...@ in the installed unit"
start=$(sed -n 's/^ExecStart=\([^ ]*\) -f -c \([^ ]*\)$/\1 \2/p' "$unit")
read -r sbin_naptd conf <<<"$start"
[ -n "$conf" ] || fail "no 'ExecStart=... -f -c CONFIG' in the unit"
[ -x "$dest$sbin_naptd" ] || fail "ExecStart names $sbin_naptd, not the installed naptd"
grep -qx "ConditionPathExists=$conf" "$unit" || fail "no ConditionPathExists=$conf"
[ "$(grep -c "^Exec\(StartPre\|Reload\)=$sbin_naptd -t -c $conf\$" "$unit")" = 2 ] ||
	fail "ExecStartPre and ExecReload do not both run naptd -t -c $conf"
grep -qx "Type=notify" "$unit" && grep -q "^WatchdogSec=" "$unit" ||
	fail "the unit is not Type=notify with WatchdogSec="
echo "ok: the unit runs $sbin_naptd with $conf, checked before start and reload"

out=$("$dest$sbin_naptd" -t -c "$(find_one naptd.conf.example)" 2>&1) ||
	fail "the installed naptd refuses the installed example: $out"
echo "ok: the installed example passes naptd -t"

if command -v systemd-analyze >/dev/null; then
	# The unit as it would be with the DESTDIR as /: the commands resolve to the
	# installed files. verify only warns (exit 0) about unknown values: no output allowed.
	mkdir "$dest/verify"
	sed "s|=$(dirname "$sbin_naptd")/|=$dest$(dirname "$sbin_naptd")/|" "$unit" \
		>"$dest/verify/naptd.service"
	out=$(MANPATH=$(dirname "$(dirname "$(find_one naptd.8)")") \
		systemd-analyze verify "$dest/verify/naptd.service" 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	echo "ok: systemd-analyze verify: no findings"
else
	echo "systemd-analyze missing: unit not verified"
fi
exit 0
