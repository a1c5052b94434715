// The netlink report of a device, events, statistics since a reset, SET checks.
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>
#include "nl_report.hpp"

namespace {

// Records attributes as "path=value" lines ("4.2.7" for nested types), with a
// byte budget to play a full message.
class Recorder final : public xb::nl::AttrWriter {
public:
	explicit Recorder(size_t budget = ~size_t{0}) : budget_(budget) {}
	bool put_u8(uint16_t t, uint8_t v) override { return add(t, std::to_string(v), 8); }
	bool put_u32(uint16_t t, uint32_t v) override { return add(t, std::to_string(v), 8); }
	bool put_u64(uint16_t t, uint64_t v, uint16_t) override { return add(t, std::to_string(v), 12); }
	bool put_string(uint16_t t, const char* s) override { return add(t, s, 4 + ((std::string(s).size() + 4) & ~3u)); }
	bool nest_start(uint16_t t) override
	{
		if (!take(4))
			return false;
		path_.push_back(t);
		return true;
	}
	void nest_end() override
	{
		ASSERT_FALSE(path_.empty());
		path_.pop_back();
	}
	std::vector<std::pair<std::string, std::string>> attrs;
	std::string get(const std::string& p) const
	{
		for (const auto& a : attrs)
			if (a.first == p)
				return a.second;
		return "<absent>";
	}
	size_t count(const std::string& p) const
	{
		size_t n = 0;
		for (const auto& a : attrs)
			n += a.first == p;
		return n;
	}
	bool open() const { return !path_.empty(); }

private:
	bool take(size_t n)
	{
		if (n > budget_)
			return false;
		budget_ -= n;
		return true;
	}
	bool add(uint16_t t, std::string v, size_t bytes)
	{
		if (!take(bytes))
			return false;
		std::string p;
		for (auto x : path_)
			p += std::to_string(x) + ".";
		attrs.emplace_back(p + std::to_string(t), std::move(v));
		return true;
	}
	size_t budget_;
	std::vector<uint16_t> path_;
};

xb::nl::Snapshot backend_snapshot()
{
	xb::nl::Snapshot s;
	snprintf(s.name, sizeof(s.name), "vbd-%u-%u", 3u, 51712u);
	s.domid = 3;
	s.devid = 51712;
	s.has_phys = true;
	s.phys_major = 7;
	s.phys_minor = 0;
	s.has_mode = true;
	s.read_only = false;
	s.state = 4;
	s.other_state = 4;
	s.connected = true;
	s.sectors = 131072;
	s.features.flush_mode = XENBLK_FLUSH_FLUSH;
	s.features.flush = true;
	s.features.barrier = true;
	s.features.queues = 2;
	s.features.ring_order = 4;
	s.features.indirect_segs = 256;
	s.has_config = true;
	s.config.flush = xb::FlushPolicy::barrier;
	s.config.max_queues = 2;
	s.config.max_ring_order = 4;
	s.stats.op[XENBLK_OP_FLUSH].requests = 5;
	s.stats.op[XENBLK_OP_WRITE].requests = 7;
	s.stats.op[XENBLK_OP_WRITE].sectors = 56;
	s.stats.latency[XENBLK_OP_WRITE].bucket[3] = 7;
	s.stats.in_flight = 1;
	return s;
}

std::string key(std::initializer_list<int> path)
{
	std::string p;
	for (int x : path)
		p += (p.empty() ? "" : ".") + std::to_string(x);
	return p;
}

} // namespace

