// Feature negotiation: number parsing, key names, both sides' keys and rules,
// and the key sets the stock Linux backend and QEMU's qdisk publish.
#include <gtest/gtest.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>
#include "negotiate.hpp"

namespace {

using xb::FlushMode;
using xb::FlushPolicy;
using Keys = std::map<std::string, std::string>;

// One xenstore directory.  read() truncates like the glue does.
class Store final : public xb::KeySource, public xb::KeySink {
public:
	Store() = default;
	explicit Store(Keys k) : keys(std::move(k)) {}
	bool read(const char* key, char* buf, size_t len) const override
	{
		auto it = keys.find(key);
		if (it == keys.end())
			return false;
		std::snprintf(buf, len, "%s", it->second.c_str());
		return true;
	}
	int write(const char* key, const char* value) override
	{
		if (fail_on == key)
			return -EACCES;
		keys[key] = value;
		return 0;
	}
	int remove(const char* key) override
	{
		if (fail_on == key)
			return -EACCES;
		keys.erase(key);
		return 0;
	}
	Keys keys;
	std::string fail_on;
};

// ---- numbers ----------------------------------------------------------------------

TEST(Numbers, StrictDecimal)
{
	uint64_t v = 7;
	EXPECT_TRUE(xb::parse_u64("0", &v));
	EXPECT_EQ(v, 0u);
	EXPECT_TRUE(xb::parse_u64("42", &v));
	EXPECT_EQ(v, 42u);
	EXPECT_TRUE(xb::parse_u64("007", &v));
	EXPECT_EQ(v, 7u);
	EXPECT_TRUE(xb::parse_u64("18446744073709551615", &v));
	EXPECT_EQ(v, UINT64_MAX);

	v = 5;
	for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1\n", "0x10", "1a", "1.0",
				"18446744073709551616", "99999999999999999999999", "\xff"}) {
		EXPECT_FALSE(xb::parse_u64(bad, &v)) << "'" << bad << "'";
		EXPECT_EQ(v, 5u) << "output untouched on failure";
	}
	EXPECT_FALSE(xb::parse_u64(nullptr, &v));

	uint32_t w = 0;
	EXPECT_TRUE(xb::parse_u32("4294967295", &w));
	EXPECT_EQ(w, UINT32_MAX);
	EXPECT_FALSE(xb::parse_u32("4294967296", &w));
}

TEST(Numbers, Format)
{
	char buf[21];
	EXPECT_EQ(xb::format_u64(buf, sizeof(buf), 0), 0);
	EXPECT_STREQ(buf, "0");
	EXPECT_EQ(xb::format_u64(buf, sizeof(buf), UINT64_MAX), 0);   // exactly fits
	EXPECT_STREQ(buf, "18446744073709551615");
	EXPECT_EQ(xb::format_u64(buf, 20, UINT64_MAX), -E2BIG);
	EXPECT_EQ(xb::format_u64(buf, 3, 123), -E2BIG);
	EXPECT_EQ(xb::format_u64(buf, 0, 1), -E2BIG);
	for (uint64_t x : {1ull, 9ull, 10ull, 4096ull, 1ull << 40}) {
		ASSERT_EQ(xb::format_u64(buf, sizeof(buf), x), 0);
		EXPECT_EQ(std::to_string(x), buf);
	}
}

TEST(Numbers, ReadAbsentMalformedOverlong)
{
	Store s(Keys{{"a", "12"}, {"bad", "12x"}, {"neg", "-3"}, {"empty", ""},
		 {"big32", "4294967296"}, {"long", std::string(40, '0') + "1"}});
	uint64_t v = 0;
	uint32_t w = 0;
	bool b = false;
	EXPECT_EQ(xb::read_u64(s, "a", 9, &v), 0);
	EXPECT_EQ(v, 12u);
	EXPECT_EQ(xb::read_u64(s, "absent", 9, &v), 0);
	EXPECT_EQ(v, 9u);
	EXPECT_EQ(xb::read_u64(s, "bad", 9, &v), -EINVAL);
	EXPECT_EQ(xb::read_u64(s, "neg", 9, &v), -EINVAL);
	EXPECT_EQ(xb::read_u64(s, "empty", 9, &v), -EINVAL);
	// leading zeros that would be cut off by the read buffer: not read as "0"
	EXPECT_EQ(xb::read_u64(s, "long", 9, &v), -EINVAL);
	EXPECT_EQ(xb::read_u32(s, "big32", 9, &w), -EINVAL);
	EXPECT_EQ(xb::read_bool(s, "a", false, &b), 0);
	EXPECT_TRUE(b);
	EXPECT_EQ(xb::read_bool(s, "absent", true, &b), 0);
	EXPECT_TRUE(b);
	EXPECT_EQ(xb::read_bool(s, "bad", false, &b), -EINVAL);
}

// ---- key names ----------------------------------------------------------------------

TEST(KeyNames, QueueAndRingRef)
{
	char k[xb::key_buf_len];
	ASSERT_EQ(xb::queue_key(k, sizeof(k), 1, 0, "event-channel"), 0);
	EXPECT_STREQ(k, "event-channel");
	ASSERT_EQ(xb::queue_key(k, sizeof(k), 4, 3, "event-channel"), 0);
	EXPECT_STREQ(k, "queue-3/event-channel");
	ASSERT_EQ(xb::ring_ref_key(k, sizeof(k), 1, 0, 0, 0), 0);
	EXPECT_STREQ(k, "ring-ref");
	ASSERT_EQ(xb::ring_ref_key(k, sizeof(k), 1, 0, 2, 3), 0);
	EXPECT_STREQ(k, "ring-ref3");
	ASSERT_EQ(xb::ring_ref_key(k, sizeof(k), 2, 1, 2, 3), 0);
	EXPECT_STREQ(k, "queue-1/ring-ref3");
	ASSERT_EQ(xb::ring_ref_key(k, sizeof(k), 2, 0, 0, 0), 0);
	EXPECT_STREQ(k, "queue-0/ring-ref");
	ASSERT_EQ(xb::ring_ref_key(k, sizeof(k), UINT32_MAX, UINT32_MAX - 1, 4, 15), 0);
	EXPECT_STREQ(k, "queue-4294967294/ring-ref15");
	EXPECT_EQ(xb::ring_ref_key(k, 17, 2, 1, 2, 3), -E2BIG);   // needs 18
	EXPECT_EQ(xb::ring_ref_key(k, 18, 2, 1, 2, 3), 0);
	EXPECT_EQ(xb::queue_key(k, 5, 1, 0, "event-channel"), -E2BIG);
}

