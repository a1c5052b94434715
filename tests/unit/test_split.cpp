// Frontend request planning: grant pieces, direct/indirect, splitting, flush-mode
// mapping and discard trimming.
#include <gtest/gtest.h>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>
#include "split.hpp"

namespace {

using xb::BlockOp;
using xb::DataSegment;
using xb::FlushMode;

constexpr uint64_t kSectorEnd = UINT64_MAX >> 9;   // first sector not addressable

struct Planned {
	int err = 0;
	xb::Plan plan;
	std::vector<xb::WireRequest> reqs;
	std::vector<xb::GrantPiece> pieces;
};

Planned plan(const xb::BlockRequest& rq, const xb::SplitLimits& lim, size_t max_reqs = 64,
	     size_t max_pieces = 20000)
{
	Planned p;
	p.reqs.resize(max_reqs);
	p.pieces.resize(max_pieces);
	p.err = xb::plan_request(rq, lim, {p.reqs.data(), p.reqs.size()},
				 {p.pieces.data(), p.pieces.size()}, &p.plan);
	p.reqs.resize(p.plan.nr_reqs);
	p.pieces.resize(p.plan.nr_pieces);
	return p;
}

uint64_t total_sectors(const std::vector<DataSegment>& segs)
{
	uint64_t n = 0;
	for (const DataSegment& s : segs)
		n += s.len / 512;
	return n;
}

xb::BlockRequest data_rq(BlockOp op, uint64_t sector, const std::vector<DataSegment>& segs)
{
	xb::BlockRequest rq;
	rq.op = op;
	rq.sector = sector;
	rq.nr_sectors = total_sectors(segs);
	rq.segs = {segs.data(), segs.size()};
	return rq;
}

xb::SplitLimits lim_with(uint32_t indirect, FlushMode mode = FlushMode::flush, bool wc = true)
{
	xb::SplitLimits l;
	l.max_indirect_segments = indirect;
	l.flush = mode;
	l.write_cache = wc;
	return l;
}

// n whole pages, each in its own non-contiguous frame
std::vector<DataSegment> pages(size_t n, uint64_t base = 0x100000)
{
	std::vector<DataSegment> v;
	for (size_t i = 0; i < n; i++)
		v.push_back({base + i * 0x2000, 4096});
	return v;
}

// The invariants of every data plan: requests in order and sector-contiguous,
// pieces valid and, concatenated, exactly the segments' bytes.
void check_data_plan(const Planned& p, const xb::BlockRequest& rq, const xb::SplitLimits& lim,
		     uint8_t op)
{
	ASSERT_EQ(p.err, 0);
	ASSERT_FALSE(p.plan.complete_now());
	uint64_t sector = rq.sector;
	uint32_t bs = lim.sector_size / 512;
	size_t next_piece = 0;
	std::vector<std::pair<uint64_t, uint64_t>> bytes;   // merged (addr, len)
	for (const xb::WireRequest& w : p.reqs) {
		EXPECT_EQ(w.operation, op);
		EXPECT_EQ(w.sector, sector);
		EXPECT_EQ(w.first_piece, next_piece);
		EXPECT_GE(w.nr_pieces, 1u);
		EXPECT_LE(w.nr_pieces, xb::max_pieces(lim, op));
		EXPECT_EQ(w.indirect, w.nr_pieces > 11);
		EXPECT_EQ(w.nr_indirect_pages, w.indirect ? (w.nr_pieces + 511) / 512 : 0u);
		EXPECT_EQ(w.discard_flag, 0);
		EXPECT_EQ(w.nr_sectors % bs, 0u);
		uint64_t n = 0;
		for (uint32_t i = 0; i < w.nr_pieces; i++) {
			const xb::GrantPiece& g = p.pieces[w.first_piece + i];
			EXPECT_LE(g.first_sect, g.last_sect);
			EXPECT_LE(g.last_sect, 7);
			uint64_t addr = (g.frame << 12) + g.first_sect * 512u;
			uint64_t len = (g.last_sect - g.first_sect + 1u) * 512u;
			n += len / 512;
			if (!bytes.empty() && bytes.back().first + bytes.back().second == addr)
				bytes.back().second += len;
			else
				bytes.push_back({addr, len});
		}
		EXPECT_EQ(n, w.nr_sectors);
		sector += w.nr_sectors;
		next_piece += w.nr_pieces;
	}
	EXPECT_EQ(next_piece, p.plan.nr_pieces);
	EXPECT_EQ(sector, rq.sector + rq.nr_sectors);
	// the segments, merged the same way
	std::vector<std::pair<uint64_t, uint64_t>> want;
	for (const DataSegment& s : rq.segs) {
		if (!want.empty() && want.back().first + want.back().second == s.addr)
			want.back().second += s.len;
		else
			want.push_back({s.addr, s.len});
	}
	EXPECT_EQ(bytes, want);
}

// ---- pieces, direct and indirect --------------------------------------------------------

TEST(SplitData, OnePage)
{
	auto segs = pages(1);
	auto rq = data_rq(BlockOp::read, 100, segs);
	Planned p = plan(rq, lim_with(0));
	check_data_plan(p, rq, lim_with(0), BLKIF_OP_READ);
	ASSERT_EQ(p.reqs.size(), 1u);
	EXPECT_EQ(p.pieces[0].frame, 0x100u);
	EXPECT_EQ(p.pieces[0].first_sect, 0);
	EXPECT_EQ(p.pieces[0].last_sect, 7);
	EXPECT_EQ(p.reqs[0].nr_sectors, 8u);
}

TEST(SplitData, DirectBoundary)
{
	for (uint32_t indirect : {0u, 11u}) {   // no indirect, or a useless maximum
		auto segs = pages(11);
		auto rq = data_rq(BlockOp::write, 0, segs);
		Planned p = plan(rq, lim_with(indirect));
		check_data_plan(p, rq, lim_with(indirect), BLKIF_OP_WRITE);
		ASSERT_EQ(p.reqs.size(), 1u);
		EXPECT_FALSE(p.reqs[0].indirect);

		segs = pages(12);
		rq = data_rq(BlockOp::write, 0, segs);
		p = plan(rq, lim_with(indirect));
		check_data_plan(p, rq, lim_with(indirect), BLKIF_OP_WRITE);
		ASSERT_EQ(p.reqs.size(), 2u);
		EXPECT_EQ(p.reqs[0].nr_pieces, 11u);
		EXPECT_EQ(p.reqs[1].nr_pieces, 1u);
		EXPECT_EQ(p.reqs[1].sector, 88u);
	}
	auto segs = pages(12);
	auto rq = data_rq(BlockOp::write, 0, segs);
	Planned p = plan(rq, lim_with(32));
	check_data_plan(p, rq, lim_with(32), BLKIF_OP_WRITE);
	ASSERT_EQ(p.reqs.size(), 1u);
	EXPECT_TRUE(p.reqs[0].indirect);
	EXPECT_EQ(p.reqs[0].nr_indirect_pages, 1);
}

struct IndirectCase {
	size_t pieces;
	uint32_t max_indirect;
	std::vector<uint32_t> per_request;
	std::vector<uint8_t> indirect_pages;
};

class SplitIndirect : public ::testing::TestWithParam<IndirectCase> {};

TEST_P(SplitIndirect, Boundaries)
{
	const IndirectCase& ic = GetParam();
	auto segs = pages(ic.pieces);
	auto rq = data_rq(BlockOp::read, 8, segs);
	Planned p = plan(rq, lim_with(ic.max_indirect));
	check_data_plan(p, rq, lim_with(ic.max_indirect), BLKIF_OP_READ);
	ASSERT_EQ(p.reqs.size(), ic.per_request.size());
	for (size_t i = 0; i < p.reqs.size(); i++) {
		EXPECT_EQ(p.reqs[i].nr_pieces, ic.per_request[i]) << i;
		EXPECT_EQ(p.reqs[i].nr_indirect_pages, ic.indirect_pages[i]) << i;
	}
}

INSTANTIATE_TEST_SUITE_P(
	All, SplitIndirect,
	::testing::Values(IndirectCase{512, 512, {512}, {1}},
			  IndirectCase{513, 512, {512, 1}, {1, 0}},
			  IndirectCase{513, 4096, {513}, {2}},
			  IndirectCase{524, 512, {512, 12}, {1, 1}},
			  IndirectCase{4096, 4096, {4096}, {8}},
			  IndirectCase{4097, 4096, {4096, 1}, {8, 0}},
			  IndirectCase{4097, 100000, {4096, 1}, {8, 0}},
			  IndirectCase{300, 256, {256, 44}, {1, 1}},
			  IndirectCase{30, 12, {12, 12, 6}, {1, 1, 0}}));

TEST(SplitData, SegmentsSpanningPages)
{
	// 64 KiB physically contiguous, page aligned: 16 whole pieces
	std::vector<DataSegment> segs{{0x200000, 65536}};
	auto rq = data_rq(BlockOp::write, 0, segs);
	Planned p = plan(rq, lim_with(32));
	check_data_plan(p, rq, lim_with(32), BLKIF_OP_WRITE);
	ASSERT_EQ(p.pieces.size(), 16u);
	for (size_t i = 0; i < 16; i++) {
		EXPECT_EQ(p.pieces[i].frame, 0x200u + i);
		EXPECT_EQ(p.pieces[i].first_sect, 0);
		EXPECT_EQ(p.pieces[i].last_sect, 7);
	}

	// 8 KiB starting 512 bytes into a page: 7 + 8 + 1 sectors
	segs = {{0x300200, 8192}};
	rq = data_rq(BlockOp::read, 0, segs);
	p = plan(rq, lim_with(0));
	check_data_plan(p, rq, lim_with(0), BLKIF_OP_READ);
	ASSERT_EQ(p.pieces.size(), 3u);
	EXPECT_EQ(p.pieces[0].frame, 0x300u);
	EXPECT_EQ(p.pieces[0].first_sect, 1);
	EXPECT_EQ(p.pieces[0].last_sect, 7);
	EXPECT_EQ(p.pieces[1].frame, 0x301u);
	EXPECT_EQ(p.pieces[1].first_sect, 0);
	EXPECT_EQ(p.pieces[1].last_sect, 7);
	EXPECT_EQ(p.pieces[2].frame, 0x302u);
	EXPECT_EQ(p.pieces[2].first_sect, 0);
	EXPECT_EQ(p.pieces[2].last_sect, 0);
}

TEST(SplitData, UnalignedOffsetsWithinPages)
{
	// several small segments in the same and in different pages
	std::vector<DataSegment> segs{{0x1000 + 512, 1024}, {0x1000 + 3072, 1024},
				      {0x5000 + 3584, 1024}, {0x9000, 512}};
	auto rq = data_rq(BlockOp::write, 40, segs);
	Planned p = plan(rq, lim_with(0));
	check_data_plan(p, rq, lim_with(0), BLKIF_OP_WRITE);
	ASSERT_EQ(p.pieces.size(), 5u);   // the third crosses a page
	EXPECT_EQ(p.pieces[0].first_sect, 1);
	EXPECT_EQ(p.pieces[0].last_sect, 2);
	EXPECT_EQ(p.pieces[1].first_sect, 6);
	EXPECT_EQ(p.pieces[1].last_sect, 7);
	EXPECT_EQ(p.pieces[2].frame, 0x5u);
	EXPECT_EQ(p.pieces[2].first_sect, 7);
	EXPECT_EQ(p.pieces[2].last_sect, 7);
	EXPECT_EQ(p.pieces[3].frame, 0x6u);
	EXPECT_EQ(p.pieces[3].first_sect, 0);
	EXPECT_EQ(p.pieces[3].last_sect, 0);
	EXPECT_EQ(p.pieces[4].frame, 0x9u);
}

TEST(SplitData, LargeSectorsCutOnBlockBoundaries)
{
	// 4 KiB logical sectors, buffer starting 512 bytes into a page: pieces of
	// 7, 8, 8, ... sectors; every request must still be whole 4 KiB blocks.
	std::vector<DataSegment> segs{{0x400200, 40 * 4096}};
	xb::SplitLimits lim = lim_with(0);
	lim.sector_size = 4096;
	auto rq = data_rq(BlockOp::write, 64, segs);
	Planned p = plan(rq, lim);
	check_data_plan(p, rq, lim, BLKIF_OP_WRITE);
	EXPECT_GT(p.reqs.size(), 3u);
	EXPECT_EQ(p.reqs[0].nr_sectors, 80u);   // 87 reachable, cut to 10 blocks

	rq.sector = 65;   // not on a 4 KiB block
	EXPECT_EQ(plan(rq, lim).err, -EINVAL);
	segs = {{0x400000, 4096 + 512}};   // not whole blocks
	rq = data_rq(BlockOp::write, 64, segs);
	EXPECT_EQ(plan(rq, lim).err, -EINVAL);
}

TEST(SplitData, ContinuityAcrossManyShapes)
{
	uint64_t seed = 12345;
	auto next = [&seed](uint64_t mod) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		return (seed >> 33) % mod;
	};
	for (int round = 0; round < 60; round++) {
		std::vector<DataSegment> segs;
		size_t n = 1 + next(40);
		uint64_t addr = 0x10000000 + next(1 << 20) * 512;
		for (size_t i = 0; i < n; i++) {
			uint32_t len = static_cast<uint32_t>((1 + next(40)) * 512);
			segs.push_back({addr, len});
			addr += len + (next(2) ? 0 : next(64) * 512);   // sometimes contiguous
		}
		xb::SplitLimits lim = lim_with(round % 3 == 0 ? 0 : 12 + next(40));
		auto rq = data_rq(round % 2 ? BlockOp::read : BlockOp::write, next(1u << 30), segs);
		Planned p = plan(rq, lim, 256, 4096);
		check_data_plan(p, rq, lim, round % 2 ? BLKIF_OP_READ : BLKIF_OP_WRITE);
	}
}