TEST(NlReport, BackendDeviceAttributes)
{
	Recorder r;
	ASSERT_TRUE(xb::nl::write_device(r, backend_snapshot()));
	EXPECT_FALSE(r.open());
	EXPECT_EQ(r.get(key({XENBLK_A_NAME})), "vbd-3-51712");
	EXPECT_EQ(r.get(key({XENBLK_A_DOMID})), "3");
	EXPECT_EQ(r.get(key({XENBLK_A_DEVID})), "51712");
	EXPECT_EQ(r.get(key({XENBLK_A_PHYS_MAJOR})), "7");
	EXPECT_EQ(r.get(key({XENBLK_A_READ_ONLY})), "0");
	EXPECT_EQ(r.get(key({XENBLK_A_SECTORS})), "131072");
	EXPECT_EQ(r.get(key({XENBLK_A_FEATURES, XENBLK_F_FLUSH_MODE})), std::to_string(XENBLK_FLUSH_FLUSH));
	EXPECT_EQ(r.get(key({XENBLK_A_FEATURES, XENBLK_F_QUEUES})), "2");
	EXPECT_EQ(r.get(key({XENBLK_A_FEATURES, XENBLK_F_ABI})), "x86_64-abi");
	EXPECT_EQ(r.get(key({XENBLK_A_CONFIG, XENBLK_C_FLUSH_POLICY})), std::to_string(XENBLK_FLUSH_BARRIER));
	EXPECT_EQ(r.get(key({XENBLK_A_CONFIG, XENBLK_C_PERSISTENT})), "0");
	// one nest per operation, each with every bucket
	EXPECT_EQ(r.count(key({XENBLK_A_STATS, XENBLK_S_OP, XENBLK_O_OP})), 5u);
	EXPECT_EQ(r.count(key({XENBLK_A_STATS, XENBLK_S_OP, XENBLK_O_LATENCY, 1})), 5u);
	EXPECT_EQ(r.count(key({XENBLK_A_STATS, XENBLK_S_OP, XENBLK_O_LATENCY, XENBLK_LATENCY_BUCKETS})), 5u);
	EXPECT_EQ(r.count(key({XENBLK_A_STATS, XENBLK_S_OP, XENBLK_O_LATENCY, XENBLK_LATENCY_BUCKETS + 1})), 0u);
	EXPECT_EQ(r.get(key({XENBLK_A_STATS, XENBLK_S_IN_FLIGHT})), "1");
}

TEST(NlReport, UnconnectedFrontendOmitsWhatItDoesNotHave)
{
	xb::nl::Snapshot s;
	snprintf(s.name, sizeof(s.name), "xvdb");
	s.state = 2;
	Recorder r;
	ASSERT_TRUE(xb::nl::write_device(r, s));
	EXPECT_EQ(r.get(key({XENBLK_A_NAME})), "xvdb");
	EXPECT_EQ(r.count(key({XENBLK_A_PHYS_MAJOR})), 0u);
	EXPECT_EQ(r.count(key({XENBLK_A_READ_ONLY})), 0u);
	EXPECT_EQ(r.count(key({XENBLK_A_SECTORS})), 0u);
	EXPECT_EQ(r.count(key({XENBLK_A_FEATURES, XENBLK_F_QUEUES})), 0u);
	EXPECT_EQ(r.count(key({XENBLK_A_CONFIG, XENBLK_C_MAX_QUEUES})), 0u);
	EXPECT_EQ(r.count(key({XENBLK_A_STATS, XENBLK_S_OP, XENBLK_O_OP})), 5u);
}

TEST(NlReport, FullMessageFailsWithEveryNestClosed)
{
	// every budget short of the whole report must fail and leave no nest open
	Recorder whole;
	ASSERT_TRUE(xb::nl::write_device(whole, backend_snapshot()));
	for (size_t budget : {0, 10, 100, 400, 1000, 1500}) {
		Recorder r(budget);
		EXPECT_FALSE(xb::nl::write_device(r, backend_snapshot())) << budget;
		EXPECT_FALSE(r.open()) << budget;
	}
}

TEST(NlReport, Event)
{
	Recorder r;
	ASSERT_TRUE(xb::nl::write_event(r, XENBLK_EV_CONNECTED, "vbd-1-51712", 1, 51712, "2 rings"));
	EXPECT_EQ(r.get(key({XENBLK_A_EVENT})), std::to_string(XENBLK_EV_CONNECTED));
	EXPECT_EQ(r.get(key({XENBLK_A_NAME})), "vbd-1-51712");
	EXPECT_EQ(r.get(key({XENBLK_A_EVENT_DETAIL})), "2 rings");
	Recorder n;
	ASSERT_TRUE(xb::nl::write_event(n, XENBLK_EV_DISCONNECTED, "xvda", 0, 51712, nullptr));
	EXPECT_EQ(n.count(key({XENBLK_A_EVENT_DETAIL})), 0u);
}

