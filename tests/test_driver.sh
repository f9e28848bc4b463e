#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test_driver.sh - make check's LOG_DRIVER (Makefile.am): automake's build-aux/test-driver,
# with two additions.
#  - The test's wall time goes into its .trs as ":elapsed-seconds: N" (a field the harness
#    ignores); tests/slowest.sh BUILD_DIR lists the slowest tests of a run.
#  - With NAPT_SANITIZER_SKIP=yes in the environment (run.sh's check of the sanitizer build,
#    which repeats the normal build's), a test named in tests/sanitizer_skip.list is not run:
#    it is a SKIP whose log gives the list's reason. Those tests run once, in the normal build.
# Arguments: those of test-driver (--test-name NAME --log-file PATH --trs-file PATH ... -- CMD).
here=$(cd "$(dirname "$0")" && pwd)
driver=$here/../build-aux/test-driver
name= trs=
prev=
for a in "$@"; do
	case $prev in
	--test-name) name=$a ;;
	--trs-file) trs=$a ;;
	esac
	[ "$a" = -- ] && break
	prev=$a
done

if [ "${NAPT_SANITIZER_SKIP:-no}" = yes ]; then
	# The list's lines: test name, then the reason it need not run under the sanitizers.
	reason=$(awk -v t="$name" '$1 == t { $1 = ""; sub(/^ /, ""); print; exit }' \
		"$here/sanitizer_skip.list")
	if [ -n "$reason" ]; then
		# test-driver's options, then a command that says why and exits 77 (SKIP).
		n=$#
		while [ "$n" -gt 0 ]; do
			a=$1
			shift
			n=$((n - 1))
			[ "$a" = -- ] && break
			set -- "$@" "$a"
		done
		while [ "$n" -gt 0 ]; do
			shift
			n=$((n - 1))
		done
		exec /bin/sh "$driver" "$@" -- /bin/sh -c \
			'echo "SKIP under NAPT_SANITIZER_SKIP=yes (tests/sanitizer_skip.list): $1"; exit 77' \
			sh "$reason"
	fi
fi

start=$(date +%s.%N)
/bin/sh "$driver" "$@"
status=$?
end=$(date +%s.%N)
[ -z "$trs" ] || [ ! -f "$trs" ] ||
	awk -v s="$start" -v e="$end" 'BEGIN { printf ":elapsed-seconds: %.1f\n", e - s }' >>"$trs"
exit $status
