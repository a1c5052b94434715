# EOPNOTSUPP fallback, proven by a power cycle.  Our backend's test knob
# refuse_ops makes it answer FLUSH_DISKCACHE (then also WRITE_BARRIER) with
# EOPNOTSUPP, as a device that lost the capability would.  The frontend must
# downgrade FLUSH -> BARRIER and re-issue the refused flush as a barrier (so the
# fsync that caused it succeeds and its data is durable), then BARRIER -> NONE
# with the fsync failing (-EIO): never a success for a flush not performed.
# After a null_blk power cycle A and B (each fsynced, through the fallback)
# are intact, C (written after the last performed barrier) is lost.
# First, a flush that fails is not a refusal: the knob fail_flushes makes the
# backend answer one flush with BLKIF_RSP_ERROR; that fsync must fail (EIO),
# the mode must stay FLUSH (no downgrade, no re-issue), and the next fsync
# succeeds.
# vm-options: --disk nullb,size=64,cache=32 --vcpus 2
# vm-seconds: 45
# vm-fronts: ours
# vm-backends: ours

stat_of() { sed -n "s/^$1 //p" /sys/block/xvda/xenblk_stats; }

domu_main() {
	tap_is "starts in FLUSH mode" "$(stat_of flush_mode)" flush
	tap_is "FUA not advertised in FLUSH mode" "$(cat /sys/block/xvda/queue/fua)" 0
	for r in a b c d; do xb_pattern /tmp/$r 1048576; done
	echo "FALLBACK-UP"
	xb_await go0 240 > /dev/null || { tap_fail "dom0's first go"; return; }

	# stage 0: one flush fails -> the fsync fails, nothing is downgraded
	tap_ok "write Z (plain O_DIRECT)" dd if=/tmp/d of=/dev/xvda bs=1M seek=10 oflag=direct
	tap_ok "fsync fails when the backend's flush fails" sh -c '! sync /dev/xvda'
	tap_is "flush mode stays FLUSH after a failed flush" "$(stat_of flush_mode)" flush
	tap_is "a failed flush is no fallback" "$(stat_of fallbacks)" 0
	tap_ok "the next fsync succeeds in FLUSH mode" sync /dev/xvda
	echo "STAGE0-DONE"
	xb_await go 240 > /dev/null || { tap_fail "dom0's go"; return; }

	# stage 1: flushes refused -> barrier, and the fsync still succeeds
	tap_ok "write A + fsync succeeds through the fallback" \
		dd if=/tmp/a of=/dev/xvda bs=1M seek=0 oflag=direct conv=fsync
	tap_is "flush mode is now BARRIER" "$(stat_of flush_mode)" barrier
	tap_is "FUA advertised in BARRIER mode" "$(cat /sys/block/xvda/queue/fua)" 1
	tap_is "one fallback counted" "$(stat_of fallbacks)" 1
	tap_ok "write B + fsync succeeds (barrier)" \
		dd if=/tmp/b of=/dev/xvda bs=1M seek=2 oflag=direct conv=fsync
	dd if=/tmp/c of=/dev/xvda bs=1M seek=4 oflag=direct 2>/dev/null
	for r in a b c; do echo "REGION $r $(sha256sum < /tmp/$r | cut -d' ' -f1)"; done
	echo "STAGE1-DONE"
	xb_await go2 240 > /dev/null || { tap_fail "dom0's second go"; return; }

	# stage 2: barriers refused too -> NONE, and the fsync fails
	tap_ok "write D + fsync fails: no flush mode left" \
		sh -c '! dd if=/tmp/d of=/dev/xvda bs=1M seek=6 oflag=direct conv=fsync 2>/dev/null'
	tap_is "flush mode is now NONE" "$(stat_of flush_mode)" none
	tap_is "two fallbacks counted" "$(stat_of fallbacks)" 2
	tap_is "no write cache advertised in NONE mode" "$(cat /sys/block/xvda/queue/write_cache)" "write through"
	tap_ok "writes still work" dd if=/tmp/d of=/dev/xvda bs=1M seek=8 oflag=direct
	tap_ok "the kernel log names both downgrades" \
		sh -c 'dmesg | grep -q "flush mode flush -> barrier" && dmesg | grep -q "flush mode barrier -> none"'
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_end
	xb_domu_finish
	echo "STAGE2-DONE"
	xb_await never 600
	tap_end
}

dom0_main() {
	p=/sys/module/xenblk_back/parameters/refuse_ops
	tap_ok "domU is up" xb_wait_line domu 'FALLBACK-UP' 240 || return
	be=$(xb_backend_dir domu)
	f=/sys/module/xenblk_back/parameters/fail_flushes
	echo 1 > $f
	xb_tell domu go0 1
	tap_ok "stage 0 done" xb_wait_line domu 'STAGE0-DONE' 240 || return
	tap_is "the backend failed one flush (knob used up)" "$(cat $f)" 0
	tap_is "a failed flush withdraws nothing (feature-flush-cache)" "$(xenstore-read $be/feature-flush-cache)" 1
	echo 8 > $p
	xb_tell domu go 1
	tap_ok "stage 1 done" xb_wait_line domu 'STAGE1-DONE' 240 || return
	tap_is "backend withdrew feature-flush-cache" "$(xenstore-read $be/feature-flush-cache)" 0
	echo 12 > $p
	xb_tell domu go2 1
	tap_ok "stage 2 done" xb_wait_line domu 'STAGE2-DONE' 240 || return
	echo 0 > $p
	tap_is "backend withdrew feature-barrier" "$(xenstore-read $be/feature-barrier)" 0
	# the control: region c reached the device (its cache) before the cut, so
	# that "lost" below means dropped, not never written
	xb_disk_read 8192 2048 /tmp/r
	want_c=$(xb_console_value domu "REGION c")
	tap_ok "region c is on the device before the cut" \
		test -n "$want_c" -a "$(sha256sum < /tmp/r | cut -d' ' -f1)" = "$want_c"
	xb_domu_destroy domu
	tap_ok "backend released the disk" xb_wait_released domu 60
	tap_ok "null_blk power cycle" xb_nullb_power_cycle
	for r in a:0 b:4096 c:8192; do
		name=${r%%:*}
		set -- $(xb_region_read "${r#*:}" /tmp/r)
		tap_diag "region $name: $1 4 KiB blocks kept, $2 lost"
		if [ "$name" = c ]; then
			tap_is "region c (never flushed) is lost (blocks lost)" "$2" 256
		else
			want=$(xb_console_value domu "REGION $name")
			tap_ok "the domU reported region $name's checksum" test -n "$want"
			tap_is "region $name (fsynced through the fallback) survives intact" \
				"$(sha256sum < /tmp/r | cut -d' ' -f1)" "$want"
		fi
	done
	tap_end
}
