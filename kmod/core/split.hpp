// SPDX-License-Identifier: GPL-2.0
// split.hpp - the frontend's plan for turning one block request into blkif requests.
//
// The planner decides operations, sectors and grant pieces; the glue grants the
// pages, fills ring slots (and indirect pages) from the plan, and completes the
// block request when every planned blkif request has completed.  Nothing here
// allocates: the caller passes the arrays the plan is written to.
//
// Returns 0 or a negative errno:
//   -EINVAL      malformed request (alignment, zero length, flags that do not
//                belong to the operation, misaligned secure erase, bad limits)
//   -EOVERFLOW   the range ends beyond the last byte-addressable sector
//   -EOPNOTSUPP  the negotiated features cannot express it (FUA without barrier,
//                a flush the write cache needs but no flush mode, discard off)
//   -ENOSPC      the caller's arrays are too small
#pragma once
#include "kstd.hpp"
#include "negotiate.hpp"
#include "xenblk/blkif.h"

namespace xb {

enum class BlockOp : u8 { read, write, flush, discard, secure_erase };

// Physically contiguous guest memory: byte address and length both multiples of
// 512; it may cross 4 KiB pages.
struct DataSegment {
	u64 addr;
	u32 len;
};

struct BlockRequest {
	BlockOp op = BlockOp::read;
	bool fua = false;             // writes only
	bool preflush = false;        // writes (and flush, where it is implied)
	u64 sector = 0;               // 512-byte units
	u64 nr_sectors = 0;           // read/write: must equal the segments' total
	kstd::span<const DataSegment> segs;   // read/write only
};

// What the planner may use: from negotiation plus the block queue's state.
struct SplitLimits {
	FlushMode flush = FlushMode::none;   // current mode (after any downgrade)
	bool write_cache = false;     // the queue's write-cache flag as now set
	u32 sector_size = 512;        // logical; split points fall on its multiples
	u32 max_indirect_segments = 0;   // > 11 enables indirect read/write
	bool discard = false;
	bool discard_secure = false;
	u32 discard_granularity = 512;   // bytes, non-zero multiple of sector_size
	u32 discard_alignment = 0;       // bytes, multiple of sector_size
	u64 max_discard_sectors = 0;     // per blkif request; 0 = no limit
};
SplitLimits split_limits(const NegotiatedConfig& cfg, u64 max_discard_sectors);

// The largest number of pieces one blkif request with this operation may carry:
// indirect (up to 4096) for READ/WRITE when negotiated, else 11.
u32 max_pieces(const SplitLimits& lim, u8 operation);

// One granted page and the sectors of it a request uses.
struct GrantPiece {
	u64 frame;                    // guest page frame (address >> 12)
	u8 first_sect;                // 0..7
	u8 last_sect;                 // first_sect..7, inclusive
};

struct WireRequest {
	u8 operation;                 // READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE, DISCARD
	bool indirect;                // send as BLKIF_OP_INDIRECT with indirect_op = operation
	u8 nr_indirect_pages;         // BLKIF_INDIRECT_PAGES(nr_pieces) if indirect
	u8 discard_flag;              // BLKIF_DISCARD_SECURE or 0
	u64 sector;
	u64 nr_sectors;               // data or discard length
	u32 first_piece;              // this request's pieces: pieces[first_piece ...]
	u32 nr_pieces;                // 0 for flush, barrier without data and discard
};

struct Plan {
	size_t nr_reqs = 0;
	size_t nr_pieces = 0;
	// Nothing to send: complete the block request successfully now (a flush with
	// no write cache, or a discard trimmed to nothing).
	bool complete_now() const { return nr_reqs == 0; }
};

// Plan rq.  On success the requests are sector-contiguous, in order, and their
// pieces cover the segments exactly.  *out is meaningful only when 0 is returned.
int plan_request(const BlockRequest& rq, const SplitLimits& lim, kstd::span<WireRequest> reqs,
		 kstd::span<GrantPiece> pieces, Plan* out);

} // namespace xb