// ---- frontend: what real backends publish --------------------------------------------

// Stock Linux 6.1 / 6.12 xen-blkback on a loop device (xen-testbed.md), plus the
// keys its connect() always writes.
Keys stock_loop_backend()
{
	return {{"feature-flush-cache", "1"}, {"feature-barrier", "1"},
		{"feature-discard", "1"}, {"discard-granularity", "4096"},
		{"discard-alignment", "0"}, {"discard-secure", "0"},
		{"feature-persistent", "1"}, {"feature-max-indirect-segments", "256"},
		{"multi-queue-max-queues", "2"}, {"max-ring-page-order", "4"},
		{"sector-size", "512"}, {"physical-sector-size", "512"}, {"info", "0"},
		{"mode", "w"}, {"sectors", "32768"}};
}

// Stock backend on brd (no write cache): flush and barrier written as 0.
Keys stock_brd_backend()
{
	Keys k = stock_loop_backend();
	k["feature-flush-cache"] = "0";
	k["feature-barrier"] = "0";
	k.erase("feature-discard");
	k.erase("discard-granularity");
	k.erase("discard-alignment");
	k.erase("discard-secure");
	return k;
}

// QEMU qdisk: flush-cache and discard; no barrier, persistent, indirect, multi-queue.
Keys qdisk_backend()
{
	return {{"feature-flush-cache", "1"}, {"feature-discard", "1"},
		{"discard-granularity", "512"}, {"info", "0"}, {"mode", "w"},
		{"sector-size", "512"}, {"sectors", "20480"}, {"max-ring-page-order", "4"},
		{"multi-queue-max-queues", "1"}};
}

Keys qdisk_backend_minimal()
{
	Keys k = qdisk_backend();
	k.erase("max-ring-page-order");
	k.erase("multi-queue-max-queues");
	return k;
}

xb::FrontendLimits limits(uint32_t queues = 4, uint32_t cpus = 4, uint32_t order = 4,
			  uint32_t indirect = 128, bool persistent = true)
{
	xb::FrontendLimits l;
	l.max_queues = queues;
	l.nr_cpus = cpus;
	l.max_ring_order = order;
	l.max_indirect_segments = indirect;
	l.persistent = persistent;
	return l;
}

struct PeerCase {
	const char* name;
	Keys keys;
	FlushMode flush;
	bool barrier_offered;
	bool discard;
	uint32_t granularity;
	bool persistent;
	uint32_t indirect;
	uint32_t queues;
	uint32_t order;
	uint64_t sectors;
};

class RealBackends : public ::testing::TestWithParam<PeerCase> {};

TEST_P(RealBackends, Negotiate)
{
	const PeerCase& pc = GetParam();
	Store be(pc.keys);
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(be, limits(), &c), 0);
	EXPECT_EQ(c.flush, pc.flush);
	EXPECT_EQ(c.barrier_offered, pc.barrier_offered);
	EXPECT_EQ(c.write_cache, pc.flush != FlushMode::none);
	EXPECT_EQ(c.fua, pc.flush == FlushMode::barrier);
	EXPECT_EQ(c.discard, pc.discard);
	EXPECT_EQ(c.discard_granularity, pc.granularity);
	EXPECT_EQ(c.discard_alignment, 0u);
	EXPECT_FALSE(c.discard_secure);
	EXPECT_EQ(c.persistent, pc.persistent);
	EXPECT_TRUE(c.persistent_offered);
	EXPECT_EQ(c.max_indirect_segments, pc.indirect);
	EXPECT_EQ(c.nr_queues, pc.queues);
	EXPECT_EQ(c.ring_order, pc.order);
	EXPECT_EQ(c.sectors, pc.sectors);
	EXPECT_EQ(c.sector_size, 512u);
	EXPECT_EQ(c.physical_sector_size, 512u);
	EXPECT_EQ(c.info, 0u);
	EXPECT_FALSE(c.read_only);
	EXPECT_EQ(c.abi, xb::native_abi());
}

INSTANTIATE_TEST_SUITE_P(
	Peers, RealBackends,
	::testing::Values(
		PeerCase{"linux_loop", stock_loop_backend(), FlushMode::flush, true, true, 4096,
			 true, 128, 2, 4, 32768},
		PeerCase{"linux_brd", stock_brd_backend(), FlushMode::none, false, false, 0,
			 true, 128, 2, 4, 32768},
		PeerCase{"qdisk", qdisk_backend(), FlushMode::flush, false, true, 512, false, 0,
			 1, 4, 20480},
		PeerCase{"qdisk_minimal", qdisk_backend_minimal(), FlushMode::flush, false, true,
			 512, false, 0, 1, 0, 20480},
		PeerCase{"nothing_optional", Keys{{"sectors", "8"}}, FlushMode::none, false, false,
			 0, false, 0, 1, 0, 8}),
	[](const ::testing::TestParamInfo<PeerCase>& i) { return std::string(i.param.name); });

TEST(FrontendNegotiate, TwoPhases)
{
	// At InitWait the stock backend shows only its transport keys.
	Store be(Keys{{"feature-max-indirect-segments", "256"}, {"multi-queue-max-queues", "2"},
		  {"max-ring-page-order", "4"}});
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate_transport(be, limits(8, 8, 2), &c), 0);
	EXPECT_EQ(c.nr_queues, 2u);
	EXPECT_EQ(c.ring_order, 2u);
	EXPECT_EQ(xb::frontend_negotiate_device(be, limits(), &c), -ENOENT);   // no sectors yet
	EXPECT_EQ(xb::frontend_negotiate(be, limits(), &c), -ENOENT);
	EXPECT_EQ(c.nr_queues, 2u) << "failed negotiation leaves the config alone";

	be.keys = stock_loop_backend();
	ASSERT_EQ(xb::frontend_negotiate_device(be, limits(8, 8, 2), &c), 0);
	EXPECT_EQ(c.nr_queues, 2u) << "device phase keeps the transport";
	EXPECT_EQ(c.ring_order, 2u);
	EXPECT_EQ(c.flush, FlushMode::flush);
}

