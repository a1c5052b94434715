// SPDX-License-Identifier: GPL-2.0
// throttle.cpp - per-disk I/O limits (see throttle.hpp).
#include "throttle.hpp"

namespace xb::throttle {

namespace {

constexpr u64 u64_max = ~0ull;

u64 sat_add(u64 a, u64 b) { return a > u64_max - b ? u64_max : a + b; }

// whether a kind counts this operation
bool applies(Kind k, Op op)
{
	switch (k) {
	case iops_read:
	case bps_read:
		return op == Op::read;
	case iops_write:
		return op == Op::write || op == Op::discard;
	case bps_write:
		return op == Op::write;
	case iops_total:
		return op == Op::read || op == Op::write || op == Op::discard;
	case bps_total:
		return op == Op::read || op == Op::write;
	default:
		return false;
	}
}

bool is_bytes(Kind k) { return k == bps_read || k == bps_write || k == bps_total; }

// the burst of a limit, the default filled in: a tenth of a second at the rate
u64 burst_of(const Limit& l)
{
	if (l.burst)
		return l.burst;
	return l.rate / 10 ? l.rate / 10 : 1;
}

} // namespace

u64 cost_ns(u64 units, u64 rate)
{
	// units * 10^9 / rate without 128-bit division (the kernel has none):
	// the quotient part saturates, the remainder part stays below 10^19
	const u64 q = units / rate, r = units % rate;
	if (q > u64_max / ns_per_s)
		return u64_max;
	return sat_add(q * ns_per_s, r * ns_per_s / rate);
}

Bad check(const Limits& lim, Kind* kind)
{
	for (u32 k = 0; k < nr_kinds; k++) {
		const Limit& l = lim.l[k];
		*kind = static_cast<Kind>(k);
		if (l.rate > max_rate)
			return Bad::rate_too_high;
		if (l.rate && l.burst / max_burst_seconds > l.rate)
			return Bad::burst_too_high;
	}
	return Bad::none;
}

const char* bad_name(Bad b)
{
	switch (b) {
	case Bad::none: return "ok";
	case Bad::rate_too_high: return "rate above 10^10 per second";
	case Bad::burst_too_high: return "burst above a minute at the rate";
	}
	return "?";
}

const char* kind_name(Kind k)
{
	switch (k) {
	case iops_read: return "iops_read";
	case iops_write: return "iops_write";
	case iops_total: return "iops";
	case bps_read: return "bps_read";
	case bps_write: return "bps_write";
	case bps_total: return "bps";
	default: return "?";
	}
}

void Bucket::set(const Limit& lim)
{
	const u64 rate = lim.rate > max_rate ? max_rate : lim.rate;
	u64 tol = 0;
	if (rate) {
		u64 burst = burst_of(lim);
		if (burst / max_burst_seconds > rate)
			burst = rate * max_burst_seconds;
		tol = cost_ns(burst, rate);
	}
	__atomic_store_n(&rate_, rate, __ATOMIC_RELAXED);
	__atomic_store_n(&tolerance_, tol, __ATOMIC_RELAXED);
	__atomic_store_n(&tat_, 0, __ATOMIC_RELEASE);   // a full burst
}

void Bucket::charge(u64 now, u64 units)
{
	const u64 rate = __atomic_load_n(&rate_, __ATOMIC_RELAXED);
	if (!rate)
		return;
	const u64 cost = cost_ns(units, rate);
	u64 tat = __atomic_load_n(&tat_, __ATOMIC_RELAXED);
	for (;;) {
		const u64 next = sat_add(tat > now ? tat : now, cost);
		if (__atomic_compare_exchange_n(&tat_, &tat, next, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return;
	}
}

u64 Bucket::tokens(u64 now) const
{
	const u64 rate = __atomic_load_n(&rate_, __ATOMIC_RELAXED);
	if (!rate)
		return u64_max;
	const u64 tat = __atomic_load_n(&tat_, __ATOMIC_ACQUIRE);
	const u64 tol = __atomic_load_n(&tolerance_, __ATOMIC_RELAXED);
	const u64 ahead = tat > now ? tat - now : 0;
	if (ahead >= tol)
		return 0;
	const u64 room = tol - ahead;   // <= a minute: the products below fit
	return room / ns_per_s * rate + room % ns_per_s * rate / ns_per_s;
}

void Throttle::set(const Limits& lim)
{
	for (u32 k = 0; k < nr_kinds; k++)
		b_[k].set(lim.l[k]);
	lim_ = lim;
	__atomic_store_n(&active_, lim.any(), __ATOMIC_RELEASE);
}

Limits Throttle::limits() const { return lim_; }

u64 Throttle::admit(Op op, u64 bytes, u64 now)
{
	if (!active() || op == Op::other)
		return 0;
	u64 wait = 0;
	for (u32 k = 0; k < nr_kinds; k++) {
		if (!applies(static_cast<Kind>(k), op) || !b_[k].limited())
			continue;
		const u64 w = b_[k].wait_ns(now);
		if (w > wait)
			wait = w;
	}
	if (wait)
		return wait;
	for (u32 k = 0; k < nr_kinds; k++)
		if (applies(static_cast<Kind>(k), op))
			b_[k].charge(now, is_bytes(static_cast<Kind>(k)) ? bytes : 1);
	return 0;
}

} // namespace xb::throttle
