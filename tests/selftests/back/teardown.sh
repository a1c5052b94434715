# Teardown under I/O: 20 times a domU keeping both queues busy with O_DIRECT
# writes and reads is destroyed (xl destroy: no shutdown, requests in flight).
# Each time our backend must release the disk and the domain must vanish
# completely (a grant mapping left in dom0 keeps a dying domain around); at the
# end the backend holds no mapped grant and no more objects than with no
# device, dom0's kernel log is clean, and the module unloads.
# The counters are the module's debugfs files xenblk_back/{objects,grants}.
# vm-options: --disk nullb,size=64,cache=0 --vcpus 2 --timeout 1200
# vm-cells: stock:ours
# vm-long: yes

domu_main() {
	# this domU is destroyed under I/O: close its TAP stream first
	tap_end
	xb_domu_finish
	xb_pattern /tmp/p 1048576
	for j in 0 1 2 3; do
		( while :; do
			dd if=/tmp/p of=/dev/xvda bs=64k seek=$((j * 16)) oflag=direct 2>/dev/null
			dd if=/dev/xvda of=/dev/null bs=256k count=4 skip=$((j * 4)) iflag=direct 2>/dev/null
		  done ) &
	done
	sleep 1
	echo "IO-RUNNING"
	wait
	tap_end
}

# domain NAME is gone from xl list, and no nameless (dying) domain is left
xb_domain_gone() {
	_d=$(( $(xb_now) + ${2:-60} ))
	while xl list | awk 'NR > 1 { print $1 }' | grep -qx -e "$1" -e '(null)'; do
		[ "$(xb_now)" -lt $_d ] || return 1
		sleep 0.5
	done
}

# destroy domU NAME while its I/O runs, at a moment when the backend has
# grants mapped (requests being served) if one comes within 3 s; prints the
# grants mapped just before the destroy
teardown_one() {
	xb_wait_line "$1" 'IO-RUNNING' 180 || { echo "no I/O started"; return 1; }
	sleep "$2"
	_i=0
	while _in=$(cat /sys/kernel/debug/xenblk_back/grants) && [ "$_in" = 0 ] && [ $_i -lt 30 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	_be=$(xb_backend_dir "$1")
	if ! xb_domu_destroy "$1" > /tmp/destroy.log 2>&1; then
		echo "xl destroy failed: $(tail -n 4 /tmp/destroy.log | tr '\n' ' ')" \
			"backend state $(xenstore-read "$_be/state" 2>&1)," \
			"log: $(dmesg | grep -i -e xenblk -e blkback | tail -n 4 | tr '\n' ' ')"
		return 1
	fi
	xb_wait_released "$1" 60 || { echo "backend did not release the disk"; return 1; }
	xb_domain_gone "$1" 60 || { echo "domain still listed: $(xl list | tr '\n' ' ')"; return 1; }
	echo "$_in"
}

dom0_main() {
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	dbg=/sys/kernel/debug/xenblk_back
	tap_ok "backend debugfs counters are there" test -r $dbg/objects -a -r $dbg/grants || return

	# the harness's domU is the first one torn down; then the baseline
	r=$(teardown_one domu 2)
	tap_ok "first domU destroyed under I/O, disk released, domain gone" test "$r" -ge 0 2>/dev/null ||
		{ tap_diag "$r"; return; }
	base=$(cat $dbg/objects)
	tap_is "no grant mapped after the first teardown" "$(cat $dbg/grants)" 0
	tap_diag "objects with no device: $base"

	good=0 busy=0
	for i in $(seq 1 20); do
		if ! xb_domu_start "t$i" > /tmp/start.log 2>&1; then
			tap_diag "cycle $i: $(tail -n 5 /tmp/start.log | tr '\n' ' ')"; break
		fi
		r=$(teardown_one "t$i" $((i % 3)))
		case $r in
		''|*[!0-9]*) tap_diag "cycle $i: $r"; break ;;
		esac
		good=$((good + 1))
		[ "$r" = 0 ] || busy=$((busy + 1))
		[ "$(cat $dbg/grants)" = 0 ] || { tap_diag "cycle $i: $(cat $dbg/grants) grants still mapped"; break; }
	done
	tap_is "20 domUs destroyed under I/O: each released its disk and vanished" "$good" 20
	tap_ok "requests were in flight at most teardowns ($busy of $good)" test "$busy" -ge $((good / 2))
	tap_is "no grant left mapped" "$(cat $dbg/grants)" 0
	tap_is "no object left beyond the no-device baseline ($base)" "$(cat $dbg/objects)" "$base"
	tap_ok "module unloads with no device left" rmmod xenblk_back
	tap_end
}
