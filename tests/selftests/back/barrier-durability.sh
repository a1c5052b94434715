# Durability through WRITE_BARRIER only: our backend with flush_policy=barrier
# offers feature-barrier and no feature-flush-cache, so the frontend makes every
# flush an empty barrier and every FUA write (O_DSYNC + O_DIRECT) a data barrier.
# On null_blk with a volatile cache, after a power cycle:
#   B (plain write) and A (plain write + fsync: an empty barrier) survive;
#   C (plain write after the fsync) survives because D's data barriers first
#     drain and flush what completed before them;
#   D (O_DSYNC writes: each a FUA write, sent as a data barrier, then a flush:
#     an empty barrier) survives; that alone does not isolate the FUA, which
#     back/fua.sh proves with a frontend that sends a data barrier and nothing after;
#   E (plain write after the last barrier) is lost: the negative control, the
#     backend adds no flush of its own.
# The backend is loaded with flush_policy=barrier (--back-param), so the domU
# connects in barrier-only mode from the start.
# vm-options: --disk nullb,size=64,cache=32 --vcpus 2 --back-param flush_policy=barrier
# vm-seconds: 58
# vm-backends: ours

domu_main() {
	tap_is "write cache advertised" "$(cat /sys/block/xvda/queue/write_cache)" "write back"
	tap_is "FUA advertised (barrier mode)" "$(cat /sys/block/xvda/queue/fua)" 1
	for r in a b c d e; do xb_pattern /tmp/$r 1048576; done
	dd if=/tmp/b of=/dev/xvda bs=1M seek=2 oflag=direct 2>/dev/null
	dd if=/tmp/a of=/dev/xvda bs=1M seek=0 oflag=direct conv=fsync 2>/dev/null
	tap_is "one fsync gave one flush in the domU" "$(xb_flushes)" 1
	dd if=/tmp/c of=/dev/xvda bs=1M seek=4 oflag=direct 2>/dev/null
	# 32 KiB requests: 8 segments, so even the stock frontend can send each FUA
	# write as one direct data barrier (it cannot send a barrier indirect)
	tap_ok "O_DSYNC writes of D" xb-dwrite --dsync --bs 32768 /tmp/d /dev/xvda $((6 * 1048576))
	dd if=/tmp/e of=/dev/xvda bs=1M seek=8 oflag=direct 2>/dev/null
	# each O_DSYNC write is a FUA write (a data barrier) and then a flush
	tap_is "D's 32 O_DSYNC writes added 32 flushes in the domU" "$(xb_flushes)" 33
	for r in a b c d e; do echo "REGION $r $(sha256sum < /tmp/$r | cut -d' ' -f1)"; done
	tap_end
	xb_domu_finish
	echo "DURABILITY-READY flushes=$(xb_flushes)"
	xb_await never 600
	tap_end
}

dom0_main() {
	tap_is "flush_policy parameter set at load" "$(cat /sys/module/xenblk_back/parameters/flush_policy)" barrier
	tap_ok "domU wrote its regions" xb_wait_line domu 'DURABILITY-READY' 240 || return
	be=$(xb_backend_dir domu)
	tap_is "backend offers barrier" "$(xenstore-read $be/feature-barrier)" 1
	tap_is "backend offers no flush-cache" "$(xenstore-read $be/feature-flush-cache)" 0
	fe_flushes=$(xb_console_value domu "DURABILITY-READY flushes=")
	f_req=$(xb_backend_stat domu f_req)
	# each FUA write of D is one data barrier: 1 MiB in 32 KiB requests
	tap_is "backend f_req counts the empty barrier and D's 32 data barriers" "$f_req" $((fe_flushes + 32))
	tap_is "one device flush per barrier, none added" "$(xb_disk_flushes)" "$f_req"
	tap_diag "backend wr_req $(xb_backend_stat domu wr_req) wr_sect $(xb_backend_stat domu wr_sect) f_req $f_req"

	# the control: region e reached the device (its cache) before the cut, so
	# that "lost" below means dropped, not never written
	xb_disk_read 16384 2048 /tmp/r
	want_e=$(xb_console_value domu "REGION e")
	tap_ok "region e is on the device before the cut" \
		test -n "$want_e" -a "$(sha256sum < /tmp/r | cut -d' ' -f1)" = "$want_e"

	xb_domu_destroy domu
	tap_ok "backend released the disk" xb_wait_released domu 60
	tap_ok "null_blk power cycle" xb_nullb_power_cycle

	for r in a:0 b:4096 c:8192 d:12288 e:16384; do   # 1 MiB regions at 0, 2, 4, 6, 8 MiB
		name=${r%%:*}
		set -- $(xb_region_read "${r#*:}" /tmp/r)
		tap_diag "region $name: $1 4 KiB blocks kept, $2 lost"
		want=$(xb_console_value domu "REGION $name")
		[ "$name" = e ] || tap_ok "the domU reported region $name's checksum" test -n "$want"
		case $name in
		e) tap_is "region e written after the last barrier is lost (blocks lost)" "$2" 256 ;;
		d) tap_is "region d (data barriers, FUA) survives intact" "$(sha256sum < /tmp/r | cut -d' ' -f1)" "$want" ;;
		c) tap_is "region c (completed before the data barriers) survives intact" "$(sha256sum < /tmp/r | cut -d' ' -f1)" "$want" ;;
		*) tap_is "region $name completed before the empty barrier survives intact" "$(sha256sum < /tmp/r | cut -d' ' -f1)" "$want" ;;
		esac
	done
	# every domU is gone: the module unloads and leaves nothing behind
	tap_ok "module unloads once no device is left" rmmod xenblk_back
	tap_end
}
