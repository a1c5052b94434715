// SPDX-License-Identifier: GPL-2.0
// stats.hpp - per-ring I/O statistics kept by the core for both drivers.
//
// Each ring owns one RingStats and updates it under that ring's lock (no atomics,
// no global lock on the I/O path); a reader (sysfs, netlink) sums the rings of a
// device with DeviceStats::add.  Latency histograms have log2 buckets of
// microseconds: bucket 0 counts < 2 us, bucket i counts [2^i, 2^(i+1)) us, the
// last bucket everything from 2^(latency_buckets-1) us (~8.4 s) up.
#pragma once
#include "kstd.hpp"
#include "xenblk/blkif.h"

namespace xb {

enum class StatOp : kstd::u8 { read = 0, write, flush, barrier, discard, count };
inline constexpr unsigned stat_ops = static_cast<unsigned>(StatOp::count);

// The statistics class of a blkif operation (both drivers count the same way:
// discard and secure erase are discards).
constexpr StatOp stat_of_op(kstd::u8 op)
{
	switch (op) {
	case BLKIF_OP_READ: return StatOp::read;
	case BLKIF_OP_WRITE: return StatOp::write;
	case BLKIF_OP_FLUSH_DISKCACHE: return StatOp::flush;
	case BLKIF_OP_WRITE_BARRIER: return StatOp::barrier;
	default: return StatOp::discard;
	}
}
inline constexpr unsigned latency_buckets = 24;

struct OpCounters {
	kstd::u64 requests;   // completed blkif requests
	kstd::u64 sectors;    // 512-byte sectors transferred (discard: discarded)
	kstd::u64 errors;     // completed with BLKIF_RSP_ERROR or an I/O error
	kstd::u64 unsupported;// completed with BLKIF_RSP_EOPNOTSUPP
};

struct LatencyHistogram {
	kstd::u64 bucket[latency_buckets];

	static constexpr unsigned bucket_of(kstd::u64 ns)
	{
		const kstd::u64 us = ns / 1000;
		if (us < 2)
			return 0;
		const unsigned b = 63u - static_cast<unsigned>(__builtin_clzll(us));
		return b < latency_buckets ? b : latency_buckets - 1;
	}
	void record(kstd::u64 ns) { bucket[bucket_of(ns)]++; }
	kstd::u64 total() const
	{
		kstd::u64 n = 0;
		for (kstd::u64 b : bucket)
			n += b;
		return n;
	}
};

struct RingStats {
	OpCounters op[stat_ops];
	LatencyHistogram latency[stat_ops];
	kstd::u64 in_flight;        // requests on the ring now
	kstd::u64 bad_requests;     // backend: rejected by validation; frontend: bad responses
	kstd::u64 fallbacks;        // frontend: flush-mode downgrades; backend: features withdrawn
	kstd::u64 out_of_resources; // backend: oo_req (waited for memory or grants)
	kstd::u64 barrier_waits;    // backend: barriers that found requests in flight on other rings
	kstd::u64 barrier_waited;   // backend: those requests, summed (each completed before the barrier)
	kstd::u64 indirect_kept;    // backend: indirect pages read through kept (persistent) mappings
	kstd::u64 indirect_mapped;  // backend: indirect pages mapped for their request only
	kstd::u64 throttled;        // backend: requests that waited for the I/O limits
	kstd::u64 throttled_ns;     // backend: their waits, summed
	kstd::u64 throttle_held;    // backend: requests waiting for them now

	void complete(StatOp o, kstd::u64 sectors, kstd::s16 status, kstd::u64 latency_ns)
	{
		OpCounters& c = op[static_cast<unsigned>(o)];
		c.requests++;
		if (status == 0)
			c.sectors += sectors;
		else if (status == -2)   // BLKIF_RSP_EOPNOTSUPP
			c.unsupported++;
		else
			c.errors++;
		latency[static_cast<unsigned>(o)].record(latency_ns);
	}
};

// The sum over a device's rings (a snapshot: rings are read one by one).
struct DeviceStats : RingStats {
	void add(const RingStats& r)
	{
		for (unsigned o = 0; o < stat_ops; o++) {
			op[o].requests += r.op[o].requests;
			op[o].sectors += r.op[o].sectors;
			op[o].errors += r.op[o].errors;
			op[o].unsupported += r.op[o].unsupported;
			for (unsigned b = 0; b < latency_buckets; b++)
				latency[o].bucket[b] += r.latency[o].bucket[b];
		}
		in_flight += r.in_flight;
		bad_requests += r.bad_requests;
		fallbacks += r.fallbacks;
		out_of_resources += r.out_of_resources;
		barrier_waits += r.barrier_waits;
		barrier_waited += r.barrier_waited;
		indirect_kept += r.indirect_kept;
		indirect_mapped += r.indirect_mapped;
		throttled += r.throttled;
		throttled_ns += r.throttled_ns;
		throttle_held += r.throttle_held;
	}
};

} // namespace xb
