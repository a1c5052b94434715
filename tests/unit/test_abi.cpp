// Wire ABI and protocol-name tests.
#include <gtest/gtest.h>
#include <cstddef>
#include "abi.hpp"

namespace {

TEST(Abi, EntrySizesMatchXenLayouts)
{
	EXPECT_EQ(xb::entry_size(xb::Abi::x86_64), 112u);
	EXPECT_EQ(xb::entry_size(xb::Abi::x86_32), 108u);
	EXPECT_EQ(xb::response_size(xb::Abi::x86_64), 16u);
	EXPECT_EQ(xb::response_size(xb::Abi::x86_32), 12u);
}

TEST(Abi, RingEntriesPerOrder)
{
	for (unsigned order = 0; order <= BLKIF_MAX_RING_PAGE_ORDER; order++) {
		EXPECT_EQ(BLKIF_X86_64_RING_SIZE(order), 32u << order) << "order " << order;
		EXPECT_EQ(BLKIF_X86_32_RING_SIZE(order), 32u << order) << "order " << order;
	}
}

TEST(Abi, ProtocolNames)
{
	xb::Abi a;
	ASSERT_TRUE(xb::parse_protocol("x86_32-abi", &a));
	EXPECT_EQ(a, xb::Abi::x86_32);
	ASSERT_TRUE(xb::parse_protocol("x86_64-abi", &a));
	EXPECT_EQ(a, xb::Abi::x86_64);
	ASSERT_TRUE(xb::parse_protocol(nullptr, &a));
	EXPECT_EQ(a, xb::native_abi());
	ASSERT_TRUE(xb::parse_protocol("", &a));
	EXPECT_EQ(a, xb::native_abi());
	EXPECT_FALSE(xb::parse_protocol("arm-abi", &a));
	EXPECT_FALSE(xb::parse_protocol("x86_64-abi ", &a));
	EXPECT_STREQ(xb::protocol_name(xb::Abi::x86_32), "x86_32-abi");
	EXPECT_STREQ(xb::protocol_name(xb::Abi::x86_64), "x86_64-abi");
}

TEST(Abi, OffsetsSeenFromCxx)
{
	EXPECT_EQ(offsetof(blkif_x86_64_request_rw, seg), 24u);
	EXPECT_EQ(offsetof(blkif_x86_32_request_rw, seg), 20u);
	EXPECT_EQ(offsetof(blkif_x86_64_request_indirect, indirect_grefs), 28u);
	EXPECT_EQ(sizeof(blkif_x86_64_request_discard), 32u);
	EXPECT_EQ(sizeof(blkif_x86_32_request_discard), 28u);
}

} // namespace
