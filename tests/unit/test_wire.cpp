// Request/response codec: wire offsets of both layouts, round trips, single
// copy of shared memory, and no stale or uninitialised byte on encode.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "wire.hpp"

namespace {

using xb::Abi;

// Byte offsets inside a request, written out by hand from the Xen layouts
// (independent of the C structs the codec uses).
struct Offsets {
	Abi abi;
	size_t id, sector, seg, ind_handle, ind_grefs, nr_sectors, rsp_op, rsp_status, entry, rsp;
};
const Offsets kLayouts[] = {
	{ Abi::x86_64, 8, 16, 24, 24, 28, 24, 8, 10, 112, 16 },
	{ Abi::x86_32, 4, 12, 20, 20, 24, 20, 8, 10, 108, 12 },
};

const char* name(Abi a) { return a == Abi::x86_32 ? "x86_32" : "x86_64"; }

template <class T> T get(const std::vector<uint8_t>& b, size_t off)
{
	T v;
	std::memcpy(&v, b.data() + off, sizeof v);
	return v;
}

// A slot with guard bytes after the entry, pre-filled with 0xAA.
std::vector<uint8_t> dirty_slot(const Offsets& l) { return std::vector<uint8_t>(l.entry + 16, 0xAA); }

void expect_guard_intact(const std::vector<uint8_t>& b, const Offsets& l)
{
	for (size_t i = l.entry; i < b.size(); i++)
		EXPECT_EQ(b[i], 0xAA) << "wrote past the entry at " << i;
}

TEST(Wire, RequestKindAndIndirectPages)
{
	EXPECT_EQ(xb::request_kind(BLKIF_OP_READ), xb::ReqKind::rw);
	EXPECT_EQ(xb::request_kind(BLKIF_OP_WRITE), xb::ReqKind::rw);
	EXPECT_EQ(xb::request_kind(BLKIF_OP_WRITE_BARRIER), xb::ReqKind::rw);
	EXPECT_EQ(xb::request_kind(BLKIF_OP_FLUSH_DISKCACHE), xb::ReqKind::rw);
	EXPECT_EQ(xb::request_kind(BLKIF_OP_RESERVED_1), xb::ReqKind::other);
	EXPECT_EQ(xb::request_kind(BLKIF_OP_DISCARD), xb::ReqKind::discard);
	EXPECT_EQ(xb::request_kind(BLKIF_OP_INDIRECT), xb::ReqKind::indirect);
	EXPECT_EQ(xb::request_kind(7), xb::ReqKind::other);
	EXPECT_EQ(xb::request_kind(255), xb::ReqKind::other);
	EXPECT_EQ(xb::indirect_pages(0), 0u);
	EXPECT_EQ(xb::indirect_pages(1), 1u);
	EXPECT_EQ(xb::indirect_pages(512), 1u);
	EXPECT_EQ(xb::indirect_pages(513), 2u);
	EXPECT_EQ(xb::indirect_pages(4096), 8u);
	EXPECT_EQ(xb::indirect_pages(4097), 9u);
}

TEST(Wire, RwLayoutAndRoundTrip)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		xb::Request q{};
		q.op = BLKIF_OP_WRITE;
		q.nr_segments = 3;
		q.handle = 0x1234;
		q.id = 0x1122334455667788ull;
		q.sector = 0x0102030405060708ull;
		for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
			q.seg[i] = xb::Segment{ 0x10203000u + i, uint8_t(i % 8), 7 };
		auto b = dirty_slot(l);
		ASSERT_TRUE(xb::encode_request(l.abi, q, b.data()));
		expect_guard_intact(b, l);
		EXPECT_EQ(b[0], BLKIF_OP_WRITE);
		EXPECT_EQ(b[1], 3);
		EXPECT_EQ(get<uint16_t>(b, 2), 0x1234);
		EXPECT_EQ(get<uint64_t>(b, l.id), q.id);
		EXPECT_EQ(get<uint64_t>(b, l.sector), q.sector);
		for (unsigned i = 0; i < 3; i++) {
			EXPECT_EQ(get<uint32_t>(b, l.seg + 8 * i), q.seg[i].gref);
			EXPECT_EQ(b[l.seg + 8 * i + 4], q.seg[i].first_sect);
			EXPECT_EQ(b[l.seg + 8 * i + 5], 7);
			EXPECT_EQ(get<uint16_t>(b, l.seg + 8 * i + 6), 0);   // segment padding
		}
		for (size_t i = l.seg + 3 * 8; i < l.entry; i++)   // segments beyond nr
			ASSERT_EQ(b[i], 0) << "byte " << i;
		if (l.abi == Abi::x86_64) {
			EXPECT_EQ(get<uint32_t>(b, 4), 0u);   // _pad1
		}

