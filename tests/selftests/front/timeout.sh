# blk-mq timeouts in xenblk-front (issue 21 item 4).  The domU lowers the
# disk's io_timeout to 2 s; our backend's test knob hold_requests leaves a
# read on the ring unanswered.  While the backend is Connected the ring is
# healthy, only slow: the timeouts must reset the timer and the read stays in
# flight (8 s, four timeouts).  Then dom0 sets the backend's xenbus state to
# Initialising without ever answering (a backend that restarted under us):
# the next timeout must fail the read with an I/O error and mark the disk
# broken; later I/O fails at once, the disk unbinds and the module unloads.
# Before the fix there was no timeout handler: blk-mq reset the timer forever
# and the read hung.
# vm-options: --disk nullb,size=64 --vcpus 2 --timeout 600
# vm-seconds: 33
# vm-kernels: 6.1 6.12
# vm-cells: ours:ours

stat_of() { sed -n "s/^$1 //p" /sys/block/xvda/xenblk_stats; }

domu_main() {
	tap_ok "io_timeout 2 s" sh -c 'echo 2000 > /sys/block/xvda/queue/io_timeout'
	tap_ok "a read works before" dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
	echo "TMO-UP"
	xb_await hold 240 > /dev/null || { tap_fail "dom0 set hold_requests"; return; }
	dd if=/dev/xvda of=/dev/null bs=4k count=1 skip=16 iflag=direct 2> /tmp/rd.err &
	rd=$!
	i=0; while [ "$(stat_of in_flight)" = 0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
	sleep 8
	tap_ok "healthy ring: the read is still in flight after 8 s (timeouts reset)" \
		sh -c "kill -0 $rd && [ \"\$(sed -n 's/^in_flight //p' /sys/block/xvda/xenblk_stats)\" -ge 1 ]"
	tap_is "healthy ring: the disk is not broken" "$(stat_of broken)" 0
	echo "TMO-HEALTHY"
	xb_await gone 240 > /dev/null || { tap_fail "dom0 changed the backend's state"; kill $rd; return; }
	t0=$(cut -d. -f1 /proc/uptime)
	i=0; while kill -0 $rd 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	t1=$(cut -d. -f1 /proc/uptime)
	tap_ok "backend not connected: the read ended within 30 s ($((t1 - t0)) s)" sh -c "! kill -0 $rd 2>/dev/null"
	wait $rd; rs=$?
	tap_diag "read: status $rs, $(tr '\n' ' ' < /tmp/rd.err)"
	tap_ok "the read failed (I/O error)" sh -c "[ $rs -ne 0 ] && grep -qi 'error' /tmp/rd.err"
	tap_is "the disk is broken" "$(stat_of broken)" 1
	tap_is "nothing left in flight" "$(stat_of in_flight)" 0
	tap_ok "the kernel log says why" sh -c 'dmesg | grep -q "xvda: a request timed out on a broken or disconnected ring"'
	tap_ok "later reads fail at once" sh -c '! timeout 10 dd if=/dev/xvda of=/dev/null bs=4k count=1 skip=32 iflag=direct 2>/dev/null'
	# in the background: an unbind that waited for the held read would hang
	# the script
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind &
	ub=$!
	i=0; while [ -b /dev/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "the broken disk goes away on unbind" test ! -b /dev/xvda
	# xvda goes before the unbind returns: it holds the module until then
	i=0; while kill -0 $ub 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "the unbind returned" sh -c "! kill -0 $ub 2>/dev/null"
	tap_ok "rmmod after the unbind" rmmod xenblk_front
	echo "TMO-DONE"
	tap_end
}

dom0_main() {
	p=/sys/module/xenblk_back/parameters/hold_requests
	tap_ok "domU is up" xb_wait_line domu 'TMO-UP' 240 || return
	be=$(xb_backend_dir domu)
	echo 1 > $p
	xb_tell domu hold 1
	if ! tap_ok "domU's read stayed in flight" xb_wait_line domu 'TMO-HEALTHY' 240; then
		echo 0 > $p
		return
	fi
	# what a backend that restarted would show; nothing is answered
	tap_ok "the backend's state reads Initialising" xenstore-write "$be/state" 1
	xb_tell domu gone 1
	tap_ok "domU finished" xb_wait_line domu 'TMO-DONE' 300
	echo 0 > $p
	tap_end
}
