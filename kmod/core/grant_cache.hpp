// SPDX-License-Identifier: GPL-2.0
// grant_cache.hpp - the backend's per-ring LRU of persistently mapped grants.
//
// With feature-persistent the backend keeps the frontend's data grants mapped
// after a request and reuses the mapping when the same grant reference comes
// again.  This class is the bookkeeping only: slot numbers name mappings the
// driver holds (a page and a grant handle per slot, in the glue); the ring's
// worker is the only user, so there is no locking; storage comes from the
// caller, allocated at connect, so nothing allocates on the I/O path.
//
// Rules:
//  * get(ref, now): a mapped slot for ref, marked in use and most recently
//    used (at now, the caller's monotonic clock in ns).
//  * claim(ref, now) for a ref not mapped: a never-used slot while fewer than
//    bound() are mapped, else the least recently used slot nobody uses, if it
//    was last used at least keep_ns() before now (evicted: the driver unmaps
//    its old grant first, then maps ref into it); otherwise no slot (the
//    driver maps ref for this request only).  A slot in use is never evicted,
//    nor one used recently: when a frontend cycles through more refs than the
//    bound (its requests in flight need more pages than the cache holds), a
//    plain LRU would evict every mapping just before its ref came back and
//    hit nothing; keeping the recently used ones keeps bound() of the cycle's
//    refs mapped, and only the rest are mapped per request.
//  * abandon(slot): the map of a claimed slot failed (a bad ref from the
//    frontend): the slot is unmapped and free again; the request fails.
//  * put(slot): one request done with it.
//  * shrink(): slots to unmap, least recently used first, to get back under a
//    lowered bound (never one in use).
//  * At disconnect every mapped slot is unmapped (mapped_slots()); none may be
//    in use then (the ring's I/O has drained).
// The frontend's refs are untrusted: any u32 is a valid key, and a ref used
// twice in one request simply has two users.
#pragma once
#include "kstd.hpp"

namespace xb {

struct CacheSlot {
	kstd::u32 gref;
	kstd::u32 users;        // requests in flight using the mapping
	kstd::u32 lru_prev;     // towards the most recent; npos at the head
	kstd::u32 lru_next;     // towards the least recent; npos at the tail
	kstd::u32 hash_next;    // chain of the bucket; free-list link for free slots
	bool mapped;
	kstd::u64 last_use;     // the caller's clock (ns) at the last get or claim
};

struct CacheStats {
	kstd::u64 hits;         // segments served by a kept mapping
	kstd::u64 mapped;       // slots claimed for a new persistent mapping (map_failed of them failed)
	kstd::u64 evicted;      // kept mappings unmapped to make room or after a lowered bound
	kstd::u64 full;         // segments mapped for one request only: every slot in use or used
	                        // within keep_ns, or no slot
	kstd::u64 map_failed;   // claimed slots whose map failed

	void add(const CacheStats& o)
	{
		hits += o.hits;
		mapped += o.mapped;
		evicted += o.evicted;
		full += o.full;
		map_failed += o.map_failed;
	}
};

class BackGrantCache {
public:
	static constexpr kstd::u32 npos = ~kstd::u32{0};
	// a mapping used within this long is not evicted for another ref
	static constexpr kstd::u64 keep_ns_default = 1000000000;

	struct Claim {
		kstd::u32 slot;        // npos: map for this request only
		bool evict;            // slot holds old_gref's mapping: unmap it first
		kstd::u32 old_gref;
	};

	// Buckets for a capacity: a power of two, at least the capacity.
	static constexpr kstd::u32 buckets_for(kstd::u32 capacity)
	{
		kstd::u32 b = 1;
		while (b < capacity && b < (1u << 30))
			b <<= 1;
		return b;
	}

	BackGrantCache() = default;
	BackGrantCache(const BackGrantCache&) = delete;
	BackGrantCache& operator=(const BackGrantCache&) = delete;

