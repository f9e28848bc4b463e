#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - the quick start. On a fresh Debian 12 machine, as root:
#   ./run.sh demo    build if needed, then show the gateway at work in network namespaces
#   ./run.sh test    install what is missing, build, run every test (normal + sanitizer build),
#                    build the Debian package and try it in a throwaway root
#   ./run.sh build   install what is missing and build into ./build
#   ./run.sh bench   the engine benchmark and the side-by-side with the kernel's NAT
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

# Debian packages: build, unit tests, fixture generation and checks, namespace tests, the
# Debian package and its check (systemd for systemd-analyze; debootstrap for a throwaway root).
DEPS="autoconf automake libtool pkg-config make gcc g++ libnl-3-dev libnl-route-3-dev libpcap-dev check libupnp-dev miniupnpc
      libcap-ng-dev libsystemd-dev libbpf-dev systemd debhelper lintian debootstrap python3-scapy tshark
      iproute2 curl iputils-ping traceroute iperf3 nftables
      ethtool socat procps stun-client stun-server natpmpc clang libclang-rt-14-dev
      clang-format cppcheck libmicrohttpd-dev python3-prometheus-client libfixbuf-dev bird2"
# Only for the benchmarks (./run.sh bench): nginx-light would start a web server on the host.
BENCH_DEPS="wrk nginx-light gnuplot-nox valgrind"

install_deps() {
	local missing=()
	for p in $DEPS ${1:-}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "run.sh: installing ${missing[*]}"
	[ "$(id -u)" = 0 ] || { echo "run.sh: need root to apt-get install" >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	# Debian starts a stund and a bird in the host's namespace; the tests run their own in
	# namespaces (test_ecmp_nodes.sh: one bird per namespace, own socket and pid file).
	local unit
	for unit in stun-server bird; do
		if command -v systemctl >/dev/null && systemctl is-active -q "$unit" 2>/dev/null; then
			systemctl disable -q --now "$unit" || true
		fi
	done
}

# build DIR [configure options...]: out-of-tree build, so the normal and the sanitizer
# builds live side by side.
build() {
	local dir=$1; shift
	[ -x configure ] || autoreconf -fi >/dev/null
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && ../configure -q "$@")
	fi
	make -C "$dir" -s -j"$(nproc)"
}

check() {
	local dir=$1
	if ! make -C "$dir" -s -j"$(nproc)" check; then
		find "$dir/tests" -name '*.log' -newer "$dir/Makefile" -exec grep -l -E '^(FAIL|ERROR)' {} + \
			2>/dev/null | while read -r f; do echo "==== $f"; tail -n 60 "$f"; done
		return 1
	fi
}

case "${1:-}" in
build)
	install_deps
	build build
	;;
demo)
	install_deps
	build build
	exec tests/netns/demo.sh "$top/build"
	;;
test)
	install_deps
	build build
	check build
	build build-asan --enable-sanitizers
	# The sanitizer build repeats the check for memory errors: the timing, ratio and pupnp-limit
	# tests of tests/sanitizer_skip.list and the replay fixtures' own checks ran above, once.
	NAPT_SANITIZER_SKIP=yes check build-asan
	make -C build -s fuzz
	# The .deb from make dist (nocheck: tested above), then install, remove and purge in a
	# throwaway root.
	tests/install/test_package.sh build --chroot
	echo "run.sh: all tests passed (normal and sanitizer builds, fuzzing, Debian package)"
	;;
bench)
	install_deps "$BENCH_DEPS"
	if command -v systemctl >/dev/null; then systemctl disable -q --now nginx 2>/dev/null || true; fi
	build build
	make -C build -s bench
	make -C build -s bench-side-by-side
	;;
*)
	echo "usage: $0 demo|test|build|bench" >&2
	exit 2
	;;
esac
