// SPDX-License-Identifier: GPL-2.0
// grant_pool.hpp - the frontend's per-ring pool of persistently granted pages.
//
// With feature-persistent negotiated the frontend never grants the block
// request's own pages: it copies the data through pages it granted to the
// backend once (read-write) and reuses them, so that the backend can keep them
// mapped and skip a map/unmap per segment.  This file holds the bookkeeping;
// the driver allocates, grants, copies and frees (kernel calls), always under
// the ring's lock, so nothing here is atomic or allocates.
//
// Rules:
//  * LIFO: the page returned last is handed out first, so a backend that keeps
//    a bounded number of mappings keeps getting the same grant refs.
//  * Bounded: pages are created only when none is free, and never more than
//    bound() per ring (what the ring can have in flight: every slot with its
//    most data and indirect pages, persistent_pool_bound()).
//  * After each response the driver asks the grant table whether the backend
//    still maps the page (an end-of-access attempt): still mapped -> the backend
//    made it persistent, it goes back on the free stack (give_back); no longer
//    mapped -> the attempt ended the grant, the page leaves the pool (forget)
//    and is freed.  completion_fate() encodes that decision.
//  * Pages on the free stack whose mapping the backend dropped later (its own
//    bound, an LRU eviction) are found by a periodic purge (remove_free_if).
//  * At disconnect the free stack is drained (drain_free); every page then has
//    its grant ended by the driver with deferred freeing, so a page the backend
//    still maps is never reused as ordinary memory.
#pragma once
#include "kstd.hpp"
#include "negotiate.hpp"

namespace xb {

// One granted page.  The driver owns the memory; the pool only links it.
struct PoolPage {
	PoolPage* next;        // free stack link (nullptr when in use)
	void* page;            // kernel virtual address of the 4 KiB page
	kstd::u64 pfn;         // its frame
	kstd::u32 gref;        // grant reference (read-write to the backend)
};

// What the pool did, per ring (summed for xenblk_stats).
struct PoolStats {
	kstd::u64 hits;        // pages reused from the free stack
	kstd::u64 created;     // pages allocated and granted
	kstd::u64 kept;        // completions after which the backend still mapped the page
	kstd::u64 dropped;     // completions after which it did not: grant ended, page freed
	kstd::u64 purged;      // free pages found unmapped later and freed

	void add(const PoolStats& o)
	{
		hits += o.hits;
		created += o.created;
		kept += o.kept;
		dropped += o.dropped;
		purged += o.purged;
	}
};

// The most pool pages one ring can have in use at once: every slot carrying a
// request with max_segments data pages and its indirect pages.  max_segments
// of 11 or less means direct requests only.
constexpr kstd::u32 persistent_pool_bound(kstd::u32 ring_entries, kstd::u32 max_segments)
{
	constexpr kstd::u32 per_frame = BLKIF_SEGS_PER_INDIRECT_FRAME;
	const kstd::u32 indirect = xb::indirect_usable(max_segments) ? (max_segments + per_frame - 1) / per_frame : 0;
	return ring_entries * (xb::segments_per_request(max_segments) + indirect);
}

// What happens to a page after the response to the request that used it.
enum class PageFate : kstd::u8 {
	keep,     // persistent and still mapped by the backend: back on the free stack
	drop,     // the end-of-access attempt succeeded: grant gone, free the page
	hold,     // not persistent but still mapped: never free (the device is broken)
};

constexpr PageFate completion_fate(bool persistent, bool access_ended)
{
	if (access_ended)
		return PageFate::drop;
	return persistent ? PageFate::keep : PageFate::hold;
}

class FrontGrantPool {
public:
	FrontGrantPool() = default;
	FrontGrantPool(const FrontGrantPool&) = delete;
	FrontGrantPool& operator=(const FrontGrantPool&) = delete;

	void init(kstd::u32 bound)
	{
		bound_ = bound;
		free_ = nullptr;
		nr_free_ = 0;
		total_ = 0;
		stats_ = {};
	}

	kstd::u32 bound() const { return bound_; }
	kstd::u32 total() const { return total_; }       // free + in use
	kstd::u32 nr_free() const { return nr_free_; }
	kstd::u32 in_use() const { return total_ - nr_free_; }
	const PoolStats& stats() const { return stats_; }

	// The page returned last, or nullptr when none is free.
	PoolPage* take()
	{
		PoolPage* p = free_;
		if (!p)
			return nullptr;
		free_ = p->next;
		p->next = nullptr;
		nr_free_--;
		stats_.hits++;
		return p;
	}

	// May the driver create one more page?
	bool can_grow() const { return total_ < bound_; }

	// A page the driver just allocated and granted enters the pool in use.
	// false (and nothing counted) when the pool is at its bound.
	bool adopt(PoolPage* p)
	{
		if (!p || !can_grow())
			return false;
		p->next = nullptr;
		total_++;
		stats_.created++;
		return true;
	}

	// A page in use goes back on top of the free stack.  counted: a response
	// came and the backend kept the mapping (a rollback before the request
	// was sent counts nothing).
	void give_back(PoolPage* p, bool counted)
	{
		p->next = free_;
		free_ = p;
		nr_free_++;
		if (counted)
			stats_.kept++;
	}

	// A page in use leaves the pool (its grant ended after a response).
	void forget(PoolPage* p)
	{
		p->next = nullptr;
		if (total_)
			total_--;
		stats_.dropped++;
	}

	// Unlinks every free page for which pred(page) is true (pred ends the
	// grant: true means it ended) and returns them as a chain through next,
	// in their stack order.  The others keep their order.
	template <class Pred>
	PoolPage* remove_free_if(Pred pred)
	{
		PoolPage* out = nullptr;
		PoolPage** tail = &out;
		PoolPage** link = &free_;
		while (PoolPage* p = *link) {
			if (pred(p)) {
				*link = p->next;
				p->next = nullptr;
				*tail = p;
				tail = &p->next;
				nr_free_--;
				total_--;
				stats_.purged++;
			} else {
				link = &p->next;
			}
		}
		return out;
	}

	// Every free page, as a chain; they leave the pool.
	PoolPage* drain_free()
	{
		PoolPage* out = free_;
		total_ -= nr_free_;
		nr_free_ = 0;
		free_ = nullptr;
		return out;
	}

private:
	kstd::u32 bound_ = 0;
	PoolPage* free_ = nullptr;
	kstd::u32 nr_free_ = 0;
	kstd::u32 total_ = 0;
	PoolStats stats_ = {};
};

} // namespace xb
