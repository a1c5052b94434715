#!/bin/sh
# domu-helpers.sh - helpers for domU test scripts (sourced by domu-init).
#
#   xb_await KEY [SECS]   wait for dom0's "xb_tell NAME KEY VALUE"; prints VALUE
#   xb_flushes [DISK]     flush requests the disk completed (/sys/block/DISK/stat field 16)
#   xb_pattern FILE BYTES random data to write
#   xb_fio_verify P       one verified fio pass on xvda (needs --with fio)
#   xb_tap_relay FILE     a tool's TAP lines renumbered into this domU's stream
#   xb_ext4               load ext4 before a case's first mount of it
#   xb_readback SECTORS MIN SPAN LABEL
#                         xvda read back in random O_DIRECT pieces, compared
#                         with /tmp/mirror
#   xb_pc_control REGION  the power-cut cases' control writes (xb-powercut): one
#                         batch of four records acknowledged, then one record
#                         of REGION at sector 128 with no flush
#   xb_domu_finish        close this domU's TAP stream (kernel log check, plan) and
#                         print the end marker; for scripts that dom0 destroys
#                         before they return (after tap_end).  domu-init calls it
#                         after the script.
# waits on a xenstore watch, not by polling: a poll is a process (under TCG
# ~50 ms of the domU's CPU each time) and a xenstore request dom0 answers.  A
# watch fires once when it is set and then at each change; a key written
# between the read and the watch is caught within the watch's 10 s bound.
xb_await() {
	_d=$(( $(cut -d. -f1 /proc/uptime) + ${2:-120} ))
	while ! xenstore-read "data/xenblk-$1" 2>/dev/null; do
		_t=$(cut -d. -f1 /proc/uptime)
		[ "$_t" -lt $_d ] || { echo "xb_await: no $1 by $_t s (deadline $_d)" >&2; return 1; }
		timeout 10 xenstore-watch -n 2 "data/xenblk-$1" > /dev/null 2>&1
	done
	return 0   # (not the status of a watch the timeout ended)
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

# xb_readback SECTORS MIN SPAN LABEL: the first SECTORS of /dev/xvda read back in
# O_DIRECT pieces of MIN .. MIN+SPAN-1 sectors (random sizes, sector offsets),
# compared with /tmp/mirror (one TAP line)
xb_readback() {
	: > /tmp/rb
	_off=0
	while [ $_off -lt "$1" ]; do
		_n=$(( (RANDOM % $3) + $2 ))
		[ $((_off + _n)) -le "$1" ] || _n=$(($1 - _off))
		dd if=/dev/xvda bs=512 skip=$_off count=$_n iflag=direct 2>/dev/null >> /tmp/rb
		_off=$((_off + _n))
	done
	tap_is "$4: the region reads back as written (odd-sized O_DIRECT reads)" \
		"$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/mirror)"
	rm -f /tmp/rb
}

# xb_tap_relay FILE: the TAP lines a tool wrote to FILE, renumbered into this
# domU's stream (ok, not ok, SKIP, diagnostics)
xb_tap_relay() {
	while IFS= read -r _l; do
		case $_l in
		"ok "*" # SKIP "*) _n=${_l#ok * - }; tap_skip "${_n%% # SKIP *}" "${_n#* # SKIP }" ;;
		"ok "*) tap_pass "${_l#ok * - }" ;;
		"not ok "*) tap_fail "${_l#not ok * - }" ;;
		"# "*) tap_diag "${_l#\# }" ;;
		esac
	done < "$1"
}
# xb_fio_verify P: verified fio pass number P on xvda (random writes of 4-64
# KiB, then every block read back and checked; 16 MiB at one of three
# offsets); its output in /tmp/fio.log
xb_fio_verify() {
	fio --name=v --filename=/dev/xvda --rw=randwrite --bsrange=4k-64k --iodepth=8 \
		--ioengine=libaio --direct=1 --size=16m --offset=$(( ($1 % 3) * 16 ))m \
		--verify=crc32c --verify_fatal=1 --do_verify=1 > /tmp/fio.log 2>&1
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

# (the writer waits to be killed once it wrote its batch: the domU's end does)
xb_pc_control() {
	xb-powercut write /dev/xvda 0 1 0 4 > /tmp/w 2>&1 &
	i=0; while ! grep -q '^XB-FULL' /tmp/w && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	tap_ok "control: one batch written and acknowledged" grep -q '^XB-ACK 0 4 ok' /tmp/w
	tap_ok "control: one record written without a flush" xb-powercut once /dev/xvda "$1" 1 128
}
