# Data integrity through xenblk-front under mixed request sizes: 120 O_DIRECT
# writes of 512 B .. 512 KiB at random sector offsets (so requests are direct,
# indirect, split across pages and unaligned to pages), mirrored into a file;
# then buffered writes and reads through the page cache; the whole region
# must read back identical to the mirror, directly and after dropping caches.
# Ends with mkfs.ext4 + a file copy + fsck on the same disk.
# vm-options: --disk loop,size=64 --vcpus 2
# vm-seconds: 98
# vm-kernels: 6.1
# vm-cells: ours:ours

domu_main() {
	region=$((32 * 2048))   # 32 MiB in sectors
	dd if=/dev/zero of=/tmp/mirror bs=1M count=32 2>/dev/null
	dd if=/tmp/mirror of=/dev/xvda bs=1M count=32 oflag=direct 2>/dev/null
	bad=0
	for i in $(seq 1 120); do
		n=$(( (RANDOM % 1024) + 1 ))                 # sectors: 512 B .. 512 KiB
		s=$(( (RANDOM * 32768 + RANDOM) % (region - n) ))
		dd if=/dev/urandom of=/tmp/chunk bs=512 count=$n 2>/dev/null
		dd if=/tmp/chunk of=/tmp/mirror bs=512 seek=$s conv=notrunc 2>/dev/null
		dd if=/tmp/chunk of=/dev/xvda bs=512 seek=$s oflag=direct conv=notrunc 2>/dev/null || bad=$((bad + 1))
	done
	tap_is "120 O_DIRECT writes of mixed sizes succeed" "$bad" 0
	dd if=/dev/xvda of=/tmp/rb bs=1M count=32 iflag=direct 2>/dev/null
	tap_is "the region reads back as written (O_DIRECT)" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/mirror)"
	rm -f /tmp/rb

	# buffered: page-cache writeback makes large merged requests
	for i in $(seq 1 20); do
		n=$(( (RANDOM % 2048) + 1 ))
		s=$(( (RANDOM * 32768 + RANDOM) % (region - n) ))
		dd if=/dev/urandom of=/tmp/chunk bs=512 count=$n 2>/dev/null
		dd if=/tmp/chunk of=/tmp/mirror bs=512 seek=$s conv=notrunc 2>/dev/null
		dd if=/tmp/chunk of=/dev/xvda bs=512 seek=$s conv=notrunc 2>/dev/null
	done
	sync
	echo 3 > /proc/sys/vm/drop_caches
	dd if=/dev/xvda of=/tmp/rb bs=1M count=32 2>/dev/null
	tap_is "the region reads back after buffered writes and a cache drop" \
		"$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/mirror)"
	rm -f /tmp/rb /tmp/mirror

	xb_ext4_roundtrip /dev/xvda
	grep -q '^bad_responses 0$' /sys/block/xvda/xenblk_stats
	tap_is "no bad responses counted" "$?" 0
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_end
}

dom0_main() {
	tap_ok "domU finished" xb_domu_wait_end domu 600
	tap_end
}
