// SPDX-License-Identifier: GPL-2.0
// nl_kernel.hpp - the C++ side of a module's generic netlink family.
//
// rt/nl_handlers.cpp (shared) answers GET, dumps, SET and STATS_RESET from the
// device list the glue keeps (nl_api.h), through the report a driver registers
// (below), and sends its events (nlk::event()).  Kernel only: it calls the
// glue's services and is called by the glue's family handlers.
#pragma once
#include "kstd.hpp"
#include "nl_report.hpp"
#include "nl_api.h"

namespace xb::nlk {

// ---- what a driver reports (its Device class is visible only in its own
// files).  It registers it with register_family() at module init; the
// handlers call it with the device list locked, in process context. ----
struct Report {
	// The device's name ("vbd-1-51712", "xvda"); false if it has none yet.
	bool (*name)(void* dev, char* buf, size_t len);
	// Fills *out; false if out of memory.
	bool (*snapshot)(void* dev, nl::Snapshot* out);
	// Statistics reported from now on start at zero.
	void (*reset_stats)(void* dev);
	// A SET request: 0 or -errno with *err filled.  nullptr: the family has no
	// SET command (the frontend).
	int (*configure)(void* dev, const nl::SetRequest& req, nl::SetError* err);
};

// The device list's lock (nl_services.c: a mutex, process context only), for a scope.
class ListLock {
public:
	ListLock() { xbnl_lock(); }
	~ListLock() { xbnl_unlock(); }
	ListLock(const ListLock&) = delete;
	ListLock& operator=(const ListLock&) = delete;
};

// ---- provided ----
// Registers the module's family for report (which must outlive it): 0 or
// -errno.  What the family offers follows from the report: SET only with a
// configure function; SET and STATS_RESET need CAP_NET_ADMIN, reading does
// not (Documentation/netlink.md, "Who may read").
int register_family(const Report* report);
void unregister_family();
// Sends an XENBLK_CMD_EVENT to the events group if anyone listens (best effort).
// atomic: from interrupt context or under a spinlock, or on an I/O path that
// must not enter reclaim.
void event(u32 type, const char* name, u32 domid, u32 devid, const char* detail, bool atomic);

} // namespace xb::nlk
