#!/bin/sh
# dom0-helpers.sh - helpers for dom0 test scripts (POSIX sh; sourced by dom0-init
# before the dom0 script, together with tap.sh).  Documented in
# Documentation/testing.md.  Every wait has a deadline and returns non-zero
# when it passes.
#
#   xb_disk                         the backing device (/dev/nullb0, /dev/ram0, /dev/loop0)
#   xb_domu_start NAME [ARG [DISK]] create PV domU NAME on the disk (or DISK); ARG reaches
#                                   its script as $XB_ARG; its console is relayed live as
#                                   "NAME> " and dumped whole at the end as "NAME| "
#   xb_wait_line NAME REGEX [SECS]  wait for a console line of domU NAME (default 120 s;
#                                   fails soon once the domU has stopped)
#   xb_domu_wait_end NAME [SECS]    wait until domU NAME's script has finished
#   xb_domu_destroy NAME            destroy domU NAME at once (no shutdown, no flush)
#   xb_wait_released NAME [SECS]    wait until the backend of NAME has released the disk
#   xb_nullb_power_cycle            null_blk power off + on: drops its volatile cache
#   xb_nullb_add N MIB              another disk: null_blk /dev/nullbN (memory, no cache)
#   xb_disk_read SECTOR COUNT FILE  read COUNT 512-byte sectors from the disk (O_DIRECT)
#   xb_domid NAME                   domain id
#   xb_backend_dir NAME             xenstore backend directory of NAME's disk
#   xb_frontend_dir NAME            xenstore frontend directory of NAME's disk
#   xb_backend_stat NAME FIELD      backend statistics (rd_req wr_req f_req ds_req oo_req ...)
#   xb_disk_flushes                 flush requests completed by the backing device
#   xb_tell NAME KEY VALUE          signal domU NAME (its script waits with xb_await KEY)
#   xb_console_value NAME KEY       the word after KEY on domU NAME's last console line with it
#   xb_region_read SECTOR FILE      read 1 MiB of the disk into FILE; prints "KEPT LOST":
#                                   its 4 KiB blocks holding data / reading back as zeros
# and the NBD backing store's (--disk nbd): tests/vm/lib/dom0-nbd.sh
XB_DEVID=51712            # xvda
XB_BETYPE=vbd             # xenstore backend type: vbd (kernel backends) or qdisk
[ "${BACK:-}" != qdisk ] || XB_BETYPE=qdisk
XB_CONSOLE_DIR=/var/log/xen/console

# shell builtins only: no child process that could die under us
xb_now() { read -r _up _rest < /proc/uptime; echo "${_up%%.*}"; }
# the same into $_now, for waits: "$(xb_now)" forks a subshell, and under TCG a
# process costs dom0 about 15 ms of CPU that the domUs' vCPUs then lack
# (a wait polling with forks took half a vCPU, measured)
xb_uptime() { read -r _up _rest < /proc/uptime; _now=${_up%%.*}; }
# xb_sleep S: sleep S (fractional) seconds, by a read with a timeout on a FIFO
# that nobody writes (fd 8): no process.  With no FIFO, sleep(1).
_xb_fifo=/run/xb-sleep.$$
rm -f "$_xb_fifo"
if mkfifo "$_xb_fifo" 2>/dev/null; then
	exec 8<> "$_xb_fifo"; rm -f "$_xb_fifo"
	xb_sleep() { read -t "$1" _xb_x <&8 2>/dev/null || :; }
else
	xb_sleep() { sleep "$1"; }
fi
xb_disk() { cat /run/xenblk-disk; }
xb_domid() { cat "/run/xenblk-domid-$1" 2>/dev/null || xl domid "$1" 2>/dev/null; }
xb_backend_dir() { echo "/local/domain/0/backend/$XB_BETYPE/$(xb_domid "$1")/$XB_DEVID"; }
xb_frontend_dir() { echo "/local/domain/$(xb_domid "$1")/device/vbd/$XB_DEVID"; }

