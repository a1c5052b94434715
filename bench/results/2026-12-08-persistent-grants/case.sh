# experiment: persistent-grant hit rate of seqread QD8 1 MiB
# vm-options: --disk nullb,size=256,cache=32 --with fio --vcpus 2
domu_main() {
	tap_ok "dom0 ready" xb_await ready 600
	fio --name=s --filename=/dev/xvda --ioengine=libaio --direct=1 --rw=read --bs=1M --iodepth=8 --size=200M --time_based=1 --runtime=8 --output-format=terse --terse-version=3 | awk -F';' '{print "FIO bw_kib", $7, "ios", $8}'
	echo "FIO-DONE"
	tap_end
}
dom0_main() {
	dd if=/dev/urandom of=$(xb_disk) bs=1M count=200 oflag=direct 2>/dev/null
	s() { echo "PG $1 hits $(xb_backend_stat domu pgnt_hits) mapped $(xb_backend_stat domu pgnt_mapped) kept $(xb_backend_stat domu pgnt_kept) evicted $(xb_backend_stat domu pgnt_evicted) full $(xb_backend_stat domu pgnt_full)"; }
	s before
	xb_tell domu ready 1
	tap_ok "fio done" xb_wait_line domu 'FIO-DONE' 600
	s after
	tap_end
}
