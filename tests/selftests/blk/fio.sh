# fio with verification through our drivers: random O_DIRECT writes of mixed
# sizes (512 B .. 512 KiB, so direct, indirect and split requests), queue depth
# 32, two jobs on the two queues, every block verified (crc32c) after the write
# phase; then a random mixed read/write job verified as it goes.
# vm-options: --disk loop,size=128 --vcpus 2 --with fio --timeout 900
# vm-seconds: 33
# vm-kernels: 6.1
# vm-cells: ours:stock stock:ours

domu_main() {
	common="--filename=/dev/xvda --direct=1 --ioengine=libaio --iodepth=32 --numjobs=2 --group_reporting"
	common="$common --bsrange=512-512k --blockalign=512 --verify=crc32c --verify_fatal=1 --size=24m"
	# shellcheck disable=SC2086
	tap_ok "fio: random writes of mixed sizes, QD 32, 2 jobs, then verify" \
		sh -c "fio --name=w --rw=randwrite --offset_increment=32m $common > /tmp/fio1.log 2>&1"
	# (glibc's heap-abort lines too: the TCG flake, which the host then retries)
	tap_diag "$(grep -E 'WRITE:|READ:|err=|verify|malloc\(\): |free\(\): ' /tmp/fio1.log | tr -s ' ' | tr '\n' ';')"
	# shellcheck disable=SC2086
	tap_ok "fio: mixed random read/write, verified" \
		sh -c "fio --name=rw --rw=randrw --offset=64m --offset_increment=32m --verify_backlog=64 $common > /tmp/fio2.log 2>&1"
	tap_diag "$(grep -E 'WRITE:|READ:|err=|malloc\(\): |free\(\): ' /tmp/fio2.log | tr -s ' ' | tr '\n' ';')"
	if [ "$FRONT" = ours ]; then
		tap_ok "no bad response" grep -q '^bad_responses 0$' /sys/block/xvda/xenblk_stats
	fi
	tap_end
}