# xb_save_restore NAME [LABEL [BETWEEN]]: xl save NAME, run the shell command
# BETWEEN (if any: also when the save failed), xl restore, then wait until the
# restored domain's disk is Connected again.  One TAP line per step (LABEL is
# added to the save's); returns 1 at the first failed step.
xb_save_restore() {
	_n=$1
	if xl save "$_n" "/tmp/$_n.save" > /tmp/save.log 2>&1; then
		tap_pass "xl save${2:+ $2}"
	else
		tap_fail "xl save${2:+ $2}" "$(tail -n 5 /tmp/save.log)"
		[ -z "${3:-}" ] || eval "$3"
		return 1
	fi
	[ -z "${3:-}" ] || eval "$3"
	if xl restore "/tmp/$_n.save" > /tmp/restore.log 2>&1; then
		tap_pass "xl restore"
	else
		tap_fail "xl restore" "$(tail -n 5 /tmp/restore.log)"
		return 1
	fi
	rm -f "/tmp/$_n.save"
	xl domid "$_n" > "/run/xenblk-domid-$_n"
	_be=$(xb_backend_dir "$_n")
	tap_ok "the restored domain's disk reconnects" sh -c \
		"i=0; while [ \"\$(xenstore-read $_be/state 2>/dev/null)\" != 4 ] && [ \$i -lt 300 ]; do sleep 0.5; i=\$((i + 1)); done; [ \$i -lt 300 ]"
}

# xb_domu_start NAME [ARG [DISK]]: a domU running the case's domU script
# ($XB_NAME=NAME, $XB_ARG=ARG) on the case's disk, or on DISK
xb_domu_start() {
	_n=$1 _arg=${2:-} _target=${3:-$(xb_disk)}
	# (cryptomgr.notests: the kernel's crypto self-tests run at every domU
	# boot otherwise; they test the kernel, not us)
	# (the hotplug script: the test bed's lean one unless the case asks for
	# Xen's own, tests/vm/lib/xb-block)
	_script=script=xb-block,; [ "${HOTPLUG:-lean}" = stock ] && _script=
	_disk="'format=raw,vdev=xvda,access=rw,${_script}target=$_target'"
	[ "$BACK" = qdisk ] && _disk="'format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=$_target'"
	cat > "/etc/xen/$_n.cfg" <<CFG
name = "$_n"
type = "pv"
kernel = "/guest/vmlinuz"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 loglevel=4 cryptomgr.notests xenblk.name=$_n xenblk.arg=$_arg"
memory = ${DOMU_MEM:-256}
vcpus = $VCPUS
disk = [ $_disk ]
vif = [ ]
on_poweroff = "preserve"
on_reboot = "destroy"
on_crash = "preserve"
CFG
	rm -f "$XB_CONSOLE_DIR/guest-$_n.log"
	( _d=$(( $(xb_now) + 120 ))
	  while [ ! -e "$XB_CONSOLE_DIR/guest-$_n.log" ] && [ "$(xb_now)" -lt $_d ]; do sleep 0.2; done
	  exec tail -n +1 -f "$XB_CONSOLE_DIR/guest-$_n.log" ) 2>/dev/null |
		while IFS= read -r _l; do printf '%s> %s\n' "$_n" "$_l"; done &
	read -r _t0 _rest < /proc/uptime
	xl create "/etc/xen/$_n.cfg" > "/tmp/xl-create-$_n.log" 2>&1 || {
		echo "xb_domu_start: xl create $_n failed:"; cat "/tmp/xl-create-$_n.log"
		tail -n 30 /var/log/xen/xl-"$_n".log /var/log/xen/xen-hotplug.log 2>/dev/null
		return 1
	}
	xl domid "$_n" > "/run/xenblk-domid-$_n"
	xb_now > "/run/xenblk-created-$_n"
	# where a case's time goes (the console only, not TAP)
	read -r _t1 _rest < /proc/uptime
	echo "VM[${_t1}s]: xl create $_n took $(echo "$_t0 $_t1" | awk '{printf "%.2f", $2 - $1}') s"
}

