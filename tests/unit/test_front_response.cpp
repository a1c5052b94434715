// Frontend response checks, response actions and xvd disk names.
#include <gtest/gtest.h>
#include <cstring>
#include "front_response.hpp"

using namespace xb;

namespace {
Response rsp(u64 id, u8 op, s16 status) { return Response{id, op, status}; }
}

TEST(FrontResponse, AcceptsTheRequestInFlight)
{
	InFlight t[4] = {};
	t[2] = {true, BLKIF_OP_WRITE, BLKIF_OP_WRITE};
	EXPECT_EQ(check_response(rsp(2, BLKIF_OP_WRITE, BLKIF_RSP_OKAY), t), BadResponse::none);
	EXPECT_EQ(check_response(rsp(2, BLKIF_OP_WRITE, BLKIF_RSP_ERROR), t), BadResponse::none);
	EXPECT_EQ(check_response(rsp(2, BLKIF_OP_WRITE, BLKIF_RSP_EOPNOTSUPP), t), BadResponse::none);
}

TEST(FrontResponse, RejectsIdsOpsAndStatuses)
{
	InFlight t[4] = {};
	t[1] = {true, BLKIF_OP_READ, BLKIF_OP_READ};
	EXPECT_EQ(check_response(rsp(4, BLKIF_OP_READ, 0), t), BadResponse::id_out_of_range);
	EXPECT_EQ(check_response(rsp(~0ull, BLKIF_OP_READ, 0), t), BadResponse::id_out_of_range);
	EXPECT_EQ(check_response(rsp(0, BLKIF_OP_READ, 0), t), BadResponse::not_in_flight);
	EXPECT_EQ(check_response(rsp(1, BLKIF_OP_WRITE, 0), t), BadResponse::op_mismatch);
	EXPECT_EQ(check_response(rsp(1, BLKIF_OP_INDIRECT, 0), t), BadResponse::op_mismatch);
	EXPECT_EQ(check_response(rsp(1, BLKIF_OP_READ, 1), t), BadResponse::bad_status);
	EXPECT_EQ(check_response(rsp(1, BLKIF_OP_READ, -3), t), BadResponse::bad_status);
}

TEST(FrontResponse, IndirectMayBeAnsweredEitherWay)
{
	InFlight t[2] = {};
	t[0] = {true, BLKIF_OP_INDIRECT, BLKIF_OP_READ};
	EXPECT_EQ(check_response(rsp(0, BLKIF_OP_INDIRECT, 0), t), BadResponse::none);
	EXPECT_EQ(check_response(rsp(0, BLKIF_OP_READ, 0), t), BadResponse::none);
	EXPECT_EQ(check_response(rsp(0, BLKIF_OP_WRITE, 0), t), BadResponse::op_mismatch);
	// a direct request is never answered as INDIRECT
	t[1] = {true, BLKIF_OP_WRITE, BLKIF_OP_WRITE};
	EXPECT_EQ(check_response(rsp(1, BLKIF_OP_INDIRECT, 0), t), BadResponse::op_mismatch);
}

TEST(FrontResponse, Actions)
{
	const InFlight flush = {true, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_FLUSH_DISKCACHE};
	const InFlight barrier = {true, BLKIF_OP_WRITE_BARRIER, BLKIF_OP_WRITE_BARRIER};
	const InFlight disc = {true, BLKIF_OP_DISCARD, BLKIF_OP_DISCARD};
	const InFlight wr = {true, BLKIF_OP_INDIRECT, BLKIF_OP_WRITE};
	EXPECT_EQ(response_action(flush, BLKIF_RSP_OKAY), ResponseAction::ok);
	// only EOPNOTSUPP means "not supported": downgrade and re-issue
	EXPECT_EQ(response_action(flush, BLKIF_RSP_EOPNOTSUPP), ResponseAction::flush_refused);
	EXPECT_EQ(response_action(barrier, BLKIF_RSP_EOPNOTSUPP), ResponseAction::flush_refused);
	// ERROR is a failed flush (empty or with data), never a refusal: re-issuing
	// it in another mode could report success for a flush that failed
	EXPECT_EQ(response_action(flush, BLKIF_RSP_ERROR), ResponseAction::io_error);
	EXPECT_EQ(response_action(barrier, BLKIF_RSP_ERROR), ResponseAction::io_error);
	EXPECT_EQ(response_action(disc, BLKIF_RSP_EOPNOTSUPP), ResponseAction::discard_refused);
	EXPECT_EQ(response_action(disc, BLKIF_RSP_ERROR), ResponseAction::io_error);
	EXPECT_EQ(response_action(wr, BLKIF_RSP_EOPNOTSUPP), ResponseAction::io_error);
	EXPECT_EQ(response_action(wr, BLKIF_RSP_ERROR), ResponseAction::io_error);
	EXPECT_EQ(response_action(wr, BLKIF_RSP_OKAY), ResponseAction::ok);
}

TEST(FrontResponse, XvdNames)
{
	DiskName d;
	ASSERT_TRUE(xvd_disk_name(51712, &d));
	EXPECT_STREQ(d.name, "xvda");
	EXPECT_EQ(d.first_minor, 0u);
	EXPECT_EQ(d.minors, 16u);
	ASSERT_TRUE(xvd_disk_name(51712 + 16, &d));
	EXPECT_STREQ(d.name, "xvdb");
	EXPECT_EQ(d.first_minor, 16u);
	ASSERT_TRUE(xvd_disk_name(51712 + 15 * 16, &d));
	EXPECT_STREQ(d.name, "xvdp");
	EXPECT_FALSE(xvd_disk_name(51713, &d));            // a partition
	EXPECT_FALSE(xvd_disk_name(768, &d));              // hda (IDE major 3)
	EXPECT_FALSE(xvd_disk_name((1u << 28) | 256, &d)); // extended numbering
	EXPECT_FALSE(xvd_disk_name(0, &d));
}
