// SPDX-License-Identifier: GPL-2.0
// back_throttle.cpp - xenblk-back: per-disk I/O limits at work.
//
// The limits themselves (token buckets, bursts, what counts) are the core's
// (kmod/core/throttle.hpp).  Here a ring holds the requests they delay: a
// read, write or discard that may not start yet is copied into the ring's FIFO
// of held requests, still entered in the device's OrderGate (a barrier waits
// for it like for any request before it), and the worker sleeps until the
// first one may start.  Requests behind held ones join the FIFO (no request
// overtakes another of its ring); flushes and barriers never do: a flush
// starts at once, a barrier drains the held requests before it as it drains
// every ring.  The FIFO holds up to held_max requests; when it is full the
// next request stays on the ring until there is room.
//
// A device's limits are its own or, once it joined a throttle group, its
// group's: every device of the group draws from the same buckets.  Groups
// live in a fixed table for the module's life; membership changes under
// netlink's device-list lock.
#include "back.hpp"
#include "nl_api.h"
#include "nl_kernel.hpp"

namespace xb::back {
namespace {

// Requests a ring holds at most (about 150 bytes each, allocated at the
// ring's first hold): a queue depth of 128 is deeper than any frontend's.
constexpr u32 held_max = 128;

// Start and stop events of a device: at most one a second each.
constexpr u64 event_gap_ns = throttle::ns_per_s;

// A request as the limits see it.  An indirect request counts its segments as
// whole pages: a frontend cannot pay less than what it may move.
throttle::Op throttle_op(const Request& req, u64* bytes)
{
	*bytes = 0;
	switch (req.kind) {
	case ReqKind::rw:
		if (req.op != BLKIF_OP_READ && req.op != BLKIF_OP_WRITE)
			return throttle::Op::other;   // flush, barrier
		for (u32 i = 0; i < req.nr_segments && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
			*bytes += segment_bytes(req.seg[i]);
		return req.op == BLKIF_OP_READ ? throttle::Op::read : throttle::Op::write;
	case ReqKind::indirect:
		if (req.indirect_op != BLKIF_OP_READ && req.indirect_op != BLKIF_OP_WRITE)
			return throttle::Op::other;
		*bytes = static_cast<u64>(req.nr_segments) * BLKIF_PAGE_SIZE;
		return req.indirect_op == BLKIF_OP_READ ? throttle::Op::read : throttle::Op::write;
	case ReqKind::discard:
		return throttle::Op::discard;
	case ReqKind::other:
		break;
	}
	return throttle::Op::other;
}

struct Group {
	char name[nl::group_len] = {};
	u32 members = 0;   // 0: free (name kept until reused)
	throttle::Throttle thr;
};
constexpr u32 max_groups = 16;
constinit Group groups[max_groups];   // guarded by netlink's list lock

// The group called name, or a free slot for it (-1: none left).
int find_group(const char* name)
{
	int free_slot = -1;
	for (u32 i = 0; i < max_groups; i++) {
		if (groups[i].members && !kstd::strcmp(groups[i].name, name))
			return static_cast<int>(i);
		if (!groups[i].members && free_slot < 0)
			free_slot = static_cast<int>(i);
	}
	return free_slot;
}

} // namespace

// ---- a ring's held requests (worker thread) -------------------------------------------

Ring::Hold Ring::throttle(const Request& req, u64 now)
{
	u64 bytes;
	const throttle::Op op = throttle_op(req, &bytes);
	if (op == throttle::Op::other)
		return Hold::go;
	if (!held_n_) {
		const u64 wait = dev_->throttle()->admit(op, bytes, now);
		if (!wait) {
			dev_->throttle_free(now);
			return Hold::go;
		}
		wake_ns_ = now + wait;
	}
	if (!held_) {
		held_cap_ = kstd::min(ring_.size(), held_max);
		held_ = new (std::nothrow) Held[held_cap_];
		if (!held_) {
			held_cap_ = 0;
			return Hold::full;   // parked on the ring instead; wake_ns_ is set
		}
	}
	if (held_n_ == held_cap_)
		return Hold::full;
	Held& h = held_[(held_head_ + held_n_) % held_cap_];
	h.req = req;
	h.since_ns = now;
	held_n_++;
	stats.throttle_held = held_n_;
	dev_->throttle_delayed(now);
	return Hold::held;
}

// Starts the held requests whose turn came, in order; wake_ns_ becomes when
// the next one may start.  drop (the ring stops): each is answered
// BLKIF_RSP_ERROR instead, nothing new is mapped.
void Ring::release_held(u64 now, bool drop)
{
	while (held_n_) {
		Held& h = held_[held_head_];
		const Request& req = h.req;
		const u8 rsp_op = req.kind == ReqKind::indirect ? req.indirect_op : req.op;
		if (drop) {
			stats.complete(stat_of_op(rsp_op), 0, BLKIF_RSP_ERROR, now - h.since_ns);
			respond(req.id, rsp_op, BLKIF_RSP_ERROR);
			leave_gate();
		} else {
			u64 bytes;
			const throttle::Op op = throttle_op(req, &bytes);
			const u64 wait = dev_->throttle()->admit(op, bytes, now);
			if (wait) {
				wake_ns_ = now + wait;
				return;
			}
			// checked again: the device may have shrunk while it waited
			const DeviceLimits lim = dev_->limits();
			const Reject why = validate_request(req, lim);
			if (why != Reject::none) {
				stats.bad_requests++;
				respond(req.id, rsp_op, reject_status(why));
				leave_gate();
			} else if (start(req, lim, rsp_op) == Step::retry) {
				wake_ns_ = now + static_cast<u64>(retry_ms) * 1000000;
				return;   // out of memory: still held, still entered
			}
			stats.throttled++;
			stats.throttled_ns += now - h.since_ns;
		}
		held_head_ = (held_head_ + 1) % held_cap_;
		held_n_--;
		stats.throttle_held = held_n_;
	}
	wake_ns_ = 0;
}

// ---- a device's limits ------------------------------------------------------------------

// A request had to wait: the start event, unless one went out within the last second.
void Device::throttle_delayed(u64 now)
{
	__atomic_store_n(&last_delay_ns_, now, __ATOMIC_RELAXED);
	if (__atomic_load_n(&throttling_, __ATOMIC_RELAXED))
		return;
	const u64 last = __atomic_load_n(&last_event_ns_, __ATOMIC_RELAXED);
	if (last && now - last < event_gap_ns)
		return;
	if (__atomic_exchange_n(&throttling_, true, __ATOMIC_ACQ_REL))
		return;   // another ring said it
	__atomic_store_n(&last_event_ns_, now, __ATOMIC_RELAXED);
	nl_event(XENBLK_EV_THROTTLE_START, "requests wait for the device's I/O limits", true);
}

// A request started at once: the stop event once none waited for a second.
void Device::throttle_free(u64 now)
{
	if (!__atomic_load_n(&throttling_, __ATOMIC_RELAXED) ||
	    now - __atomic_load_n(&last_delay_ns_, __ATOMIC_RELAXED) < event_gap_ns)
		return;
	if (!__atomic_exchange_n(&throttling_, false, __ATOMIC_ACQ_REL))
		return;
	__atomic_store_n(&last_event_ns_, now, __ATOMIC_RELAXED);
	nl_event(XENBLK_EV_THROTTLE_STOP, "no request waited for the I/O limits for a second", true);
}

// XENBLK_CMD_DEV_SET's limits and group, in two steps around the check of
// the whole request (back_stats.cpp).  A device that joins an existing group
// takes the group's limits (those of the request, if it gives any, become the
// group's); one that creates a group brings its own, and one that leaves a
// group keeps the group's as its own.
int Device::prepare_limits(const nl::SetRequest& req, LimitsChange* c, nl::SetError* err) const
{
	c->group = group_;
	if (req.has[XENBLK_C_THROTTLE_GROUP]) {
		c->group = req.group[0] ? find_group(req.group) : -1;
		if (req.group[0] && c->group < 0) {
			err->why = "every throttle group is in use (16)";
			err->attr = XENBLK_C_THROTTLE_GROUP;
			return to_int(kstd::Errno::nospc);
		}
	}
	c->carry = c->group != group_ && (c->group < 0 || !groups[c->group].members);
	c->lim = c->carry ? thr_->limits() : c->group < 0 ? own_thr_.limits() : groups[c->group].thr.limits();
	return 0;
}

void Device::commit_limits(const nl::SetRequest& req, const LimitsChange& c)
{
	throttle::Throttle* t = c.group < 0 ? &own_thr_ : &groups[c.group].thr;
	if (c.group != group_) {
		leave_group();
		if (c.group >= 0) {
			if (!groups[c.group].members)
				__builtin_memcpy(groups[c.group].name, req.group, nl::group_len);
			groups[c.group].members++;
		}
		group_ = c.group;
	}
	if (nl::sets_limits(req) || c.carry)
		t->set(c.lim);
	__atomic_store_n(&thr_, t, __ATOMIC_RELEASE);
	if (!t->active() && __atomic_exchange_n(&throttling_, false, __ATOMIC_ACQ_REL))
		nl_event(XENBLK_EV_THROTTLE_STOP, "the device's I/O limits were removed", false);
	// held requests look at the new limits now (the device lock: the rings
	// may be going, disconnect() frees them after clearing rings_ under it)
	DevLock lock(gd_);
	kick_all();
}

void Device::leave_group()
{
	if (group_ >= 0 && groups[group_].members)
		groups[group_].members--;
	group_ = -1;
}

const char* Device::group_name() const
{
	return group_ >= 0 ? groups[group_].name : "";
}

void Device::throttle_snapshot(nl::Snapshot* out)
{
	const throttle::Throttle* t = throttle();
	const u64 now = xbg_now_ns();
	out->config.limits = t->limits();
	if (group_ >= 0)
		__builtin_memcpy(out->config.group, groups[group_].name, nl::group_len);
	for (u32 k = 0; k < throttle::nr_kinds; k++) {
		out->throttle.limited[k] = out->config.limits.l[k].rate != 0;
		if (out->throttle.limited[k])
			out->throttle.tokens[k] = t->tokens(static_cast<throttle::Kind>(k), now);
	}
}

} // namespace xb::back
