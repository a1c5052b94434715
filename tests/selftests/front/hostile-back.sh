# A hostile backend against our frontend: xb-hostile-back in dom0 makes extra
# disks for the domU itself (xenstore directories under a backend type no
# kernel driver watches) and plays their backend from userspace: first a
# correct one (the control: the pattern reads back, a write reads back), then
# bogus keys at connect (each refused, or clamped to a sane disk), random
# hostile answers (each must fail the domU's read with EIO) and answers and
# notifications while the frontend tears the disk down (issue 21 item 3).
# The domU runs the checks the tool asks for (data/xenblk-hbN, answered in
# data/hb-rN); at the end no extra disk is left, its kernel log is clean and
# xenblk-front unloads.  XENBLK_SEED=N replays a run; XENBLK_LONG=1 runs 70
# random rounds and 20 teardowns instead of 7 and 2.  See "The hostile
# backend" in Documentation/hostile-peers.md.
# vm-options: --disk loop,size=16 --vcpus 2 --timeout 600
# vm-seconds: 55
# vm-cells: ours:stock

HB_RANDOM=7 HB_TEARDOWNS=2
[ "${LONG:-0}" != 1 ] || { HB_RANDOM=70; HB_TEARDOWNS=20; }

# ---- domU: the checks, one per command ----

hb_wait_dev() {
	_i=0
	while { [ ! -e "/sys/block/$1" ] || [ ! -b "/dev/$1" ]; } && [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	[ -b "/dev/$1" ]
}
hb_gone() {
	_i=0
	while [ -e "/sys/block/$1" ] && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ ! -e "/sys/block/$1" ]
}
# the tool's pattern: sector S holds 16 lines "xb-hostile-back sector %08d"
hb_expect() {
	_s=$1
	while [ "$_s" -lt $(($1 + $2)) ]; do printf '16 %08d\n' "$_s"; _s=$((_s + 1)); done
}
hb_io_error() { grep -qi 'input/output error\|I/O error' "$1"; }

# each prints "ok ..." or "fail ..."
hb_cmd() {
	case $1 in
	size)
		hb_wait_dev "$2" || { echo "fail: no /dev/$2"; return; }
		_z=$(cat "/sys/block/$2/size")
		[ "$_z" = "$3" ] && echo "ok: $_z sectors" || echo "fail: $_z sectors" ;;
	read)   # NAME SECTOR COUNT [SIZE]
		hb_wait_dev "$2" || { echo "fail: no /dev/$2"; return; }
		_z=$(cat "/sys/block/$2/size")
		[ -z "$5" ] || [ "$_z" = "$5" ] || { echo "fail: $_z sectors"; return; }
		dd if="/dev/$2" bs=512 skip="$3" count="$4" iflag=direct 2> /tmp/hb.err |
			uniq -c | awk '{ print $1, $NF }' > /tmp/hb.got
		hb_expect "$3" "$4" > /tmp/hb.want
		cmp -s /tmp/hb.got /tmp/hb.want && echo "ok: $4 sectors as written by the tool${5:+ (of $5)}" ||
			echo "fail: $(head -c 80 /tmp/hb.got | tr '\n' ' ') $(tr '\n' ' ' < /tmp/hb.err)" ;;
	write)
		hb_wait_dev "$2" || { echo "fail: no /dev/$2"; return; }
		xb_pattern /tmp/hb.p 4096
		dd if=/tmp/hb.p of="/dev/$2" bs=512 seek="$3" oflag=direct 2> /tmp/hb.err &&
			dd if="/dev/$2" of=/tmp/hb.rb bs=512 skip="$3" count=8 iflag=direct 2>> /tmp/hb.err &&
			cmp -s /tmp/hb.p /tmp/hb.rb && echo "ok: 4 KiB written and read back" ||
			echo "fail: $(tr '\n' ' ' < /tmp/hb.err)" ;;
	eio)
		hb_wait_dev "$2" || { echo "fail: no /dev/$2"; return; }
		if dd if="/dev/$2" of=/dev/null bs=512 skip="$3" count=8 iflag=direct 2> /tmp/hb.err; then
			echo "fail: the read succeeded"
		elif hb_io_error /tmp/hb.err; then
			echo "ok: EIO, $(grep '^broken' "/sys/block/$2/xenblk_stats")"
		else
			echo "fail: not EIO: $(tr '\n' ' ' < /tmp/hb.err)"
		fi ;;
	absent)
		[ ! -e "/sys/block/$2" ] && echo "ok: no disk" || echo "fail: /sys/block/$2 exists" ;;
	gone)
		hb_gone "$2" && echo "ok: removed" || echo "fail: /sys/block/$2 still there" ;;
	load)   # a reader until its first failure
		hb_wait_dev "$2" || { echo "fail: no /dev/$2"; return; }
		rm -f /tmp/hb.load
		( n=0
		  while dd if="/dev/$2" of=/dev/null bs=4096 count=1 skip=$((n % 512)) iflag=direct 2> /tmp/hb.lerr; do
			n=$((n + 1))
		  done
		  echo "$n" > /tmp/hb.load ) < /dev/null > /dev/null 2>&1 &
		echo "ok: reading" ;;
	ended)
		_i=0; while [ ! -s /tmp/hb.load ] && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
		[ -s /tmp/hb.load ] || { echo "fail: the reader still runs"; return; }
		_n=$(cat /tmp/hb.load)
		hb_gone "$2" || { echo "fail: /sys/block/$2 still there"; return; }
		if [ "$_n" -lt 1 ]; then echo "fail: no read succeeded before the teardown"
		elif hb_io_error /tmp/hb.lerr || grep -qi 'no such device\|no such file' /tmp/hb.lerr; then
			echo "ok: $_n reads, then $(tr '\n' ' ' < /tmp/hb.lerr)"
		else echo "fail: after $_n reads: $(tr '\n' ' ' < /tmp/hb.lerr)"; fi ;;
	true) echo "ok" ;;
	*) echo "fail: unknown command $1" ;;
	esac
}

