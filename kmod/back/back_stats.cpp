// SPDX-License-Identifier: GPL-2.0
// back_stats.cpp - xenblk-back: what a device reports.  The sysfs files of
// the stock backend (physical_device, mode, statistics/: one table, in
// back_entry.h's order) and the generic netlink family (the report it
// registers, back::nl_report, and the events), both from the same sums over
// the device's rings.
#include "back.hpp"
#include "back_entry.h"
#include "nl_api.h"
#include "nl_kernel.hpp"

namespace xb::back {
namespace {

// What one read of statistics/ sums over the device's rings, past and present.
struct Sums {
	DeviceStats s;
	CacheStats c;
	u64 kept;
};

long long reqs(const Sums& x, StatOp o) { return static_cast<long long>(x.s.op[static_cast<unsigned>(o)].requests); }
long long sects(const Sums& x, StatOp o) { return static_cast<long long>(x.s.op[static_cast<unsigned>(o)].sectors); }
long long ll(u64 v) { return static_cast<long long>(v); }

// The file of each XB_BACK_STAT_*, in that order (checked below).  As the
// stock backend: a barrier is an f_req, its sectors are wr_sect.
struct StatFile {
	unsigned int which;
	long long (*get)(const Sums&);
};
constexpr StatFile stat_files[] = {
	{ XB_BACK_STAT_oo_req, [](const Sums& x) { return ll(x.s.out_of_resources); } },
	{ XB_BACK_STAT_rd_req, [](const Sums& x) { return reqs(x, StatOp::read); } },
	{ XB_BACK_STAT_wr_req, [](const Sums& x) { return reqs(x, StatOp::write); } },
	{ XB_BACK_STAT_f_req, [](const Sums& x) { return reqs(x, StatOp::flush) + reqs(x, StatOp::barrier); } },
	{ XB_BACK_STAT_ds_req, [](const Sums& x) { return reqs(x, StatOp::discard); } },
	{ XB_BACK_STAT_rd_sect, [](const Sums& x) { return sects(x, StatOp::read); } },
	{ XB_BACK_STAT_wr_sect, [](const Sums& x) { return sects(x, StatOp::write) + sects(x, StatOp::barrier); } },
	{ XB_BACK_STAT_bad_req, [](const Sums& x) { return ll(x.s.bad_requests); } },
	{ XB_BACK_STAT_err_req, [](const Sums& x) {
		long long e = 0;
		for (unsigned o = 0; o < stat_ops; o++)
			e += ll(x.s.op[o].errors);
		return e;
	} },
	{ XB_BACK_STAT_br_waits, [](const Sums& x) { return ll(x.s.barrier_waits); } },
	{ XB_BACK_STAT_br_waited, [](const Sums& x) { return ll(x.s.barrier_waited); } },
	{ XB_BACK_STAT_pgnt_hits, [](const Sums& x) { return ll(x.c.hits); } },
	{ XB_BACK_STAT_pgnt_mapped, [](const Sums& x) { return ll(x.c.mapped); } },
	{ XB_BACK_STAT_pgnt_evicted, [](const Sums& x) { return ll(x.c.evicted); } },
	{ XB_BACK_STAT_pgnt_full, [](const Sums& x) { return ll(x.c.full); } },
	{ XB_BACK_STAT_pgnt_map_failed, [](const Sums& x) { return ll(x.c.map_failed); } },
	{ XB_BACK_STAT_pgnt_kept, [](const Sums& x) { return ll(x.kept); } },
	{ XB_BACK_STAT_ind_kept, [](const Sums& x) { return ll(x.s.indirect_kept); } },
	{ XB_BACK_STAT_ind_mapped, [](const Sums& x) { return ll(x.s.indirect_mapped); } },
};

constexpr bool stat_files_in_order()
{
	for (unsigned i = 0; i < kstd::array_size(stat_files); i++)
		if (stat_files[i].which != i)
			return false;
	return true;
}
static_assert(kstd::array_size(stat_files) == XB_BACK_NR_STATS && stat_files_in_order(),
	      "one entry per XB_BACK_STATS name, in its order");

} // namespace

// Every ring's statistics and those of rings gone (device lock held).
void Device::sum_stats(DeviceStats* s)
{
	s->add(retired_);
	for (u32 q = 0; q < nr_rings_; q++)
		s->add(rings_[q]->stats);
}

long long Device::stat(unsigned int which)
{
	if (which >= XB_BACK_NR_STATS)
		return -1;
	Sums x = {};
	{
		DevLock lock(gd_);
		sum_stats(&x.s);
		x.c.add(retired_pgnt_);
		for (u32 q = 0; q < nr_rings_; q++)
			rings_[q]->pgnt_into(&x.c, &x.kept);
	}
	return stat_files[which].get(x);
}

int Device::physical_device(char* buf, unsigned int len)
{
	if (!opened_)
		return 0;
	const int n = __builtin_snprintf(buf, len, "%x:%x\n", major_, minor_);
	return n < 0 || static_cast<unsigned int>(n) >= len ? 0 : n;
}

int Device::mode(char* buf, unsigned int len)
{
	if (!opened_ || len < 2)
		return 0;
	buf[0] = read_only_ ? 'r' : 'w';
	buf[1] = '\n';
	return 2;
}

// ---- generic netlink --------------------------------------------------------------------

void Device::nl_event(u32 type, const char* detail, bool atomic) const
{
	nlk::event(type, name_, xbg_domid(gd_), xbg_handle(gd_), detail, atomic);
}

void Device::nl_snapshot(nl::Snapshot* out)
{
	const BackendConfig cfg = effective_config();

	__builtin_memcpy(out->name, name_, sizeof(out->name));
	out->domid = xbg_domid(gd_);
	out->devid = xbg_handle(gd_);
	out->state = static_cast<u32>(xbg_our_state(gd_));
	out->other_state = static_cast<u32>(fe_state_);
	out->has_config = true;
	out->config.flush = cfg.flush;
	out->config.max_queues = cfg.max_queues;
	out->config.max_ring_order = cfg.max_ring_order;
	out->config.persistent = cfg.persistent;
	out->config.discard = cfg.discard;
	throttle_snapshot(out);

	DevLock lock(gd_);
	out->has_phys = out->has_mode = opened_;
	out->phys_major = major_;
	out->phys_minor = minor_;
	out->read_only = read_only_;
	out->connected = rings_ != nullptr && out->state == XENBLK_STATE_CONNECTED;
	if (out->connected) {
		const DeviceLimits l = limits();
		nl::Features& f = out->features;
		f.flush = l.flush;
		f.barrier = l.barrier;
		f.flush_mode = l.flush ? XENBLK_FLUSH_FLUSH : l.barrier ? XENBLK_FLUSH_BARRIER : XENBLK_FLUSH_NONE;
		f.discard = l.discard;
		f.persistent = persistent_on_;
		f.indirect_segs = l.max_indirect_segments;
		f.queues = nr_rings_;
		f.ring_order = ring_order_;
		f.abi = abi_;
		out->sectors = l.sectors;
	}
	sum_stats(&out->stats);
	nl::stats_since(&out->stats, nl_base_);
}

void Device::nl_reset_stats()
{
	DevLock lock(gd_);
	nl_base_ = {};
	sum_stats(&nl_base_);
}

// A SET (netlink's device-list lock held): all of it or nothing.  The
// transport settings apply at the next connect, the I/O limits at once.
int Device::nl_configure(const nl::SetRequest& req, nl::SetError* err)
{
	LimitsChange c;
	int rc = prepare_limits(req, &c, err);
	if (!rc) {
		DevLock lock(gd_);
		rc = nl::apply_set(req, &settings_, &c.lim, err);
	}
	if (rc)
		return rc;
	if (req.has[XENBLK_C_MAX_QUEUES] || req.has[XENBLK_C_MAX_RING_ORDER] ||
	    req.has[XENBLK_C_PERSISTENT])
		republish_transport();
	const bool limits = nl::sets_limits(req) || req.has[XENBLK_C_THROTTLE_GROUP];
	if (limits)
		commit_limits(req, c);
	for (unsigned a = XENBLK_C_FLUSH_POLICY; a <= XENBLK_C_DISCARD; a++)
		if (req.has[a]) {
			xb_rt_log(XB_LOG_INFO, "%s: settings changed through netlink; they apply at the next connect", name_);
			break;
		}
	if (limits)
		xb_rt_log(XB_LOG_INFO, "%s: I/O limits changed through netlink%s%s", name_,
			  group_ >= 0 ? "; throttle group " : "", group_name());
	return 0;
}

} // namespace xb::back

// ---- the report of the netlink family (rt/nl_kernel.hpp) ----
namespace xb::back {
namespace {
bool nl_dev_name(void* dev, char* buf, size_t len)
{
	__builtin_snprintf(buf, len, "%s", static_cast<Device*>(dev)->name());
	return true;
}
bool nl_dev_snapshot(void* dev, nl::Snapshot* out)
{
	static_cast<Device*>(dev)->nl_snapshot(out);
	return true;
}
void nl_dev_reset_stats(void* dev)
{
	static_cast<Device*>(dev)->nl_reset_stats();
}
int nl_dev_configure(void* dev, const nl::SetRequest& req, nl::SetError* err)
{
	return static_cast<Device*>(dev)->nl_configure(req, err);
}
} // namespace
const nlk::Report nl_report = { nl_dev_name, nl_dev_snapshot, nl_dev_reset_stats, nl_dev_configure };
} // namespace xb::back
