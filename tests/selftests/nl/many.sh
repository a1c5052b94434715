# The backend family with 1 device and with 100.  dom0 creates 100 more backend
# devices through xenstore (one transaction each: a backend directory and a
# frontend directory in dom0's own tree, no physical-device, so each waits in
# InitWait), checks that a dump lists all 101 once each with the right names and
# states (about 2 KiB per device: the dump spans several netlink messages), that
# GET finds one among them, that their counters are zero, and that they leave
# the list when their directories are removed.
# vm-options: --disk loop,size=64 --vcpus 1
# vm-seconds: 47
# vm-fronts: ours
# vm-backends: ours

NL_MANY=100

# tap_ok whose status is the command's (tap_ok always returns 0): for steps
# the rest of a side cannot do without
nl_need() {
	_n=$1; shift
	if "$@"; then tap_pass "$_n"; else tap_fail "$_n" "command failed: $*"; return 1; fi
}

domu_main() {
	echo "NL-MANY-UP"
	tap_ok "dom0 is done with its devices" xb_await many-done 600
	tap_end
}

nl_count() { xbctl -j list | xb-json len; }

dom0_main() {
	nl_need "domU is up" xb_wait_line domu 'NL-MANY-UP' 240 || return
	id=$(xb_domid domu)
	tap_is "one device" "$(nl_count)" 1
	xbctl -j show "vbd-$id-51712" > /tmp/one.json
	tap_is "GET with one device" "$(xb-json get state < /tmp/one.json)" Connected
	i=1
	while [ $i -le $NL_MANY ]; do
		fe=/local/domain/0/xenblk-fake/$i be=/local/domain/0/backend/vbd/0/$((1000 + i))
		xenstore-write "$fe/state" 1 "$fe/backend" "$be" "$fe/backend-id" 0 \
			"$be/frontend" "$fe" "$be/frontend-id" 0 "$be/online" 1 "$be/state" 1 || break
		i=$((i + 1))
	done
	tap_is "$NL_MANY backend directories written" $((i - 1)) $NL_MANY
	want=$((NL_MANY + 1))
	t=0; while [ "$(nl_count)" != $want ] && [ $t -lt 240 ]; do sleep 0.5; t=$((t + 1)); done
	xbctl -j list > /tmp/many.json
	tap_ok "dump of $want devices is JSON" xb-json check < /tmp/many.json
	tap_is "dump lists $want devices" "$(xb-json len < /tmp/many.json)" $want
	xbctl list > /tmp/many.txt
	tap_is "table: a header and $want rows" "$(wc -l < /tmp/many.txt)" $((want + 1))
	tap_is "every name once" "$(awk 'NR > 1 { print $1 }' /tmp/many.txt | sort -u | wc -l)" $want
	tap_is "names vbd-0-1001 .. vbd-0-$((1000 + NL_MANY))" \
		"$(awk 'NR > 1 && $1 ~ /^vbd-0-1/ { print $1 }' /tmp/many.txt | sort | sed -n '1p;$p' | tr '\n' ' ')" \
		"vbd-0-1001 vbd-0-$((1000 + NL_MANY)) "
	tap_is "the new devices wait in InitWait" \
		"$(awk 'NR > 1 && $1 ~ /^vbd-0-1/ { print $4 }' /tmp/many.txt | sort -u)" InitWait
	tap_ok "the domU's disk is still listed, connected" grep -Eq "^vbd-$id-51712 .* Connected " /tmp/many.txt
	xbctl -j show vbd-0-1050 > /tmp/mid.json
	tap_is "GET among $want: devid" "$(xb-json get devid < /tmp/mid.json)" 1050
	tap_is "GET among $want: not connected" "$(xb-json get connected < /tmp/mid.json)" false
	tap_is "GET among $want: no physical device yet" "$(xb-json get physical_device < /tmp/mid.json)" null
	tap_is "GET among $want: no requests" "$(xb-json get stats.ops.read.requests < /tmp/mid.json)" 0
	xbctl show vbd-0-1050 > /dev/null
	tap_is "show of a device that is not connected: exit 0" "$?" 0

	# one directory at a time: xenbus removes a backend device when its own
	# directory goes (a watch event on a parent is not seen per device)
	i=1
	while [ $i -le $NL_MANY ]; do
		xenstore-rm /local/domain/0/backend/vbd/0/$((1000 + i))
		xenstore-rm /local/domain/0/xenblk-fake/$i
		i=$((i + 1))
	done
	t=0; while [ "$(nl_count)" != 1 ] && [ $t -lt 240 ]; do sleep 0.5; t=$((t + 1)); done
	tap_is "the $NL_MANY devices left the list" "$(nl_count)" 1
	tap_is "the domU's disk is still there" "$(xbctl -j show "vbd-$id-51712" | xb-json get state)" Connected
	xb_tell domu many-done 1
	tap_end
}
