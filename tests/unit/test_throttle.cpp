// Unit tests of the backend's per-disk I/O limits (kmod/core/throttle.hpp), on a
// fake clock (nanoseconds).
#include <gtest/gtest.h>
#include <atomic>
#include <thread>
#include <vector>
#include "throttle.hpp"

using namespace xb::throttle;

namespace {

constexpr u64 ms = 1000000ull;
constexpr u64 sec = 1000000000ull;

Limits one(Kind k, u64 rate, u64 burst = 0)
{
	Limits l;
	l.l[k] = {rate, burst};
	return l;
}

// requests of `bytes` offered back to back from t0 for `span` ns, each as soon
// as admit() lets it: how many went
u64 run(Throttle& t, Op op, u64 bytes, u64 t0, u64 span)
{
	u64 now = t0, n = 0;
	while (now < t0 + span) {
		const u64 w = t.admit(op, bytes, now);
		if (w) {
			now += w;
			continue;
		}
		n++;
	}
	return n;
}

TEST(Throttle, NoLimitAdmitsEverythingAndChargesNothing)
{
	Throttle t;
	EXPECT_FALSE(t.active());
	for (int i = 0; i < 100000; i++)
		ASSERT_EQ(t.admit(Op::write, 1 << 20, 0), 0u);
	t.set(Limits{});
	EXPECT_FALSE(t.active());
	EXPECT_EQ(t.admit(Op::read, 4096, 0), 0u);
}

TEST(Throttle, BurstThenRate)
{
	Throttle t;
	t.set(one(iops_total, 100, 10));   // 10 ms a request, 100 ms of tolerance
	EXPECT_TRUE(t.active());
	// a quiet disk: the burst (10) beyond the first request at once
	u64 n = 0;
	while (t.admit(Op::read, 4096, 0) == 0)
		n++;
	EXPECT_EQ(n, 11u);
	// the next waits 10 ms
	EXPECT_EQ(t.admit(Op::read, 4096, 0), 10 * ms);
	EXPECT_EQ(t.admit(Op::read, 4096, 10 * ms), 0u);
	// held to the rate over 10 s
	const u64 m = run(t, Op::read, 4096, 10 * ms, 10 * sec);
	EXPECT_GE(m, 999u);
	EXPECT_LE(m, 1001u);
}

TEST(Throttle, QuietDiskEarnsTheBurstBackButNoMore)
{
	Throttle t;
	t.set(one(iops_write, 1000, 50));
	EXPECT_EQ(run(t, Op::write, 512, 0, 1 * ms), 51u);   // the first and the burst, then a wait
	// an hour of quiet earns the burst, not an hour's worth
	const u64 later = 3600 * sec;
	u64 n = 0;
	while (t.admit(Op::write, 512, later) == 0)
		n++;
	EXPECT_EQ(n, 51u);
}

TEST(Throttle, BytesPerSecond)
{
	Throttle t;
	t.set(one(bps_write, 10 << 20, 1 << 20));   // 10 MiB/s, 1 MiB burst
	const u64 n = run(t, Op::write, 1 << 20, 0, 10 * sec);
	EXPECT_GE(n, 100u);
	EXPECT_LE(n, 102u);   // 10 s at the rate + the burst
	// a request larger than the burst starts once the disk caught up, and
	// the next waits for it: nothing is refused for its size
	Throttle big;
	big.set(one(bps_total, 1 << 20, 4096));
	EXPECT_EQ(big.admit(Op::read, 64 << 20, 0), 0u);
	const u64 w = big.admit(Op::read, 4096, 0);
	EXPECT_GT(w, 63 * sec);
	EXPECT_LT(w, 64 * sec);
}

TEST(Throttle, ReadAndWriteLimitsAreSeparateTotalIsShared)
{
	Throttle t;
	Limits l;
	l.l[iops_read] = {100, 1};
	t.set(l);
	// writes are not limited by a read limit
	for (int i = 0; i < 1000; i++)
		ASSERT_EQ(t.admit(Op::write, 4096, 0), 0u);
	EXPECT_EQ(t.admit(Op::read, 4096, 0), 0u);
	EXPECT_EQ(t.admit(Op::read, 4096, 0), 0u);
	EXPECT_NE(t.admit(Op::read, 4096, 0), 0u);

	Throttle tot;
	tot.set(one(iops_total, 100, 1));
	EXPECT_EQ(tot.admit(Op::read, 4096, 0), 0u);
	EXPECT_EQ(tot.admit(Op::write, 4096, 0), 0u);
	EXPECT_NE(tot.admit(Op::write, 4096, 0), 0u);
	EXPECT_NE(tot.admit(Op::read, 4096, 0), 0u);
}

TEST(Throttle, DiscardCountsAsARequestNotBytesFlushIsFree)
{
	Throttle b;
	b.set(one(bps_write, 4096, 1));
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(b.admit(Op::discard, 1ull << 30, 0), 0u);   // a GiB discard: no bytes
	Throttle r;
	r.set(one(iops_write, 10, 1));
	EXPECT_EQ(r.admit(Op::discard, 1ull << 30, 0), 0u);
	EXPECT_EQ(r.admit(Op::discard, 1ull << 30, 0), 0u);
	EXPECT_NE(r.admit(Op::discard, 1ull << 30, 0), 0u);
	// flushes and barriers are never delayed, even on a disk that must wait
	EXPECT_NE(r.admit(Op::write, 4096, 0), 0u);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(r.admit(Op::other, 0, 0), 0u);
	// and cost nothing
	EXPECT_EQ(r.admit(Op::write, 4096, 200 * ms), 0u);
}

TEST(Throttle, ANewSettingAppliesAtOnce)
{
	Throttle t;
	t.set(one(iops_total, 1, 1));
	EXPECT_EQ(t.admit(Op::read, 512, 0), 0u);
	EXPECT_EQ(t.admit(Op::read, 512, 0), 0u);
	EXPECT_EQ(t.admit(Op::read, 512, 0), 1 * sec);
	t.set(one(iops_total, 1000, 1));
	EXPECT_EQ(t.admit(Op::read, 512, 0), 0u);
	t.set(Limits{});   // removed: full speed
	for (int i = 0; i < 10000; i++)
		ASSERT_EQ(t.admit(Op::read, 512, 0), 0u);
	EXPECT_EQ(t.limits().l[iops_total].rate, 0u);
}

TEST(Throttle, LargeValuesDoNotOverflow)
{
	EXPECT_EQ(cost_ns(1, 1), sec);
	EXPECT_EQ(cost_ns(0, 7), 0u);
	EXPECT_EQ(cost_ns(3, 2), 1500 * ms);
	EXPECT_EQ(cost_ns(max_rate, max_rate), sec);
	EXPECT_EQ(cost_ns(max_rate - 1, max_rate), sec - 1);
	EXPECT_EQ(cost_ns(~0ull, 1), ~0ull);              // saturates
	EXPECT_EQ(cost_ns(~0ull, max_rate), 1844674407370955161ull);
	Throttle t;
	t.set(one(bps_total, 1));   // 1 byte a second, a 4 GiB request
	EXPECT_EQ(t.admit(Op::write, 4ull << 30, ~0ull - 10 * sec), 0u);
	EXPECT_EQ(t.admit(Op::write, 1, ~0ull - 10 * sec), 9 * sec);   // TAT saturated, no wrap
	Throttle m;
	m.set(one(bps_total, max_rate, max_rate * max_burst_seconds));
	EXPECT_EQ(m.tokens(bps_total, 0), max_rate * max_burst_seconds);
	EXPECT_EQ(m.admit(Op::read, 1ull << 40, 0), 0u);
}

TEST(Throttle, TokensShowWhatIsLeft)
{
	Throttle t;
	t.set(one(iops_total, 100, 10));
	EXPECT_EQ(t.tokens(iops_total, 0), 10u);
	EXPECT_EQ(t.admit(Op::read, 512, 0), 0u);
	EXPECT_EQ(t.tokens(iops_total, 0), 9u);
	EXPECT_EQ(t.tokens(iops_total, 5 * sec), 10u);
	EXPECT_EQ(t.tokens(bps_total, 0), ~0ull);   // no limit
}

TEST(Throttle, CheckRefusesOutOfBounds)
{
	Kind k;
	EXPECT_EQ(check(Limits{}, &k), Bad::none);
	EXPECT_EQ(check(one(bps_read, max_rate), &k), Bad::none);
	EXPECT_EQ(check(one(bps_read, max_rate + 1), &k), Bad::rate_too_high);
	EXPECT_EQ(k, bps_read);
	EXPECT_EQ(check(one(iops_write, 10, 600), &k), Bad::none);
	EXPECT_EQ(check(one(iops_write, 10, 60 * 10 + 60), &k), Bad::burst_too_high);
	EXPECT_EQ(k, iops_write);
	EXPECT_STREQ(kind_name(iops_total), "iops");
	EXPECT_STRNE(bad_name(Bad::burst_too_high), "ok");
}

// Two rings admitting concurrently: the rate holds, the burst grows by at
// most one request per racing ring.
TEST(Throttle, RingsRacingKeepTheRate)
{
	Throttle t;
	t.set(one(iops_total, 1000, 10));
	std::atomic<u64> clock{0};
	std::atomic<u64> admitted{0};
	std::atomic<bool> stop{false};
	auto ring = [&] {
		while (!stop.load()) {
			if (t.admit(Op::write, 4096, clock.load()) == 0)
				admitted++;
		}
	};
	std::vector<std::thread> th;
	for (int i = 0; i < 2; i++)
		th.emplace_back(ring);
	for (u64 now = 0; now <= 2 * sec; now += 100000) {   // 0.1 ms steps
		clock.store(now);
		std::this_thread::yield();
		for (int i = 0; i < 200; i++)
			__asm__ volatile("" ::: "memory");
	}
	stop.store(true);
	for (auto& x : th)
		x.join();
	// 2 s at 1000/s, the burst of 10, the first request and at most one per ring
	EXPECT_LE(admitted.load(), 2000u + 10u + 1u + 2u);
}

} // namespace
