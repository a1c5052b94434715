// SPDX-License-Identifier: GPL-2.0
// front_release.cpp - xenblk-front: giving block requests back when the
// backend does not answer them.  Before the disk's removal waits for its
// queue to drain, every request in flight fails (those the backend still
// works on get a grace period); the blk-mq timeout fails the requests of a
// broken or disconnected ring and waits again on a healthy one.  A page of
// the guest never goes back to its owner while the backend can still map it,
// unless we give up waiting: then the grant table ends the grant once the
// backend unmaps and holds the page until then.  The rules are
// core/front_policy.hpp's; Documentation/frontend.md ("A backend that stops
// answering") says why.
#include "front.hpp"

namespace xb::fe {

// Gives up on the grants of the request's own pages still active: the grant
// table ends each once the backend unmaps it, and keeps the page meanwhile.
void Ring::defer_grants(Shadow& s)
{
	for (u32 i = 0; i < s.nr_grants; i++) {
		if (s.grefs[i] != no_gref)
			xb_fe_glue_end_grant_deferred(s.grefs[i]);
		s.grefs[i] = no_gref;
	}
	s.nr_grants = 0;
	for (u32 i = 0; i < s.nr_indirect; i++)
		xb_fe_glue_end_grant_free(s.indirect_gref[i], s.indirect_page[i]);
	s.nr_indirect = 0;
}

// One blkif request (in flight or held) fails if the backend can no longer
// reach a page of the guest through it, or when give_up.  true: released
// (its block request is on *done once none of its blkif requests is left).
bool Ring::fail_shadow(u32 id, bool give_up, Pdu** done)
{
	Shadow& s = shadow_[id];
	Pdu* p = s.pdu;
	const bool pool_pages = s.uses != nullptr;
	const bool ended = pool_pages || end_grants(s);

	switch (release_action(pool_pages, ended, give_up)) {
	case ReleaseAction::wait:
		return false;
	case ReleaseAction::defer_and_fail:
		defer_grants(s);
		dev_->log_once(&dev_->logged_defer_,
			       "failing requests whose pages the backend still maps: their grants end when it unmaps them");
		break;
	case ReleaseAction::fail_now:
		break;
	}
	// pool pages stay the pool's: this ring is dead or the device broken, so
	// none is used again before the pool is drained (grants ended deferred)
	if (pool_pages)
		give_back_pool_pages(s);
	if (flight_[id].in_use) {
		stats_.complete(stat_of_op(flight_[id].inner_op), s.sectors, BLKIF_RSP_ERROR,
				xb_fe_glue_now_ns() - s.start_ns);
		if (stats_.in_flight)
			stats_.in_flight--;
	}
	p->err = to_int(Errno::io);
	p->reissue = false;
	release_shadow(id);
	if (p->pending && --p->pending == 0) {
		p->next = *done;
		*done = p;
	}
	return true;
}

void Ring::end_all(Pdu* done)
{
	while (done) {
		Pdu* p = done;
		done = p->next;
		xb_fe_glue_rq_end(p->rq, p->err);
	}
}

bool Ring::abandon(bool give_up, u32* failed)
{
	Pdu* done = nullptr;
	bool left = false;
	u32 n = 0;
	{
		Guard g(lock_.get());
		if (!shadow_)
			return false;
		dead_ = true;            // nothing new goes on the ring
		push_pending_ = false;
		for (u32 id = 0; id < ring_.size(); id++) {
			if (!shadow_[id].pdu)
				continue;
			if (fail_shadow(id, give_up, &done))
				n++;
			else
				left = true;
		}
	}
	end_all(done);
	if (failed)
		*failed += n;
	return left;
}

bool Ring::timeout(Pdu* p)
{
	Pdu* done = nullptr;
	bool found = false;
	{
		Guard g(lock_.get());
		if (!shadow_)
			return false;
		const RingHealth h = {dev_->resuming(), dev_->broken(), dev_->closing(), dead_,
				      nr_pages_ != 0, dev_->backend_state()};
		if (timeout_action(h) == TimeoutAction::reset_timer)
			return false;
		for (u32 id = 0; id < ring_.size(); id++) {
			if (shadow_[id].pdu != p)
				continue;
			found = true;
			fail_shadow(id, true, &done);
		}
		if (found) {
			dead_ = true;
			push_pending_ = false;
		}
	}
	// not on the ring (answered, waiting for a re-issue): whoever holds it
	// completes it
	if (!found)
		return false;
	dev_->log_once(&dev_->logged_timeout_,
		       "a request timed out on a broken or disconnected ring: failing it, device broken");
	dev_->set_broken();
	end_all(done);
	return true;
}

// The disk is about to be deleted, which waits for every request: none may
// wait for a backend that is gone.  Requests the backend cannot reach any
// more fail at once; those whose pages it maps get close_grace_ms to be
// answered, then fail too (their grants end when it unmaps).
void Device::fail_in_flight()
{
	const u64 deadline = xb_fe_glue_now_ns() + u64{close_grace_ms} * 1000000u;
	bool give_up = false;
	u32 failed = 0;

	for (;;) {
		bool left = false;
		for (u32 i = 0; i < nr_rings_; i++)
			if (rings_[i] && rings_[i]->abandon(give_up, &failed))
				left = true;
		if (!left || give_up)
			break;
		give_up = xb_fe_glue_now_ns() >= deadline;
		if (!give_up)
			xb_fe_glue_msleep(close_poll_ms);
	}
	if (failed)
		xb_rt_log(XB_LOG_WARNING, "%s: removed with %u request(s) unanswered: failed with an I/O error%s",
			  name_, failed, give_up ? " (after the grace period)" : "");
}

} // namespace xb::fe
