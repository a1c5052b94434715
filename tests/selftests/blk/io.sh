# Data path basics: O_DIRECT round trips of 512 B .. 1 MiB at unaligned offsets,
# partitions, mkfs.ext4 + fsck, queues = min(vCPUs, backend max), and the keys
# both sides negotiated against what the backend offered.  With Xen's own block
# hotplug script (the cases that need no more use the test bed's lean one).
# vm-options: --disk loop,size=64 --vcpus 2 --hotplug stock
# vm-seconds: 30

domu_main() {
	# O_DIRECT write + read back at offsets that are sector- but not page-aligned
	for size in 512 1024 4096 8192 65536 131072 1048576; do
		for off in 512 3584 61440; do
			pos=$((off + size * 3))
			dd if=/dev/urandom of=/tmp/pat bs=$size count=1 2>/dev/null
			dd if=/tmp/pat of=/dev/xvda bs=$size count=1 seek=$pos oflag=direct,seek_bytes conv=notrunc 2>/tmp/err ||
				{ tap_fail "O_DIRECT write $size B at byte $pos" "$(cat /tmp/err)"; continue; }
			dd if=/dev/xvda of=/tmp/rb bs=$size count=1 skip=$pos iflag=direct,skip_bytes 2>/dev/null
			tap_is "O_DIRECT $size B at byte $pos reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/pat)"
		done
	done

	# loop on a tmpfs file has a volatile write cache, and every backend offers flush
	tap_is "write cache advertised on loop" "$(cat /sys/block/xvda/queue/write_cache)" "write back"

	# one hardware queue per ring the frontend set up (dom0 checks that number)
	nq=$(xenstore-read device/vbd/51712/multi-queue-num-queues 2>/dev/null || echo 1)
	tap_is "one blk-mq queue per negotiated ring ($nq)" "$(ls /sys/block/xvda/mq | wc -l)" "$nq"

	# partitions: two, data written through xvda2 is where the table says
	printf 'label: dos\n2048,40960,83\n,,83\n' | sfdisk -q /dev/xvda > /tmp/sfdisk.log 2>&1
	i=0; while [ ! -b /dev/xvda2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "partition table creates xvda1 and xvda2" test -b /dev/xvda1 -a -b /dev/xvda2
	start2=$(cat /sys/block/xvda/xvda2/start)
	dd if=/dev/urandom of=/tmp/pat bs=64k count=1 2>/dev/null
	dd if=/tmp/pat of=/dev/xvda2 bs=64k count=1 seek=3 oflag=direct 2>/dev/null
	dd if=/dev/xvda of=/tmp/rb bs=512 count=128 skip=$((start2 + 384)) iflag=direct 2>/dev/null
	tap_is "data written to xvda2 lands at its start sector on xvda" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/pat)"

	# a file system on xvda1, checked before and after use
	tap_ok "mkfs.ext4 on xvda1" mkfs.ext4 -q -F /dev/xvda1
	tap_ok "fsck of the new file system is clean" e2fsck -fn /dev/xvda1
	xb_ext4
	mkdir -p /mnt/t && mount -t ext4 /dev/xvda1 /mnt/t
	for n in 1 2 3 4 5; do dd if=/dev/urandom of=/mnt/t/f$n bs=64k count=$((n * 4)) conv=fsync 2>/dev/null; done
	sha256sum /mnt/t/f* > /tmp/sums
	umount /mnt/t && echo 3 > /proc/sys/vm/drop_caches && mount -t ext4 /dev/xvda1 /mnt/t
	tap_ok "files read back after remount" sh -c 'cd / && sha256sum -c -s /tmp/sums'
	umount /mnt/t
	tap_ok "fsck after use is clean" e2fsck -fn /dev/xvda1
	echo "IO-DONE"
	tap_ok "dom0 has checked the negotiated keys" xb_await keys-checked
	tap_end
}

dom0_main() {
	tap_ok "domU finished its I/O" xb_wait_line domu 'IO-DONE' 240
	be=$(xb_backend_dir domu) fe=$(xb_frontend_dir domu)
	tap_is "backend is connected" "$(xenstore-read $be/state)" 4
	maxq=$(xenstore-read $be/multi-queue-max-queues 2>/dev/null || echo 1)
	nq=$(xenstore-read $fe/multi-queue-num-queues 2>/dev/null || echo 1)
	tap_is "frontend uses min(vCPUs, backend max) queues" "$nq" "$(( VCPUS < maxq ? VCPUS : maxq ))"
	maxo=$(xenstore-read $be/max-ring-page-order 2>/dev/null || echo 0)
	o=$(xenstore-read $fe/ring-page-order 2>/dev/null || echo 0)
	tap_ok "ring-page-order $o within the backend's max $maxo" test "$o" -le "$maxo"
	tap_is "protocol is the native x86_64 ABI" "$(xenstore-read $fe/protocol)" x86_64-abi
	# each side only announces persistent-grant support; they are used when both do
	fp=$(xenstore-read $fe/feature-persistent 2>/dev/null)
	tap_ok "frontend's feature-persistent is a 0/1 announcement ('$fp')" test "$fp" = 0 -o "$fp" = 1
	tap_diag "persistent grants: backend $(xenstore-read $be/feature-persistent 2>/dev/null || echo absent), frontend $fp"
	for q in $(seq 0 $((nq - 1))); do
		p=$fe; [ "$nq" -gt 1 ] && p=$fe/queue-$q
		tap_ok "queue $q has a ring-ref and an event channel" \
			sh -c "{ xenstore-read $p/ring-ref > /dev/null 2>&1 || xenstore-read $p/ring-ref0 > /dev/null; } &&
				xenstore-read $p/event-channel > /dev/null"
	done
	tap_diag "backend keys: $(xenstore-ls $be | tr '\n' ' ' | tr -s ' ')"
	xb_tell domu keys-checked 1
	tap_end
}
