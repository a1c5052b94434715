// The frontend's pool of persistently granted pages (kmod/core/grant_pool.hpp).
#include <gtest/gtest.h>
#include <vector>
#include "grant_pool.hpp"

namespace {

std::vector<xb::PoolPage> pages(unsigned n)
{
	std::vector<xb::PoolPage> v(n);
	for (unsigned i = 0; i < n; i++)
		v[i] = {nullptr, nullptr, 1000 + i, 100 + i};
	return v;
}

std::vector<unsigned> chain_refs(const xb::PoolPage* p)
{
	std::vector<unsigned> out;
	for (; p; p = p->next)
		out.push_back(p->gref);
	return out;
}

} // namespace

TEST(GrantPool, Bound)
{
	// direct only: 11 pages per slot, no indirect page
	EXPECT_EQ(xb::persistent_pool_bound(32, 0), 32u * 11);
	EXPECT_EQ(xb::persistent_pool_bound(32, 11), 32u * 11);
	// indirect: the segments and one indirect page per 512 segments
	EXPECT_EQ(xb::persistent_pool_bound(32, 12), 32u * 13);
	EXPECT_EQ(xb::persistent_pool_bound(512, 256), 512u * 257);
	EXPECT_EQ(xb::persistent_pool_bound(64, 512), 64u * 513);
	EXPECT_EQ(xb::persistent_pool_bound(64, 513), 64u * 515);
	EXPECT_EQ(xb::persistent_pool_bound(32, 4096), 32u * (4096 + 8));
}

TEST(GrantPool, CompletionFate)
{
	EXPECT_EQ(xb::completion_fate(true, false), xb::PageFate::keep);
	EXPECT_EQ(xb::completion_fate(true, true), xb::PageFate::drop);
	EXPECT_EQ(xb::completion_fate(false, true), xb::PageFate::drop);
	EXPECT_EQ(xb::completion_fate(false, false), xb::PageFate::hold);
}

TEST(GrantPool, EmptyPoolGivesNothing)
{
	xb::FrontGrantPool pool;
	pool.init(4);
	EXPECT_EQ(pool.take(), nullptr);
	EXPECT_EQ(pool.total(), 0u);
	EXPECT_EQ(pool.stats().hits, 0u);
	EXPECT_TRUE(pool.can_grow());
}

TEST(GrantPool, GrowsOnlyToTheBound)
{
	auto v = pages(4);
	xb::FrontGrantPool pool;
	pool.init(3);
	EXPECT_TRUE(pool.adopt(&v[0]));
	EXPECT_TRUE(pool.adopt(&v[1]));
	EXPECT_TRUE(pool.adopt(&v[2]));
	EXPECT_FALSE(pool.can_grow());
	EXPECT_FALSE(pool.adopt(&v[3]));
	EXPECT_FALSE(pool.adopt(nullptr));
	EXPECT_EQ(pool.total(), 3u);
	EXPECT_EQ(pool.in_use(), 3u);
	EXPECT_EQ(pool.stats().created, 3u);
	// a page leaving makes room again
	pool.forget(&v[2]);
	EXPECT_TRUE(pool.can_grow());
	EXPECT_EQ(pool.stats().dropped, 1u);
	EXPECT_TRUE(pool.adopt(&v[3]));
}

TEST(GrantPool, LastReturnedIsTakenFirst)
{
	auto v = pages(3);
	xb::FrontGrantPool pool;
	pool.init(8);
	for (auto& p : v)
		ASSERT_TRUE(pool.adopt(&p));
	pool.give_back(&v[0], true);
	pool.give_back(&v[1], true);
	pool.give_back(&v[2], true);
	EXPECT_EQ(pool.nr_free(), 3u);
	EXPECT_EQ(pool.in_use(), 0u);
	EXPECT_EQ(pool.stats().kept, 3u);
	EXPECT_EQ(pool.take(), &v[2]);
	EXPECT_EQ(pool.take(), &v[1]);
	pool.give_back(&v[2], false);   // a rollback: not a response
	EXPECT_EQ(pool.stats().kept, 3u);
	EXPECT_EQ(pool.take(), &v[2]);
	EXPECT_EQ(pool.take(), &v[0]);
	EXPECT_EQ(pool.take(), nullptr);
	EXPECT_EQ(pool.stats().hits, 4u);
	EXPECT_EQ(pool.in_use(), 3u);
	EXPECT_EQ(v[0].next, nullptr);   // taken pages are unlinked
}

