# The packages as an administrator uses them (Documentation/deployment.md):
# our modules reach dom0 and the domU only through the built packages' files
# (tests/vm/run --install pkg: xenblk-dkms's modprobe.d file, the modules DKMS
# built under /lib/modules/KVER/updates/dkms, xenblk-utils' xbctl, depmod),
# and nothing loads a block driver but the kernel's events: xl create's
# xen-backend:vbd in dom0, the replayed xen:vbd in the domU, each answered as
# udev does (modprobe -b MODALIAS, tests/vm/lib/xb-pkg).  Ours must be loaded
# there, from updates/dkms, and the stock drivers not; the packaged xbctl
# sees the disk; data reads back.  Then the package is removed (its files,
# depmod; dom0's backend unloaded once its last disk is gone, as
# deployment.md says) and a second domU boots with the package removed from
# its image: the same events load the stock pair, and its I/O reads back.
# vm-options: --install pkg --disk loop,size=64 --vcpus 2
# vm-seconds: 42
# vm-cells: ours:ours
# vm-kernels: 6.1 6.12

# the block drivers loaded, of the four names
pa_loaded() {
	awk '$1 ~ /^(xen_blkfront|xen_blkback|xenblk_front|xenblk_back)$/ { print $1 }' /proc/modules | sort | xargs
}

# pa_from MODULE DIR LABEL: the file of MODULE (modinfo -n) lies in DIR of
# the running kernel's module tree (.ko, or compressed as DKMS leaves it on 6.12)
pa_from() {
	case $(modinfo -n "$1" 2>&1) in
	"/lib/modules/$(uname -r)/$2/"*.ko*) tap_pass "$3" ;;
	*) tap_fail "$3" "modinfo -n $1: $(modinfo -n "$1" 2>&1)" ;;
	esac
}

# pa_io: 4 MiB of random data written with O_DIRECT reads back
pa_io() {
	xb_pattern /tmp/a 4194304
	dd if=/tmp/a of=/dev/xvda bs=64k seek=32 oflag=direct 2>/dev/null
	dd if=/dev/xvda of=/tmp/rb bs=64k count=64 skip=32 iflag=direct 2>/dev/null
	tap_is "4 MiB written with O_DIRECT read back" "$(sha256sum < /tmp/rb)" "$(sha256sum < /tmp/a)"
}

domu_main() {
	if [ "${XB_ARG:-}" = removed ]; then
		tap_is "package removed: the stock frontend is loaded, ours not" "$(pa_loaded)" xen_blkfront
		pa_from xen_blkfront kernel/drivers/block "the stock frontend is the kernel's"
	else
		tap_is "our frontend is loaded, the stock one not" "$(pa_loaded)" xenblk_front
		pa_from xenblk_front updates/dkms "it is DKMS's, from updates/dkms"
	fi
	tap_ok "xen:vbd's event loaded it (modprobe -b xen:vbd)" grep -q '^modprobe -b xen:vbd: status 0' /run/xb-uevents ||
		tap_diag "events: $(tr '\n' ';' < /run/xb-uevents)"
	pa_io
	echo "PA-DONE"
	xb_await checked
	tap_end
}

dom0_main() {
	k=$(uname -r)
	tap_ok "domU checked its frontend" xb_wait_line domu '^PA-DONE' 240 || return
	tap_is "our backend is loaded, the stock one not" "$(pa_loaded)" xenblk_back
	pa_from xenblk_back updates/dkms "it is DKMS's, from updates/dkms"
	tap_ok "xen-backend:vbd's event loaded it (modprobe -b xen-backend:vbd)" \
		grep -q '^modprobe -b xen-backend:vbd: status 0' /run/xb-uevents ||
		tap_diag "events: $(tr '\n' ';' < /run/xb-uevents)"
	tap_ok "the packaged xbctl lists the domU's disk" sh -c \
		"/usr/sbin/xbctl list > /tmp/xbctl.out 2>&1 && grep -q 'vbd-$(xb_domid domu)-51712' /tmp/xbctl.out" ||
		tap_diag "xbctl list: $(tr '\n' ';' < /tmp/xbctl.out)"
	xb_tell domu checked 1
	tap_ok "domU finished" xb_domu_wait_end domu 120
	xb_domu_destroy domu
	tap_ok "backend released the disk" xb_wait_released domu 60 || return

	# apt-get remove: the files go, depmod runs; the loaded backend is
	# unloaded by hand once its last disk is gone (deployment.md)
	tap_ok "modprobe -r xenblk_back" modprobe -r xenblk_back
	tap_ok "the packages' files removed, depmod (xb-pkg remove)" xb-pkg remove
	tap_is "no module and no modprobe file of the package left" \
		"$(ls /lib/modules/$k/updates/dkms/* /lib/modprobe.d/xenblk.conf /usr/sbin/xbctl 2>/dev/null | xargs)" ""
	tap_is "xen-backend:vbd resolves to the stock backend" \
		"$(modprobe --show-depends xen-backend:vbd 2>&1 | sed -n 's|^insmod .*/\(xen-blkback\)\.ko.*|\1|p' | xargs)" xen-blkback
	if xb_domu_start domu2 removed; then tap_pass "domU2 created"; else tap_fail "domU2 created"; return; fi
	tap_ok "domU2 checked its frontend" xb_wait_line domu2 '^PA-DONE' 240 || return
	tap_is "package removed: the stock backend is loaded, ours not" "$(pa_loaded)" xen_blkback
	pa_from xen_blkback kernel/drivers/block/xen-blkback "the stock backend is the kernel's"
	xb_tell domu2 checked 1
	tap_end
}
