// SPDX-License-Identifier: GPL-2.0
// back_order.hpp - cross-ring ordering of WRITE_BARRIER for one backend device.
//
// Every ring of a device runs its own worker.  Normal requests (reads, writes,
// flushes, discards) only touch their own ring's in-flight counter and read the
// device's owner word: no lock on the fast path.  A WRITE_BARRIER claims the
// gate for its ring; from then on no ring starts a new request, the owner waits
// until every ring's in-flight count reached zero (all requests received
// before the barrier completed), submits the barrier, and releases the gate
// when it completed.  Requests received after the barrier wait for it.
//
// enter() and try_begin() follow the store-then-load (Dekker) pattern with
// sequentially consistent atomics: either a ring entering sees the owner, or
// the owner sees that ring's increment and waits for its leave().
#pragma once
#include "kstd.hpp"

namespace xb {

class OrderGate {
public:
	static constexpr kstd::u32 max_rings = 32;
	static constexpr kstd::u32 no_owner = ~0u;

	struct Entered {
		bool ok;             // the request may start; leave() when it completes
		kstd::u32 kick;      // not no_owner: wake this ring (the barrier owner)
	};

	// Forget everything (no request in flight): at connect.
	void reset()
	{
		for (auto& c : inflight_)
			__atomic_store_n(&c.n, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&owner_, no_owner, __ATOMIC_SEQ_CST);
	}

	// A ring wants to start a normal request.  Refused while a barrier holds
	// the gate: the ring keeps the request and retries when woken.
	Entered enter(kstd::u32 ring)
	{
		__atomic_add_fetch(&inflight_[ring].n, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&owner_, __ATOMIC_SEQ_CST) == no_owner)
			return {true, no_owner};
		return {false, leave(ring)};
	}

	// A request started with enter() completed.  Returns the ring to wake
	// (the barrier owner, once this ring has nothing in flight), or no_owner.
	kstd::u32 leave(kstd::u32 ring)
	{
		if (__atomic_sub_fetch(&inflight_[ring].n, 1, __ATOMIC_SEQ_CST) != 0)
			return no_owner;
		return __atomic_load_n(&owner_, __ATOMIC_SEQ_CST);
	}

	// A ring received a WRITE_BARRIER: claim the gate.  false if another
	// ring's barrier holds it (retry when woken).
	bool try_begin(kstd::u32 ring)
	{
		kstd::u32 expect = no_owner;
		return __atomic_compare_exchange_n(&owner_, &expect, ring, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}

	// Owner: every request entered before the claim has left.
	bool drained(kstd::u32 nr_rings) const
	{
		for (kstd::u32 i = 0; i < nr_rings && i < max_rings; i++)
			if (__atomic_load_n(&inflight_[i].n, __ATOMIC_SEQ_CST) != 0)
				return false;
		return true;
	}

	// Owner: the barrier completed; wake every ring afterwards.
	void end(kstd::u32 ring)
	{
		kstd::u32 expect = ring;
		__atomic_compare_exchange_n(&owner_, &expect, no_owner, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}

	kstd::u32 owner() const { return __atomic_load_n(&owner_, __ATOMIC_SEQ_CST); }
	kstd::u64 inflight(kstd::u32 ring) const
	{
		return __atomic_load_n(&inflight_[ring].n, __ATOMIC_SEQ_CST);
	}

private:
	// one 64-byte line per ring (padding, not alignas: the kernel's operator
	// new has no over-aligned form): rings rarely write each other's line
	struct Counter {
		kstd::u64 n;
		kstd::u64 pad[7];
	};
	Counter inflight_[max_rings] = {};
	kstd::u32 owner_ = no_owner;
};

} // namespace xb
