// The backend's LRU of persistently mapped grants (kmod/core/grant_cache.hpp).
#include <gtest/gtest.h>
#include <algorithm>
#include <map>
#include <set>
#include <vector>
#include "grant_cache.hpp"

namespace {

using xb::BackGrantCache;

struct Cache {
	std::vector<xb::CacheSlot> slots;
	std::vector<uint32_t> buckets;
	BackGrantCache c;
	uint64_t now = 0;   // the cache's clock (ns)

	// keep_ns 0: any mapping nobody uses may be evicted (a plain LRU); the
	// tests of keep_ns set it themselves
	Cache(uint32_t capacity, uint32_t bound, uint64_t keep_ns = 0)
		: slots(capacity), buckets(BackGrantCache::buckets_for(capacity))
	{
		EXPECT_TRUE(c.init(kstd::span<xb::CacheSlot>(slots.data(), slots.size()),
				   kstd::span<uint32_t>(buckets.data(), buckets.size()), bound));
		EXPECT_EQ(c.keep_ns(), BackGrantCache::keep_ns_default);
		c.set_keep_ns(keep_ns);
	}
	// map gref (claim), as the driver does when get() misses
	uint32_t map(uint32_t gref)
	{
		EXPECT_EQ(c.get(gref, now), BackGrantCache::npos);
		const auto cl = c.claim(gref, now);
		return cl.slot;
	}
};

} // namespace

TEST(GrantCache, Buckets)
{
	EXPECT_EQ(BackGrantCache::buckets_for(0), 1u);
	EXPECT_EQ(BackGrantCache::buckets_for(1), 1u);
	EXPECT_EQ(BackGrantCache::buckets_for(1056), 2048u);
	EXPECT_EQ(BackGrantCache::buckets_for(1024), 1024u);
}

TEST(GrantCache, InitRefusesWrongStorage)
{
	std::vector<xb::CacheSlot> slots(10);
	std::vector<uint32_t> buckets(8);   // needs 16
	BackGrantCache c;
	EXPECT_FALSE(c.init(kstd::span<xb::CacheSlot>(slots.data(), slots.size()),
			    kstd::span<uint32_t>(buckets.data(), buckets.size()), 10));
}

TEST(GrantCache, BoundIsCappedByCapacity)
{
	Cache t(8, 100);
	EXPECT_EQ(t.c.bound(), 8u);
	t.c.set_bound(3);
	EXPECT_EQ(t.c.bound(), 3u);
}

TEST(GrantCache, HitAfterMapAndPut)
{
	Cache t(4, 4);
	const uint32_t s = t.map(77);
	ASSERT_NE(s, BackGrantCache::npos);
	EXPECT_EQ(t.c.nr_mapped(), 1u);
	EXPECT_EQ(t.c.nr_in_use(), 1u);
	t.c.put(s);
	EXPECT_EQ(t.c.nr_in_use(), 0u);
	EXPECT_EQ(t.c.get(77, t.now), s);
	EXPECT_EQ(t.c.stats().hits, 1u);
	EXPECT_EQ(t.c.stats().mapped, 1u);
	EXPECT_EQ(t.c.get(78, t.now), BackGrantCache::npos);
}

TEST(GrantCache, SameRefTwiceHasTwoUsers)
{
	Cache t(4, 4);
	const uint32_t s = t.map(5);
	EXPECT_EQ(t.c.get(5, t.now), s);
	EXPECT_EQ(t.c.slot(s).users, 2u);
	EXPECT_EQ(t.c.nr_in_use(), 1u);
	t.c.put(s);
	EXPECT_EQ(t.c.nr_in_use(), 1u);
	t.c.put(s);
	EXPECT_EQ(t.c.nr_in_use(), 0u);
	t.c.put(s);   // a stray put changes nothing
	EXPECT_EQ(t.c.slot(s).users, 0u);
}

