# nbd-server killed and started again while the domU's writes are in flight
# on /dev/nbd0, attached with a 5 s request timeout (nbd-client -t 5; without
# one, a request the dead server never answers waits until nbd0 is detached,
# and so does the domain's teardown): the domU's I/O must end, with an I/O
# error or completed after a reconnect (nbd-client's netlink device is not
# reconnected while the backend holds it open, so an error is what Debian's
# tools give), and never hang; a read after it must end too; dom0 must stay
# responsive; `xl destroy` must return and the backend let nbd0 go.  Then nbd0
# attaches to the restarted server, and every record the domU acknowledged
# (fsync returned) before the kill reads back through it.
# vm-options: --disk nbd,size=64,cache=32,timeout=5 --vcpus 2 --timeout 420
# vm-seconds: 25
# vm-cells: stock:ours
# vm-kernels: 6.1
# (6.12 by hand, XENBLK_ALL_KERNELS=1)

NR_SEED=17
NR_FIRST=8192        # region 1 of xb-powercut's records: 4 MiB on
NR_RECORDS=4096      # more than it writes before the kill (~600 a second)

domu_main() {
	tap_is "write cache advertised" "$(cat /sys/block/xvda/queue/write_cache)" "write back"
	xb-powercut write /dev/xvda 1 $NR_SEED $NR_FIRST $NR_RECORDS > /tmp/w 2>&1 &
	wp=$!
	echo "NR-READY"
	# the writer ends at an I/O error, or writes every record ("XB-FULL")
	# and waits; anything else for two minutes is a hang
	i=0 outcome=hang
	while [ $i -lt 600 ]; do
		if ! kill -0 $wp 2>/dev/null; then outcome=ended; break; fi
		grep -q '^XB-FULL' /tmp/w && { outcome=completed; kill $wp; break; }
		sleep 0.2; i=$((i + 1))
	done
	wait $wp 2>/dev/null
	[ "$outcome" = ended ] && grep -q '^XB-IOERR' /tmp/w && outcome=eio
	grep -E '^XB-(IOERR|FULL)' /tmp/w | head -n 3 | while IFS= read -r l; do tap_diag "writer: $l"; done
	case $outcome in
	eio) tap_pass "the writer saw an I/O error once nbd-server died" ;;
	completed) tap_pass "the writer's I/O completed after the reconnect" ;;
	*) tap_fail "the writer's I/O failed or completed within 120 s" "outcome: $outcome; last: $(tail -n 1 /tmp/w)" ;;
	esac
	acked=$(sed -n 's/^XB-ACK 1 \([0-9]*\) ok$/\1/p' /tmp/w | tail -n 1)
	echo "NR-ACKED ${acked:-0}"
	timeout 60 dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
	st=$?
	tap_ok "a read after it ends without hanging (status $st)" test $st -lt 124
	echo "NR-OUTCOME $outcome"
	xb_await checked 300
	tap_end
}

dom0_main() {
	tap_ok "domU started writing" xb_wait_line domu '^NR-READY' 240 || return
	xb_sleep 0.4
	tap_ok "nbd-server killed with the domU's writes in flight" xb_nbd_kill
	xb_sleep 1
	tap_ok "nbd-server started again" xb_nbd_serve
	if xb_nbd_attach > /tmp/nr-attach 2>&1; then
		tap_diag "nbd-client reconnected nbd0 while the backend held it"
	else
		tap_diag "nbd-client could not reconnect nbd0 while the backend holds it: $(tr '\n' ' ' < /tmp/nr-attach)"
	fi
	tap_ok "the domU's I/O ended (I/O error, or completed)" xb_wait_line domu '^NR-OUTCOME (eio|completed)' 200
	acked=$(xb_console_value domu NR-ACKED)
	tap_ok "the domU acknowledged records before the kill ($acked)" test "${acked:-0}" -gt 0
	tap_ok "dom0 answers: the backend's statistics read within 10 s" \
		timeout 10 cat "/sys/bus/xen-backend/devices/vbd-$(xb_domid domu)-$XB_DEVID/statistics/wr_req"
	xb_tell domu checked 1
	tap_ok "domU finished" xb_domu_wait_end domu 120
	tap_ok "xl destroy returns within 60 s" timeout 60 xl destroy domu
	tap_ok "the backend released nbd0 (no device, no xenstore entry)" xb_wait_released domu 60 || return
	xb_nbd_detach
	tap_ok "nbd-client attaches nbd0 to the restarted server" xb_nbd_attach || return
	bad=$(xb-powercut check /dev/nbd0 1 $NR_SEED $NR_FIRST "${acked:-0}" 2>&1 |
		sed -n 's/^XB-CHECK [0-9]* [0-9]* \([0-9]*\)$/\1/p')
	tap_is "the $acked acknowledged records read back through it (damaged)" "${bad:-no answer}" 0
	tap_end
}