	// slots: capacity entries; buckets: buckets_for(capacity) entries.
	// false if the storage does not fit.
	bool init(kstd::span<CacheSlot> slots, kstd::span<kstd::u32> buckets, kstd::u32 bound)
	{
		const kstd::u32 cap = static_cast<kstd::u32>(slots.size());
		if (buckets.size() != buckets_for(cap) || slots.size() > npos / 2)
			return false;
		slots_ = slots.data();
		cap_ = cap;
		buckets_ = buckets.data();
		mask_ = static_cast<kstd::u32>(buckets.size()) - 1;
		for (kstd::u32 b = 0; b <= mask_; b++)
			buckets_[b] = npos;
		free_ = npos;
		for (kstd::u32 i = cap; i-- > 0;) {
			slots_[i] = {0, 0, npos, npos, free_, false, 0};
			free_ = i;
		}
		head_ = tail_ = npos;
		nr_mapped_ = 0;
		nr_in_use_ = 0;
		stats_ = {};
		keep_ns_ = keep_ns_default;
		set_bound(bound);
		return true;
	}

	// The most mappings kept; at most the capacity.  Lowering it makes
	// shrink() hand out the excess.
	void set_bound(kstd::u32 bound) { bound_ = kstd::min(bound, cap_); }

	kstd::u32 bound() const { return bound_; }
	void set_keep_ns(kstd::u64 ns) { keep_ns_ = ns; }
	kstd::u64 keep_ns() const { return keep_ns_; }
	kstd::u32 capacity() const { return cap_; }
	kstd::u32 nr_mapped() const { return nr_mapped_; }
	kstd::u32 nr_in_use() const { return nr_in_use_; }   // slots with users
	const CacheStats& stats() const { return stats_; }
	const CacheSlot& slot(kstd::u32 i) const { return slots_[i]; }

	kstd::u32 get(kstd::u32 gref, kstd::u64 now)
	{
		const kstd::u32 i = find(gref);
		if (i == npos)
			return npos;
		use(i, now);
		stats_.hits++;
		return i;
	}

	Claim claim(kstd::u32 gref, kstd::u64 now)
	{
		kstd::u32 i = npos;
		Claim c = {npos, false, 0};

		if (nr_mapped_ < bound_ && free_ != npos) {
			i = free_;
			free_ = slots_[i].hash_next;
			nr_mapped_++;
		} else {
			// least recent slot without users, if any
			for (kstd::u32 k = tail_; k != npos; k = slots_[k].lru_prev) {
				if (!slots_[k].users) {
					i = k;
					break;
				}
			}
			// over a lowered bound: shrink() first, never grow; and
			// the least recent is recent: every other one is too
			if (i == npos || nr_mapped_ > bound_ || recent(slots_[i], now)) {
				stats_.full++;
				return c;
			}
			c.evict = true;
			c.old_gref = slots_[i].gref;
			unhash(i);
			lru_unlink(i);
			stats_.evicted++;
		}
		slots_[i].gref = gref;
		slots_[i].users = 0;
		slots_[i].mapped = true;
		hash(i);
		lru_push_head(i);
		use(i, now);
		stats_.mapped++;
		c.slot = i;
		return c;
	}

	void abandon(kstd::u32 i)
	{
		CacheSlot& s = slots_[i];
		if (!s.mapped)
			return;
		if (s.users) {
			s.users = 0;
			nr_in_use_--;
		}
		unhash(i);
		lru_unlink(i);
		release(i);
		stats_.map_failed++;
	}

	void put(kstd::u32 i)
	{
		CacheSlot& s = slots_[i];
		if (!s.mapped || !s.users)
			return;
		if (--s.users == 0)
			nr_in_use_--;
	}

	// Up to out.size() slots to unmap, least recent first, to come down to
	// the bound; they are free again when this returns (the driver unmaps
	// them before it maps anything else into them).
	kstd::u32 shrink(kstd::span<kstd::u32> out)
	{
		kstd::u32 n = 0;
		kstd::u32 k = tail_;
		while (nr_mapped_ > bound_ && n < out.size() && k != npos) {
			const kstd::u32 prev = slots_[k].lru_prev;
			if (!slots_[k].users) {
				out[n++] = k;
				evict_to_free(k);
			}
			k = prev;
		}
		return n;
	}

