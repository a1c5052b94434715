# Persistent grants through xenblk-front.  Both sides announce feature-persistent
# (xenstore), the frontend turns them on, and its pool counters show that the
# backend kept the pages mapped after answering (pool_kept: a page is kept only
# when ending its grant fails because the backend still maps it) and that pages
# were reused (pool_hits).  Data goes through the pool both ways: O_DIRECT
# writes and reads of 512 B .. 1 MiB at sector (not page) offsets, in parallel,
# compared with a mirror.  Then dom0 lowers the backend's bound of persistent
# grants (max_persistent_grants=32): the backend maps what does not fit for one
# request only, and the frontend must end those grants after their responses
# (pool_dropped), with the data intact.  Then dom0 lowers the bound to 4: the
# backend unmaps pages that sit free in the frontend's pool, and the
# frontend's periodic purge must find and free them (pool_purged).
# A backend without feature-persistent (QEMU qdisk) must leave the pool unused
# and the data intact.
# vm-options: --disk loop,size=64 --vcpus 2 --timeout 1800
# vm-seconds: 80
# vm-skip: the no-grant-left check, when the domU has no debugfs
# vm-cells: ours:stock ours:ours

pg_stat() { sed -n "s/^$1 //p" /sys/block/xvda/xenblk_stats; }

# N O_DIRECT writes of 1..MAX (default 2048) sectors at random sector offsets
# in the first 16 MiB, two at a time, mirrored; then the region read back in
# odd-sized O_DIRECT pieces and compared.
pg_io() {
	region=$((16 * 2048))
	bad=0
	half=$((region / 2))
	for i in $(seq 1 "$1"); do
		pids=""
		for j in 0 1; do
			# the two writers of a round use separate halves: they never overlap
			n=$(( (RANDOM % ${3:-2048}) + 1 ))
			s=$(( j * half + (RANDOM * 32768 + RANDOM) % (half - n) ))
			dd if=/dev/urandom of=/tmp/c$j bs=512 count=$n 2>/dev/null
			dd if=/tmp/c$j of=/tmp/mirror bs=512 seek=$s conv=notrunc 2>/dev/null
			dd if=/tmp/c$j of=/dev/xvda bs=512 seek=$s oflag=direct conv=notrunc 2>/dev/null &
			pids="$pids $!"
		done
		for pid in $pids; do wait "$pid" || bad=$((bad + 1)); done
	done
	tap_is "$2: $1 rounds of parallel O_DIRECT writes succeed" "$bad" 0
	# read back in pieces of 7 sectors .. 1 MiB, sector aligned, through the pool
	xb_readback $region 7 "${3:-2048}" "$2"
}

