#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_style.sh -- the C sources keep the project's style: formatted by the committed
# .clang-format, and cppcheck (warning, style, performance) finds nothing. Skips (77) where
# either tool is missing; both come with Debian (clang-format, cppcheck).
set -euo pipefail

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
for t in clang-format cppcheck; do
	command -v "$t" >/dev/null || { echo "test_style.sh: $t missing: skipped"; exit 77; }
done
mapfile -t files < <(find src include tests -name '*.c' -o -name '*.h' | sort)
[ "${#files[@]}" -gt 50 ] || { echo "test_style.sh: only ${#files[@]} C files found under $top" >&2; exit 1; }
rc=0
clang-format --dry-run --Werror "${files[@]}" || { echo "clang-format: the files above are not formatted" >&2; rc=1; }
cppcheck --enable=warning,style,performance --inline-suppr -I include -q --error-exitcode=1 \
	src tests || { echo "cppcheck: findings above" >&2; rc=1; }
[ $rc = 0 ] && echo "style: ${#files[@]} files formatted, cppcheck clean"
exit $rc
