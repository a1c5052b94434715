// SPDX-License-Identifier: GPL-2.0
// front_response.cpp - see front_response.hpp.
#include "front_response.hpp"

namespace xb {

const char* bad_response_name(BadResponse b)
{
	switch (b) {
	case BadResponse::none: return "none";
	case BadResponse::id_out_of_range: return "id_out_of_range";
	case BadResponse::not_in_flight: return "not_in_flight";
	case BadResponse::op_mismatch: return "op_mismatch";
	case BadResponse::bad_status: return "bad_status";
	}
	return "unknown";
}

BadResponse check_response(const Response& r, kstd::span<const InFlight> in_flight)
{
	if (r.id >= in_flight.size())
		return BadResponse::id_out_of_range;
	const InFlight& f = in_flight[static_cast<size_t>(r.id)];
	if (!f.in_use)
		return BadResponse::not_in_flight;
	// backends answer an indirect request with INDIRECT or with its operation
	if (r.op != f.op && !(f.op == BLKIF_OP_INDIRECT && r.op == f.inner_op))
		return BadResponse::op_mismatch;
	if (r.status != BLKIF_RSP_OKAY && r.status != BLKIF_RSP_ERROR &&
	    r.status != BLKIF_RSP_EOPNOTSUPP)
		return BadResponse::bad_status;
	return BadResponse::none;
}

ResponseAction response_action(const InFlight& f, s16 status)
{
	const bool flushy = f.inner_op == BLKIF_OP_FLUSH_DISKCACHE ||
			    f.inner_op == BLKIF_OP_WRITE_BARRIER;

	if (status == BLKIF_RSP_OKAY)
		return ResponseAction::ok;
	if (status == BLKIF_RSP_EOPNOTSUPP) {
		if (flushy)
			return ResponseAction::flush_refused;
		if (f.inner_op == BLKIF_OP_DISCARD)
			return ResponseAction::discard_refused;
		return ResponseAction::io_error;
	}
	// ERROR is a failure, also for an empty flush or barrier: the device could
	// not make the data durable.  Taking it for "not supported" would re-issue
	// the flush in another mode and report its success, losing the error (and
	// downgrading for good after one transient failure).
	return ResponseAction::io_error;
}

bool xvd_disk_name(u32 vdevice, DiskName* out)
{
	const u32 major = vdevice >> 8, minor = vdevice & 0xff;

	if ((vdevice >> 16) || major != 202 || (minor & 15))
		return false;
	*out = {};
	out->index = minor >> 4;
	out->first_minor = minor;
	out->minors = 16;
	out->name[0] = 'x';
	out->name[1] = 'v';
	out->name[2] = 'd';
	out->name[3] = static_cast<char>('a' + out->index);
	return true;
}

} // namespace xb
