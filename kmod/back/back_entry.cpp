// SPDX-License-Identifier: GPL-2.0
// back_entry.cpp - xenblk-back: the entry points the glue calls (back_entry.h).
#include "back.hpp"
#include "back_entry.h"
#include "load_check.hpp"
#include "nl_api.h"

using xb::back::Device;

extern "C" int xb_back_module_init(void)
{
	// on 0 the glue registers the xenbus driver
	const int rc = xb_load_check(xbg_on_xen(), "not running on Xen");
	if (rc)
		return rc;
	return xb::nlk::register_family(&xb::back::nl_report);
}

extern "C" void xb_back_module_exit(void)
{
	xb::nlk::unregister_family();
}

extern "C" int xb_back_dev_probe(struct xbg_dev* gd, void** dev)
{
	Device* d = new (std::nothrow) Device(gd);
	if (!d)
		return to_int(kstd::Errno::nomem);
	if (xbnl_dev_add(d)) {   // netlink sees every device, or the probe fails
		delete d;
		return to_int(kstd::Errno::nomem);
	}
	*dev = d;   // before probe(): the watch it sets may fire at once
	const int err = d->probe();
	if (err) {
		d->remove();
		xbnl_dev_del(d);
		delete d;
	}
	return err;
}

extern "C" void xb_back_dev_remove(void* dev)
{
	Device* d = static_cast<Device*>(dev);
	d->remove();         // no hotplug event after this
	xbnl_dev_del(d);     // waits for netlink readers
	delete d;
}

extern "C" void xb_back_dev_frontend_changed(void* dev, int state)
{
	static_cast<Device*>(dev)->frontend_changed(state);
}

extern "C" long long xb_back_dev_stat(void* dev, unsigned int which)
{
	return static_cast<Device*>(dev)->stat(which);
}

extern "C" int xb_back_dev_physical_device(void* dev, char* buf, unsigned int len)
{
	return static_cast<Device*>(dev)->physical_device(buf, len);
}

extern "C" int xb_back_dev_mode(void* dev, char* buf, unsigned int len)
{
	return static_cast<Device*>(dev)->mode(buf, len);
}
