// SPDX-License-Identifier: GPL-2.0
// load_check.hpp - what both modules do first at load: the protocol core's
// self-check (a miscompiled core must never touch a ring), then whether there is
// a Xen to serve.  Returns 0 to go on, or the negative errno to refuse with.
#pragma once
#include "kstd.hpp"
#include "rt_api.h"
#include "selftest.hpp"

inline int xb_load_check(bool on_xen, const char* not_on_xen)
{
	const kstd::Errno rc = xb::core_selftest();
	if (rc != kstd::Errno::ok) {
		xb_rt_log(XB_LOG_ERR, "protocol core self-check failed (%d); not loading", kstd::to_int(rc));
		return kstd::to_int(rc);
	}
	if (!on_xen) {
		xb_rt_log(XB_LOG_NOTICE, "%s; not loading", not_on_xen);
		return kstd::to_int(kstd::Errno::nodev);
	}
	return 0;
}