TEST(FrontendNegotiate, QueuesCappedAtTheFrontendsMost)
{
	Store be(Keys{{"multi-queue-max-queues", "64"}, {"max-ring-page-order", "0"}});
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate_transport(be, limits(64, 64, 0), &c), 0);
	EXPECT_EQ(c.nr_queues, xb::frontend_max_queues);
	ASSERT_EQ(xb::frontend_negotiate_transport(be, limits(3, 64, 0), &c), 0);
	EXPECT_EQ(c.nr_queues, 3u);
}

// ---- frontend: feature combinations ---------------------------------------------------

struct FlushCase {
	const char* flush_cache;   // nullptr: absent
	const char* barrier;
	FlushMode mode;
};

class FlushCombos : public ::testing::TestWithParam<FlushCase> {};

TEST_P(FlushCombos, Mode)
{
	const FlushCase& fc = GetParam();
	Keys k{{"sectors", "100"}};
	if (fc.flush_cache)
		k["feature-flush-cache"] = fc.flush_cache;
	if (fc.barrier)
		k["feature-barrier"] = fc.barrier;
	Store be(k);
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(be, limits(), &c), 0);
	EXPECT_EQ(c.flush, fc.mode);
	EXPECT_EQ(c.barrier_offered, fc.barrier && std::strcmp(fc.barrier, "0") != 0);
	xb::BlockFlags f = xb::flush_flags(fc.mode);
	EXPECT_EQ(c.write_cache, f.write_cache);
	EXPECT_EQ(c.fua, f.fua);
}

INSTANTIATE_TEST_SUITE_P(
	All, FlushCombos,
	::testing::Values(FlushCase{nullptr, nullptr, FlushMode::none},
			  FlushCase{nullptr, "0", FlushMode::none},
			  FlushCase{nullptr, "1", FlushMode::barrier},
			  FlushCase{"0", nullptr, FlushMode::none},
			  FlushCase{"0", "0", FlushMode::none},
			  FlushCase{"0", "1", FlushMode::barrier},
			  FlushCase{"1", nullptr, FlushMode::flush},
			  FlushCase{"1", "0", FlushMode::flush},
			  FlushCase{"1", "1", FlushMode::flush},
			  FlushCase{"2", nullptr, FlushMode::flush}));

TEST(FlushFlags, PerMode)
{
	EXPECT_TRUE(xb::flush_flags(FlushMode::flush).write_cache);
	EXPECT_FALSE(xb::flush_flags(FlushMode::flush).fua);
	EXPECT_TRUE(xb::flush_flags(FlushMode::barrier).write_cache);
	EXPECT_TRUE(xb::flush_flags(FlushMode::barrier).fua);
	EXPECT_FALSE(xb::flush_flags(FlushMode::none).write_cache);
	EXPECT_FALSE(xb::flush_flags(FlushMode::none).fua);
	EXPECT_STREQ(xb::flush_mode_name(FlushMode::flush), "flush");
	EXPECT_STREQ(xb::flush_mode_name(FlushMode::barrier), "barrier");
	EXPECT_STREQ(xb::flush_mode_name(FlushMode::none), "none");
}

struct DiscardCase {
	const char* name;
	Keys extra;                 // besides sectors and sector-size
	uint32_t sector_size;
	bool discard;
	uint32_t granularity;
	uint32_t alignment;
	bool secure;
};

class DiscardCombos : public ::testing::TestWithParam<DiscardCase> {};

TEST_P(DiscardCombos, Keys)
{
	const DiscardCase& dc = GetParam();
	Keys k = dc.extra;
	k["sectors"] = "4096";
	k["sector-size"] = std::to_string(dc.sector_size);
	Store be(k);
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(be, limits(), &c), 0);
	EXPECT_EQ(c.discard, dc.discard);
	EXPECT_EQ(c.discard_granularity, dc.granularity);
	EXPECT_EQ(c.discard_alignment, dc.alignment);
	EXPECT_EQ(c.discard_secure, dc.secure);
}

INSTANTIATE_TEST_SUITE_P(
	All, DiscardCombos,
	::testing::Values(
		DiscardCase{"absent", {}, 512, false, 0, 0, false},
		DiscardCase{"off", {{"feature-discard", "0"}, {"discard-secure", "1"}}, 512, false,
			    0, 0, false},
		DiscardCase{"off_ignores_garbage", {{"feature-discard", "0"},
						    {"discard-granularity", "junk"}},
			    512, false, 0, 0, false},
		DiscardCase{"defaults", {{"feature-discard", "1"}}, 512, true, 512, 0, false},
		DiscardCase{"defaults_4k", {{"feature-discard", "1"}}, 4096, true, 4096, 0, false},
		DiscardCase{"zero_granularity", {{"feature-discard", "1"},
						 {"discard-granularity", "0"}},
			    512, true, 512, 0, false},
		DiscardCase{"granularity_alignment", {{"feature-discard", "1"},
						      {"discard-granularity", "65536"},
						      {"discard-alignment", "4096"}},
			    512, true, 65536, 4096, false},
		DiscardCase{"alignment_reduced", {{"feature-discard", "1"},
						  {"discard-granularity", "4096"},
						  {"discard-alignment", "9216"}},
			    512, true, 4096, 1024, false},
		DiscardCase{"secure", {{"feature-discard", "1"}, {"discard-secure", "1"}}, 512,
			    true, 512, 0, true},
		DiscardCase{"granularity_not_sectors", {{"feature-discard", "1"},
							{"discard-granularity", "1000"}},
			    512, false, 0, 0, false},
		DiscardCase{"granularity_below_4k_sector", {{"feature-discard", "1"},
							    {"discard-granularity", "512"}},
			    4096, false, 0, 0, false},
		DiscardCase{"alignment_not_sectors", {{"feature-discard", "1"},
						      {"discard-granularity", "4096"},
						      {"discard-alignment", "100"},
						      {"discard-secure", "1"}},
			    512, false, 0, 0, false}),
	[](const ::testing::TestParamInfo<DiscardCase>& i) { return std::string(i.param.name); });

