# Random power cuts: no acknowledged write is ever lost.
#
# A domU appends 4 KiB records to its own 1 MiB region of the disk with
# O_DIRECT (xb-powercut write: batches of four, the batch's writes in flight
# at once, then fsync; "XB-ACK REGION N ok" once fsync returned).  dom0 lets it
# write for a random time (0 to 0.6 s after it started) and destroys the
# domain (nothing is closed or flushed), waits until the backend
# let the disk go, power-cycles null_blk (its 32 MiB volatile cache is dropped)
# and reads back every record the domU acknowledged: each must be intact, and a
# damaged one is named (xb-powercut check: which sectors hold zeros, another
# record's sector, or other data; whether a second read agrees).  Then the next
# domU writes the next region, and every earlier region is read again after
# each cut, and a 64 MiB pattern file in dom0's memory (a canary: a page of
# dom0's that a backend let a domU or a bio reach would show there).  The cuts alternate null_blk completing at once or 2 ms late
# (requests in flight at the cut) and one or two rings.  Cut points come from a
# seed (printed; XENBLK_SEED=N replays a run).
#
# The negative control comes first: the harness's domU acknowledges one batch
# and then writes one record without a flush; dom0 reads that record from the
# disk before the cut (it reached the device's cache) and finds it gone after
# the power cycle, while the batch survives.
#
# Modes: our backend in barrier-only mode (flush_policy=barrier: feature-barrier
# and no feature-flush-cache) with the stock frontend and ours; flush mode with
# our frontend against the stock backend and ours.  10 cuts per mode and cell
# (a cut costs 13-20 s), 100 per mode with
# XENBLK_LONG=1: a rare loss needs the long run; the default run proves the
# sequence and catches a loss that is not rare.  XENBLK_CUTS="B F" sets both
# counts (e.g. "100 0": the long barrier-mode cells alone).
# vm-options: --disk nullb,size=1024,cache=32 --vcpus 2 --timeout 1200
# vm-seconds: 165 ours:ours=355
# vm-long-options: --timeout 10800
# vm-cells: stock:ours ours:ours ours:stock
# vm-kernels: 6.1
# (a cut takes about 16 s: 6.12 by hand, XENBLK_ALL_KERNELS=1)

PC_REGION_RECORDS=1024   # 4 MiB: region R starts at 4R MiB (the domU writes
			 # about 600 records a second: it does not fill one)
PC_CANARY_MIB=64
PC_MAXMS=600
PC_CONTROL=1000000      # the control record's region number (it lies in region 0)

PC_REGION_SECTORS=8192  # 4 MiB
pc_first() { echo $(( $1 * PC_REGION_SECTORS )); }

domu_main() {
	case ${XB_ARG:-} in
	cut:*) pc_domu_cut ;;
	*) pc_domu_control ;;
	esac
	tap_end
}

# the control (the harness's domU "domu"): one batch acknowledged, then one
# record at 64 KiB that nothing flushes
pc_domu_control() {
	xb_pc_control $PC_CONTROL
	tap_end
	xb_domu_finish
	echo "PC-CONTROL-WRITTEN"
	xb_await never 900
}

pc_domu_cut() {
	set -- $(echo "$XB_ARG" | tr : ' ')
	region=$2 seed=$3 mode=$4
	want_fua=0; [ "$mode" = barrier ] && want_fua=1
	tap_is "write cache advertised" "$(cat /sys/block/xvda/queue/write_cache)" "write back"
	tap_is "FUA advertised only in barrier mode ($mode)" "$(cat /sys/block/xvda/queue/fua)" $want_fua
	[ "$FRONT" != ours ] ||
		tap_is "our frontend runs in $mode mode" "$(sed -n 's/^flush_mode //p' /sys/block/xvda/xenblk_stats)" "$mode"
	tap_end
	xb_domu_finish
	echo "PC-READY"
	# a writer killed by a signal (the TCG flake, see testing.md) starts once
	# more from record 0 (same contents); what it acknowledged stays acknowledged
	for try in 1 2; do
		xb-powercut write /dev/xvda "$region" "$seed" "$(pc_first "$region")" $PC_REGION_RECORDS
		st=$?
		[ $st -gt 128 ] || break
		echo "PC-KILLED status $st"
	done
	xb_await never 900
}

