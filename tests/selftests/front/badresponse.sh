# A misbehaving backend: our backend's test knob corrupt_responses makes it
# answer one request with an id that no request has.  xenblk-front must not
# complete anything on it: it counts the bad response, logs it once, sends a
# bad_request event, marks the disk broken and fails the request in flight and
# every later one with an I/O error (nothing hangs, nothing is reported done).
# The broken disk still goes away cleanly (unbind) and the module unloads.
# vm-options: --disk loop,size=64 --vcpus 2
# vm-kernels: 6.1
# vm-cells: ours:ours

stat_of() { sed -n "s/^$1 //p" /sys/block/xvda/xenblk_stats; }

domu_main() {
	xbctl -j monitor > /tmp/mon 2> /tmp/mon.err &
	mon=$!
	i=0; while ! grep -q listening /tmp/mon.err 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
	tap_ok "xbctl monitor is listening" grep -q listening /tmp/mon.err
	xb_pattern /tmp/p 65536
	tap_ok "a write works before" dd if=/tmp/p of=/dev/xvda bs=64k seek=1 oflag=direct
	tap_is "no bad response yet" "$(stat_of bad_responses)" 0
	echo "BAD-READY"
	xb_await armed 240 > /dev/null || { tap_fail "dom0 armed the backend"; return; }
	tap_ok "the read answered with a bogus id fails (EIO)" \
		sh -c '! dd if=/dev/xvda of=/tmp/rb bs=4k count=1 iflag=direct 2>/dev/null'
	tap_ok "the bad response is counted" test "$(stat_of bad_responses)" -ge 1
	tap_is "the disk is broken" "$(stat_of broken)" 1
	tap_ok "later reads fail too" sh -c '! dd if=/dev/xvda of=/tmp/rb bs=4k count=1 skip=8 iflag=direct 2>/dev/null'
	tap_ok "later writes fail too" sh -c '! dd if=/tmp/p of=/dev/xvda bs=4k count=1 seek=64 oflag=direct 2>/dev/null'
	tap_is "nothing left in flight" "$(stat_of in_flight)" 0
	tap_ok "the kernel log names the bad response" sh -c 'dmesg | grep -q "xvda: ring .*bad response"'
	i=0; while ! grep -q '"event":"bad_request","name":"xvda"' /tmp/mon && [ $i -lt 30 ]; do sleep 0.2; i=$((i + 1)); done
	tap_ok "monitor: a bad_request event for xvda" grep -q '"event":"bad_request","name":"xvda"' /tmp/mon
	tap_diag "$(tr '\n' ' ' < /tmp/mon)"
	kill $mon 2>/dev/null
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "the broken disk goes away on unbind" test ! -b /dev/xvda
	tap_ok "rmmod after the unbind" rmmod xenblk-front
	tap_end
}

dom0_main() {
	p=/sys/module/xenblk_back/parameters/corrupt_responses
	tap_ok "domU is up" xb_wait_line domu 'BAD-READY' 240 || return
	echo 1 > $p
	xb_tell domu armed 1
	tap_ok "domU finished" xb_domu_wait_end domu 300
	tap_is "the knob was used up" "$(cat $p)" 0
	echo 0 > $p
	tap_end
}
