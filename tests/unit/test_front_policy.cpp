// The frontend's policy for dead, broken and untrusted backends
// (kmod/core/front_policy.hpp): timeouts, giving back a request whose pages
// the backend may map, bounce mode.
#include <gtest/gtest.h>
#include "front_policy.hpp"

using namespace xb;

namespace {
RingHealth healthy()
{
	RingHealth h = {};
	h.ring_up = true;
	h.backend_state = 4;   // Connected
	return h;
}
}

TEST(FrontPolicy, TimeoutOnAHealthyRingWaitsAgain)
{
	EXPECT_EQ(timeout_action(healthy()), TimeoutAction::reset_timer);
}

TEST(FrontPolicy, TimeoutFailsOnABrokenOrGoneRing)
{
	RingHealth h = healthy();
	h.broken = true;
	EXPECT_EQ(timeout_action(h), TimeoutAction::fail);
	h = healthy();
	h.closing = true;
	EXPECT_EQ(timeout_action(h), TimeoutAction::fail);
	h = healthy();
	h.ring_dead = true;
	EXPECT_EQ(timeout_action(h), TimeoutAction::fail);
	h = healthy();
	h.ring_up = false;
	EXPECT_EQ(timeout_action(h), TimeoutAction::fail);
}

TEST(FrontPolicy, TimeoutFailsWhenTheBackendIsNotConnected)
{
	for (int st : {0, 1, 2, 3, 5, 6, 7, 8}) {
		RingHealth h = healthy();
		h.backend_state = st;
		EXPECT_EQ(timeout_action(h), TimeoutAction::fail) << st;
	}
}

TEST(FrontPolicy, TimeoutDuringAResumeWaits)
{
	// the request is held for the new rings, whatever else is true
	RingHealth h = healthy();
	h.resuming = true;
	h.broken = true;
	h.ring_up = false;
	h.backend_state = 1;
	EXPECT_EQ(timeout_action(h), TimeoutAction::reset_timer);
}

TEST(FrontPolicy, ReleasePoolPagesAtOnce)
{
	// pool pages never go back to their owner: a request on them can always fail
	for (bool ended : {false, true})
		for (bool give_up : {false, true})
			EXPECT_EQ(release_action(true, ended, give_up), ReleaseAction::fail_now);
}

TEST(FrontPolicy, ReleaseOwnPagesOnlyWhenUnmappedOrGivingUp)
{
	EXPECT_EQ(release_action(false, true, false), ReleaseAction::fail_now);
	EXPECT_EQ(release_action(false, true, true), ReleaseAction::fail_now);
	EXPECT_EQ(release_action(false, false, false), ReleaseAction::wait);
	EXPECT_EQ(release_action(false, false, true), ReleaseAction::defer_and_fail);
}

TEST(FrontPolicy, TrustedByDefault)
{
	EXPECT_TRUE(backend_trusted(true, nullptr));
	EXPECT_TRUE(backend_trusted(true, "1"));
	EXPECT_TRUE(backend_trusted(true, "2"));
}

TEST(FrontPolicy, EitherSideCanWithdrawTrust)
{
	EXPECT_FALSE(backend_trusted(false, nullptr));
	EXPECT_FALSE(backend_trusted(false, "1"));
	EXPECT_FALSE(backend_trusted(true, "0"));
	EXPECT_FALSE(backend_trusted(true, "00"));
}

TEST(FrontPolicy, AMalformedTrustKeyIsNotTrust)
{
	for (const char* v : {"", "yes", " 1", "1\n", "-1", "0x1", "99999999999"})
		EXPECT_FALSE(backend_trusted(true, v)) << '"' << v << '"';
}

TEST(FrontPolicy, GrantModes)
{
	EXPECT_EQ(grant_mode(true, false), GrantMode::direct);
	EXPECT_EQ(grant_mode(false, false), GrantMode::bounce);
	EXPECT_EQ(grant_mode(true, true), GrantMode::persistent);
	EXPECT_EQ(grant_mode(false, true), GrantMode::persistent);
	EXPECT_FALSE(pooled(GrantMode::direct));
	EXPECT_TRUE(pooled(GrantMode::bounce));
	EXPECT_TRUE(pooled(GrantMode::persistent));
	// only persistent grants ask the grant table whether the backend kept a page
	EXPECT_TRUE(probe_after_response(GrantMode::persistent));
	EXPECT_FALSE(probe_after_response(GrantMode::bounce));
	EXPECT_STREQ(grant_mode_name(GrantMode::bounce), "bounce");
	EXPECT_STREQ(grant_mode_name(GrantMode::direct), "direct");
	EXPECT_STREQ(grant_mode_name(GrantMode::persistent), "persistent");
}
