// SPDX-License-Identifier: GPL-2.0
// back_persistent.cpp - xenblk-back: a ring's persistent grants.  The LRU of
// kept read-write mappings (BackGrantCache, grant_cache.hpp) decides which
// ref has which slot and what is evicted; the glue holds the pages and grant
// handles of the slots.  On the ring's worker only (init: at connect).
#include "back.hpp"

namespace xb::back {

kstd::Errno Ring::init_persistent()
{
	const u32 nb = BackGrantCache::buckets_for(pgnt_capacity);
	cslots_ = new (std::nothrow) CacheSlot[pgnt_capacity];
	cbuckets_ = new (std::nothrow) u32[nb];
	if (!cslots_ || !cbuckets_ ||
	    !cache_.init(kstd::span<CacheSlot>(cslots_, pgnt_capacity),
			 kstd::span<u32>(cbuckets_, nb), max_persistent_grants()))
		return kstd::Errno::nomem;
	if (xbg_pgnt_init(glue, pgnt_capacity))
		return kstd::Errno::nomem;
	persistent_ = true;
	return kstd::Errno::ok;
}

// One batch of kept mappings: slot_for() gives each ref its kept slot, or
// claims one (the slot's old mapping, if any, queued for unmapping and the ref
// for mapping); map_batch() then unmaps the evicted mappings in one call and
// maps the new refs in one call.  A claim whose map failed is abandoned (its
// slot free again, its use dropped).
struct Ring::MapBatch {
	u32 nev = 0;
	u32 nmap = 0;
	u64 now = xbg_now_ns();   // the cache's clock: when its mappings were used
};

// the slot holding gref from now on (one more use), or npos when every slot is
// in use
u32 Ring::slot_for(MapBatch& b, u32 gref)
{
	const u32 slot = cache_.get(gref, b.now);
	if (slot != BackGrantCache::npos)
		return slot;
	const BackGrantCache::Claim c = cache_.claim(gref, b.now);
	if (c.slot == BackGrantCache::npos)
		return c.slot;
	if (c.evict)
		evict_[b.nev++] = c.slot;
	map_slot_[b.nmap] = c.slot;
	map_gref_[b.nmap++] = gref;
	return c.slot;
}

// 0 when every new ref mapped; else the glue's error, or -EFAULT when some
// refs did not map (map_ok_[k] tells which: their slots are abandoned).
int Ring::map_batch(const MapBatch& b)
{
	if (b.nev)
		xbg_pgnt_unmap(glue, evict_, b.nev);
	if (!b.nmap)
		return 0;
	int err = xbg_pgnt_map(glue, map_slot_, map_gref_, b.nmap, map_ok_);
	if (err > 0) {
		// the map failed as a whole: undo what did map, as if nothing had
		xbg_pgnt_unmap(glue, map_slot_, b.nmap);
		for (u32 k = 0; k < b.nmap; k++)
			map_ok_[k] = 0;
		err = 0;
	}
	bool bad = false;
	for (u32 k = 0; k < b.nmap; k++) {
		if (err || !map_ok_[k]) {
			cache_.abandon(map_slot_[k]);
			bad = true;
		}
	}
	return err ? err : bad ? to_int(kstd::Errno::fault) : 0;
}

// Kept mappings for the n segments in segs_: each segment's slot, or -1 when
// every slot is in use (the glue maps it for this request only).
// 0; -ENOMEM (retry later, nothing held); -EFAULT: a ref of the frontend did
// not map (the request fails, nothing held).
int Ring::map_persistent(Pending* p, u32 n)
{
	p->nslots = 0;
	p->slots = p->slots_inline;
	if (n > kstd::array_size(p->slots_inline)) {
		p->slots = static_cast<u32*>(xb_rt_alloc_nowait(sizeof(u32) * n));
		if (!p->slots)
			return to_int(kstd::Errno::nomem);
	}
	MapBatch b;
	for (u32 i = 0; i < n; i++) {
		const u32 slot = slot_for(b, segs_[i].gref);
		if (slot != BackGrantCache::npos)
			p->slots[p->nslots++] = slot;
		segs_[i].slot = slot == BackGrantCache::npos ? -1 : static_cast<int>(slot);
	}
	const int err = map_batch(b);
	if (err)
		release_slots(p);   // an abandoned slot's put is a no-op
	return err;
}

// Indirect pages through the persistent-grant cache, as data pages are: a page
// the frontend sends again is read through its kept mapping, with no map and
// no unmap (and TLB flush) per request.  Kept mappings are read-write; a
// frontend that grants its indirect pages read-only makes the first such map
// fail (the request then maps them per request, read-only); after
// ro_indirect_limit such failures in a row this ring stops trying.  Our own
// frontend grants read-only the indirect pages it cannot take from its pool.
// true: slots[i] holds grefs[i], in use until put; false: map them per request
// (nothing held).
bool Ring::map_indirect_kept(const u32* grefs, u32 n, u32* slots)
{
	if (!persistent_ || indirect_ro_ >= ro_indirect_limit)
		return false;
	MapBatch b;
	u32 got = 0;
	for (; got < n; got++) {
		slots[got] = slot_for(b, grefs[got]);
		if (slots[got] == BackGrantCache::npos)
			break;   // every kept mapping in use: per request
	}
	const int err = map_batch(b);
	if (err == to_int(kstd::Errno::fault))
		indirect_ro_++;   // refused: most likely granted read-only
	else if (!err && b.nmap)
		indirect_ro_ = 0;
	if (!err && got == n)
		return true;
	for (u32 i = 0; i < got; i++)
		cache_.put(slots[i]);   // no-op for an abandoned slot
	return false;
}

void Ring::release_slots(Pending* p)
{
	for (u32 i = 0; i < p->nslots; i++)
		cache_.put(p->slots[i]);
	if (p->slots && p->slots != p->slots_inline)
		xb_rt_free(p->slots);
	p->slots = nullptr;
	p->nslots = 0;
}

// Down to max_persistent_grants (it may have been lowered): least recently
// used mappings nobody uses are unmapped.
void Ring::shrink_cache()
{
	if (!persistent_)
		return;
	cache_.set_bound(max_persistent_grants());
	u32 out[64];
	u32 k;
	while ((k = cache_.shrink(kstd::span<u32>(out))) != 0)
		xbg_pgnt_unmap(glue, out, k);
}

} // namespace xb::back
