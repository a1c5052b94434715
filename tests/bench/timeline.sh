# The timeline case of tests/bench/timeline: where one I/O spends its time.
# dom0 and the domU trace the same request with ftrace (clock "mono", to the
# microsecond; each domain's own: tests/bench/timeline-report times steps
# within one domain only), with events that every blkif pair hits, stock or
# ours:
#   domU  block:block_rq_issue / block_rq_complete on xvda   (queue_rq, completion)
#         function notify_remote_via_irq                     (ring push + notify)
#         irq:irq_handler_entry "blkif" / "xenblk-front"     (frontend interrupt)
#   dom0  irq:irq_handler_entry "blkif-backend" / "xenblk-back" (backend woken)
#         sched:sched_switch to the backend's thread         (backend runs;
#           xen-blkback's is DOMID.xvdX-RING, ours xenblk-DOMID-DEV-RING)
#         block:block_rq_issue / block_rq_complete on nullb  (bio at the disk)
#         function notify_remote_via_irq                     (response push + notify)
# Each domain's clock is read on one CPU only (the domU has one vCPU, dom0
# takes its others offline first): under TCG the vCPUs' clocks differ by up
# to tens of ms, which would reorder one request's events.
# Workloads (fio in the domU, one I/O at a time, 20 ms apart so that each
# I/O's events stand alone): TL_COUNT 1 MiB O_DIRECT reads ("seqread"), and
# TL_COUNT 4 KiB O_DIRECT writes each followed by fdatasync ("fsync").  dom0
# writes the disk's first 64 MiB first (null_blk reads of unwritten sectors
# copy nothing).  The domU announces each phase on its console 2 s before its
# first I/O (TL-PHASE), and dom0 marks its own trace with it.  Each domain
# prints its events as "TLE ROLE PHASE NS EVENT DETAIL" lines on its
# console; tests/bench/timeline-report reads them.
# vm-options: --disk nullb,size=128,cache=32 --with fio --vcpus 1

TL_COUNT=${TL_COUNT:-40}
TL_T=/sys/kernel/tracing

tl_trace_on() {   # ROLE: domu | dom0
	mountpoint -q $TL_T || mount -t tracefs nodev $TL_T || return 1
	echo 0 > $TL_T/tracing_on
	echo mono > $TL_T/trace_clock || return 1
	echo 4096 > $TL_T/buffer_size_kb
	echo notify_remote_via_irq > $TL_T/set_ftrace_filter || return 1
	echo function > $TL_T/current_tracer || return 1
	for e in block/block_rq_issue block/block_rq_complete irq/irq_handler_entry; do
		echo 1 > $TL_T/events/$e/enable || return 1
	done
	echo 'name ~ "*blkif*" || name ~ "xenblk*"' > $TL_T/events/irq/irq_handler_entry/filter || return 1
	if [ "$1" = dom0 ]; then
		echo 'next_comm ~ "*.xvd*" || next_comm ~ "xenblk*"' > $TL_T/events/sched/sched_switch/filter || return 1
		echo 1 > $TL_T/events/sched/sched_switch/enable || return 1
	fi
	echo > $TL_T/trace
	echo 1 > $TL_T/tracing_on
}

