# xbctl against both netlink families, our frontend on our backend.
# domU: the frontend family lists xvda with the features sysfs shows, its
# counters move exactly as a known workload implies (N fsyncs: N flushes and N
# writes; M 4 KiB O_DIRECT writes: M writes of 8 sectors), JSON parses, a RESET
# by nobody is refused, bad input fails with a clear message; after dom0 sets
# the backend's flush policy to barrier, an unbind + bind reconnects in
# barrier mode, and the domU's monitor saw the disconnect and the connect.
# dom0: the backend family shows identity, state, negotiated features and
# settings, counts the same workload, refuses an unprivileged SET and invalid
# values with the kernel's reason, and its monitor prints the connect and
# disconnect of an `xl block-attach` / `xl block-detach` of a second disk.
# vm-options: --disk loop,size=64 --vcpus 2 --hotplug stock
# vm-seconds: 44
# vm-kernels: 6.1
# vm-fronts: ours
# vm-backends: ours

NL_FSYNCS=5
NL_WRITES=7

# "xbctl ..." with its exit status and output kept in $rc and /tmp/out
xb_run() { "$@" > /tmp/out 2>&1; rc=$?; }

# start a monitor; wait until it has joined the events group
nl_monitor() {
	xbctl -j monitor > /tmp/mon 2> /tmp/mon.err &
	mon_pid=$!
	i=0; while ! grep -q listening /tmp/mon.err 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
	tap_ok "xbctl monitor is listening" grep -q listening /tmp/mon.err
}

# an event line of the monitor: EVENT NAME [DETAIL]
nl_saw() {
	grep -q "\"event\":\"$1\",\"name\":\"$2\"${3:+.*\"detail\":\"$3\"}" /tmp/mon
}

# wait (bounded) until an event shows up
nl_wait_event() {
	i=0; while ! nl_saw "$@" && [ $i -lt 100 ]; do sleep 0.3; i=$((i + 1)); done
	nl_saw "$@"
}

fe_mode() { sed -n 's/^flush_mode //p' /sys/block/xvda/xenblk_stats; }

# tap_ok whose status is the command's (tap_ok always returns 0): for steps
# the rest of a side cannot do without
nl_need() {
	_n=$1; shift
	if "$@"; then tap_pass "$_n"; else tap_fail "$_n" "command failed: $*"; return 1; fi
}