TEST(GrantCache, EvictsLeastRecentlyUsedNotInUse)
{
	Cache t(3, 3);
	const uint32_t a = t.map(10), b = t.map(11), c = t.map(12);
	t.c.put(a);
	t.c.put(b);
	t.c.put(c);
	// use 10 again: 11 is now the least recent
	t.c.put(t.c.get(10, t.now));
	const auto cl = t.c.claim(13, t.now);
	EXPECT_TRUE(cl.evict);
	EXPECT_EQ(cl.old_gref, 11u);
	EXPECT_EQ(cl.slot, b);
	EXPECT_EQ(t.c.get(11, t.now), BackGrantCache::npos);
	EXPECT_EQ(t.c.get(13, t.now), b);
	EXPECT_EQ(t.c.stats().evicted, 1u);
	EXPECT_EQ(t.c.nr_mapped(), 3u);
}

TEST(GrantCache, NeverEvictsOneInUse)
{
	Cache t(2, 2);
	const uint32_t a = t.map(1);
	const uint32_t b = t.map(2);
	// both in use: no slot, map for one request only
	auto cl = t.c.claim(3, t.now);
	EXPECT_EQ(cl.slot, BackGrantCache::npos);
	EXPECT_EQ(t.c.stats().full, 1u);
	// the least recent (1) is in use, 2 is free: 2 goes even though more recent
	t.c.put(b);
	cl = t.c.claim(3, t.now);
	EXPECT_EQ(cl.slot, b);
	EXPECT_EQ(cl.old_gref, 2u);
	EXPECT_EQ(t.c.get(1, t.now), a);
}

TEST(GrantCache, KeepsMappingsUsedWithinKeepNs)
{
	Cache t(2, 2, 100);
	const uint32_t a = t.map(1);
	t.now = 10;
	const uint32_t b = t.map(2);
	t.c.put(a);
	t.c.put(b);
	t.now = 60;   // both used within 100 ns: a third ref is mapped per request
	auto cl = t.c.claim(3, t.now);
	EXPECT_EQ(cl.slot, BackGrantCache::npos);
	EXPECT_EQ(t.c.stats().full, 1u);
	EXPECT_EQ(t.c.stats().evicted, 0u);
	t.now = 100;  // 1 was last used 100 ns ago: it goes, 2 stays
	cl = t.c.claim(3, t.now);
	EXPECT_EQ(cl.slot, a);
	EXPECT_TRUE(cl.evict);
	EXPECT_EQ(cl.old_gref, 1u);
	EXPECT_EQ(t.c.get(2, t.now), b);
	t.c.put(b);
	t.c.put(a);
	t.now = 50;   // a clock that went back: everything counts as recent
	EXPECT_EQ(t.c.claim(4, t.now).slot, BackGrantCache::npos);
}

// A frontend whose requests in flight use more pages than the cache holds
// cycles through its refs (its pool hands out the pages that came back last).
// A plain LRU evicts each mapping just before its ref comes again and hits
// nothing; keeping the recently used ones keeps bound() refs of every cycle.
static uint64_t cycle_hits(uint64_t keep_ns)
{
	constexpr uint32_t bound = 64, refs = 2 * bound, cycles = 10;
	Cache t(bound, bound, keep_ns);
	for (uint32_t c = 0; c < cycles; c++)
		for (uint32_t g = 0; g < refs; g++) {
			t.now += 1000;
			uint32_t s = t.c.get(g, t.now);
			if (s == BackGrantCache::npos)
				s = t.c.claim(g, t.now).slot;
			if (s != BackGrantCache::npos)
				t.c.put(s);
		}
	return t.c.stats().hits;
}

TEST(GrantCache, CyclingThroughMoreRefsThanTheBound)
{
	EXPECT_EQ(cycle_hits(0), 0u);                                   // a plain LRU
	EXPECT_EQ(cycle_hits(BackGrantCache::keep_ns_default), 64u * 9);  // every cycle after the first
}

TEST(GrantCache, AbandonFreesTheSlot)
{
	Cache t(2, 2);
	const auto cl = t.c.claim(0xfffff0, t.now);   // a ref that will not map
	ASSERT_NE(cl.slot, BackGrantCache::npos);
	t.c.abandon(cl.slot);
	EXPECT_EQ(t.c.nr_mapped(), 0u);
	EXPECT_EQ(t.c.nr_in_use(), 0u);
	EXPECT_EQ(t.c.get(0xfffff0, t.now), BackGrantCache::npos);
	EXPECT_EQ(t.c.stats().map_failed, 1u);
	// the slot is usable again
	EXPECT_NE(t.map(1), BackGrantCache::npos);
	EXPECT_NE(t.map(2), BackGrantCache::npos);
}

