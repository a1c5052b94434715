// SPDX-License-Identifier: GPL-2.0
// back_io.cpp - xenblk-back: a ring's worker.  Takes requests off the shared
// ring, validates them, turns each into block I/O (bio flags chosen here),
// keeps the cross-ring barrier order (OrderGate, back_order.hpp), answers
// completions.  Runs on the ring's worker thread only.
#include "back.hpp"
#include "nl_api.h"
#include "nl_kernel.hpp"

namespace xb::back {
namespace {

// The bio flags of each kind of I/O (the glue maps them to REQ_* bits).
constexpr unsigned int bio_read = 0;
constexpr unsigned int bio_write = XBG_BIO_WRITE | XBG_BIO_SYNC | XBG_BIO_IDLE;
constexpr unsigned int bio_flush = XBG_BIO_WRITE | XBG_BIO_PREFLUSH | XBG_BIO_SYNC;   // empty

} // namespace

kstd::Errno Ring::init(Abi abi, u32 nr_pages, void* sring, u32 max_indirect, bool persistent)
{
	if (persistent) {
		const kstd::Errno e = init_persistent();
		if (e != kstd::Errno::ok)
			return e;
	}
	abi_ = abi;
	if (ring_.attach(sring, nr_pages, entry_size(abi)) != kstd::Errno::ok)
		return kstd::Errno::inval;
	pending_ = new (std::nothrow) Pending[ring_.size()];
	segs_ = new (std::nothrow) xbg_seg[XBG_MAX_IO_SEGS];
	isegs_ = new (std::nothrow) Segment[max_indirect ? max_indirect : 1];
	if (!pending_ || !segs_ || !isegs_)
		return kstd::Errno::nomem;
	for (u32 i = 0; i < ring_.size(); i++) {
		pending_[i].next = free_;
		free_ = &pending_[i];
	}
	return kstd::Errno::ok;
}

void Ring::respond(u64 id, u8 op, s16 status)
{
	void* slot = ring_.next_response_slot();
	if (!slot) {
		xb_rt_fatal("xenblk-back: response without a request");
		return;
	}
	if (xbg_corrupt_next_response())
		id ^= 0x5a5a000000000000ull;   // corrupt_responses (tests of frontends)
	encode_response(abi_, slot, id, op, status);
	push_ = true;
}


// One request's data I/O: each segment of segs_ is a kept mapping (slot >= 0)
// or mapped for this request only; a ref that does not map fails the request
// and nothing of it stays mapped.  0, or -errno with nothing to reap.
int Ring::submit_io(Pending* p, unsigned int bio_flags, u64 sector, u32 n)
{
	IoHandle io(xbg_io_alloc(glue, p, n));   // on any failure: unmaps what it mapped
	if (!io.get())
		return to_int(kstd::Errno::nomem);
	u32 k = 0;
	int err = 0;
	for (u32 i = 0; i < n && !err; i++) {
		if (segs_[i].slot >= 0) {
			err = xbg_io_use_slot(io.get(), i, static_cast<unsigned int>(segs_[i].slot));
			continue;
		}
		io_idx_[k] = i;
		io_gref_[k++] = segs_[i].gref;
	}
	// the pages the device writes out from are mapped read-only
	if (!err)
		err = xbg_io_map(io.get(), io_idx_, io_gref_, k, (bio_flags & XBG_BIO_WRITE) != 0, io_ok_);
	for (u32 j = 0; j < k && !err; j++)
		if (!io_ok_[j])
			err = to_int(kstd::Errno::fault);
	if (!err)
		err = xbg_io_submit(io.get(), bio_flags, sector, segs_);
	if (!err)
		io.release();   // the glue's until it is reaped
	return err;
}

Ring::Step Ring::start_io(const Request& req, Pending* p, unsigned int bio_flags,
			  const Segment* seg, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		segs_[i].gref = seg[i].gref;
		segs_[i].offset = static_cast<unsigned short>(segment_offset(seg[i]));
		segs_[i].len = static_cast<unsigned short>(segment_bytes(seg[i]));
		segs_[i].slot = -1;
	}
	int err = persistent_ && n ? map_persistent(p, n) : 0;
	if (!err)
		err = submit_io(p, bio_flags, n ? req.sector : 0, n);   // an empty flush: sector 0
	if (err == to_int(kstd::Errno::nomem)) {
		release_slots(p);
		return Step::retry;
	}
	if (err) {
		complete(p, err);   // a grant that did not map: BLKIF_RSP_ERROR
		return Step::done;
	}
	stats.in_flight++;
	return Step::done;
}