	// Every mapped slot (none may be in use), least recent first; they are
	// free again when this returns.  Returns how many were written.
	kstd::u32 drain(kstd::span<kstd::u32> out)
	{
		kstd::u32 n = 0;
		kstd::u32 k = tail_;
		while (k != npos && n < out.size()) {
			const kstd::u32 prev = slots_[k].lru_prev;
			out[n++] = k;
			if (slots_[k].users) {
				slots_[k].users = 0;
				nr_in_use_--;
			}
			unhash(k);
			lru_unlink(k);
			release(k);
			k = prev;
		}
		return n;
	}

private:
	kstd::u32 bucket(kstd::u32 gref) const { return ((gref * 0x9e3779b1u) >> 7) & mask_; }

	kstd::u32 find(kstd::u32 gref) const
	{
		for (kstd::u32 i = buckets_[bucket(gref)]; i != npos; i = slots_[i].hash_next)
			if (slots_[i].gref == gref)
				return i;
		return npos;
	}

	// used within keep_ns_ of now (a clock that went back counts as recent)
	bool recent(const CacheSlot& s, kstd::u64 now) const
	{
		return now < s.last_use || now - s.last_use < keep_ns_;
	}

	void use(kstd::u32 i, kstd::u64 now)
	{
		slots_[i].last_use = now;
		if (slots_[i].users++ == 0)
			nr_in_use_++;
		lru_unlink(i);
		lru_push_head(i);
	}

	void hash(kstd::u32 i)
	{
		const kstd::u32 b = bucket(slots_[i].gref);
		slots_[i].hash_next = buckets_[b];
		buckets_[b] = i;
	}

	void unhash(kstd::u32 i)
	{
		kstd::u32* link = &buckets_[bucket(slots_[i].gref)];
		while (*link != npos) {
			if (*link == i) {
				*link = slots_[i].hash_next;
				slots_[i].hash_next = npos;
				return;
			}
			link = &slots_[*link].hash_next;
		}
	}

	void lru_unlink(kstd::u32 i)
	{
		CacheSlot& s = slots_[i];
		if (s.lru_prev != npos)
			slots_[s.lru_prev].lru_next = s.lru_next;
		else if (head_ == i)
			head_ = s.lru_next;
		if (s.lru_next != npos)
			slots_[s.lru_next].lru_prev = s.lru_prev;
		else if (tail_ == i)
			tail_ = s.lru_prev;
		s.lru_prev = s.lru_next = npos;
	}

	void lru_push_head(kstd::u32 i)
	{
		CacheSlot& s = slots_[i];
		s.lru_prev = npos;
		s.lru_next = head_;
		if (head_ != npos)
			slots_[head_].lru_prev = i;
		head_ = i;
		if (tail_ == npos)
			tail_ = i;
	}

	void release(kstd::u32 i)
	{
		slots_[i].mapped = false;
		slots_[i].hash_next = free_;
		free_ = i;
		nr_mapped_--;
	}

	void evict_to_free(kstd::u32 i)
	{
		unhash(i);
		lru_unlink(i);
		release(i);
		stats_.evicted++;
	}

	CacheSlot* slots_ = nullptr;
	kstd::u32* buckets_ = nullptr;
	kstd::u32 cap_ = 0;
	kstd::u32 mask_ = 0;
	kstd::u32 bound_ = 0;
	kstd::u64 keep_ns_ = keep_ns_default;
	kstd::u32 free_ = npos;
	kstd::u32 head_ = npos;     // most recently used
	kstd::u32 tail_ = npos;     // least recently used
	kstd::u32 nr_mapped_ = 0;
	kstd::u32 nr_in_use_ = 0;
	CacheStats stats_ = {};
};

} // namespace xb