# A guest that panicked or powered off prints nothing more: its console shows
# "Kernel panic" or the kernel's "reboot: System halted"/"Power down" line (its
# /init ends with poweroff, also when its script stopped early).  The wait then
# gives up after a few seconds (lines may still be on their way to the log)
# instead of running into its deadline: a case whose domU failed early reports
# at once, with the domU's console, instead of hanging the run.
#
# A domU whose console still lacks its /init's first line 90 s after xl create
# did not boot (or xenconsoled lost its console): that is the test bed's, not
# the drivers' (ours load later), and is said so once for the host's flake
# detection; the wait gives up at once.
XB_BOOT_WAIT=90
xb_wait_line() {
	_f=$XB_CONSOLE_DIR/guest-$1.log
	xb_uptime; _d=$(( _now + ${3:-120} )) _stop= _created= _started= _part= _open=
	# the console is read as it grows (fd 6), and only new lines are matched:
	# an idle wait starts no process (each costs dom0 ~15 ms of CPU under TCG)
	while :; do
		if [ -z "$_open" ] && [ -e "$_f" ]; then exec 6< "$_f"; _open=1; fi
		_new=
		if [ -n "$_open" ]; then
			while IFS= read -r _l <&6; do _new="$_new$_part$_l
"; _part=; done
			_part="$_part$_l"   # (a line not ended yet)
		fi
		if [ -n "$_new" ]; then
			if printf '%s' "$_new" | grep -Eq "$2"; then exec 6<&-; return 0; fi
			case $_new in *XENBLK-DOMU-START*) _started=1 ;; esac
			case $_new in *'Kernel panic'*|*'reboot: System halted'*|*'reboot: Power down'*)
				[ -n "$_stop" ] || _stop=$(( _now + 5 )) ;; esac
		fi
		xb_uptime
		[ "$_now" -lt $_d ] || break
		[ -n "$_created" ] || [ ! -e "/run/xenblk-created-$1" ] || read -r _created < "/run/xenblk-created-$1"
		if [ -z "$_started" ] && [ -n "$_created" ] && [ "$_now" -ge $(( _created + XB_BOOT_WAIT )) ]; then
			[ -e "/run/xenblk-silent-$1" ] || {
				: > "/run/xenblk-silent-$1"
				echo "VM: infrastructure: domU $1 printed nothing in ${XB_BOOT_WAIT} s after xl create ($(xl list "$1" 2>&1 | tail -n 1))"
			}
			break
		fi
		if [ -n "$_stop" ] && [ "$_now" -ge "$_stop" ]; then
			echo "xb_wait_line: domU $1 stopped without printing '$2'"; break
		fi
		xb_sleep 0.3
	done
	[ -z "$_open" ] || exec 6<&-
	return 1
}

xb_domu_wait_end() { xb_wait_line "$1" '^XENBLK-DOMU-END' "${2:-300}"; }

# the whole console of domU NAME, each line prefixed "NAME| " (what the host
# reads TAP from; the live relay, prefixed "NAME> ", is for people watching)
# (awk ends every line: a domain destroyed in the middle of a line leaves one
# without a newline, and the harness's next line would be glued to it)
xb_dump_console() { tr -d '\r' < "$XB_CONSOLE_DIR/guest-$1.log" | awk -v p="$1| " '{ print p $0 }'; }