TEST(SplitData, InvalidInput)
{
	xb::SplitLimits lim = lim_with(0);
	std::vector<std::vector<DataSegment>> bad{
		{},                                      // no data
		{{0x1000, 0}},                           // zero length
		{{0x1000, 100}},                         // not whole sectors
		{{0x1000 + 256, 4096}},                  // not sector aligned
		{{0x1000, 512}, {0x2001, 512}},          // unaligned second segment
		{{UINT64_MAX - 511, 1024}},              // address wraps
	};
	for (const auto& segs : bad) {
		auto rq = data_rq(BlockOp::write, 0, segs);
		EXPECT_EQ(plan(rq, lim).err, -EINVAL);
	}
	auto segs = pages(2);
	auto rq = data_rq(BlockOp::read, 0, segs);
	rq.nr_sectors = 15;                            // disagrees with the segments
	EXPECT_EQ(plan(rq, lim).err, -EINVAL);
	rq.nr_sectors = 16;
	rq.sector = kSectorEnd - 16;                   // ends exactly at the limit: fine
	EXPECT_EQ(plan(rq, lim).err, 0);
	rq.sector = kSectorEnd - 15;
	EXPECT_EQ(plan(rq, lim).err, -EOVERFLOW);
	rq.sector = UINT64_MAX - 4;                    // wraps
	EXPECT_EQ(plan(rq, lim).err, -EOVERFLOW);
	rq.sector = 0;
	lim.sector_size = 1024 + 512;
	EXPECT_EQ(plan(rq, lim).err, -EINVAL);
}

