# The benchmark case of `make bench` (tests/bench/run): one boot of the test bed,
# the same fio profiles either in the domU on /dev/xvda (BENCH_MODE=domu) or in
# dom0 on the null_blk device itself (BENCH_MODE=native).  tests/bench/run puts a
# generated prelude in front of this file: the settings BENCH_MODE BENCH_CFG
# BENCH_ROUND BENCH_RUNTIME BENCH_SIZE BENCH_PROFILES BENCH_QUEUES BENCH_BARRIER and
# bench_jobs(), which writes the fio job files of tests/bench/fio/ to /tmp/bench/.
#
# Every measured profile gives dom0 one console line
#   XB-BENCH cfg=.. round=.. profile=.. key=value ... [why=TEXT]
# that tests/bench/report reads: fio's numbers (from the domain that ran fio),
# the wall-clock window dom0 measured over (window_ms), CPU time of both
# domains in it (Xen's accounting from `xl list` and each domain's
# /proc/stat), the block-layer counters of /dev/xvda and of the null_blk
# device, and the blkif backend's request counters.  `why=` (always
# last) says why a cell has no number; `na=1` marks a cell that cannot exist.
# Before the first profile dom0 preconditions the disk (bench_precondition) and
# prints one XB-BENCH-INFO line (what the domU negotiated, precond_mib and
# precond_ms; for native domu=native and the preconditioning only).
#
# Coordination for a domU profile: the domU prints "BENCH-BEGIN NAME P waiting"
# and waits for dom0's go (xb_await); dom0 samples its counters, says go, sleeps
# the runtime, waits for "BENCH-DONE NAME P ...", samples again.  So dom0's CPU
# window is the fio run plus up to ~1 s of the two sides' polling.
#
# Barrier-only mode (profile fsync-barrier) runs in a second domU, "bar":
#   BENCH_BARRIER=backend   our backend with flush_policy=barrier (applies at the
#                           next connect, hence the new domU)
#   BENCH_BARRIER=frontend  the stock backend offers flush and barrier; our
#                           frontend is reloaded with use_flush_cache=0
#   BENCH_BARRIER=na:TEXT   this pair cannot run barrier-only: reported as n/a

# ---------------------------------------------------------------- both sides
# busy and steal ticks (USER_HZ) of this domain: user+nice+system+irq+softirq
bench_cpu() { awk '/^cpu /{ printf "%d %d\n", $2 + $3 + $4 + $7 + $8, $9; exit }' /proc/stat; }

# event-channel interrupts of the blkif drivers in this domain (the stock ones are
# named blkif / blkif-backend, ours xenblk-front / xenblk-back): the notifications
# the other side sent
bench_irqs() {
	awk '/blkif|xenblk/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts
}

# block-layer counters of DEV: read ios, read ms, write ios, write ms, flush ios, flush ms
bench_dstat() { awk '{ print $1, $4, $5, $8, $16, $17 }' "/sys/block/$1/stat"; }

# bench_delta "BEFORE" "AFTER" NAME...: NAME=after-before for each column
bench_delta() {
	_da=$1 _db=$2; shift 2
	echo "$_da $_db" | awk -v names="$*" '{ n = split(names, k, " ");
		for (i = 1; i <= n; i++) printf "%s=%d ", k[i], $(n + i) - $i }'
}