// A discard, or a secure erase (only offered when the device has it; the
// kernel has it only synchronously: the glue runs it on its workqueue).  One
// the device refuses at once is answered at once.
Ring::Step Ring::start_discard(const Request& req, Pending* p)
{
	p->sectors = req.nr_sectors;
	const int rc = (req.discard_flag & BLKIF_DISCARD_SECURE) != 0
		? xbg_io_secure_erase(glue, p, req.sector, req.nr_sectors)
		: xbg_io_discard(glue, p, req.sector, req.nr_sectors);
	if (rc == to_int(kstd::Errno::nomem))
		return Step::retry;
	if (rc == 0) {
		stats.in_flight++;
		return Step::done;
	}
	complete(p, rc > 0 ? 0 : rc);   // > 0: nothing to discard
	return Step::done;
}

// A request taken off the ring (or parked earlier).  Every path either answers
// it, starts it, or parks it again.
Ring::Step Ring::dispatch(const Request& req)
{
	const DeviceLimits lim = dev_->limits();
	const Reject why = validate_request(req, lim);
	const u8 rsp_op = req.kind == ReqKind::indirect ? req.indirect_op : req.op;

	if (why != Reject::none) {
		stats.bad_requests++;
		if (may_log(&logged_rejects_)) {
			xb_rt_log(XB_LOG_INFO, "%s ring %u: request op %u rejected: %s",
				  dev_->name(), index_, req.op,
				  reject_name(why));
			dev_->nl_event(XENBLK_EV_BAD_REQUEST, reject_name(why), true);
		}
		respond(req.id, rsp_op, reject_status(why));
		return Step::done;
	}

	// refuse_ops (tests of frontends' fallbacks): answer as a device that
	// cannot do the operation would, without doing it
	if (rsp_op < 32 && (xbg_refuse_ops() & (1u << rsp_op)) &&
	    (rsp_op == BLKIF_OP_FLUSH_DISKCACHE || rsp_op == BLKIF_OP_WRITE_BARRIER ||
	     rsp_op == BLKIF_OP_DISCARD)) {
		dev_->withdraw(rsp_op);
		stats.complete(stat_of_op(rsp_op), 0, BLKIF_RSP_EOPNOTSUPP, 0);
		respond(req.id, rsp_op, BLKIF_RSP_EOPNOTSUPP);
		return Step::done;
	}

	// fail_flushes (tests of frontends' error paths): answer as a device
	// whose flush failed, without doing it
	if ((rsp_op == BLKIF_OP_FLUSH_DISKCACHE || rsp_op == BLKIF_OP_WRITE_BARRIER) &&
	    xbg_fail_next_flush()) {
		stats.complete(stat_of_op(rsp_op), 0, BLKIF_RSP_ERROR, 0);
		respond(req.id, rsp_op, BLKIF_RSP_ERROR);
		return Step::done;
	}

	if (req.op == BLKIF_OP_WRITE_BARRIER) {
		if (!dev_->gate.try_begin(index_))
			return Step::blocked;     // another ring's barrier first
		barrier_wait_ = true;         // parked_ holds it until every ring drained
		// evidence of cross-ring ordering: what the barrier has to wait for
		// on the other rings (a snapshot; no new request starts there now)
		u64 others = 0;
		for (u32 q = 0; q < dev_->nr_rings(); q++)
			if (q != index_)
				others += dev_->gate.inflight(q);
		if (others) {
			stats.barrier_waits++;
			stats.barrier_waited += others;
		}
		return Step::blocked;
	}

	const OrderGate::Entered e = dev_->gate.enter(index_);
	if (!e.ok) {
		if (e.kick != OrderGate::no_owner && e.kick != index_)
			dev_->kick(e.kick);
		return Step::blocked;
	}
	// the I/O limits: start now, or held (still entered: a barrier waits for it)
	if (held_n_ || dev_->throttle()->active()) {
		switch (throttle(req, xbg_now_ns())) {
		case Hold::go:
			break;
		case Hold::held:
			return Step::done;
		case Hold::full:   // stays parked, not entered, until wake_ns_
			leave_gate();
			return Step::blocked;
		}
	}
	const Step st = start(req, lim, rsp_op);
	if (st == Step::retry)
		leave_gate();
	return st;
}

