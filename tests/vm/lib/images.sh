#!/bin/bash
# images.sh - Xen packages, cached dom0/domU base images and TAP reporting for
# tests/vm/run (sourced; needs tests/lib/initramfs.sh).
#
# Base images are gzip'd cpio archives cached under build/vm/base/, keyed by a
# hash of everything that goes into them; a run appends its small overlay archive
# (the kernel unpacks concatenated archives in order).  A superseded image is
# never deleted under a run that may be reading it, and builders write under
# private names, so concurrent runs are safe; make clean removes them all.
XENVER=4.17
XEN_TREE=$XENBLK_CACHE/xen-$XENVER
XEN_DEBS="xen-hypervisor-$XENVER-amd64 xen-utils-$XENVER xen-utils-common xenstore-utils
  libxenmisc$XENVER libxenstore4 libxentoollog1 libxencall1 libxenevtchn1 libxenforeignmemory1
  libxengnttab1 libxendevicemodel1 libxentoolcore1 libxenhypfs1 libyajl2"
VM_BASE_DIR=${TOP:?}/build/vm/base
# (xen-blkfront: dom0's own disk from xb-hostile-back --erase-delay, the one
# disk with secure erase, tests/selftests/back/secure-erase.sh)
DOM0_MODULES="xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc xen-blkback xen-blkfront null_blk brd loop nbd configfs"
DOMU_MODULES="xen-blkfront ext4 crc32c_generic xen-evtchn xen-gntalloc"
DOMU_TOOLS="/usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/sfdisk"

# 6.1 / 6.12 / a full release -> the release fetched by scripts/setup.sh
resolve_kver() {
	local k=$1 v
	if [ -f "$XENBLK_CACHE/kernels.mk" ]; then
		case $k in
		6.1) v=$(sed -n 's/^KVER_6_1=//p' "$XENBLK_CACHE/kernels.mk") ;;
		6.12) v=$(sed -n 's/^KVER_6_12=//p' "$XENBLK_CACHE/kernels.mk") ;;
		*) v=$k ;;
		esac
	else
		v=$k
	fi
	[ -n "$v" ] && [ -e "$(kernel_tree "$v")/boot/vmlinuz-$v" ] && echo "$v"
}

# Xen hypervisor and toolstack: downloaded and unpacked, not installed
ensure_xen() {
	[ -e "$XEN_TREE/.done" ] && return 0
	local debs=$XEN_TREE.debs d
	rm -rf "$XEN_TREE" "$debs"; mkdir -p "$XEN_TREE" "$debs"
	(cd "$debs" && apt-get download -qq $XEN_DEBS 2>/dev/null) ||
		{ apt-get update -qq && (cd "$debs" && apt-get download -qq $XEN_DEBS); }
	for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$XEN_TREE"; done
	rm -rf "$debs"
	gunzip -c "$XEN_TREE/boot/xen-$XENVER-amd64.gz" > "$XEN_TREE/xen.elf"
	touch "$XEN_TREE/.done"
}
xen_image() { echo "$XEN_TREE/xen.elf"; }

_versions() { dpkg-query -W -f '${Package}=${Version}\n' "$@" 2>/dev/null; }

