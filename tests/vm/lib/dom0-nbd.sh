#!/bin/sh
# dom0-nbd.sh - the NBD backing store of tests/vm/run --disk nbd (POSIX sh;
# sourced by dom0-helpers.sh).  Debian's nbd-server exports /dev/nullb0 over
# TCP on 127.0.0.1, Debian's nbd-client attaches it as /dev/nbd0 (the kernel's
# nbd module, netlink), and the domU's disk is /dev/nbd0.
#
#   xb_nbd_serve [FLUSH]    start nbd-server; FLUSH 1: the export announces
#                           flush and FUA (default: 1 when null_blk has a cache)
#   xb_nbd_attach           nbd-client: /dev/nbd0 on the export (with -t S for
#                           --disk nbd,timeout=S: a request the server does not
#                           answer fails after S s; without it, Debian's default,
#                           it waits until the server answers or nbd0 is detached)
#   xb_nbd_kill             nbd-server killed with SIGKILL (and its connection's
#                           process): the server host's crash
#   xb_nbd_detach           nbd-client -d /dev/nbd0
#   xb_nbd_flush_flag       whether the export announced flush (the config's)
#   xb_nullb_flushes        flush requests null_blk completed
XB_NBD_PORT=10809
XB_NBD_CONF=/run/xenblk-nbd.conf
XB_NBD_PID=/run/xenblk-nbd-server.pid

xb_nbd_serve() {
	_fl=${1:-}
	[ -n "$_fl" ] || { _fl=1; [ "${DISK_CACHE:-0}" != 0 ] || _fl=0; }
	_tf=false; [ "$_fl" = 1 ] && _tf=true
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
	cat > $XB_NBD_CONF <<CONF
[generic]
	listenaddr = 127.0.0.1
	port = $XB_NBD_PORT
	allowlist = false
[disk]
	exportname = /dev/nullb0
	flush = $_tf
	fua = $_tf
CONF
	echo "$_fl" > /run/xenblk-nbd-flush
	rm -f $XB_NBD_PID
	nbd-server -C $XB_NBD_CONF -p $XB_NBD_PID > /tmp/nbd-server.log 2>&1 || return 1
	# listening once its pid file is there
	_i=0; while [ ! -s $XB_NBD_PID ] && [ $_i -lt 50 ]; do xb_sleep 0.1; _i=$((_i + 1)); done
	[ -s $XB_NBD_PID ]
}

xb_nbd_flush_flag() { cat /run/xenblk-nbd-flush; }

xb_nbd_attach() {
	[ -d /sys/module/nbd ] || modprobe nbd nbds_max=1 || return 1
	nbd-client -N disk -b "${DISK_BS:-512}" ${DISK_TIMEOUT:+-t "$DISK_TIMEOUT"} \
		127.0.0.1 $XB_NBD_PORT /dev/nbd0 > /tmp/nbd-client.log 2>&1 || {
		cat /tmp/nbd-client.log; return 1; }
	# connected once the device has its size
	_i=0; while [ "$(cat /sys/block/nbd0/size 2>/dev/null)" = 0 ] && [ $_i -lt 50 ]; do xb_sleep 0.1; _i=$((_i + 1)); done
	[ "$(cat /sys/block/nbd0/size)" != 0 ]
}

xb_nbd_kill() {
	_p=$(cat $XB_NBD_PID 2>/dev/null)
	[ -n "$_p" ] || return 1
	# the listener and the process it forked for the connection (no
	# pgrep in dom0: the children by their parent in /proc)
	_c=
	for _s in /proc/[0-9]*/stat; do
		read -r _q _comm _st _pp _rest 2>/dev/null < "$_s" && [ "$_pp" = "$_p" ] && _c="$_c $_q"
	done
	# shellcheck disable=SC2086
	kill -KILL "$_p" $_c 2>/dev/null
	rm -f $XB_NBD_PID
	# gone (and nullb0 closed) once none of them is left but as a zombie
	_i=0
	for _q in $_p $_c; do
		while _xb_alive "$_q" && [ $_i -lt 100 ]; do xb_sleep 0.1; _i=$((_i + 1)); done
	done
	! _xb_alive "$_p"
}
# _xb_alive PID: the process exists and is not a zombie
_xb_alive() {
	read -r _a1 _comm _st _rest 2>/dev/null < "/proc/$1/stat" && [ "$_st" != Z ]
}

xb_nbd_detach() { nbd-client -d /dev/nbd0 > /dev/null 2>&1; }

xb_nullb_flushes() { awk '{print $16}' /sys/block/nullb0/stat; }
