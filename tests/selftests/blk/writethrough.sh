# A device without a write cache (brd): the backend offers no flush, the domU
# sees "write through", and fsync sends no flush down.
# vm-options: --disk brd,size=64 --vcpus 2
# vm-cells: stock:stock ours:ours
# (it reads the kernel backend's sysfs statistics, which qdisk does not have)

domu_main() {
	tap_is "no write cache advertised" "$(cat /sys/block/xvda/queue/write_cache)" "write through"
	xb_pattern /tmp/a 65536
	for i in 1 2 3; do dd if=/tmp/a of=/dev/xvda bs=64k seek=$i oflag=direct conv=fsync 2>/dev/null; done
	dd if=/dev/xvda of=/tmp/rb bs=64k count=1 skip=3 iflag=direct 2>/dev/null
	tap_is "data reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/a)"
	tap_is "fsync sends no flush to a write-through disk" "$(xb_flushes)" 0
	echo "WT-DONE"
	tap_ok "dom0 has read the backend counters" xb_await checked
	tap_end
}

dom0_main() {
	tap_ok "domU finished writing" xb_wait_line domu 'WT-DONE' 240
	be=$(xb_backend_dir domu)
	tap_is "backend offers no flush-cache" "$(xenstore-read $be/feature-flush-cache)" 0
	tap_is "backend offers no barrier" "$(xenstore-read $be/feature-barrier 2>/dev/null || echo 0)" 0
	tap_is "backend received no flush" "$(xb_backend_stat domu f_req)" 0
	tap_ok "backend received the writes" test "$(xb_backend_stat domu wr_req)" -ge 3
	xb_tell domu checked 1
	tap_end
}