domu_main() {
	fe=device/vbd/51712
	be=$(xenstore-read $fe/backend)
	tap_is "the frontend announces feature-persistent" "$(xenstore-read $fe/feature-persistent)" 1
	dd if=/dev/zero of=/tmp/mirror bs=1M count=16 2>/dev/null
	dd if=/tmp/mirror of=/dev/xvda bs=1M count=16 oflag=direct 2>/dev/null

	if [ "$BACK" = qdisk ]; then
		tap_ok "qdisk offers no persistent grants" \
			sh -c "[ \"\$(xenstore-read $be/feature-persistent 2>/dev/null || echo 0)\" = 0 ]"
		tap_is "persistent grants off" "$(pg_stat persistent)" 0
		# requests up to 128 KiB: a burst of 12 or more direct requests once hung
		# with qdisk (frontend.md, known problems); this case is about the pool
		pg_io 12 "no persistent grants" 256
		tap_is "the pool stays unused" "$(pg_stat pool_pages) $(pg_stat pool_hits) $(pg_stat pool_kept)" "0 0 0"
		tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
		tap_end; return 0
	fi

	tap_is "the backend offers feature-persistent" "$(xenstore-read $be/feature-persistent)" 1
	tap_is "persistent grants on" "$(pg_stat persistent)" 1
	pg_io 12 "persistent"
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_ok "the backend kept grants mapped after answering (pool_kept $(pg_stat pool_kept))" \
		test "$(pg_stat pool_kept)" -gt 0
	tap_ok "pool pages were reused (pool_hits $(pg_stat pool_hits))" test "$(pg_stat pool_hits)" -gt 0
	tap_ok "pool pages exist ($(pg_stat pool_pages))" test "$(pg_stat pool_pages)" -gt 0
	# bound: 2 rings x 512 slots x (256 + 1) pages
	tap_ok "the pool stays within its bound" test "$(pg_stat pool_pages)" -le $((2 * 512 * 257))
	tap_is "every pool page is free when idle" "$(pg_stat pool_free)" "$(pg_stat pool_pages)"

	echo "PG-PHASE1-DONE"
	tap_ok "dom0 lowered the backend's bound" xb_await bound-lowered 1200
	d0=$(pg_stat pool_dropped)
	pg_io 12 "small backend bound"
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_ok "grants the backend did not keep were dropped (pool_dropped $d0 -> $(pg_stat pool_dropped))" \
		test "$(pg_stat pool_dropped)" -gt "$d0"
	p0=$(pg_stat pool_pages)
	echo "PG-PHASE2-DONE"
	tap_ok "dom0 lowered the backend's bound again" xb_await bound-lowered-2 1200
	# a trickle of small reads wakes the backend, which then evicts down to
	# its new bound; the frontend's purge runs every 10 s.  (The bound of 32
	# may already have made the backend unmap pages and the purge free them:
	# what counts here is what the purge does after the bound of 4.)
	u0=$(pg_stat pool_purged)
	i=0
	while [ "$(pg_stat pool_purged)" = "$u0" ] && [ $i -lt 120 ]; do
		dd if=/dev/xvda of=/dev/null bs=4k count=1 skip=$((i * 7)) iflag=direct 2>/dev/null
		sleep 0.5; i=$((i + 1))
	done
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_ok "pages the backend unmapped were purged (pool_purged $u0 -> $(pg_stat pool_purged))" \
		test "$(pg_stat pool_purged)" -gt "$u0"
	tap_ok "the pool shrank ($p0 -> $(pg_stat pool_pages) pages)" test "$(pg_stat pool_pages)" -lt "$p0"
	dd if=/dev/xvda of=/tmp/rb bs=1M count=16 iflag=direct 2>/dev/null
	tap_is "the region still reads back as written" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/mirror)"
	rm -f /tmp/rb
	tap_is "no bad responses" "$(pg_stat bad_responses)" 0

	# ext4 on top, and the disk goes away cleanly with a full pool
	xb_ext4_roundtrip /dev/xvda
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "unbind removes the disk" test ! -b /dev/xvda
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	if [ -r /sys/kernel/debug/xenblk_front/grants ]; then
		tap_is "no grant left after the unbind (debugfs)" "$(cat /sys/kernel/debug/xenblk_front/grants)" 0
	else
		tap_skip "no grant left after the unbind" "no debugfs in this domU"
	fi
	tap_ok "rmmod after the unbind" rmmod xenblk-front
	tap_end
}

dom0_main() {
	if [ "$BACK" = qdisk ]; then
		tap_ok "domU finished" xb_domu_wait_end domu 1200
		tap_end; return 0
	fi
	fe=$(xb_frontend_dir domu)
	be=$(xb_backend_dir domu)
	tap_ok "domU finished phase 1" xb_wait_line domu 'PG-PHASE1-DONE' 1200
	tap_is "frontend key feature-persistent" "$(xenstore-read $fe/feature-persistent)" 1
	tap_is "backend key feature-persistent" "$(xenstore-read $be/feature-persistent)" 1
	if [ "$BACK" = ours ]; then
		# our frontend's indirect pages come from its (read-write) pool
		tap_diag "backend: indirect pages kept $(xb_backend_stat domu ind_kept), mapped per request $(xb_backend_stat domu ind_mapped)"
		tap_ok "the backend read indirect pages through kept mappings" \
			test "$(xb_backend_stat domu ind_kept)" -gt 0
	fi
	case "$BACK" in
	stock) p=/sys/module/xen_blkback/parameters/max_persistent_grants ;;
	ours) p=/sys/module/xenblk_back/parameters/max_persistent_grants ;;
	esac
	tap_ok "lower the backend's bound of persistent grants to 32" sh -c "echo 32 > $p"
	xb_tell domu bound-lowered 1
	tap_ok "domU finished phase 2" xb_wait_line domu 'PG-PHASE2-DONE' 1200
	tap_ok "lower the backend's bound of persistent grants to 4" sh -c "echo 4 > $p"
	xb_tell domu bound-lowered-2 1
	tap_ok "domU finished" xb_domu_wait_end domu 1200
	tap_end
}
