# A hostile frontend: xb-hostile-front takes over the domU's vbd from userspace
# (no frontend driver), sends malformed requests between valid ones and finally
# a producer index far ahead of the ring; after a reconnect with persistent
# grants, indirect requests through kept mappings.  The backend must answer each bad
# request with an error and the request's id, keep serving valid ones, stop the
# ring on the overflow and still close cleanly; dom0 must stay healthy (kernel
# log, statistics, its own reads of the disk).  See "The hostile frontend" in
# Documentation/hostile-peers.md.
# vm-options: --disk loop,size=64 --vcpus 1
# vm-seconds: 45
# vm-backends: stock ours
# vm-front: none
# (it reads the kernel backend's sysfs statistics, which qdisk does not have)

HOSTILE_SECTOR=2048   # where the tool writes its pattern page (8 sectors)

# dom0's kernel log in /tmp/klog.  busybox under TCG now and then dies of a
# segfault: an empty log is read once more rather than taken for a clean one.
klog() { { dmesg > /tmp/klog && [ -s /tmp/klog ]; } 2>/dev/null || dmesg > /tmp/klog; }
# The same flake can kill a command inside a helper's wait loop, which then
# gives up at once: wait a second time before calling it a failure.
twice() { "$@" && return 0; tap_diag "retrying: $*"; "$@"; }
# interrupts of the backend's event channels so far (ours: xenblk-back, the
# stock one: blkif-backend), all CPUs
backend_irqs() {
	awk '/xenblk-back|blkif-backend/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i }
		END { print n + 0 }' /proc/interrupts
}

domu_main() {
	if [ "$FRONT" != none ]; then
		tap_skip "hostile frontend" "needs --front none (a frontend driver owns the vbd)"
		tap_end; return
	fi
	tap_ok "xen-evtchn and xen-gntalloc load" modprobe -a xen-evtchn xen-gntalloc || return
	# our backend must answer exactly as the core's validation rules say
	strict=; [ "$BACK" = ours ] && strict=--strict
	# our backend: dom0's netlink monitor listens before the first bad request
	[ "$BACK" != ours ] || xb_await monitor-ready 240 > /dev/null ||
		tap_fail "dom0's monitor is listening"
	xb-hostile-front --hold hostile-go --hold-timeout 400 --timeout 5 $strict 2>&1 | tee /tmp/hostile.out
	# the tool's TAP lines, renumbered into this domU's stream
	xb_tap_relay /tmp/hostile.out
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' /tmp/hostile.out)
	tap_is "xb-hostile-front ran to its end (results = plan)" \
		"$(grep -cE '^(not )?ok ' /tmp/hostile.out)" "${plan:-no plan}"
	tap_end
}

dom0_main() {
	if [ "$FRONT" != none ]; then
		tap_skip "hostile frontend" "needs --front none (a frontend driver owns the vbd)"
		tap_end; return
	fi
	if [ "$BACK" = ours ]; then
		# the events our backend sends while it is attacked
		xbctl -j monitor > /tmp/mon 2> /tmp/mon.err &
		mon_pid=$!
		i=0; while ! grep -q listening /tmp/mon.err 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
		tap_ok "xbctl monitor is listening" grep -q listening /tmp/mon.err
		xb_tell domu monitor-ready 1
	fi
	# a second of notifications without a request: the backend EOIs them as
	# spurious (XSA-332) and Linux's event code delays the next ones, so the
	# backend takes far fewer interrupts than it was sent notifications
	# (measured on 6.1: 201 of 468 and 215 of 536; with EOIs not flagged
	# spurious 437 of 450 and 475 of 480)
	tap_ok "hostile frontend ready to flood" twice xb_wait_line domu '^XB-FLOOD-READY' 300
	i0=$(backend_irqs)
	xb_tell domu flood-go 1
	tap_ok "flood sent" twice xb_wait_line domu '^XB-FLOOD-DONE' 120
	i1=$(backend_irqs)
	xb_tell domu flood-counted 1
	n=$(xb_console_value domu "XB-FLOOD-DONE ")
	tap_ok "the backend took $((i1 - i0)) interrupts for $n notifications without a request (under 3/4)" \
		test "${n:-0}" -ge 100 -a $(( (i1 - i0) * 4 )) -lt $(( ${n:-0} * 3 ))
	tap_ok "hostile frontend ran its scenarios" \
		twice xb_wait_line domu '^(XB-HOSTILE-HOLD|XENBLK-DOMU-END)' 300
	if ! grep -q '^XB-HOSTILE-HOLD' "$XB_CONSOLE_DIR/guest-domu.log"; then
		tap_fail "hostile frontend reached its hold point" "see the domu| lines"
		return
	fi
	be=$(xb_backend_dir domu)
	tap_is "backend still in state Connected after the overflow" "$(xenstore-read "$be/state")" 4
	stats=
	for s in rd_req wr_req f_req ds_req oo_req rd_sect wr_sect; do
		stats="$stats $s=$(xb_backend_stat domu $s)"
	done
	tap_diag "backend statistics:$stats"
	tap_ok "backend counted the valid write (wr_req >= 1)" [ "$(xb_backend_stat domu wr_req)" -ge 1 ]
	tap_ok "backend counted the valid reads (rd_sect >= 32)" [ "$(xb_backend_stat domu rd_sect)" -ge 32 ]

	# dom0 reads its disk, and the page the valid WRITE put there
	i=0; while [ $i -lt 256 ]; do printf 'xb-hostile-page\n'; i=$((i + 1)); done > /tmp/want
	tap_ok "dom0 reads the whole disk" xb_disk_read 0 $((DISK_SIZE * 2048)) /dev/null
	xb_disk_read $HOSTILE_SECTOR 8 /tmp/got
	tap_ok "the valid WRITE reached the disk" cmp -s /tmp/got /tmp/want
	klog
	tap_ok "dom0 kernel log readable" test -s /tmp/klog
	tap_diag "dom0 log lines about a halted ring: $(grep -c 'bogus ring requests' /tmp/klog)"
	bad=$(grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection' /tmp/klog | grep -v ' traps: ' || true)
	tap_is "dom0 kernel log clean while the ring is stopped" "$bad" ""

	if [ "$BACK" = ours ]; then
		dev=vbd-$(xb_domid domu)-51712
		sleep 1
		tap_diag "events: $(tr '\n' ' ' < /tmp/mon)"
		tap_ok "monitor: bad_request events for the rejected requests" \
			grep -q "\"event\":\"bad_request\",\"name\":\"$dev\"" /tmp/mon
		tap_ok "monitor: a ring_error event for the overflow" \
			grep -q "\"event\":\"ring_error\",\"name\":\"$dev\".*overran the ring" /tmp/mon
		tap_ok "monitor -j: every line is JSON" xb-json lines < /tmp/mon
		kill $mon_pid 2>/dev/null
	fi
	xb_tell domu hostile-go 1   # the tool now closes the device
	tap_ok "domU finished" twice xb_domu_wait_end domu 120
	tap_is "backend Closed after the frontend closed" "$(xenstore-read "$be/state")" 6
	if [ "$BACK" = ours ]; then
		# the second session used persistent grants: its indirect pages were
		# kept, the read-only one mapped for its request only
		tap_diag "indirect pages: kept $(xb_backend_stat domu ind_kept), mapped per request $(xb_backend_stat domu ind_mapped)"
		tap_ok "persistent session: an indirect page read through its kept mapping (ind_kept)" \
			test "$(xb_backend_stat domu ind_kept)" -ge 1
	fi
	tap_ok "dom0 still reads the disk after the close" xb_disk_read 0 2048 /dev/null
	tap_end
}