# bench_fio PROFILE DEV: run the profile's job file, print its numbers as
# key=value (clat in microseconds, kb in KiB, bw in KiB/s), or why= and fail
bench_fio() {
	_job=/tmp/bench/${1%-barrier}.fio
	BENCH_DEV=$2 BENCH_RUNTIME=$BENCH_RUNTIME BENCH_SIZE=$BENCH_SIZE \
		timeout $((BENCH_RUNTIME + 90)) fio --output-format=terse --terse-version=3 "$_job" \
		> /tmp/bench/out 2> /tmp/bench/err
	_frc=$?
	_line=$(grep '^3;' /tmp/bench/out | tail -n 1)
	if [ "$_frc" != 0 ] || [ -z "$_line" ]; then
		echo "why=fio exit status $_frc: $(cat /tmp/bench/err /tmp/bench/out | tr '\n' ' ' | cut -c1-160)"
		return 1
	fi
	# terse v3: 5 error, 6-9 read KiB, KiB/s, IOPS, ms, 16 read clat mean (us),
	# 47-50 and 57 the same for writes
	_vals=$(echo "$_line" | awk -F';' '{ printf "fio_err=%s r_kb=%s r_bw=%s r_iops=%s r_ms=%s r_clat=%s w_kb=%s w_bw=%s w_iops=%s w_ms=%s w_clat=%s",
		$5, $6, $7, $8, $9, $16, $47, $48, $49, $50, $57 }')
	_ferr=$(echo "$_line" | cut -d';' -f5)
	[ "$_ferr" = 0 ] || { echo "$_vals why=fio reported error $_ferr"; return 1; }
	echo "$_vals"
}

# ---------------------------------------------------------------- domU
bench_front_mode() {
	if [ "$FRONT" = ours ]; then
		sed -n 's/^flush_mode //p' /sys/block/xvda/xenblk_stats
	elif [ "$(cat /sys/block/xvda/queue/fua)" = 1 ]; then
		echo barrier   # xen-blkfront sets FUA only in barrier mode
	elif [ "$(cat /sys/block/xvda/queue/write_cache)" = "write back" ]; then
		echo flush
	else
		echo none
	fi
}

bench_domu_info() {
	_q=/sys/block/xvda/queue
	echo "mode=$(bench_front_mode) hwq=$(ls /sys/block/xvda/mq | wc -l) nr_requests=$(cat $_q/nr_requests)" \
		"max_segments=$(cat $_q/max_segments) max_hw_kb=$(cat $_q/max_hw_sectors_kb)"
}

