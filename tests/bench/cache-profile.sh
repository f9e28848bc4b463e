#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# cache-profile.sh [SESSIONS] [PACKETS] [established|all] -- the engine's last-level cache
# misses per packet, from valgrind's cache simulation (deterministic, unlike timings).
#
# Runs napt-bench (one size, one run) under callgrind with --cache-sim=yes and a simulated
# last-level cache of LL (default 4 MiB, 16-way, 64-byte lines: smaller than the table at
# 100k sessions and more, so the table's lines come from memory as on a busy machine; this
# VM reports a 480 MiB L3 that a simulation of it would hide). Each pass of napt-bench is
# dumped on its own (--dump-before/--dump-after), so the figures per packet are those of
# one pass: established single calls out and in, bursts out and in, the copy loop alone
# (the packet's own line: subtract it), and per new flow (single calls and bursts, the last
# batch of each, after the warm-up). Software prefetches are not simulated: a burst's
# prefetched lines count as misses where they are used, so the burst figures count the
# lines a lookup touches, not its stalls.
#   BUILD_DIR  the build directory holding napt-bench (default: .)
#   LL         valgrind's --LL=size,assoc,line (default 4194304,16,64)
#   KEEP_DIR   where to copy callgrind's dumps, for callgrind_annotate per function
#   defaults: 100k sessions, 100k packets per pass, all passes. "established" simulates
#   from the end of the table's fill (napt-bench starts callgrind's instrumentation there:
#   the fill of 1M flows alone takes most of an hour in the simulator) and stops after the
#   copy loop; the simulated cache then starts cold, which at sizes far above LL changes
#   little (the table's lines would not be in it anyway).
set -euo pipefail

SESSIONS=${1:-100k}
PACKETS=${2:-100k}
WHAT=${3:-all}
BUILD_DIR=${BUILD_DIR:-$PWD}
LL=${LL:-4194304,16,64}
bench=$BUILD_DIR/napt-bench
[ -x "$bench" ] || { echo "cache-profile.sh: $bench not built (set BUILD_DIR)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "cache-profile.sh: needs valgrind" >&2; exit 1; }
args=(-s "$SESSIONS" -r 1 -n "$PACKETS")

tmp=$(mktemp -d /tmp/napt-cache.XXXXXX)
vg=0
trap '[ "$vg" = 0 ] || kill "$vg" 2>/dev/null; rm -rf "$tmp"' EXIT

passes=(translate_pass burst_pass copy_pass create_pass)
opts=(--tool=callgrind --cache-sim=yes --LL="$LL" --callgrind-out-file="$tmp/cg.out")
[ "$WHAT" != established ] || opts+=(--instr-atstart=no)
for p in "${passes[@]}"; do
	opts+=(--dump-before="$p" --dump-after="$p")
done
echo "== valgrind ${opts[*]//$tmp\//} napt-bench ${args[*]}"
valgrind "${opts[@]}" "$bench" "${args[@]}" >"$tmp/bench.out" 2>"$tmp/valgrind.err" &
vg=$!

# The dumps made after a pass, in order: "function misses-per-line-fields...".
after_dumps() {
	for f in $(cd "$tmp" && ls cg.out.* 2>/dev/null | sort -t. -k3 -n); do
		f=$tmp/$f
		grep -q '^desc: Trigger: .*--dump-after' "$f" 2>/dev/null || continue
		grep -q '^totals:' "$f" || continue
		awk '/^desc: Trigger:/ { sub(/.*dump-after=/, ""); fn = $1 }
			/^events:/ { for (i = 2; i <= NF; i++) ev[i] = $i }
			/^totals:/ { for (i = 2; i <= NF; i++) v[ev[i]] = $i }
			END { print fn, v["Ir"], v["DLmr"] + v["DLmw"], v["ILmr"] }' "$f"
	done
}

if [ "$WHAT" = established ]; then
	# translate out, translate in, burst out, burst in, copy: then stop.
	while kill -0 "$vg" 2>/dev/null && [ "$(after_dumps | wc -l)" -lt 5 ]; do
		sleep 10
	done
	kill "$vg" 2>/dev/null || true
fi
wait "$vg" || [ "$WHAT" = established ] || { cat "$tmp/valgrind.err" >&2; exit 1; }
vg=0
[ -z "${KEEP_DIR:-}" ] || cp "$tmp"/cg.out* "$tmp/bench.out" "$KEEP_DIR"/

field() { sed -n "s/^napt-bench: sessions=.* $1=\([0-9]*\).*/\1/p" "$tmp/bench.out"; }
per_run=$(field per_run_packets)
batch=$(field create_batch)
[ -n "$per_run" ] && [ -n "$batch" ] || { echo "cache-profile.sh: unexpected napt-bench output" >&2; exit 1; }

after_dumps | awk -v n="$per_run" -v batch="$batch" '
	$1 == "translate_pass" { t++; name = t == 1 ? "established-out" : "established-in" }
	$1 == "burst_pass"     { b++; name = b == 1 ? "burst-out" : "burst-in" }
	$1 == "copy_pass"      { name = "copy loop alone" }
	$1 == "create_pass"    { c++; name = "create batch " c }
	{ per = $1 == "create_pass" ? batch : n
	  printf "%-18s %8.0f instructions %6.2f LL data misses %6.3f LL instruction misses per %s\n",
		name, $2 / per, $3 / per, $4 / per, $1 == "create_pass" ? "new flow" : "packet" }'
