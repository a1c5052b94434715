# Verified I/O through NBD: fio in the domU on xvda, served by the backend from
# /dev/nbd0 (nbd-server's export of null_blk, flush flag on): random O_DIRECT
# writes of 4 KiB .. 256 KiB at queue depth 16 with an fsync every 16 writes
# (so flushes travel the whole way while writes are in flight), every block
# verified (crc32c) once written; then a random read/write mix verified as it
# goes.
# vm-options: --disk nbd,size=128,cache=32 --vcpus 2 --with fio --timeout 600
# vm-seconds: 32
# vm-cells: stock:ours
# vm-kernels: 6.1

domu_main() {
	common="--filename=/dev/xvda --direct=1 --ioengine=libaio --iodepth=16 --bsrange=4k-256k"
	common="$common --blockalign=4k --verify=crc32c --verify_fatal=1 --size=16m --fsync=16"
	f0=$(xb_flushes)
	# shellcheck disable=SC2086
	tap_ok "fio: random writes of 4 KiB .. 256 KiB, QD 16, fsync every 16, then verify" \
		sh -c "fio --name=w --rw=randwrite $common > /tmp/fio1.log 2>&1"
	tap_diag "$(grep -E 'WRITE:|READ:|err=|verify|malloc\(\): |free\(\): ' /tmp/fio1.log | tr -s ' ' | tr '\n' ';')"
	tap_ok "fio's fsyncs sent flushes ($(( $(xb_flushes) - f0 )))" test "$(( $(xb_flushes) - f0 ))" -gt 0
	# shellcheck disable=SC2086
	tap_ok "fio: random read/write mix, verified as it goes" \
		sh -c "fio --name=rw --rw=randrw --offset=32m --verify_backlog=32 $common > /tmp/fio2.log 2>&1"
	tap_diag "$(grep -E 'WRITE:|READ:|err=|malloc\(\): |free\(\): ' /tmp/fio2.log | tr -s ' ' | tr '\n' ';')"
	echo "NFIO-DONE"
	tap_end
}

dom0_main() {
	tap_ok "domU ran fio" xb_wait_line domu '^NFIO-DONE' 500 || return
	tap_ok "the backend passed flushes to nbd0 ($(xb_backend_stat domu f_req))" test "$(xb_backend_stat domu f_req)" -gt 0
	tap_ok "null_blk under nbd-server received them ($(xb_nullb_flushes))" test "$(xb_nullb_flushes)" -gt 0
	tap_end
}