TEST(SplitData, CallerArraysTooSmall)
{
	auto segs = pages(12);
	auto rq = data_rq(BlockOp::read, 0, segs);
	EXPECT_EQ(plan(rq, lim_with(0), 1).err, -ENOSPC);      // needs 2 requests
	EXPECT_EQ(plan(rq, lim_with(0), 2, 11).err, -ENOSPC);  // needs 12 pieces
	Planned p = plan(rq, lim_with(0), 2, 12);
	EXPECT_EQ(p.err, 0);
	EXPECT_EQ(p.plan.nr_reqs, 2u);
	p = plan(rq, lim_with(0), 1, 12);
	EXPECT_EQ(p.plan.nr_reqs, 0u) << "plan cleared on error";
}

// ---- flush modes x operations x flags ---------------------------------------------------

enum class Mode { none_wt, none_wc, barrier, flush };
constexpr int kNow = 1000;   // expected: complete immediately

struct FlushCase {
	Mode mode;
	BlockOp op;
	bool fua, preflush;
	int expect;              // blkif op, kNow, or -errno
};

std::string mode_name(Mode m)
{
	switch (m) {
	case Mode::none_wt: return "none_wt";
	case Mode::none_wc: return "none_wc";
	case Mode::barrier: return "barrier";
	case Mode::flush: return "flush";
	}
	return "?";
}

