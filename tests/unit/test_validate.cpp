// Backend request validation: one accepted and one rejected case per rule,
// and the reason -> response status mapping.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include "validate.hpp"

namespace {

using xb::Reject;

constexpr uint64_t kSectors = 1u << 20;   // 512 MiB

xb::DeviceLimits limits()
{
	xb::DeviceLimits l{};
	l.sectors = kSectors;
	l.logical_block_size = 512;
	l.read_only = false;
	l.discard = true;
	l.secure_discard = true;
	l.flush = true;
	l.barrier = true;
	l.max_indirect_segments = 256;
	return l;
}

xb::DeviceLimits with_lbs(uint32_t lbs)
{
	xb::DeviceLimits l = limits();
	l.logical_block_size = lbs;
	return l;
}

xb::DeviceLimits read_only()
{
	xb::DeviceLimits l = limits();
	l.read_only = true;
	return l;
}

// A direct request with nseg whole-page segments.
xb::Request rw(uint8_t op, uint64_t sector, unsigned nseg, uint8_t first = 0, uint8_t last = 7)
{
	xb::Request q{};
	q.op = op;
	q.kind = xb::request_kind(op);
	q.id = 1;
	q.sector = sector;
	q.nr_segments = uint16_t(nseg);
	for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		q.seg[i] = xb::Segment{ i + 1, first, last };
	return q;
}

xb::Request discard(uint64_t sector, uint64_t n, uint8_t flag = 0)
{
	xb::Request q{};
	q.op = BLKIF_OP_DISCARD;
	q.kind = xb::ReqKind::discard;
	q.sector = sector;
	q.nr_sectors = n;
	q.discard_flag = flag;
	return q;
}

xb::Request indirect(uint8_t iop, uint16_t nseg, uint64_t sector = 0)
{
	xb::Request q{};
	q.op = BLKIF_OP_INDIRECT;
	q.kind = xb::ReqKind::indirect;
	q.indirect_op = iop;
	q.nr_segments = nseg;
	q.sector = sector;
	return q;
}

Reject check(const xb::Request& q, const xb::DeviceLimits& l = limits())
{
	return xb::validate_request(q, l);
}

Reject segs(std::initializer_list<xb::Segment> s, uint64_t sector, bool write,
	    const xb::DeviceLimits& l = limits(), uint64_t* total = nullptr)
{
	return xb::validate_segments(s.begin(), s.size(), sector, write, l, total);
}

TEST(Validate, LimitsMustBeSane)
{
	for (uint32_t lbs : { 512u, 1024u, 2048u, 4096u })
		EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 1), with_lbs(lbs)), Reject::none) << lbs;
	for (uint32_t lbs : { 0u, 256u, 1000u, 8192u }) {
		EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 1), with_lbs(lbs)), Reject::bad_limits) << lbs;
		EXPECT_EQ(segs({ { 1, 0, 7 } }, 0, false, with_lbs(lbs)), Reject::bad_limits) << lbs;
	}
}

TEST(Validate, KnownOpsAccepted)
{
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 1)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE, 0, 1)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE_BARRIER, 0, 1)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 1)), Reject::none);
	EXPECT_EQ(check(discard(0, 8)), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 20)), Reject::none);
}

TEST(Validate, ReservedAndUnknownOpsRejected)
{
	EXPECT_EQ(check(rw(BLKIF_OP_RESERVED_1, 0, 1)), Reject::reserved_op);
	for (unsigned op = 7; op < 256; op++)
		EXPECT_EQ(check(rw(uint8_t(op), 0, 1)), Reject::unknown_op) << op;
	EXPECT_EQ(xb::reject_status(Reject::reserved_op), BLKIF_RSP_EOPNOTSUPP);
	EXPECT_EQ(xb::reject_status(Reject::unknown_op), BLKIF_RSP_EOPNOTSUPP);
}

TEST(Validate, ZeroSegmentsOnlyForFlushAndBarrier)
{
	EXPECT_EQ(check(rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE_BARRIER, 0, 0)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 0)), Reject::no_segments);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE, 0, 0)), Reject::no_segments);
	EXPECT_EQ(segs({}, 0, false), Reject::no_segments);
}