TEST(NlReport, StatsSinceReset)
{
	xb::DeviceStats base{}, now{};
	base.op[1].requests = 10;
	base.latency[1].bucket[2] = 4;
	base.bad_requests = 2;
	base.in_flight = 9;
	now = base;
	now.op[1].requests = 13;
	now.latency[1].bucket[2] = 6;
	now.in_flight = 3;
	xb::DeviceStats d = now;
	xb::nl::stats_since(&d, base);
	EXPECT_EQ(d.op[1].requests, 3u);
	EXPECT_EQ(d.latency[1].bucket[2], 2u);
	EXPECT_EQ(d.bad_requests, 0u);
	EXPECT_EQ(d.in_flight, 3u);   // a level, never reset
	// a baseline above the counter (cannot happen) saturates instead of wrapping
	now.op[1].requests = 1;
	xb::nl::stats_since(&now, base);
	EXPECT_EQ(now.op[1].requests, 0u);
}

TEST(NlReport, FlushPolicyAttributesRoundTrip)
{
	for (auto p : {xb::FlushPolicy::automatic, xb::FlushPolicy::flush, xb::FlushPolicy::barrier,
		       xb::FlushPolicy::both, xb::FlushPolicy::none}) {
		xb::FlushPolicy back;
		ASSERT_TRUE(xb::nl::flush_policy_from_attr(xb::nl::flush_policy_attr(p), &back));
		EXPECT_EQ(back, p);
	}
	xb::FlushPolicy x;
	EXPECT_FALSE(xb::nl::flush_policy_from_attr(5, &x));
	EXPECT_EQ(xb::nl::flush_mode_attr(xb::FlushMode::barrier), XENBLK_FLUSH_BARRIER);
	EXPECT_EQ(xb::nl::flush_mode_attr(xb::FlushMode::none), XENBLK_FLUSH_NONE);
}

// the limits apply_set merges into (not the subject of these cases)
static xb::throttle::Limits tl;

TEST(NlSet, AcceptsAndMerges)
{
	xb::nl::BackSettings s;
	xb::nl::SetRequest q;
	xb::nl::SetError e;
	q.has[XENBLK_C_FLUSH_POLICY] = true;
	q.val[XENBLK_C_FLUSH_POLICY] = XENBLK_FLUSH_BARRIER;
	ASSERT_EQ(xb::nl::apply_set(q, &s, &tl, &e), 0);
	xb::nl::SetRequest q2;
	q2.has[XENBLK_C_MAX_QUEUES] = true;
	q2.val[XENBLK_C_MAX_QUEUES] = 3;
	q2.has[XENBLK_C_DISCARD] = true;
	q2.val[XENBLK_C_DISCARD] = 0;
	ASSERT_EQ(xb::nl::apply_set(q2, &s, &tl, &e), 0);
	xb::BackendConfig cfg;
	cfg.max_queues = 8;
	cfg.max_ring_order = 2;
	s.apply(&cfg);
	EXPECT_EQ(cfg.flush, xb::FlushPolicy::barrier);   // kept from the first SET
	EXPECT_EQ(cfg.max_queues, 3u);
	EXPECT_EQ(cfg.max_ring_order, 2u);               // not set: the parameter
	EXPECT_FALSE(cfg.discard);
}

