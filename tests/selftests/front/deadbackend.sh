# A backend that stops answering, then the disk is removed (issue 21 item 4).
# Our backend's test knob hold_requests leaves the domU's requests on the rings
# unanswered (and unmapped); an O_DIRECT read and an O_DIRECT write sit there,
# then dom0 runs xl block-detach.  The frontend's removal must not wait for
# answers that never come: the held requests fail with an I/O error within a
# bound, xvda goes, the frontend reaches Closed, the xenbus device goes and
# the module unloads; the domU's shell stays responsive throughout.  The disk
# is reconnected without persistent grants first, so that the requests grant
# the guest's own pages (their grants must end before they fail).  Before
# the fix the removal waited in del_gendisk (on xenwatch) forever, so the I/O
# hung, xvda stayed and every later PV device change of the guest waited.
# vm-options: --disk nullb,size=64 --vcpus 2 --timeout 600
# vm-kernels: 6.1 6.12
# vm-cells: ours:ours

stat_of() { sed -n "s/^$1 //p" /sys/block/xvda/xenblk_stats; }

rebind() {
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/bind
	i=0; while [ ! -b /dev/xvda ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}

domu_main() {
	echo 0 > /sys/module/xenblk_front/parameters/feature_persistent
	rebind
	tap_ok "xvda reconnected" test -b /dev/xvda || return
	tap_is "without persistent grants" "$(stat_of persistent)" 0
	xb_pattern /tmp/p 65536
	tap_ok "a write works before" dd if=/tmp/p of=/dev/xvda bs=64k seek=1 oflag=direct 2>/dev/null
	echo "DEAD-UP"
	xb_await hold 240 > /dev/null || { tap_fail "dom0 set hold_requests"; return; }
	dd if=/dev/xvda of=/dev/null bs=4k count=1 skip=16 iflag=direct 2> /tmp/rd.err &
	rd=$!
	dd if=/tmp/p of=/dev/xvda bs=64k count=1 seek=8 oflag=direct 2> /tmp/wr.err &
	wr=$!
	i=0
	while [ "$(stat_of in_flight)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
	sleep 2
	held=$(stat_of in_flight)
	tap_ok "the read and the write are held on the rings ($held in flight)" test "$held" -ge 2
	tap_ok "neither finished" sh -c "kill -0 $rd && kill -0 $wr"
	echo "DEAD-HELD"
	t0=$(cut -d. -f1 /proc/uptime)
	# the held I/O ends (fails) within 60 s, xvda goes; the shell keeps
	# answering meanwhile
	i=0
	while { kill -0 $rd 2>/dev/null || kill -0 $wr 2>/dev/null; } && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	t1=$(cut -d. -f1 /proc/uptime)
	tap_ok "the held read and write ended within 60 s of the detach ($((t1 - t0)) s)" \
		sh -c "! kill -0 $rd 2>/dev/null && ! kill -0 $wr 2>/dev/null"
	wait $rd; rs=$?
	wait $wr; ws=$?
	tap_diag "read: status $rs, $(tr '\n' ' ' < /tmp/rd.err); write: status $ws, $(tr '\n' ' ' < /tmp/wr.err)"
	tap_ok "the held read failed (I/O error)" sh -c "[ $rs -ne 0 ] && grep -qi 'error' /tmp/rd.err"
	tap_ok "the held write failed (I/O error)" sh -c "[ $ws -ne 0 ] && grep -qi 'error' /tmp/wr.err"
	tap_ok "the shell answers (a command completes)" sh -c 'echo alive | grep -q alive'
	i=0; while [ -e /sys/block/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "xvda is gone" test ! -e /sys/block/xvda
	line=$(dmesg | grep 'xenblk_front.*removed with' | tail -n 1)
	tap_diag "$line"
	tap_ok "the frontend logged the requests it failed" test -n "$line"
	i=0; while [ -e /sys/bus/xen/devices/vbd-51712 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	if ! tap_ok "the xenbus device is gone" test ! -e /sys/bus/xen/devices/vbd-51712; then
		tap_diag "state: $(xenstore-read device/vbd/51712/state 2>&1)"
		tap_diag "$(grep -i 'xenbus\|xvda\|blocked' /proc/*/stack 2>/dev/null | head -n 5 | tr '\n' ' ')"
	fi
	tap_ok "the module unloads" rmmod xenblk_front
	echo "DEAD-DONE"
	tap_end
}

dom0_main() {
	p=/sys/module/xenblk_back/parameters/hold_requests
	tap_ok "domU is up" xb_wait_line domu 'DEAD-UP' 240 || return
	echo 1 > $p
	xb_tell domu hold 1
	if ! tap_ok "domU's I/O is held" xb_wait_line domu 'DEAD-HELD' 240; then
		echo 0 > $p
		return
	fi
	be=$(xb_backend_dir domu)
	# the knob stays set until the domU is done: nothing is ever answered
	tap_ok "xl block-detach with the requests held" timeout 120 xl block-detach domu xvda
	i=0; while xenstore-exists "$be" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	tap_ok "backend directory removed" sh -c "! xenstore-exists $be 2>/dev/null"
	tap_ok "domU finished" xb_wait_line domu 'DEAD-DONE' 300
	echo 0 > $p
	tap_end
}
