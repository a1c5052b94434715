// Unit tests of the backend's toolstack key and parameter parsing.
#include <gtest/gtest.h>
#include "back_config.hpp"

using namespace xb;

TEST(BackConfig, PhysicalDeviceIsHexMajorMinor)
{
	u32 ma = 1, mi = 1;
	EXPECT_TRUE(parse_physical_device("7:0", &ma, &mi));
	EXPECT_EQ(ma, 7u);
	EXPECT_EQ(mi, 0u);
	EXPECT_TRUE(parse_physical_device("fe:10", &ma, &mi));
	EXPECT_EQ(ma, 0xfeu);
	EXPECT_EQ(mi, 0x10u);
	EXPECT_TRUE(parse_physical_device("FC:ffffffff", &ma, &mi));
	EXPECT_EQ(ma, 0xfcu);
	EXPECT_EQ(mi, 0xffffffffu);
}

TEST(BackConfig, PhysicalDeviceRefusesEverythingElse)
{
	u32 ma = 5, mi = 6;
	for (const char* s : {"", ":", "7", "7:", ":0", "7:0\n", " 7:0", "0x7:0", "7:0:1",
			      "7:-1", "1ffffffff:0", "7:100000000", "g:0", "7;0"})
		EXPECT_FALSE(parse_physical_device(s, &ma, &mi)) << s;
	EXPECT_FALSE(parse_physical_device(nullptr, &ma, &mi));
	EXPECT_EQ(ma, 5u);   // untouched on failure
	EXPECT_EQ(mi, 6u);
}

TEST(BackConfig, Mode)
{
	bool ro = false;
	EXPECT_TRUE(parse_vbd_mode("r", &ro));
	EXPECT_TRUE(ro);
	EXPECT_TRUE(parse_vbd_mode("w", &ro));
	EXPECT_FALSE(ro);
	ro = true;
	EXPECT_TRUE(parse_vbd_mode("w!", &ro));
	EXPECT_FALSE(ro);
	for (const char* s : {"", "rw", "R", "W", "w\n", "x"})
		EXPECT_FALSE(parse_vbd_mode(s, &ro)) << s;
	EXPECT_FALSE(parse_vbd_mode(nullptr, &ro));
}

TEST(BackConfig, FlushPolicyNames)
{
	FlushPolicy p = FlushPolicy::none;
	for (const char* s : {"auto", "flush", "barrier", "both", "none"}) {
		ASSERT_TRUE(parse_flush_policy(s, &p)) << s;
		EXPECT_STREQ(flush_policy_name(p), s);
	}
	EXPECT_TRUE(parse_flush_policy("auto", &p));
	EXPECT_EQ(p, FlushPolicy::automatic);
	for (const char* s : {"", "Auto", "barrier\n", "fua"})
		EXPECT_FALSE(parse_flush_policy(s, &p)) << s;
	EXPECT_FALSE(parse_flush_policy(nullptr, &p));
}
