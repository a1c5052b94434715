// Unit tests of the backend's cross-ring barrier gate (kmod/core/back_order.hpp).
#include <gtest/gtest.h>
#include <atomic>
#include <thread>
#include <vector>
#include "back_order.hpp"

using xb::OrderGate;

namespace {

TEST(BackOrder, NormalRequestsPassWithoutBarrier)
{
	OrderGate g;
	g.reset();
	for (int i = 0; i < 3; i++) {
		auto e = g.enter(1);
		EXPECT_TRUE(e.ok);
		EXPECT_EQ(e.kick, OrderGate::no_owner);
	}
	EXPECT_EQ(g.inflight(1), 3u);
	EXPECT_EQ(g.leave(1), OrderGate::no_owner);
	EXPECT_EQ(g.leave(1), OrderGate::no_owner);
	EXPECT_EQ(g.leave(1), OrderGate::no_owner);
	EXPECT_TRUE(g.drained(4));
}

TEST(BackOrder, BarrierDrainsEveryRing)
{
	OrderGate g;
	g.reset();
	ASSERT_TRUE(g.enter(0).ok);
	ASSERT_TRUE(g.enter(2).ok);
	ASSERT_TRUE(g.enter(2).ok);
	ASSERT_TRUE(g.try_begin(1));
	EXPECT_EQ(g.owner(), 1u);
	EXPECT_FALSE(g.drained(3));
	// requests received after the barrier wait, on every ring, the owner's too
	EXPECT_FALSE(g.enter(0).ok);
	EXPECT_FALSE(g.enter(1).ok);
	EXPECT_FALSE(g.enter(3).ok);
	EXPECT_EQ(g.inflight(3), 0u);
	// a ring that still has requests in flight does not wake the owner
	EXPECT_EQ(g.leave(2), OrderGate::no_owner);
	EXPECT_FALSE(g.drained(3));
	// the last request of a ring wakes the owner
	EXPECT_EQ(g.leave(2), 1u);
	EXPECT_FALSE(g.drained(3));
	EXPECT_EQ(g.leave(0), 1u);
	EXPECT_TRUE(g.drained(3));
	g.end(1);
	EXPECT_EQ(g.owner(), OrderGate::no_owner);
	EXPECT_TRUE(g.enter(0).ok);
}

TEST(BackOrder, RefusedEnterWakesOwnerWhenItWasTheLast)
{
	OrderGate g;
	g.reset();
	ASSERT_TRUE(g.try_begin(0));
	// the refused request's own increment and undo: owner must look again
	auto e = g.enter(1);
	EXPECT_FALSE(e.ok);
	EXPECT_EQ(e.kick, 0u);
	EXPECT_TRUE(g.drained(2));
}

TEST(BackOrder, OneBarrierAtATime)
{
	OrderGate g;
	g.reset();
	ASSERT_TRUE(g.try_begin(0));
	EXPECT_FALSE(g.try_begin(1));
	g.end(1);   // not the owner: no effect
	EXPECT_EQ(g.owner(), 0u);
	g.end(0);
	EXPECT_TRUE(g.try_begin(1));
}

// Two threads: rings entering and leaving while a barrier claims the gate.
// Once the owner saw drained(), no request may be in flight until end().
TEST(BackOrder, NoRequestStartsDuringABarrier)
{
	for (int round = 0; round < 50; round++) {
		OrderGate g;
		g.reset();
		std::atomic<bool> barrier_running{false}, stop{false}, violated{false};
		std::thread ring([&] {
			while (!stop.load()) {
				auto e = g.enter(1);
				if (!e.ok)
					continue;
				if (barrier_running.load())
					violated = true;
				g.leave(1);
			}
		});
		for (int b = 0; b < 200; b++) {
			while (!g.try_begin(0)) {}
			while (!g.drained(2)) {}
			barrier_running = true;
			for (volatile int spin = 0; spin < 200; spin = spin + 1) {}
			barrier_running = false;
			g.end(0);
		}
		stop = true;
		ring.join();
		EXPECT_FALSE(violated.load());
	}
}

} // namespace
