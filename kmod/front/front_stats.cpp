// SPDX-License-Identifier: GPL-2.0
// front_stats.cpp - xenblk-front: statistics and the netlink hooks.  The
// sysfs file xenblk_stats, the report the generic netlink family reads
// (fe::nl_report, registered by front_entry.cpp) and the netlink events
// (nlk::event) the driver sends.  Each ring keeps its own
// RingStats under its lock; these sum them.
#include "front.hpp"

namespace xb::fe {

int Device::show_stats(char* buf, unsigned len)
{
	DeviceStats st = {};
	PoolStats ps = {};
	u32 pool_pages = 0, pool_free = 0;
	u64 direct_grants = 0;
	const char* const names[stat_ops] = {"read", "write", "flush", "barrier", "discard"};
	int n = 0;

	for (u32 i = 0; i < nr_rings_; i++) {
		if (rings_[i]) {
			rings_[i]->stats_into(&st);
			rings_[i]->pool_into(&ps, &pool_pages, &pool_free, &direct_grants);
		}
	}
	auto put = [&](const char* fmt, auto... args) {
		if (n >= 0 && static_cast<unsigned>(n) < len) {
			const int k = __builtin_snprintf(buf + n, len - n, fmt, args...);
			n += k > 0 ? k : 0;
		}
	};
	put("flush_mode %s\nrings %u\nring_pages %u\n", flush_mode_name(static_cast<FlushMode>(flush_mode_)),
	    nr_rings_, 1u << cfg_.ring_order);
	for (unsigned o = 0; o < stat_ops; o++)
		put("%s requests %llu sectors %llu errors %llu unsupported %llu\n", names[o],
		    st.op[o].requests, st.op[o].sectors, st.op[o].errors, st.op[o].unsupported);
	put("in_flight %llu\nbad_responses %llu\nfallbacks %llu\nbroken %u\n", st.in_flight,
	    st.bad_requests, st.fallbacks, broken() ? 1u : 0u);
	put("persistent %u\npool_pages %u\npool_free %u\npool_hits %llu\npool_created %llu\n"
	    "pool_kept %llu\npool_dropped %llu\npool_purged %llu\n",
	    cfg_.persistent ? 1u : 0u, pool_pages, pool_free, ps.hits, ps.created, ps.kept,
	    ps.dropped, ps.purged);
	put("bounce %u\ndirect_grants %llu\n", mode_ == GrantMode::bounce ? 1u : 0u, direct_grants);
	return kstd::min<int>(n, static_cast<int>(len) - 1);
}

// ---- generic netlink --------------------------------------------------------------

void Device::nl_event(u32 type, const char* detail, bool atomic) const
{
	nlk::event(type, name_, xb_fe_glue_backend_id(gd_), vdevice_, detail, atomic);
}

void Device::sum_stats(DeviceStats* st)
{
	if (!rings_up_)
		return;
	for (u32 i = 0; i < nr_rings_; i++)
		if (rings_[i])
			rings_[i]->stats_into(st);
}

void Device::nl_snapshot(nl::Snapshot* out)
{
	XsSource backend(gd_, true);
	char buf[16];

	kstd::memcpy(out->name, name_, sizeof(name_));
	out->domid = xb_fe_glue_backend_id(gd_);
	out->devid = vdevice_;
	out->state = static_cast<u32>(xb_fe_glue_state(gd_));
	u32 other = 0;
	if (backend.read("state", buf, sizeof(buf)) && parse_u32(buf, &other))
		out->other_state = other;
	out->connected = has_disk() && rings_up_ && out->state == XENBLK_STATE_CONNECTED;
	if (out->connected) {
		nl::Features& f = out->features;
		const FlushMode mode = static_cast<FlushMode>(kstd::read_once(flush_mode_));
		f.flush_mode = nl::flush_mode_attr(mode);
		f.flush = mode == FlushMode::flush;
		f.barrier = mode == FlushMode::barrier;
		f.discard = kstd::read_once(discard_on_) && cfg_.discard;
		f.persistent = cfg_.persistent;
		f.indirect_segs = cfg_.max_indirect_segments;
		f.queues = nr_rings_;
		f.ring_order = cfg_.ring_order;
		f.abi = cfg_.abi;
		out->sectors = cfg_.sectors;
		out->has_mode = true;
		out->read_only = cfg_.read_only;
	}
	sum_stats(&out->stats);
	nl::stats_since(&out->stats, nl_base_);
}

void Device::nl_reset_stats()
{
	nl_base_ = {};
	sum_stats(&nl_base_);
}

} // namespace xb::fe

// ---- the report of the netlink family (rt/nl_kernel.hpp) ----
namespace xb::fe {
namespace {
bool nl_dev_name(void* dev, char* buf, size_t len)
{
	const char* n = static_cast<Device*>(dev)->name();
	if (!*n || kstd::strlen(n) >= len)
		return false;
	kstd::memcpy(buf, n, kstd::strlen(n) + 1);
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
} // namespace
// the frontend has no settings: its family has no SET command
const nlk::Report nl_report = { nl_dev_name, nl_dev_snapshot, nl_dev_reset_stats, nullptr };
} // namespace xb::fe
