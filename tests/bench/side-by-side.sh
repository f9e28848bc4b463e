#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# side-by-side.sh -- naptd against the kernel's NAT, RUNS times (default 3) with the veth
# offloads on and off, the order of the two swapped every run; prints each figure's median
# over the runs and the median of the per-run ratios naptd/kernel (a ratio is only worth
# anything between figures of one run: this machine's speed moves by up to 2x with its load).
#
# With BASE_BUILD set, every run also measures naptd from that build right after the
# current one ("before": the build a change is compared with), and the table gains its
# column and the ratio this/before.
#
# Environment: BUILD_DIR (naptd to measure, default .), BASE_BUILD, RUNS, DURATION (per
# figure, default 10 s), LOG (keep bench-e2e's raw output there). Needs what bench-e2e.sh
# needs, and root. About 4 minutes a run, 8 with BASE_BUILD.
set -euo pipefail

here=$(dirname "${BASH_SOURCE[0]}")
runs=${RUNS:-3}
build=$(realpath "${BUILD_DIR:-.}")
base=${BASE_BUILD:+$(realpath "$BASE_BUILD")}
log=${LOG:-$(mktemp)}
: >"$log"

# e2e OFFLOAD LABEL [VAR=VALUE...]: one bench-e2e run, its machine lines tagged with the run
# number and LABEL in place of naptd's mode name.
e2e() {
	local off=$1 label=$2
	shift 2
	env "$@" bash "$here/bench-e2e.sh" "$off" >"$log.run" 2>&1 ||
		{ cat "$log.run" >&2; echo "side-by-side.sh: bench-e2e $off failed" >&2; exit 1; }
	cat "$log.run" >>"$log"
	sed -n "s/^e2e offload=\([a-z]*\) .*mode=\([a-z]*\) case=\([a-z0-9-]*\) value=\([0-9.]*\) .*/$r \1 \2 \3 \4/p" \
		"$log.run" | sed "s/ naptd / $label /" >>"$log.lines"
}

: >"$log.lines"
for ((r = 1; r <= runs; r++)); do
	if ((r % 2)); then order="on off"; else order="off on"; fi
	for off in $order; do
		echo "side-by-side.sh: run $r of $runs, offloads $off ($(date +%T), load $(cut -d' ' -f1 /proc/loadavg))" >&2
		e2e "$off" naptd BUILD_DIR="$build" MODES="${MODES:-routing kernel naptd}"
		[ -z "$base" ] || e2e "$off" before BUILD_DIR="$base" MODES=naptd
	done
done

# Lines "RUN OFFLOAD MODE CASE VALUE" -> per offload and case: the median of each mode and
# the medians of naptd/kernel and naptd/before taken run by run.
awk -v runs="$runs" -v hasbase="${base:+1}" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	if (n == 0) return "-"
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ v[$1, $2, $3, $4] = $5; seen[$2, $4] = 1 }
END {
	split("tcp-out tcp-in udp64-kpps udp64-loss conn", cases, " ")
	split("TCP_LAN->WAN_Gbit/s TCP_WAN->LAN_fwd_Gbit/s UDP_64_B_received_kpps UDP_64_B_loss_% new_TCP_conn/s_(wrk)", names, " ")
	for (o = 1; o <= 2; o++) {
		off = o == 1 ? "on" : "off"
		printf "\nveth offloads %s: medians of %d runs\n", off, runs
		printf "%-26s %9s %9s %9s %9s %13s %13s\n", "figure", "routing", "kernel", "naptd",
			hasbase ? "before" : "", "naptd/kernel", hasbase ? "naptd/before" : ""
		for (c = 1; c <= 5; c++) {
			k = cases[c]
			if (!((off, k) in seen)) continue
			split("routing kernel naptd before", modes, " ")
			for (m = 1; m <= 4; m++) {
				l = ""
				for (r = 1; r <= runs; r++)
					if ((r, off, modes[m], k) in v) l = l " " v[r, off, modes[m], k]
				med[m] = median(l)
			}
			rk = ""; rb = ""
			for (r = 1; r <= runs; r++) {
				n = v[r, off, "naptd", k]; kk = v[r, off, "kernel", k]; b = v[r, off, "before", k]
				if (kk > 0) rk = rk " " sprintf("%.3f", n / kk)
				if (b > 0) rb = rb " " sprintf("%.3f", n / b)
			}
			label = names[c]; gsub("_", " ", label)
			lossy = k == "udp64-loss"
			printf "%-26s %9s %9s %9s %9s %13s %13s\n", label, med[1], med[2], med[3],
				hasbase ? med[4] : "", lossy || rk == "" ? "-" : sprintf("%.2f", median(rk)),
				hasbase && !lossy && rb != "" ? sprintf("%.2f", median(rb)) : ""
			if (!lossy) printf "%-26s %9s %9s %9s %9s %13s %13s\n", "  per run", "", "", "", "", rk == "" ? "-" : rk, rb
		}
	}
}' "$log.lines"
echo "raw output: $log" >&2