domu_main() {
	echo "HB-READY"
	n=1
	while c=$(xb_await "hb$n" 300); do
		[ "$c" != end ] || break
		r= rest=$c   # "A + B": each in turn, the answers joined
		while [ -n "$rest" ]; do
			one=${rest%% + *}
			[ "$one" = "$rest" ] && rest= || rest=${rest#* + }
			r="$r${r:+; }$(hb_cmd $one)"
		done
		echo "hb$n: $c: $r"
		xenstore-write "data/hb-r$n" "$r"
		n=$((n + 1))
	done
	tap_is "the tool ended the session" "$c" end
	xenstore-write "data/hb-r$n" "ok"
	tap_is "no extra disk left" "$(ls /sys/block | grep -c '^xvd[b-p]$')" 0
	tap_ok "kernel log clean" sh -c '! dmesg | grep -E "WARNING:|BUG:|Oops|Call Trace|general protection" | grep -v " traps: "'
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	tap_ok "xvda goes away on unbind" hb_gone xvda
	tap_ok "rmmod xenblk-front" rmmod xenblk-front
	tap_end
}

# ---- dom0 ----

hb_relay() {
	while IFS= read -r _l; do
		case $_l in
		"ok "*) tap_pass "${_l#ok * - }" ;;
		"not ok "*) tap_fail "${_l#not ok * - }" ;;
		"# "*) tap_diag "${_l#\# }" ;;
		esac
	done < "$1"
}

dom0_main() {
	tap_ok "domU is up" xb_wait_line domu HB-READY 240 || { tap_end; return; }
	d=$(xb_domid domu)
	xb-hostile-back --domid "$d" --random $HB_RANDOM --teardowns $HB_TEARDOWNS \
		${SEED:+--seed $SEED} > /tmp/hb.out 2>&1
	rc=$?
	grep '^XB-HOSTILE-BACK' /tmp/hb.out
	hb_relay /tmp/hb.out
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' /tmp/hb.out)
	tap_is "xb-hostile-back ran to its end (results = plan)" \
		"$(grep -cE '^(not )?ok ' /tmp/hb.out)" "${plan:-no plan}"
	tap_is "xb-hostile-back's status" "$rc" 0
	tap_ok "no xbhostile directory left" sh -c "! xenstore-ls /local/domain/0/backend/xbhostile/$d 2>/dev/null | grep -q ."
	tap_ok "domU finished" xb_domu_wait_end domu 120
	tap_ok "dom0 kernel log clean" xb_klog_clean
	tap_end
}
