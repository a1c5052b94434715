# Persistent grants in xenblk-back.  The backend offers feature-persistent, the
# frontend (stock or ours) takes it, and the backend's counters show kept
# mappings being reused (statistics/pgnt_hits, pgnt_kept), indirect pages
# included (ind_kept).  Data written and
# read in parallel O_DIRECT streams compares equal.  Lowering
# max_persistent_grants to 8 makes the backend unmap its least recently used
# mappings (pgnt_evicted) and keep at most 8 per ring, with the data intact.
# Finally the domU is destroyed while its I/O runs: the backend must release
# the device and unmap every grant, so that Xen can finish destroying the
# domain (a page still mapped keeps a dying domain in `xl list`), and a second
# domU reads the data back.
# vm-options: --disk loop,size=64 --vcpus 2 --timeout 1800
# vm-seconds: 56
# vm-cells: stock:ours

pb_io() {
	pids=""
	for j in 0 1 2 3; do
		xb_pattern /tmp/p$j 4194304
		dd if=/tmp/p$j of=/dev/xvda bs=1M seek=$((j * 4 + $1)) oflag=direct 2>/dev/null &
		pids="$pids $!"
	done
	bad=0
	for pid in $pids; do wait "$pid" || bad=$((bad + 1)); done
	tap_is "$2: four parallel 4 MiB O_DIRECT writes succeed" "$bad" 0
	for j in 0 1 2 3; do
		dd if=/dev/xvda of=/tmp/r$j bs=1M count=4 skip=$((j * 4 + $1)) iflag=direct 2>/dev/null &
	done
	wait
	ok=0
	for j in 0 1 2 3; do
		cmp -s /tmp/r$j /tmp/p$j && ok=$((ok + 1))
	done
	rm -f /tmp/r0 /tmp/r1 /tmp/r2 /tmp/r3
	tap_is "$2: the four regions read back as written" "$ok" 4
	for j in 0 1 2 3; do
		echo "REGION $1 $j $(sha256sum < /tmp/p$j | cut -d' ' -f1)"
	done
}

domu_main() {
	if [ "$XB_NAME" = verify ]; then
		for j in 0 1 2 3; do
			dd if=/dev/xvda of=/tmp/r bs=1M count=4 skip=$((32 + j * 4)) iflag=direct 2>/dev/null
			echo "AFTER $j $(sha256sum < /tmp/r | cut -d' ' -f1)"
		done
		tap_end; return 0
	fi
	fe=device/vbd/51712
	tap_is "the frontend announces feature-persistent" "$(xenstore-read $fe/feature-persistent)" 1
	pb_io 0 "first pass"
	echo "PB-PHASE1-DONE"
	tap_ok "dom0 lowered the bound" xb_await bound-lowered 1200
	pb_io 16 "bound 8"
	pb_io 32 "bound 8, again"
	tap_end
	xb_domu_finish
	echo "PB-PHASE2-DONE"
	# keep I/O going until dom0 destroys this domain
	while :; do
		dd if=/dev/xvda of=/dev/null bs=1M count=16 iflag=direct 2>/dev/null
		dd if=/dev/zero of=/dev/xvda bs=1M count=8 seek=48 oflag=direct 2>/dev/null
	done
	tap_end
}

dom0_main() {
	be=$(xb_backend_dir domu)
	fe=$(xb_frontend_dir domu)
	p=/sys/module/xenblk_back/parameters/max_persistent_grants
	tap_ok "domU finished the first pass" xb_wait_line domu 'PB-PHASE1-DONE' 1200 || return
	tap_is "backend key feature-persistent" "$(xenstore-read $be/feature-persistent)" 1
	tap_is "frontend key feature-persistent" "$(xenstore-read $fe/feature-persistent)" 1
	rings=$(xenstore-read $fe/multi-queue-num-queues 2>/dev/null || echo 1)
	tap_diag "rings $rings; pgnt: hits $(xb_backend_stat domu pgnt_hits) mapped $(xb_backend_stat domu pgnt_mapped) kept $(xb_backend_stat domu pgnt_kept) evicted $(xb_backend_stat domu pgnt_evicted) full $(xb_backend_stat domu pgnt_full)"
	tap_ok "kept mappings were reused (pgnt_hits)" test "$(xb_backend_stat domu pgnt_hits)" -gt 0
	tap_ok "mappings are kept between requests (pgnt_kept)" test "$(xb_backend_stat domu pgnt_kept)" -gt 0
	bound=$(cat $p)
	tap_ok "no more than max_persistent_grants ($bound) per ring" \
		test "$(xb_backend_stat domu pgnt_kept)" -le $((bound * rings))
	tap_is "no grant failed to map" "$(xb_backend_stat domu pgnt_map_failed)" 0
	# 1 MiB requests are indirect ones: the stock frontend grants its indirect
	# pages read-write when persistent, so the backend keeps them mapped too
	tap_diag "indirect pages: kept $(xb_backend_stat domu ind_kept), mapped per request $(xb_backend_stat domu ind_mapped)"
	tap_ok "indirect pages read through kept mappings (ind_kept)" test "$(xb_backend_stat domu ind_kept)" -gt 0
	e0=$(xb_backend_stat domu pgnt_evicted)
	tap_ok "lower max_persistent_grants to 8" sh -c "echo 8 > $p"
	xb_tell domu bound-lowered 1
	tap_ok "domU finished the second pass" xb_wait_line domu 'PB-PHASE2-DONE' 1200 || return
	tap_diag "pgnt: hits $(xb_backend_stat domu pgnt_hits) mapped $(xb_backend_stat domu pgnt_mapped) kept $(xb_backend_stat domu pgnt_kept) evicted $(xb_backend_stat domu pgnt_evicted) full $(xb_backend_stat domu pgnt_full)"
	tap_ok "least recently used mappings were unmapped (pgnt_evicted)" \
		test "$(xb_backend_stat domu pgnt_evicted)" -gt "$e0"
	tap_ok "at most 8 kept per ring" test "$(xb_backend_stat domu pgnt_kept)" -le $((8 * rings))
	echo "$bound" > $p
	for j in 0 1 2 3; do
		# once more if a helper died of the TCG busybox flake
		w=$(xb_console_value domu "REGION 32 $j")
		[ -n "$w" ] || w=$(xb_console_value domu "REGION 32 $j")
		tap_ok "the domU reported region $j's checksum" test -n "$w"
		echo "$w" > /tmp/want-$j
	done

	sleep 2   # the domU's I/O loop is running
	id=$(xb_domid domu)
	xb_domu_destroy domu
	tap_ok "backend released the device of a domU destroyed with I/O in flight" xb_wait_released domu 60
	i=0
	while xl list 2>/dev/null | awk 'NR > 1 { print $2 }' | grep -qx "$id" && [ $i -lt 40 ]; do
		sleep 0.5; i=$((i + 1))
	done
	tap_ok "the destroyed domain is gone (no grant left mapped)" \
		sh -c "! xl list 2>/dev/null | awk 'NR > 1 { print \$2 }' | grep -qx $id"
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	tap_is "the backend holds no mapped grant (debugfs)" "$(cat /sys/kernel/debug/xenblk_back/grants)" 0
	tap_ok "second domU started on the same disk" xb_domu_start verify
	xb_domu_wait_end verify 900
	for j in 0 1 2 3; do
		tap_is "second domU reads region $j intact" "$(xb_console_value verify "AFTER $j")" "$(cat /tmp/want-$j)"
	done
	tap_end
}
