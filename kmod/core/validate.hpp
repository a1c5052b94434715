// SPDX-License-Identifier: GPL-2.0
// validate.hpp - backend checks of a decoded request against the device.
//
// Every request the backend acts on passes validate_request() first; indirect
// requests also pass validate_segments() once their segment pages are mapped
// and copied with decode_indirect_segments().  A rejected request is answered
// with reject_status(reason) and never reaches the block layer.
// Documentation/core-protocol.md lists every rule.
#pragma once
#include "wire.hpp"

namespace xb {

// Why a request was refused; none means it may be executed.
enum class Reject : u8 {
	none = 0,
	bad_limits,                   // DeviceLimits itself is invalid
	reserved_op,                  // BLKIF_OP_RESERVED_1
	unknown_op,                   // op outside the blkif set
	barrier_unsupported,          // WRITE_BARRIER, feature-barrier not offered
	flush_unsupported,            // FLUSH_DISKCACHE, feature-flush-cache not offered
	discard_unsupported,          // DISCARD, feature-discard not offered
	secure_discard_unsupported,   // BLKIF_DISCARD_SECURE, feature-secure-discard not offered
	indirect_unsupported,         // INDIRECT, feature-max-indirect-segments not offered
	bad_indirect_op,              // indirect_op is not READ or WRITE
	no_segments,                  // 0 segments on a request that moves data
	too_many_segments,            // > 11 direct, or > negotiated indirect segments
	too_many_indirect_pages,      // segments need more than 8 indirect pages
	bad_segment,                  // first_sect > last_sect or last_sect > 7
	misaligned_sector,            // start sector not a multiple of the block size
	misaligned_segment,           // segment offset or length not block aligned
	misaligned_length,            // discard length not block aligned
	read_only,                    // data-modifying request to a read-only device
	sector_overflow,              // sector + length wraps around 2^64
	out_of_range,                 // range ends beyond the device
	bad_discard_flag,             // discard flag bits other than BLKIF_DISCARD_SECURE
	discard_empty,                // discard of 0 sectors
};

// Short stable name of a reason, e.g. "read_only", for logs.
const char* reject_name(Reject r);

// Response status for a reason: BLKIF_RSP_OKAY for none, BLKIF_RSP_EOPNOTSUPP
// for an operation or feature the backend does not offer, BLKIF_RSP_ERROR
// for every malformed or forbidden request.
s16 reject_status(Reject r);

// What the backend offers for one device.
struct DeviceLimits {
	u64 sectors;                  // capacity in 512-byte sectors
	u32 logical_block_size;       // bytes, a power of 2 in 512..4096
	bool read_only;
	bool discard;                 // feature-discard
	bool secure_discard;          // feature-secure-discard
	bool flush;                   // feature-flush-cache
	bool barrier;                 // feature-barrier
	u32 max_indirect_segments;    // negotiated, 0 = indirect not offered
};

// Check a decoded request.  For READ/WRITE/WRITE_BARRIER/FLUSH_DISKCACHE this
// includes every segment; for INDIRECT everything known before the indirect
// pages are read (their segments go through validate_segments()).
Reject validate_request(const Request& req, const DeviceLimits& lim);

// Check n data segments of a request starting at sector.  write: the request
// modifies the device.  On success *out_sectors (if not null) is the total
// length in 512-byte sectors.
Reject validate_segments(const Segment* seg, size_t n, u64 sector, bool write,
			 const DeviceLimits& lim, u64* out_sectors);

} // namespace xb
