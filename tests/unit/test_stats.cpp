// Per-ring statistics and their sum over a device.
#include <gtest/gtest.h>
#include "stats.hpp"

TEST(Stats, LatencyBuckets)
{
	EXPECT_EQ(xb::LatencyHistogram::bucket_of(0), 0u);
	EXPECT_EQ(xb::LatencyHistogram::bucket_of(1999), 0u);       // 1 us
	EXPECT_EQ(xb::LatencyHistogram::bucket_of(2000), 1u);       // 2 us
	EXPECT_EQ(xb::LatencyHistogram::bucket_of(3999), 1u);
	EXPECT_EQ(xb::LatencyHistogram::bucket_of(4000), 2u);
	EXPECT_EQ(xb::LatencyHistogram::bucket_of(1000000), 9u);   // 1 ms = 1000 us, 2^9 <= 1000 < 2^10
	EXPECT_EQ(xb::LatencyHistogram::bucket_of(~0ull), xb::latency_buckets - 1);
}

TEST(Stats, CompleteCountsByStatus)
{
	xb::RingStats r{};
	r.complete(xb::StatOp::write, 8, 0, 5000);
	r.complete(xb::StatOp::write, 8, -1, 5000);
	r.complete(xb::StatOp::flush, 0, -2, 100000);
	const auto& w = r.op[static_cast<unsigned>(xb::StatOp::write)];
	EXPECT_EQ(w.requests, 2u);
	EXPECT_EQ(w.sectors, 8u);   // failed requests transfer nothing
	EXPECT_EQ(w.errors, 1u);
	EXPECT_EQ(r.op[static_cast<unsigned>(xb::StatOp::flush)].unsupported, 1u);
	EXPECT_EQ(r.latency[static_cast<unsigned>(xb::StatOp::write)].total(), 2u);
}

TEST(Stats, DeviceSumsRings)
{
	xb::RingStats a{}, b{};
	a.complete(xb::StatOp::read, 16, 0, 1000);
	b.complete(xb::StatOp::read, 8, 0, 300000);
	a.in_flight = 3;
	b.in_flight = 4;
	b.bad_requests = 1;
	xb::DeviceStats d{};
	d.add(a);
	d.add(b);
	const auto& rd = d.op[static_cast<unsigned>(xb::StatOp::read)];
	EXPECT_EQ(rd.requests, 2u);
	EXPECT_EQ(rd.sectors, 24u);
	EXPECT_EQ(d.in_flight, 7u);
	EXPECT_EQ(d.bad_requests, 1u);
	EXPECT_EQ(d.latency[static_cast<unsigned>(xb::StatOp::read)].bucket[0], 1u);
	EXPECT_EQ(d.latency[static_cast<unsigned>(xb::StatOp::read)].bucket[8], 1u);   // 300 us
}

// one mapping of blkif operations to statistics classes for both drivers
TEST(Stats, StatOfOp)
{
	EXPECT_EQ(xb::stat_of_op(BLKIF_OP_READ), xb::StatOp::read);
	EXPECT_EQ(xb::stat_of_op(BLKIF_OP_WRITE), xb::StatOp::write);
	EXPECT_EQ(xb::stat_of_op(BLKIF_OP_FLUSH_DISKCACHE), xb::StatOp::flush);
	EXPECT_EQ(xb::stat_of_op(BLKIF_OP_WRITE_BARRIER), xb::StatOp::barrier);
	EXPECT_EQ(xb::stat_of_op(BLKIF_OP_DISCARD), xb::StatOp::discard);
	static_assert(xb::stat_of_op(BLKIF_OP_READ) == xb::StatOp::read, "usable at compile time");
}
