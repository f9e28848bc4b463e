#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# run_case.sh CASE - check one replay fixture of pcaps/.
#
# CASE is the case directory or any file in it (automake passes pcaps/NN-name/in.pcap).
#  1. the generator, re-run into a temporary directory, reproduces the committed files
#     byte for byte (the description and the pcaps cannot drift apart);
#  2. tshark, independently of scapy, finds every checksum of expected.pcap right, except
#     the frames the case lists as keeping a wrong one on purpose;
#  3. napt-replay's output equals expected.pcap packet for packet, byte for byte;
#  4. napt-replay prints every counter line the case's checks file lists.
# Environment: NAPT_REPLAY (the binary; default ./napt-replay of the build directory);
# NAPT_SANITIZER_SKIP=yes runs steps 3 and 4 only (the sanitizer build's check in run.sh).
# A missing tool fails the case with its Debian package (require_tools.sh), never skips it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
case_dir=$1
[ -d "$case_dir" ] || case_dir=$(dirname "$case_dir")
case_dir=$(cd "$case_dir" && pwd)
name=$(basename "$case_dir")
replay=${NAPT_REPLAY:-./napt-replay}
py=/usr/bin/python3

# shellcheck source=../require_tools.sh
. "$here/../require_tools.sh"
[ -x "$replay" ] || { echo "$name: $replay not built"; exit 99; }
require_tools "$py:python3" tshark:tshark
"$py" -c 'import scapy' 2>/dev/null || missing_packages python3-scapy

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL $name: $*"; exit 1; }

# 1. Regenerate and compare.
check_generated() {
	"$py" "$here/gen_cases.py" "$tmp/gen" "$name" >/dev/null
	for f in config in.pcap expected.pcap README checks; do
		if [ -e "$case_dir/$f" ] || [ -e "$tmp/gen/$name/$f" ]; then
			cmp -s "$case_dir/$f" "$tmp/gen/$name/$f" ||
				fail "$f differs from what tests/replay/gen_cases.py generates now"
		fi
	done
}

# 2. Checksums of the expected packets, by tshark. Status 0 is "Bad" (1 good,
# 2 unverified, 3 not present): checked on purpose against a corrupted packet.
check_checksums() {
	local allowed= bad
	[ ! -f "$case_dir/checks" ] ||
		allowed=$(sed -n 's/^bad-checksum-frame //p' "$case_dir/checks" | sort -n | xargs)
	bad=$(tshark -r "$case_dir/expected.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-o udp.check_checksum:TRUE \
		-Y 'ip.checksum.status==0 or tcp.checksum.status==0 or udp.checksum.status==0 or icmp.checksum.status==0' \
		-T fields -e frame.number 2>/dev/null | sort -n | xargs)
	[ "$bad" = "$allowed" ] ||
		fail "tshark finds bad checksums in expected.pcap frames '$bad' (allowed: '$allowed')"
}

# Steps 1 and 2 check the committed files, not the build: run.sh's sanitizer check
# (NAPT_SANITIZER_SKIP=yes, tests/test_driver.sh) leaves them to the normal build's.
if [ "${NAPT_SANITIZER_SKIP:-no}" = yes ]; then
	echo "steps 1-2 (the fixture's files) left to the normal build: NAPT_SANITIZER_SKIP=yes"
else
	check_generated
	check_checksums
fi

# 3. Replay (with the options the case's checks file names, e.g. -p) and compare.
opts=()
[ -f "$case_dir/checks" ] && while read -r kind opt; do
	[ "$kind" = replay-option ] && opts+=("$opt")
done <"$case_dir/checks"
"$replay" -v "${opts[@]}" -c "$case_dir/config" "$case_dir/in.pcap" "$tmp/out.pcap" >"$tmp/replay.txt" ||
	fail "napt-replay failed"
echo "napt-replay -v output:"
sed 's/^/  /' "$tmp/replay.txt"
"$py" "$here/compare_pcaps.py" "$case_dir/expected.pcap" "$tmp/out.pcap" ||
	fail "output differs from expected.pcap"

# 4. Counters.
if [ -f "$case_dir/checks" ]; then
	while read -r kind line; do
		[ "$kind" = counter ] || continue
		grep -qxF "$line" "$tmp/replay.txt" || fail "napt-replay did not print '$line'"
	done <"$case_dir/checks"
fi
echo "PASS $name"
