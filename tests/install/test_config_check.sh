#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_config_check.sh - naptd -t -c FILE (what ExecStartPre and ExecReload of the unit run):
# a good config exits 0, a config error exits 1 naming file:line, a missing file or external
# interface exits 1, and a state-file line that cannot be loaded is a warning with exit 0.
set -u
NAPTD=${BUILD_DIR:-$PWD}/naptd
[ -x "$NAPTD" ] || { echo "FAIL: $NAPTD not built (set BUILD_DIR)"; exit 1; }
dir=$(mktemp -d /tmp/napt-check.XXXXXX)
trap 'rm -rf "$dir"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect RC PATTERN CONFIG: naptd -t -c CONFIG exits RC and prints a line matching PATTERN.
expect() {
	local out rc
	out=$("$NAPTD" -t -c "$3" 2>&1)
	rc=$?
	[ "$rc" = "$1" ] || fail "naptd -t -c $3 exited $rc, not $1: $out"
	grep -q -e "$2" <<<"$out" || fail "naptd -t -c $3 printed '$out', not /$2/"
	echo "ok: $(basename "$3"): exit $rc, $(head -n 1 <<<"$out")"
}

good="inside 192.168.1.0/24
external 203.0.113.10
forward tcp 8080 192.168.1.10:80
state $dir/state"
echo "$good" >"$dir/good.conf"
expect 0 "$dir/good.conf: config ok" "$dir/good.conf"

# A keyword the parser does not know, on line 3.
printf '%s\n' "inside 192.168.1.0/24" "external 203.0.113.10" "extrenal 203.0.113.11" \
	>"$dir/typo.conf"
expect 1 "^naptd: $dir/typo.conf:3: unknown keyword" "$dir/typo.conf"

# Lines that parse one by one but not together (the engine's checks): two forwards of one
# port, the second on line 5.
printf '%s\n' "$good" "forward tcp 8080 192.168.1.11:80" >"$dir/overlap.conf"
expect 1 "^naptd: $dir/overlap.conf:5: " "$dir/overlap.conf"

# The daemon needs the external interface's address at start.
printf '%s\n' "inside 192.168.1.0/24" "external interface napt-none0" >"$dir/ifc.conf"
expect 1 "napt-none0: no such interface" "$dir/ifc.conf"

expect 1 "$dir/missing.conf: cannot open" "$dir/missing.conf"

# The state file: a line the daemon cannot load is a warning only.
printf '%s\n' "forward tcp 9090 192.168.1.10:90" "forward tcp 9091 not-an-address" >"$dir/state"
expect 0 "warning: $dir/state:2: " "$dir/good.conf"
out=$("$NAPTD" -t -c "$dir/good.conf" 2>&1)
grep -q "config ok" <<<"$out" || fail "with a bad state line, no 'config ok': $out"
[ "$(cat "$dir/state")" = "$(printf '%s\n' "forward tcp 9090 192.168.1.10:90" "forward tcp 9091 not-an-address")" ] &&
	[ ! -e "$dir/state.rejected" ] || fail "the check changed the state file (the start's salvage ran)"
echo "ok: a bad state-file line is a warning, the config is still ok, no file changed"
exit 0
