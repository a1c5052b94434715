# Bounce mode for untrusted backends (issue 21 item 5).  Without persistent
# grants a trusted backend is granted the guest's own pages (direct_grants
# counts them).  With the module parameter trusted=0, and then with the
# device's xenstore key trusted=0 (which the toolstack writes; here the domU
# writes it into its own directory), every byte goes through the ring's pool
# of granted pages although the backend offers no persistent grants: bounce
# 1, no direct grant, the pool grows and is reused, and when idle the only
# grants left are the pool's (debugfs).  Odd-sized O_DIRECT writes and reads
# at sector offsets compare with a mirror, and ext4 works on top.  Before the
# fix the parameter did not exist and the guest's pages were granted whole.
# vm-options: --disk loop,size=64 --vcpus 2 --timeout 900
# vm-seconds: 65
# vm-skip: the grant counts, when the domU has no debugfs
# vm-kernels: 6.1
# (6.12 by hand, XENBLK_ALL_KERNELS=1: about two minutes a run, and nothing in it differs between the kernels)
# vm-cells: ours:ours

stat_of() { sed -n "s/^$1 //p" /sys/block/xvda/xenblk_stats; }
prm=/sys/module/xenblk_front/parameters

rebind() {
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/bind
	i=0; while [ ! -b /dev/xvda ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "$1: xvda reconnected" test -b /dev/xvda
}

# N O_DIRECT writes of 1..64 sectors at random sector offsets in the first
# 4 MiB, mirrored; then the region read back in odd-sized pieces and compared
bn_io() {
	region=8192
	bad=0
	for i in $(seq 1 "$1"); do
		n=$(( (RANDOM % 64) + 1 ))
		s=$(( (RANDOM * 32768 + RANDOM) % (region - n) ))
		dd if=/dev/urandom of=/tmp/c bs=512 count=$n 2>/dev/null
		dd if=/tmp/c of=/tmp/mirror bs=512 seek=$s conv=notrunc 2>/dev/null
		dd if=/tmp/c of=/dev/xvda bs=512 seek=$s oflag=direct conv=notrunc 2>/dev/null || bad=$((bad + 1))
	done
	tap_is "$2: $1 odd-sized O_DIRECT writes succeed" "$bad" 0
	xb_readback $region 1 67 "$2"   # pieces of 1 .. 67 sectors
}

grants() { cat /sys/kernel/debug/xenblk_front/grants 2>/dev/null || echo none; }
# idle, the frontend's grants are its pool pages (the purge may free some
# between two reads: look again)
grants_are_pool() {
	for t in 1 2 3 4 5; do
		[ "$(grants)" = "$(stat_of pool_pages)" ] && return 0
		sleep 0.5
	done
	tap_diag "grants $(grants), pool_pages $(stat_of pool_pages)"
	return 1
}

domu_main() {
	fe=device/vbd/51712
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	tap_is "trusted by default" "$(cat $prm/trusted 2>&1)" Y
	tap_is "bounce off by default" "$(stat_of bounce)" 0
	key0=$(xenstore-read $fe/trusted 2>/dev/null || echo absent)
	tap_diag "the toolstack's trusted key: $key0"

	# trusted, no persistent grants: the guest's pages are granted
	echo 0 > $prm/feature_persistent
	rebind "trusted, no persistent grants" || return
	tap_is "trusted: persistent grants off" "$(stat_of persistent)" 0
	tap_is "trusted: bounce off" "$(stat_of bounce)" 0
	dd if=/dev/xvda of=/tmp/mirror bs=512 count=8192 iflag=direct 2>/dev/null
	bn_io 10 "trusted"
	tap_ok "trusted: the guest's pages were granted (direct_grants $(stat_of direct_grants))" \
		test "$(stat_of direct_grants)" -gt 0
	tap_is "trusted: the pool is unused" "$(stat_of pool_pages)" 0

	# trusted=0: bounce through the pool although the backend keeps nothing
	tap_ok "trusted=0 (module parameter)" sh -c "echo 0 > $prm/trusted"
	rebind "trusted=0" || return
	tap_is "trusted=0: persistent grants off" "$(stat_of persistent)" 0
	tap_is "trusted=0: bounce on" "$(stat_of bounce)" 1
	tap_ok "trusted=0: the connect log says bounce" \
		sh -c 'dmesg | tail -n 20 | grep -q "persistent grants off, bounce (untrusted backend)"'
	bn_io 30 "trusted=0"
	tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	tap_is "trusted=0: no page of the guest was granted" "$(stat_of direct_grants)" 0
	tap_ok "trusted=0: the pool was used ($(stat_of pool_created) pages made, $(stat_of pool_hits) reused)" \
		sh -c "[ $(stat_of pool_created) -gt 0 ] && [ $(stat_of pool_hits) -gt 0 ]"
	if [ -r /sys/kernel/debug/xenblk_front/grants ]; then
		tap_ok "trusted=0: idle, every grant is a pool page's (debugfs)" grants_are_pool
	else
		tap_skip "trusted=0: idle, every grant is a pool page's" "no debugfs in this domU"
	fi
	xb_ext4_roundtrip /dev/xvda
	tap_is "trusted=0: still no page of the guest granted after ext4" "$(stat_of direct_grants)" 0

	# the toolstack's key: trusted=1 as a parameter, trusted=0 in xenstore
	echo 1 > $prm/trusted
	tap_ok "the device's xenstore key trusted=0" xenstore-write $fe/trusted 0
	rebind "key trusted=0" || return
	tap_is "key trusted=0: bounce on" "$(stat_of bounce)" 1
	dd if=/dev/xvda of=/tmp/mirror bs=512 count=8192 iflag=direct 2>/dev/null
	bn_io 10 "key trusted=0"
	tap_is "key trusted=0: no page of the guest was granted" "$(stat_of direct_grants)" 0
	tap_ok "key trusted=1 again" xenstore-write $fe/trusted 1
	rebind "key trusted=1" || return
	tap_is "key trusted=1: bounce off" "$(stat_of bounce)" 0
	# (absent reads as 1; the domU has no xenstore-rm)
	[ "$key0" = absent ] || xenstore-write $fe/trusted "$key0"

	echo 1 > $prm/feature_persistent
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "unbind removes the disk" test ! -b /dev/xvda
	if [ -r /sys/kernel/debug/xenblk_front/grants ]; then
		tap_is "no grant left after the unbind (debugfs)" "$(grants)" 0
	else
		tap_skip "no grant left after the unbind" "no debugfs in this domU"
	fi
	tap_ok "rmmod after the unbind" rmmod xenblk_front
	tap_end
}

dom0_main() {
	tap_ok "domU finished" xb_domu_wait_end domu 900
	tap_end
}
