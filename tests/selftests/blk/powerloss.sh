# The power-loss simulator is real: on null_blk with a volatile cache, data
# written and flushed survives a power cycle after `xl destroy`, data written
# without a flush is lost; the domU's flush count, the backend's f_req and the
# device's flush count agree.  After the power cycle a second domU ("verify")
# reads the regions back through the frontend and backend under test.
# vm-options: --disk nullb,size=64,cache=32 --vcpus 2
# vm-seconds: 52
# vm-cells: stock:stock ours:stock stock:ours
# (it reads the kernel backend's sysfs statistics, which qdisk does not have)

domu_main() {
	[ "$XB_NAME" != verify ] || { verify_main; tap_end; return; }
	tap_is "write cache advertised (device has a volatile cache)" \
		"$(cat /sys/block/xvda/queue/write_cache)" "write back"
	xb_pattern /tmp/a 1048576; xb_pattern /tmp/b 1048576; xb_pattern /tmp/c 1048576
	# A and B flushed (fsync on the raw disk: one flush each), C never flushed
	dd if=/tmp/a of=/dev/xvda bs=1M seek=0 oflag=direct conv=fsync 2>/dev/null
	dd if=/tmp/b of=/dev/xvda bs=1M seek=2 oflag=direct conv=fsync 2>/dev/null
	dd if=/tmp/c of=/dev/xvda bs=1M seek=4 oflag=direct 2>/dev/null
	tap_is "two fsyncs gave two flushes in the domU" "$(xb_flushes)" 2
	for r in a b c; do echo "REGION $r $(sha256sum < /tmp/$r | cut -d' ' -f1)"; done
	tap_end
	xb_domu_finish
	echo "POWERLOSS-READY flushes=$(xb_flushes)"
	while :; do sleep 60; done   # dom0 destroys this domain now
	tap_end
}

# second domU: prints the checksums of the three regions as it reads them now
verify_main() {
	for r in a:0 b:2 c:4; do
		dd if=/dev/xvda of=/tmp/r bs=1M count=1 skip=${r#*:} iflag=direct 2>/dev/null
		echo "AFTER ${r%%:*} $(sha256sum < /tmp/r | cut -d' ' -f1)"
	done
}

dom0_main() {
	tap_ok "domU wrote its regions" xb_wait_line domu 'POWERLOSS-READY' 240 || return
	be=$(xb_backend_dir domu)
	tap_is "backend offers flush-cache on a write-back device" "$(xenstore-read $be/feature-flush-cache)" 1
	fe_flushes=$(xb_console_value domu "POWERLOSS-READY flushes=")
	tap_is "backend f_req equals the domU's flush count" "$(xb_backend_stat domu f_req)" "$fe_flushes"
	tap_is "device flush count equals the domU's flush count" "$(xb_disk_flushes)" "$fe_flushes"

	# the control: the unflushed region did reach the device (its cache) before
	# the cut, so that "lost" below means dropped, not never written
	xb_disk_read 8192 2048 /tmp/r
	want_c=$(xb_console_value domu "REGION c")
	tap_ok "unflushed region c is on the device before the cut" \
		test -n "$want_c" -a "$(sha256sum < /tmp/r | cut -d' ' -f1)" = "$want_c"

	xb_domu_destroy domu
	tap_ok "backend released the disk" xb_wait_released domu 60
	tap_ok "null_blk power cycle" xb_nullb_power_cycle

	for r in a:0 b:4096 c:8192; do   # 1 MiB regions at 0, 2 and 4 MiB
		name=${r%%:*}
		set -- $(xb_region_read "${r#*:}" /tmp/r)
		tap_diag "region $name: $1 4 KiB blocks kept, $2 lost"
		if [ "$name" = c ]; then
			tap_is "unflushed region $name is lost (blocks lost)" "$2" 256
		else
			want=$(xb_console_value domu "REGION $name")
			tap_ok "the domU reported region $name's checksum" test -n "$want"
			tap_is "flushed region $name survives intact" "$(sha256sum < /tmp/r | cut -d' ' -f1)" "$want"
			echo "$want" > /tmp/want-$name
		fi
	done

	# the same data seen by a fresh guest through the drivers under test
	tap_ok "second domU started on the same disk" xb_domu_start verify
	xb_domu_wait_end verify 240
	for name in a b; do
		tap_is "second domU reads flushed region $name intact" \
			"$(xb_console_value verify "AFTER $name")" "$(cat /tmp/want-$name)"
	done
	tap_end
}
