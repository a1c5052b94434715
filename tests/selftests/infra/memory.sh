# The test bed itself: processes in dom0 and a domU keep their memory.  Both
# run a load that checks itself for 30 s at once (300 s with XENBLK_LONG=1) (gzip | gunzip | sha256sum of
# 4 MiB, cp + cmp, 20 process starts a round); a wrong checksum or a crashed
# process fails.  This is the reproducer of the emulator fault that made
# processes crash and data change in every domain (tests/vm/run: the CPU model;
# Documentation/testing.md).  A case of the test bed's, not of our drivers:
# it runs with the stock pair only.
# vm-options: --disk loop,size=64 --vcpus 2 --timeout 600
# vm-seconds: 54
# vm-cells: stock:stock
# vm-kernels: 6.1

MEM_SECONDS=30; [ "${LONG:-0}" != 1 ] || MEM_SECONDS=300

mem_now() { cut -d. -f1 /proc/uptime; }
mem_load() {
	dd if=/dev/urandom of=/tmp/mem-r bs=1M count=4 2>/dev/null
	want=$(sha256sum < /tmp/mem-r)
	tap_ok "a 4 MiB random file" test -n "$want" -a "$(stat -c %s /tmp/mem-r)" = 4194304 || return
	end=$(( $(mem_now) + MEM_SECONDS )) n=0 bad=0 crashed=0 starts=0
	while [ "$(mem_now)" -lt "$end" ]; do
		got=$(gzip -c /tmp/mem-r | gunzip | sha256sum) || crashed=$((crashed + 1))
		[ "$got" = "$want" ] || { bad=$((bad + 1)); tap_diag "round $n: gzip | gunzip gave another checksum"; }
		if ! cp /tmp/mem-r /tmp/mem-c || ! cmp -s /tmp/mem-r /tmp/mem-c; then
			bad=$((bad + 1)); tap_diag "round $n: a copy differs"
		fi
		i=0
		while [ $i -lt 20 ]; do
			/bin/busybox env true || { crashed=$((crashed + 1)); tap_diag "round $n: a process start failed ($?)"; }
			i=$((i + 1)) starts=$((starts + 1))
		done
		n=$((n + 1))
	done
	tap_ok "the load ran (rounds $n, process starts $starts)" test "$n" -ge 5
	tap_is "every checksum and copy right" "$bad" 0
	tap_is "no process crashed" "$crashed" 0
}

domu_main() {
	mem_load
	echo "MEM-DONE"
	tap_end
}

dom0_main() {
	mem_load
	tap_ok "domU finished its load" xb_wait_line domu '^MEM-DONE' $((MEM_SECONDS + 240))
	tap_end
}
