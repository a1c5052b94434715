// SPDX-License-Identifier: GPL-2.0
// throttle.hpp - per-disk I/O limits for the backend: IOPS and bytes per second,
// each for reads, writes and both, with a burst.
//
// Each limit is a cell-rate bucket kept as one word, its "theoretical arrival
// time" (TAT): the time at which the disk would have paid for everything it
// did at the limit's rate.  A request may start while TAT - now <= tolerance,
// the burst's worth of time; starting it moves TAT on by the request's cost
// (units / rate).  A quiet disk's TAT falls behind the clock, so it may then run
// ahead by the burst; a busy one is held to the rate.  A request larger than the
// burst still starts when the disk has caught up and makes the next ones wait
// (nothing is ever refused for its size).
//
// No lock: admit() reads every bucket that applies, and charges them (one
// atomic compare-and-swap loop each) only when none asks for a wait.  Rings of
// one device (or the devices of a group sharing one Throttle) racing between
// the check and the charge may run ahead by one request each: the rate stays
// the rate, the burst grows by at most the number of racing rings.
//
// What counts: reads and writes count one request and their bytes; a discard
// (or secure erase) counts one write request and no bytes; flushes and
// barriers are never charged or delayed here (a barrier still waits for the
// ring order, back_order.hpp).  Time is the caller's, in nanoseconds
// (monotonic): the unit tests drive a fake clock.
#pragma once
#include "kstd.hpp"

namespace xb::throttle {

using kstd::u32;
using kstd::u64;

enum Kind : u32 {
	iops_read, iops_write, iops_total,
	bps_read, bps_write, bps_total,
	nr_kinds
};

// What a request is for the limiter.
enum class Op : u32 { read, write, discard, other /* flush, barrier: free */ };

inline constexpr u64 ns_per_s = 1000000000ull;
// Bounds a setting must keep (checked by check(); the arithmetic below relies
// on them): rates up to 10^10 per second (10 GB/s, 10 G requests/s), and a
// burst of at most a minute at the rate.
inline constexpr u64 max_rate = 10000000000ull;
inline constexpr u64 max_burst_seconds = 60;

struct Limit {
	u64 rate = 0;    // units (requests or bytes) per second; 0: no limit
	u64 burst = 0;   // units a quiet disk may run ahead; 0: a tenth of a second's worth
};

struct Limits {
	Limit l[nr_kinds];
	bool any() const
	{
		for (const Limit& x : l)
			if (x.rate)
				return true;
		return false;
	}
};

enum class Bad : u32 { none, rate_too_high, burst_too_high };
// The first limit that is out of bounds (*kind), or Bad::none.
Bad check(const Limits& lim, Kind* kind);
const char* bad_name(Bad b);
const char* kind_name(Kind k);

// ns to pay `units` at `rate` per second, saturating (rate != 0, rate <= max_rate)
u64 cost_ns(u64 units, u64 rate);

class Bucket {
public:
	void set(const Limit& lim);
	bool limited() const { return __atomic_load_n(&rate_, __ATOMIC_RELAXED) != 0; }
	// ns until a request may start (0: now)
	u64 wait_ns(u64 now) const
	{
		const u64 tat = __atomic_load_n(&tat_, __ATOMIC_ACQUIRE);
		const u64 tol = __atomic_load_n(&tolerance_, __ATOMIC_RELAXED);
		if (tat <= now || tat - now <= tol)
			return 0;
		return tat - now - tol;
	}
	void charge(u64 now, u64 units);
	// units the disk may still run ahead now (for statistics)
	u64 tokens(u64 now) const;

private:
	u64 rate_ = 0;
	u64 tolerance_ = 0;   // ns: the burst at the rate
	u64 tat_ = 0;
};

// set() and limits() run under the owner's lock (one writer); admit() and
// tokens() from any ring at any time.
class Throttle {
public:
	// A new setting applies at once and starts from a full burst.
	void set(const Limits& lim);
	Limits limits() const;
	bool active() const { return __atomic_load_n(&active_, __ATOMIC_RELAXED); }
	// 0: the request may start now, and is charged.  Otherwise how many ns to
	// wait before asking again; nothing was charged.
	u64 admit(Op op, u64 bytes, u64 now);
	u64 tokens(Kind k, u64 now) const { return b_[k].tokens(now); }

private:
	Bucket b_[nr_kinds];
	Limits lim_ = {};
	bool active_ = false;
};

} // namespace xb::throttle