xb_domu_destroy() {
	# qdisk: libxl asks QEMU to quit, and QEMU flushes on its way out; a power
	# loss must not flush, so kill the device model first
	[ "$XB_BETYPE" != qdisk ] || pkill -9 -f "xen-domid $(xb_domid "$1") " || true
	xl destroy "$1"
	_rc=$?
	# its live console relay has nothing more to relay (the whole console is
	# still dumped from the log); a case with many domUs (the power cuts)
	# would otherwise keep one polling tail per domU until its teardown
	pkill -f "tail -n +1 -f $XB_CONSOLE_DIR/guest-$1.log\$" 2>/dev/null
	return $_rc
}

xb_wait_released() {
	_id=$(cat "/run/xenblk-domid-$1")
	xb_uptime; _d=$(( _now + ${2:-60} ))
	while [ -e "/sys/bus/xen-backend/devices/vbd-$_id-$XB_DEVID" ] ||
	      xenstore-exists "/local/domain/0/backend/$XB_BETYPE/$_id" 2>/dev/null ||
	      { [ "$XB_BETYPE" = qdisk ] && pgrep -f "xen-domid $_id " > /dev/null; }; do
		xb_uptime; [ "$_now" -lt $_d ] || return 1
		xb_sleep 0.3
	done
}

# xb_nullb_add N MIB: a second (third...) disk for a case, null_blk device N
# (memory backed, no cache), /dev/nullbN; the case teardown removes it
xb_nullb_add() {
	[ -d /sys/kernel/config/nullb ] || modprobe null_blk nr_devices=0 || return 1
	_p=/sys/kernel/config/nullb/nullb$1
	mkdir "$_p" && echo 1 > "$_p/memory_backed" && echo "$2" > "$_p/size" && echo 1 > "$_p/power" &&
		[ -b "/dev/nullb$1" ]
}

xb_nullb_power_cycle() {
	_p=/sys/kernel/config/nullb/nullb0/power
	echo 0 > $_p && echo 1 > $_p
}

xb_disk_read() {
	dd if="$(xb_disk)" of="$3" bs=512 skip="$1" count="$2" iflag=direct 2>/dev/null
}

xb_backend_stat() {
	cat "/sys/bus/xen-backend/devices/vbd-$(xb_domid "$1")-$XB_DEVID/statistics/$2"
}

# field 16 of /sys/block/DEV/stat: flush requests completed
xb_disk_flushes() {
	_b=$(basename "$(xb_disk)")
	awk '{print $16}' "/sys/block/$_b/stat"
}

# dom0 -> domU signals: a key in the domU's own writable xenstore "data" directory
xb_tell() { xenstore-write "/local/domain/$(xb_domid "$1")/data/xenblk-$2" "$3"; }

# a kernel-log check that cannot pass vacuously: fails if dmesg itself fails.
# "traps: PROG[PID] ..." lines are user processes killed by a trap (the TCG
# flake, see Documentation/testing.md), not kernel problems: the tests those
# processes were part of fail on their own.
xb_klog_clean() {
	dmesg > /tmp/klog.$$ 2>&1 && [ -s /tmp/klog.$$ ] || { echo "dmesg failed"; return 1; }
	! { grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection' /tmp/klog.$$ | grep -v ' traps: '; }
}

xb_console_value() {
	tr -d '\r' < "$XB_CONSOLE_DIR/guest-$1.log" | sed -n "s/.*$2 *\([^ ]*\).*/\1/p" | tail -n 1
}

xb_region_read() {
	xb_disk_read "$1" 2048 "$2"
	dd if=/dev/zero of=/tmp/xb-zero bs=4096 count=1 2>/dev/null
	_k=0 _l=0 _i=0
	while [ $_i -lt 256 ]; do
		if dd if="$2" bs=4096 skip=$_i count=1 2>/dev/null | cmp -s - /tmp/xb-zero; then
			_l=$((_l + 1)); else _k=$((_k + 1)); fi
		_i=$((_i + 1))
	done
	echo "$_k $_l"
}

[ ! -r /opt/xenblk/dom0-nbd.sh ] || . /opt/xenblk/dom0-nbd.sh
