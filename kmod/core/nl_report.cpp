// SPDX-License-Identifier: GPL-2.0
// nl_report.cpp - netlink replies and events of both modules, SET validation.
#include "nl_report.hpp"

namespace xb::nl {

static_assert(XENBLK_OP_COUNT == stat_ops);
static_assert(XENBLK_LATENCY_BUCKETS == latency_buckets);
static_assert(static_cast<unsigned>(StatOp::read) == XENBLK_OP_READ);
static_assert(static_cast<unsigned>(StatOp::write) == XENBLK_OP_WRITE);
static_assert(static_cast<unsigned>(StatOp::flush) == XENBLK_OP_FLUSH);
static_assert(static_cast<unsigned>(StatOp::barrier) == XENBLK_OP_BARRIER);
static_assert(static_cast<unsigned>(StatOp::discard) == XENBLK_OP_DISCARD);

u8 flush_mode_attr(FlushMode m)
{
	switch (m) {
	case FlushMode::flush: return XENBLK_FLUSH_FLUSH;
	case FlushMode::barrier: return XENBLK_FLUSH_BARRIER;
	case FlushMode::none: break;
	}
	return XENBLK_FLUSH_NONE;
}

u8 flush_policy_attr(FlushPolicy p)
{
	switch (p) {
	case FlushPolicy::automatic: return XENBLK_FLUSH_AUTO;
	case FlushPolicy::flush: return XENBLK_FLUSH_FLUSH;
	case FlushPolicy::barrier: return XENBLK_FLUSH_BARRIER;
	case FlushPolicy::both: return XENBLK_FLUSH_BOTH;
	case FlushPolicy::none: break;
	}
	return XENBLK_FLUSH_NONE;
}

bool flush_policy_from_attr(u32 v, FlushPolicy* out)
{
	switch (v) {
	case XENBLK_FLUSH_NONE: *out = FlushPolicy::none; return true;
	case XENBLK_FLUSH_BARRIER: *out = FlushPolicy::barrier; return true;
	case XENBLK_FLUSH_FLUSH: *out = FlushPolicy::flush; return true;
	case XENBLK_FLUSH_AUTO: *out = FlushPolicy::automatic; return true;
	case XENBLK_FLUSH_BOTH: *out = FlushPolicy::both; return true;
	default: return false;
	}
}

namespace {

bool write_features(AttrWriter& w, const Features& f)
{
	if (!w.nest_start(XENBLK_A_FEATURES))
		return false;
	const bool ok = w.put_u8(XENBLK_F_FLUSH_MODE, f.flush_mode) &&
		w.put_u8(XENBLK_F_FLUSH, f.flush) &&
		w.put_u8(XENBLK_F_BARRIER, f.barrier) &&
		w.put_u8(XENBLK_F_DISCARD, f.discard) &&
		w.put_u8(XENBLK_F_PERSISTENT, f.persistent) &&
		w.put_u32(XENBLK_F_INDIRECT_SEGS, f.indirect_segs) &&
		w.put_u32(XENBLK_F_QUEUES, f.queues) &&
		w.put_u32(XENBLK_F_RING_ORDER, f.ring_order) &&
		w.put_string(XENBLK_F_ABI, protocol_name(f.abi));
	w.nest_end();
	return ok;
}

bool write_config(AttrWriter& w, const Config& c)
{
	if (!w.nest_start(XENBLK_A_CONFIG))
		return false;
	bool ok = w.put_u8(XENBLK_C_FLUSH_POLICY, flush_policy_attr(c.flush)) &&
		w.put_u32(XENBLK_C_MAX_QUEUES, c.max_queues) &&
		w.put_u32(XENBLK_C_MAX_RING_ORDER, c.max_ring_order) &&
		w.put_u8(XENBLK_C_PERSISTENT, c.persistent) &&
		w.put_u8(XENBLK_C_DISCARD, c.discard);
	for (u32 k = 0; ok && k < throttle::nr_kinds; k++) {
		const auto kind = static_cast<throttle::Kind>(k);
		ok = w.put_u64(rate_attr(kind), c.limits.l[k].rate, XENBLK_C_PAD) &&
			w.put_u64(burst_attr(kind), c.limits.l[k].burst, XENBLK_C_PAD);
	}
	if (ok && c.group[0])
		ok = w.put_string(XENBLK_C_THROTTLE_GROUP, c.group);
	w.nest_end();
	return ok;
}

bool write_throttle(AttrWriter& w, const DeviceStats& s, const ThrottleNow& t)
{
	if (!w.nest_start(XENBLK_S_THROTTLE))
		return false;
	bool ok = w.put_u64(XENBLK_T_DELAYED, s.throttled, XENBLK_T_PAD) &&
		w.put_u64(XENBLK_T_DELAYED_NS, s.throttled_ns, XENBLK_T_PAD) &&
		w.put_u64(XENBLK_T_HELD, s.throttle_held, XENBLK_T_PAD);
	if (ok && (ok = w.nest_start(XENBLK_T_TOKENS))) {
		for (u32 k = 0; ok && k < throttle::nr_kinds; k++)
			if (t.limited[k])
				ok = w.put_u64(rate_attr(static_cast<throttle::Kind>(k)), t.tokens[k], 0);
		w.nest_end();
	}
	w.nest_end();
	return ok;
}

bool write_op(AttrWriter& w, unsigned o, const OpCounters& c, const LatencyHistogram& h)
{
	if (!w.nest_start(XENBLK_S_OP))
		return false;
	bool ok = w.put_u32(XENBLK_O_OP, o) &&
		w.put_u64(XENBLK_O_REQUESTS, c.requests, XENBLK_O_PAD) &&
		w.put_u64(XENBLK_O_SECTORS, c.sectors, XENBLK_O_PAD) &&
		w.put_u64(XENBLK_O_ERRORS, c.errors, XENBLK_O_PAD) &&
		w.put_u64(XENBLK_O_UNSUPPORTED, c.unsupported, XENBLK_O_PAD);
	if (ok && (ok = w.nest_start(XENBLK_O_LATENCY))) {
		for (unsigned b = 0; ok && b < latency_buckets; b++)
			ok = w.put_u64(static_cast<u16>(b + 1), h.bucket[b], 0);
		w.nest_end();
	}
	w.nest_end();
	return ok;
}

bool write_stats(AttrWriter& w, const DeviceStats& s, const ThrottleNow* t)
{
	if (!w.nest_start(XENBLK_A_STATS))
		return false;
	bool ok = true;
	for (unsigned o = 0; ok && o < stat_ops; o++)
		ok = write_op(w, o, s.op[o], s.latency[o]);
	ok = ok && w.put_u64(XENBLK_S_IN_FLIGHT, s.in_flight, XENBLK_S_PAD) &&
		w.put_u64(XENBLK_S_BAD, s.bad_requests, XENBLK_S_PAD) &&
		w.put_u64(XENBLK_S_FALLBACKS, s.fallbacks, XENBLK_S_PAD) &&
		w.put_u64(XENBLK_S_OUT_OF_RESOURCES, s.out_of_resources, XENBLK_S_PAD);
	if (ok && t)
		ok = write_throttle(w, s, *t);
	w.nest_end();
	return ok;
}

u64 minus(u64 a, u64 b) { return a > b ? a - b : 0; }

} // namespace

bool write_device(AttrWriter& w, const Snapshot& s)
{
	if (!w.put_string(XENBLK_A_NAME, s.name) || !w.put_u32(XENBLK_A_DOMID, s.domid) ||
	    !w.put_u32(XENBLK_A_DEVID, s.devid) || !w.put_u32(XENBLK_A_STATE, s.state) ||
	    !w.put_u32(XENBLK_A_OTHER_STATE, s.other_state))
		return false;
	if (s.has_phys && (!w.put_u32(XENBLK_A_PHYS_MAJOR, s.phys_major) ||
			   !w.put_u32(XENBLK_A_PHYS_MINOR, s.phys_minor)))
		return false;
	if (s.has_mode && !w.put_u8(XENBLK_A_READ_ONLY, s.read_only))
		return false;
	if (s.connected && (!w.put_u64(XENBLK_A_SECTORS, s.sectors, XENBLK_A_PAD) ||
			    !write_features(w, s.features)))
		return false;
	if (s.has_config && !write_config(w, s.config))
		return false;
	return write_stats(w, s.stats, s.has_config ? &s.throttle : nullptr);
}

bool write_event(AttrWriter& w, u32 event, const char* name, u32 domid, u32 devid,
		 const char* detail)
{
	return w.put_u32(XENBLK_A_EVENT, event) && w.put_string(XENBLK_A_NAME, name) &&
		w.put_u32(XENBLK_A_DOMID, domid) && w.put_u32(XENBLK_A_DEVID, devid) &&
		(!detail || w.put_string(XENBLK_A_EVENT_DETAIL, detail));
}

void stats_since(DeviceStats* s, const DeviceStats& base)
{
	for (unsigned o = 0; o < stat_ops; o++) {
		OpCounters& c = s->op[o];
		c.requests = minus(c.requests, base.op[o].requests);
		c.sectors = minus(c.sectors, base.op[o].sectors);
		c.errors = minus(c.errors, base.op[o].errors);
		c.unsupported = minus(c.unsupported, base.op[o].unsupported);
		for (unsigned b = 0; b < latency_buckets; b++)
			s->latency[o].bucket[b] = minus(s->latency[o].bucket[b], base.latency[o].bucket[b]);
	}
	s->bad_requests = minus(s->bad_requests, base.bad_requests);
	s->fallbacks = minus(s->fallbacks, base.fallbacks);
	s->out_of_resources = minus(s->out_of_resources, base.out_of_resources);
	s->throttled = minus(s->throttled, base.throttled);
	s->throttled_ns = minus(s->throttled_ns, base.throttled_ns);
}

bool group_name_ok(const char* s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		const char c = s[n];
		if (n + 1 >= group_len ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n > 0;
}

bool sets_limits(const SetRequest& req)
{
	for (u32 a = XENBLK_C_IOPS_READ; a <= XENBLK_C_BPS_BURST; a++)
		if (req.has[a])
			return true;
	return false;
}

void BackSettings::apply(BackendConfig* cfg) const
{
	if (has_flush)
		cfg->flush = flush;
	if (has_max_queues)
		cfg->max_queues = max_queues;
	if (has_max_ring_order)
		cfg->max_ring_order = max_ring_order;
	if (has_discard)
		cfg->discard = discard;
	if (has_persistent)
		cfg->persistent = persistent;
}

int apply_set(const SetRequest& req, BackSettings* s, throttle::Limits* lim, SetError* err)
{
	BackSettings n = *s;
	throttle::Limits nl = *lim;
	bool any = false;

	for (unsigned a = 1; a <= XENBLK_C_MAX; a++)
		any = any || req.has[a];
	if (req.has[XENBLK_C_PAD]) {
		err->why = "XENBLK_C_PAD is padding, not a setting";
		err->attr = XENBLK_C_PAD;
		return to_int(kstd::Errno::inval);
	}
	if (!any) {
		err->why = "nothing to set: the request has no setting";
		err->attr = 0;
		return to_int(kstd::Errno::inval);
	}
	if (req.has[XENBLK_C_FLUSH_POLICY]) {
		if (req.val[XENBLK_C_FLUSH_POLICY] > 0xff ||
		    !flush_policy_from_attr(static_cast<u32>(req.val[XENBLK_C_FLUSH_POLICY]), &n.flush)) {
			err->why = "flush policy must be none, barrier, flush, auto or both";
			err->attr = XENBLK_C_FLUSH_POLICY;
			return to_int(kstd::Errno::inval);
		}
		n.has_flush = true;
	}
	if (req.has[XENBLK_C_MAX_QUEUES]) {
		const u64 v = req.val[XENBLK_C_MAX_QUEUES];
		if (v < 1 || v > max_queues_limit) {
			err->why = "max queues must be 1..32";
			err->attr = XENBLK_C_MAX_QUEUES;
			return to_int(kstd::Errno::inval);
		}
		n.has_max_queues = true;
		n.max_queues = static_cast<u32>(v);
	}
	if (req.has[XENBLK_C_MAX_RING_ORDER]) {
		const u64 v = req.val[XENBLK_C_MAX_RING_ORDER];
		if (v > blkif_max_ring_order) {
			err->why = "max ring order must be 0..4 (1 to 16 pages)";
			err->attr = XENBLK_C_MAX_RING_ORDER;
			return to_int(kstd::Errno::inval);
		}
		n.has_max_ring_order = true;
		n.max_ring_order = static_cast<u32>(v);
	}
	if (req.has[XENBLK_C_PERSISTENT]) {
		const u64 v = req.val[XENBLK_C_PERSISTENT];
		if (v > 1) {
			err->why = "persistent must be 0 or 1";
			err->attr = XENBLK_C_PERSISTENT;
			return to_int(kstd::Errno::inval);
		}
		n.has_persistent = true;
		n.persistent = v == 1;
	}
	if (req.has[XENBLK_C_DISCARD]) {
		const u64 v = req.val[XENBLK_C_DISCARD];
		if (v > 1) {
			err->why = "discard must be 0 or 1";
			err->attr = XENBLK_C_DISCARD;
			return to_int(kstd::Errno::inval);
		}
		n.has_discard = true;
		n.discard = v == 1;
	}
	for (u32 k = 0; k < throttle::nr_kinds; k++) {
		const auto kind = static_cast<throttle::Kind>(k);
		if (req.has[rate_attr(kind)])
			nl.l[k].rate = req.val[rate_attr(kind)];
		if (req.has[burst_attr(kind)])
			nl.l[k].burst = req.val[burst_attr(kind)];
	}
	throttle::Kind kind;
	const throttle::Bad bad = throttle::check(nl, &kind);
	if (bad != throttle::Bad::none) {
		err->why = bad == throttle::Bad::rate_too_high
			? "a rate must be at most 10000000000 per second (0: no limit)"
			: "a burst must be at most 60 seconds at its rate";
		// the attribute of this request that made it so (the rate, else the burst)
		err->attr = req.has[burst_attr(kind)] && bad == throttle::Bad::burst_too_high
			? burst_attr(kind) : rate_attr(kind);
		return to_int(kstd::Errno::inval);
	}
	if (req.has[XENBLK_C_THROTTLE_GROUP] && req.group[0] && !group_name_ok(req.group)) {
		err->why = "a throttle group is named by 1 to 15 of A-Z a-z 0-9 _ . - (\"\" leaves it)";
		err->attr = XENBLK_C_THROTTLE_GROUP;
		return to_int(kstd::Errno::inval);
	}
	*s = n;
	*lim = nl;
	return 0;
}

} // namespace xb::nl
