// SPDX-License-Identifier: GPL-2.0
// front_response.hpp - the frontend's checks of a backend response, what a
// response means for the block request it answers, and the disk a
// virtual-device number names.
//
// Responses are untrusted: check_response() decides whether a decoded response
// may complete the blkif request it names; anything else marks the device
// broken.  response_action() decides what an accepted status does to the
// block request (see Documentation/frontend.md).
#pragma once
#include "wire.hpp"

namespace xb {

// What the frontend remembers of one blkif request in flight.
struct InFlight {
	bool in_use;        // the id is on the ring now
	u8 op;              // operation byte sent (INDIRECT for an indirect request)
	u8 inner_op;        // the operation (indirect_op for INDIRECT, else op)
};

enum class BadResponse : u8 {
	none = 0,
	id_out_of_range,    // id >= ring size
	not_in_flight,      // no request with this id is on the ring (or it completed)
	op_mismatch,        // op is neither the sent op nor (for INDIRECT) the inner op
	bad_status,         // status not OKAY, ERROR or EOPNOTSUPP
};
const char* bad_response_name(BadResponse b);

// in_flight: the ring's table, ring_size entries, indexed by id.
BadResponse check_response(const Response& r, kstd::span<const InFlight> in_flight);

enum class ResponseAction : u8 {
	ok,                 // the blkif request succeeded
	io_error,           // fail the block request with -EIO
	flush_refused,      // flush/barrier answered EOPNOTSUPP (never ERROR): downgrade and
			    // re-issue the block request
	discard_refused,    // fail with -EOPNOTSUPP and turn discard off
};
// For an accepted response: status of the request sent as f.
ResponseAction response_action(const InFlight& f, s16 status);

// The disk a "virtual-device" number names (xvd major 202 only: 16 disks of
// 16 minors).  false if the number is not an xvd whole disk.
struct DiskName {
	char name[8];       // "xvda"
	u32 index;          // 0..15
	u32 first_minor;    // 16 * index
	u32 minors;         // 16
};
bool xvd_disk_name(u32 vdevice, DiskName* out);

} // namespace xb
