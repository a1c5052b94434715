# make demo: a short visible workload in the domU and what was negotiated,
# shown from both sides.
# vm-options: --disk nullb,size=128,cache=32 --vcpus 2

domu_main() {
	echo "DEMO: domU sees xvda: $(cat /sys/block/xvda/size) sectors," \
		"write_cache=$(cat /sys/block/xvda/queue/write_cache)," \
		"fua=$(cat /sys/block/xvda/queue/fua 2>/dev/null)," \
		"queues=$(ls /sys/block/xvda/mq | wc -l)," \
		"max_sectors_kb=$(cat /sys/block/xvda/queue/max_sectors_kb)"
	dmesg | grep -i -E 'blkfront|xenblk' | sed 's/^/DEMO: dmesg: /'
	tap_ok "mkfs.ext4 /dev/xvda" mkfs.ext4 -q -F /dev/xvda
	mkdir -p /mnt/demo && mount -t ext4 /dev/xvda /mnt/demo
	for n in 1 2 3 4; do
		dd if=/dev/urandom of=/mnt/demo/file$n bs=1M count=$n conv=fsync 2>/dev/null
	done
	(cd /mnt/demo && sha256sum file* > /tmp/sums && sed 's/^/DEMO: wrote /' /tmp/sums)
	umount /mnt/demo; echo 3 > /proc/sys/vm/drop_caches; mount -t ext4 /dev/xvda /mnt/demo
	tap_ok "checksums verify after remount" sh -c 'cd /mnt/demo && sha256sum -c -s /tmp/sums'
	umount /mnt/demo
	tap_ok "fsck is clean" e2fsck -fn /dev/xvda
	echo "DEMO: domU block stats: $(cat /sys/block/xvda/stat | tr -s ' ')" \
		"(flushes: $(xb_flushes))"
	echo "DEMO-DONE"
	xb_await shown 120 > /dev/null
	tap_end
}

dom0_main() {
	xb_wait_line domu 'DEMO-DONE' 300
	be=$(xb_backend_dir domu) fe=$(xb_frontend_dir domu)
	echo "DEMO: backend ($BACK) offered:"
	for k in sectors sector-size physical-sector-size info feature-flush-cache feature-barrier \
		feature-discard discard-granularity feature-persistent feature-max-indirect-segments \
		multi-queue-max-queues max-ring-page-order; do
		echo "DEMO:   $k = $(xenstore-read $be/$k 2>/dev/null || echo '(absent)')"
	done
	echo "DEMO: frontend ($FRONT) chose:"
	for k in protocol multi-queue-num-queues ring-page-order feature-persistent; do
		echo "DEMO:   $k = $(xenstore-read $fe/$k 2>/dev/null || echo '(absent)')"
	done
	printf 'DEMO: backend statistics:'
	for f in rd_req wr_req f_req ds_req oo_req rd_sect wr_sect; do printf ' %s=%s' $f "$(xb_backend_stat domu $f)"; done
	echo
	echo "DEMO: device flushes completed: $(xb_disk_flushes)"
	tap_is "backend f_req equals device flushes" "$(xb_backend_stat domu f_req)" "$(xb_disk_flushes)"
	xb_tell domu shown 1
	tap_end
}