struct ClampCase {
	const char* be_queues;     // nullptr: absent
	uint32_t our_queues, cpus;
	const char* be_order;
	uint32_t our_order;
	const char* be_indirect;
	uint32_t our_indirect;
	uint32_t queues, order, indirect;
};

class Clamps : public ::testing::TestWithParam<ClampCase> {};

TEST_P(Clamps, TransportLimits)
{
	const ClampCase& cc = GetParam();
	Keys k{{"sectors", "8"}};
	if (cc.be_queues)
		k["multi-queue-max-queues"] = cc.be_queues;
	if (cc.be_order)
		k["max-ring-page-order"] = cc.be_order;
	if (cc.be_indirect)
		k["feature-max-indirect-segments"] = cc.be_indirect;
	Store be(k);
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(be, limits(cc.our_queues, cc.cpus, cc.our_order,
						    cc.our_indirect), &c), 0);
	EXPECT_EQ(c.nr_queues, cc.queues);
	EXPECT_EQ(c.ring_order, cc.order);
	EXPECT_EQ(c.max_indirect_segments, cc.indirect);
}

INSTANTIATE_TEST_SUITE_P(
	All, Clamps,
	::testing::Values(
		ClampCase{nullptr, 8, 8, nullptr, 4, nullptr, 256, 1, 0, 0},
		ClampCase{"8", 4, 16, "2", 4, "256", 128, 4, 2, 128},
		ClampCase{"8", 16, 3, "9", 4, "8192", 8192, 3, 4, 4096},
		ClampCase{"2", 16, 16, "4", 1, "64", 1024, 2, 1, 64},
		ClampCase{"0", 16, 16, "0", 4, "11", 1024, 1, 0, 0},
		ClampCase{"4", 0, 0, "3", 0, "12", 1024, 1, 0, 12},
		ClampCase{"4", 4, 4, "4", 4, "256", 11, 4, 4, 0},
		ClampCase{"4294967295", 4, 4, "4294967295", 9, "4294967295", 4096, 4, 4, 4096}));

TEST(FrontendNegotiate, Geometry)
{
	xb::NegotiatedConfig c;
	Store be(Keys{{"sectors", "1000"}, {"sector-size", "4096"}, {"info", "5"}});
	ASSERT_EQ(xb::frontend_negotiate(be, limits(), &c), 0);
	EXPECT_EQ(c.sector_size, 4096u);
	EXPECT_EQ(c.physical_sector_size, 4096u);
	EXPECT_EQ(c.info, unsigned(VDISK_CDROM | VDISK_READONLY));
	EXPECT_TRUE(c.read_only);

	be.keys = {{"sectors", "1000"}, {"sector-size", "512"}, {"physical-sector-size", "4096"},
		   {"info", "2"}};
	ASSERT_EQ(xb::frontend_negotiate(be, limits(), &c), 0);
	EXPECT_EQ(c.physical_sector_size, 4096u);
	EXPECT_FALSE(c.read_only);
}

TEST(FrontendNegotiate, InvalidGeometry)
{
	xb::NegotiatedConfig c;
	for (const char* ss : {"0", "256", "768", "1000", "8192", "65536"}) {
		Store be(Keys{{"sectors", "8"}, {"sector-size", ss}});
		EXPECT_EQ(xb::frontend_negotiate(be, limits(), &c), -EINVAL) << ss;
	}
	for (const char* ps : {"0", "256", "1536"}) {
		Store be(Keys{{"sectors", "8"}, {"physical-sector-size", ps}});
		EXPECT_EQ(xb::frontend_negotiate(be, limits(), &c), -EINVAL) << ps;
	}
	Store be(Keys{{"sectors", "8"}, {"sector-size", "4096"}, {"physical-sector-size", "512"}});
	EXPECT_EQ(xb::frontend_negotiate(be, limits(), &c), -EINVAL);
	Store none(Keys{{"sector-size", "512"}, {"feature-flush-cache", "1"}});
	EXPECT_EQ(xb::frontend_negotiate(none, limits(), &c), -ENOENT);
}

// A size whose byte count does not fit a signed 64-bit offset (i_size) is refused;
// the largest that fits is taken.
TEST(FrontendNegotiate, DiskSizeBounded)
{
	xb::NegotiatedConfig c;
	for (const char* big : {"18014398509481984", "36028797018963968", "18446744073709551615"}) {
		Store be(Keys{{"sectors", big}});
		EXPECT_EQ(xb::frontend_negotiate(be, limits(), &c), -EINVAL) << big;
	}
	Store max(Keys{{"sectors", "18014398509481983"}});
	ASSERT_EQ(xb::frontend_negotiate(max, limits(), &c), 0);
	EXPECT_EQ(c.sectors, 18014398509481983ull);
	EXPECT_EQ(xb::max_disk_sectors, (1ull << 54) - 1);
	EXPECT_TRUE(xb::valid_disk_sectors(0));
	EXPECT_FALSE(xb::valid_disk_sectors(1ull << 54));
}

// Every numeric key the frontend reads: a malformed value fails negotiation.
class MalformedBackendKey : public ::testing::TestWithParam<const char*> {};

TEST_P(MalformedBackendKey, IsAnError)
{
	for (const char* junk : {"", "x", "-1", "1 ", "0x1", "99999999999999999999"}) {
		Keys k = stock_loop_backend();
		k[GetParam()] = junk;
		Store be(k);
		xb::NegotiatedConfig c;
		EXPECT_EQ(xb::frontend_negotiate(be, limits(), &c), -EINVAL)
			<< GetParam() << "='" << junk << "'";
	}
}