# the trace as "TLE ns event detail" (the phase comes from trace_marker lines)
tl_dump() {
	echo 0 > $TL_T/tracing_on
	awk -v role="$1" '
		{ ts = ""; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$|^[0-9]+:$/) { ts = $i; k = i; break } }
		ts == "" { next }
		{ sub(/:$/, "", ts); ev = $(k + 1); sub(/:$/, "", ev)
		  if (ts ~ /\./) { split(ts, p, "."); ns = p[1] * 1000000000 + p[2] * 1000 } else ns = ts }
		ev == "tracing_mark_write" { phase = $(k + 2); next }
		phase == "" || phase == "idle" { next }
		ev == "notify_remote_via_irq" { print "TLE", role, phase, ns, "notify", "-"; next }
		ev == "irq_handler_entry" { d = $0; sub(/.*name=/, "", d); print "TLE", role, phase, ns, "irq", d; next }
		ev == "sched_switch" { d = $0; sub(/.*next_comm=/, "", d); sub(/ .*/, "", d); print "TLE", role, phase, ns, "run", d; next }
		# issue: "MAJ,MIN RWBS BYTES (CMD) SECTOR + N ..."; complete: "MAJ,MIN RWBS (CMD) SECTOR + N ..."
		ev == "block_rq_issue" { print "TLE", role, phase, ns, "issue", $(k + 2) "/" $(k + 3) "/" $(k + 6) "+" $(k + 8); next }
		ev == "block_rq_complete" { print "TLE", role, phase, ns, "done", $(k + 2) "/" $(k + 3) "/" $(k + 5) "+" $(k + 7); next }
	' $TL_T/trace
}

tl_mark() { echo "$1" > $TL_T/trace_marker; }

domu_main() {
	tap_ok "tracing on (domU)" tl_trace_on domu
	tl_mark idle
	echo "TL-READY"
	xb_await tl-go 300 > /dev/null
	FIO="--filename=/dev/xvda --direct=1 --iodepth=1 --size=64m --number_ios=$TL_COUNT --thinktime=20000 --output-format=terse"
	# each phase is announced on the console 2 s before its first I/O: dom0
	# marks its own trace with it (the two traces are matched phase by phase)
	echo "TL-PHASE seqread"; sleep 2
	tl_mark seqread
	tap_ok "seqread: $TL_COUNT reads of 1 MiB" fio --name=r --rw=read --bs=1M --ioengine=libaio $FIO
	tl_mark idle
	echo "TL-PHASE fsync"; sleep 2
	tl_mark fsync
	tap_ok "fsync: $TL_COUNT writes of 4 KiB + fdatasync" fio --name=w --rw=write --bs=4k --ioengine=sync --fdatasync=1 $FIO
	tl_mark idle
	echo "TL-MODE $(cat /sys/block/xvda/queue/write_cache) fua=$(cat /sys/block/xvda/queue/fua) max_hw_kb=$(cat /sys/block/xvda/queue/max_hw_sectors_kb) max_segments=$(cat /sys/block/xvda/queue/max_segments)"
	tl_dump domu > /tmp/tle
	tap_ok "domU events traced ($(wc -l < /tmp/tle))" test "$(wc -l < /tmp/tle)" -gt "$TL_COUNT"
	cat /tmp/tle
	echo "TL-DOMU-DONE"
	tap_end
}

dom0_main() {
	for _c in /sys/devices/system/cpu/cpu[1-9]*/online; do [ -e "$_c" ] && echo 0 > "$_c"; done
	tap_is "dom0 on one CPU" "$(grep -c '^processor' /proc/cpuinfo)" 1
	_d=$(xb_disk)
	tap_ok "the disk's first 64 MiB written (preconditioned)" dd if=/dev/zero of="$_d" bs=1M count=64 oflag=direct status=none
	tap_ok "tracing on (dom0)" tl_trace_on dom0
	tl_mark idle
	tap_ok "domU ready" xb_wait_line domu "TL-READY" 300
	xb_tell domu tl-go 1
	for _p in seqread fsync; do
		tap_ok "domU began $_p" xb_wait_line domu "TL-PHASE $_p" 300
		tl_mark $_p
	done
	tap_ok "domU traced its I/O" xb_wait_line domu "TL-DOMU-DONE" 900
	echo "TL-THREADS $(cat /proc/[0-9]*/comm 2>/dev/null | grep -E 'blkback|xenblk' | tr '\n' ' ')"
	echo "TL-FILTER $(cat $TL_T/events/sched/sched_switch/filter)"
	tl_dump dom0 > /tmp/tle
	tap_ok "dom0 events traced ($(wc -l < /tmp/tle))" test "$(wc -l < /tmp/tle)" -gt "$TL_COUNT"
	cat /tmp/tle
	tap_end
}