class FlushMatrix : public ::testing::TestWithParam<FlushCase> {};

TEST_P(FlushMatrix, Operation)
{
	const FlushCase& fc = GetParam();
	xb::SplitLimits lim;
	lim.max_indirect_segments = 64;
	lim.flush = fc.mode == Mode::flush ? FlushMode::flush
		  : fc.mode == Mode::barrier ? FlushMode::barrier : FlushMode::none;
	lim.write_cache = fc.mode != Mode::none_wt;
	auto segs = pages(fc.op == BlockOp::flush ? 0 : 2);
	auto rq = data_rq(fc.op, 16, segs);
	rq.fua = fc.fua;
	rq.preflush = fc.preflush;
	Planned p = plan(rq, lim);
	if (fc.expect < 0) {
		EXPECT_EQ(p.err, fc.expect);
		return;
	}
	ASSERT_EQ(p.err, 0);
	if (fc.expect == kNow) {
		EXPECT_TRUE(p.plan.complete_now());
		return;
	}
	ASSERT_EQ(p.reqs.size(), 1u);
	EXPECT_EQ(p.reqs[0].operation, fc.expect);
	EXPECT_FALSE(p.reqs[0].indirect);
	if (fc.op == BlockOp::flush) {
		EXPECT_EQ(p.reqs[0].nr_pieces, 0u);
		EXPECT_EQ(p.reqs[0].nr_sectors, 0u);
	} else {
		check_data_plan(p, rq, lim, static_cast<uint8_t>(fc.expect));
	}
}