INSTANTIATE_TEST_SUITE_P(
	All, MalformedBackendKey,
	::testing::Values("feature-flush-cache", "feature-barrier", "feature-discard",
			  "discard-granularity", "discard-alignment", "discard-secure",
			  "feature-persistent", "feature-max-indirect-segments",
			  "multi-queue-max-queues", "max-ring-page-order", "sectors",
			  "sector-size", "physical-sector-size", "info"));

TEST(FrontendNegotiate, U32KeysRejectWideValues)
{
	Keys k = stock_loop_backend();
	k["info"] = "4294967296";
	Store be(k);
	xb::NegotiatedConfig c;
	EXPECT_EQ(xb::frontend_negotiate(be, limits(), &c), -EINVAL);
}

TEST(FrontendNegotiate, Persistent)
{
	Store be(Keys{{"sectors", "8"}, {"feature-persistent", "1"}});
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(be, limits(4, 4, 4, 0, false), &c), 0);
	EXPECT_FALSE(c.persistent);
	EXPECT_FALSE(c.persistent_offered);
	ASSERT_EQ(xb::frontend_negotiate(be, limits(4, 4, 4, 0, true), &c), 0);
	EXPECT_TRUE(c.persistent);
	EXPECT_TRUE(c.persistent_offered);
	be.keys["feature-persistent"] = "0";
	ASSERT_EQ(xb::frontend_negotiate(be, limits(), &c), 0);
	EXPECT_FALSE(c.persistent);
	EXPECT_TRUE(c.persistent_offered);
}

// ---- downgrade ---------------------------------------------------------------------------

TEST(Downgrade, Steps)
{
	auto d = xb::downgrade_flush(FlushMode::flush, BLKIF_OP_FLUSH_DISKCACHE, true);
	EXPECT_EQ(d.from, FlushMode::flush);
	EXPECT_EQ(d.to, FlushMode::barrier);
	EXPECT_TRUE(d.changed());
	d = xb::downgrade_flush(FlushMode::flush, BLKIF_OP_FLUSH_DISKCACHE, false);
	EXPECT_EQ(d.to, FlushMode::none);
	d = xb::downgrade_flush(FlushMode::barrier, BLKIF_OP_WRITE_BARRIER, true);
	EXPECT_EQ(d.to, FlushMode::none);
	d = xb::downgrade_flush(FlushMode::none, BLKIF_OP_WRITE_BARRIER, true);
	EXPECT_FALSE(d.changed());
	// a stale failure from before the last step changes nothing
	d = xb::downgrade_flush(FlushMode::barrier, BLKIF_OP_FLUSH_DISKCACHE, true);
	EXPECT_FALSE(d.changed());
	EXPECT_EQ(d.to, FlushMode::barrier);
	d = xb::downgrade_flush(FlushMode::flush, BLKIF_OP_WRITE_BARRIER, true);
	EXPECT_FALSE(d.changed());
	for (uint8_t op : {BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT})
		EXPECT_FALSE(xb::downgrade_flush(FlushMode::flush, op, true).changed());
}

TEST(Downgrade, AppliedToConfig)
{
	Store be(stock_loop_backend());
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(be, limits(), &c), 0);
	ASSERT_EQ(c.flush, FlushMode::flush);

	// two flushes in flight both fail: one step only
	auto d1 = xb::apply_flush_downgrade(&c, BLKIF_OP_FLUSH_DISKCACHE);
	auto d2 = xb::apply_flush_downgrade(&c, BLKIF_OP_FLUSH_DISKCACHE);
	EXPECT_TRUE(d1.changed());
	EXPECT_FALSE(d2.changed());
	EXPECT_EQ(c.flush, FlushMode::barrier);
	EXPECT_TRUE(c.write_cache);
	EXPECT_TRUE(c.fua);

	auto d3 = xb::apply_flush_downgrade(&c, BLKIF_OP_WRITE_BARRIER);
	EXPECT_EQ(d3.from, FlushMode::barrier);
	EXPECT_EQ(d3.to, FlushMode::none);
	EXPECT_FALSE(c.write_cache);
	EXPECT_FALSE(c.fua);
}

// ---- frontend publish ---------------------------------------------------------------------

xb::NegotiatedConfig transport(uint32_t queues, uint32_t order, bool persistent = true)
{
	xb::NegotiatedConfig c;
	c.nr_queues = queues;
	c.ring_order = order;
	c.persistent_offered = persistent;
	c.abi = xb::Abi::x86_64;
	return c;
}

TEST(FrontendPublish, SingleQueueSinglePage)
{
	const uint32_t refs[] = {8};
	const xb::FrontQueue q[] = {{refs, 17}};
	Store fe;
	ASSERT_EQ(xb::frontend_publish(transport(1, 0), q, fe), 0);
	EXPECT_EQ(fe.keys, (Keys{{"ring-ref", "8"}, {"event-channel", "17"},
				 {"protocol", "x86_64-abi"}, {"feature-persistent", "1"}}));
}

TEST(FrontendPublish, MultiQueueMultiPage)
{
	const uint32_t r0[] = {10, 11}, r1[] = {20, 21};
	const xb::FrontQueue q[] = {{r0, 5}, {r1, 6}};
	Store fe;
	ASSERT_EQ(xb::frontend_publish(transport(2, 1, false), q, fe), 0);
	EXPECT_EQ(fe.keys, (Keys{{"ring-page-order", "1"}, {"multi-queue-num-queues", "2"},
				 {"queue-0/ring-ref0", "10"}, {"queue-0/ring-ref1", "11"},
				 {"queue-0/event-channel", "5"}, {"queue-1/ring-ref0", "20"},
				 {"queue-1/ring-ref1", "21"}, {"queue-1/event-channel", "6"},
				 {"protocol", "x86_64-abi"}, {"feature-persistent", "0"}}));
}

xb::BackendConfig backend_cfg(uint32_t queues, uint32_t order, bool persistent);