TEST(Validate, AtMostElevenDirectSegments)
{
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 11)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 12)), Reject::too_many_segments);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE, 0, 255)), Reject::too_many_segments);
}

TEST(Validate, FlushAndBarrierNeedTheFeature)
{
	xb::DeviceLimits l = limits();
	l.flush = false;
	EXPECT_EQ(check(rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0), l), Reject::flush_unsupported);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE_BARRIER, 0, 0), l), Reject::none);
	l = limits();
	l.barrier = false;
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE_BARRIER, 0, 1), l), Reject::barrier_unsupported);
	EXPECT_EQ(check(rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 1), l), Reject::none);
	EXPECT_EQ(xb::reject_status(Reject::flush_unsupported), BLKIF_RSP_EOPNOTSUPP);
	EXPECT_EQ(xb::reject_status(Reject::barrier_unsupported), BLKIF_RSP_EOPNOTSUPP);
}

TEST(Validate, IndirectNeedsTheFeature)
{
	xb::DeviceLimits l = limits();
	l.max_indirect_segments = 0;
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 1), l), Reject::indirect_unsupported);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 1)), Reject::none);
	EXPECT_EQ(xb::reject_status(Reject::indirect_unsupported), BLKIF_RSP_EOPNOTSUPP);
}

TEST(Validate, IndirectOpIsReadOrWrite)
{
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 8)), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_WRITE, 8)), Reject::none);
	for (uint8_t iop : { uint8_t(BLKIF_OP_WRITE_BARRIER), uint8_t(BLKIF_OP_FLUSH_DISKCACHE),
			     uint8_t(BLKIF_OP_RESERVED_1), uint8_t(BLKIF_OP_DISCARD),
			     uint8_t(BLKIF_OP_INDIRECT), uint8_t(200) })
		EXPECT_EQ(check(indirect(iop, 8)), Reject::bad_indirect_op) << int(iop);
	EXPECT_EQ(xb::reject_status(Reject::bad_indirect_op), BLKIF_RSP_ERROR);
}

TEST(Validate, IndirectSegmentCountWithinNegotiated)
{
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 1)), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 256)), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 257)), Reject::too_many_segments);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 0)), Reject::no_segments);
}

TEST(Validate, IndirectPagesAtMostEight)
{
	xb::DeviceLimits l = limits();
	l.max_indirect_segments = 65535;   // a limit beyond the protocol's cap
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 4096), l), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 4097), l), Reject::too_many_indirect_pages);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 65535), l), Reject::too_many_indirect_pages);
}

TEST(Validate, IndirectHeaderRangeAndAlignment)
{
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 2, kSectors - 2)), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 2, kSectors - 1)), Reject::out_of_range);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 2, UINT64_MAX)), Reject::sector_overflow);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 2, 8), with_lbs(4096)), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 2, 4), with_lbs(4096)), Reject::misaligned_sector);
	EXPECT_EQ(check(indirect(BLKIF_OP_READ, 2), read_only()), Reject::none);
	EXPECT_EQ(check(indirect(BLKIF_OP_WRITE, 2), read_only()), Reject::read_only);
}

TEST(Validate, SegmentSectorsOrdered)
{
	EXPECT_EQ(segs({ { 1, 3, 3 } }, 0, false), Reject::none);
	EXPECT_EQ(segs({ { 1, 0, 7 } }, 0, false), Reject::none);
	EXPECT_EQ(segs({ { 1, 4, 3 } }, 0, false), Reject::bad_segment);
	EXPECT_EQ(segs({ { 1, 0, 8 } }, 0, false), Reject::bad_segment);
	EXPECT_EQ(segs({ { 1, 0, 7 }, { 2, 255, 255 } }, 0, false), Reject::bad_segment);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 3, 6, 2)), Reject::bad_segment);
}