# dom0: busybox, the Xen toolstack, bash + flock + stat for the hotplug scripts,
# Xen and block-device modules
dom0_base_image() {
	local kver=$1 key out r b
	key=$( { echo "$kver"; cat "${BASH_SOURCE[0]}" "$TOP/tests/lib/initramfs.sh"; ls "$XEN_TREE";
		_versions busybox-static bash util-linux coreutils; } | sha256sum | cut -c1-16)
	out=$VM_BASE_DIR/dom0-$kver-$key.gz
	[ -e "$out" ] && { echo "$out"; return 0; }
	r=$VM_BASE_DIR/dom0-$kver.root.$$
	initramfs_skel "$r"
	(cd "$XEN_TREE" && tar cf - --exclude=./usr/share --exclude=./boot --exclude=./xen.elf \
		--exclude='./usr/lib/xen-*/lib/python*' --exclude='./usr/lib/xen-*/boot' --exclude=./.done .) |
		(cd "$r" && tar xf - --keep-directory-symlink)
	for b in "$XEN_TREE"/usr/lib/xen-$XENVER/bin/* "$XEN_TREE"/usr/bin/xenstore* "$XEN_TREE"/usr/sbin/*; do
		[ -f "$b" ] && file -b "$b" | grep -q ELF && copy_bin "$r" "$b" "$XEN_TREE"
	done
	for b in /bin/bash /usr/bin/flock /usr/bin/stat; do copy_bin "$r" "$b"; done
	install -D -m 0644 "$(readlink -f /lib/x86_64-linux-gnu/libgcc_s.so.1)" "$r/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"
	initramfs_modules "$r" "$(kernel_tree "$kver")" "$kver" $DOM0_MODULES
	mkdir -p "$VM_BASE_DIR"
	initramfs_pack "$r" "$out.$$" && mv "$out.$$" "$out"
	rm -rf "$r"
	echo "$out"
}

# domU: busybox, the stock frontend module, mkfs/fsck/sfdisk
domu_base_image() {
	local kver=$1 key out r b
	key=$( { echo "$kver"; cat "${BASH_SOURCE[0]}" "$TOP/tests/lib/initramfs.sh"; ls "$XEN_TREE";
		_versions busybox-static e2fsprogs fdisk; } | sha256sum | cut -c1-16)
	out=$VM_BASE_DIR/domu-$kver-$key.gz
	[ -e "$out" ] && { echo "$out"; return 0; }
	r=$VM_BASE_DIR/domu-$kver.root.$$
	initramfs_skel "$r"
	for b in $DOMU_TOOLS; do copy_bin "$r" "$b"; done
	for b in xenstore-read xenstore-write xenstore-watch; do copy_bin "$r" "$XEN_TREE/usr/bin/$b" "$XEN_TREE"; done
	ln -sf mke2fs "$r/usr/sbin/mkfs.ext4"; ln -sf e2fsck "$r/usr/sbin/fsck.ext4"
	initramfs_modules "$r" "$(kernel_tree "$kver")" "$kver" $DOMU_MODULES
	mkdir -p "$VM_BASE_DIR"
	initramfs_pack "$r" "$out.$$" && mv "$out.$$" "$out"
	rm -rf "$r"
	echo "$out"
}

# QEMU's Xen device model, for --back qdisk (appended to the dom0 image): the
# binary libxl starts for backendtype=qdisk, its libraries and the keymap it
# loads even without a display.  The host package qemu-system-xen (make setup).
QEMU_XEN=/usr/libexec/xen-qemu-system-i386
qdisk_image() {
	local key out r
	[ -x "$QEMU_XEN" ] || { echo "qdisk: $QEMU_XEN missing: run make setup" >&2; return 1; }
	key=$( { cat "${BASH_SOURCE[0]}"; _versions qemu-system-xen; } | sha256sum | cut -c1-16)
	out=$VM_BASE_DIR/qdisk-$key.gz
	[ -e "$out" ] && { echo "$out"; return 0; }
	r=$VM_BASE_DIR/qdisk.root.$$
	rm -rf "$r"; mkdir -p "$r"
	copy_bin "$r" "$QEMU_XEN"
	install -D -m 0644 /usr/share/qemu/keymaps/en-us "$r/usr/share/qemu/keymaps/en-us"
	mkdir -p "$VM_BASE_DIR"
	initramfs_pack "$r" "$out.$$" && mv "$out.$$" "$out"
	rm -rf "$r"
	echo "$out"
}

# fio with the libraries it links (Debian's build links every engine: ~90 MB
# unpacked), appended to both images only for runs that ask for it (--with fio)
fio_image() {
	local key out r
	key=$( { cat "${BASH_SOURCE[0]}"; _versions fio; } | sha256sum | cut -c1-16)
	out=$VM_BASE_DIR/fio-$key.gz
	[ -e "$out" ] && { echo "$out"; return 0; }
	r=$VM_BASE_DIR/fio.root.$$
	rm -rf "$r"; mkdir -p "$r"
	copy_bin "$r" /usr/bin/fio
	mkdir -p "$VM_BASE_DIR"
	initramfs_pack "$r" "$out.$$" && mv "$out.$$" "$out"
	rm -rf "$r"
	echo "$out"
}

# guest_kernel KVER OUT: the domU's kernel as a plain ELF, cached per kernel.
# libxenguest decompresses a kernel at every `xl create`: the XZ (6.1) or zstd
# (6.12) payload of Debian's bzImage with its own code took half of `xl create`
# under TCG (10 s -> 5 s on 6.1), a gzip'd ELF still some seconds; the plain ELF
# is only copied (dom0's initramfs, compressed as a whole, is unpacked once per
# boot instead).  The bzImage itself if no ELF comes out.
guest_kernel() {
	local kver=$1 src key out tmp off
	src=$(kernel_tree "$kver")/boot/vmlinuz-$kver
	key=$(sha256sum < "$src" | cut -c1-16)
	out=$VM_BASE_DIR/guest-$kver-$key.elf
	if [ ! -e "$out" ]; then
		mkdir -p "$VM_BASE_DIR"
		tmp=$out.elf.$$
		off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$src" | head -n 1 | cut -d: -f1) || true
		if [ -n "$off" ]; then
			{ tail -c +$((off + 1)) "$src" | xz -dc --single-stream > "$tmp"; } 2>/dev/null || true
		else
			off=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$src" | head -n 1 | cut -d: -f1) || true
			# zstd complains about the bzImage's bytes after the frame
			[ -z "$off" ] || { tail -c +$((off + 1)) "$src" | zstd -dcq > "$tmp"; } 2>/dev/null || true
		fi
		if [ "$(head -c 4 "$tmp" 2>/dev/null | od -An -c | tr -d ' ')" = 177ELF ]; then
			mv "$tmp" "$out"
		fi
		rm -f "$tmp"
	fi
	if [ -e "$out" ]; then cp "$out" "$2"; else cp "$src" "$2"; fi
}

# report_tap CASE_LOG QEMU_STATUS: one TAP stream from the streams in a case's
# part of the console (tests/vm/run's case_slice): "TAPH: " (the harness in dom0), "TAP0: " (the dom0 script) and
# "NAME| TAPU: " (the script of domU NAME).  Every stream must end with its plan
# and have as many results as it planned.
report_tap() {
	local log=$1 qrc=$2
	awk -v qrc="$qrc" '
	# A marker may follow other output on the same line (a tool that printed
	# no newline): search for it, and take a domU name from the line start.
	function stream_of(line,   p) {
		if ((p = index(line, "TAPH: ")) && line !~ /^[A-Za-z0-9_.-]+\| /) { cur = "vm"; return substr(line, p + 6) }
		if ((p = index(line, "TAP0: ")) && line !~ /^[A-Za-z0-9_.-]+\| /) { cur = "dom0"; return substr(line, p + 6) }
		if (match(line, /^[A-Za-z0-9_.-]+\| /) && (p = index(line, "TAPU: "))) {
			cur = substr(line, 1, index(line, "|") - 1); return substr(line, p + 6) }
		return ""
	}
	{
		t = stream_of($0); if (t == "") { if ($0 ~ /^VMCASE-END /) ended = 1; next }
		if (!(cur in seen)) { seen[cur] = 1; order[++ns] = cur }
		if (t ~ /^1\.\./) { plan[cur] = substr(t, 4) + 0; next }
		if (t ~ /^(not )?ok /) {
			got[cur]++; n++
			bad = (t ~ /^not ok/); if (bad) failed++
			sub(/^(not )?ok [0-9]* *-? */, "", t)
			print (bad ? "not ok " : "ok ") n " - " cur ": " t
			next
		}
		if (t ~ /^#/) { print "# " cur ": " substr(t, 3); next }
		if (t ~ /^Bail out!/) { print "# " cur ": " t }
	}
	END {
		for (i = 1; i <= ns; i++) {
			s = order[i]
			if (!(s in plan)) { n++; failed++; print "not ok " n " - " s ": finished (no plan: the script died or hung)" }
			else if (plan[s] != got[s]) { n++; failed++; print "not ok " n " - " s ": ran " got[s] + 0 " of " plan[s] " planned tests" }
		}
		n++
		if (ended) print "ok " n " - vm: the case finished"
		else { failed++; print "not ok " n " - vm: the case finished (QEMU status " qrc (qrc == 124 ? ", timeout" : "") ")" }
		print "1.." n
		exit failed > 0
	}' "$log" && return 0
	echo "# ---- last console lines ($log)"
	grep -a -v -E '^(TAPH|TAP0): |\| TAPU: ' "$log" | tail -n 40 | sed 's/^/# /'
	return 1
}