std::vector<FlushCase> flush_matrix()
{
	const int R = BLKIF_OP_READ, W = BLKIF_OP_WRITE, B = BLKIF_OP_WRITE_BARRIER,
		  F = BLKIF_OP_FLUSH_DISKCACHE, NOTSUP = -EOPNOTSUPP, INVAL = -EINVAL;
	std::vector<FlushCase> v;
	for (Mode m : {Mode::none_wt, Mode::none_wc, Mode::barrier, Mode::flush}) {
		bool wc = m != Mode::none_wt;
		int pre = m == Mode::flush ? F : m == Mode::barrier ? B : wc ? NOTSUP : W;
		int fua = m == Mode::barrier ? B : NOTSUP;
		int flush = m == Mode::flush ? F : m == Mode::barrier ? B : wc ? NOTSUP : kNow;
		// read: flags make no sense
		v.push_back({m, BlockOp::read, false, false, R});
		v.push_back({m, BlockOp::read, true, false, INVAL});
		v.push_back({m, BlockOp::read, false, true, INVAL});
		v.push_back({m, BlockOp::read, true, true, INVAL});
		// write
		v.push_back({m, BlockOp::write, false, false, W});
		v.push_back({m, BlockOp::write, false, true, pre});
		v.push_back({m, BlockOp::write, true, false, fua});
		v.push_back({m, BlockOp::write, true, true, fua});
		// flush without data (preflush is implied by it)
		v.push_back({m, BlockOp::flush, false, false, flush});
		v.push_back({m, BlockOp::flush, false, true, flush});
		v.push_back({m, BlockOp::flush, true, false, INVAL});
		v.push_back({m, BlockOp::flush, true, true, INVAL});
	}
	return v;
}

