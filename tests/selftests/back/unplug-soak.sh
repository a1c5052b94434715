# Unplug soak: a second disk is attached to a running domU and detached again,
# SOAK_CYCLES times (20; 100 with XENBLK_LONG=1), while the domU keeps a
# verified fio load on its first disk.  Each time the second disk is attached
# the domU writes a pattern to it and reads it back, then keeps reading it
# (one dd after another) until it goes: the detaches come with reads of that
# disk under way.  Then the domU stops its load, unbinds its disk and unloads
# the frontend, and dom0 destroys it.
# Pass: every attach connects and every detach releases the disk (dom0's
# backend device and xenstore directory gone, the domU's xvdb gone); every
# pattern reads back; every fio pass verifies; afterwards no grant is left
# mapped or granted and no object allocated in either module (their debugfs
# counters: the frontend's with no disk, the backend's with no device), both
# modules' reference counts are 0 and both unload; kernel logs clean.
# Our pair (ours:ours): a stock frontend cannot be detached while its disk is
# open.  20 xl destroys of domains under I/O are back/teardown.sh's (with
# XENBLK_LONG=1, like the 100 cycles here).
# vm-options: --disk nullb,size=64,cache=32 --vcpus 2 --with fio --timeout 900
# vm-long-options: --timeout 2400
# vm-seconds: 100
# vm-cells: ours:ours

SOAK_CYCLES=20
[ "${LONG:-0}" != 1 ] || SOAK_CYCLES=100   # (XENBLK_LONG=1)

# ---- domU ----

# the verified load on xvda: fio passes (write, then verify what it wrote)
# until /tmp/stop, each pass printed; a pass that fails ends the loop
soak_fio() {
	p=0
	while [ ! -e /tmp/stop ]; do
		xb_fio_verify $p || { echo "SOAK-FIO-FAILED $p"; tail -n 5 /tmp/fio.log; return 1; }
		p=$((p + 1))
		echo "SOAK-FIO-PASS $p"
	done
	echo "SOAK-FIO-PASSES $p"
}

domu_main() {
	modprobe -q xen-evtchn 2>/dev/null
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	dbg=/sys/kernel/debug/xenblk_front
	soak_fio > /tmp/fio-passes 2>&1 &
	fpid=$!
	xb_pattern /tmp/p 65536
	n=0 ok=0
	echo "SOAK-READY"
	while [ $n -lt $SOAK_CYCLES ]; do
		# the next attach (bounded: dom0 may have given up)
		i=0; while [ ! -b /dev/xvdb ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
		[ -b /dev/xvdb ] || break
		n=$((n + 1))
		dd if=/tmp/p of=/dev/xvdb bs=64k seek=$n oflag=direct 2>/dev/null &&
			dd if=/dev/xvdb of=/tmp/r bs=64k skip=$n count=1 iflag=direct 2>/dev/null &&
			cmp -s /tmp/p /tmp/r && ok=$((ok + 1))
		# reads in flight until the disk goes (they then fail: expected)
		( while dd if=/dev/xvdb of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null; do :; done ) &
		echo "SOAK-ATTACHED $n"
		i=0; while [ -b /dev/xvdb ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
		wait $!
		[ ! -b /dev/xvdb ] || { echo "SOAK-STUCK $n"; break; }
	done
	tap_is "the second disk came and went $SOAK_CYCLES times" "$n" "$SOAK_CYCLES"
	tap_is "each time its pattern read back" "$ok" "$n"
	: > /tmp/stop
	wait $fpid
	tap_is "every fio pass verified" "$?" 0
	passes=$(sed -n 's/^SOAK-FIO-PASSES //p' /tmp/fio-passes)
	tap_ok "fio ran verified passes meanwhile (${passes:-none})" test "${passes:-0}" -ge 1
	grep -A5 FAILED /tmp/fio-passes | head -n 6
	# the frontend with no disk: nothing granted, nothing allocated, unloads
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	tap_is "frontend: no grant left" "$(cat $dbg/grants 2>&1)" 0
	tap_is "frontend: no object left" "$(cat $dbg/objects 2>&1)" 0
	tap_is "frontend: reference count 0" "$(cat /sys/module/xenblk_front/refcnt 2>&1)" 0
	tap_ok "frontend unloads" rmmod xenblk_front
	tap_end
	xb_domu_finish
	echo "SOAK-DOMU-DONE"
	# a load for the destroy: dom0 destroys this domU with I/O in flight
	sleep 3600
}

# ---- dom0 ----

soak_backend_gone() {
	_d=$(( $(xb_now) + 30 ))
	while [ -e "/sys/bus/xen-backend/devices/vbd-$id-51728" ] ||
	      xenstore-exists "/local/domain/0/backend/vbd/$id/51728" 2>/dev/null; do
		[ "$(xb_now)" -lt $_d ] || return 1
		xb_sleep 0.2
	done
}

dom0_main() {
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	dbg=/sys/kernel/debug/xenblk_back
	tap_ok "a second disk (null_blk, 64 MiB)" xb_nullb_add 1 64
	tap_ok "domU is up" xb_wait_line domu SOAK-READY 240 || return
	id=$(xb_domid domu)
	good=0 failed=
	n=1
	while [ $n -le $SOAK_CYCLES ]; do
		if ! xl block-attach domu "format=raw,vdev=xvdb,access=rw,script=xb-block,target=/dev/nullb1" \
				> /tmp/attach.log 2>&1; then
			failed="cycle $n: xl block-attach: $(tail -n 3 /tmp/attach.log | tr '\n' ' ')"; break
		fi
		xb_wait_line domu "SOAK-ATTACHED $n\$|SOAK-ATTACHED $n[^0-9]" 120 ||
			{ failed="cycle $n: the domU did not see xvdb"; break; }
		if ! xl block-detach domu xvdb > /tmp/detach.log 2>&1; then
			failed="cycle $n: xl block-detach: $(tail -n 3 /tmp/detach.log | tr '\n' ' ')"; break
		fi
		soak_backend_gone || { failed="cycle $n: the backend kept the disk"; break; }
		good=$n
		n=$((n + 1))
	done
	tap_is "$SOAK_CYCLES attach/detach cycles with I/O in flight" "$good" "$SOAK_CYCLES"
	[ -z "$failed" ] || tap_diag "$failed"
	tap_ok "the domU finished its checks" xb_wait_line domu SOAK-DOMU-DONE 300
	tap_ok "the domU destroyed" xb_domu_destroy domu
	tap_ok "the backend released its disk" xb_wait_released domu 60
	tap_is "backend: no grant left mapped" "$(cat $dbg/grants 2>&1)" 0
	tap_is "backend: no object left" "$(cat $dbg/objects 2>&1)" 0
	tap_is "backend: reference count 0" "$(cat /sys/module/xenblk_back/refcnt 2>&1)" 0
	tap_ok "backend unloads" rmmod xenblk_back
	tap_ok "dom0 kernel log clean" xb_klog_clean
	tap_end
}
