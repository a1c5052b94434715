// SPDX-License-Identifier: GPL-2.0
// front_ring.cpp - xenblk-front: one shared ring's life and its response
// path: setup, teardown and suspend, shadow slots, ending grants, publishing
// requests, and the event channel handler that completes block requests.
#include "front.hpp"

namespace xb::fe {

int Ring::setup(u32 ring_order, Abi abi, u32 max_pieces)
{
	int err;

	abi_ = abi;
	if (!lock_.get() && !lock_.init())   // kept across a resume
		return to_int(Errno::nomem);
	nr_pages_ = 1u << ring_order;
	err = xb_fe_glue_ring_setup(dev_->gd(), nr_pages_, &shared_, grefs_);
	if (err) {
		nr_pages_ = 0;
		return err;
	}
	if (ring_.init(shared_, nr_pages_, entry_size(abi)) != Errno::ok)
		return to_int(Errno::inval);
	shadow_.reset(new (std::nothrow) Shadow[ring_.size()]);
	flight_.reset(new (std::nothrow) InFlight[ring_.size()]);
	max_pieces_ = max_pieces;
	dsegs_.reset(new (std::nothrow) DataSegment[max_pieces]);
	pieces_.reset(new (std::nothrow) GrantPiece[max_pieces]);
	wreqs_.reset(new (std::nothrow) WireRequest[max_pieces + 1]);
	if (!shadow_ || !flight_ || !dsegs_ || !pieces_ || !wreqs_)
		return to_int(Errno::nomem);
	for (u32 i = 0; i < ring_.size(); i++) {
		shadow_[i] = {};
		flight_[i] = {};
		shadow_[i].next_free = i + 1 < ring_.size() ? i + 1 : no_shadow;
	}
	free_head_ = 0;
	nr_free_ = ring_.size();
	dead_ = false;
	return xb_fe_glue_evtchn_bind(dev_->gd(), this, &port_, &irq_);
}

void Ring::stop_events()
{
	if (irq_ > 0 || port_)
		xb_fe_glue_evtchn_unbind(dev_->gd(), this, port_, irq_);
	irq_ = 0;
	port_ = 0;
}

void Ring::teardown()
{
	stop_events();   // first: no interrupt runs after this
	if (shadow_)
		abandon(true);   // nothing else runs: the disk is gone
	// every pool page is free now; one the backend still maps is freed by
	// the grant table once it is unmapped, never before
	pool_free_chain(pool_.drain_free(), true);
	mode_ = GrantMode::direct;
	if (nr_pages_)
		xb_fe_glue_ring_teardown(&shared_, nr_pages_, grefs_);
	nr_pages_ = 0;
	shared_ = nullptr;
}

void Ring::suspend(Pdu** saved)
{
	PoolPage* pool = nullptr;

	stop_events();
	if (shadow_) {
		Guard g(lock_.get());
		for (u32 id = 0; id < ring_.size(); id++) {
			Shadow& s = shadow_[id];
			Pdu* p = s.pdu;
			if (!p)
				continue;
			if (s.uses) {
				give_back_pool_pages(s);   // the whole pool goes below
			} else if (!end_grants(s)) {
				// the restored domain's grant table is new: these end at once
				defer_grants(s);
			}
			if (!p->saved) {
				p->saved = true;
				p->next = *saved;
				*saved = p;
			}
			release_shadow(id);
		}
		stats_.in_flight = 0;
		push_pending_ = false;
		// the new backend may not offer persistent grants: start() decides
		pool = pool_.drain_free();
		mode_ = GrantMode::direct;
	}
	pool_free_chain(pool, true);   // new grant table: each ends at once
	if (nr_pages_)
		xb_fe_glue_ring_teardown(&shared_, nr_pages_, grefs_);
	nr_pages_ = 0;
	shared_ = nullptr;
}

u32 Ring::alloc_shadow()
{
	const u32 id = free_head_;
	if (id == no_shadow)
		return id;
	free_head_ = shadow_[id].next_free;
	nr_free_--;
	return id;
}

void Ring::release_shadow(u32 id)
{
	Shadow& s = shadow_[id];
	if (s.grefs && s.grefs != s.grefs_inline)
		xb_rt_free(s.grefs);
	if (s.uses && s.uses != s.uses_inline)
		xb_rt_free(s.uses);
	s = {};
	flight_[id] = {};
	s.next_free = free_head_;
	free_head_ = id;
	nr_free_++;
}

// Ends the grants of a request's own pages and of its indirect pages; true
// when none is left.  An indirect page is ours: its grant ends now or, if the
// backend still maps it, the grant table frees it once unmapped.  A page of
// the guest the backend still maps keeps its grant (the ended ones become
// no_gref): its block request must not complete, or the page would go back to
// its owner while the backend can still write it (front_release.cpp).
bool Ring::end_grants(Shadow& s)
{
	bool left = false;

	for (u32 i = 0; i < s.nr_grants; i++) {
		if (s.grefs[i] == no_gref)
			continue;
		if (xb_fe_glue_end_grant(s.grefs[i]))
			s.grefs[i] = no_gref;
		else
			left = true;
	}
	for (u32 i = 0; i < s.nr_indirect; i++)
		xb_fe_glue_end_grant_free(s.indirect_gref[i], s.indirect_page[i]);
	s.nr_indirect = 0;
	if (!left)
		s.nr_grants = 0;
	return !left;
}

void Ring::push_locked()
{
	if (!push_pending_ || !nr_pages_)
		return;
	push_pending_ = false;
	if (ring_.push_requests_and_check_notify())
		xb_fe_glue_notify(irq_);
}

void Ring::push_and_notify()
{
	Guard g(lock_.get());
	push_locked();
}

bool Ring::bad_response(const char* fmt, unsigned long long a, unsigned b, unsigned c,
			const char* why)
{
	stats_.bad_requests++;
	if (!dev_->logged_broken_) {
		dev_->logged_broken_ = true;
		xb_rt_log(XB_LOG_ERR, fmt, dev_->name(), index_, a, b, c, why);
		dev_->nl_event(XENBLK_EV_BAD_REQUEST, why, true);
	}
	dev_->set_broken();
	return false;
}

void Ring::complete_shadow(u32 id, s16 status, Pdu** done)
{
	Shadow& s = shadow_[id];
	Pdu* p = s.pdu;
	const u8 op = flight_[id].inner_op;

	stats_.complete(stat_of_op(op), s.sectors, status, xb_fe_glue_now_ns() - s.start_ns);
	if (stats_.in_flight)
		stats_.in_flight--;
	if (s.uses) {
		release_pool_pages(s, op == BLKIF_OP_READ && status == BLKIF_RSP_OKAY);
	} else if (!end_grants(s)) {
		// answered, yet a page of the guest is still mapped: the request
		// fails, but only once the backend unmaps or we give up waiting
		// (a timeout, the disk's removal: front_release.cpp)
		dev_->log_once(&dev_->logged_leak_,
			       "the backend kept a page mapped after answering: holding its request, device broken");
		dev_->set_broken();
		flight_[id] = {};   // a second answer is a bad one
		p->err = to_int(Errno::io);
		p->reissue = false;
		return;
	}
	switch (response_action(flight_[id], status)) {
	case ResponseAction::ok:
		break;
	case ResponseAction::flush_refused:
		p->reissue = true;
		p->failed_op = op;
		break;
	case ResponseAction::discard_refused:
		p->err = to_int(Errno::opnotsupp);
		dev_->discard_refused();
		break;
	case ResponseAction::io_error:
		p->err = to_int(Errno::io);
		break;
	}
	release_shadow(id);
	if (p->pending && --p->pending == 0) {
		p->next = *done;
		*done = p;
	}
}

// The device is broken: every request fails, except one whose pages of the
// guest the backend still maps (held until it unmaps, a timeout or removal).
void Ring::fail_all_locked(Pdu** done)
{
	for (u32 id = 0; id < ring_.size(); id++)
		if (shadow_[id].pdu)
			fail_shadow(id, false, done);
	push_pending_ = false;
}

void Ring::fail_all()
{
	Pdu* done = nullptr;
	{
		Guard g(lock_.get());
		if (shadow_)
			fail_all_locked(&done);
	}
	end_all(done);
}

void Ring::interrupt()
{
	Pdu* done = nullptr;
	bool freed = false;
	{
		Guard g(lock_.get());
		if (!nr_pages_ || !shadow_)
			return;
		while (!dev_->broken()) {
			const kstd::Result<u32> n = ring_.unconsumed_responses();
			if (!n) {
				bad_response("%s: ring %u: the backend published an impossible response index (%llu %u %u): %s",
					     ring_.rsp_cons(), ring_.req_prod_pvt(), 0, "rsp_prod");
				break;
			}
			while (const void* slot = ring_.next_response_slot()) {
				Response r;
				decode_response(abi_, slot, &r);
				const BadResponse bad = check_response(r, span<const InFlight>(flight_.get(), ring_.size()));
				if (bad == BadResponse::not_in_flight && dead_)
					continue;   // a late answer to a request we failed already
				if (bad != BadResponse::none) {
					bad_response("%s: ring %u: bad response (id %llu, op %u, status %u): %s",
						     r.id, r.op, static_cast<u16>(r.status), bad_response_name(bad));
					break;
				}
				complete_shadow(static_cast<u32>(r.id), r.status, &done);
				freed = true;
			}
			if (dev_->broken())
				break;
			const kstd::Result<bool> more = ring_.final_check_for_responses();
			if (!more) {
				bad_response("%s: ring %u: the backend published an impossible response index (%llu %u %u): %s",
					     ring_.rsp_cons(), ring_.req_prod_pvt(), 1, "rsp_prod");
				break;
			}
			if (!*more)
				break;
		}
		if (dev_->broken())
			fail_all_locked(&done);
	}
	Pdu* reissue = nullptr;
	while (done) {
		Pdu* p = done;
		done = p->next;
		if (p->reissue && !p->err) {
			p->next = reissue;
			reissue = p;
		} else {
			xb_fe_glue_rq_end(p->rq, p->err);
		}
	}
	if (reissue)
		dev_->queue_reissue(reissue);
	if (freed)
		dev_->kick();
}

void Ring::stats_into(DeviceStats* out)
{
	Guard g(lock_.get());
	out->add(stats_);
}

void Ring::count_fallback()
{
	Guard g(lock_.get());
	stats_.fallbacks++;
}

} // namespace xb::fe
