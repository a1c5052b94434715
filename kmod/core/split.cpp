// SPDX-License-Identifier: GPL-2.0
// split.cpp - block request -> blkif requests (see split.hpp and
// Documentation/negotiation.md).
#include "split.hpp"

namespace xb {

namespace {

using kstd::Errno;
using kstd::to_int;

constexpr u64 page_mask = BLKIF_PAGE_SIZE - 1;
constexpr u32 sector_bytes = BLKIF_SECTOR_SIZE;
// Ranges must end at or before this sector, so that every byte offset fits a u64.
constexpr u64 max_sector_end = ~u64{0} >> BLKIF_SECTOR_SHIFT;

// Position in the segment list.
struct Cursor {
	size_t seg = 0;
	u32 off = 0;                  // bytes into segs[seg]
};

// The piece at *c: up to the end of its page, its segment and max_sectors.
GrantPiece take_piece(kstd::span<const DataSegment> segs, Cursor* c, u64 max_sectors, u64* sectors)
{
	const DataSegment& s = segs[c->seg];
	u64 addr = s.addr + c->off;
	u32 in_page = static_cast<u32>(addr & page_mask);
	u32 bytes = kstd::min(s.len - c->off, BLKIF_PAGE_SIZE - in_page);
	u32 n = static_cast<u32>(kstd::min<u64>(bytes / sector_bytes, max_sectors));

	c->off += n * sector_bytes;
	if (c->off == s.len) {
		c->seg++;
		c->off = 0;
	}
	*sectors = n;
	return {addr >> 12, static_cast<u8>(in_page / sector_bytes),
		static_cast<u8>(in_page / sector_bytes + n - 1)};
}

WireRequest* add_request(kstd::span<WireRequest> reqs, Plan* p, u8 op, u64 sector, u64 nr_sectors)
{
	if (p->nr_reqs == reqs.size())
		return nullptr;
	WireRequest* w = &reqs[p->nr_reqs++];
	*w = {};
	w->operation = op;
	w->sector = sector;
	w->nr_sectors = nr_sectors;
	w->first_piece = static_cast<u32>(p->nr_pieces);
	return w;
}

// The blkif operation for a write, given its flags and the flush mode.
int write_operation(const BlockRequest& rq, const SplitLimits& lim, u8* op)
{
	*op = BLKIF_OP_WRITE;
	if (rq.fua) {
		// only a barrier makes this write durable on completion
		if (lim.flush != FlushMode::barrier)
			return to_int(Errno::opnotsupp);
		*op = BLKIF_OP_WRITE_BARRIER;
	} else if (rq.preflush) {
		if (lim.flush == FlushMode::flush)
			*op = BLKIF_OP_FLUSH_DISKCACHE;
		else if (lim.flush == FlushMode::barrier)
			*op = BLKIF_OP_WRITE_BARRIER;
		else if (lim.write_cache)
			return to_int(Errno::opnotsupp);
	}
	return 0;
}

int check_range(u64 sector, u64 nr_sectors, u64* end)
{
	if (kstd::add_overflows(sector, nr_sectors, end) || *end > max_sector_end)
		return to_int(Errno::overflow);
	return 0;
}

int plan_data(const BlockRequest& rq, const SplitLimits& lim, u8 op, kstd::span<WireRequest> reqs,
	      kstd::span<GrantPiece> pieces, Plan* p)
{
	const u64 bs = lim.sector_size / sector_bytes;
	const u32 per_req = max_pieces(lim, op);
	u64 total = 0, end, sector = rq.sector;
	Cursor cur;
	int err;

	if (rq.segs.empty())
		return to_int(Errno::inval);
	for (const DataSegment& s : rq.segs) {
		u64 seg_end;

		if (!s.len || s.len % sector_bytes || s.addr % sector_bytes ||
		    kstd::add_overflows(s.addr, s.len, &seg_end))
			return to_int(Errno::inval);
		total += s.len / sector_bytes;   // cannot overflow: < 2^23 per segment
	}
	if (total != rq.nr_sectors || rq.sector % bs || total % bs)
		return to_int(Errno::inval);
	err = check_range(rq.sector, total, &end);
	if (err)
		return err;

	while (sector < end) {
		Cursor probe = cur;
		u64 n = 0, got;
		WireRequest* w;

		// how far per_req pieces reach; cut on a logical block unless it is the end
		for (u32 i = 0; i < per_req && probe.seg < rq.segs.size(); i++) {
			take_piece(rq.segs, &probe, ~u64{0}, &got);
			n += got;
		}
		if (sector + n < end)
			n -= n % bs;

		w = add_request(reqs, p, op, sector, n);
		if (!w)
			return to_int(Errno::nospc);
		for (u64 left = n; left; left -= got) {
			if (p->nr_pieces == pieces.size())
				return to_int(Errno::nospc);
			pieces[p->nr_pieces++] = take_piece(rq.segs, &cur, left, &got);
		}
		w->nr_pieces = static_cast<u32>(p->nr_pieces - w->first_piece);
		w->indirect = w->nr_pieces > blkif_max_direct_segs;
		if (w->indirect)
			w->nr_indirect_pages = static_cast<u8>(BLKIF_INDIRECT_PAGES(w->nr_pieces));
		sector += n;
	}
	return 0;
}

int plan_flush(const BlockRequest& rq, const SplitLimits& lim, kstd::span<WireRequest> reqs, Plan* p)
{
	u8 op;

	if (rq.fua || !rq.segs.empty() || rq.nr_sectors)
		return to_int(Errno::inval);
	if (lim.flush == FlushMode::flush)
		op = BLKIF_OP_FLUSH_DISKCACHE;
	else if (lim.flush == FlushMode::barrier)
		op = BLKIF_OP_WRITE_BARRIER;
	else   // nothing to flush without a write cache; with one we cannot
		return lim.write_cache ? to_int(Errno::opnotsupp) : 0;
	return add_request(reqs, p, op, rq.sector, 0) ? 0 : to_int(Errno::nospc);
}

// Discard extents start at sectors a + k * g (k >= 0); [0, a) is the tail of an
// extent that begins before the disk.
int plan_discard(const BlockRequest& rq, const SplitLimits& lim, kstd::span<WireRequest> reqs, Plan* p)
{
	const bool secure = rq.op == BlockOp::secure_erase;
	const u64 g = lim.discard_granularity / sector_bytes;
	u64 a, end, first, last, chunk;
	int err;

	if (rq.fua || rq.preflush || !rq.segs.empty() || !rq.nr_sectors)
		return to_int(Errno::inval);
	if (!lim.discard || (secure && !lim.discard_secure))
		return to_int(Errno::opnotsupp);
	if (!lim.discard_granularity || lim.discard_granularity % lim.sector_size ||
	    lim.discard_alignment % lim.sector_size)
		return to_int(Errno::inval);
	err = check_range(rq.sector, rq.nr_sectors, &end);
	if (err)
		return err;

	a = (lim.discard_alignment / sector_bytes) % g;
	first = rq.sector <= a ? a : rq.sector + (g - (rq.sector - a) % g) % g;
	last = end < a ? 0 : end - (end - a) % g;
	if (secure && (first != rq.sector || last != end))
		return to_int(Errno::inval);   // erasing less (or more) is not allowed
	if (last <= first)
		return 0;                      // no whole extent: nothing to discard

	chunk = lim.max_discard_sectors ? lim.max_discard_sectors : max_sector_end;
	chunk -= chunk % g;
	if (!chunk)
		return to_int(Errno::inval);
	for (u64 s = first; s < last; s += chunk) {
		WireRequest* w = add_request(reqs, p, BLKIF_OP_DISCARD, s, kstd::min(chunk, last - s));

		if (!w)
			return to_int(Errno::nospc);
		w->discard_flag = secure ? BLKIF_DISCARD_SECURE : 0;
	}
	return 0;
}

} // namespace

SplitLimits split_limits(const NegotiatedConfig& cfg, u64 max_discard_sectors)
{
	SplitLimits lim;

	lim.flush = cfg.flush;
	lim.write_cache = cfg.write_cache;
	lim.sector_size = cfg.sector_size;
	lim.max_indirect_segments = cfg.max_indirect_segments;
	lim.discard = cfg.discard;
	lim.discard_secure = cfg.discard_secure;
	lim.discard_granularity = cfg.discard_granularity;
	lim.discard_alignment = cfg.discard_alignment;
	lim.max_discard_sectors = max_discard_sectors;
	return lim;
}

u32 max_pieces(const SplitLimits& lim, u8 operation)
{
	if ((operation == BLKIF_OP_READ || operation == BLKIF_OP_WRITE) &&
	    lim.max_indirect_segments > blkif_max_direct_segs)
		return kstd::min(lim.max_indirect_segments, blkif_max_indirect_segs);
	return blkif_max_direct_segs;
}

int plan_request(const BlockRequest& rq, const SplitLimits& lim, kstd::span<WireRequest> reqs,
		 kstd::span<GrantPiece> pieces, Plan* out)
{
	Plan p;
	u8 op = BLKIF_OP_READ;
	int err = 0;

	if (!valid_sector_size(lim.sector_size))
		err = to_int(Errno::inval);
	else if (rq.op == BlockOp::read)
		err = rq.fua || rq.preflush ? to_int(Errno::inval)
					   : plan_data(rq, lim, op, reqs, pieces, &p);
	else if (rq.op == BlockOp::write) {
		err = write_operation(rq, lim, &op);
		if (!err)
			err = plan_data(rq, lim, op, reqs, pieces, &p);
	}
	else if (rq.op == BlockOp::flush)
		err = plan_flush(rq, lim, reqs, &p);
	else if (rq.op == BlockOp::discard || rq.op == BlockOp::secure_erase)
		err = plan_discard(rq, lim, reqs, &p);
	else
		err = to_int(Errno::inval);
	*out = err ? Plan() : p;
	return err;
}

} // namespace xb
