#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_libnapt.sh - libnapt as a program that embeds it sees it (docs/libnapt.md): make install
# into a DESTDIR puts in place libnapt.so.0 (soname 0, only the public API's names exported),
# the public headers in include/napt/ and libnapt.pc; tests/libnapt/example.c, compiled with
# nothing but what pkg-config says from that DESTDIR, translates a datagram out and its
# answer back in; tests/libnapt/example_cxx.cpp, every public header from C++ (g++), runs too.
set -u
BUILD_DIR=${BUILD_DIR:-$PWD}
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
dest=$(mktemp -d /tmp/napt-libnapt.XXXXXX)
trap 'rm -rf "$dest"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Not the jobserver of the make check that runs this test.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$BUILD_DIR" install-libLTLIBRARIES \
	install-pkgincludeHEADERS install-pkgconfigDATA DESTDIR="$dest" >"$dest/log" 2>&1 ||
	{ cat "$dest/log" >&2; fail "make install failed"; }

pc=$(find "$dest" -name libnapt.pc)
[ -n "$pc" ] || fail "libnapt.pc not installed"
export PKG_CONFIG_PATH=${pc%/*} PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=
cflags=$(pkg-config --cflags libnapt) && libs=$(pkg-config --libs libnapt) ||
	fail "pkg-config does not know libnapt"
incdir=${cflags#-I}
incdir=${incdir%% *}/napt
libdir=$(pkg-config --libs-only-L libnapt)
libdir=${libdir#-L}
libdir=${libdir%% *}
for d in "$incdir" "$libdir"; do
	[ -d "$d" ] && [ "${d#"$dest"/}" != "$d" ] || fail "pkg-config names $d, not a folder of $dest"
done
echo "ok: pkg-config libnapt: $cflags $libs"

want="checksum.h det_nat.h ipv4_packet.h napt.h napt_config.h nat_event.h session_save.h"
got=$(cd "$incdir" && ls | tr '\n' ' ')
[ "$got" = "$want " ] || fail "headers installed: '$got', not '$want'"
soname=$(readelf -d "$libdir/libnapt.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libnapt.so.0 ] || fail "soname '$soname', not libnapt.so.0"
other=$(nm -D --defined-only "$libdir/libnapt.so" | awk '{print $3}' |
	grep -Ev '^(napt_|csum_|det_|ipv4_parse)' || true)
[ -z "$other" ] || fail "libnapt.so exports names outside the API: $other"
# The regex above is the one the link uses: a name of the engine's own that starts with napt_
# passes it. Each exported name must be one an installed header declares.
for name in $(nm -D --defined-only "$libdir/libnapt.so" | awk '{print $3}'); do
	grep -qw -- "$name" "$incdir"/*.h || other="$other $name"
done
[ -z "$other" ] || fail "libnapt.so exports names no installed header declares:$other"
echo "ok: soname $soname, headers: $want"

# The sanitizer build's library needs its runtime first in the program (NAPT_SAN_CFLAGS, set
# by make check from configure's --enable-sanitizers; empty otherwise).
# shellcheck disable=SC2086 # pkg-config's words
${CC:-cc} -std=c11 -Wall -Wextra -Werror ${NAPT_SAN_CFLAGS:-} $cflags -o "$dest/example" \
	"$top/tests/libnapt/example.c" $libs || fail "the example does not build against the installed libnapt"
out=$(LD_LIBRARY_PATH=$libdir "$dest/example") || fail "the example failed: $out"
echo "$out"
LD_LIBRARY_PATH=$libdir ldd "$dest/example" | grep -q "libnapt.so.0 => $libdir/" || fail "the example did not use $libdir"
grep -qx 'out: 203.0.113.10:[0-9]* -> 198.51.100.7:53' <<<"$out" || fail "not translated out"
grep -qx 'in:  198.51.100.7:53 -> 192.168.1.10:5000' <<<"$out" || fail "the answer did not come back in"
grep -qx 'sessions: 1' <<<"$out" || fail "not one session"
echo "ok: the example runs against the installed libnapt.so.0"

# The headers from C++: each compiles as C++ and declares its names extern "C" (unmangled,
# so the link against libnapt.so.0 finds them).
# shellcheck disable=SC2086 # pkg-config's words
${CXX:-g++} -std=c++11 -Wall -Wextra -Werror -pedantic ${NAPT_SAN_CFLAGS:-} $cflags \
	-o "$dest/example_cxx" "$top/tests/libnapt/example_cxx.cpp" $libs ||
	fail "a C++ program including every public header does not build against libnapt"
out=$(LD_LIBRARY_PATH=$libdir "$dest/example_cxx") || fail "the C++ example failed: $out"
echo "$out"
echo "ok: the public headers compile and link as C++"
