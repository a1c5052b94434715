# Discard through xenblk-front (loop on tmpfs: feature-discard, granularity 4096):
# the queue advertises the backend's granularity, an aligned discard reaches the
# backend and the range reads back as zeros (tmpfs punches the hole), and a
# discard smaller than one extent is narrowed to nothing: neighbouring data stays.
# vm-options: --disk loop,size=64 --vcpus 2
# vm-fronts: ours
# vm-backends: stock ours

domu_main() {
	tap_is "discard granularity from the backend" "$(cat /sys/block/xvda/queue/discard_granularity)" 4096
	tap_ok "discard is advertised" test "$(cat /sys/block/xvda/queue/discard_max_bytes)" -gt 0
	xb_pattern /tmp/p 1048576
	dd if=/tmp/p of=/dev/xvda bs=1M seek=4 oflag=direct 2>/dev/null
	tap_ok "blkdiscard of 1 MiB at 4 MiB" blkdiscard -o 4194304 -l 1048576 /dev/xvda
	dd if=/dev/xvda of=/tmp/rb bs=1M count=1 skip=4 iflag=direct 2>/dev/null
	tap_is "the discarded range reads back as zeros" "$(tr -d '\0' < /tmp/rb | wc -c)" 0
	tap_is "one discard request completed" \
		"$(awk '$1 == "discard" { print $3 }' /sys/block/xvda/xenblk_stats)" 1

	# 4 KiB starting at byte 512: no whole 4 KiB extent inside, nothing may go
	xb_pattern /tmp/q 8192
	dd if=/tmp/q of=/dev/xvda bs=8192 count=1 oflag=direct 2>/dev/null
	tap_ok "blkdiscard of an unaligned 4 KiB succeeds" blkdiscard -o 512 -l 4096 /dev/xvda
	dd if=/dev/xvda of=/tmp/rb bs=8192 count=1 iflag=direct 2>/dev/null
	tap_is "a discard narrower than an extent leaves the data alone" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/q)"
	tap_is "no discard request for it" \
		"$(awk '$1 == "discard" { print $3 }' /sys/block/xvda/xenblk_stats)" 1
	echo "DISCARD-DONE"
	tap_ok "dom0 checked the backend" xb_await checked
	tap_end
}

dom0_main() {
	tap_ok "domU finished discarding" xb_wait_line domu 'DISCARD-DONE' 300
	be=$(xb_backend_dir domu)
	tap_is "backend offers discard" "$(xenstore-read $be/feature-discard)" 1
	tap_is "backend ds_req: 1" "$(xb_backend_stat domu ds_req)" 1
	xb_tell domu checked 1
	tap_end
}
