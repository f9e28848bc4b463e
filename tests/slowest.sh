#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# slowest.sh BUILD_DIR [N] - the N (default 15) slowest tests of BUILD_DIR's last make check,
# from the ":elapsed-seconds:" test_driver.sh writes in each .trs, then the total. Seconds
# are wall time on a shared machine: rank by them, do not read them as a benchmark.
dir=${1:?usage: slowest.sh BUILD_DIR [N]}
n=${2:-15}
find "$dir" -name '*.trs' -exec awk '
	function out() { if (s != "") printf "%8.1f %-5s %s\n", s, r, f; r = s = "" }
	FNR == 1 { out(); f = FILENAME }
	/^:test-result:/ { r = $2 }
	/^:elapsed-seconds:/ { s = $2 }
	END { out() }' {} + |
	sed "s|$dir/||; s|\.trs\$||" | sort -rn |
	awk -v n="$n" 'NR <= n; { s += $1 } END { printf "%8.1f total over %d tests\n", s, NR }'