TEST(Validate, RangeInsideDevice)
{
	uint64_t total = 0;
	EXPECT_EQ(segs({ { 1, 0, 7 }, { 2, 0, 7 } }, kSectors - 16, false, limits(), &total),
		  Reject::none);
	EXPECT_EQ(total, 16u);
	EXPECT_EQ(segs({ { 1, 0, 7 }, { 2, 0, 7 } }, kSectors - 15, false), Reject::out_of_range);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, kSectors - 88, 11)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, kSectors - 87, 11)), Reject::out_of_range);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, kSectors, 1)), Reject::out_of_range);
}

TEST(Validate, RangeMustNotWrap)
{
	xb::DeviceLimits huge = limits();
	huge.sectors = UINT64_MAX;
	EXPECT_EQ(check(rw(BLKIF_OP_READ, UINT64_MAX - 8, 1), huge), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, UINT64_MAX - 7, 1), huge), Reject::sector_overflow);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, UINT64_MAX - 3, 1)), Reject::sector_overflow);
	EXPECT_EQ(check(discard(UINT64_MAX - 8, 8), huge), Reject::none);
	EXPECT_EQ(check(discard(8, UINT64_MAX - 7), huge), Reject::sector_overflow);
}

TEST(Validate, StartSectorAlignedToBlockSize)
{
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 8, 1), with_lbs(4096)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 4, 1), with_lbs(4096)), Reject::misaligned_sector);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 3, 1), with_lbs(1024)), Reject::misaligned_sector);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 3, 1)), Reject::none);   // 512: anything goes
}

TEST(Validate, SegmentsAlignedToBlockSize)
{
	EXPECT_EQ(segs({ { 1, 0, 7 } }, 0, false, with_lbs(4096)), Reject::none);
	EXPECT_EQ(segs({ { 1, 0, 3 } }, 0, false, with_lbs(4096)), Reject::misaligned_segment);
	EXPECT_EQ(segs({ { 1, 4, 7 } }, 0, false, with_lbs(4096)), Reject::misaligned_segment);
	EXPECT_EQ(segs({ { 1, 2, 5 } }, 0, false, with_lbs(1024)), Reject::none);
	EXPECT_EQ(segs({ { 1, 1, 2 } }, 0, false, with_lbs(1024)), Reject::misaligned_segment);
	EXPECT_EQ(segs({ { 1, 2, 2 } }, 0, false, with_lbs(1024)), Reject::misaligned_segment);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 2, 0, 3), with_lbs(2048)), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 2, 2, 5), with_lbs(2048)), Reject::misaligned_segment);
}

TEST(Validate, ReadOnlyRefusesWrites)
{
	EXPECT_EQ(check(rw(BLKIF_OP_READ, 0, 1), read_only()), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE, 0, 1), read_only()), Reject::read_only);
	EXPECT_EQ(segs({ { 1, 0, 7 } }, 0, false, read_only()), Reject::none);
	EXPECT_EQ(segs({ { 1, 0, 7 } }, 0, true, read_only()), Reject::read_only);
}

// Flush and barrier carry data as writes; without data they write nothing and
// are accepted on a read-only device (documented choice).
TEST(Validate, ReadOnlyFlushAndBarrier)
{
	EXPECT_EQ(check(rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0), read_only()), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE_BARRIER, 0, 0), read_only()), Reject::none);
	EXPECT_EQ(check(rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 1), read_only()), Reject::read_only);
	EXPECT_EQ(check(rw(BLKIF_OP_WRITE_BARRIER, 0, 1), read_only()), Reject::read_only);
}

TEST(Validate, DiscardNeedsTheFeature)
{
	xb::DeviceLimits l = limits();
	l.discard = false;
	EXPECT_EQ(check(discard(0, 8), l), Reject::discard_unsupported);
	EXPECT_EQ(check(discard(0, 8)), Reject::none);
	EXPECT_EQ(xb::reject_status(Reject::discard_unsupported), BLKIF_RSP_EOPNOTSUPP);
}

