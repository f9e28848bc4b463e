#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_config_check_hostile.sh - naptd -t -c FILE on files that are not text files: a FIFO
# as the config or the state file (nobody writes: the open must not wait for a writer), the
# state file /dev/zero or a sparse 2 GiB file without a newline (a line must not grow until
# memory runs out), a symlink loop, a directory, a binary file, /dev/zero as the config.
# Each run is bounded by timeout(1) and a memory limit: a hang or a crash fails.
set -u
NAPTD=${BUILD_DIR:-$PWD}/naptd
[ -x "$NAPTD" ] || { echo "FAIL: $NAPTD not built (set BUILD_DIR)"; exit 1; }
dir=$(mktemp -d /tmp/napt-hostile.XXXXXX)
trap 'rm -rf "$dir"' EXIT
failed=0

# The memory bound: ulimit -v, except under ASan, whose shadow memory alone is terabytes of
# address space (naptd would not start); there ASan's own RSS limit.
limit="ulimit -v 524288"
if ldd "$NAPTD" | grep -q libasan; then
	limit=:
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=512
fi

# expect RC PATTERN CONFIG: within 10 s and 512 MiB, naptd -t -c CONFIG exits RC and prints
# a line matching PATTERN.
expect() {
	local out rc
	out=$( ($limit && timeout 10 "$NAPTD" -t -c "$3") 2>&1)
	rc=$?
	if [ "$rc" != "$1" ] || ! grep -q -e "$2" <<<"$out"; then
		echo "FAIL: naptd -t -c $3 exited $rc (want $1), printed '$out' (want /$2/)"
		failed=1
		return
	fi
	echo "ok: $3: exit $rc, $(head -n 1 <<<"$out")"
}

base="inside 192.168.1.0/24
external 203.0.113.10"

mkfifo "$dir/fifo.conf" "$dir/fifo.state"
expect 1 "fifo.conf: cannot open: not a regular file" "$dir/fifo.conf"
expect 1 "/dev/zero: cannot open: not a regular file" /dev/zero
head -c 1100000 /dev/urandom >"$dir/big.conf"
expect 1 "big.conf: cannot read: larger than 1 MiB" "$dir/big.conf"
ln -s "$dir/loop2" "$dir/loop1" && ln -s "$dir/loop1" "$dir/loop2"
expect 1 "loop1: cannot open: Too many levels" "$dir/loop1"
expect 1 "cannot open: not a regular file" "$dir"
head -c 4096 /dev/urandom | tr -d '\n' >"$dir/binary.conf"
printf '\0' >>"$dir/binary.conf"
expect 1 "binary.conf: cannot read: holds a NUL byte" "$dir/binary.conf"

# The state file: one that cannot be read stops the start, so it is an error (never a hang);
# a line too long is a warning (the start sets it aside).
printf '%s\nstate %s\n' "$base" "$dir/fifo.state" >"$dir/st-fifo.conf"
expect 1 "^naptd: $dir/fifo.state: not a regular file (naptd would not start)" "$dir/st-fifo.conf"
printf '%s\nstate /dev/zero\n' "$base" >"$dir/st-zero.conf"
expect 1 "^naptd: /dev/zero: not a regular file (naptd would not start)" "$dir/st-zero.conf"
truncate -s 2G "$dir/sparse.state"
printf '%s\nstate %s\n' "$base" "$dir/sparse.state" >"$dir/st-sparse.conf"
expect 0 "warning: $dir/sparse.state:1: line longer than" "$dir/st-sparse.conf"
exit $failed