std::string flush_case_name(const ::testing::TestParamInfo<FlushCase>& i)
{
	const char* ops[] = {"read", "write", "flush", "discard", "secure"};
	return mode_name(i.param.mode) + "_" + ops[static_cast<int>(i.param.op)] +
	       (i.param.fua ? "_fua" : "") + (i.param.preflush ? "_preflush" : "");
}

INSTANTIATE_TEST_SUITE_P(All, FlushMatrix, ::testing::ValuesIn(flush_matrix()), flush_case_name);

TEST(FlushMatrix, FlushWithDataIsInvalid)
{
	auto segs = pages(1);
	auto rq = data_rq(BlockOp::flush, 0, segs);
	EXPECT_EQ(plan(rq, lim_with(0)).err, -EINVAL);
	rq.segs = {};
	EXPECT_EQ(plan(rq, lim_with(0)).err, -EINVAL);   // nr_sectors still 8
}

TEST(FlushMatrix, OrderedWritesStayDirect)
{
	// barrier / flush with data cannot be indirect: split at 11, same op each
	for (FlushMode m : {FlushMode::barrier, FlushMode::flush}) {
		auto segs = pages(30);
		auto rq = data_rq(BlockOp::write, 0, segs);
		rq.preflush = true;
		rq.fua = m == FlushMode::barrier;
		xb::SplitLimits lim = lim_with(4096, m);
		uint8_t op = m == FlushMode::barrier ? BLKIF_OP_WRITE_BARRIER
						     : BLKIF_OP_FLUSH_DISKCACHE;
		EXPECT_EQ(xb::max_pieces(lim, op), 11u);
		Planned p = plan(rq, lim);
		check_data_plan(p, rq, lim, op);
		ASSERT_EQ(p.reqs.size(), 3u);
		EXPECT_EQ(p.reqs[2].nr_pieces, 8u);
	}
}

// ---- discard ------------------------------------------------------------------------------

xb::BlockRequest discard_rq(uint64_t sector, uint64_t n, bool secure = false)
{
	xb::BlockRequest rq;
	rq.op = secure ? BlockOp::secure_erase : BlockOp::discard;
	rq.sector = sector;
	rq.nr_sectors = n;
	return rq;
}

xb::SplitLimits discard_lim(uint32_t gran_sectors, uint32_t align_sectors, uint64_t max = 0,
			    bool secure = true)
{
	xb::SplitLimits l;
	l.discard = true;
	l.discard_secure = secure;
	l.discard_granularity = gran_sectors * 512;
	l.discard_alignment = align_sectors * 512;
	l.max_discard_sectors = max;
	return l;
}

struct DiscardCase {
	const char* name;
	uint32_t gran, align;      // sectors
	uint64_t max;
	uint64_t sector, count;
	std::vector<std::pair<uint64_t, uint64_t>> want;   // (sector, count) per request
};

class DiscardSplit : public ::testing::TestWithParam<DiscardCase> {};

TEST_P(DiscardSplit, TrimsNeverWidens)
{
	const DiscardCase& dc = GetParam();
	Planned p = plan(discard_rq(dc.sector, dc.count), discard_lim(dc.gran, dc.align, dc.max),
			 64, 0);
	ASSERT_EQ(p.err, 0);
	std::vector<std::pair<uint64_t, uint64_t>> got;
	for (const xb::WireRequest& w : p.reqs) {
		EXPECT_EQ(w.operation, BLKIF_OP_DISCARD);
		EXPECT_EQ(w.discard_flag, 0);
		EXPECT_EQ(w.nr_pieces, 0u);
		EXPECT_FALSE(w.indirect);
		EXPECT_GE(w.sector, dc.sector);
		EXPECT_LE(w.sector + w.nr_sectors, dc.sector + dc.count);
		got.push_back({w.sector, w.nr_sectors});
	}
	EXPECT_EQ(got, dc.want);
	EXPECT_EQ(p.plan.complete_now(), dc.want.empty());
}

