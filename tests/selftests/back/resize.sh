# The backing device grows while the domU runs (the loop file is extended and
# `losetup -c` makes the kernel see it): our backend notices at its next ring
# pass, publishes the new `sectors` and writes its state again (as the stock
# backend does), and the frontend (stock or ours) resizes xvda.  The new end of
# the disk takes O_DIRECT I/O that reads back; before, a read there found the
# end of the disk.
# vm-options: --disk loop,size=64 --vcpus 2
# vm-kernels: 6.1
# vm-backends: ours
# vm-fronts: stock ours

domu_main() {
	s0=$(cat /sys/block/xvda/size)
	tap_is "xvda starts at 64 MiB" "$s0" 131072
	tap_is "a read at 64 MiB returns nothing (end of the disk)" \
		"$(dd if=/dev/xvda bs=4k count=1 skip=16384 iflag=direct 2>/dev/null | wc -c)" 0
	echo "RESIZE-READY"
	xb_await grown 240 > /dev/null || { tap_fail "dom0 grew the device"; return; }
	# the backend looks at the size when its ring has work: a read pokes it
	i=0
	while [ "$(cat /sys/block/xvda/size)" = "$s0" ] && [ $i -lt 60 ]; do
		dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
		sleep 0.5; i=$((i + 1))
	done
	tap_is "xvda grew to 96 MiB" "$(cat /sys/block/xvda/size)" 196608
	tap_is "a read at 64 MiB now returns 4 KiB" \
		"$(dd if=/dev/xvda bs=4k count=1 skip=16384 iflag=direct 2>/dev/null | wc -c)" 4096
	xb_pattern /tmp/p 1048576
	tap_ok "an O_DIRECT write of the last MiB" dd if=/tmp/p of=/dev/xvda bs=1M seek=95 oflag=direct
	dd if=/dev/xvda of=/tmp/rb bs=1M count=1 skip=95 iflag=direct 2>/dev/null
	tap_is "the last MiB reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/p)"
	tap_ok "the kernel saw the capacity change" sh -c 'dmesg | grep -q "xvda.*\(capacity change\|new size\)"'
	tap_end
}

dom0_main() {
	tap_ok "domU is up" xb_wait_line domu 'RESIZE-READY' 240 || return
	dev=$(xb_disk)
	file=$(cat /sys/block/${dev#/dev/}/loop/backing_file)
	tap_ok "the loop file grows to 96 MiB" truncate -s 96M "$file"
	tap_ok "losetup -c: the kernel sees it" losetup -c "$dev"
	tap_is "dom0's loop device is 96 MiB" "$(cat /sys/block/${dev#/dev/}/size)" 196608
	xb_tell domu grown 1
	tap_ok "domU finished" xb_domu_wait_end domu 300
	tap_is "the backend published the new size" "$(xenstore-read $(xb_backend_dir domu)/sectors)" 196608
	tap_ok "the backend logged the resize" sh -c 'dmesg | grep -q "resized: 131072 -> 196608 sectors"'
	tap_end
}
