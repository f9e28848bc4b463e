#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_package.sh BUILD_DIR [--chroot] - the Debian packages, built as a user of the release
# would: make dist, then dpkg-buildpackage -us -uc -b in the unpacked tarball, without a test
# run (DEB_BUILD_OPTIONS=nocheck, profile nocheck: make check ran already). Checks lintian
# finds no error, the packages hold what they should and the maintainer scripts enable the
# unit and purge the config and state. With --chroot, also installs, removes and purges
# naptd in a throwaway Debian root made by debootstrap (network to a Debian mirror; never on
# this machine itself).
set -euo pipefail
build=$(cd "${1:?usage: test_package.sh BUILD_DIR [--chroot]}" && pwd)
work=$(mktemp -d /tmp/napt-package.XXXXXX)
root=
# --one-file-system: never into a /proc (or what debootstrap mounted) still mounted in root.
cleanup() {
	if [ -n "$root" ]; then
		umount "$root/proc" 2>/dev/null || true
	fi
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

make -s -C "$build" dist >/dev/null
tar -C "$work" -xzf "$build"/napt-*.tar.gz
src=$(echo "$work"/napt-*/)
(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b -Pnocheck >"$work/build.log" 2>&1) ||
	{ tail -n 40 "$work/build.log" >&2; fail "dpkg-buildpackage failed"; }
naptd_deb=$(echo "$work"/naptd_*.deb)
tools_deb=$(echo "$work"/napt-tools_*.deb)
lib_deb=$(echo "$work"/libnapt0_*.deb)
dev_deb=$(echo "$work"/libnapt-dev_*.deb)
echo "ok: built $(basename "$naptd_deb") $(basename "$tools_deb") $(basename "$lib_deb") $(basename "$dev_deb")"

lintian --fail-on error "$work"/*.changes >"$work/lintian.log" 2>&1 ||
	{ cat "$work/lintian.log" >&2; fail "lintian found errors"; }
echo "ok: lintian: no errors ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"

# has DEB PATH...: each PATH is in DEB.
has() {
	local deb=$1 f list
	shift
	list=$(dpkg-deb -c "$deb")
	for f in "$@"; do
		grep -qE " \./${f#/}(\.gz| -> .*)?\$" <<<"$list" || fail "$(basename "$deb") lacks $f"
	done
}
has "$naptd_deb" /usr/sbin/naptd /usr/sbin/naptctl /lib/systemd/system/naptd.service \
	/usr/share/man/man8/naptd.8.gz /usr/share/man/man8/naptctl.8.gz \
	/usr/share/man/man5/naptd.conf.5.gz /usr/share/doc/naptd/examples/naptd.conf.example \
	/usr/share/doc/naptd/copyright
has "$tools_deb" /usr/bin/napt-replay /usr/bin/napt-bench
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
has "$lib_deb" "/usr/lib/$multiarch/libnapt.so.0"
has "$dev_deb" "/usr/lib/$multiarch/libnapt.so" "/usr/lib/$multiarch/pkgconfig/libnapt.pc" \
	/usr/include/napt/napt.h /usr/share/doc/libnapt-dev/libnapt.md
! dpkg-deb -c "$naptd_deb" | grep -q 'libnapt' || fail "naptd ships libnapt: it links the engine statically"
! dpkg-deb -f "$naptd_deb" Depends | grep -q libnapt || fail "naptd depends on libnapt0"
! dpkg-deb -c "$naptd_deb" | grep ' \./etc/naptd.conf$' ||
	fail "naptd ships /etc/naptd.conf: installing it would start a gateway"
dpkg-deb -x "$naptd_deb" "$work/x"
grep -qx 'ExecStart=/usr/sbin/naptd -f -c /etc/naptd.conf' "$work/x/lib/systemd/system/naptd.service" ||
	fail "the packaged unit does not run /usr/sbin/naptd -f -c /etc/naptd.conf"
grep -qx 'ConditionPathExists=/etc/naptd.conf' "$work/x/lib/systemd/system/naptd.service" ||
	fail "the packaged unit does not wait for /etc/naptd.conf"
echo "ok: contents (programs, unit, man pages, example, no /etc/naptd.conf)"

dpkg-deb -e "$naptd_deb" "$work/ctl"
grep -q 'deb-systemd-helper .*enable.*naptd.service' "$work/ctl/postinst" ||
	fail "postinst does not enable naptd.service"
grep -q 'deb-systemd-invoke stop.*naptd.service' "$work/ctl/prerm" ||
	fail "prerm does not stop naptd.service"
# An upgrade is one restart after the new files are in (restart-after-upgrade, compat 13):
# naptd saves its sessions on the SIGTERM and the new one restores them (docs/design.md).
grep -q '"$1" = remove' "$work/ctl/prerm" || fail "prerm stops naptd.service on upgrade too"
grep -q '_dh_action=restart' "$work/ctl/postinst" || fail "postinst does not restart naptd on upgrade"
grep -q 'rm -f /etc/naptd.conf' "$work/ctl/postrm" && grep -q 'rm -rf /var/lib/naptd' "$work/ctl/postrm" ||
	fail "postrm purge does not remove the config and the state"
grep -q 'deb-systemd-helper purge' "$work/ctl/postrm" || fail "postrm does not purge the unit's state"
echo "ok: maintainer scripts enable and stop the unit; purge removes config and state"

[ "${2:-}" = --chroot ] || exit 0

# The throwaway root: a minimal Debian of this release, naptd installed with apt (which
# fetches its libraries), then removed and purged. PID 1 of a chroot is not systemd, so the
# maintainer scripts enable the unit (symlinks) without starting it.
command -v debootstrap >/dev/null || fail "--chroot needs debootstrap"
. /etc/os-release
root=$work/root
debootstrap --variant=minbase "$VERSION_CODENAME" "$root" >"$work/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
mount -t proc proc "$root/proc"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive "$@"; }
cp "$naptd_deb" "$root/tmp/"
in_root apt-get install -y -qq "/tmp/$(basename "$naptd_deb")" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; fail "apt-get install naptd in the throwaway root failed"; }
[ -L "$root/etc/systemd/system/multi-user.target.wants/naptd.service" ] ||
	fail "installing did not enable naptd.service"
in_root naptd -t -c /usr/share/doc/naptd/examples/naptd.conf.example >/dev/null ||
	fail "the installed naptd refuses the installed example"
echo "ok: installed in a throwaway root, unit enabled, example accepted by naptd -t"

cp "$root/usr/share/doc/naptd/examples/naptd.conf.example" "$root/etc/naptd.conf"
mkdir -p "$root/var/lib/naptd" && echo "dmz none" >"$root/var/lib/naptd/state"
in_root dpkg --remove naptd >>"$work/install.log" 2>&1 || fail "dpkg --remove failed"
[ -f "$root/etc/naptd.conf" ] && [ -f "$root/var/lib/naptd/state" ] ||
	fail "remove did not keep the config and the state"
[ ! -e "$root/usr/sbin/naptd" ] || fail "remove left /usr/sbin/naptd"
echo "ok: remove keeps /etc/naptd.conf and /var/lib/naptd"
in_root dpkg --purge naptd >>"$work/install.log" 2>&1 || fail "dpkg --purge failed"
[ ! -e "$root/etc/naptd.conf" ] && [ ! -e "$root/var/lib/naptd" ] ||
	fail "purge left the config or the state"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/naptd.service" ] ||
	fail "purge left the unit enabled"
echo "ok: purge removes them and the unit's symlink"