// A reconnect with fewer queues and one page (the backend's limits were
// lowered) must not leave the last connection's optional keys behind: the
// backend would read them as this connection's and refuse it.
TEST(FrontendPublish, RemovesStaleKeysOfAnEarlierConnection)
{
	const uint32_t r0[] = {10, 11}, r1[] = {20, 21}, one[] = {30};
	const xb::FrontQueue q2[] = {{r0, 5}, {r1, 6}};
	const xb::FrontQueue q1[] = {{one, 7}};
	Store fe;
	ASSERT_EQ(xb::frontend_publish(transport(2, 1), q2, fe), 0);
	ASSERT_EQ(xb::frontend_publish(transport(1, 0), q1, fe), 0);
	EXPECT_EQ(fe.keys.count("ring-page-order"), 0u);
	EXPECT_EQ(fe.keys.count("multi-queue-num-queues"), 0u);
	EXPECT_EQ(fe.keys.at("ring-ref"), "30");
	EXPECT_EQ(fe.keys.at("event-channel"), "7");
	// the backend, now limited to one queue of one page, accepts the directory
	xb::BackQueue bq[1];
	xb::BackConnectInfo info;
	ASSERT_EQ(xb::backend_read_frontend(fe, backend_cfg(1, 0, true), bq, &info), 0);
	EXPECT_EQ(info.nr_queues, 1u);
	EXPECT_EQ(info.ring_order, 0u);
	EXPECT_EQ(bq[0].ring_refs[0], 30u);
	fe.fail_on = "ring-page-order";
	EXPECT_EQ(xb::frontend_publish(transport(1, 0), q1, fe), -EACCES) << "a failed removal is an error";
}

TEST(FrontendPublish, RejectsMismatchAndPropagatesErrors)
{
	const uint32_t one[] = {1}, two[] = {1, 2};
	Store fe;
	const xb::FrontQueue q1[] = {{one, 1}};
	const xb::FrontQueue q2[] = {{two, 1}, {one, 2}};
	EXPECT_EQ(xb::frontend_publish(transport(2, 0), q1, fe), -EINVAL);   // count
	EXPECT_EQ(xb::frontend_publish(transport(1, 1), q1, fe), -EINVAL);   // refs per queue
	EXPECT_EQ(xb::frontend_publish(transport(2, 1), q2, fe), -EINVAL);   // second queue short
	EXPECT_EQ(xb::frontend_publish(transport(1, 5), q1, fe), -EINVAL);   // order
	EXPECT_TRUE(fe.keys.empty()) << "nothing written for an invalid config";
	fe.fail_on = "event-channel";
	EXPECT_EQ(xb::frontend_publish(transport(1, 0), q1, fe), -EACCES);
}

// ---- backend reads the frontend --------------------------------------------------------------

xb::BackendConfig backend_cfg(uint32_t queues = 4, uint32_t order = 4, bool persistent = true);
xb::BackendConfig backend_cfg(uint32_t queues, uint32_t order, bool persistent)
{
	xb::BackendConfig b;
	b.max_queues = queues;
	b.max_ring_order = order;
	b.persistent = persistent;
	return b;
}

TEST(BackendRead, StockFrontendKeys)
{
	// what the stock frontend wrote in the test bed
	Store fe(Keys{{"protocol", "x86_64-abi"}, {"multi-queue-num-queues", "2"},
		  {"queue-0/ring-ref", "8"}, {"queue-0/event-channel", "20"},
		  {"queue-1/ring-ref", "9"}, {"queue-1/event-channel", "21"},
		  {"feature-persistent", "1"}});
	xb::BackQueue q[4];
	xb::BackConnectInfo info;
	ASSERT_EQ(xb::backend_read_frontend(fe, backend_cfg(), q, &info), 0);
	EXPECT_EQ(info.abi, xb::Abi::x86_64);
	EXPECT_EQ(info.nr_queues, 2u);
	EXPECT_EQ(info.ring_order, 0u);
	EXPECT_TRUE(info.persistent);
	EXPECT_EQ(q[0].ring_refs[0], 8u);
	EXPECT_EQ(q[0].event_channel, 20u);
	EXPECT_EQ(q[1].ring_refs[0], 9u);
	EXPECT_EQ(q[1].event_channel, 21u);

	ASSERT_EQ(xb::backend_read_frontend(fe, backend_cfg(4, 4, false), q, &info), 0);
	EXPECT_FALSE(info.persistent);
}

TEST(BackendRead, MinimalFrontend)
{
	// an old frontend: one page, no protocol, no persistent grants
	Store fe(Keys{{"ring-ref", "8"}, {"event-channel", "3"}});
	xb::BackQueue q[1];
	xb::BackConnectInfo info;
	ASSERT_EQ(xb::backend_read_frontend(fe, backend_cfg(), q, &info), 0);
	EXPECT_EQ(info.abi, xb::native_abi());
	EXPECT_EQ(info.nr_queues, 1u);
	EXPECT_FALSE(info.persistent);

	fe.keys["protocol"] = "x86_32-abi";
	fe.keys["multi-queue-num-queues"] = "1";   // one queue: keys stay at top level
	ASSERT_EQ(xb::backend_read_frontend(fe, backend_cfg(), q, &info), 0);
	EXPECT_EQ(info.abi, xb::Abi::x86_32);
}

TEST(BackendRead, RoundTripWithFrontendPublish)
{
	for (uint32_t nq : {1u, 2u, 3u}) {
		for (uint32_t order = 0; order <= 4; order++) {
			std::vector<std::vector<uint32_t>> refs(nq);
			std::vector<xb::FrontQueue> fq;
			for (uint32_t i = 0; i < nq; i++) {
				for (uint32_t p = 0; p < (1u << order); p++)
					refs[i].push_back(1000 * i + p + 8);
			}
			for (uint32_t i = 0; i < nq; i++)
				fq.push_back({{refs[i].data(), refs[i].size()}, 40 + i});
			Store st;
			ASSERT_EQ(xb::frontend_publish(transport(nq, order),
						       {fq.data(), fq.size()}, st), 0);
			xb::BackQueue q[3];
			xb::BackConnectInfo info;
			ASSERT_EQ(xb::backend_read_frontend(st, backend_cfg(), q, &info), 0);
			EXPECT_EQ(info.nr_queues, nq);
			EXPECT_EQ(info.ring_order, order);
			for (uint32_t i = 0; i < nq; i++) {
				EXPECT_EQ(q[i].event_channel, 40 + i);
				for (uint32_t p = 0; p < (1u << order); p++)
					EXPECT_EQ(q[i].ring_refs[p], refs[i][p]);
			}
		}
	}
}