		xb::Request d;
		xb::decode_request(l.abi, b.data(), &d);
		EXPECT_EQ(d.op, q.op);
		EXPECT_EQ(d.kind, xb::ReqKind::rw);
		EXPECT_EQ(d.nr_segments, 3);
		EXPECT_EQ(d.handle, q.handle);
		EXPECT_EQ(d.id, q.id);
		EXPECT_EQ(d.sector, q.sector);
		for (unsigned i = 0; i < 3; i++) {
			EXPECT_EQ(d.seg[i].gref, q.seg[i].gref);
			EXPECT_EQ(d.seg[i].first_sect, q.seg[i].first_sect);
			EXPECT_EQ(d.seg[i].last_sect, q.seg[i].last_sect);
		}
		EXPECT_EQ(d.seg[3].gref, 0u);
		EXPECT_EQ(d.nr_sectors, 0u);
		EXPECT_EQ(d.indirect_grefs[0], 0u);
	}
}

TEST(Wire, RwDecodeKeepsAllElevenSegmentsAndRawCount)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		std::vector<uint8_t> b(l.entry, 0);
		b[0] = BLKIF_OP_READ;
		b[1] = 200;   // bogus count kept for validation to refuse
		for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
			const uint32_t g = 100 + i;
			std::memcpy(&b[l.seg + 8 * i], &g, 4);
			b[l.seg + 8 * i + 5] = uint8_t(i);
		}
		xb::Request d;
		xb::decode_request(l.abi, b.data(), &d);
		EXPECT_EQ(d.nr_segments, 200);
		EXPECT_EQ(d.seg[10].gref, 110u);
		EXPECT_EQ(d.seg[10].last_sect, 10);
	}
}

TEST(Wire, EncodeRefusesUnrepresentableSegmentCount)
{
	for (const Offsets& l : kLayouts) {
		xb::Request q{};
		q.op = BLKIF_OP_READ;
		q.nr_segments = 256;
		auto b = dirty_slot(l);
		EXPECT_FALSE(xb::encode_request(l.abi, q, b.data()));
		for (uint8_t c : b)
			ASSERT_EQ(c, 0xAA);
	}
}

TEST(Wire, DiscardLayoutAndRoundTrip)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		xb::Request q{};
		q.op = BLKIF_OP_DISCARD;
		q.discard_flag = BLKIF_DISCARD_SECURE;
		q.handle = 0x0505;
		q.id = 0x0807060504030201ull;
		q.sector = 0x1000;
		q.nr_sectors = 0x0000000300000008ull;
		auto b = dirty_slot(l);
		ASSERT_TRUE(xb::encode_request(l.abi, q, b.data()));
		expect_guard_intact(b, l);
		EXPECT_EQ(b[0], BLKIF_OP_DISCARD);
		EXPECT_EQ(b[1], BLKIF_DISCARD_SECURE);
		EXPECT_EQ(get<uint16_t>(b, 2), 0x0505);
		EXPECT_EQ(get<uint64_t>(b, l.id), q.id);
		EXPECT_EQ(get<uint64_t>(b, l.sector), q.sector);
		EXPECT_EQ(get<uint64_t>(b, l.nr_sectors), q.nr_sectors);
		for (size_t i = l.nr_sectors + 8; i < l.entry; i++)
			ASSERT_EQ(b[i], 0) << "byte " << i;

		xb::Request d;
		xb::decode_request(l.abi, b.data(), &d);
		EXPECT_EQ(d.kind, xb::ReqKind::discard);
		EXPECT_EQ(d.discard_flag, BLKIF_DISCARD_SECURE);
		EXPECT_EQ(d.handle, q.handle);
		EXPECT_EQ(d.id, q.id);
		EXPECT_EQ(d.sector, q.sector);
		EXPECT_EQ(d.nr_sectors, q.nr_sectors);
		EXPECT_EQ(d.nr_segments, 0);
	}
}