# our frontend again with other parameters (as tests/selftests/front/flushmode.sh)
bench_front_reload() {
	echo vbd-51712 > /sys/bus/xen/drivers/vbd/unbind
	_i=0; while [ -b /dev/xvda ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	rmmod xenblk-front || return 1
	insmod /opt/xenblk/xenblk-front.ko "$@" || return 1
	_i=0; while [ ! -b /dev/xvda ] && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
	test -b /dev/xvda
}

# bench_domu_profile PROFILE [WHY]: one profile in step with dom0; with WHY the
# profile is not run and WHY is reported
bench_domu_profile() {
	_p=$1 _why=${2:-}
	echo "BENCH-BEGIN $XB_NAME $_p waiting"
	if ! xb_await "go-$_p" 600 > /dev/null; then
		tap_fail "$_p: dom0 gave the go"
		return 1
	fi
	if [ -n "$_why" ]; then
		echo "BENCH-DONE $XB_NAME $_p why=$_why"
		tap_fail "$_p ran" "$_why"
		return 1
	fi
	_c0="$(bench_cpu) $(bench_irqs)"; _s0=$(bench_dstat xvda)
	_r=$(bench_fio "$_p" /dev/xvda); _rc=$?
	_c1="$(bench_cpu) $(bench_irqs)"; _s1=$(bench_dstat xvda)
	echo "BENCH-DONE $XB_NAME $_p $(bench_delta "$_c0" "$_c1" u_busy u_steal u_irq)$(bench_delta "$_s0" "$_s1" \
		u_rd u_rdms u_wr u_wrms u_fl u_flms)$_r"
	if [ $_rc = 0 ]; then tap_pass "$_p ran"; else tap_fail "$_p ran" "$(echo "$_r" | sed -n 's/.*why=//p')"; fi
}

domu_main() {
	bench_jobs
	if [ "$BENCH_MODE" = native ]; then
		tap_pass "native run: this domU stays idle"
		tap_end; return 0
	fi
	_why=
	if [ "$XB_NAME" = bar ]; then
		if [ "$BENCH_BARRIER" = frontend ]; then
			bench_front_reload use_flush_cache=0 || _why="reloading xenblk-front with use_flush_cache=0 failed"
		fi
		[ -n "$_why" ] || [ "$(bench_front_mode)" = barrier ] ||
			_why="the frontend is in $(bench_front_mode) mode, not barrier"
		_profiles=fsync-barrier
	else
		_profiles=
		for _p in $BENCH_PROFILES; do [ "$_p" = fsync-barrier ] || _profiles="$_profiles $_p"; done
		[ "$(bench_front_mode)" = flush ] || _why="the frontend is in $(bench_front_mode) mode, not flush"
		# --queues: the frontend was loaded with max_queues (tests/bench/run)
		[ -n "$_why" ] || [ -z "${BENCH_QUEUES:-}" ] || [ "$(ls /sys/block/xvda/mq | wc -l)" = "$BENCH_QUEUES" ] ||
			_why="the frontend has $(ls /sys/block/xvda/mq | wc -l) queues, not $BENCH_QUEUES"
	fi
	echo "BENCH-INFO $XB_NAME $(bench_domu_info)"
	for _p in $_profiles; do bench_domu_profile "$_p" "$_why"; done
	# stay connected until dom0 has read the backend's counters of the last
	# profile (they go away with the device when this domain powers off)
	tap_ok "dom0 read the last counters" bench_await_end
	tap_end
}
bench_await_end() { xb_await bench-end 600 > /dev/null; }

# ---------------------------------------------------------------- dom0
bench_result() { _p=$1; shift; echo "XB-BENCH cfg=$BENCH_CFG round=$BENCH_ROUND kernel=$KVER profile=$_p $*"; }

# CPU time in ms of dom0 and of domU NAME by Xen's accounting (`xl list`, 0.1 s)
bench_xen_cpu() {
	xl list | awk -v d="${1:-}" '$1 == "Domain-0" { a = $NF } $1 == d { b = $NF }
		END { printf "%d %d\n", a * 1000, b * 1000 }'
}

# dom0's uptime in ms: the wall-clock window of a profile
bench_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# the blkif backend's counters of NAME's disk
bench_bstat() {
	_s=/sys/bus/xen-backend/devices/vbd-$(xb_domid "$1")-$XB_DEVID/statistics
	for _f in rd_req wr_req f_req rd_sect wr_sect; do cat "$_s/$_f" 2>/dev/null || echo 0; done | tr '\n' ' '
	echo
}

bench_nullb() { basename "$(xb_disk)"; }

# Preconditioning, once per boot before its first profile, the same in every
# configuration (native included): dom0 writes the area the profiles use (the
# first BENCH_SIZE of the null_blk device) with 1 MiB direct writes and a
# flush at the end.  null_blk is memory backed: a sector never written reads as
# zeros without a copy, so reads of a fresh disk would not compare with reads
# of written data.  Sets, for the boot's XB-BENCH-INFO line,
# BENCH_PRECOND="precond_mib=N precond_ms=N" (dd's wall-clock time; precond_ms=-
# and precond_failed=1 when dd failed).
bench_precondition() {
	_mib=${BENCH_SIZE%[mM]}
	_t0=$(bench_ms)
	if dd if=/dev/zero of="$(xb_disk)" bs=1M count="$_mib" oflag=direct conv=fsync 2> /tmp/bench/dd.err; then
		BENCH_PRECOND="precond_mib=$_mib precond_ms=$(($(bench_ms) - _t0))"
		tap_pass "dom0 preconditioned the first $_mib MiB"
	else
		BENCH_PRECOND="precond_mib=$_mib precond_ms=- precond_failed=1"
		tap_fail "dom0 preconditioned the first $_mib MiB" "$(tr '\n' ' ' < /tmp/bench/dd.err | cut -c1-120)"
	fi
}

# bench_dom0_info NAME [EXTRA]: what domU NAME negotiated, and EXTRA (the
# preconditioning of the boot, on the first domU's line)
bench_dom0_info() {
	_be=$(xb_backend_dir "$1") _fe=$(xb_frontend_dir "$1")
	_u=$(tr -d '\r' < "$XB_CONSOLE_DIR/guest-$1.log" | sed -n "s/^BENCH-INFO $1 //p" | tail -n 1)
	echo "XB-BENCH-INFO cfg=$BENCH_CFG round=$BENCH_ROUND kernel=$KVER domu=$1" \
		"be_flush_cache=$(xenstore-read "$_be/feature-flush-cache" 2>/dev/null || echo -)" \
		"be_barrier=$(xenstore-read "$_be/feature-barrier" 2>/dev/null || echo -)" \
		"be_persistent=$(xenstore-read "$_be/feature-persistent" 2>/dev/null || echo -)" \
		"fe_persistent=$(xenstore-read "$_fe/feature-persistent" 2>/dev/null || echo -)" \
		"be_indirect=$(xenstore-read "$_be/feature-max-indirect-segments" 2>/dev/null || echo -)" \
		"queues=$(xenstore-read "$_fe/multi-queue-num-queues" 2>/dev/null || echo 1)" \
		"ring_order=$(xenstore-read "$_fe/ring-page-order" 2>/dev/null || echo 0)" \
		"$_u" ${2:-}
}

# a domU that stopped answering: destroyed, its console dumped here (its TAP
# stream then shows the missing plan), and not waited for again by dom0's init
bench_give_up() {
	xb_domu_destroy "$1" 2> /dev/null
	xb_wait_released "$1" 60
	xb_dump_console "$1"
	rm -f "/run/xenblk-domid-$1"
}

# bench_dom0_profile NAME PROFILE: one domU profile, dom0's side
bench_dom0_profile() {
	_n=$1 _p=$2 _log=$XB_CONSOLE_DIR/guest-$1.log
	if ! xb_wait_line "$_n" "BENCH-BEGIN $_n $_p waiting" 300; then
		bench_result "$_p" "why=domU $_n never reached this profile: $(tr -d '\r' < "$_log" | grep -v '^$' | tail -n 1 | cut -c1-120)"
		tap_fail "$_n $_p measured" "domU did not start the profile"
		return 1
	fi
	_x0="$(bench_ms) $(bench_xen_cpu "$_n")"; _c0="$(bench_cpu) $(bench_irqs)"; _s0=$(bench_dstat "$(bench_nullb)"); _b0=$(bench_bstat "$_n")
	xb_tell "$_n" "go-$_p" 1
	sleep "$BENCH_RUNTIME"
	if ! xb_wait_line "$_n" "BENCH-DONE $_n $_p " 180; then
		bench_result "$_p" "why=domU $_n hung in this profile (no result $((BENCH_RUNTIME + 180)) s after the start): $(tr -d '\r' < "$_log" | grep -v '^$' | tail -n 1 | cut -c1-120)"
		tap_fail "$_n $_p measured" "no result"
		return 2
	fi
	_x1="$(bench_ms) $(bench_xen_cpu "$_n")"; _c1="$(bench_cpu) $(bench_irqs)"; _s1=$(bench_dstat "$(bench_nullb)"); _b1=$(bench_bstat "$_n")
	_u=$(tr -d '\r' < "$_log" | sed -n "s/^BENCH-DONE $_n $_p //p" | tail -n 1)
	if [ -z "$_u" ]; then
		bench_result "$_p" "why=domU $_n printed an empty result for this profile"
		tap_fail "$_n $_p measured" "empty result"
		return 1
	fi
	bench_result "$_p" "domu=$_n $(bench_delta "$_x0" "$_x1" window_ms xen_dom0_ms xen_domu_ms)$(bench_delta "$_c0" "$_c1" d_busy d_steal d_irq)$(bench_delta \
		"$_s0" "$_s1" n_rd n_rdms n_wr n_wrms n_fl n_flms)$(bench_delta "$_b0" "$_b1" be_rd be_wr be_f be_rdsect be_wrsect)$_u"
	case $_u in *why=*) tap_fail "$_n $_p measured" "${_u#*why=}"; return 1 ;; esac
	tap_pass "$_n $_p measured"
}