// A request that entered the gate and may start: every path answers it,
// starts it, or (retry: out of memory) leaves it to the caller, still entered.
Ring::Step Ring::start(const Request& req, const DeviceLimits& lim, u8 rsp_op)
{
	Pending* p = get_pending();
	if (!p) {   // cannot happen: at most ring size requests are consumed
		xb_rt_fatal("xenblk-back: no pending slot");
		return Step::retry;
	}
	p->id = req.id;
	p->nslots = 0;
	p->slots = nullptr;
	p->op = rsp_op;
	p->stat = stat_of_op(rsp_op);
	p->entered = true;
	p->barrier = false;
	p->sectors = 0;
	p->start_ns = xbg_now_ns();

	Step st = Step::done;
	switch (req.kind) {
	case ReqKind::rw: {
		u64 sectors = 0;
		validate_segments(req.seg, req.nr_segments, req.sector,
				  req.op != BLKIF_OP_READ, lim, &sectors);
		p->sectors = sectors;
		if (req.op == BLKIF_OP_READ)
			st = start_io(req, p, bio_read, req.seg, req.nr_segments);
		else if (req.op == BLKIF_OP_WRITE)
			st = start_io(req, p, bio_write | dev_->write_flags(), req.seg, req.nr_segments);
		else if (req.nr_segments == 0)   // FLUSH_DISKCACHE
			st = start_io(req, p, bio_flush, req.seg, 0);
		else
			st = start_io(req, p, bio_write | XBG_BIO_PREFLUSH, req.seg, req.nr_segments);
		break;
	}
	case ReqKind::discard:
		st = start_discard(req, p);
		break;
	case ReqKind::indirect:
		st = dispatch_indirect(req, p, lim, rsp_op);
		break;
	case ReqKind::other:
		break;   // validation refused it
	}
	if (st == Step::retry) {
		stats.out_of_resources++;
		put_pending(p);
	}
	return st;
}

// An indirect request: its segment pages are read (through kept mappings
// when it can, else mapped for it alone), copied and validated before any
// segment is used.
Ring::Step Ring::dispatch_indirect(const Request& req, Pending* p, const DeviceLimits& lim, u8 rsp_op)
{
	const u32 n = req.nr_segments;
	const u32 pages = indirect_pages(n);
	const void* addr[XBG_MAX_INDIRECT_PAGES];
	u32 kslots[XBG_MAX_INDIRECT_PAGES];
	u64 sectors = 0;
	const bool kept = map_indirect_kept(req.indirect_grefs, pages, kslots);
	if (kept) {
		for (u32 pg = 0; pg < pages; pg++)
			addr[pg] = xbg_pgnt_addr(glue, kslots[pg]);
		stats.indirect_kept += pages;
	} else {
		unsigned char mapped[XBG_MAX_INDIRECT_PAGES];
		const int rc = xbg_indirect_map(glue, req.indirect_grefs, pages, addr, mapped);
		if (rc == to_int(kstd::Errno::nomem))
			return Step::retry;
		int err = rc;
		for (u32 pg = 0; pg < pages && !err; pg++)
			if (!mapped[pg])
				err = to_int(kstd::Errno::fault);
		if (err) {   // nothing stays mapped for it
			xbg_indirect_unmap(glue);
			complete(p, err);
			return Step::done;
		}
		stats.indirect_mapped += pages;
	}
	bool ok = true;
	for (u32 pg = 0; pg < pages && ok; pg++) {
		const u32 first = pg * BLKIF_SEGS_PER_INDIRECT_FRAME;
		const u32 cnt = kstd::min<u32>(n - first, BLKIF_SEGS_PER_INDIRECT_FRAME);
		ok = decode_indirect_segments(addr[pg], 0, cnt, isegs_ + first);
	}
	if (kept) {   // the segments are copied: the pages are free for eviction again
		for (u32 pg = 0; pg < pages; pg++)
			cache_.put(kslots[pg]);
	} else {
		xbg_indirect_unmap(glue);
	}
	const bool write = req.indirect_op == BLKIF_OP_WRITE;
	const Reject r = ok ? validate_segments(isegs_, n, req.sector, write, lim, &sectors)
			    : Reject::bad_segment;
	if (r != Reject::none) {
		stats.bad_requests++;
		if (may_log(&logged_rejects_)) {
			xb_rt_log(XB_LOG_INFO, "%s ring %u: indirect request rejected: %s",
				  dev_->name(), index_,
				  reject_name(r));
			dev_->nl_event(XENBLK_EV_BAD_REQUEST, reject_name(r), true);
		}
		leave_gate();
		put_pending(p);
		respond(req.id, rsp_op, reject_status(r));
		return Step::done;
	}
	p->sectors = sectors;
	return start_io(req, p, write ? bio_write | dev_->write_flags() : bio_read, isegs_, n);
}

