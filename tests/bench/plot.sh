#!/usr/bin/env bash
# plot.sh BENCH_OUTPUT [OUT.svg] -- ns per packet against the number of sessions, from the
# "bench sessions=N case=established-out|in ns_per_pkt=X ..." lines that napt-bench prints.
# Writes OUT.svg (default docs/bench-ns-per-packet.svg next to this script) with gnuplot
# (Debian: gnuplot-nox).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BENCH_OUTPUT [OUT.svg]" >&2; exit 2; }
in=$1
out=${2:-$here/../../docs/bench-ns-per-packet.svg}
command -v gnuplot >/dev/null || { echo "plot.sh: needs gnuplot (gnuplot-nox)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/napt-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# One data file per direction: sessions, ns per packet.
for dir in out in; do
	sed -n "s/^bench sessions=\([0-9]*\) case=established-$dir ns_per_pkt=\([0-9.]*\) .*/\1 \2/p" \
		"$in" | sort -n >"$tmp/$dir.dat"
	[ -s "$tmp/$dir.dat" ] || { echo "plot.sh: no established-$dir lines in $in" >&2; exit 1; }
done

gnuplot <<-GP
	set terminal svg size 720,420 dynamic enhanced font 'sans,12' background rgb 'white'
	set output '$out'
	set title 'napt-bench: established traffic, one core, 64-byte packets'
	set xlabel 'concurrent sessions (max-sessions)'
	set ylabel 'ns per packet (lower is better)'
	set logscale x 10
	set format x '10^{%L}'
	set yrange [0:*]
	set grid
	set key top left
	plot '$tmp/out.dat' using 1:2 with linespoints lw 2 pt 7 title 'outbound (inside -> outside)', \
	     '$tmp/in.dat' using 1:2 with linespoints lw 2 pt 5 title 'inbound (outside -> inside)'
GP
echo "plot.sh: wrote $out"