TEST(NlSet, RefusesWithAReasonAndChangesNothing)
{
	struct Case { int attr; uint32_t val; int err; const char* why; };
	const Case cases[] = {
		{XENBLK_C_FLUSH_POLICY, 9, -22, "flush policy must be"},
		{XENBLK_C_MAX_QUEUES, 0, -22, "max queues must be 1..32"},
		{XENBLK_C_MAX_QUEUES, 33, -22, "max queues must be 1..32"},
		{XENBLK_C_MAX_RING_ORDER, 5, -22, "max ring order must be 0..4"},
		{XENBLK_C_PERSISTENT, 2, -22, "persistent must be 0 or 1"},
		{XENBLK_C_DISCARD, 2, -22, "discard must be 0 or 1"},
	};
	for (const Case& c : cases) {
		xb::nl::BackSettings s;
		xb::nl::SetRequest q;
		xb::nl::SetError e;
		// a valid setting in the same request is not applied either
		q.has[XENBLK_C_MAX_RING_ORDER] = c.attr != XENBLK_C_MAX_RING_ORDER;
		q.val[XENBLK_C_MAX_RING_ORDER] = 1;
		q.has[c.attr] = true;
		q.val[c.attr] = c.val;
		EXPECT_EQ(xb::nl::apply_set(q, &s, &tl, &e), c.err) << c.attr << "=" << c.val;
		ASSERT_NE(e.why, nullptr);
		EXPECT_NE(std::string(e.why).find(c.why), std::string::npos) << e.why;
		EXPECT_EQ(e.attr, c.attr);
		EXPECT_FALSE(s.has_max_ring_order);
	}
	xb::nl::BackSettings s;
	xb::nl::SetRequest empty;
	xb::nl::SetError e;
	EXPECT_EQ(xb::nl::apply_set(empty, &s, &tl, &e), -22);
	EXPECT_STREQ(e.why, "nothing to set: the request has no setting");
	xb::nl::SetRequest off;
	off.has[XENBLK_C_PERSISTENT] = true;
	off.val[XENBLK_C_PERSISTENT] = 0;
	EXPECT_EQ(xb::nl::apply_set(off, &s, &tl, &e), 0);
	EXPECT_TRUE(s.has_persistent);
	xb::BackendConfig cfg;
	cfg.persistent = true;
	s.apply(&cfg);
	EXPECT_FALSE(cfg.persistent);   // the device's setting wins over the module's
	xb::nl::SetRequest on;
	on.has[XENBLK_C_PERSISTENT] = true;
	on.val[XENBLK_C_PERSISTENT] = 1;
	EXPECT_EQ(xb::nl::apply_set(on, &s, &tl, &e), 0);
	s.apply(&cfg);
	EXPECT_TRUE(cfg.persistent);
}

// ---- I/O limits (XENBLK_C_IOPS_READ..XENBLK_C_THROTTLE_GROUP, XENBLK_S_THROTTLE) ----

TEST(NlLimits, ReportedInConfigAndStats)
{
	xb::nl::Snapshot s = backend_snapshot();
	s.config.limits.l[xb::throttle::iops_read].rate = 500;
	s.config.limits.l[xb::throttle::bps_write] = {10485760, 2097152};
	snprintf(s.config.group, sizeof(s.config.group), "tenant-a");
	s.throttle.limited[xb::throttle::iops_read] = true;
	s.throttle.tokens[xb::throttle::iops_read] = 42;
	s.stats.throttled = 7;
	s.stats.throttled_ns = 123456789;
	s.stats.throttle_held = 3;
	Recorder r;
	ASSERT_TRUE(xb::nl::write_device(r, s));
	const std::string c = std::to_string(XENBLK_A_CONFIG) + ".";
	EXPECT_EQ(r.get(c + std::to_string(XENBLK_C_IOPS_READ)), "500");
	EXPECT_EQ(r.get(c + std::to_string(XENBLK_C_IOPS_READ_BURST)), "0");
	EXPECT_EQ(r.get(c + std::to_string(XENBLK_C_BPS_WRITE)), "10485760");
	EXPECT_EQ(r.get(c + std::to_string(XENBLK_C_BPS_WRITE_BURST)), "2097152");
	EXPECT_EQ(r.get(c + std::to_string(XENBLK_C_BPS)), "0");   // every limit, 0: none
	EXPECT_EQ(r.get(c + std::to_string(XENBLK_C_THROTTLE_GROUP)), "tenant-a");
	const std::string t = std::to_string(XENBLK_A_STATS) + "." + std::to_string(XENBLK_S_THROTTLE) + ".";
	EXPECT_EQ(r.get(t + std::to_string(XENBLK_T_DELAYED)), "7");
	EXPECT_EQ(r.get(t + std::to_string(XENBLK_T_DELAYED_NS)), "123456789");
	EXPECT_EQ(r.get(t + std::to_string(XENBLK_T_HELD)), "3");
	// tokens only of the limits set
	EXPECT_EQ(r.get(t + std::to_string(XENBLK_T_TOKENS) + "." + std::to_string(XENBLK_C_IOPS_READ)), "42");
	EXPECT_EQ(r.count(t + std::to_string(XENBLK_T_TOKENS) + "." + std::to_string(XENBLK_C_BPS_WRITE)), 0u);
	EXPECT_FALSE(r.open());

	// no group: no group attribute; a frontend has no throttle section
	s.config.group[0] = 0;
	Recorder r2;
	ASSERT_TRUE(xb::nl::write_device(r2, s));
	EXPECT_EQ(r2.count(c + std::to_string(XENBLK_C_THROTTLE_GROUP)), 0u);
	s.has_config = false;
	Recorder r3;
	ASSERT_TRUE(xb::nl::write_device(r3, s));
	EXPECT_EQ(r3.count(t + std::to_string(XENBLK_T_DELAYED)), 0u);
}