TEST(Wire, IndirectLayoutAndRoundTrip)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		xb::Request q{};
		q.op = BLKIF_OP_INDIRECT;
		q.indirect_op = BLKIF_OP_WRITE;
		q.nr_segments = 0x0fed;
		q.handle = 0x0303;
		q.id = 0x0102030405060708ull;
		q.sector = 0x0000001122334455ull;
		for (unsigned i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
			q.indirect_grefs[i] = 0x01000000u + i;
		auto b = dirty_slot(l);
		ASSERT_TRUE(xb::encode_request(l.abi, q, b.data()));
		expect_guard_intact(b, l);
		EXPECT_EQ(b[0], BLKIF_OP_INDIRECT);
		EXPECT_EQ(b[1], BLKIF_OP_WRITE);
		EXPECT_EQ(get<uint16_t>(b, 2), 0x0fed);
		EXPECT_EQ(get<uint64_t>(b, l.id), q.id);
		EXPECT_EQ(get<uint64_t>(b, l.sector), q.sector);
		EXPECT_EQ(get<uint16_t>(b, l.ind_handle), 0x0303);
		for (unsigned i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
			EXPECT_EQ(get<uint32_t>(b, l.ind_grefs + 4 * i), q.indirect_grefs[i]);
		for (size_t i = l.ind_grefs + 32; i < l.entry; i++)
			ASSERT_EQ(b[i], 0) << "byte " << i;

		xb::Request d;
		xb::decode_request(l.abi, b.data(), &d);
		EXPECT_EQ(d.kind, xb::ReqKind::indirect);
		EXPECT_EQ(d.indirect_op, BLKIF_OP_WRITE);
		EXPECT_EQ(d.nr_segments, 0x0fed);
		EXPECT_EQ(d.handle, q.handle);
		EXPECT_EQ(d.id, q.id);
		EXPECT_EQ(d.sector, q.sector);
		for (unsigned i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
			EXPECT_EQ(d.indirect_grefs[i], q.indirect_grefs[i]);
		EXPECT_EQ(d.seg[0].gref, 0u);
	}
}

TEST(Wire, OtherOpsKeepOpAndId)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		for (uint8_t op : { uint8_t(BLKIF_OP_RESERVED_1), uint8_t(7), uint8_t(0x80), uint8_t(0xff) }) {
			xb::Request q{};
			q.op = op;
			q.id = 0x0a0b0c0d01020304ull;
			auto b = dirty_slot(l);
			ASSERT_TRUE(xb::encode_request(l.abi, q, b.data()));
			expect_guard_intact(b, l);
			EXPECT_EQ(b[0], op);
			EXPECT_EQ(get<uint64_t>(b, l.id), q.id);
			for (size_t i = 1; i < l.entry; i++) {
				if (i < l.id || i >= l.id + 8) {
					ASSERT_EQ(b[i], 0) << "byte " << i;
				}
			}
			xb::Request d;
			xb::decode_request(l.abi, b.data(), &d);
			EXPECT_EQ(d.op, op);
			EXPECT_EQ(d.kind, xb::ReqKind::other);
			EXPECT_EQ(d.id, q.id);
		}
	}
}

// Every op byte, both layouts, from a heap block of exactly one request:
// ASan reports any read past it.  The id comes from the right offset.
TEST(Wire, DecodeEveryOpByteIsSafe)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		ASSERT_EQ(xb::request_size(l.abi), l.entry);
		for (unsigned op = 0; op < 256; op++) {
			std::unique_ptr<uint8_t[]> slot(new uint8_t[l.entry]);
			for (size_t i = 0; i < l.entry; i++)
				slot[i] = uint8_t(i * 37 + op);
			slot[0] = uint8_t(op);
			xb::Request d;
			xb::decode_request(l.abi, slot.get(), &d);
			uint64_t id;
			std::memcpy(&id, slot.get() + l.id, 8);
			EXPECT_EQ(d.op, op);
			EXPECT_EQ(d.kind, xb::request_kind(uint8_t(op)));
			EXPECT_EQ(d.id, id);
			if (d.kind == xb::ReqKind::other) {
				EXPECT_EQ(d.sector, 0u);
				EXPECT_EQ(d.nr_segments, 0);
			}
		}
	}
}