INSTANTIATE_TEST_SUITE_P(
	All, DiscardSplit,
	::testing::Values(
		DiscardCase{"exact", 8, 0, 0, 8, 16, {{8, 16}}},
		DiscardCase{"unaligned_head", 8, 0, 0, 5, 19, {{8, 16}}},
		DiscardCase{"unaligned_tail", 8, 0, 0, 8, 22, {{8, 16}}},
		DiscardCase{"both_ends", 8, 0, 0, 3, 27, {{8, 16}}},
		DiscardCase{"inside_one_extent", 8, 0, 0, 9, 6, {}},
		DiscardCase{"straddles_no_whole_extent", 8, 0, 0, 5, 7, {}},
		DiscardCase{"one_sector", 8, 0, 0, 16, 1, {}},
		DiscardCase{"sector_granularity", 1, 0, 0, 3, 5, {{3, 5}}},
		DiscardCase{"alignment", 8, 2, 0, 0, 20, {{2, 16}}},
		DiscardCase{"alignment_head_only", 8, 2, 0, 0, 2, {}},
		DiscardCase{"alignment_beyond_granularity", 8, 10, 0, 0, 20, {{2, 16}}},
		DiscardCase{"odd_granularity", 3, 1, 0, 0, 11, {{1, 9}}},
		DiscardCase{"chunked", 8, 0, 20, 0, 64, {{0, 16}, {16, 16}, {32, 16}, {48, 16}}},
		DiscardCase{"chunked_trimmed", 8, 0, 16, 4, 40, {{8, 16}, {24, 16}}},
		DiscardCase{"near_end", 8, 0, 0, kSectorEnd - 100, 100,
			    {{(kSectorEnd - 100 + 7) & ~7ull, ((kSectorEnd & ~7ull) -
							       ((kSectorEnd - 100 + 7) & ~7ull))}}},
		DiscardCase{"huge", 8, 0, 0, 1, kSectorEnd - 1, {{8, (kSectorEnd & ~7ull) - 8}}},
		DiscardCase{"huge_chunked", 4096, 0, 1ull << 53, 0, kSectorEnd,
			    {{0, 1ull << 53}, {1ull << 53, 1ull << 53}, {2ull << 53, 1ull << 53},
			     {3ull << 53, (kSectorEnd & ~4095ull) - (3ull << 53)}}}),
	[](const ::testing::TestParamInfo<DiscardCase>& i) { return std::string(i.param.name); });

TEST(Discard, Errors)
{
	xb::SplitLimits lim = discard_lim(8, 0);
	EXPECT_EQ(plan(discard_rq(0, 0), lim).err, -EINVAL);           // empty
	EXPECT_EQ(plan(discard_rq(UINT64_MAX - 3, 8), lim).err, -EOVERFLOW);
	EXPECT_EQ(plan(discard_rq(0, UINT64_MAX), lim).err, -EOVERFLOW);
	EXPECT_EQ(plan(discard_rq(kSectorEnd, 1), lim).err, -EOVERFLOW);
	xb::BlockRequest rq = discard_rq(0, 8);
	rq.fua = true;
	EXPECT_EQ(plan(rq, lim).err, -EINVAL);
	rq = discard_rq(0, 8);
	auto segs = pages(1);
	rq.segs = {segs.data(), segs.size()};
	EXPECT_EQ(plan(rq, lim).err, -EINVAL);
	lim.discard = false;
	EXPECT_EQ(plan(discard_rq(0, 8), lim).err, -EOPNOTSUPP);
	lim = discard_lim(8, 0, 7);                                      // below one extent
	EXPECT_EQ(plan(discard_rq(0, 8), lim).err, -EINVAL);
	lim = discard_lim(8, 0);
	lim.discard_granularity = 0;
	EXPECT_EQ(plan(discard_rq(0, 8), lim).err, -EINVAL);
	lim = discard_lim(8, 0);
	lim.sector_size = 4096;
	lim.discard_alignment = 512;                                     // not a 4 KiB block
	EXPECT_EQ(plan(discard_rq(0, 8), lim).err, -EINVAL);
	lim = discard_lim(8, 0, 8);
	EXPECT_EQ(plan(discard_rq(0, 64), lim, 7, 0).err, -ENOSPC);      // needs 8 requests
}