TEST(NlLimits, SetMergesLimitsAndLeavesTheRest)
{
	xb::nl::BackSettings s;
	xb::nl::SetError e;
	xb::throttle::Limits lim;
	lim.l[xb::throttle::iops_write].rate = 100;
	xb::nl::SetRequest q;
	q.has[XENBLK_C_IOPS_READ] = true;
	q.val[XENBLK_C_IOPS_READ] = 300;
	q.has[XENBLK_C_BPS_BURST] = true;
	q.val[XENBLK_C_BPS_BURST] = 4096;
	q.has[XENBLK_C_BPS] = true;
	q.val[XENBLK_C_BPS] = 10000000000ull;   // the largest rate
	EXPECT_TRUE(xb::nl::sets_limits(q));
	ASSERT_EQ(xb::nl::apply_set(q, &s, &lim, &e), 0);
	EXPECT_EQ(lim.l[xb::throttle::iops_read].rate, 300u);
	EXPECT_EQ(lim.l[xb::throttle::iops_write].rate, 100u);   // not in the request: kept
	EXPECT_EQ(lim.l[xb::throttle::bps_total].rate, 10000000000ull);
	EXPECT_EQ(lim.l[xb::throttle::bps_total].burst, 4096u);
	EXPECT_FALSE(s.has_flush);   // no transport setting touched

	xb::nl::SetRequest off;   // 0 removes a limit
	off.has[XENBLK_C_IOPS_READ] = true;
	off.val[XENBLK_C_IOPS_READ] = 0;
	ASSERT_EQ(xb::nl::apply_set(off, &s, &lim, &e), 0);
	EXPECT_EQ(lim.l[xb::throttle::iops_read].rate, 0u);

	xb::nl::SetRequest g;   // the group alone is a request of its own
	g.has[XENBLK_C_THROTTLE_GROUP] = true;
	snprintf(g.group, sizeof(g.group), "web.1_a-b");
	EXPECT_FALSE(xb::nl::sets_limits(g));
	EXPECT_EQ(xb::nl::apply_set(g, &s, &lim, &e), 0);
	g.group[0] = 0;   // "" leaves
	EXPECT_EQ(xb::nl::apply_set(g, &s, &lim, &e), 0);
}

