#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# perf-profile.sh [SESSIONS] [PACKETS] -- where the engine's time goes, per packet.
#
# Runs a short napt-bench (one size, one run) under valgrind's callgrind and prints the
# instructions per established packet (both directions, the engine alone: the copy loop is
# subtracted), per new flow, and the 15 most expensive functions of the established path. Instruction counts are
# exact and repeat from run to run, unlike timings on this VM, so they are the figure to
# optimise against. When the CPU exposes hardware counters to perf (not in this VM: perf
# stat says <not supported>), it also prints perf stat's cycles and instructions of the
# whole short run.
#   BUILD_DIR  the build directory holding napt-bench (default: ./build-* next to the source)
#   defaults: 10k sessions, 100k packets per direction.
set -euo pipefail

SESSIONS=${1:-10k}
PACKETS=${2:-100k}
BUILD_DIR=${BUILD_DIR:-$PWD}
bench=$BUILD_DIR/napt-bench
[ -x "$bench" ] || { echo "perf-profile.sh: $bench not built (set BUILD_DIR)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "perf-profile.sh: needs valgrind" >&2; exit 1; }
args=(-s "$SESSIONS" -r 1 -n "$PACKETS")

tmp=$(mktemp -d /tmp/napt-profile.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if command -v perf >/dev/null && perf stat -x, -e instructions true 2>&1 | grep -qv 'not supported'; then
	echo "== perf stat, whole run: napt-bench ${args[*]}"
	perf stat -e cycles,instructions "$bench" "${args[@]}" 2>&1 >/dev/null | grep -E 'cycles|instructions'
fi

echo "== callgrind: napt-bench ${args[*]} (seconds to minutes)"
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bench" "${args[@]}" \
	>"$tmp/bench.out" 2>"$tmp/valgrind.err" || { cat "$tmp/valgrind.err" >&2; exit 1; }
callgrind_annotate --inclusive=yes "$tmp/cg.out" >"$tmp/incl.txt" 2>/dev/null
# A second run that counts only the established packet path, for the function list.
valgrind --tool=callgrind --toggle-collect=translate_pass --callgrind-out-file="$tmp/est.out" \
	"$bench" "${args[@]}" >/dev/null 2>"$tmp/valgrind.err" || { cat "$tmp/valgrind.err" >&2; exit 1; }
callgrind_annotate "$tmp/est.out" >"$tmp/self.txt" 2>/dev/null

# Inclusive instructions of a napt-bench function (0 when absent).
incl() {
	awk -v f=":$1 " 'index($0, f) { gsub(",", "", $1); print $1; found = 1; exit }
		END { if (!found) print 0 }' "$tmp/incl.txt"
}
# A field of napt-bench's "napt-bench: sessions=..." line.
field() { sed -n "s/^napt-bench: sessions=.* $1=\([0-9]*\).*/\1/p" "$tmp/bench.out"; }

per_run=$(field per_run_packets)
batch=$(field create_batch)
batches=$(field create_batches)
[ -n "$per_run" ] && [ -n "$batch" ] || { echo "perf-profile.sh: unexpected napt-bench output" >&2; exit 1; }
awk -v tr="$(incl translate_pass)" -v cp="$(incl copy_pass)" -v cr="$(incl create_pass)" \
	-v n="$per_run" -v flows="$((2 * batch * batches))" 'BEGIN {
	copy = cp / n
	printf "established: %.0f instructions per packet (engine alone; the copy loop, %.0f per packet, subtracted)\n", tr / (2 * n) - copy, copy
	printf "create:      %.0f instructions per new flow (expiry included; single calls and bursts)\n", cr / flows
}'
echo "== top functions of the established path, self instructions (both directions)"
grep -E '^ *[0-9,]+ \( *[0-9.]+%\) +[^ ]+:[^ ]+' "$tmp/self.txt" | grep -v 'PROGRAM TOTALS' |
	sed 's/ \[.*\]$//' | head -15
