// libFuzzer target: request decode and backend validation on arbitrary bytes.
//
// Input: byte 0 picks the ABI and device features, byte 1 the capacity and
// indirect limit, then one request slot, then indirect page contents (both
// zero-padded when short).  Slot and page live in heap blocks of exactly
// their size so that ASan reports any read past them.  Besides memory
// safety it checks codec round trips and that validation is self-consistent;
// a violated property traps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "validate.hpp"
#include "wire.hpp"
#include "fuzz_input.hpp"

namespace {

xb::DeviceLimits limits(uint8_t a, uint8_t b)
{
	static const uint32_t indirect[] = { 0, 32, 256, BLKIF_MAX_INDIRECT_SEGMENTS, 65535 };
	xb::DeviceLimits l{};
	l.logical_block_size = 512u << ((a >> 1) & 3);
	l.read_only = a & 0x08;
	l.discard = a & 0x10;
	l.secure_discard = a & 0x20;
	l.flush = a & 0x40;
	l.barrier = a & 0x80;
	l.sectors = (b & 0x1f) == 0x1f ? UINT64_MAX : uint64_t(1) << (b & 0x1f) << 8;
	l.max_indirect_segments = indirect[(b >> 5) % 5];
	return l;
}

// encode(decode(x)) decodes to the same request (fields of its kind).
void check_request_round_trip(xb::Abi abi, const xb::Request& q)
{
	std::unique_ptr<uint8_t[]> slot(new uint8_t[xb::request_size(abi)]);
	CHECK(xb::encode_request(abi, q, slot.get()));   // decoded rw counts fit in 8 bits
	xb::Request d;
	xb::decode_request(abi, slot.get(), &d);
	CHECK(d.op == q.op && d.kind == q.kind && d.id == q.id);
	switch (q.kind) {
	case xb::ReqKind::rw:
		CHECK(d.nr_segments == q.nr_segments && d.handle == q.handle && d.sector == q.sector);
		for (size_t i = 0; i < q.nr_segments && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
			CHECK(d.seg[i].gref == q.seg[i].gref &&
			      d.seg[i].first_sect == q.seg[i].first_sect &&
			      d.seg[i].last_sect == q.seg[i].last_sect);
		break;
	case xb::ReqKind::discard:
		CHECK(d.discard_flag == q.discard_flag && d.handle == q.handle &&
		      d.sector == q.sector && d.nr_sectors == q.nr_sectors);
		break;
	case xb::ReqKind::indirect:
		CHECK(d.indirect_op == q.indirect_op && d.nr_segments == q.nr_segments &&
		      d.handle == q.handle && d.sector == q.sector);
		CHECK(std::memcmp(d.indirect_grefs, q.indirect_grefs, sizeof(d.indirect_grefs)) == 0);
		break;
	case xb::ReqKind::other:
		break;
	}
}

void check_response(xb::Abi abi, const xb::Request& q, xb::Reject r)
{
	const int16_t st = xb::reject_status(r);
	CHECK(xb::reject_name(r) != nullptr);
	CHECK(st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR || st == BLKIF_RSP_EOPNOTSUPP);
	CHECK((st == BLKIF_RSP_OKAY) == (r == xb::Reject::none));
	const size_t esz = xb::entry_size(abi);
	std::unique_ptr<uint8_t[]> slot(new uint8_t[esz]);
	std::memset(slot.get(), 0xAA, esz);
	xb::encode_response(abi, slot.get(), q.id, q.op, st);
	xb::Response rsp;
	xb::decode_response(abi, slot.get(), &rsp);
	CHECK(rsp.id == q.id && rsp.op == q.op && rsp.status == st);
}

// An accepted indirect request: read its segments from the page (the same
// page stands in for each of its indirect pages) and validate them.
void check_indirect(const xb::Request& q, const xb::DeviceLimits& lim, const uint8_t* page)
{
	static xb::Segment segs[BLKIF_MAX_INDIRECT_SEGMENTS];
	const size_t n = q.nr_segments;
	CHECK(n >= 1 && n <= BLKIF_MAX_INDIRECT_SEGMENTS);
	CHECK(xb::indirect_pages(uint32_t(n)) <= BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
	for (size_t done = 0; done < n; done += BLKIF_SEGS_PER_INDIRECT_FRAME) {
		size_t count = n - done;
		if (count > BLKIF_SEGS_PER_INDIRECT_FRAME)
			count = BLKIF_SEGS_PER_INDIRECT_FRAME;
		CHECK(xb::decode_indirect_segments(page, 0, count, segs + done));
	}
	uint64_t total = 0;
	const xb::Reject r = xb::validate_segments(segs, n, q.sector, q.indirect_op == BLKIF_OP_WRITE,
						   lim, &total);
	if (r == xb::Reject::none)
		CHECK(total >= n && total <= 8 * n && q.sector + total <= lim.sectors);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	Input in{ data, size };
	const uint8_t a = in.byte(), b = in.byte();
	const xb::Abi abi = (a & 1) ? xb::Abi::x86_32 : xb::Abi::x86_64;
	const xb::DeviceLimits lim = limits(a, b);

	std::unique_ptr<uint8_t[]> slot(new uint8_t[xb::request_size(abi)]);
	in.fill(slot.get(), xb::request_size(abi));
	std::unique_ptr<uint8_t[]> page(new uint8_t[BLKIF_PAGE_SIZE]);
	in.fill(page.get(), BLKIF_PAGE_SIZE);

	xb::Request q;
	xb::decode_request(abi, slot.get(), &q);
	CHECK(q.op == slot[0] && q.kind == xb::request_kind(q.op));

	const xb::Reject r = xb::validate_request(q, lim);
	check_response(abi, q, r);
	check_request_round_trip(abi, q);

	if (r == xb::Reject::none && q.kind == xb::ReqKind::rw && q.nr_segments) {
		// an accepted direct request: its segments pass on their own too
		uint64_t total = 0;
		CHECK(xb::validate_segments(q.seg, q.nr_segments, q.sector, q.op != BLKIF_OP_READ,
					    lim, &total) == xb::Reject::none);
		CHECK(total >= q.nr_segments && q.sector + total <= lim.sectors);
	}
	if (r == xb::Reject::none && q.kind == xb::ReqKind::indirect)
		check_indirect(q, lim, page.get());

	// arbitrary ranges of the page, in and out of bounds
	xb::Segment few[16];
	const size_t first = size_t(slot[2]) << 2 | (slot[3] & 3), count = slot[3] >> 4;
	const bool fits = first + count <= BLKIF_SEGS_PER_INDIRECT_FRAME;
	CHECK(xb::decode_indirect_segments(page.get(), first, count, few) == fits);
	if (fits && count)
		xb::validate_segments(few, count, q.sector, slot[1] & 1, lim, nullptr);
	return 0;
}