TEST(NlLimits, RefusesOutOfRangeAndChangesNothing)
{
	struct Case { int attr; uint64_t val; const char* why; int blame; };
	const Case cases[] = {
		{XENBLK_C_IOPS_READ, 10000000001ull, "a rate must be at most 10000000000", XENBLK_C_IOPS_READ},
		{XENBLK_C_BPS, ~0ull, "a rate must be at most", XENBLK_C_BPS},
		// 100/s for at most 60 s: 6000 is the largest burst
		{XENBLK_C_IOPS_WRITE_BURST, 6100, "a burst must be at most 60 seconds", XENBLK_C_IOPS_WRITE_BURST},
	};
	for (const Case& c : cases) {
		xb::nl::BackSettings s;
		xb::nl::SetError e;
		xb::throttle::Limits lim;
		lim.l[xb::throttle::iops_write].rate = 100;
		xb::nl::SetRequest q;
		q.has[XENBLK_C_MAX_RING_ORDER] = true;   // valid, and not applied either
		q.val[XENBLK_C_MAX_RING_ORDER] = 1;
		q.has[XENBLK_C_IOPS_WRITE] = true;
		q.val[XENBLK_C_IOPS_WRITE] = 100;
		q.has[c.attr] = true;
		q.val[c.attr] = c.val;
		EXPECT_EQ(xb::nl::apply_set(q, &s, &lim, &e), -22) << c.attr;
		ASSERT_NE(e.why, nullptr);
		EXPECT_NE(std::string(e.why).find(c.why), std::string::npos) << e.why;
		EXPECT_EQ(e.attr, c.blame);
		EXPECT_FALSE(s.has_max_ring_order);
		EXPECT_EQ(lim.l[xb::throttle::iops_write].burst, 0u);
		EXPECT_EQ(lim.l[xb::throttle::iops_read].rate, 0u);
	}
	// a burst that the rate makes too long: the rate is the one blamed when
	// the request sets no burst
	xb::nl::BackSettings s;
	xb::nl::SetError e;
	xb::throttle::Limits lim;
	lim.l[xb::throttle::iops_read].burst = 6100;
	xb::nl::SetRequest q;
	q.has[XENBLK_C_IOPS_READ] = true;
	q.val[XENBLK_C_IOPS_READ] = 100;
	EXPECT_EQ(xb::nl::apply_set(q, &s, &lim, &e), -22);
	EXPECT_EQ(e.attr, XENBLK_C_IOPS_READ);
	EXPECT_EQ(lim.l[xb::throttle::iops_read].rate, 0u);
}

TEST(NlLimits, GroupNames)
{
	EXPECT_TRUE(xb::nl::group_name_ok("a"));
	EXPECT_TRUE(xb::nl::group_name_ok("ABCdef-012_.xyz"));   // 15: the longest
	EXPECT_FALSE(xb::nl::group_name_ok(""));
	EXPECT_FALSE(xb::nl::group_name_ok("ABCdef-012_.xyzw"));   // 16
	EXPECT_FALSE(xb::nl::group_name_ok("a b"));
	EXPECT_FALSE(xb::nl::group_name_ok("a/b"));
	EXPECT_FALSE(xb::nl::group_name_ok("\xc3\xa9"));
	xb::nl::BackSettings s;
	xb::nl::SetError e;
	xb::throttle::Limits lim;
	xb::nl::SetRequest q;
	q.has[XENBLK_C_THROTTLE_GROUP] = true;
	snprintf(q.group, sizeof(q.group), "x y");
	q.has[XENBLK_C_IOPS] = true;
	q.val[XENBLK_C_IOPS] = 10;
	EXPECT_EQ(xb::nl::apply_set(q, &s, &lim, &e), -22);
	EXPECT_EQ(e.attr, XENBLK_C_THROTTLE_GROUP);
	EXPECT_EQ(lim.l[xb::throttle::iops_total].rate, 0u);   // nothing applied
}

TEST(NlLimits, StatsSinceResetKeepsLevels)
{
	xb::DeviceStats now{}, base{};
	now.throttled = 10;
	now.throttled_ns = 5000;
	now.throttle_held = 4;
	base.throttled = 3;
	base.throttled_ns = 1000;
	base.throttle_held = 9;
	xb::nl::stats_since(&now, base);
	EXPECT_EQ(now.throttled, 7u);
	EXPECT_EQ(now.throttled_ns, 4000u);
	EXPECT_EQ(now.throttle_held, 4u);   // a level: not reset
}