struct BadFrontend {
	const char* name;
	Keys keys;
	int err;
};

class BackendReadErrors : public ::testing::TestWithParam<BadFrontend> {};

TEST_P(BackendReadErrors, Rejected)
{
	Store fe(GetParam().keys);
	xb::BackQueue q[2];
	xb::BackConnectInfo info;
	info.nr_queues = 77;
	EXPECT_EQ(xb::backend_read_frontend(fe, backend_cfg(2, 2), q, &info), GetParam().err);
	EXPECT_EQ(info.nr_queues, 77u) << "output untouched on error";
}

INSTANTIATE_TEST_SUITE_P(
	All, BackendReadErrors,
	::testing::Values(
		BadFrontend{"unknown_protocol", {{"protocol", "arm-abi"}, {"ring-ref", "8"},
						 {"event-channel", "3"}}, -EINVAL},
		BadFrontend{"zero_queues", {{"multi-queue-num-queues", "0"}, {"ring-ref", "8"},
					    {"event-channel", "3"}}, -EINVAL},
		BadFrontend{"too_many_queues", {{"multi-queue-num-queues", "3"}}, -ERANGE},
		BadFrontend{"order_too_big", {{"ring-page-order", "3"}, {"ring-ref0", "8"},
					      {"event-channel", "3"}}, -ERANGE},
		BadFrontend{"no_ring_ref", {{"event-channel", "3"}}, -ENOENT},
		BadFrontend{"no_event_channel", {{"ring-ref", "8"}}, -ENOENT},
		BadFrontend{"order0_indexed_ref", {{"ring-ref0", "8"}, {"event-channel", "3"}},
			    -ENOENT},
		BadFrontend{"order1_missing_page", {{"ring-page-order", "1"}, {"ring-ref0", "8"},
						    {"event-channel", "3"}}, -ENOENT},
		BadFrontend{"mq_keys_at_top", {{"multi-queue-num-queues", "2"}, {"ring-ref", "8"},
					       {"event-channel", "3"}}, -ENOENT},
		BadFrontend{"malformed_ref", {{"ring-ref", "8x"}, {"event-channel", "3"}},
			    -EINVAL},
		BadFrontend{"wide_ref", {{"ring-ref", "4294967296"}, {"event-channel", "3"}},
			    -EINVAL},
		BadFrontend{"malformed_evtchn", {{"ring-ref", "8"}, {"event-channel", ""}},
			    -EINVAL},
		BadFrontend{"malformed_queues", {{"multi-queue-num-queues", "two"}}, -EINVAL},
		BadFrontend{"malformed_order", {{"ring-page-order", "-1"}}, -EINVAL},
		BadFrontend{"malformed_persistent", {{"ring-ref", "8"}, {"event-channel", "3"},
						     {"feature-persistent", "yes"}}, -EINVAL}),
	[](const ::testing::TestParamInfo<BadFrontend>& i) { return std::string(i.param.name); });

TEST(BackendRead, QueueArrayTooSmall)
{
	Store fe(Keys{{"multi-queue-num-queues", "2"}});
	xb::BackQueue q[1];
	xb::BackConnectInfo info;
	EXPECT_EQ(xb::backend_read_frontend(fe, backend_cfg(4), q, &info), -ENOSPC);
}

// ---- backend publish --------------------------------------------------------------------------

xb::DeviceProps disk(bool write_cache)
{
	xb::DeviceProps d;
	d.sectors = 2097152;
	d.write_cache = write_cache;
	d.fua = write_cache;
	return d;
}

const Keys transport_keys = {{"feature-persistent", "1"}, {"feature-max-indirect-segments", "256"},
			     {"multi-queue-max-queues", "1"}, {"max-ring-page-order", "4"}};

Keys with(Keys base, const Keys& more)
{
	for (const auto& kv : more)
		base[kv.first] = kv.second;
	return base;
}

Keys published(const xb::BackendConfig& cfg, const xb::DeviceProps& dev)
{
	Store st;
	EXPECT_EQ(xb::backend_publish(cfg, dev, st), 0);
	return st.keys;
}

TEST(BackendPublish, WriteCacheDevice)
{
	EXPECT_EQ(published(xb::BackendConfig(), disk(true)),
		  with(transport_keys, {{"feature-flush-cache", "1"}, {"feature-barrier", "1"},
					{"sectors", "2097152"}, {"sector-size", "512"},
					{"physical-sector-size", "512"}, {"info", "0"}}));
}

TEST(BackendPublish, WriteThroughDevice)
{
	// auto: no write cache on the device => neither flush nor barrier, so no
	// frontend advertises a write cache to its guest
	EXPECT_EQ(published(xb::BackendConfig(), disk(false)),
		  with(transport_keys, {{"feature-flush-cache", "0"}, {"feature-barrier", "0"},
					{"sectors", "2097152"}, {"sector-size", "512"},
					{"physical-sector-size", "512"}, {"info", "0"}}));
}

TEST(BackendPublish, ReadOnlyCdromGeometry)
{
	xb::DeviceProps d = disk(false);
	d.read_only = true;
	d.cdrom = true;
	d.removable = true;
	d.discard = true;                  // never offered on a read-only disk
	d.logical_block_size = 2048;
	d.physical_block_size = 2048;
	Keys k = published(xb::BackendConfig(), d);
	EXPECT_EQ(k["info"], "7");
	EXPECT_EQ(k["sector-size"], "2048");
	EXPECT_EQ(k["physical-sector-size"], "2048");
	EXPECT_EQ(k.count("feature-discard"), 0u);
	EXPECT_EQ(k.count("discard-granularity"), 0u);
}