// ---- secure erase ---------------------------------------------------------------------------

TEST(SecureErase, ExactOrError)
{
	xb::SplitLimits lim = discard_lim(8, 0);
	Planned p = plan(discard_rq(16, 32, true), lim, 64, 0);
	ASSERT_EQ(p.err, 0);
	ASSERT_EQ(p.reqs.size(), 1u);
	EXPECT_EQ(p.reqs[0].operation, BLKIF_OP_DISCARD);
	EXPECT_EQ(p.reqs[0].discard_flag, int{BLKIF_DISCARD_SECURE});
	EXPECT_EQ(p.reqs[0].sector, 16u);
	EXPECT_EQ(p.reqs[0].nr_sectors, 32u);

	EXPECT_EQ(plan(discard_rq(17, 31, true), lim).err, -EINVAL);    // head
	EXPECT_EQ(plan(discard_rq(16, 30, true), lim).err, -EINVAL);    // tail
	EXPECT_EQ(plan(discard_rq(17, 3, true), lim).err, -EINVAL);     // within one extent
	EXPECT_EQ(plan(discard_rq(0, 0, true), lim).err, -EINVAL);
	lim = discard_lim(8, 2);
	EXPECT_EQ(plan(discard_rq(0, 10, true), lim).err, -EINVAL);     // [0,2) partial
	EXPECT_EQ(plan(discard_rq(2, 16, true), lim).err, 0);

	lim = discard_lim(8, 0, 0, false);
	EXPECT_EQ(plan(discard_rq(16, 32, true), lim).err, -EOPNOTSUPP);
	lim = discard_lim(8, 0);
	lim.discard = false;
	EXPECT_EQ(plan(discard_rq(16, 32, true), lim).err, -EOPNOTSUPP);
}

TEST(SecureErase, ChunksCoverExactly)
{
	xb::SplitLimits lim = discard_lim(8, 0, 20);
	Planned p = plan(discard_rq(8, 56, true), lim, 64, 0);
	ASSERT_EQ(p.err, 0);
	uint64_t s = 8;
	for (const xb::WireRequest& w : p.reqs) {
		EXPECT_EQ(w.discard_flag, int{BLKIF_DISCARD_SECURE});
		EXPECT_EQ(w.sector, s);
		EXPECT_EQ(w.nr_sectors % 8, 0u);
		EXPECT_LE(w.nr_sectors, 20u);
		s += w.nr_sectors;
	}
	EXPECT_EQ(s, 64u);
	EXPECT_EQ(p.reqs.size(), 4u);
}

// ---- limits from negotiation ------------------------------------------------------------------

TEST(SplitLimits, FromNegotiatedConfig)
{
	xb::NegotiatedConfig c;
	c.flush = FlushMode::barrier;
	c.write_cache = true;
	c.sector_size = 4096;
	c.max_indirect_segments = 256;
	c.discard = true;
	c.discard_secure = true;
	c.discard_granularity = 65536;
	c.discard_alignment = 8192;
	xb::SplitLimits l = xb::split_limits(c, 1u << 20);
	EXPECT_EQ(l.flush, FlushMode::barrier);
	EXPECT_TRUE(l.write_cache);
	EXPECT_EQ(l.sector_size, 4096u);
	EXPECT_EQ(l.max_indirect_segments, 256u);
	EXPECT_TRUE(l.discard);
	EXPECT_TRUE(l.discard_secure);
	EXPECT_EQ(l.discard_granularity, 65536u);
	EXPECT_EQ(l.discard_alignment, 8192u);
	EXPECT_EQ(l.max_discard_sectors, 1u << 20);
	EXPECT_EQ(xb::max_pieces(l, BLKIF_OP_READ), 256u);
	EXPECT_EQ(xb::max_pieces(l, BLKIF_OP_WRITE_BARRIER), 11u);
	EXPECT_EQ(xb::max_pieces(l, BLKIF_OP_FLUSH_DISKCACHE), 11u);
}

} // namespace
