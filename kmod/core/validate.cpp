// SPDX-License-Identifier: GPL-2.0
#include "validate.hpp"

namespace xb {
namespace {

bool limits_ok(const DeviceLimits& lim)
{
	return kstd::is_pow2(lim.logical_block_size) &&
	       lim.logical_block_size >= BLKIF_SECTOR_SIZE &&
	       lim.logical_block_size <= BLKIF_PAGE_SIZE;
}

// Logical block size in 512-byte sectors, minus one: an alignment mask.
u64 block_mask(const DeviceLimits& lim)
{
	return (lim.logical_block_size >> BLKIF_SECTOR_SHIFT) - 1;
}

// [sector, sector + len) must not wrap and must end inside the device.
Reject check_range(u64 sector, u64 len, const DeviceLimits& lim)
{
	u64 end;
	if (kstd::add_overflows(sector, len, &end))
		return Reject::sector_overflow;
	if (end > lim.sectors)
		return Reject::out_of_range;
	return Reject::none;
}

Reject check_segments(const Segment* seg, size_t n, u64 sector, bool write,
		      const DeviceLimits& lim, u64* out_sectors)
{
	if (n == 0)
		return Reject::no_segments;
	if (n > BLKIF_MAX_INDIRECT_SEGMENTS)
		return Reject::too_many_segments;
	if (write && lim.read_only)
		return Reject::read_only;
	const u64 mask = block_mask(lim);
	if (sector & mask)
		return Reject::misaligned_sector;
	u64 total = 0;   // at most 4096 * 8: cannot overflow
	for (size_t i = 0; i < n; i++) {
		const u32 first = seg[i].first_sect, last = seg[i].last_sect;
		if (first > last || last >= BLKIF_SECTORS_PER_PAGE)
			return Reject::bad_segment;
		if ((first | (last + 1)) & mask)
			return Reject::misaligned_segment;
		total += last - first + 1;
	}
	const Reject r = check_range(sector, total, lim);
	if (r != Reject::none)
		return r;
	if (out_sectors)
		*out_sectors = total;
	return Reject::none;
}

// READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE with direct segments.
Reject check_direct(const Request& req, const DeviceLimits& lim)
{
	const bool may_be_empty = req.op == BLKIF_OP_WRITE_BARRIER ||
				  req.op == BLKIF_OP_FLUSH_DISKCACHE;
	if (req.op == BLKIF_OP_WRITE_BARRIER && !lim.barrier)
		return Reject::barrier_unsupported;
	if (req.op == BLKIF_OP_FLUSH_DISKCACHE && !lim.flush)
		return Reject::flush_unsupported;
	if (req.nr_segments == 0)
		return may_be_empty ? Reject::none : Reject::no_segments;
	if (req.nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return Reject::too_many_segments;
	return check_segments(req.seg, req.nr_segments, req.sector,
			      req.op != BLKIF_OP_READ, lim, nullptr);
}

Reject check_discard(const Request& req, const DeviceLimits& lim)
{
	if (!lim.discard)
		return Reject::discard_unsupported;
	if (req.discard_flag & ~BLKIF_DISCARD_SECURE)
		return Reject::bad_discard_flag;
	if ((req.discard_flag & BLKIF_DISCARD_SECURE) && !lim.secure_discard)
		return Reject::secure_discard_unsupported;
	if (lim.read_only)
		return Reject::read_only;
	if (req.nr_sectors == 0)
		return Reject::discard_empty;
	if (req.sector & block_mask(lim))
		return Reject::misaligned_sector;
	if (req.nr_sectors & block_mask(lim))
		return Reject::misaligned_length;
	return check_range(req.sector, req.nr_sectors, lim);
}

// Everything but the segments, which sit in the indirect pages.
Reject check_indirect(const Request& req, const DeviceLimits& lim)
{
	if (lim.max_indirect_segments == 0)
		return Reject::indirect_unsupported;
	if (req.indirect_op != BLKIF_OP_READ && req.indirect_op != BLKIF_OP_WRITE)
		return Reject::bad_indirect_op;
	if (req.nr_segments == 0)
		return Reject::no_segments;
	if (req.nr_segments > lim.max_indirect_segments)
		return Reject::too_many_segments;
	if (indirect_pages(req.nr_segments) > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST)
		return Reject::too_many_indirect_pages;
	if (req.indirect_op == BLKIF_OP_WRITE && lim.read_only)
		return Reject::read_only;
	if (req.sector & block_mask(lim))
		return Reject::misaligned_sector;
	// every segment covers at least one sector
	return check_range(req.sector, req.nr_segments, lim);
}

} // namespace

const char* reject_name(Reject r)
{
	switch (r) {
	case Reject::none: return "none";
	case Reject::bad_limits: return "bad_limits";
	case Reject::reserved_op: return "reserved_op";
	case Reject::unknown_op: return "unknown_op";
	case Reject::barrier_unsupported: return "barrier_unsupported";
	case Reject::flush_unsupported: return "flush_unsupported";
	case Reject::discard_unsupported: return "discard_unsupported";
	case Reject::secure_discard_unsupported: return "secure_discard_unsupported";
	case Reject::indirect_unsupported: return "indirect_unsupported";
	case Reject::bad_indirect_op: return "bad_indirect_op";
	case Reject::no_segments: return "no_segments";
	case Reject::too_many_segments: return "too_many_segments";
	case Reject::too_many_indirect_pages: return "too_many_indirect_pages";
	case Reject::bad_segment: return "bad_segment";
	case Reject::misaligned_sector: return "misaligned_sector";
	case Reject::misaligned_segment: return "misaligned_segment";
	case Reject::misaligned_length: return "misaligned_length";
	case Reject::read_only: return "read_only";
	case Reject::sector_overflow: return "sector_overflow";
	case Reject::out_of_range: return "out_of_range";
	case Reject::bad_discard_flag: return "bad_discard_flag";
	case Reject::discard_empty: return "discard_empty";
	}
	return "invalid";
}

s16 reject_status(Reject r)
{
	switch (r) {
	case Reject::none:
		return BLKIF_RSP_OKAY;
	case Reject::reserved_op:
	case Reject::unknown_op:
	case Reject::barrier_unsupported:
	case Reject::flush_unsupported:
	case Reject::discard_unsupported:
	case Reject::secure_discard_unsupported:
	case Reject::indirect_unsupported:
		return BLKIF_RSP_EOPNOTSUPP;
	default:
		return BLKIF_RSP_ERROR;
	}
}

Reject validate_request(const Request& req, const DeviceLimits& lim)
{
	if (!limits_ok(lim))
		return Reject::bad_limits;
	switch (req.op) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_WRITE_BARRIER:
	case BLKIF_OP_FLUSH_DISKCACHE:
		return check_direct(req, lim);
	case BLKIF_OP_DISCARD:
		return check_discard(req, lim);
	case BLKIF_OP_INDIRECT:
		return check_indirect(req, lim);
	case BLKIF_OP_RESERVED_1:
		return Reject::reserved_op;
	default:
		return Reject::unknown_op;
	}
}

Reject validate_segments(const Segment* seg, size_t n, u64 sector, bool write,
			 const DeviceLimits& lim, u64* out_sectors)
{
	if (!limits_ok(lim))
		return Reject::bad_limits;
	return check_segments(seg, n, sector, write, lim, out_sectors);
}

} // namespace xb