bench_native() {
	xb_domu_wait_end domu 300
	xb_domu_destroy domu
	tap_ok "the idle domU released the disk" xb_wait_released domu 60
	_d=$(xb_disk)
	bench_precondition
	echo "XB-BENCH-INFO cfg=$BENCH_CFG round=$BENCH_ROUND kernel=$KVER domu=native $BENCH_PRECOND"
	for _p in $BENCH_PROFILES; do
		if [ "$_p" = fsync-barrier ]; then
			bench_result "$_p" "na=1 why=native has no barrier-only mode: the device takes flushes (the domU/native ratio uses native fsync)"
			continue
		fi
		_x0="$(bench_ms) $(bench_xen_cpu)"; _c0=$(bench_cpu); _s0=$(bench_dstat "$(bench_nullb)")
		_r=$(bench_fio "$_p" "$_d"); _rc=$?
		_x1="$(bench_ms) $(bench_xen_cpu)"; _c1=$(bench_cpu); _s1=$(bench_dstat "$(bench_nullb)")
		bench_result "$_p" "$(bench_delta "$_x0" "$_x1" window_ms xen_dom0_ms xen_domu_ms)$(bench_delta "$_c0" "$_c1" d_busy d_steal)$(bench_delta \
			"$_s0" "$_s1" n_rd n_rdms n_wr n_wrms n_fl n_flms)$_r"
		if [ $_rc = 0 ]; then tap_pass "native $_p measured"; else tap_fail "native $_p measured" "${_r#*why=}"; fi
	done
}

