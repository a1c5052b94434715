# Flush modes of xenblk-front against a backend offering flush and barrier (loop,
# write back): the queue's write_cache/fua flags follow the mode exactly, each
# fsync sends exactly one flush (the backend's f_req agrees), and the module
# unloads cleanly and reconnects.  The frontend is reloaded with
# use_flush_cache=0 (BARRIER mode: write back + FUA, flushes go out as empty
# barriers) and with use_flush_cache=0 use_barrier=0 (NONE: write through, no
# flush sent).  The backend's own "neither" case is blk/writethrough.sh (brd).
# Reloading: xenbus holds a module reference per bound device, so the disk is
# unbound first (the frontend closes, the backend waits for a reconnect), then
# rmmod (no disks left) must succeed, and insmod must reconnect.  With a file
# system mounted, rmmod is refused and an unbind fails the I/O without a crash.
# vm-options: --disk loop,size=64 --vcpus 2
# vm-skip: the stock backend may not show its statistics again after a reconnect (f_req check)
# vm-fronts: ours
# vm-backends: stock

fe_unbind() { echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind; }

fe_reload() {
	fe_unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	rmmod xenblk-front 2>/tmp/rmmod.err
	tap_is "rmmod with no disks succeeds ($*)" "$?" 0
	i=0; while [ -b /dev/xvda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "xvda is gone after rmmod" test ! -b /dev/xvda
	insmod /opt/xenblk/xenblk-front.ko "$@"
	i=0; while [ ! -b /dev/xvda ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "xvda is back after insmod $*" test -b /dev/xvda
}

fe_mode() { sed -n 's/^flush_mode //p' /sys/block/xvda/xenblk_stats; }
fe_stat() { awk -v op="$1" '$1 == op && $2 == "requests" { print $3 }' /sys/block/xvda/xenblk_stats; }

fsyncs() {
	xb_pattern /tmp/p 65536
	for i in $(seq 1 "$1"); do dd if=/tmp/p of=/dev/xvda bs=64k seek=$i oflag=direct conv=fsync 2>/dev/null; done
	dd if=/dev/xvda of=/tmp/rb bs=64k count=1 skip="$1" iflag=direct 2>/dev/null
	tap_is "data written before the fsyncs reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/p)"
}

domu_main() {
	# FLUSH mode
	tap_is "flush mode: flush" "$(fe_mode)" flush
	tap_is "flush mode: write cache on" "$(cat /sys/block/xvda/queue/write_cache)" "write back"
	tap_is "flush mode: no FUA" "$(cat /sys/block/xvda/queue/fua)" 0
	f0=$(xb_flushes)
	fsyncs 5
	tap_is "flush mode: 5 fsyncs are 5 flushes in the domU" "$(( $(xb_flushes) - f0 ))" 5
	tap_is "flush mode: 5 FLUSH_DISKCACHE requests completed" "$(fe_stat flush)" 5
	echo "FLUSH-DONE"
	tap_ok "dom0 counted the flushes" xb_await flush-counted

	# BARRIER mode
	fe_reload use_flush_cache=0
	tap_is "barrier mode: barrier" "$(fe_mode)" barrier
	tap_is "barrier mode: write cache on" "$(cat /sys/block/xvda/queue/write_cache)" "write back"
	tap_is "barrier mode: FUA on (data barriers)" "$(cat /sys/block/xvda/queue/fua)" 1
	f0=$(xb_flushes)
	fsyncs 4
	tap_is "barrier mode: 4 fsyncs are 4 flushes in the domU" "$(( $(xb_flushes) - f0 ))" 4
	tap_is "barrier mode: 4 WRITE_BARRIER requests, no FLUSH_DISKCACHE" \
		"$(fe_stat barrier) $(fe_stat flush)" "4 0"
	echo "BARRIER-DONE"
	tap_ok "dom0 counted the barriers" xb_await barrier-counted

	# NONE
	fe_reload use_flush_cache=0 use_barrier=0
	tap_is "no mode: none" "$(fe_mode)" none
	tap_is "no mode: write through" "$(cat /sys/block/xvda/queue/write_cache)" "write through"
	tap_is "no mode: no FUA" "$(cat /sys/block/xvda/queue/fua)" 0
	f0=$(xb_flushes)
	fsyncs 3
	tap_is "no mode: fsync sends no flush" "$(( $(xb_flushes) - f0 ))" 0
	tap_is "no mode: no flush or barrier request" "$(fe_stat barrier) $(fe_stat flush)" "0 0"

	# unload refused while the disk is in use, and the disk keeps working
	xb_ext4
	mkfs.ext4 -q -F /dev/xvda && mkdir -p /mnt/t && mount -t ext4 /dev/xvda /mnt/t
	tap_ok "rmmod is refused while a file system is mounted" sh -c '! rmmod xenblk-front 2>/dev/null'
	xb_pattern /mnt/t/f 1048576
	sha=$(sha256sum < /mnt/t/f)
	umount /mnt/t && mount -t ext4 /dev/xvda /mnt/t
	tap_is "the mounted disk still works after the refused rmmod" "$(sha256sum < /mnt/t/f)" "$sha"
	umount /mnt/t
	fe_reload
	tap_is "default mode again after reload: flush" "$(fe_mode)" flush
	tap_ok "fsck after the reloads is clean" e2fsck -fn /dev/xvda

	# removal while a file system is mounted: I/O fails, nothing crashes
	mount -t ext4 /dev/xvda /mnt/t
	fe_unbind
	tap_ok "the disk goes away while mounted" sh -c 'i=0; while [ -b /dev/xvda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; [ ! -b /dev/xvda ]'
	dd if=/dev/zero of=/mnt/t/after bs=4k count=16 conv=fsync 2>/dev/null
	tap_ok "writes to the removed disk fail" test $? -ne 0
	umount /mnt/t 2>/dev/null || umount -l /mnt/t
	tap_ok "rmmod succeeds once the disk is gone" rmmod xenblk-front
	echo "FRONT-DONE"
	tap_end
}

dom0_main() {
	be=$(xb_backend_dir domu)
	tap_ok "domU finished the flush phase" xb_wait_line domu 'FLUSH-DONE' 240 || return
	tap_is "backend offers flush-cache" "$(xenstore-read $be/feature-flush-cache)" 1
	tap_is "backend offers barrier" "$(xenstore-read $be/feature-barrier)" 1
	tap_is "backend f_req: 5 flushes" "$(xb_backend_stat domu f_req)" 5
	xb_tell domu flush-counted 1
	tap_ok "domU finished the barrier phase" xb_wait_line domu 'BARRIER-DONE' 240 || return
	# the backend's counters restart at a reconnect (4) or keep counting (5 + 4);
	# the stock backend may not show its statistics again after a reconnect
	if [ -e "/sys/bus/xen-backend/devices/vbd-$(xb_domid domu)-51712/statistics/f_req" ]; then
		f=$(xb_backend_stat domu f_req)
		tap_ok "backend f_req after the reconnect counts 4 barriers ($f)" test "$f" = 4 -o "$f" = 9
	else
		tap_skip "backend f_req after the reconnect" "the backend shows no statistics after a reconnect"
	fi
	xb_tell domu barrier-counted 1
	tap_ok "domU finished" xb_wait_line domu 'FRONT-DONE' 300
	tap_end
}
