#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_napt_bench.sh -- napt-bench still runs: a small table, one short run per figure.
# No figure is judged (speed is never asserted by a test); what is checked is what the
# benchmark checks itself (every packet of the fill is translated as it should be, no new
# flow is refused: exit 1 otherwise) and that it prints every machine-readable line the
# scripts outside the project read, with a number in each field.
set -euo pipefail

bench=${BUILD_DIR:-.}/napt-bench
out=$(mktemp)
trap 'rm -f "$out"' EXIT

timeout 120 "$bench" -s 10k -r 1 -n 20k >"$out" || { echo "napt-bench failed" >&2; cat "$out" >&2; exit 1; }
for c in established-out established-in established-out-burst established-in-burst; do
	grep -Eq "^bench sessions=10000 case=$c ns_per_pkt=[0-9.]+ mpps=[0-9.]+$" "$out" ||
		{ echo "no line for case=$c" >&2; cat "$out" >&2; exit 1; }
done
grep -Eq '^bench sessions=10000 case=create new_per_s=[1-9][0-9]* bytes_per_session=[0-9]+$' "$out" &&
	grep -Eq '^bench sessions=10000 case=create-burst new_per_s=[1-9][0-9]*$' "$out" &&
	grep -Eq '^bench sessions=10000 case=memory bytes_per_session=[0-9]+ rss_bytes_per_session=-?[0-9]+$' "$out" ||
	{ echo "creation or memory line missing" >&2; cat "$out" >&2; exit 1; }
# A size it cannot parse is refused with the usage, not run.
if "$bench" -s 12q >/dev/null 2>&1; then
	echo "napt-bench accepted -s 12q" >&2
	exit 1
fi
echo "napt-bench: all figures printed"