// The backend puts every slot of a failed batch, abandoned ones included: a put
// of an abandoned slot must change nothing, also when the same ref had two
// users in the request and when another slot of the request stays kept.
TEST(GrantCache, PutAfterAbandonIsANoOp)
{
	Cache t(4, 4);
	const uint32_t kept = t.map(7);
	t.c.put(kept);                      // mapped earlier, idle
	ASSERT_EQ(t.c.get(7, t.now), kept);        // the request's hit: one user
	const auto cl = t.c.claim(9, t.now);       // the request's miss, mapped in the batch
	ASSERT_NE(cl.slot, BackGrantCache::npos);
	ASSERT_EQ(t.c.get(9, t.now), cl.slot);     // the same ref again: two users
	t.c.abandon(cl.slot);               // its map failed
	EXPECT_EQ(t.c.nr_in_use(), 1u);
	t.c.put(cl.slot);
	t.c.put(cl.slot);
	t.c.put(kept);
	EXPECT_EQ(t.c.nr_in_use(), 0u);
	EXPECT_EQ(t.c.nr_mapped(), 1u);
	EXPECT_EQ(t.c.get(7, t.now), kept);        // still kept
	t.c.put(kept);
	EXPECT_EQ(t.c.get(9, t.now), BackGrantCache::npos);
}

TEST(GrantCache, ShrinkAfterALoweredBound)
{
	Cache t(8, 8);
	std::vector<uint32_t> s;
	for (uint32_t g = 100; g < 108; g++)
		s.push_back(t.map(g));
	for (uint32_t i = 0; i < 8; i++)
		if (i != 0)   // 100 (least recent) stays in use
			t.c.put(s[i]);
	t.c.set_bound(3);
	// over the bound: a new ref is not mapped persistently until shrink
	EXPECT_EQ(t.c.claim(200, t.now).slot, BackGrantCache::npos);
	uint32_t out[16];
	const uint32_t n = t.c.shrink(kstd::span<uint32_t>(out));
	ASSERT_EQ(n, 5u);
	// least recent first, skipping the one in use
	for (uint32_t i = 0; i < n; i++)
		EXPECT_EQ(out[i], s[i + 1]);
	EXPECT_EQ(t.c.nr_mapped(), 3u);
	EXPECT_EQ(t.c.get(100, t.now), s[0]);
	EXPECT_EQ(t.c.get(101, t.now), BackGrantCache::npos);
	EXPECT_EQ(t.c.get(107, t.now), s[7]);
	EXPECT_EQ(t.c.shrink(kstd::span<uint32_t>(out)), 0u);
}

TEST(GrantCache, ShrinkRespectsTheOutputSize)
{
	Cache t(6, 6);
	for (uint32_t g = 0; g < 6; g++)
		t.c.put(t.map(g));
	t.c.set_bound(0);
	uint32_t out[4];
	EXPECT_EQ(t.c.shrink(kstd::span<uint32_t>(out)), 4u);
	EXPECT_EQ(t.c.nr_mapped(), 2u);
	EXPECT_EQ(t.c.shrink(kstd::span<uint32_t>(out)), 2u);
	EXPECT_EQ(t.c.nr_mapped(), 0u);
	// bound 0: nothing is kept
	EXPECT_EQ(t.c.claim(9, t.now).slot, BackGrantCache::npos);
}

TEST(GrantCache, DrainReturnsEveryMappedSlot)
{
	Cache t(5, 5);
	std::set<uint32_t> mapped;
	for (uint32_t g = 0; g < 4; g++)
		mapped.insert(t.map(g * 1000));
	uint32_t out[8];
	const uint32_t n = t.c.drain(kstd::span<uint32_t>(out));
	EXPECT_EQ(std::set<uint32_t>(out, out + n), mapped);
	EXPECT_EQ(t.c.nr_mapped(), 0u);
	EXPECT_EQ(t.c.nr_in_use(), 0u);
	EXPECT_EQ(t.c.drain(kstd::span<uint32_t>(out)), 0u);
	for (uint32_t g = 0; g < 5; g++)
		EXPECT_NE(t.map(g + 7), BackGrantCache::npos);
}

