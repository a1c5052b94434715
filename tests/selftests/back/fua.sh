# Data barriers are durable and ordered in our backend.  xb-hostile-front in
# --durability mode (a userspace frontend: nothing else sends requests) writes
# a page plainly at 2 MiB, a page as a WRITE_BARRIER with data at 4 MiB, and a
# page plainly at 6 MiB after it, then keeps the ring open.  dom0 destroys the
# domain (nothing closes, nothing flushes), power-cycles null_blk and reads the
# pages back: the barrier's own page survives (written with FUA), the page
# before it survives (drained and flushed before the barrier), the page after
# it is lost (the backend adds no flush of its own).  The stock backend writes
# a data barrier with a pre-flush but without FUA, so there the barrier's page
# may be lost: the case runs for our backend only.
# Before the three pages the tool puts a write (8 MiB) and an empty barrier on
# the ring with one notification: the backend takes both in one pass and the
# barrier waits for the write of its own ring.  null_blk completes every request
# inside its submission here (irqmode=0), so the write's completion is reaped
# after the pass: the barrier must still be answered (a one-ring device once
# stalled there for good), and the page survives the power cycle.
# vm-options: --disk nullb,size=64,cache=32,irqmode=0 --vcpus 1
# vm-backends: ours
# vm-front: none

domu_main() {
	if [ "$FRONT" != none ]; then
		tap_skip "data barrier durability" "needs --front none"
		tap_end; return
	fi
	tap_ok "xen-evtchn and xen-gntalloc load" modprobe -a xen-evtchn xen-gntalloc || return
	xb-hostile-front --durability --strict --timeout 60 --hold never --hold-timeout 900 \
		> /tmp/dur.out 2>&1 &
	i=0; while ! grep -q '^XB-DURABILITY-WRITTEN' /tmp/dur.out && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
	xb_tap_relay /tmp/dur.out
	tap_ok "the tool wrote its three pages" grep -q '^XB-DURABILITY-WRITTEN' /tmp/dur.out
	tap_end
	xb_domu_finish
	echo "DUR-WRITTEN"
	wait
	tap_end
}

dom0_main() {
	tap_ok "the three pages were written" xb_wait_line domu 'DUR-WRITTEN' 240 || return
	tap_is "backend counted two barriers (f_req)" "$(xb_backend_stat domu f_req)" 2
	tap_is "backend counted three plain writes (wr_req)" "$(xb_backend_stat domu wr_req)" 3
	flushes=$(xb_disk_flushes)
	xb_domu_destroy domu
	tap_ok "backend released the disk" xb_wait_released domu 60
	tap_is "two device flushes (the empty barrier, the data barrier's pre-flush), none added" "$flushes" 2
	tap_ok "null_blk power cycle" xb_nullb_power_cycle
	dd if=/dev/zero of=/tmp/zero bs=4096 count=1 2>/dev/null
	for p in early:16384 before:4096 barrier:8192 after:12288; do
		xb_disk_read "${p#*:}" 8 /tmp/pg
		if cmp -s /tmp/pg /tmp/zero; then eval "${p%%:*}=lost"; else eval "${p%%:*}=kept"; fi
	done
	tap_diag "after the power cycle: early $early, before $before, barrier $barrier, after $after"
	tap_is "the page written with the empty barrier in one pass survives" "$early" kept
	tap_is "the page written before the barrier survives" "$before" kept
	tap_is "the barrier's own page survives (FUA)" "$barrier" kept
	tap_is "the page written after the barrier is lost" "$after" lost
	tap_end
}
