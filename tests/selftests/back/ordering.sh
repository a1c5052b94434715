# Cross-ring ordering of barriers: our backend in barrier-only mode
# (flush_policy=barrier), two rings, a writer pinned to each vCPU (so each ring
# has writes in flight: the disk answers every request 200 ms late) while a
# third loop fsyncs (each fsync is an empty
# WRITE_BARRIER on the ring of its vCPU).  The backend's counters br_waits /
# br_waited show barriers that arrived while other rings had requests in
# flight and waited for them; every region reads back as written.
# The backend is loaded with flush_policy=barrier (--back-param): the domU
# connects in barrier-only mode from the start.
# vm-options: --disk nullb,size=64,cache=32,delay=200 --vcpus 2 --back-param flush_policy=barrier
# vm-seconds: 57
# vm-kernels: 6.1
# vm-backends: ours
# vm-fronts: stock

domu_main() {
	tap_is "two queues" "$(ls /sys/block/xvda/mq | wc -l)" 2
	tap_is "barrier mode (FUA advertised)" "$(cat /sys/block/xvda/queue/fua)" 1
	for c in 0 1; do xb_pattern /tmp/w$c 262144; done
	xb_pattern /tmp/s 4096
	# A dd killed by a signal (the test bed's TCG flake kills a busybox process
	# now and then: status > 128) is run once more and reported; a dd that
	# fails (an I/O error: status 1) ends its writer, and the read-back below
	# catches what it did not write.
	for c in 0 1; do
		cat > /tmp/writer$c <<W
i=0
while [ \$i -lt 40 ]; do
	dd if=/tmp/w$c of=/dev/xvda bs=256k seek=\$(( $c * 64 + i % 32 )) oflag=direct 2>/dev/null; rc=\$?
	if [ \$rc -gt 128 ]; then
		echo "ORD-KILLED writer $c dd"
		dd if=/tmp/w$c of=/dev/xvda bs=256k seek=\$(( $c * 64 + i % 32 )) oflag=direct 2>/dev/null; rc=\$?
	fi
	[ \$rc = 0 ] || exit \$rc
	i=\$((i + 1))
done
W
		taskset -c $c sh /tmp/writer$c &
		eval "wpid$c=\$!"
	done
	f0=$(xb_flushes)
	i=0 ok=0
	while [ $i -lt 20 ]; do
		taskset -c $((i % 2)) dd if=/tmp/s of=/dev/xvda bs=4k seek=$((8192 + i)) oflag=direct conv=fsync 2>/dev/null; rc=$?
		if [ $rc -gt 128 ]; then
			echo "ORD-KILLED fsync $i"
			taskset -c $((i % 2)) dd if=/tmp/s of=/dev/xvda bs=4k seek=$((8192 + i)) oflag=direct conv=fsync 2>/dev/null; rc=$?
		fi
		[ $rc != 0 ] || ok=$((ok + 1))
		i=$((i + 1))
	done
	for c in 0 1; do
		eval "wait \$wpid$c"; rc=$?
		if [ $rc -gt 128 ]; then   # the writer's shell itself was killed: once more, whole
			echo "ORD-KILLED writer $c"
			taskset -c $c sh /tmp/writer$c
		fi
	done
	fs=$(( $(xb_flushes) - f0 ))
	tap_is "20 fsyncs succeeded" "$ok" 20
	# a dd killed after its fsync was sent adds a flush: at least one per fsync
	tap_ok "20 fsyncs gave at least 20 flushes ($fs)" test "$fs" -ge 20
	tap_diag "killed by a signal and run again: $(dmesg | grep -c ' traps: ') trap(s) in the kernel log"
	bad=0
	for c in 0 1; do
		for k in $(seq 0 31); do
			dd if=/dev/xvda of=/tmp/rb bs=256k count=1 skip=$((c * 64 + k)) iflag=direct 2>/dev/null
			cmp -s /tmp/rb /tmp/w$c && continue
			# once more, in case the reading dd was the one killed
			dd if=/dev/xvda of=/tmp/rb bs=256k count=1 skip=$((c * 64 + k)) iflag=direct 2>/dev/null
			cmp -s /tmp/rb /tmp/w$c || bad=$((bad + 1))
		done
	done
	tap_is "every region of both writers reads back" "$bad" 0
	echo "ORD-DONE flushes=$(xb_flushes)"
	tap_ok "dom0 has read the counters" xb_await checked 120
	tap_end
}

dom0_main() {
	tap_is "flush_policy barrier (set at load)" "$(cat /sys/module/xenblk_back/parameters/flush_policy)" barrier
	tap_ok "domU finished its I/O" xb_wait_line domu 'ORD-DONE' 300 || return
	be=$(xb_backend_dir domu)
	tap_is "backend offers barrier only" "$(xenstore-read $be/feature-barrier) $(xenstore-read $be/feature-flush-cache)" "1 0"
	tap_is "two rings connected" "$(xenstore-read $(xb_frontend_dir domu)/multi-queue-num-queues)" 2
	waits=$(xb_backend_stat domu br_waits) waited=$(xb_backend_stat domu br_waited)
	tap_diag "f_req $(xb_backend_stat domu f_req), br_waits $waits, br_waited $waited"
	tap_ok "barriers waited for requests in flight on the other ring ($waits barriers, $waited requests)" \
		test "$waits" -ge 1 -a "$waited" -ge "$waits"
	tap_is "backend f_req equals the domU's flush count" "$(xb_backend_stat domu f_req)" \
		"$(xb_console_value domu 'ORD-DONE flushes=')"
	tap_is "no request refused or failed" "$(xb_backend_stat domu bad_req) $(xb_backend_stat domu err_req)" "0 0"
	xb_tell domu checked 1
	tap_end
}
