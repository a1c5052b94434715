#!/bin/bash
# initramfs.sh - build busybox initramfs images for the VM tests (sourced).
#
#   initramfs_skel ROOT              busybox, merged /usr, device nodes
#   initramfs_modules ROOT KTREE KVER MOD...
#                                    copy modules (with dependencies) from an
#                                    extracted kernel tree and index them
#   initramfs_pack ROOT OUT          gzip'd newc cpio
#   kernel_tree KVER                 the extracted image package (scripts/setup.sh)

XENBLK_CACHE=${XENBLK_CACHE:-/var/cache/xenblk}

kernel_tree() { echo "$XENBLK_CACHE/kernel/$1"; }

initramfs_skel() {
	local r=$1 a
	rm -rf "$r"
	mkdir -p "$r"/{usr/bin,usr/sbin,usr/lib,usr/lib64,proc,sys,dev,run,tmp,etc,root,mnt,var}
	ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
	install -m 0755 /bin/busybox "$r/usr/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$r/usr/bin/$a"
	done
	mknod -m 600 "$r/dev/console" c 5 1 2>/dev/null || true
	mknod -m 666 "$r/dev/null" c 1 3 2>/dev/null || true
}

initramfs_modules() {
	local r=$1 tree=$2 kver=$3 m f; shift 3
	local mdir=$tree/lib/modules/$kver
	for m in "$@"; do
		for f in $(modprobe -d "$tree" -S "$kver" --show-depends "$m" | awk '$1=="insmod"{print $2}'); do
			install -D -m 0644 "$f" "$r/usr/lib/modules/$kver/${f#$mdir/}"
		done
	done
	cp "$mdir"/modules.order "$mdir"/modules.builtin "$mdir"/modules.builtin.modinfo \
		"$r/usr/lib/modules/$kver/" 2>/dev/null || true
	depmod -b "$r" "$kver"
}

initramfs_pack() {
	(cd "$1" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$2"
}

# copy_bin ROOT BINARY [TREE]: install a binary and the libraries it needs (ldd).
# TREE is an unpacked package tree (not installed on the host): its library
# directories are searched first, and files from it keep their path inside it.
copy_bin() {
	local r=$1 bin=$2 tree=${3:-} l ldpath=
	[ -z "$tree" ] || ldpath=$tree/usr/lib/x86_64-linux-gnu:$(echo "$tree"/usr/lib/xen-*/lib/x86_64-linux-gnu | tr ' ' :)
	for l in "$bin" $(LD_LIBRARY_PATH=$ldpath ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+'); do
		[ -e "$l" ] || continue
		local dst=$l
		if [ -n "$tree" ] && [ "${l#"$tree"/}" != "$l" ]; then dst=/${l#"$tree"/}; fi
		dst=$(_usr_path "$dst")
		[ -e "$r$dst" ] || install -D -m 0755 "$(readlink -f "$l")" "$r$dst"
	done
}
# merged /usr: /lib, /bin, /sbin, /lib64 live under /usr
_usr_path() { case $1 in /lib/*|/bin/*|/sbin/*|/lib64/*) echo "/usr$1" ;; *) echo "$1" ;; esac; }

# inputs_key FILE...: a short hash of the contents of files (for image caching)
inputs_key() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
