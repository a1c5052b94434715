// SPDX-License-Identifier: GPL-2.0
// nl_kernel.hpp - the C++ side of a module's generic netlink family.
//
// rt/nl_handlers.cpp (shared) answers GET, dumps, SET and STATS_RESET from the
// device list the glue keeps (nl_api.h); each driver supplies the four device
// accessors below, where its Device class is visible, and reports events with
// nlk::event().  Kernel only: it calls the glue.
#pragma once
#include "kstd.hpp"
#include "nl_report.hpp"

namespace xb::nlk {

// ---- supplied by the driver (back.cpp, front.cpp); called with the device
// list locked, in process context ----
// The device's name ("vbd-1-51712", "xvda"); false if it has none yet.
bool dev_name(void* dev, char* buf, size_t len);
// Fills *out; false if out of memory.
bool dev_snapshot(void* dev, nl::Snapshot* out);
// Statistics reported from now on start at zero.
void dev_reset_stats(void* dev);
// A SET request: 0 or -errno with *err filled.
int dev_configure(void* dev, const nl::SetRequest& req, nl::SetError* err);

// ---- provided ----
// Sends an XENBLK_CMD_EVENT to the events group if anyone listens (best effort).
// atomic: from interrupt context or under a spinlock, or on an I/O path that
// must not enter reclaim.
void event(u32 type, const char* name, u32 domid, u32 devid, const char* detail, bool atomic);

} // namespace xb::nlk
