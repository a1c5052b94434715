# Durability through WRITE_BARRIER only: our backend with flush_policy=barrier
# offers feature-barrier and no feature-flush-cache, so the stock frontend makes
# every flush an empty barrier.  On null_blk with a volatile cache, data that
# completed before a barrier survives a power cycle; data written after the
# last barrier is lost (the negative control: the backend adds no flush).
# The first domU only lets dom0 set the module parameter; the parameter applies
# at the next connect, so dom0 destroys it and starts a second domU, "dur".
# vm-options: --disk nullb,size=64,cache=32 --vcpus 2
# vm-backends: ours

domu_main() {
	if [ "$XB_NAME" != dur ]; then
		echo "FIRST-UP"
		xb_domu_finish
		xb_await never 600   # dom0 destroys this domain
		return
	fi
	tap_is "write cache advertised" "$(cat /sys/block/xvda/queue/write_cache)" "write back"
	tap_is "FUA advertised (barrier mode)" "$(cat /sys/block/xvda/queue/fua)" 1
	xb_pattern /tmp/a 1048576; xb_pattern /tmp/b 1048576; xb_pattern /tmp/c 1048576
	# B completes without a flush, then A with one barrier: both were complete
	# before the barrier; C comes after the last barrier
	dd if=/tmp/b of=/dev/xvda bs=1M seek=2 oflag=direct 2>/dev/null
	dd if=/tmp/a of=/dev/xvda bs=1M seek=0 oflag=direct conv=fsync 2>/dev/null
	dd if=/tmp/c of=/dev/xvda bs=1M seek=4 oflag=direct 2>/dev/null
	tap_is "one fsync gave one flush in the domU" "$(xb_flushes)" 1
	for r in a b c; do echo "REGION $r $(sha256sum < /tmp/$r | cut -d' ' -f1)"; done
	xb_domu_finish
	echo "DURABILITY-READY flushes=$(xb_flushes)"
	xb_await never 600
}

dom0_main() {
	tap_ok "first domU is up" xb_wait_line domu 'FIRST-UP' 240 || return
	xb_domu_destroy domu
	tap_ok "backend released the disk" xb_wait_released domu 60
	echo barrier > /sys/module/xenblk_back/parameters/flush_policy
	tap_is "flush_policy parameter set" "$(cat /sys/module/xenblk_back/parameters/flush_policy)" barrier
	tap_ok "second domU created" xb_domu_start dur || return
	tap_ok "domU wrote its regions" xb_wait_line dur 'DURABILITY-READY' 240 || return
	be=$(xb_backend_dir dur)
	tap_is "backend offers barrier" "$(xenstore-read $be/feature-barrier)" 1
	tap_is "backend offers no flush-cache" "$(xenstore-read $be/feature-flush-cache)" 0
	fe_flushes=$(xb_console_value dur "DURABILITY-READY flushes=")
	tap_is "backend f_req (barriers) equals the domU's flush count" "$(xb_backend_stat dur f_req)" "$fe_flushes"
	tap_is "device flush count equals the domU's flush count" "$(xb_disk_flushes)" "$fe_flushes"
	tap_diag "backend wr_req $(xb_backend_stat dur wr_req) wr_sect $(xb_backend_stat dur wr_sect)"

	xb_domu_destroy dur
	tap_ok "backend released the disk" xb_wait_released dur 60
	tap_ok "null_blk power cycle" xb_nullb_power_cycle

	for r in a:0 b:4096 c:8192; do   # 1 MiB regions at 0, 2 and 4 MiB
		name=${r%%:*}
		set -- $(xb_region_read "${r#*:}" /tmp/r)
		tap_diag "region $name: $1 4 KiB blocks kept, $2 lost"
		if [ "$name" = c ]; then
			tap_is "region $name written after the last barrier is lost (blocks lost)" "$2" 256
		else
			want=$(xb_console_value dur "REGION $name")
			tap_is "region $name completed before the barrier survives intact" "$(sha256sum < /tmp/r | cut -d' ' -f1)" "$want"
		fi
	done
	# every domU is gone: the module unloads and leaves nothing behind
	tap_ok "module unloads once no device is left" rmmod xenblk_back
}