# the records domU NAME acknowledged: the highest count on a complete XB-ACK line
pc_acked() {
	tr -d '\r' < "$XB_CONSOLE_DIR/guest-$1.log" | sed -n "s/^XB-ACK $2 \([0-9]*\) ok\$/\1/p" |
		sort -n | tail -n 1 | grep . || echo 0
}

# xb-powercut check; prints the damaged count (empty on a read error), keeps
# what it said of damaged records in /tmp/pc-damage for pc_damage
pc_check() {
	xb-powercut check "$@" > /tmp/pc-check 2>&1
	grep -E '^XB-(DAMAGED|IOERR)' /tmp/pc-check >> /tmp/pc-damage
	sed -n 's/^XB-CHECK [0-9]* [0-9]* \([0-9]*\)$/\1/p' /tmp/pc-check
}
# the damage lines so far as diagnostics (each damaged sector is named)
pc_damage() {
	head -n 60 /tmp/pc-damage | while IFS= read -r l; do tap_diag "$l"; done
	: > /tmp/pc-damage
}

# power off, null_blk completing every request DELAY ms late (0: at once), on
pc_power_cycle() {
	_n=/sys/kernel/config/nullb/nullb0
	echo 0 > $_n/power || return 1
	if [ "$1" = 0 ]; then
		echo 1 > $_n/irqmode || return 1
	else
		echo 2 > $_n/irqmode && echo "${1}000000" > $_n/completion_nsec || return 1
	fi
	echo 1 > $_n/power
}

pc_control() {
	d=$(xb_disk)
	tap_ok "control domU wrote its records" xb_wait_line domu 'PC-CONTROL-WRITTEN' 240 || return 1
	: > /tmp/pc-damage
	tap_is "control: the unflushed record reached the device before the cut (damaged)" \
		"$(pc_check "$d" $PC_CONTROL 1 128 1)" 0
	pc_damage
	xb_domu_destroy domu
	tap_ok "control: backend released the disk" xb_wait_released domu 60
	tap_ok "control: null_blk power cycle" xb_nullb_power_cycle
	xb-powercut check "$d" $PC_CONTROL 1 128 1 --lost > /tmp/pc-lost
	tap_is "control: the unflushed record is gone after the power cycle (lost kept)" \
		"$(sed -n 's/^XB-LOST [0-9]* \([0-9]* [0-9]*\)$/\1/p' /tmp/pc-lost)" "1 0"
	tap_is "control: the acknowledged batch survives (damaged)" "$(pc_check "$d" 0 1 0 4)" 0
	pc_damage
}

