// SPDX-License-Identifier: GPL-2.0
// wire.hpp - blkif request/response codec for both ring layouts.
//
// Decoders copy a shared slot into private memory exactly once (every shared
// byte is read once, so no double fetch) and parse only that copy: a hostile
// peer changing the slot meanwhile cannot change what was decoded.  They read
// exactly one layout's bytes whatever the input.  Encoders build the whole
// entry in private memory, zero-filled, and write it with one copy: no stale
// or uninitialised byte, padding included, reaches shared memory.
#pragma once
#include "abi.hpp"

namespace xb {

// One data segment: sectors first_sect..last_sect (inclusive) of a granted page.
struct Segment {
	u32 gref;
	u8 first_sect;
	u8 last_sect;
};

// Where a segment lies in its page, in bytes (first_sect..last_sect count
// blkif's 512-byte sectors, whatever the disk's sector size).  Only for a
// segment that passed validation (first_sect <= last_sect < 8).
constexpr u32 segment_offset(const Segment& s) { return s.first_sect * BLKIF_SECTOR_SIZE; }
constexpr u32 segment_bytes(const Segment& s) { return (s.last_sect - s.first_sect + 1u) * BLKIF_SECTOR_SIZE; }

// Which union member of the wire request an operation uses.
enum class ReqKind : u8 {
	rw,         // READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE
	discard,    // DISCARD
	indirect,   // INDIRECT
	other,      // RESERVED_1 and every unknown op: only op and id are known
};

constexpr ReqKind request_kind(u8 op)
{
	switch (op) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_WRITE_BARRIER:
	case BLKIF_OP_FLUSH_DISKCACHE:
		return ReqKind::rw;
	case BLKIF_OP_DISCARD:
		return ReqKind::discard;
	case BLKIF_OP_INDIRECT:
		return ReqKind::indirect;
	default:
		return ReqKind::other;
	}
}

// Indirect pages an indirect request of nr_segments segments uses.
constexpr u32 indirect_pages(u32 nr_segments)
{
	return static_cast<u32>(BLKIF_INDIRECT_PAGES(nr_segments));
}

// A decoded request: a private copy, independent of the wire layout.  Fields a
// kind does not use are zero after decode_request().
struct Request {
	u8 op;             // operation byte as sent
	ReqKind kind;      // request_kind(op)
	u16 handle;        // rw, discard, indirect
	u16 nr_segments;   // rw: as sent (0..255); indirect: as sent (0..65535)
	u8 indirect_op;    // indirect
	u8 discard_flag;   // discard: BLKIF_DISCARD_SECURE bits as sent
	u64 id;            // every kind: echoed in the response
	u64 sector;        // rw, discard, indirect: first 512-byte sector
	u64 nr_sectors;    // discard
	Segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];                // rw: all 11 as sent
	u32 indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];   // indirect: all 8 as sent
};

// A decoded response.
struct Response {
	u64 id;
	u8 op;
	s16 status;   // BLKIF_RSP_*
};

// Backend: decode the request in a ring slot (request_size(abi) bytes).
void decode_request(Abi abi, const void* slot, Request* out);

// Backend: copy segments first..first+count-1 of a mapped indirect page
// (BLKIF_SEGS_PER_INDIRECT_FRAME segments) to out.  Returns false, reading
// nothing, if the range does not fit in the page.
bool decode_indirect_segments(const void* page, size_t first, size_t count, Segment* out);

// Backend: write a response into a ring slot; the whole entry (entry_size(abi)
// bytes) is written.
void encode_response(Abi abi, void* slot, u64 id, u8 op, s16 status);

// Frontend: write a request into a ring slot; the whole entry is written with
// the layout of request_kind(req.op).  For rw only the first
// min(nr_segments, 11) segments are copied, the rest is zero.  Returns false,
// writing nothing, if req cannot be represented (rw with nr_segments > 255).
bool encode_request(Abi abi, const Request& req, void* slot);

// Frontend: decode the response in a ring slot (response_size(abi) bytes).
void decode_response(Abi abi, const void* slot, Response* out);

} // namespace xb
