// SPDX-License-Identifier: GPL-2.0
#include "selftest.hpp"
#include "abi.hpp"
#include "ring.hpp"
#include "validate.hpp"
#include "wire.hpp"

namespace xb {

namespace {

constexpr u32 page_bytes = BLKIF_PAGE_SIZE;

struct Case {
	Request req;
	Reject expect;
};

Request make_rw(u8 op, u64 id, u64 sector, u8 nr_segs)
{
	Request r{};
	r.op = op;
	r.kind = request_kind(op);
	r.handle = 0;
	r.id = id;
	r.sector = sector;
	r.nr_segments = nr_segs;
	for (u8 i = 0; i < nr_segs; i++)
		r.seg[i] = Segment{ 100u + i, 0, 7 };
	return r;
}

Request make_discard(u64 id, u64 sector, u64 nr)
{
	Request r{};
	r.op = BLKIF_OP_DISCARD;
	r.kind = ReqKind::discard;
	r.id = id;
	r.sector = sector;
	r.nr_sectors = nr;
	return r;
}

bool same(const Request& a, const Request& b)
{
	if (a.op != b.op || a.id != b.id)
		return false;
	if (a.kind == ReqKind::discard)
		return a.sector == b.sector && a.nr_sectors == b.nr_sectors;
	if (a.kind != ReqKind::rw)
		return true;
	if (a.sector != b.sector || a.nr_segments != b.nr_segments)
		return false;
	for (u16 i = 0; i < a.nr_segments; i++)
		if (a.seg[i].gref != b.seg[i].gref || a.seg[i].first_sect != b.seg[i].first_sect ||
		    a.seg[i].last_sect != b.seg[i].last_sect)
			return false;
	return true;
}

// One round trip of every case through the ring: frontend encodes and pushes,
// backend decodes, validates and answers, frontend checks every answer.
kstd::Errno round_trip(void* page, kstd::span<const Case> cases)
{
	const Abi abi = native_abi();
	FrontRing<> front;
	BackRing<> back;
	if (front.init(page, 1, entry_size(abi)) != kstd::Errno::ok ||
	    back.attach(page, 1, entry_size(abi)) != kstd::Errno::ok)
		return kstd::Errno::io;

	for (const Case& c : cases) {
		void* slot = front.next_request_slot();
		if (!slot || !encode_request(abi, c.req, slot))
			return kstd::Errno::io;
	}
	front.push_requests_and_check_notify();

	const DeviceLimits lim{ 1u << 20, 512, false, true, false, true, true, 0 };
	auto pending = back.unconsumed_requests();
	if (!pending || *pending != cases.size())
		return kstd::Errno::io;
	for (const Case& c : cases) {
		Request got;
		const void* slot = back.next_request_slot();
		if (!slot)
			return kstd::Errno::io;
		decode_request(abi, slot, &got);
		const Reject why = validate_request(got, lim);
		if (!same(got, c.req) || why != c.expect)
			return kstd::Errno::io;
		const s16 status = why == Reject::none ? s16{ BLKIF_RSP_OKAY } : reject_status(why);
		encode_response(abi, back.next_response_slot(), got.id, got.op, status);
	}
	back.push_responses_and_check_notify();

	auto done = front.unconsumed_responses();
	if (!done || *done != cases.size())
		return kstd::Errno::io;
	for (const Case& c : cases) {
		Response rsp;
		decode_response(abi, front.next_response_slot(), &rsp);
		const s16 want = c.expect == Reject::none ? s16{ BLKIF_RSP_OKAY } : reject_status(c.expect);
		if (rsp.id != c.req.id || rsp.op != c.req.op || rsp.status != want)
			return kstd::Errno::io;
	}
	return kstd::Errno::ok;
}

} // namespace

kstd::Errno core_selftest()
{
	const Case cases[] = {
		{ make_rw(BLKIF_OP_READ, 1, 8, 2), Reject::none },
		{ make_rw(BLKIF_OP_WRITE, 2, 64, BLKIF_MAX_SEGMENTS_PER_REQUEST), Reject::none },
		{ make_rw(BLKIF_OP_WRITE_BARRIER, 3, 0, 0), Reject::none },
		{ make_rw(BLKIF_OP_FLUSH_DISKCACHE, 4, 0, 0), Reject::none },
		{ make_discard(5, 4096, 2048), Reject::none },
		{ make_rw(BLKIF_OP_READ, 6, 0, 0), Reject::no_segments },
		{ make_rw(BLKIF_OP_WRITE, 7, (1u << 20) - 8, 2), Reject::out_of_range },
	};
	kstd::unique_ptr<u8[]> page(new (std::nothrow) u8[page_bytes]);
	if (!page)
		return kstd::Errno::nomem;
	return round_trip(page.get(), kstd::span<const Case>(cases, kstd::array_size(cases)));
}

} // namespace xb
