# NBD backing store: the backend offers feature-flush-cache because /dev/nbd0
# has a write cache (the export announced NBD's flush flag), and every flush
# of the domU reaches the null_blk device under nbd-server.  The domU writes
# 1 MiB with plain O_DIRECT (the control: no flush anywhere, null_blk's flush
# count must not move), then 24 4 KiB writes each with an fsync; the flushes
# counted by xvda, the backend, nbd0 and null_blk must all be 24 (nbd-server
# answers NBD's flush with an fdatasync of /dev/nullb0, which sends the
# device one flush).  Then the same null_blk exported without the flag
# (nbd-server's flush = false): nbd0 is "write through", the backend offers
# no flush-cache, the second domU sees "write through" and its fsyncs send
# nothing down.
# vm-options: --disk nbd,size=64,cache=32 --vcpus 2
# vm-seconds: 40
# vm-cells: stock:ours
# vm-kernels: 6.1 6.12

NF_SYNCS=24

domu_main() {
	case ${XB_ARG:-} in
	noflush) nf_domu_noflush ;;
	*) nf_domu_flush ;;
	esac
	tap_end
}

nf_domu_flush() {
	tap_is "xvda has a write cache" "$(cat /sys/block/xvda/queue/write_cache)" "write back"
	xb_pattern /tmp/a 1048576
	echo "NF-BASE $(xb_flushes)"
	xb_await base || return
	f0=$(xb_flushes)
	tap_ok "1 MiB written with plain O_DIRECT" dd if=/tmp/a of=/dev/xvda bs=64k seek=16 oflag=direct 2>/dev/null
	tap_is "plain O_DIRECT sends no flush (xvda's count)" "$(( $(xb_flushes) - f0 ))" 0
	echo "NF-PLAIN $(xb_flushes)"
	xb_await plain || return
	f1=$(xb_flushes)
	i=0
	while [ $i -lt $NF_SYNCS ]; do
		dd if=/tmp/a of=/dev/xvda bs=4k count=1 seek=$((512 + i)) oflag=direct conv=fsync 2>/dev/null || break
		i=$((i + 1))
	done
	tap_is "$NF_SYNCS writes with an fsync each" "$i" $NF_SYNCS
	tap_is "each sent one flush (xvda's count)" "$(( $(xb_flushes) - f1 ))" $NF_SYNCS
	dd if=/dev/xvda of=/tmp/rb bs=64k count=16 skip=16 iflag=direct 2>/dev/null
	tap_is "the 1 MiB reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/a)"
	echo "NF-SYNCED $(( $(xb_flushes) - f1 ))"
	xb_await synced
}

nf_domu_noflush() {
	tap_is "xvda has no write cache" "$(cat /sys/block/xvda/queue/write_cache)" "write through"
	xb_pattern /tmp/a 65536
	for i in 1 2 3 4; do dd if=/tmp/a of=/dev/xvda bs=64k seek=$i oflag=direct conv=fsync 2>/dev/null; done
	dd if=/dev/xvda of=/tmp/rb bs=64k count=1 skip=4 iflag=direct 2>/dev/null
	tap_is "data reads back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/a)"
	tap_is "fsync sends no flush to a write-through disk" "$(xb_flushes)" 0
	echo "NF-DONE"
	xb_await checked
}

# nf_counts: "BACKEND NBD0 NULLB0": the flushes each has completed so far
nf_counts() {
	echo "$(xb_backend_stat domu f_req) $(awk '{print $16}' /sys/block/nbd0/stat) $(xb_nullb_flushes)"
}

dom0_main() {
	tap_is "nbd0 has a write cache (the export's flush flag)" "$(cat /sys/block/nbd0/queue/write_cache)" "write back"
	be=$(xb_backend_dir domu)
	tap_ok "domU connected" xb_wait_line domu '^NF-BASE' 240 || return
	tap_is "backend offers flush-cache" "$(xenstore-read "$be/feature-flush-cache")" 1
	set -- $(nf_counts)
	b0=$1 n0=$2 z0=$3
	tap_ok "flush counts readable (backend $b0, nbd0 $n0, null_blk $z0)" test -n "$b0" -a -n "$n0" -a -n "$z0"
	xb_tell domu base 1
	tap_ok "domU wrote without a flush" xb_wait_line domu '^NF-PLAIN' 120 || return
	set -- $(nf_counts)
	tap_is "control: no flush reached null_blk for plain writes" "$(( $3 - z0 ))" 0
	xb_tell domu plain 1
	tap_ok "domU wrote with fsyncs" xb_wait_line domu '^NF-SYNCED' 120 || return
	d=$(xb_console_value domu NF-SYNCED)
	set -- $(nf_counts)
	tap_diag "flushes: domU $d, backend $(( $1 - b0 )), nbd0 $(( $2 - n0 )), null_blk $(( $3 - z0 ))"
	tap_is "the domU's flush count" "$d" $NF_SYNCS
	tap_is "each domU flush reached the backend" "$(( $1 - b0 ))" "$d"
	tap_is "each went out as NBD's flush (nbd0's count)" "$(( $2 - n0 ))" "$d"
	tap_is "each reached null_blk under nbd-server" "$(( $3 - z0 ))" "$d"
	xb_tell domu synced 1
	tap_ok "domU finished" xb_domu_wait_end domu 120
	xb_domu_destroy domu
	tap_ok "backend released nbd0" xb_wait_released domu 60 || return

	# the same device exported without the flush flag
	xb_nbd_detach
	tap_ok "nbd-server stopped" xb_nbd_kill
	tap_ok "nbd-server exports nullb0 without flush" xb_nbd_serve 0
	tap_ok "nbd-client attaches it again" xb_nbd_attach || return
	tap_is "nbd0 has no write cache" "$(cat /sys/block/nbd0/queue/write_cache)" "write through"
	z0=$(xb_nullb_flushes)
	xb_domu_start domu2 noflush || { tap_fail "domU2 created"; return; }
	tap_ok "domU2 wrote with fsyncs" xb_wait_line domu2 '^NF-DONE' 240 || return
	be=$(xb_backend_dir domu2)
	tap_is "backend offers no flush-cache" "$(xenstore-read "$be/feature-flush-cache" 2>/dev/null || echo 0)" 0
	tap_is "backend offers no barrier" "$(xenstore-read "$be/feature-barrier" 2>/dev/null || echo 0)" 0
	tap_is "backend received no flush" "$(xb_backend_stat domu2 f_req)" 0
	tap_is "null_blk received no flush" "$(( $(xb_nullb_flushes) - z0 ))" 0
	xb_tell domu2 checked 1
	tap_end
}
