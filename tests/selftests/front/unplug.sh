# Hot-unplug, unload and reload of xenblk-front.  While the disk is open the
# module refuses to unload; xl block-detach during fio (random O_DIRECT writes,
# QD 32, two jobs) removes the disk, fio ends with an I/O error instead of
# hanging, and the domU kernel log stays clean; with no disk the module unloads
# and loads again, and a disk that xl block-attach then gives the domU is
# probed by the reloaded module and takes I/O that reads back.
# vm-options: --disk loop,size=64 --vcpus 2 --with fio
# vm-seconds: 35
# vm-cells: ours:stock

# writes the disk completed (/sys/block/xvda/stat field 5)
unplug_writes() { awk '{print $5}' /sys/block/xvda/stat 2>/dev/null || echo 0; }

domu_main() {
	exec 3< /dev/xvda
	tap_ok "rmmod refused while the disk is open" sh -c '! rmmod xenblk_front 2> /dev/null'
	# fio, until its writes are under way; started once more if it died
	# before writing (the test bed's TCG flake kills a process now and then)
	for attempt in 1 2; do
		fio --name=unplug --filename=/dev/xvda --direct=1 --ioengine=libaio --iodepth=32 \
			--numjobs=2 --offset_increment=32m --size=32m --rw=randwrite --bsrange=4k-256k \
			--time_based --runtime=900 > /tmp/fio.log 2>&1 &
		fio_pid=$!
		w0=$(unplug_writes); i=0
		while [ $(($(unplug_writes) - w0)) -lt 200 ] && kill -0 $fio_pid 2> /dev/null &&
		      [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 $fio_pid 2> /dev/null && break
		wait $fio_pid; st=$?
		tap_diag "fio ended before the detach (attempt $attempt, status $st): $(tail -n 2 /tmp/fio.log | tr '\n' ' ')"
	done
	if ! tap_ok "fio is writing (200 writes completed)" test $(($(unplug_writes) - w0)) -ge 200; then
		kill -9 $fio_pid 2> /dev/null
		echo "UNPLUG-ABORT"   # dom0 must not detach: nothing would be tested
		return
	fi
	echo "UNPLUG-READY"
	i=0; while [ -e /sys/block/xvda ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "xvda removed by xl block-detach while open and under fio" test ! -e /sys/block/xvda
	i=0; while kill -0 $fio_pid 2> /dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "fio ended instead of hanging" sh -c "! kill -0 $fio_pid 2> /dev/null"
	kill -9 $fio_pid 2> /dev/null
	wait $fio_pid; st=$?
	tap_diag "fio: status $st; $(grep -E 'err=|error' /tmp/fio.log | head -n 3 | tr -s ' ' | tr '\n' ';')"
	# an I/O error, not a crash: fio failed its writes and said so
	tap_ok "fio reported the failed writes (exit status $st)" \
		sh -c "[ $st -ne 0 ] && [ $st -lt 128 ] && grep -q 'io_u error' /tmp/fio.log"
	exec 3<&-
	# the xenbus device (which holds a module reference) goes once the
	# toolstack removed the frontend's xenstore directory
	i=0; while [ -e /sys/bus/xen/devices/vbd-51712 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "the xenbus device is gone" test ! -e /sys/bus/xen/devices/vbd-51712
	tap_ok "module unloads once no disk is left" rmmod xenblk_front
	tap_ok "module loads again" insmod /opt/xenblk/xenblk-front.ko
	tap_ok "and unloads again (no device)" rmmod xenblk_front
	tap_ok "and loads again" insmod /opt/xenblk/xenblk-front.ko || return
	echo "UNPLUG-RELOADED"
	# dom0 attaches the disk again: the reloaded module must probe it
	i=0; while [ ! -b /dev/xvda ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	if ! tap_ok "xl block-attach after the reload brings xvda back" test -b /dev/xvda; then
		tap_diag "vbd: $(ls /sys/bus/xen/devices/ 2>&1 | tr '\n' ' ')"
		tap_diag "state: $(xenstore-read device/vbd/51712/state 2>&1) backend: $(xenstore-read device/vbd/51712/backend 2>&1)"
		dmesg | grep -iE 'xenblk|vbd|xvd' | tail -n 20 | while read -r l; do tap_diag "dmesg: $l"; done
		return
	fi
	tap_is "its driver is xenblk-front's" \
		"$(basename "$(readlink /sys/bus/xen/devices/vbd-51712/driver/module)")" xenblk_front
	xb_pattern /tmp/p 1048576
	tap_ok "1 MiB written to the attached disk (O_DIRECT)" dd if=/tmp/p of=/dev/xvda bs=64k seek=64 oflag=direct
	tap_is "and read back" "$(dd if=/dev/xvda bs=64k skip=64 count=16 iflag=direct 2>/dev/null | sha256sum)" \
		"$(sha256sum < /tmp/p)"
	tap_ok "an fsync on the attached disk" dd if=/tmp/p of=/dev/xvda bs=4k count=1 seek=1024 conv=fsync
	tap_ok "no bad response" grep -q '^bad_responses 0$' /sys/block/xvda/xenblk_stats
	echo "UNPLUG-DONE"
	tap_end
}

dom0_main() {
	tap_ok "domU is running fio" xb_wait_line domu '^UNPLUG-(READY|ABORT)' 240 || return
	if grep -q '^UNPLUG-ABORT' "$XB_CONSOLE_DIR/guest-domu.log"; then
		tap_fail "fio ran in the domU" "see the domu| lines"
		return
	fi
	be=$(xb_backend_dir domu)
	sleep 2
	tap_ok "xl block-detach during fio" xl block-detach domu xvda
	i=0; while xenstore-exists "$be" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	tap_ok "backend directory removed" sh -c "! xenstore-exists $be 2>/dev/null"
	tap_ok "domU reloaded the module" xb_wait_line domu 'UNPLUG-RELOADED' 240 || return
	tap_ok "xl block-attach of the disk again" \
		xl block-attach domu "format=raw,vdev=xvda,access=rw,target=$(xb_disk)"
	tap_ok "the domU used the attached disk" xb_wait_line domu 'UNPLUG-DONE' 300
	tap_end
}
