# A frontend told of no write cache never flushes, so the backend must make
# every write durable itself while the device has a volatile cache anyway:
# our backend with flush_policy=none on null_blk with a 32 MiB cache offers
# neither flush-cache nor barrier, the domU sees "write through" and writes a
# region with plain O_DIRECT (no fsync, no flush on the wire); after xl
# destroy and a power cycle that drops the cache, the region is intact (the
# backend wrote it with FUA).  The backend is loaded with flush_policy=none
# (--back-param): the domU connects with it from the start.
# vm-options: --disk nullb,size=64,cache=32 --vcpus 2 --back-param flush_policy=none
# vm-cells: stock:ours
# vm-kernels: 6.1

domu_main() {
	tap_is "no write cache advertised" "$(cat /sys/block/xvda/queue/write_cache)" "write through"
	xb_pattern /tmp/a 1048576
	tap_ok "1 MiB written with plain O_DIRECT" dd if=/tmp/a of=/dev/xvda bs=64k seek=16 oflag=direct
	tap_is "no flush sent by the domU" "$(xb_flushes)" 0
	echo "REGION a $(sha256sum < /tmp/a | cut -d' ' -f1)"
	tap_end
	xb_domu_finish
	echo "NOCACHE-READY"
	xb_await never 600
	tap_end
}

dom0_main() {
	p=/sys/module/xenblk_back/parameters/flush_policy
	tap_is "flush_policy none (set at load)" "$(cat $p)" none
	tap_ok "domU wrote its region" xb_wait_line domu 'NOCACHE-READY' 240 || return
	be=$(xb_backend_dir domu)
	tap_is "backend offers no flush-cache" "$(xenstore-read $be/feature-flush-cache)" 0
	tap_is "backend offers no barrier" "$(xenstore-read $be/feature-barrier)" 0
	tap_is "the device has a volatile cache" "$(cat /sys/block/nullb0/queue/write_cache)" "write back"
	tap_diag "backend wr_req $(xb_backend_stat domu wr_req) f_req $(xb_backend_stat domu f_req), device flushes $(xb_disk_flushes)"
	xb_domu_destroy domu
	tap_ok "backend released the disk" xb_wait_released domu 60
	# the control: a region dom0 writes without a flush is on the device
	# before the cut and gone after it (the cache really is dropped)
	dd if=/dev/urandom of=/tmp/b bs=1048576 count=1 iflag=fullblock 2>/dev/null
	dd if=/tmp/b of="$(xb_disk)" bs=64k seek=64 oflag=direct 2>/dev/null
	xb_disk_read 8192 2048 /tmp/rb
	tap_is "control: dom0's unflushed region is on the device before the cut" \
		"$(sha256sum < /tmp/rb | cut -d' ' -f1)" "$(sha256sum < /tmp/b | cut -d' ' -f1)"
	tap_ok "null_blk power cycle (the cache is dropped)" xb_nullb_power_cycle
	set -- $(xb_region_read 8192 /tmp/rb)
	tap_is "control: dom0's unflushed region is gone after it (blocks lost)" "$2" 256
	want=$(xb_console_value domu "REGION a")
	tap_ok "the domU reported its region's checksum" test -n "$want"
	xb_disk_read 2048 2048 /tmp/r   # 64 KiB x 16 = sector 2048
	tap_is "the region written with no flush survives the power cut" "$(sha256sum < /tmp/r | cut -d' ' -f1)" "$want"
	echo auto > $p
	tap_end
}
