# Requests still on the rings when the domain is saved are re-issued after the
# restore.  Our backend's test knob hold_requests leaves new requests on the
# rings unanswered; the domU's buffered writes are then written back into a
# stuck queue (the frontend counts them in flight), and dom0 saves the domain
# in that state, clears the knob and restores it.  The frontend must take the
# requests it never got answers for off its old rings, connect to the restored
# backend and send them again: the resume log line counts them (more than 0),
# every byte reads back as written, nothing was answered twice (no bad
# response), and I/O works after.
# vm-options: --disk nullb,size=64,cache=0 --vcpus 2 --timeout 900
# vm-seconds: 31
# vm-kernels: 6.1
# vm-cells: ours:ours

await_quiet() { xb_await "$@" > /dev/null; }
stat_of() { sed -n "s/^$1 //p" /sys/block/xvda/xenblk_stats; }

domu_main() {
	xb_pattern /tmp/mirror 4194304
	echo 65536 > /proc/sys/vm/dirty_background_bytes   # write back at once
	echo "REQUEUE-UP"
	xb_await hold 240 > /dev/null || { tap_fail "dom0's hold"; return; }
	# buffered, written back into the held rings; fd 3 keeps the disk open, or
	# dd's close (the last one) would wait for the writeback
	exec 3< /dev/xvda
	dd if=/tmp/mirror of=/dev/xvda bs=1M seek=8 2>/dev/null
	# wait until the writeback sits on the rings: in flight, and still so 2 s later
	i=0
	while [ "$(stat_of in_flight)" = 0 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
	sleep 2
	held=$(stat_of in_flight)
	tap_ok "writeback is held on the rings ($held request(s) in flight)" test "$held" -gt 0
	echo "REQUEUE-HELD"
	tap_ok "dom0 saved and restored this domain" await_quiet restored 900
	tap_ok "sync after the restore" sync
	exec 3<&-
	line=$(dmesg | grep 'xenblk_front.*resumed' | tail -n 1)
	tap_diag "$line"
	n=$(printf '%s\n' "$line" | sed -n 's/.*, \([0-9]*\) request(s) re-issued.*/\1/p')
	tap_ok "the frontend re-issued the held requests (${n:-?})" test "${n:-0}" -gt 0
	echo 3 > /proc/sys/vm/drop_caches
	dd if=/dev/xvda of=/tmp/rb bs=1M count=4 skip=8 iflag=direct 2>/dev/null
	tap_is "the 4 MiB held across the save read back as written" \
		"$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/mirror)"
	rm -f /tmp/rb
	xb_pattern /tmp/p 65536
	dd if=/tmp/p of=/dev/xvda bs=64k seek=1 oflag=direct conv=fsync 2>/dev/null
	dd if=/dev/xvda of=/tmp/rb bs=64k count=1 skip=1 iflag=direct 2>/dev/null
	tap_is "an O_DIRECT write + fsync after the restore reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/p)"
	tap_is "nothing left in flight" "$(stat_of in_flight)" 0
	tap_ok "no bad response" grep -q '^bad_responses 0$' /sys/block/xvda/xenblk_stats
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_end
}

dom0_main() {
	p=/sys/module/xenblk_back/parameters/hold_requests
	tap_ok "domU is up" xb_wait_line domu 'REQUEUE-UP' 240 || return
	echo 1 > $p
	xb_tell domu hold 1
	tap_ok "domU's writeback is held" xb_wait_line domu 'REQUEUE-HELD' 300 || { echo 0 > $p; return; }
	xb_save_restore domu "with requests on the rings" "echo 0 > $p" || return
	xb_tell domu restored 1
	tap_end
}