// The decoded request is a private copy: changing the slot afterwards (as a
// hostile frontend may) does not change it.
TEST(Wire, DecodedRequestIsStableCopy)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		xb::Request q{};
		q.op = BLKIF_OP_READ;
		q.nr_segments = 1;
		q.id = 42;
		q.sector = 8;
		q.seg[0] = xb::Segment{ 9, 0, 7 };
		std::vector<uint8_t> b(l.entry);
		ASSERT_TRUE(xb::encode_request(l.abi, q, b.data()));
		xb::Request d;
		xb::decode_request(l.abi, b.data(), &d);
		std::memset(b.data(), 0xff, b.size());   // frontend rewrites the slot
		b[0] = BLKIF_OP_INDIRECT;
		EXPECT_EQ(d.op, BLKIF_OP_READ);
		EXPECT_EQ(d.kind, xb::ReqKind::rw);
		EXPECT_EQ(d.nr_segments, 1);
		EXPECT_EQ(d.id, 42u);
		EXPECT_EQ(d.sector, 8u);
		EXPECT_EQ(d.seg[0].gref, 9u);
		EXPECT_EQ(d.seg[0].last_sect, 7);
	}
}

// Smoke test: decoding while another thread rewrites the op byte is memory
// safe and always yields one whole layout, never fields of the other (the
// deterministic single-copy check is DecodedRequestIsStableCopy).
TEST(Wire, DecodeUnderConcurrentRewrite)
{
	const Offsets& l = kLayouts[0];
	std::vector<uint8_t> b(l.entry, 0);
	b[1] = 1;                          // rw: nr_segments 1; discard: flag 1
	const uint64_t id = 77, nr = 0x0000000100000000ull;
	std::memcpy(&b[l.id], &id, 8);
	std::memcpy(&b[l.nr_sectors], &nr, 8);   // seg[0] in rw, nr_sectors in discard
	std::atomic<bool> stop{ false };
	std::thread writer([&] {
		for (unsigned i = 0; !stop.load(std::memory_order_relaxed); i++)
			__atomic_store_n(&b[0], uint8_t(i & 1 ? BLKIF_OP_DISCARD : BLKIF_OP_READ),
					 __ATOMIC_RELAXED);
	});
	unsigned rw = 0, discard = 0, bad = 0;
	for (int i = 0; i < 200000; i++) {
		xb::Request d;
		xb::decode_request(l.abi, b.data(), &d);
		if (d.op == BLKIF_OP_READ && d.kind == xb::ReqKind::rw && d.nr_segments == 1 &&
		    d.nr_sectors == 0 && d.seg[0].gref == 0 && d.seg[0].first_sect == 1)
			rw++;
		else if (d.op == BLKIF_OP_DISCARD && d.kind == xb::ReqKind::discard &&
			 d.discard_flag == 1 && d.nr_sectors == nr && d.nr_segments == 0)
			discard++;
		else
			bad++;
	}
	stop = true;
	writer.join();
	EXPECT_EQ(bad, 0u);
	EXPECT_EQ(rw + discard, 200000u);
}

// Neither stale slot content nor padding leaks: a 0xAA-filled slot has no
// 0xAA byte left in its entry after encode_response.
TEST(Wire, EncodeResponseWritesWholeZeroedEntry)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		ASSERT_EQ(xb::response_size(l.abi), l.rsp);
		auto b = dirty_slot(l);
		xb::encode_response(l.abi, b.data(), 0x0102030405060708ull, BLKIF_OP_DISCARD,
				    BLKIF_RSP_EOPNOTSUPP);
		for (size_t i = 0; i < l.entry; i++)
			ASSERT_NE(b[i], 0xAA) << "byte " << i;
		expect_guard_intact(b, l);
		EXPECT_EQ(get<uint64_t>(b, 0), 0x0102030405060708ull);
		EXPECT_EQ(b[l.rsp_op], BLKIF_OP_DISCARD);
		EXPECT_EQ(b[l.rsp_op + 1], 0);   // _pad1
		EXPECT_EQ(get<int16_t>(b, l.rsp_status), BLKIF_RSP_EOPNOTSUPP);
		for (size_t i = l.rsp_status + 2; i < l.entry; i++)
			ASSERT_EQ(b[i], 0) << "byte " << i;

		xb::Response r;
		xb::decode_response(l.abi, b.data(), &r);
		EXPECT_EQ(r.id, 0x0102030405060708ull);
		EXPECT_EQ(r.op, BLKIF_OP_DISCARD);
		EXPECT_EQ(r.status, BLKIF_RSP_EOPNOTSUPP);
	}
}

