#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# plot.sh [-o OUT.svg] BENCH_OUTPUT... -- ns per packet against the number of sessions, from
# the "bench sessions=N case=established-{out,in}[-burst] ns_per_pkt=X ..." lines that
# napt-bench prints (one packet per napt_translate() call, and bursts). Given several runs,
# each point is the lowest of them (other load on the machine only ever adds time).
# Writes OUT.svg (default docs/bench-ns-per-packet.svg) with gnuplot (Debian: gnuplot-nox).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../docs/bench-ns-per-packet.svg
if [ "${1:-}" = -o ]; then
	out=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: $0 [-o OUT.svg] BENCH_OUTPUT..." >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot.sh: needs gnuplot (gnuplot-nox)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/napt-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# One data file per case: sessions, ns per packet.
for c in out in out-burst in-burst; do
	sed -n "s/^bench sessions=\([0-9]*\) case=established-$c ns_per_pkt=\([0-9.]*\) .*/\1 \2/p" \
		"$@" | awk '!($1 in best) || $2 < best[$1] { best[$1] = $2 }
			END { for (s in best) print s, best[s] }' | sort -n >"$tmp/$c.dat"
	[ -s "$tmp/$c.dat" ] || { echo "plot.sh: no established-$c lines in $*" >&2; exit 1; }
done

gnuplot <<-GP
	set terminal svg size 720,480 dynamic enhanced font 'sans,12' background rgb 'white'
	set output '$out'
	set title 'napt-bench: established traffic, one core, 64-byte packets'
	set xlabel 'concurrent sessions (max-sessions)'
	set ylabel 'ns per packet (lower is better)'
	set logscale x 10
	set xrange [7000:6e6]
	set xtics ('10k' 1e4, '100k' 1e5, '1M' 1e6, '4M' 4e6)
	set yrange [0:*]
	set grid
	set key below
	plot '$tmp/out.dat' using 1:2 with linespoints lw 2 pt 7 title 'outbound, one packet per call', \
	     '$tmp/in.dat' using 1:2 with linespoints lw 2 pt 5 title 'inbound, one packet per call', \
	     '$tmp/out-burst.dat' using 1:2 with linespoints lw 2 pt 9 title 'outbound, bursts of 32', \
	     '$tmp/in-burst.dat' using 1:2 with linespoints lw 2 pt 11 title 'inbound, bursts of 32'
GP
echo "plot.sh: wrote $out"