TEST(Validate, SecureDiscardNeedsTheFeature)
{
	xb::DeviceLimits l = limits();
	l.secure_discard = false;
	EXPECT_EQ(check(discard(0, 8, BLKIF_DISCARD_SECURE)), Reject::none);
	EXPECT_EQ(check(discard(0, 8, BLKIF_DISCARD_SECURE), l), Reject::secure_discard_unsupported);
	EXPECT_EQ(check(discard(0, 8, 0), l), Reject::none);
	EXPECT_EQ(xb::reject_status(Reject::secure_discard_unsupported), BLKIF_RSP_EOPNOTSUPP);
}

TEST(Validate, DiscardFlagsKnown)
{
	EXPECT_EQ(check(discard(0, 8, 0)), Reject::none);
	EXPECT_EQ(check(discard(0, 8, 0x02)), Reject::bad_discard_flag);
	EXPECT_EQ(check(discard(0, 8, 0x81)), Reject::bad_discard_flag);
}

TEST(Validate, DiscardOnReadOnlyRefused)
{
	EXPECT_EQ(check(discard(0, 8), read_only()), Reject::read_only);
}

TEST(Validate, DiscardNonEmpty)
{
	EXPECT_EQ(check(discard(0, 1)), Reject::none);
	EXPECT_EQ(check(discard(0, 0)), Reject::discard_empty);
}

TEST(Validate, DiscardAligned)
{
	EXPECT_EQ(check(discard(8, 16), with_lbs(4096)), Reject::none);
	EXPECT_EQ(check(discard(4, 16), with_lbs(4096)), Reject::misaligned_sector);
	EXPECT_EQ(check(discard(8, 12), with_lbs(4096)), Reject::misaligned_length);
}

TEST(Validate, DiscardInsideDevice)
{
	EXPECT_EQ(check(discard(0, kSectors)), Reject::none);
	EXPECT_EQ(check(discard(1, kSectors)), Reject::out_of_range);
	EXPECT_EQ(check(discard(kSectors, 1)), Reject::out_of_range);
}

TEST(Validate, SegmentCountBoundForIndirectPages)
{
	static xb::Segment many[BLKIF_MAX_INDIRECT_SEGMENTS + 1];
	for (auto& s : many)
		s = xb::Segment{ 1, 0, 0 };
	uint64_t total = 0;
	EXPECT_EQ(xb::validate_segments(many, BLKIF_MAX_INDIRECT_SEGMENTS, 0, true, limits(), &total),
		  Reject::none);
	EXPECT_EQ(total, uint64_t(BLKIF_MAX_INDIRECT_SEGMENTS));
	total = 123;
	EXPECT_EQ(xb::validate_segments(many, BLKIF_MAX_INDIRECT_SEGMENTS + 1, 0, true, limits(), &total),
		  Reject::too_many_segments);
	EXPECT_EQ(total, 123u);   // untouched on rejection
}

TEST(Validate, NamesAndStatuses)
{
	std::set<std::string> names;
	const unsigned last = unsigned(Reject::discard_empty);
	for (unsigned i = 0; i <= last; i++) {
		const Reject r = Reject(i);
		const char* n = xb::reject_name(r);
		ASSERT_NE(n, nullptr);
		EXPECT_STRNE(n, "invalid") << i;
		names.insert(n);
		const int16_t st = xb::reject_status(r);
		if (r == Reject::none)
			EXPECT_EQ(st, BLKIF_RSP_OKAY);
		else
			EXPECT_TRUE(st == BLKIF_RSP_ERROR || st == BLKIF_RSP_EOPNOTSUPP) << n;
	}
	EXPECT_EQ(names.size(), last + 1);   // distinct
	EXPECT_STREQ(xb::reject_name(Reject::read_only), "read_only");
	EXPECT_STREQ(xb::reject_name(Reject(last + 1)), "invalid");
	for (Reject r : { Reject::bad_limits, Reject::no_segments, Reject::too_many_segments,
			  Reject::too_many_indirect_pages, Reject::bad_segment,
			  Reject::misaligned_sector, Reject::misaligned_segment,
			  Reject::misaligned_length, Reject::read_only, Reject::sector_overflow,
			  Reject::out_of_range, Reject::bad_discard_flag, Reject::discard_empty })
		EXPECT_EQ(xb::reject_status(r), BLKIF_RSP_ERROR) << xb::reject_name(r);
}

} // namespace
