// SPDX-License-Identifier: GPL-2.0
// front.cpp - xenblk-front module entry points (C++ side).
#include "kstd.hpp"
#include "rt_api.h"
#include "front_api.h"
#include "selftest.hpp"

extern "C" int xb_front_module_init(void)
{
	// The core runs its self-check first, on every load: a miscompiled core
	// must never touch a ring.
	const kstd::Errno rc = xb::core_selftest();
	if (rc != kstd::Errno::ok) {
		xb_rt_log(XB_LOG_ERR, "protocol core self-check failed (%d); not loading", kstd::to_int(rc));
		return kstd::to_int(rc);
	}
	if (!xb_front_glue_on_xen()) {
		xb_rt_log(XB_LOG_NOTICE, "not running on Xen with PV disk devices; not loading");
		return kstd::to_int(kstd::Errno::nodev);
	}
	xb_rt_log(XB_LOG_NOTICE, "the xenbus frontend driver is not part of this build; not loading");
	return kstd::to_int(kstd::Errno::nodev);
}

extern "C" void xb_front_module_exit(void)
{
}