dom0_main() {
	case $FRONT:$BACK in
	stock:ours) modes=barrier ;;
	ours:ours) modes="barrier flush" ;;
	*) modes=flush ;;
	esac
	cuts_barrier=10 cuts_flush=10
	[ "${LONG:-0}" = 1 ] && cuts_barrier=100 cuts_flush=100
	# XENBLK_CUTS="B F": cuts in barrier and flush mode (0: that mode not run)
	[ -z "${CUTS:-}" ] || { cuts_barrier=${CUTS% *} cuts_flush=${CUTS#* }; }
	cuts=$cuts_barrier; [ $cuts_flush -le $cuts ] || cuts=$cuts_flush
	tap_ok "dom0 memory canary written (${PC_CANARY_MIB} MiB in tmpfs)" xb-powercut canary /tmp/pc-canary $PC_CANARY_MIB
	pc_control || return
	d=$(xb_disk)
	tap_ok "cut plan" sh -c "xb-powercut plan '${SEED:-random}' $cuts $PC_MAXMS > /tmp/pc-plan" || return
	seed=$(sed -n 's/^SEED //p' /tmp/pc-plan)
	seed=${seed:-$SEED}
	tap_diag "seed $seed (XENBLK_SEED=$seed replays the cut points)"
	q=/sys/module/xen_blkback/parameters/max_queues
	[ "$BACK" = ours ] && q=/sys/module/xenblk_back/parameters/max_queues
	queues=$(cat $q)
	: > /tmp/pc-regions
	region=0 checked=0
	for mode in $modes; do
		n_mode=$cuts_flush; [ "$mode" = flush ] || n_mode=$cuts_barrier
		[ "$n_mode" -gt 0 ] || continue
		if [ "$BACK" = ours ]; then
			echo "$mode" > /sys/module/xenblk_back/parameters/flush_policy
			tap_is "backend flush_policy $mode" "$(cat /sys/module/xenblk_back/parameters/flush_policy)" "$mode"
		fi
		while read -r _w k ms; do
			[ "$_w" = PLAN ] || continue
			[ "$k" -le "$n_mode" ] || break
			region=$((region + 1))
			delay=$(( k % 2 * 2 )) rings=$(( (k / 2) % 2 + 1 ))
			name=pc$region what="cut $k of $n_mode ($mode, ${rings} ring(s), delay ${delay} ms, after ${ms} ms)"
			echo "$rings" > $q
			if ! pc_power_cycle $delay; then
				tap_fail "$what: null_blk set to delay $delay ms"; break
			fi
			if ! xb_domu_start $name "cut:$region:$seed:$mode" ||
			   ! xb_wait_line $name '^PC-READY' 240; then
				tap_fail "$what: domU $name started"; break
			fi
			sleep "$(( ms / 1000 )).$(printf '%03d' $(( ms % 1000 )))"
			be="f_req $(xb_backend_stat $name f_req) wr_req $(xb_backend_stat $name wr_req) oo_req $(xb_backend_stat $name oo_req) device flushes $(xb_disk_flushes)"
			xb_domu_destroy $name
			if ! xb_wait_released $name 60; then
				tap_fail "$what: backend released the disk"; break
			fi
			acked=$(pc_acked $name $region)
			grep -a -E 'XB-IOERR|PC-KILLED' "$XB_CONSOLE_DIR/guest-$name.log" | while IFS= read -r l; do tap_diag "$name: $l"; done
			pc_power_cycle 0 || { tap_fail "$what: power cycle"; break; }
			bad=$(pc_check "$d" $region "$seed" "$(pc_first $region)" "$acked")
			tap_is "$what: $acked acknowledged records intact after the cut (damaged)" "$bad" 0 ||
				tap_diag "before the cut: $be"
			pc_damage
			checked=$((checked + acked))
			echo "$region $acked" >> /tmp/pc-regions
			# every earlier region again, in one pass (one process, not one a region)
			awk -v cur="$region" -v s=$PC_REGION_SECTORS '$1 != cur { print $1, $1 * s, $2 }' \
				/tmp/pc-regions > /tmp/pc-earlier
			n_earlier=$(grep -c . /tmp/pc-earlier)
			xb-powercut check-list "$d" "$seed" /tmp/pc-earlier > /tmp/pc-check 2>&1
			grep -E '^XB-(DAMAGED|IOERR)' /tmp/pc-check >> /tmp/pc-damage
			sed -n 's/^XB-CHECK \([0-9]*\) [0-9]* \([1-9][0-9]*\)$/\1 \2/p' /tmp/pc-check |
				while read -r r b; do tap_diag "region $r (intact after its own cut) has $b damaged record(s) after cut $k"; done
			old=$(sed -n 's/^XB-CHECKED [0-9]* \([0-9]*\)$/\1/p' /tmp/pc-check)
			unread=$(( n_earlier - $(grep -c '^XB-CHECK ' /tmp/pc-check) ))
			# a region that could not be read counts as damaged
			[ "$unread" = 0 ] || { tap_diag "$unread earlier region(s) could not be read"; old=$(( ${old:-0} + unread )); }
			tap_is "$what: every earlier region still intact (damaged records)" "${old:-no answer}" 0
			pc_damage
			xb-powercut canary-check /tmp/pc-canary $PC_CANARY_MIB > /tmp/pc-can
			tap_is "$what: dom0 memory canary intact" "$(tail -n 1 /tmp/pc-can)" "XB-CANARY $((PC_CANARY_MIB * 256)) pages, 0 damaged" ||
				grep '^XB-CANARY page' /tmp/pc-can | while IFS= read -r l; do tap_diag "$l"; done
		done < /tmp/pc-plan
	done
	tap_diag "$region cuts, $checked acknowledged records checked"
	echo "$queues" > $q
	[ "$BACK" != ours ] || echo auto > /sys/module/xenblk_back/parameters/flush_policy
	tap_end
}