// Hostile refs (colliding buckets, any value) and a random workload against a
// model: every mapping is where the model says, none in use or used within
// keep_ns is ever evicted, the bound holds.
static void randomised(uint64_t keep_ns)
{
	constexpr uint32_t cap = 64;
	Cache t(cap, 48, keep_ns);
	std::map<uint32_t, uint32_t> where;     // gref -> slot
	std::map<uint32_t, uint64_t> last;      // gref -> its last get or claim
	std::map<uint32_t, uint32_t> users;     // slot -> users
	std::vector<uint32_t> held;             // slots taken by "requests"
	unsigned seed = 99;
	auto rnd = [&]() { seed = seed * 1103515245u + 12345u; return (seed >> 16) & 0x7fff; };
	for (int step = 0; step < 50000; step++) {
		t.now += rnd() % 4;
		const unsigned r = rnd() % 16;
		if (r < 8) {
			// refs from a small set, some sharing a bucket (multiples of 2048)
			const uint32_t g = (rnd() % 100) * ((rnd() & 1) ? 2048u : 1u) ^ 0xfffff000u * (rnd() % 2);
			uint32_t s = t.c.get(g, t.now);
			if (s != BackGrantCache::npos) {
				ASSERT_EQ(where.count(g), 1u);
				ASSERT_EQ(where[g], s);
				last[g] = t.now;
			} else {
				ASSERT_EQ(where.count(g), 0u);
				const uint32_t before = t.c.nr_mapped();
				const auto cl = t.c.claim(g, t.now);
				// a claim never grows the cache beyond the bound
				ASSERT_LE(t.c.nr_mapped(), std::max(before, t.c.bound()));
				s = cl.slot;
				if (s == BackGrantCache::npos)
					continue;
				if (cl.evict) {
					ASSERT_EQ(where.count(cl.old_gref), 1u);
					ASSERT_EQ(where[cl.old_gref], s);
					ASSERT_EQ(users[s], 0u);   // never one in use
					ASSERT_GE(t.now - last[cl.old_gref], keep_ns);   // nor a recent one
					where.erase(cl.old_gref);
				}
				last[g] = t.now;
				if (rnd() % 20 == 0) {   // the map fails
					t.c.abandon(s);
					continue;
				}
				where[g] = s;
			}
			users[s]++;
			held.push_back(s);
		} else if (r < 14 && !held.empty()) {
			const size_t k = rnd() % held.size();
			const uint32_t s = held[k];
			held.erase(held.begin() + static_cast<long>(k));
			t.c.put(s);
			users[s]--;
		} else if (r == 15) {
			t.c.set_bound(rnd() % (cap + 8));
			uint32_t out[cap];
			const uint32_t n = t.c.shrink(kstd::span<uint32_t>(out));
			for (uint32_t i = 0; i < n; i++) {
				ASSERT_EQ(users[out[i]], 0u);
				for (auto it = where.begin(); it != where.end(); ++it)
					if (it->second == out[i]) {
						where.erase(it);
						break;
					}
			}
			if (t.c.nr_mapped() > t.c.bound()) {
				// after a shrink only slots in use keep it above the bound
				uint32_t free_mapped = 0;
				for (const auto& w : where)
					free_mapped += users[w.second] == 0;
				ASSERT_EQ(free_mapped, 0u);
			}
		}
		ASSERT_EQ(t.c.nr_mapped(), where.size());
	}
	EXPECT_GT(t.c.stats().hits, 0u);
	EXPECT_GT(t.c.stats().evicted, 0u);
}

TEST(GrantCache, RandomisedAgainstAModel) { randomised(0); }
TEST(GrantCache, RandomisedAgainstAModelKeepingRecentOnes) { randomised(20); }