domu_main() {
	nl_monitor
	xb_run xbctl list
	tap_is "list: exit 0" "$rc" 0
	tap_ok "list: a table with xvda" grep -q '^xvda ' /tmp/out
	xbctl -j list > /tmp/list.json
	tap_ok "list -j: JSON" xb-json check < /tmp/list.json
	tap_is "list -j: one device" "$(xb-json len < /tmp/list.json)" 1
	xbctl -j show xvda > /tmp/show.json
	j() { xb-json get "$1" < /tmp/show.json; }
	tap_is "show: name" "$(j name)" xvda
	tap_is "show: frontend family" "$(j side)" front
	tap_is "show: state" "$(j state)" Connected
	tap_is "show: backend state" "$(j other_state)" Connected
	tap_is "show: backend domain" "$(j domid)" 0
	tap_is "show: virtual device" "$(j devid)" 51712
	tap_is "show: size as the block layer has it" "$(j sectors)" "$(cat /sys/block/xvda/size)"
	tap_is "show: flush mode (loop is write back)" "$(j features.flush_mode)" flush
	tap_is "show: flush mode as sysfs has it" "$(j features.flush_mode)" "$(fe_mode)"
	tap_is "show: queues are the hardware queues" "$(j features.queues)" "$(ls /sys/block/xvda/mq | wc -l)"
	tap_is "show: ring pages as sysfs has them" "$((1 << $(j features.ring_order)))" \
		"$(sed -n 's/^ring_pages //p' /sys/block/xvda/xenblk_stats)"
	tap_is "show: protocol" "$(j features.abi)" x86_64-abi
	tap_is "show: persistent grants in use" "$(j features.persistent)" true
	tap_is "show: no settings on the frontend" "$(j config; echo $?)" 2

	echo "NL-READY"
	tap_ok "dom0 reset the backend's counters" xb_await reset-done
	xb_run xb-nopriv xbctl reset xvda
	tap_is "reset as nobody: exit 3" "$rc" 3
	tap_ok "reset as nobody: says why" grep -q 'permission denied: reset needs CAP_NET_ADMIN' /tmp/out
	tap_ok "reset" xbctl reset xvda
	xbctl -j stats xvda > /tmp/st0.json
	tap_is "after reset: no writes" "$(xb-json get stats.ops.write.requests < /tmp/st0.json)" 0
	tap_is "after reset: no flushes" "$(xb-json get stats.ops.flush.requests < /tmp/st0.json)" 0
	xb_pattern /tmp/p 32768
	i=1; while [ $i -le $NL_FSYNCS ]; do
		dd if=/tmp/p of=/dev/xvda bs=4k count=1 seek=$i oflag=direct conv=fsync 2>/dev/null; i=$((i + 1)); done
	dd if=/tmp/p of=/dev/xvda bs=4k count=$NL_WRITES seek=100 oflag=direct 2>/dev/null
	xbctl -j stats xvda > /tmp/st.json
	tap_ok "stats -j: JSON" xb-json check < /tmp/st.json
	s() { xb-json get "stats.ops.$1" < /tmp/st.json; }
	tap_is "$NL_FSYNCS fsyncs: $NL_FSYNCS flushes" "$(s flush.requests)" $NL_FSYNCS
	tap_is "$NL_FSYNCS + $NL_WRITES 4 KiB writes: write requests" "$(s write.requests)" $((NL_FSYNCS + NL_WRITES))
	tap_is "write sectors" "$(s write.sectors)" $(((NL_FSYNCS + NL_WRITES) * 8))
	tap_is "no reads" "$(s read.requests)" 0
	tap_is "no barriers" "$(s barrier.requests)" 0
	tap_is "write latencies: one per write" \
		"$(xb-json get stats.ops.write.latency_us_log2 < /tmp/st.json | tr -d '[]' | tr ',' '\n' | awk '{ n += $1 } END { print n }')" \
		$((NL_FSYNCS + NL_WRITES))
	xb_run xbctl stats xvda
	tap_ok "stats: a table row for write" grep -Eq "^write +$((NL_FSYNCS + NL_WRITES)) +$(((NL_FSYNCS + NL_WRITES) * 8)) " /tmp/out
	tap_ok "stats: a write latency histogram with bars" grep -A1 '^write latency' /tmp/out | grep -q '|#'
	cat /tmp/out
	echo "NL-WORKLOAD-DONE"

	xb_run xbctl show xvdq
	tap_is "unknown device: exit 2" "$rc" 2
	tap_ok "unknown device: says so" grep -q "unknown device 'xvdq'" /tmp/out
	xb_run xbctl set xvda flush=none
	tap_is "set on the frontend: exit 1" "$rc" 1
	tap_ok "set on the frontend: says why" grep -q 'only the backend (xenblk-back) has settings' /tmp/out
	xb_run xbctl stats xvda --watch 0
	tap_is "bad --watch: exit 1" "$rc" 1
	tap_ok "bad --watch: says why" grep -q "bad number '0' for --watch" /tmp/out
	xb_run xbctl -j stats xvda --watch 1 --count 2
	tap_is "stats --watch 1 --count 2: two JSON lines" "$(xb-json lines < /tmp/out && wc -l < /tmp/out)" 2

	tap_ok "dom0 set the backend's flush policy" xb_await barrier-set
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	i=0; while [ -b /dev/xvda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "unbind: the monitor saw the disconnect" nl_wait_event disconnected xvda
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/bind
	i=0; while [ ! -b /dev/xvda ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	tap_ok "bind: xvda is back" test -b /dev/xvda
	tap_ok "bind: the monitor saw the connect, in barrier mode" nl_wait_event connected xvda barrier
	xbctl -j show xvda > /tmp/show.json
	tap_is "reconnected: flush mode barrier" "$(j features.flush_mode)" barrier
	tap_is "reconnected: sysfs agrees" "$(fe_mode)" barrier
	tap_is "reconnected: no flush-cache" "$(j features.flush)" false
	tap_is "reconnected: one queue (max_queues=1)" "$(j features.queues)" 1
	tap_is "reconnected: no persistent grants (persistent=0)" "$(j features.persistent)" false
	tap_is "reconnected: one hardware queue in sysfs" "$(ls /sys/block/xvda/mq | wc -l)" 1
	tap_is "reconnected: one ring page (max_ring_order=0)" "$(sed -n 's/^ring_pages //p' /sys/block/xvda/xenblk_stats)" 1
	dd if=/tmp/p of=/dev/xvda bs=4k count=1 oflag=direct conv=fsync 2>/dev/null
	xbctl -j stats xvda > /tmp/st.json
	tap_is "reconnected: one fsync is one barrier" "$(s barrier.requests)" 1
	tap_is "reconnected: and no flush" "$(s flush.requests)" 0
	echo "NL-RECONNECTED"

	# the backend refuses barriers (its refuse_ops test knob): the frontend
	# has no flush mode left, the fsync fails, both monitors see the downgrade
	tap_ok "dom0 made the backend refuse barriers" xb_await refuse-set 240
	tap_ok "fsync with barriers refused fails" \
		sh -c '! dd if=/tmp/p of=/dev/xvda bs=4k count=1 oflag=direct conv=fsync 2>/dev/null'
	tap_ok "monitor: feature_downgraded xvda to none" nl_wait_event feature_downgraded xvda none
	echo "NL-DOWNGRADED"

	tap_ok "dom0 attached and detached xvdb" xb_await detach-done 240
	tap_ok "monitor: xvdb connected" nl_saw connected xvdb
	tap_ok "monitor: xvdb disconnected" nl_saw disconnected xvdb
	tap_ok "monitor -j: every line is JSON" xb-json lines < /tmp/mon
	tap_diag "domU events: $(tr '\n' ' ' < /tmp/mon)"
	kill $mon_pid 2>/dev/null
	tap_end
}

dom0_main() {
	nl_monitor
	nl_need "domU is up" xb_wait_line domu 'NL-READY' 240 || return
	id=$(xb_domid domu)
	dev=vbd-$id-51712
	xb_run xbctl list
	tap_is "list: exit 0" "$rc" 0
	tap_ok "list: a table with $dev" grep -q "^$dev " /tmp/out
	cat /tmp/out
	xbctl -j show "$dev" > /tmp/show.json
	tap_ok "show -j: JSON" xb-json check < /tmp/show.json
	j() { xb-json get "$1" < /tmp/show.json; }
	tap_is "show: backend family" "$(j side)" back
	tap_is "show: frontend domain" "$(j domid)" "$id"
	tap_is "show: virtual device" "$(j devid)" 51712
	tap_is "show: physical device" "$(j physical_device)" "$(stat -L -c '%t:%T' "$(xb_disk)")"
	tap_is "show: mode" "$(j mode)" w
	tap_is "show: state" "$(j state)" Connected
	tap_is "show: frontend state" "$(j other_state)" Connected
	tap_is "show: flush offered" "$(j features.flush_mode)" flush
	tap_is "show: barrier offered" "$(j features.barrier)" true
	be=$(xb_backend_dir domu)
	fe=$(xb_frontend_dir domu)
	tap_is "show: queues as the frontend asked" "$(j features.queues)" \
		"$(xenstore-read "$fe/multi-queue-num-queues" 2>/dev/null || echo 1)"
	tap_is "show: ring order as the frontend asked" "$(j features.ring_order)" \
		"$(xenstore-read "$fe/ring-page-order" 2>/dev/null || echo 0)"
	tap_is "show: flush policy setting" "$(j config.flush_policy)" auto
	tap_is "show: persistent grants offered" "$(j config.persistent)" true
	tap_is "show: persistent grants in use" "$(j features.persistent)" true

	xb_run xb-nopriv xbctl -j list
	tap_is "list as nobody works (GET needs no privilege)" "$rc" 0
	tap_ok "reset" xbctl reset "$dev"
	xb_tell domu reset-done 1
	nl_need "domU ran its workload" xb_wait_line domu 'NL-WORKLOAD-DONE' 240 || return
	xbctl -j stats "$dev" > /tmp/st.json
	s() { xb-json get "stats.ops.$1" < /tmp/st.json; }
	tap_is "backend: $NL_FSYNCS flushes" "$(s flush.requests)" $NL_FSYNCS
	tap_is "backend: write requests" "$(s write.requests)" $((NL_FSYNCS + NL_WRITES))
	tap_is "backend: write sectors" "$(s write.sectors)" $(((NL_FSYNCS + NL_WRITES) * 8))
	tap_is "backend: no reads" "$(s read.requests)" 0
	tap_is "backend: no rejected requests" "$(xb-json get stats.bad < /tmp/st.json)" 0

	xb_run xbctl show vbd-999-1
	tap_is "unknown device: exit 2" "$rc" 2
	tap_ok "unknown device: says so" grep -q "unknown device 'vbd-999-1'" /tmp/out
	xb_run xbctl set "$dev" max_queues=0
	tap_is "bad value: exit 1" "$rc" 1
	tap_ok "bad value: says why" grep -q "bad value '0' for max_queues: use 1..32" /tmp/out
	xb_run xbctl set "$dev" colour=red
	tap_is "bad key: exit 1" "$rc" 1
	tap_ok "bad key: says why" grep -q "unknown key 'colour'" /tmp/out
	xb_run xb-nopriv xbctl set "$dev" flush=barrier
	tap_is "set as nobody: exit 3" "$rc" 3
	tap_ok "set as nobody: says why" grep -q 'permission denied: set needs CAP_NET_ADMIN' /tmp/out
	tap_is "set as nobody: nothing changed" "$(xbctl -j show "$dev" | xb-json get config.flush_policy)" auto

	tap_ok "set flush=barrier max_queues=1 max_ring_order=0 persistent=0" \
		xbctl set "$dev" flush=barrier max_queues=1 max_ring_order=0 persistent=0
	xbctl -j show "$dev" > /tmp/show.json
	tap_is "setting recorded" "$(j config.flush_policy)" barrier
	tap_is "setting recorded: max_queues" "$(j config.max_queues)" 1
	tap_is "setting recorded: max_ring_order" "$(j config.max_ring_order)" 0
	tap_is "setting recorded: persistent" "$(j config.persistent)" false
	tap_is "connected device keeps its features until the next connect" "$(j features.flush_mode)" flush
	xb_tell domu barrier-set 1
	nl_need "domU reconnected" xb_wait_line domu 'NL-RECONNECTED' 240 || return
	xbctl -j show "$dev" > /tmp/show.json
	tap_is "after the reconnect: barrier only" "$(j features.flush_mode)" barrier
	tap_is "after the reconnect: no flush-cache" "$(j features.flush)" false
	tap_is "xenstore: feature-flush-cache 0" "$(xenstore-read "$be/feature-flush-cache")" 0
	tap_is "xenstore: feature-barrier 1" "$(xenstore-read "$be/feature-barrier")" 1
	tap_is "after the reconnect: one ring" "$(j features.queues)" 1
	tap_is "after the reconnect: ring order 0" "$(j features.ring_order)" 0
	tap_is "after the reconnect: no persistent grants" "$(j features.persistent)" false
	tap_is "xenstore: feature-persistent 0" "$(xenstore-read "$be/feature-persistent")" 0
	tap_is "xenstore: multi-queue-max-queues 1" "$(xenstore-read "$be/multi-queue-max-queues")" 1
	tap_is "xenstore: max-ring-page-order 0" "$(xenstore-read "$be/max-ring-page-order")" 0
	tap_ok "monitor: $dev disconnected" nl_saw disconnected "$dev"
	tap_ok "monitor: $dev connected with barrier" nl_saw connected "$dev" barrier

	echo 4 > /sys/module/xenblk_back/parameters/refuse_ops   # 1 << WRITE_BARRIER
	xb_tell domu refuse-set 1
	nl_need "domU saw the downgrade" xb_wait_line domu 'NL-DOWNGRADED' 240 || { echo 0 > /sys/module/xenblk_back/parameters/refuse_ops; return; }
	echo 0 > /sys/module/xenblk_back/parameters/refuse_ops
	tap_ok "monitor: $dev feature_downgraded (feature-barrier withdrawn)" \
		nl_wait_event feature_downgraded "$dev" feature-barrier
	tap_is "xenstore: feature-barrier 0" "$(xenstore-read "$be/feature-barrier")" 0

	# a second disk, hot-plugged and unplugged
	truncate -s 16M /tmp/disk2.img && losetup /dev/loop1 /tmp/disk2.img
	dev2=vbd-$id-51728
	tap_ok "xl block-attach xvdb" xl block-attach domu 'format=raw,vdev=xvdb,access=rw,target=/dev/loop1'
	tap_ok "monitor: $dev2 connected" nl_wait_event connected "$dev2"
	tap_is "list -j: two devices" "$(xbctl -j list | xb-json len)" 2
	tap_ok "xl block-detach xvdb" xl block-detach domu xvdb
	tap_ok "monitor: $dev2 disconnected" nl_wait_event disconnected "$dev2"
	i=0; while xbctl list | grep -q "^$dev2 " && [ $i -lt 100 ]; do sleep 0.3; i=$((i + 1)); done
	tap_ok "list: $dev2 is gone" sh -c "! xbctl list | grep -q '^$dev2 '"
	tap_ok "monitor -j: every line is JSON" xb-json lines < /tmp/mon
	tap_diag "dom0 events: $(tr '\n' ' ' < /tmp/mon)"
	xb_tell domu detach-done 1
	kill $mon_pid 2>/dev/null
	tap_end
}