// The gate is ours and every ring drained: run the barrier parked in parked_.
Ring::Step Ring::submit_barrier()
{
	const Request& req = parked_;
	const DeviceLimits lim = dev_->limits();
	Pending* p = get_pending();
	if (!p)
		return Step::retry;
	p->id = req.id;
	p->nslots = 0;
	p->slots = nullptr;
	p->op = req.op;
	p->stat = StatOp::barrier;
	p->entered = false;
	p->barrier = true;
	p->start_ns = xbg_now_ns();
	p->sectors = 0;
	if (!lim.barrier) {   // withdrawn while we were draining
		complete(p, to_int(kstd::Errno::opnotsupp));
		return Step::done;
	}
	// set before start_io: a barrier that fails at once is completed there,
	// and complete() clears it (end_barrier)
	barrier_inflight_ = true;
	Step st;
	if (req.nr_segments == 0) {
		st = start_io(req, p, bio_flush, req.seg, 0);
	} else {
		// checked again: the device may have shrunk while the rings drained
		u64 sectors = 0;
		if (validate_segments(req.seg, req.nr_segments, req.sector, true, lim, &sectors) !=
		    Reject::none) {
			stats.bad_requests++;
			complete(p, to_int(kstd::Errno::io));
			return Step::done;
		}
		p->sectors = sectors;
		st = start_io(req, p, bio_write | XBG_BIO_PREFLUSH | XBG_BIO_FUA,
			      req.seg, req.nr_segments);
	}
	if (st == Step::retry) {
		barrier_inflight_ = false;
		stats.out_of_resources++;
		put_pending(p);
	}
	return st;
}

// A request that entered the gate ended (or never started).  Once this ring
// has nothing in flight, the barrier owner is woken: our own ring too, for
// this may be the pass's last reap, after its loop looked at the gate, and the
// barrier parked there would wait for good (nothing else wakes the worker).
void Ring::leave_gate()
{
	const u32 k = dev_->gate.leave(index_);
	if (k != OrderGate::no_owner)
		dev_->kick(k);
}

// Our barrier ended: the gate opens and every ring goes on.
void Ring::end_barrier()
{
	barrier_inflight_ = false;
	dev_->gate.end(index_);
	dev_->kick_all();
}

void Ring::complete(Pending* p, int err)
{
	// what the answer needs, read before the slot goes back to the free list
	const u64 id = p->id;
	const u8 op = p->op;
	const StatOp stat = p->stat;
	const u64 sectors = p->sectors;
	const u64 start_ns = p->start_ns;
	const bool entered = p->entered;
	const bool barrier = p->barrier;
	release_slots(p);
	put_pending(p);

	s16 status = BLKIF_RSP_OKAY;
	if (err == to_int(kstd::Errno::opnotsupp)) {
		status = BLKIF_RSP_EOPNOTSUPP;
		dev_->withdraw(op);
	} else if (err) {
		status = BLKIF_RSP_ERROR;
		if (may_log(&logged_errors_))
			xb_rt_log(XB_LOG_WARNING, "%s ring %u: op %u failed: %d",
				  dev_->name(), index_, op, err);
	}
	stats.complete(stat, sectors, status, xbg_now_ns() - start_ns);
	respond(id, op, status);
	if (entered)
		leave_gate();
	if (barrier)
		end_barrier();
}

void Ring::reap()
{
	void* cookies[32];
	int errs[32];
	unsigned int n;
	while ((n = xbg_ring_reap(glue, cookies, errs, 32)) != 0) {
		for (unsigned int i = 0; i < n; i++) {
			stats.in_flight--;
			complete(static_cast<Pending*>(cookies[i]), errs[i]);
		}
	}
}