dom0_main() {
	bench_jobs
	if [ "$BENCH_MODE" = native ]; then bench_native; tap_end; return; fi
	_first=
	for _p in $BENCH_PROFILES; do [ "$_p" = fsync-barrier ] || _first=${_first:-$_p}; done
	# the domU waits for the go of its first profile: the disk is idle
	if xb_wait_line domu "BENCH-BEGIN domu $_first waiting" 300; then
		bench_precondition
		bench_dom0_info domu "$BENCH_PRECOND"
	fi
	_dead=
	for _p in $BENCH_PROFILES; do
		[ "$_p" != fsync-barrier ] || continue
		if [ -n "$_dead" ]; then bench_result "$_p" "why=not run: $_dead"; continue; fi
		bench_dom0_profile domu "$_p"
		case $? in 0|1) ;; *) _dead="domU domu hung in $_p"; bench_give_up domu ;; esac
	done
	[ -n "$_dead" ] || xb_tell domu bench-end 1
	case " $BENCH_PROFILES " in *" fsync-barrier "*) ;; *) tap_end; return 0 ;; esac
	case $BENCH_BARRIER in
	na:*) bench_result fsync-barrier "na=1 why=${BENCH_BARRIER#na:}"; tap_end; return 0 ;;
	esac
	# barrier-only: a second domU (the backend's policy applies at a connect)
	if [ -e "/run/xenblk-domid-domu" ]; then
		xb_domu_wait_end domu 120 || { bench_give_up domu; }
		xb_domu_destroy domu 2> /dev/null
		tap_ok "domu released the disk" xb_wait_released domu 60
	fi
	if [ "$BENCH_BARRIER" = backend ]; then
		echo barrier > /sys/module/xenblk_back/parameters/flush_policy
		tap_is "backend flush_policy barrier" "$(cat /sys/module/xenblk_back/parameters/flush_policy)" barrier
	fi
	if ! xb_domu_start bar; then
		bench_result fsync-barrier "why=the second domU (bar) could not be created"
		tap_fail "barrier-only domU created"
		return 0
	fi
	xb_wait_line bar "BENCH-BEGIN bar fsync-barrier waiting" 300 && bench_dom0_info bar
	bench_dom0_profile bar fsync-barrier
	if [ $? = 2 ]; then bench_give_up bar; else xb_tell bar bench-end 1; fi
	tap_end
}
