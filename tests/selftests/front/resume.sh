# Save and restore with I/O under way (xl save + xl restore on the same host):
# the frontend rebuilds its rings for the restored backend, and anything that
# was still on them is re-issued.  8 MiB of buffered writes are being written
# back (the domU's queue takes 4 requests of at most 64 KiB per ring) when dom0
# saves the domain; after the restore every byte reads back as written (after a
# cache drop), an fsync and an O_DIRECT round trip work, and no response was
# bad.  How many requests were re-issued is reported, not asserted: in our runs
# Linux's suspend let the rings drain first (0 re-issued), even with a disk
# that answers 3 s late.
# vm-options: --disk nullb,size=64,cache=0 --vcpus 2 --timeout 900
# vm-seconds: 33
# vm-kernels: 6.1
# vm-cells: ours:stock

await_quiet() { xb_await "$@" > /dev/null; }

domu_main() {
	for q in /sys/block/xvda/queue; do
		echo 4 > $q/nr_requests; echo 64 > $q/max_sectors_kb
	done
	echo 65536 > /proc/sys/vm/dirty_background_bytes   # write back at once
	xb_pattern /tmp/mirror 8388608
	dd if=/tmp/mirror of=/dev/xvda bs=1M seek=16 2>/dev/null   # buffered: written back later
	echo "RESUME-WRITING"
	tap_ok "dom0 saved and restored this domain" await_quiet restored 900
	tap_ok "sync after the restore" sync
	echo 3 > /proc/sys/vm/drop_caches
	echo 64 > /sys/block/xvda/queue/nr_requests; echo 1024 > /sys/block/xvda/queue/max_sectors_kb
	dd if=/dev/xvda of=/tmp/rb bs=1M count=8 skip=16 iflag=direct 2>/dev/null
	tap_is "the 8 MiB written back across the save read back as written" \
		"$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/mirror)"
	rm -f /tmp/rb /tmp/mirror
	xb_pattern /tmp/p 65536
	dd if=/tmp/p of=/dev/xvda bs=64k seek=1 oflag=direct conv=fsync 2>/dev/null
	dd if=/dev/xvda of=/tmp/rb bs=64k count=1 skip=1 iflag=direct 2>/dev/null
	tap_is "an O_DIRECT write + fsync after the restore reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/p)"
	line=$(dmesg | grep 'xenblk_front.*resumed' | tail -n 1)
	tap_diag "$line"
	tap_ok "the frontend logged its resume" test -n "$line"
	tap_ok "no bad response" grep -q '^bad_responses 0$' /sys/block/xvda/xenblk_stats
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_end
}

dom0_main() {
	tap_ok "domU is writing" xb_wait_line domu 'RESUME-WRITING' 240 || return
	sleep 2
	xb_save_restore domu || return
	xb_tell domu restored 1
	tap_end
}
