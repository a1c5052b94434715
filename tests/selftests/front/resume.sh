# Save and restore with I/O running (xl save + xl restore on the same host):
# the frontend reconnects to the restored backend and re-issues what was in
# flight, flushes included.  A writer keeps writing 64 KiB O_DIRECT blocks
# (every fourth one followed by an fsync) across the save; after the restore
# every block reads back as written and no write failed.
# vm-options: --disk loop,size=64 --vcpus 2 --timeout 900
# vm-fronts: ours
# vm-backends: stock ours

await_quiet() { xb_await "$@" > /dev/null; }

domu_main() {
	xb_pattern /tmp/p 65536
	echo 0 > /tmp/failed
	( i=0
	  while [ $i -lt 120 ]; do
		if [ $((i % 4)) = 3 ]; then f=conv=fsync; else f=; fi
		dd if=/tmp/p of=/dev/xvda bs=64k seek=$i oflag=direct $f 2>/dev/null || echo $((i + 1)) > /tmp/failed
		i=$((i + 1))
		[ $i != 20 ] || echo "RESUME-WRITING"
	  done
	  echo done > /tmp/writer ) &
	tap_ok "dom0 saved and restored this domain" await_quiet restored 900
	wait
	tap_is "no write failed across the save and restore" "$(cat /tmp/failed)" 0
	bad=0 i=0
	while [ $i -lt 120 ]; do
		dd if=/dev/xvda of=/tmp/rb bs=64k count=1 skip=$i iflag=direct 2>/dev/null
		cmp -s /tmp/rb /tmp/p || bad=$((bad + 1))
		i=$((i + 1))
	done
	tap_is "all 120 blocks read back as written" "$bad" 0
	if [ "$FRONT" = ours ]; then
		tap_ok "the frontend logged its resume" sh -c 'dmesg | grep -q "xenblk_front.*resumed"'
		tap_diag "$(dmesg | grep 'xenblk_front.*resum' | tr '\n' ';')"
		tap_ok "no bad response" grep -q '^bad_responses 0$' /sys/block/xvda/xenblk_stats
		tap_diag "$(tr '\n' ';' < /sys/block/xvda/xenblk_stats)"
	fi
}

dom0_main() {
	tap_ok "domU is writing" xb_wait_line domu 'RESUME-WRITING' 240 || return
	tap_ok "xl save" sh -c 'xl save domu /tmp/domu.save > /tmp/save.log 2>&1' ||
		{ tap_diag "$(tail -n 5 /tmp/save.log)"; return; }
	tap_ok "xl restore" sh -c 'xl restore /tmp/domu.save > /tmp/restore.log 2>&1' ||
		{ tap_diag "$(tail -n 5 /tmp/restore.log)"; return; }
	rm -f /tmp/domu.save
	xl domid domu > /run/xenblk-domid-domu
	tap_ok "the restored domain's disk reconnects" sh -c \
		"i=0; while [ \"\$(xenstore-read $(xb_backend_dir domu)/state 2>/dev/null)\" != 4 ] && [ \$i -lt 300 ]; do sleep 0.5; i=\$((i + 1)); done; [ \$i -lt 300 ]"
	xb_tell domu restored 1
}