int Ring::work(bool stopping, bool event)
{
	int ret = work_idle;
	u32 took = 0;
	bool saw_none = false;   // the pass looked at the ring and found nothing new

	reap();
	if (held_n_)   // the I/O limits: what may start now (all, answered, when stopping)
		release_held(xbg_now_ns(), stopping);
	else
		wake_ns_ = 0;   // (set again below if a request must wait)
	if (!stopping && !ring_.stopped() && xbg_hold_requests()) {
		// hold_requests (tests of frontends' resume): requests stay on the
		// ring unanswered; look again after a short sleep
		ret = work_retry;
	} else if (!stopping && !ring_.stopped()) {
		if (index_ == 0)
			dev_->check_resize();
		shrink_cache();
		xbg_ring_plug(glue);
		// A request takes two steps (taken off the ring and parked, then
		// dispatched): a pass may take a whole ring of them.  A pass that
		// ends because its budget ran out asks for another one: requests may
		// be left on the ring, and req_event was not moved past them, so the
		// frontend will not notify us for them.
		const u32 budget = 2 * ring_.size();
		u32 batch = 0;
		for (; batch < budget; batch++) {
			if (barrier_wait_) {
				if (!dev_->gate.drained(dev_->nr_rings()))
					break;
				const Step st = submit_barrier();
				if (st == Step::retry) {
					ret = work_retry;
					break;
				}
				barrier_wait_ = false;
				have_parked_ = false;
			}
			if (barrier_inflight_)
				break;   // requests after a barrier wait for it
			if (have_parked_) {
				const Step st = dispatch(parked_);
				if (st == Step::blocked && barrier_wait_)
					continue;   // our barrier claimed the gate: drained yet?
				if (st == Step::blocked)
					break;
				if (st == Step::retry) {
					ret = work_retry;
					break;
				}
				have_parked_ = false;
				continue;
			}
			kstd::Result<bool> more = ring_.final_check_for_requests();
			if (!more || !*more) {
				saw_none = true;
				break;
			}
			const void* slot = ring_.next_request_slot();
			if (!slot)
				break;
			decode_request(abi_, slot, &parked_);
			have_parked_ = true;
			took++;
		}
		if (batch == budget && ret == work_idle)
			ret = work_more;
		xbg_ring_unplug(glue);
		if (ring_.stopped() && !stop_logged_) {
			stop_logged_ = true;
			xb_rt_log(XB_LOG_ERR, "%s ring %u: the frontend overran the ring (bogus req_prod); ring stopped",
				  dev_->name(), index_);
			dev_->nl_event(XENBLK_EV_RING_ERROR, "the frontend overran the ring; ring stopped", true);
		}
	}
	reap();
	if (push_) {
		push_ = false;
		if (ring_.push_responses_and_check_notify())
			xbg_ring_notify(glue);
	}
	// An event is spurious when the pass looked at the ring and found no new
	// request, or the ring is stopped (a frontend that overran it).  A pass
	// that did not look (a barrier in flight, requests held, the budget) says
	// nothing about the event.
	if (event && took == 0 && (saw_none || ring_.stopped()))
		ret |= work_spurious;
	return ret;
}

// The worker thread: a pass after each kick (an event of the frontend, a
// completion, another ring's barrier), until the ring stops; then every I/O
// submitted is waited for and answered.
int Ring::thread()
{
	while (!xbg_ring_should_stop(glue)) {
		int ret;

		if (wake_ns_) {   // requests held by the I/O limits: their time
			const u64 now = xbg_now_ns();
			if (wake_ns_ > now)
				xbg_ring_wait_ns(glue, wake_ns_ - now);
		} else {
			xbg_ring_wait(glue);
		}
		do {
			const bool event = xbg_ring_take_event(glue) != 0;

			ret = work(false, event);
			if (event)
				xbg_ring_eoi(glue, (ret & work_spurious) != 0);
			ret &= ~work_spurious;
			if (ret == work_retry) {
				xbg_sleep_ms(retry_ms);
				xbg_ring_kick(glue);
			}
			xbg_cond_resched();
		} while (ret != work_idle && !xbg_ring_should_stop(glue));
	}
	// teardown: wait for every bio, answer what completed, map nothing new
	while (xbg_ring_busy(glue)) {
		xbg_ring_wait_done(glue, drain_poll_ms);
		work(true, false);
	}
	work(true, false);
	return 0;
}

} // namespace xb::back
