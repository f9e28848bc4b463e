#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_hash_flood.sh - issue 11 item 1: flows aimed at one hash chain cost no more than
# random flows, whether one LAN host opens them or, with `dmz` set, one WAN host.
# hash-flood-gen writes FLOWS UDP flows (PACKETS packets each) three ways: random ports; ports that shared a bucket under the hash of 73c33af (any seed);
# ports that share a bucket under SipHash with key K1. napt-replay runs each with key K2, and
# its time per packet on either attack set must be at most 2x its time on the random set,
# all measured in this run (best of RUNS, interleaved: other load only adds time). As a
# check that the attack sets are real, the K1 set replayed with K1 itself must be slower
# than 2x: with the key known, the flows do share a chain.
# Environment: BUILD_DIR (napt-replay, hash-flood-gen), FLOWS (8192), MAX_SESSIONS (16384),
# PACKETS (4), RUNS (5). 8192 flows, not 4096 as for the hash chains: the bucket indexes
# (issue 18) walk 15 keys a cache line, so aimed keys cost less, and with 4096 of them the
# K1 check measured only 1.6-2.3x under load. The K1 set aims both of a key's buckets.
set -euo pipefail

build=${BUILD_DIR:-.}
replay=$build/napt-replay
gen=$build/tests/attack/hash-flood-gen
flows=${FLOWS:-8192}
max=${MAX_SESSIONS:-16384}
packets=${PACKETS:-4}
runs=${RUNS:-5}
k1=000102030405060708090a0b0c0d0e0f
k2=7f3a91c05e2d4b8866a1f0e3d2c4b5a6

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total=$((flows * packets))
status=0

# One replay of set $2 of direction $1 with key $3: its wall time in microseconds; every
# packet must be translated (no drop), or the timing would measure something else.
replay_us() {
	local t0 t1 out
	t0=${EPOCHREALTIME/./}
	out=$(timeout 120 "$replay" -k "$3" -c "$tmp/$1/config" "$tmp/$1/$2.pcap" "$tmp/out.pcap")
	t1=${EPOCHREALTIME/./}
	grep -qx "translated udp $1 $total" <<<"$out" ||
		{ echo "$1 $2: not every packet translated:" >&2; echo "$out" >&2; exit 1; }
	echo $((t1 - t0))
}

for dir in out in; do
	mkdir "$tmp/$dir"
	timeout 60 "$gen" "$dir" "$max" "$flows" "$packets" "$k1" "$tmp/$dir"
	declare -A best=()
	for ((r = 0; r < runs; r++)); do
		for s in random:$k2 old:$k2 keyed:$k2 keyed:$k1; do
			us=$(replay_us "$dir" "${s%%:*}" "${s##*:}")
			if [ -z "${best[$s]:-}" ] || [ "$us" -lt "${best[$s]}" ]; then
				best[$s]=$us
			fi
		done
	done
	rnd=$((best[random:$k2] * 1000 / total))
	for s in old:$k2 keyed:$k2 keyed:$k1; do
		ns=$((best[$s] * 1000 / total))
		ratio=$(awk -v a="$ns" -v b="$rnd" 'BEGIN { printf "%.2f", a / b }')
		echo "$dir: set ${s%%:*} key ${s##*:}: $ns ns per packet, random $rnd: ratio $ratio"
		if [ "$s" = "keyed:$k1" ]; then
			awk -v r="$ratio" 'BEGIN { exit !(r > 2) }' ||
				{ echo "FAIL: $dir: the K1 set does not collide under K1: the test shows nothing"; status=1; }
		else
			awk -v r="$ratio" 'BEGIN { exit !(r <= 2) }' ||
				{ echo "FAIL: $dir: the ${s%%:*} set costs more than 2x random flows"; status=1; }
		fi
	done
	unset best
done
exit $status
