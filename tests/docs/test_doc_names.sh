#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_doc_names.sh - every test docs/conformance.md names exists and runs in make check
# (check_test_names.py says how names are recognised). First the checker must catch one
# made-up name of each form in a copy of the page, so a checker that matches nothing fails.
set -euo pipefail

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
check=$top/tests/docs/check_test_names.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp "$top/docs/conformance.md" "$tmp/conformance.md"
cat >>"$tmp/conformance.md" <<'ROW'
| made up | met | 99-no-such-case; unit: test_translate/eim_same_port_to_two_remotes, no_such_test; test_no_such_program/x; netns: test_no_such_script.sh |
ROW
if /usr/bin/python3 "$check" "$top" "$tmp/conformance.md" >"$tmp/out"; then
	echo "test_doc_names.sh: the checker passed a page with made-up test names" >&2
	exit 1
fi
for name in "replay case 99-no-such-case" "unit test test_translate/no_such_test" \
	"unit test test_no_such_program/x" "script test_no_such_script.sh"; do
	grep -qF "names a $name " "$tmp/out" || {
		echo "test_doc_names.sh: the checker missed the made-up $name:" >&2
		cat "$tmp/out" >&2
		exit 1
	}
done
grep -q "test_translate/eim_same_port_to_two_remotes" "$tmp/out" && {
	echo "test_doc_names.sh: the checker refused a test that exists" >&2
	exit 1
}
/usr/bin/python3 "$check" "$top"
