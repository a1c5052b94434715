# Hot-unplug and unload of xenblk-front.  While the disk is open the module
# refuses to unload; xl block-detach during O_DIRECT writes removes the disk,
# the writers end (their next write fails) instead of hanging, and the domU
# kernel log stays clean; with no disk the module unloads and loads again.
# vm-options: --disk loop,size=64 --vcpus 2
# vm-kernels: 6.1
# vm-cells: ours:stock

domu_main() {
	exec 3< /dev/xvda
	tap_ok "rmmod refused while the disk is open" sh -c '! rmmod xenblk_front 2> /dev/null'
	xb_pattern /tmp/p 65536
	for j in 0 1; do
		( while dd if=/tmp/p of=/dev/xvda bs=64k seek=$((j * 16)) oflag=direct 2>/dev/null; do :; done
		  touch /tmp/ended-$j ) &
	done
	sleep 1
	echo "UNPLUG-READY"
	i=0; while [ -e /sys/block/xvda ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "xvda removed by xl block-detach while open and written" test ! -e /sys/block/xvda
	i=0; while [ ! -e /tmp/ended-0 -o ! -e /tmp/ended-1 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "both writers ended (a write failed) instead of hanging" test -e /tmp/ended-0 -a -e /tmp/ended-1
	exec 3<&-
	# the xenbus device (which holds a module reference) goes once the
	# toolstack removed the frontend's xenstore directory
	i=0; while [ -e /sys/bus/xen/devices/vbd-51712 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "the xenbus device is gone" test ! -e /sys/bus/xen/devices/vbd-51712
	tap_ok "module unloads once no disk is left" rmmod xenblk_front
	tap_ok "module loads again" insmod /opt/xenblk/xenblk-front.ko
	tap_ok "and unloads again (no device)" rmmod xenblk_front
	echo "UNPLUG-DONE"
}

dom0_main() {
	tap_ok "domU is writing" xb_wait_line domu 'UNPLUG-READY' 240 || return
	be=$(xb_backend_dir domu)
	sleep 2
	tap_ok "xl block-detach during the writes" xl block-detach domu xvda
	i=0; while xenstore-exists "$be" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	tap_ok "backend directory removed" sh -c "! xenstore-exists $be 2>/dev/null"
}
