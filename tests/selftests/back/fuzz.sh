# A fuzzing frontend against our backend: xb-fuzz-front takes over the domU's
# vbd from userspace (no frontend driver) and sends 10^5 seeded random requests
# (10^6 with XENBLK_LONG=1; XENBLK_SEED=N replays a run), valid and mutated
# ones, in two sessions, each answer checked against our core's rules, each
# session ended by a producer index jumped past the ring (the ring must stop).
# Meanwhile a second domU ("verify", the stock frontend) does verified fio
# passes on another disk of the same backend: they must all pass.
# Afterwards: dom0's kernel log clean, and once both domUs are gone our
# backend holds no grant and no object (debugfs counters) and unloads.
# vm-options: --disk nullb,size=64,cache=32 --vcpus 2 --with fio --timeout 900
# vm-long-options: --timeout 5400
# vm-seconds: 180
# vm-backends: ours
# vm-front: none

FUZZ_REQUESTS=100000
[ "${LONG:-0}" != 1 ] || FUZZ_REQUESTS=1000000

# ---- domU ----

# the second domU: the stock frontend, fio passes until dom0 says stop
verify_main() {
	modprobe xen-blkfront
	i=0; while [ ! -b /dev/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "xvda (stock frontend)" test -b /dev/xvda || { tap_end; return; }
	echo "FZ-VERIFY-RUNNING"
	p=0 bad=0
	while ! xenstore-read data/xenblk-stop > /dev/null 2>&1; do
		xb_fio_verify $p || { bad=$((bad + 1)); tail -n 5 /tmp/fio.log; }
		p=$((p + 1))
	done
	tap_ok "$p verified fio passes while the fuzzer ran" test $p -ge 2
	tap_is "every pass verified" "$bad" 0
	tap_end
}

domu_main() {
	if [ "$XB_NAME" = verify ]; then verify_main; return; fi
	tap_ok "xen-evtchn and xen-gntalloc load" modprobe -a xen-evtchn xen-gntalloc || return
	tap_ok "dom0's second domU does verified I/O" xb_await verify-running 300
	seed=${SEED:+--seed $SEED}
	xb-fuzz-front --requests $FUZZ_REQUESTS --batch 32 --sessions 2 --timeout 10 $seed 2>&1 |
		tee /tmp/fuzz.out
	xb_tap_relay /tmp/fuzz.out
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' /tmp/fuzz.out)
	tap_is "xb-fuzz-front ran to its end (results = plan)" \
		"$(grep -cE '^(not )?ok ' /tmp/fuzz.out)" "${plan:-no plan}"
	tap_is "requests answered" "$(sed -n 's/^XB-FUZZ .*answered=\([0-9]*\).*/\1/p' /tmp/fuzz.out)" "$FUZZ_REQUESTS"
	echo "FZ-DONE"
	tap_end
}

# ---- dom0 ----

dom0_main() {
	if [ "$FRONT" != none ]; then
		tap_skip "fuzzing frontend" "needs --front none (a frontend driver owns the vbd)"
		tap_end; return
	fi
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	dbg=/sys/kernel/debug/xenblk_back
	tap_ok "a second disk (null_blk, 128 MiB)" xb_nullb_add 1 128
	_m=$DOMU_MEM; DOMU_MEM=384
	tap_ok "second domU started on a second disk" xb_domu_start verify "" /dev/nullb1
	DOMU_MEM=$_m
	tap_ok "it runs verified I/O" xb_wait_line verify FZ-VERIFY-RUNNING 240
	xb_tell domu verify-running 1
	tap_ok "the fuzzer finished" xb_wait_line domu FZ-DONE $(( FUZZ_REQUESTS / 100 + 300 ))
	xb_tell verify stop 1
	tap_ok "the second domU finished" xb_domu_wait_end verify 300
	tap_ok "dom0 kernel log clean" xb_klog_clean
	tap_ok "the fuzzed domU ended" xb_domu_wait_end domu 120
	for d in domu verify; do
		xb_domu_destroy "$d" > /dev/null 2>&1
		tap_ok "$d's disk released" xb_wait_released "$d" 60
	done
	tap_is "backend: no grant left mapped" "$(cat $dbg/grants 2>&1)" 0
	tap_is "backend: no object left" "$(cat $dbg/objects 2>&1)" 0
	tap_ok "backend unloads" rmmod xenblk_back
	tap_end
}
