// The self-check each module runs at load must pass on a correct core.
#include <gtest/gtest.h>
#include "selftest.hpp"

TEST(Selftest, CorePassesItsLoadTimeSelfCheck)
{
	EXPECT_EQ(xb::core_selftest(), kstd::Errno::ok);
}
