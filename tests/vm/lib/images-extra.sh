#!/bin/bash
# images-extra.sh - images tests/vm/run appends only for the runs that need
# them (sourced after images.sh): NBD's server and client (--disk nbd) and
# the built Debian packages as dpkg and DKMS leave them (--install pkg).
# Cached under build/vm/base/ like the base images, keyed by their inputs; in
# a file of their own so that changing them does not rebuild the base images.

# Debian's nbd-server and nbd-client, downloaded and unpacked (not installed)
# like the Xen packages; the nbd module is the kernel's own (dom0's base image)
NBD_DEBS="nbd-server nbd-client"
NBD_TREE=$XENBLK_CACHE/nbd
ensure_nbd() {
	[ -e "$NBD_TREE/.done" ] && return 0
	local debs=$NBD_TREE.debs d
	rm -rf "$NBD_TREE" "$debs"; mkdir -p "$NBD_TREE" "$debs"
	# shellcheck disable=SC2086
	(cd "$debs" && apt-get download -qq $NBD_DEBS 2>/dev/null) ||
		{ apt-get update -qq && (cd "$debs" && apt-get download -qq $NBD_DEBS); } || return 1
	for d in "$debs"/*.deb; do
		dpkg-deb -x "$d" "$NBD_TREE"
		dpkg-deb -f "$d" Package Version | tr '\n' ' '; echo
	done > "$NBD_TREE/.versions"
	rm -rf "$debs"
	touch "$NBD_TREE/.done"
}

# ldd_complete BINARY: every library BINARY needs is on the host (copy_bin
# would leave a missing one out silently, and the tool would fail in the VM)
ldd_complete() {
	local miss
	miss=$(ldd "$1" 2>&1 | grep 'not found')
	[ -z "$miss" ] || { echo "$1 needs libraries the host lacks: $miss" >&2; return 1; }
}

# nbd_image: nbd-server and nbd-client with their libraries, for dom0
nbd_image() {
	local key out r b
	ensure_nbd || { echo "nbd: apt-get download $NBD_DEBS failed" >&2; return 1; }
	key=$( { cat "${BASH_SOURCE[0]}" "$NBD_TREE/.versions"; } | sha256sum | cut -c1-16)
	out=$VM_BASE_DIR/nbd-$key.gz
	[ -e "$out" ] && { echo "$out"; return 0; }
	r=$VM_BASE_DIR/nbd.root.$$
	rm -rf "$r"; mkdir -p "$r"
	for b in "$NBD_TREE/bin/nbd-server" "$NBD_TREE/sbin/nbd-client"; do
		ldd_complete "$b" || return 1
		copy_bin "$r" "$b" "$NBD_TREE"
	done
	mkdir -p "$VM_BASE_DIR"
	initramfs_pack "$r" "$out.$$" && mv "$out.$$" "$out"
	rm -rf "$r"
	echo "$out"
}

# The built packages (XENBLK_PKG_DIR, default build/pkg: tests/pkg/run's
# `make deb` and its DKMS build in a scratch tree) as they are on a machine
# after `apt-get install`: the files of xenblk-dkms and xenblk-utils and the
# modules DKMS built for KVER under /lib/modules/KVER/updates/dkms/.  Staged
# under /opt/xenblk/pkg/root with their list (/opt/xenblk/pkg/files, as dpkg
# keeps one); tests/vm/lib/xb-pkg puts them in place in the running domain
# and takes them out again.  The sources under /usr/src (DKMS's input; the
# build already ran) and the documentation are left out.  kmod (modprobe with
# install commands, depmod) comes along: busybox's modprobe has no install
# commands.
PKG_DIR=${XENBLK_PKG_DIR:-$TOP/build/pkg}
# pkg_image: for the run's kernel ($KVER)
pkg_image() {
	local kver=${KVER:?} dkms_deb utils_deb version mods key out r root l
	dkms_deb=$(ls "$PKG_DIR"/deb/xenblk-dkms_*_all.deb 2>/dev/null | head -n 1)
	utils_deb=$(ls "$PKG_DIR"/deb/xenblk-utils_*_amd64.deb 2>/dev/null | head -n 1)
	[ -n "$dkms_deb" ] && [ -n "$utils_deb" ] ||
		{ echo "pkg: no packages in $PKG_DIR/deb (tests/pkg/run --kernels $kver)" >&2; return 1; }
	version=$(dpkg-deb -f "$dkms_deb" Version)
	mods=$PKG_DIR/dkms/xenblk/$version/$kver/x86_64/module
	ls "$mods"/xenblk-front.ko* "$mods"/xenblk-back.ko* > /dev/null 2>&1 ||
		{ echo "pkg: no DKMS-built modules for $kver in $mods (tests/pkg/run --kernels $kver)" >&2; return 1; }
	key=$( { echo "$kver"; cat "${BASH_SOURCE[0]}" "$TOP/tests/vm/lib/xb-pkg" "$dkms_deb" "$utils_deb" "$mods"/*;
		_versions kmod; } | sha256sum | cut -c1-16)
	out=$VM_BASE_DIR/pkg-$kver-$key.gz
	[ -e "$out" ] && { echo "$out"; return 0; }
	r=$VM_BASE_DIR/pkg-$kver.root.$$
	root=$r/opt/xenblk/pkg/root
	rm -rf "$r"; mkdir -p "$root"
	dpkg-deb -x "$dkms_deb" "$root"
	dpkg-deb -x "$utils_deb" "$root"
	rm -rf "$root/usr/src" "$root/usr/share/doc"
	install -d "$root/lib/modules/$kver/updates/dkms"
	install -m 0644 "$mods"/xenblk-*.ko* "$root/lib/modules/$kver/updates/dkms/"
	(cd "$root" && find . ! -type d | sed 's|^\./||' | sort) > "$r/opt/xenblk/pkg/files"
	echo "$version" > "$r/opt/xenblk/pkg/version"
	# kmod, and the libraries of the packaged xbctl (the binary stays staged)
	ldd_complete /usr/bin/kmod && ldd_complete "$root/usr/sbin/xbctl" || return 1
	copy_bin "$r" /usr/bin/kmod
	for l in $(ldd "$root/usr/sbin/xbctl" | grep -oE '/[^ ]+'); do copy_bin "$r" "$l"; done
	install -D -m 0755 "$TOP/tests/vm/lib/xb-pkg" "$r/opt/xenblk/bin/xb-pkg"
	mkdir -p "$VM_BASE_DIR"
	initramfs_pack "$r" "$out.$$" && mv "$out.$$" "$out"
	rm -rf "$r"
	echo "$out"
}