TEST(BackendPublish, Discard)
{
	xb::DeviceProps d = disk(true);
	d.discard = true;
	d.discard_granularity = 65536;
	d.discard_alignment = 4096;
	Keys k = published(xb::BackendConfig(), d);
	EXPECT_EQ(k["feature-discard"], "1");
	EXPECT_EQ(k["discard-granularity"], "65536");
	EXPECT_EQ(k["discard-alignment"], "4096");
	EXPECT_EQ(k["discard-secure"], "0");

	d.secure_erase = true;
	d.discard_granularity = 0;         // the device reports none: one logical block
	d.discard_alignment = 0;
	k = published(xb::BackendConfig(), d);
	EXPECT_EQ(k["feature-discard"], "1");
	EXPECT_EQ(k["discard-granularity"], "512");
	EXPECT_EQ(k["discard-alignment"], "0");
	EXPECT_EQ(k["discard-secure"], "1");

	xb::BackendConfig off;
	off.discard = false;
	k = published(off, d);
	for (const char* key : {"feature-discard", "discard-granularity", "discard-alignment",
				"discard-secure"})
		EXPECT_EQ(k.count(key), 0u) << key;

	d.discard = false;                 // no discard support: no keys
	k = published(xb::BackendConfig(), d);
	EXPECT_EQ(k.count("feature-discard"), 0u);
	EXPECT_EQ(k.count("discard-secure"), 0u);
}

struct PolicyCase {
	FlushPolicy policy;
	bool write_cache;
	const char* flush_cache;
	const char* barrier;
	FlushMode our_frontend;            // what our frontend then picks
};

class FlushPolicies : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(FlushPolicies, KeysAndFrontendChoice)
{
	const PolicyCase& pc = GetParam();
	xb::BackendConfig cfg;
	cfg.flush = pc.policy;
	Store st;
	ASSERT_EQ(xb::backend_publish(cfg, disk(pc.write_cache), st), 0);
	EXPECT_EQ(st.keys["feature-flush-cache"], pc.flush_cache);
	EXPECT_EQ(st.keys["feature-barrier"], pc.barrier);
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(st, limits(), &c), 0);
	EXPECT_EQ(c.flush, pc.our_frontend);
}

INSTANTIATE_TEST_SUITE_P(
	All, FlushPolicies,
	::testing::Values(PolicyCase{FlushPolicy::automatic, true, "1", "1", FlushMode::flush},
			  PolicyCase{FlushPolicy::automatic, false, "0", "0", FlushMode::none},
			  PolicyCase{FlushPolicy::flush, true, "1", "0", FlushMode::flush},
			  PolicyCase{FlushPolicy::flush, false, "0", "0", FlushMode::none},
			  PolicyCase{FlushPolicy::barrier, true, "0", "1", FlushMode::barrier},
			  PolicyCase{FlushPolicy::barrier, false, "0", "0", FlushMode::none},
			  PolicyCase{FlushPolicy::both, true, "1", "1", FlushMode::flush},
			  PolicyCase{FlushPolicy::both, false, "0", "0", FlushMode::none},
			  PolicyCase{FlushPolicy::none, true, "0", "0", FlushMode::none},
			  PolicyCase{FlushPolicy::none, false, "0", "0", FlushMode::none}));

TEST(BackendPublish, TransportClamps)
{
	xb::BackendConfig cfg;
	cfg.max_queues = 0;
	cfg.max_ring_order = 9;
	cfg.max_indirect_segments = 100000;
	cfg.persistent = false;
	Store st;
	ASSERT_EQ(xb::backend_publish_transport(cfg, st), 0);
	EXPECT_EQ(st.keys, (Keys{{"feature-persistent", "0"},
				 {"feature-max-indirect-segments", "4096"},
				 {"multi-queue-max-queues", "1"}, {"max-ring-page-order", "4"}}));
	cfg.max_indirect_segments = 0;     // not offered at all
	st.keys.clear();
	ASSERT_EQ(xb::backend_publish_transport(cfg, st), 0);
	EXPECT_EQ(st.keys.count("feature-max-indirect-segments"), 0u);
}

TEST(BackendPublish, Errors)
{
	xb::DeviceProps d = disk(true);
	Store st;
	d.logical_block_size = 1000;
	EXPECT_EQ(xb::backend_publish_device(xb::BackendConfig(), d, st), -EINVAL);
	d.logical_block_size = 4096;
	d.physical_block_size = 512;
	EXPECT_EQ(xb::backend_publish_device(xb::BackendConfig(), d, st), -EINVAL);
	EXPECT_TRUE(st.keys.empty());
	st.fail_on = "sectors";
	EXPECT_EQ(xb::backend_publish(xb::BackendConfig(), disk(true), st), -EACCES);
	st.fail_on = "feature-persistent";
	EXPECT_EQ(xb::backend_publish(xb::BackendConfig(), disk(true), st), -EACCES);
}

TEST(BackendPublish, OurPairNegotiates)
{
	xb::BackendConfig cfg;
	cfg.max_queues = 8;
	xb::DeviceProps d = disk(true);
	d.discard = true;
	d.discard_granularity = 4096;
	d.secure_erase = true;
	d.physical_block_size = 4096;
	Store st;
	ASSERT_EQ(xb::backend_publish(cfg, d, st), 0);
	xb::NegotiatedConfig c;
	ASSERT_EQ(xb::frontend_negotiate(st, limits(4, 2, 3, 512), &c), 0);
	EXPECT_EQ(c.flush, FlushMode::flush);
	EXPECT_TRUE(c.barrier_offered);
	EXPECT_TRUE(c.discard);
	EXPECT_TRUE(c.discard_secure);
	EXPECT_EQ(c.discard_granularity, 4096u);
	EXPECT_TRUE(c.persistent);
	EXPECT_EQ(c.max_indirect_segments, 256u);
	EXPECT_EQ(c.nr_queues, 2u);
	EXPECT_EQ(c.ring_order, 3u);
	EXPECT_EQ(c.sectors, 2097152u);
	EXPECT_EQ(c.physical_sector_size, 4096u);
}

} // namespace
