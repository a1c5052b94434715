// SPDX-License-Identifier: GPL-2.0
// front_pool.cpp - xenblk-front: persistent grants.  Each ring keeps a pool
// of pages granted to the backend once (core/grant_pool.hpp decides what is
// kept); a request's data is copied through them.  The purge timer frees the
// pages the backend stopped mapping.
#include "front.hpp"

namespace xb::fe {

void Ring::start(GrantMode mode, u32 max_segments)
{
	Guard g(lock_.get());
	// a new connection has new rings: nothing is in flight and the pool is empty
	mode_ = mode;
	pool_.init(pooled(mode) ? persistent_pool_bound(ring_.size(), max_segments) : 0);
}

// A pool page for one request: the one returned last, else a new one
// (allocated without sleeping, zeroed, granted read-write), within the bound.
PoolPage* Ring::pool_get()
{
	if (PoolPage* pg = pool_.take())
		return pg;
	if (!pool_.can_grow())
		return nullptr;
	auto* pg = static_cast<PoolPage*>(xb_rt_alloc_nowait(sizeof(PoolPage)));
	if (!pg)
		return nullptr;
	*pg = {};
	unsigned long long pfn = 0;
	void* page = xb_fe_glue_page_alloc_nowait(&pfn);
	if (!page) {
		xb_rt_free(pg);
		return nullptr;
	}
	kstd::memset(page, 0, BLKIF_PAGE_SIZE);   // nothing of ours reaches the backend
	const int ref = xb_fe_glue_grant(dev_->gd(), pfn, 0);
	if (ref < 0) {
		xb_fe_glue_page_free(page);
		xb_rt_free(pg);
		return nullptr;
	}
	pg->page = page;
	pg->pfn = pfn;
	pg->gref = static_cast<u32>(ref);
	pool_.adopt(pg);   // can_grow() was checked under the same lock
	return pg;
}

// After a response: a page the backend still maps was made persistent by it
// and is kept; for any other the attempt ended the grant, and the page goes.
// Bounce mode keeps every page, still granted (core/front_policy.hpp).
void Ring::pool_after_response(PoolPage* pg)
{
	if (!probe_after_response(mode_)) {
		pool_.give_back(pg, false);
		return;
	}
	const bool ended = xb_fe_glue_end_grant(pg->gref) == 1;

	switch (completion_fate(true, ended)) {
	case PageFate::keep:
		pool_.give_back(pg, true);
		break;
	case PageFate::drop:
	case PageFate::hold:   // not reached with persistent = true
		pool_.forget(pg);
		xb_fe_glue_page_free(pg->page);
		xb_rt_free(pg);
		break;
	}
}

// Pages that left the pool.  deferred: their grant is still active; end it
// now, or let the grant table free the page when the backend unmaps it.
void Ring::pool_free_chain(PoolPage* chain, bool deferred)
{
	while (chain) {
		PoolPage* n = chain->next;
		if (deferred)
			xb_fe_glue_end_grant_free(chain->gref, chain->page);
		else
			xb_fe_glue_page_free(chain->page);
		xb_rt_free(chain);
		chain = n;
	}
}

// Response to a request that used pool pages: copy a read's data out, then
// let each page go back or leave.
void Ring::release_pool_pages(Shadow& s, bool read_done)
{
	for (u32 i = 0; i < s.nr_grants; i++) {
		const PoolUse& u = s.uses[i];
		if (read_done)
			xb_fe_glue_copy_from_pool(u.frame, u.pg->page, u.off, u.len);
		pool_after_response(u.pg);
	}
	for (u32 i = 0; i < s.nr_indirect; i++)
		pool_after_response(s.indirect_pg[i]);
	s.nr_grants = 0;
	s.nr_indirect = 0;
}

// A request's pool pages back to the pool as they are (no response came:
// nothing to copy out), still granted.
void Ring::give_back_pool_pages(Shadow& s)
{
	for (u32 i = 0; i < s.nr_grants; i++)
		pool_.give_back(s.uses[i].pg, false);
	for (u32 i = 0; i < s.nr_indirect; i++)
		pool_.give_back(s.indirect_pg[i], false);
	s.nr_grants = 0;
	s.nr_indirect = 0;
}

// The data pages of one blkif request through pool pages (a write's data is
// copied in now).  false: no page to be had; what was taken stays in s for
// the rollback.
bool Ring::grant_pieces_persistent(Shadow& s, const WireRequest& w, bool to_backend)
{
	s.uses = s.uses_inline;
	if (w.nr_pieces > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		s.uses = static_cast<PoolUse*>(xb_rt_alloc_nowait(sizeof(PoolUse) * w.nr_pieces));
		if (!s.uses) {
			s.uses = s.uses_inline;
			return false;
		}
	}
	for (u32 i = 0; i < w.nr_pieces; i++) {
		const GrantPiece& gp = pieces_[w.first_piece + i];
		PoolPage* pg = pool_get();
		if (!pg)
			return false;
		const u16 off = static_cast<u16>(gp.first_sect * BLKIF_SECTOR_SIZE);
		const u16 len = static_cast<u16>((gp.last_sect - gp.first_sect + 1u) * BLKIF_SECTOR_SIZE);
		s.uses[s.nr_grants] = {pg, gp.frame, off, len};
		s.grefs[s.nr_grants++] = pg->gref;
		if (to_backend)
			xb_fe_glue_copy_to_pool(pg->page, gp.frame, off, len);
	}
	return true;
}

void Ring::purge()
{
	PoolPage* gone;
	{
		Guard g(lock_.get());
		if (!pooled(mode_))
			return;
		gone = pool_.remove_free_if([](PoolPage* pg) { return xb_fe_glue_end_grant(pg->gref) == 1; });
	}
	pool_free_chain(gone, false);   // their grants ended
}

void Ring::pool_into(PoolStats* st, u32* pages, u32* free_pages, u64* direct_grants)
{
	Guard g(lock_.get());
	st->add(pool_.stats());
	*pages += pool_.total();
	*free_pages += pool_.nr_free();
	*direct_grants += direct_grants_;
}

// The purge timer: pool pages the backend stopped mapping are freed.
void Device::purge()
{
	if (!pooled(mode_) || !has_disk())
		return;
	for (u32 i = 0; i < nr_rings_; i++)
		if (rings_[i])
			rings_[i]->purge();
	xb_fe_glue_schedule_purge(gd_, purge_interval_ms);
}

} // namespace xb::fe
