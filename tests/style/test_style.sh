#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_style.sh -- the C sources keep the project's style: formatted by the committed
# .clang-format, and cppcheck (warning, style, performance) finds nothing. Either tool
# missing fails the test with its Debian package (clang-format, cppcheck).
set -euo pipefail

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
# shellcheck source=../require_tools.sh
. "$top/tests/require_tools.sh"
require_tools clang-format:clang-format cppcheck:cppcheck
mapfile -t files < <(find src include tests -name '*.c' -o -name '*.cpp' -o -name '*.h' | sort)
[ "${#files[@]}" -gt 50 ] || { echo "test_style.sh: only ${#files[@]} C files found under $top" >&2; exit 1; }
rc=0
clang-format --dry-run --Werror "${files[@]}" || { echo "clang-format: the files above are not formatted" >&2; rc=1; }
cppcheck --enable=warning,style,performance --inline-suppr -I include/napt -I src/libnapt \
	-I src/common -I src/naptd -q --error-exitcode=1 src tests || { echo "cppcheck: findings above" >&2; rc=1; }
[ $rc = 0 ] && echo "style: ${#files[@]} files formatted, cppcheck clean"
exit $rc
