// SPDX-License-Identifier: GPL-2.0
// back.cpp - xenblk-back module entry points (C++ side).
#include "kstd.hpp"
#include "rt_api.h"
#include "back_api.h"
#include "selftest.hpp"

extern "C" int xb_back_module_init(void)
{
	const kstd::Errno rc = xb::core_selftest();
	if (rc != kstd::Errno::ok) {
		xb_rt_log(XB_LOG_ERR, "protocol core self-check failed (%d); not loading", kstd::to_int(rc));
		return kstd::to_int(rc);
	}
	if (!xb_back_glue_on_xen()) {
		xb_rt_log(XB_LOG_NOTICE, "not running on Xen; not loading");
		return kstd::to_int(kstd::Errno::nodev);
	}
	xb_rt_log(XB_LOG_NOTICE, "the xenbus backend driver is not part of this build; not loading");
	return kstd::to_int(kstd::Errno::nodev);
}

extern "C" void xb_back_module_exit(void)
{
}