TEST(Wire, EncodeRequestLeavesNoStaleByte)
{
	for (const Offsets& l : kLayouts) {
		for (uint8_t op : { uint8_t(BLKIF_OP_READ), uint8_t(BLKIF_OP_FLUSH_DISKCACHE),
				    uint8_t(BLKIF_OP_DISCARD), uint8_t(BLKIF_OP_INDIRECT), uint8_t(9) }) {
			SCOPED_TRACE(testing::Message() << name(l.abi) << " op " << int(op));
			xb::Request q{};
			q.op = op;
			q.id = 1;
			auto b = dirty_slot(l);
			ASSERT_TRUE(xb::encode_request(l.abi, q, b.data()));
			for (size_t i = 0; i < l.entry; i++)
				ASSERT_NE(b[i], 0xAA) << "byte " << i;
			expect_guard_intact(b, l);
		}
	}
}

// Responses are read from exactly response_size bytes, as sent.
TEST(Wire, DecodeResponseReadsOnlyTheResponse)
{
	for (const Offsets& l : kLayouts) {
		SCOPED_TRACE(name(l.abi));
		std::unique_ptr<uint8_t[]> rsp(new uint8_t[l.rsp]);
		std::memset(rsp.get(), 0, l.rsp);
		const uint64_t id = 0xfedcba9876543210ull;
		const int16_t st = BLKIF_RSP_ERROR;
		std::memcpy(rsp.get(), &id, 8);
		rsp[l.rsp_op] = 0xee;
		std::memcpy(rsp.get() + l.rsp_status, &st, 2);
		xb::Response r;
		xb::decode_response(l.abi, rsp.get(), &r);
		EXPECT_EQ(r.id, id);
		EXPECT_EQ(r.op, 0xee);
		EXPECT_EQ(r.status, BLKIF_RSP_ERROR);
	}
}

TEST(Wire, IndirectSegmentsDecode)
{
	// an exactly page-sized heap block: ASan catches a read past the page
	std::unique_ptr<uint8_t[]> page(new uint8_t[BLKIF_PAGE_SIZE]);
	for (unsigned i = 0; i < BLKIF_SEGS_PER_INDIRECT_FRAME; i++) {
		blkif_request_segment s{};
		s.gref = 1000 + i;
		s.first_sect = uint8_t(i % 8);
		s.last_sect = 7;
		s._pad[0] = s._pad[1] = 0xcc;
		std::memcpy(page.get() + 8 * i, &s, sizeof s);
	}
	xb::Segment out[BLKIF_SEGS_PER_INDIRECT_FRAME];
	ASSERT_TRUE(xb::decode_indirect_segments(page.get(), 0, 512, out));
	EXPECT_EQ(out[0].gref, 1000u);
	EXPECT_EQ(out[511].gref, 1511u);
	EXPECT_EQ(out[511].first_sect, 511 % 8);
	EXPECT_EQ(out[511].last_sect, 7);

	xb::Segment two[2];
	ASSERT_TRUE(xb::decode_indirect_segments(page.get(), 510, 2, two));
	EXPECT_EQ(two[0].gref, 1510u);
	EXPECT_EQ(two[1].gref, 1511u);
	std::memset(page.get(), 0, BLKIF_PAGE_SIZE);   // the copy does not follow the page
	EXPECT_EQ(two[1].gref, 1511u);

	EXPECT_TRUE(xb::decode_indirect_segments(page.get(), 512, 0, two));
	EXPECT_FALSE(xb::decode_indirect_segments(page.get(), 511, 2, two));
	EXPECT_FALSE(xb::decode_indirect_segments(page.get(), 513, 0, two));
	EXPECT_FALSE(xb::decode_indirect_segments(page.get(), 1, SIZE_MAX, two));
	EXPECT_FALSE(xb::decode_indirect_segments(page.get(), SIZE_MAX, 2, two));
}

} // namespace
