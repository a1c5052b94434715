# The stock frontend against our backend: large (indirect) and concurrent
# O_DIRECT I/O on both queues verified byte for byte, an exact-range discard,
# mkfs.ext4 + fsck, and dom0 checks of the keys, sysfs files and counters.
# vm-options: --disk loop,size=64 --vcpus 2 --hotplug stock
# vm-skip: discard, when the domU has no blkdiscard or xvda offers no discard
# vm-kernels: 6.1
# vm-backends: ours
# vm-fronts: stock

domu_main() {
	# 8 MiB in 1 MiB requests (more than 11 segments: indirect), read back
	xb_pattern /tmp/big 8388608
	dd if=/tmp/big of=/dev/xvda bs=1M seek=16 oflag=direct 2>/dev/null
	dd if=/dev/xvda of=/tmp/rb bs=1M count=8 skip=16 iflag=direct 2>/dev/null
	tap_is "8 MiB in 1 MiB requests reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/big)"

	# four writers at once (both queues), each region verified
	for i in 0 1 2 3; do xb_pattern /tmp/p$i 2097152; done
	for i in 0 1 2 3; do dd if=/tmp/p$i of=/dev/xvda bs=64k seek=$((512 + i * 32)) oflag=direct 2>/dev/null & done
	wait
	for i in 0 1 2 3; do
		dd if=/dev/xvda of=/tmp/r$i bs=64k count=32 skip=$((512 + i * 32)) iflag=direct 2>/dev/null
		tap_is "concurrent writer $i reads back" "$(sha256sum < /tmp/r$i)" "$(sha256sum < /tmp/p$i)"
	done

	# discard exactly the middle MiB of a 3 MiB pattern: the neighbours stay
	if command -v blkdiscard > /dev/null && [ "$(cat /sys/block/xvda/queue/discard_max_bytes)" != 0 ]; then
		xb_pattern /tmp/d 3145728
		dd if=/tmp/d of=/dev/xvda bs=1M seek=40 oflag=direct 2>/dev/null
		tap_ok "blkdiscard of 1 MiB" blkdiscard -o $((41 * 1048576)) -l 1048576 /dev/xvda
		dd if=/dev/xvda of=/tmp/rd bs=1M count=3 skip=40 iflag=direct 2>/dev/null
		tap_is "the MiB before the discard is intact" \
			"$(dd if=/tmp/rd bs=1M count=1 2>/dev/null | sha256sum)" "$(dd if=/tmp/d bs=1M count=1 2>/dev/null | sha256sum)"
		tap_is "the MiB after the discard is intact" \
			"$(dd if=/tmp/rd bs=1M skip=2 count=1 2>/dev/null | sha256sum)" "$(dd if=/tmp/d bs=1M skip=2 count=1 2>/dev/null | sha256sum)"
		tap_is "the discarded MiB reads as zeros (loop on tmpfs punches a hole)" \
			"$(dd if=/tmp/rd bs=1M skip=1 count=1 2>/dev/null | sha256sum)" "$(dd if=/dev/zero bs=1M count=1 2>/dev/null | sha256sum)"
	else
		tap_skip "discard" "no blkdiscard or no discard on xvda"
	fi

	tap_ok "mkfs.ext4" mkfs.ext4 -q -F /dev/xvda
	tap_ok "fsck of the new file system is clean" e2fsck -fn /dev/xvda
	echo "INTEROP-DONE"
	tap_ok "dom0 has checked the backend" xb_await checked
	tap_end
}

dom0_main() {
	tap_ok "domU finished its I/O" xb_wait_line domu 'INTEROP-DONE' 300 || return
	be=$(xb_backend_dir domu)
	sysdir=/sys/bus/xen-backend/devices/vbd-$(xb_domid domu)-$XB_DEVID
	tap_is "backend is connected" "$(xenstore-read $be/state)" 4
	tap_is "sectors" "$(xenstore-read $be/sectors)" 131072
	tap_is "sector-size" "$(xenstore-read $be/sector-size)" 512
	tap_is "info (writable disk)" "$(xenstore-read $be/info)" 0
	tap_is "feature-max-indirect-segments" "$(xenstore-read $be/feature-max-indirect-segments)" 256
	tap_is "feature-persistent offered" "$(xenstore-read $be/feature-persistent)" 1
	tap_ok "persistent grants in use (the stock frontend takes them): kept mappings reused" \
		test "$(cat $sysdir/statistics/pgnt_hits)" -gt 0
	tap_is "sysfs physical_device matches the hotplug script's" \
		"$(cat $sysdir/physical_device)" "$(xenstore-read $be/physical-device)"
	tap_is "sysfs mode" "$(cat $sysdir/mode)" w
	for f in oo_req rd_req wr_req f_req ds_req rd_sect wr_sect; do
		tap_ok "statistics/$f exists" test -r $sysdir/statistics/$f
	done
	tap_ok "reads counted" test "$(xb_backend_stat domu rd_req)" -gt 0
	tap_ok "writes counted" test "$(xb_backend_stat domu wr_req)" -gt 0
	tap_ok "at least 16 MiB written (wr_sect)" test "$(xb_backend_stat domu wr_sect)" -ge 32768
	tap_ok "discards counted" test "$(xb_backend_stat domu ds_req)" -ge 1
	tap_is "no request refused" "$(xb_backend_stat domu bad_req)" 0
	tap_is "no request failed" "$(xb_backend_stat domu err_req)" 0
	xb_tell domu checked 1
	tap_end
}
