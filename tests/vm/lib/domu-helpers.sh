#!/bin/sh
# domu-helpers.sh - helpers for domU test scripts (sourced by domu-init).
#
#   xb_await KEY [SECS]   wait for dom0's "xb_tell NAME KEY VALUE"; prints VALUE
#   xb_flushes [DISK]     flush requests the disk completed (/sys/block/DISK/stat field 16)
#   xb_pattern FILE BYTES random data to write
#   xb_domu_finish        close this domU's TAP stream (kernel log check, plan) and
#                         print the end marker; for scripts that dom0 destroys
#                         before they return (after tap_end).  domu-init calls it
#                         after the script.
# polls twice a second: every xenstore access costs dom0 time under TCG
xb_await() {
	_i=0
	while ! xenstore-read "data/xenblk-$1" 2>/dev/null; do
		_i=$((_i + 1)); [ $_i -le $(( ${2:-120} * 2 )) ] || return 1
		sleep 0.5
	done
}
xb_flushes() { awk '{print $16}' "/sys/block/${1:-xvda}/stat"; }
# xb_ext4: loads ext4 and the crc32c its metadata checksums need (the kernel
# requests crc32c at mount), before a case's first ext4 mount.  Not at every
# domU's boot: loading ext4 costs about 0.8 s under TCG, and most cases mount
# nothing.
xb_ext4() { modprobe -a ext4 crc32c_generic; }
# xb_ext4_roundtrip DEV: mkfs.ext4 on DEV, an 8 MiB file copied in, read back
# after a remount with the page cache dropped, fsck clean (three TAP lines)
xb_ext4_roundtrip() {
	tap_ok "mkfs.ext4 on $1" mkfs.ext4 -q -F "$1"
	xb_ext4
	mkdir -p /mnt/t && mount -t ext4 "$1" /mnt/t
	xb_pattern /tmp/big 8388608
	cp /tmp/big /mnt/t/big && sync
	umount /mnt/t && echo 3 > /proc/sys/vm/drop_caches && mount -t ext4 "$1" /mnt/t
	tap_is "an 8 MiB file reads back after remount" "$(sha256sum < /mnt/t/big)" "$(sha256sum < /tmp/big)"
	umount /mnt/t
	rm -f /tmp/big
	tap_ok "fsck is clean" e2fsck -fn "$1"
}

xb_pattern() { dd if=/dev/urandom of="$1" bs="$2" count=1 iflag=fullblock 2>/dev/null; }

xb_domu_finish() {
	[ -z "${XB_FINISHED:-}" ] || return 0
	XB_FINISHED=1
	# a domu_main that calls this itself calls tap_end first
	[ -z "${XB_MAIN:-}" ] || tap_ended "the domU script"
	if dmesg > /tmp/klog 2>&1 && [ -s /tmp/klog ]; then
		# (user processes killed by a trap are not kernel problems)
		_bad=$(grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection' /tmp/klog | grep -v ' traps: ')
		tap_is "domU kernel log free of WARN/BUG/Oops" "$_bad" ""
		# processes the TCG flake killed (below the console's log level):
		# shown, so that the host can tell a flake from a failure
		grep -E ' traps: |segfault at' /tmp/klog | head -n 5 |
			while IFS= read -r _l; do tap_diag "domU kernel: $_l"; done
	else
		tap_fail "domU kernel log free of WARN/BUG/Oops" "dmesg failed"
	fi
	tap_done
	sync
	echo "XENBLK-DOMU-END"
}