TEST(GrantPool, PurgeRemovesOnlyWhatThePredicateEnds)
{
	auto v = pages(6);
	xb::FrontGrantPool pool;
	pool.init(8);
	for (auto& p : v)
		ASSERT_TRUE(pool.adopt(&p));
	for (auto& p : v)
		pool.give_back(&p, true);
	// stack: 105 104 103 102 101 100; the backend dropped 105, 103, 100
	std::vector<unsigned> asked;
	xb::PoolPage* gone = pool.remove_free_if([&](xb::PoolPage* p) {
		asked.push_back(p->gref);
		return p->gref == 105 || p->gref == 103 || p->gref == 100;
	});
	EXPECT_EQ(asked, (std::vector<unsigned>{105, 104, 103, 102, 101, 100}));
	EXPECT_EQ(chain_refs(gone), (std::vector<unsigned>{105, 103, 100}));
	EXPECT_EQ(pool.nr_free(), 3u);
	EXPECT_EQ(pool.total(), 3u);
	EXPECT_EQ(pool.stats().purged, 3u);
	// the rest keep their LIFO order
	EXPECT_EQ(pool.take()->gref, 104u);
	EXPECT_EQ(pool.take()->gref, 102u);
	EXPECT_EQ(pool.take()->gref, 101u);
	EXPECT_EQ(pool.take(), nullptr);
}

TEST(GrantPool, PurgeNeverTouchesPagesInUse)
{
	auto v = pages(3);
	xb::FrontGrantPool pool;
	pool.init(8);
	for (auto& p : v)
		ASSERT_TRUE(pool.adopt(&p));
	pool.give_back(&v[1], true);
	unsigned asked = 0;
	xb::PoolPage* gone = pool.remove_free_if([&](xb::PoolPage*) { asked++; return true; });
	EXPECT_EQ(asked, 1u);
	EXPECT_EQ(chain_refs(gone), (std::vector<unsigned>{101}));
	EXPECT_EQ(pool.total(), 2u);
	EXPECT_EQ(pool.in_use(), 2u);
}

TEST(GrantPool, DrainLeavesOnlyPagesInUse)
{
	auto v = pages(5);
	xb::FrontGrantPool pool;
	pool.init(5);
	for (auto& p : v)
		ASSERT_TRUE(pool.adopt(&p));
	pool.give_back(&v[0], true);
	pool.give_back(&v[3], true);
	pool.give_back(&v[4], true);
	xb::PoolPage* all = pool.drain_free();
	EXPECT_EQ(chain_refs(all), (std::vector<unsigned>{104, 103, 100}));
	EXPECT_EQ(pool.nr_free(), 0u);
	EXPECT_EQ(pool.total(), 2u);
	EXPECT_EQ(pool.take(), nullptr);
	EXPECT_EQ(pool.drain_free(), nullptr);
	// the two in use come back and drain too
	pool.give_back(&v[1], true);
	pool.give_back(&v[2], true);
	EXPECT_EQ(chain_refs(pool.drain_free()), (std::vector<unsigned>{102, 101}));
	EXPECT_EQ(pool.total(), 0u);
}

// A ring's life: requests take pages, the backend keeps some mappings and not
// others; the pool never exceeds its bound and accounts for every page.
TEST(GrantPool, RandomisedAccounting)
{
	constexpr unsigned bound = 64;
	std::vector<xb::PoolPage> store(bound);
	std::vector<xb::PoolPage*> spare, used;
	for (auto& p : store)
		spare.push_back(&p);
	xb::FrontGrantPool pool;
	pool.init(bound);
	unsigned seed = 12345, created = 0, reused = 0;
	auto rnd = [&]() { seed = seed * 1103515245u + 12345u; return (seed >> 16) & 0x7fff; };
	for (int step = 0; step < 20000; step++) {
		const unsigned r = rnd() % 10;
		if (r < 5) {   // a request needs a page
			xb::PoolPage* p = pool.take();
			if (p) {
				reused++;
			} else if (pool.can_grow()) {
				ASSERT_FALSE(spare.empty());
				p = spare.back();
				spare.pop_back();
				ASSERT_TRUE(pool.adopt(p));
				created++;
			}
			if (p)
				used.push_back(p);
		} else if (r < 9 && !used.empty()) {   // a response
			const size_t k = rnd() % used.size();
			xb::PoolPage* p = used[k];
			used.erase(used.begin() + static_cast<long>(k));
			if (rnd() % 4) {
				pool.give_back(p, true);
			} else {
				pool.forget(p);
				spare.push_back(p);
			}
		} else {   // a purge
			xb::PoolPage* gone = pool.remove_free_if([&](xb::PoolPage*) { return rnd() % 3 == 0; });
			while (gone) {
				xb::PoolPage* n = gone->next;
				spare.push_back(gone);
				gone = n;
			}
		}
		ASSERT_LE(pool.total(), bound);
		ASSERT_EQ(pool.in_use(), used.size());
		ASSERT_EQ(pool.total() + spare.size(), bound);
	}
	EXPECT_EQ(pool.stats().created, created);
	EXPECT_EQ(pool.stats().hits, reused);
	EXPECT_GT(reused, 0u);
}
