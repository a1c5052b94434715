// SPDX-License-Identifier: GPL-2.0
// front_submit.cpp - xenblk-front: submit planning.  A block request becomes
// physically merged data segments, the core's plan_request (core/split.hpp)
// turns it into blkif requests under the negotiated limits and flush mode,
// every page is granted (or taken from the persistent pool), then the ring
// slots are filled.  Called by queue_rq and by the re-issue path.
#include "front.hpp"

namespace xb::fe {

namespace {

// Segment merging: the request's segments in order, a segment that starts
// where the previous one ends (guest physical) joins it.
struct SegMerge {
	DataSegment* segs;
	u32 n;
	u32 max;
};

int merge_one(void* ctx, unsigned long long addr, unsigned int len)
{
	auto* m = static_cast<SegMerge*>(ctx);

	if (m->n && m->segs[m->n - 1].addr + m->segs[m->n - 1].len == addr) {
		m->segs[m->n - 1].len += len;
		return 0;
	}
	if (m->n == m->max)
		return to_int(Errno::nospc);
	m->segs[m->n++] = {addr, len};
	return 0;
}

} // namespace

// The planner's view of the device: negotiated limits, the current flush
// mode and write cache, discard unless the backend withdrew it.
SplitLimits Device::limits() const
{
	SplitLimits lim = split_limits(cfg_, 0);
	lim.flush = static_cast<FlushMode>(kstd::read_once(flush_mode_));
	lim.write_cache = kstd::read_once(write_cache_);
	lim.discard = kstd::read_once(discard_on_) && cfg_.discard;
	return lim;
}

// The request's data as merged segments in dsegs_: their count, or a
// negative errno when there are more than max_pieces_.
int Ring::merge_segments(xb_fe_rq* rq)
{
	SegMerge m = {dsegs_.get(), 0, max_pieces_};
	const int rc = xb_fe_glue_rq_for_each_segment(rq, merge_one, &m);

	return rc ? rc : static_cast<int>(m.n);
}

Submit Ring::submit(Pdu* p, int* err, xb_fe_hctx* hctx)
{
	Guard g(lock_.get());
	const Submit s = submit_locked(p, err);
	// stopped before the lock is dropped: the completion that makes room
	// runs after this and restarts the queue
	if (s == Submit::busy && hctx)
		xb_fe_glue_stop_queue(hctx);
	return s;
}

Submit Ring::submit_locked(Pdu* p, int* err)
{
	xb_fe_rq_info info;
	BlockRequest br;
	Plan plan;
	int rc;

	*err = 0;
	if (dev_->broken() || !nr_pages_ || dead_) {
		*err = to_int(Errno::io);
		return Submit::done;
	}
	xb_fe_glue_rq_info(p->rq, &info);
	br.sector = info.sector;
	br.nr_sectors = info.nr_sectors;
	br.fua = info.fua;
	br.preflush = info.preflush;
	switch (info.op) {
	case XB_FE_OP_READ: br.op = BlockOp::read; break;
	case XB_FE_OP_WRITE: br.op = BlockOp::write; break;
	case XB_FE_OP_FLUSH: br.op = BlockOp::flush; br.nr_sectors = 0; br.preflush = false; break;
	case XB_FE_OP_DISCARD: br.op = BlockOp::discard; break;
	case XB_FE_OP_SECURE_ERASE: br.op = BlockOp::secure_erase; break;
	default:
		*err = to_int(Errno::opnotsupp);
		return Submit::done;
	}
	if (br.op == BlockOp::read || br.op == BlockOp::write) {
		const int n = merge_segments(p->rq);
		if (n <= 0) {
			*err = to_int(Errno::io);
			dev_->log_once(&dev_->logged_plan_, "a block request has more segments than the queue allows");
			return Submit::done;
		}
		br.segs = span<const DataSegment>(dsegs_.get(), static_cast<size_t>(n));
	}
	const SplitLimits lim = dev_->limits();
	rc = plan_request(br, lim, span<WireRequest>(wreqs_.get(), max_pieces_ + 1),
			  span<GrantPiece>(pieces_.get(), max_pieces_), &plan);
	if (rc) {
		// FUA or a flush the current mode cannot carry, a discard the backend
		// withdrew, or a malformed request: never pretend it was done
		if (rc == to_int(Errno::opnotsupp) &&
		    (br.op == BlockOp::discard || br.op == BlockOp::secure_erase))
			*err = rc;
		else {
			*err = to_int(Errno::io);
			if (rc != to_int(Errno::opnotsupp))
				xb_rt_log(XB_LOG_ERR, "%s: cannot plan a request (op %u, sector %llu): %d",
					  dev_->name(), info.op, info.sector, rc);
		}
		return Submit::done;
	}
	if (plan.complete_now())
		return Submit::done;
	if (plan.nr_reqs > nr_free_ || plan.nr_reqs > ring_.free_requests())
		return Submit::busy;

	// grant everything first; a shortage rolls the whole block request back
	u32 first_id = no_shadow, last_id = no_shadow;
	const u64 now = xb_fe_glue_now_ns();
	for (size_t r = 0; r < plan.nr_reqs; r++) {
		const WireRequest& w = wreqs_[r];
		const u32 id = alloc_shadow();
		Shadow& s = shadow_[id];
		const bool to_backend = w.operation != BLKIF_OP_READ;   // backend reads our pages

		s.pdu = p;
		s.next_free = no_shadow;
		if (last_id != no_shadow)
			shadow_[last_id].next_free = id;   // chain of this block request
		else
			first_id = id;
		last_id = id;
		flight_[id] = {true, w.indirect ? static_cast<u8>(BLKIF_OP_INDIRECT) : w.operation,
			       w.operation};
		s.sectors = w.nr_sectors;
		s.start_ns = now;
		s.grefs = s.grefs_inline;
		if (w.nr_pieces > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			s.grefs = static_cast<u32*>(xb_rt_alloc_nowait(sizeof(u32) * w.nr_pieces));
			if (!s.grefs)
				goto rollback;
		}
		if (pooled(mode_)) {
			// persistent grants or bounce: only pool pages reach the backend
			if (!grant_pieces_persistent(s, w, to_backend))
				goto rollback;
		} else {
			for (u32 i = 0; i < w.nr_pieces; i++) {
				const int ref = xb_fe_glue_grant(dev_->gd(), pieces_[w.first_piece + i].frame,
								 to_backend ? 1 : 0);
				if (ref < 0)
					goto rollback;
				s.grefs[s.nr_grants++] = static_cast<u32>(ref);
				direct_grants_++;
			}
		}
		for (u32 k = 0; k < w.nr_indirect_pages; k++) {
			unsigned long long pfn = 0;
			PoolPage* ipg = nullptr;
			void* page;
			if (pooled(mode_)) {
				ipg = pool_get();
				page = ipg ? ipg->page : nullptr;
			} else {
				page = xb_fe_glue_page_alloc_nowait(&pfn);
			}
			if (!page)
				goto rollback;
			auto* seg = static_cast<struct blkif_request_segment*>(page);
			const u32 first = k * BLKIF_SEGS_PER_INDIRECT_FRAME;
			const u32 n = kstd::min<u32>(w.nr_pieces - first, BLKIF_SEGS_PER_INDIRECT_FRAME);
			kstd::memset(page, 0, BLKIF_PAGE_SIZE);
			for (u32 i = 0; i < n; i++) {
				seg[i].gref = s.grefs[first + i];
				seg[i].first_sect = pieces_[w.first_piece + first + i].first_sect;
				seg[i].last_sect = pieces_[w.first_piece + first + i].last_sect;
			}
			if (ipg) {
				s.indirect_pg[s.nr_indirect] = ipg;
				s.indirect_page[s.nr_indirect] = page;
				s.indirect_gref[s.nr_indirect++] = ipg->gref;
				continue;
			}
			const int ref = xb_fe_glue_grant(dev_->gd(), pfn, 1);
			if (ref < 0) {
				xb_fe_glue_page_free(page);
				goto rollback;
			}
			s.indirect_page[s.nr_indirect] = page;
			s.indirect_gref[s.nr_indirect++] = static_cast<u32>(ref);
		}
	}

	// everything granted: fill the ring slots
	for (size_t r = 0, id = first_id; r < plan.nr_reqs; r++) {
		const WireRequest& w = wreqs_[r];
		Shadow& s = shadow_[id];
		Request q = {};

		q.op = flight_[id].op;
		q.handle = dev_->handle();
		q.id = id;
		q.sector = w.sector;
		if (w.operation == BLKIF_OP_DISCARD) {
			q.nr_sectors = w.nr_sectors;
			q.discard_flag = w.discard_flag;
		} else if (w.indirect) {
			q.indirect_op = w.operation;
			q.nr_segments = static_cast<u16>(w.nr_pieces);
			for (u32 k = 0; k < s.nr_indirect; k++)
				q.indirect_grefs[k] = s.indirect_gref[k];
		} else {
			q.nr_segments = static_cast<u16>(w.nr_pieces);
			for (u32 i = 0; i < w.nr_pieces; i++)
				q.seg[i] = {s.grefs[i], pieces_[w.first_piece + i].first_sect,
					    pieces_[w.first_piece + i].last_sect};
		}
		void* slot = ring_.next_request_slot();
		if (!slot || !encode_request(abi_, q, slot)) {
			// cannot happen: room was checked and the plan is representable
			xb_rt_fatal("xenblk-front: ring slot vanished");
			break;
		}
		const u32 next = s.next_free;
		s.next_free = no_shadow;
		id = next;
	}
	p->pending = static_cast<u32>(plan.nr_reqs);
	stats_.in_flight += plan.nr_reqs;
	push_pending_ = true;
	return Submit::queued;

rollback:
	for (u32 id = first_id; id != no_shadow;) {
		Shadow& s = shadow_[id];
		const u32 next = s.next_free;
		if (s.uses) {
			give_back_pool_pages(s);   // never sent: untouched, still granted
		} else {
			end_grants(s);
		}
		release_shadow(id);
		id = next;
	}
	return Submit::resource;
}

} // namespace xb::fe
