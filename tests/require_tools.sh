# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# require_tools.sh - sourced by test scripts. A tool a test needs and cannot find fails the
# test (exit 99, automake's hard error) with the Debian package that brings it: a skip
# would let `make check` pass on tests that never ran. run.sh's DEPS installs them all.

# missing_packages PKG...: report the packages to install and stop.
missing_packages() {
	echo "ERROR: missing; install with: apt-get install $* (or ./run.sh build)" >&2
	exit 99
}

# require_tools TOOL:PACKAGE...: stop unless every TOOL is on PATH.
require_tools() {
	local tp missing=()
	for tp in "$@"; do
		command -v "${tp%%:*}" >/dev/null || missing+=("${tp#*:}")
	done
	[ ${#missing[@]} -eq 0 ] || missing_packages "${missing[@]}"
}
