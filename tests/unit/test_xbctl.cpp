// xbctl without a kernel: command lines, attribute parsing (round trip through
// the kernel's own report writer), JSON, tables, histograms, error texts.
#include <gtest/gtest.h>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>
#include "nl_report.hpp"
#include "xbctl_core.hpp"

namespace {

// Real netlink TLVs, as nla_put would lay them out.
class TlvWriter final : public xb::nl::AttrWriter {
public:
	bool put_u8(uint16_t t, uint8_t v) override { return put(t, &v, 1); }
	bool put_u32(uint16_t t, uint32_t v) override { return put(t, &v, 4); }
	bool put_u64(uint16_t t, uint64_t v, uint16_t) override { return put(t, &v, 8); }
	bool put_string(uint16_t t, const char* s) override { return put(t, s, std::strlen(s) + 1); }
	bool nest_start(uint16_t t) override
	{
		nests.push_back(buf.size());
		return put(t | 0x8000, nullptr, 0);
	}
	void nest_end() override
	{
		const size_t at = nests.back();
		nests.pop_back();
		const uint16_t len = static_cast<uint16_t>(buf.size() - at);
		std::memcpy(&buf[at], &len, 2);
	}
	std::vector<uint8_t> buf;
	std::vector<size_t> nests;
private:
	bool put(uint16_t t, const void* p, size_t n)
	{
		const uint16_t len = static_cast<uint16_t>(4 + n);
		const size_t at = buf.size();
		buf.resize(at + ((len + 3u) & ~3u), 0);
		std::memcpy(&buf[at], &len, 2);
		std::memcpy(&buf[at + 2], &t, 2);
		if (n)
			std::memcpy(&buf[at + 4], p, n);
		return true;
	}
};

xb::nl::Snapshot sample()
{
	xb::nl::Snapshot s;
	std::snprintf(s.name, sizeof(s.name), "vbd-2-51712");
	s.domid = 2;
	s.devid = 51712;
	s.has_phys = s.has_mode = true;
	s.phys_major = 0xfd;
	s.phys_minor = 0x10;
	s.state = s.other_state = 4;
	s.connected = true;
	s.sectors = 2048;
	s.features.flush_mode = XENBLK_FLUSH_BARRIER;
	s.features.barrier = true;
	s.features.queues = 2;
	s.features.ring_order = 3;
	s.features.indirect_segs = 256;
	s.has_config = true;
	s.config.flush = xb::FlushPolicy::barrier;
	s.config.max_queues = 4;
	s.config.max_ring_order = 3;
	s.stats.op[XENBLK_OP_WRITE].requests = 10;
	s.stats.op[XENBLK_OP_WRITE].sectors = 80;
	s.stats.op[XENBLK_OP_BARRIER].requests = 3;
	s.stats.latency[XENBLK_OP_WRITE].bucket[4] = 6;
	s.stats.latency[XENBLK_OP_WRITE].bucket[7] = 4;
	s.stats.in_flight = 1;
	s.stats.bad_requests = 2;
	return s;
}

xbctl::Device parsed_sample()
{
	TlvWriter w;
	EXPECT_TRUE(xb::nl::write_device(w, sample()));
	xbctl::Device d;
	EXPECT_TRUE(xbctl::parse_device(w.buf.data(), w.buf.size(), &d));
	return d;
}

// A strict JSON syntax check (objects, arrays, strings, numbers, literals).
class Json {
public:
	explicit Json(const std::string& s) : s_(s) {}
	bool valid()
	{
		ws();
		if (!value())
			return false;
		ws();
		return i_ == s_.size();
	}
private:
	void ws() { while (i_ < s_.size() && std::strchr(" \n\t\r", s_[i_])) i_++; }
	bool lit(const char* l)
	{
		if (s_.compare(i_, std::strlen(l), l))
			return false;
		i_ += std::strlen(l);
		return true;
	}
	bool str()
	{
		if (s_[i_] != '"')
			return false;
		for (i_++; i_ < s_.size(); i_++) {
			if (s_[i_] == '\\') { i_++; continue; }
			if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
			if (s_[i_] == '"') { i_++; return true; }
		}
		return false;
	}
	bool number()
	{
		const size_t b = i_;
		if (s_[i_] == '-') i_++;
		while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) i_++;
		return i_ > b;
	}
	bool seq(char close, bool obj)
	{
		i_++;
		ws();
		if (s_[i_] == close) { i_++; return true; }
		for (;;) {
			ws();
			if (obj) {
				if (!str()) return false;
				ws();
				if (s_[i_++] != ':') return false;
				ws();
			}
			if (!value()) return false;
			ws();
			if (s_[i_] == close) { i_++; return true; }
			if (s_[i_++] != ',') return false;
		}
	}
	bool value()
	{
		if (i_ >= s_.size()) return false;
		switch (s_[i_]) {
		case '{': return seq('}', true);
		case '[': return seq(']', false);
		case '"': return str();
		case 't': return lit("true");
		case 'f': return lit("false");
		case 'n': return lit("null");
		default: return number();
		}
	}
	const std::string& s_;
	size_t i_ = 0;
};

bool parse(std::vector<const char*> args, xbctl::Options* o, std::string* err)
{
	args.insert(args.begin(), "xbctl");
	return xbctl::parse_args(static_cast<int>(args.size()), args.data(), o, err);
}

} // namespace

TEST(XbctlArgs, Commands)
{
	xbctl::Options o;
	std::string err;
	ASSERT_TRUE(parse({"-j", "list"}, &o, &err)) << err;
	EXPECT_TRUE(o.json);
	EXPECT_EQ(o.command, "list");

	xbctl::Options s;
	ASSERT_TRUE(parse({"stats", "xvda", "--watch", "2", "--count", "3"}, &s, &err)) << err;
	EXPECT_EQ(s.device, "xvda");
	EXPECT_EQ(s.watch, 2u);
	EXPECT_EQ(s.count, 3u);

	xbctl::Options t;
	ASSERT_TRUE(parse({"--back", "set", "vbd-1-51712", "flush=barrier", "max_queues=2", "discard=off"}, &t, &err)) << err;
	EXPECT_EQ(t.side, xbctl::Side::back);
	ASSERT_EQ(t.settings.size(), 3u);
	EXPECT_EQ(t.settings[0], (xbctl::Setting{XENBLK_C_FLUSH_POLICY, 1, XENBLK_FLUSH_BARRIER, {}}));
	EXPECT_EQ(t.settings[1], (xbctl::Setting{XENBLK_C_MAX_QUEUES, 4, 2, {}}));
	EXPECT_EQ(t.settings[2], (xbctl::Setting{XENBLK_C_DISCARD, 1, 0, {}}));

	xbctl::Options h;
	EXPECT_TRUE(parse({"--help"}, &h, &err));
	EXPECT_TRUE(h.help);
}

TEST(XbctlArgs, ErrorsSayWhatWasWrong)
{
	const struct { std::vector<const char*> args; const char* err; } cases[] = {
		{{}, "no command given"},
		{{"frobnicate"}, "unknown command 'frobnicate'"},
		{{"show"}, "show needs a device (see xbctl list)"},
		{{"list", "extra"}, "unexpected argument 'extra'"},
		{{"--bogus", "list"}, "unknown option '--bogus'"},
		{{"set", "xvda"}, "set needs at least one KEY=VALUE"},
		{{"set", "xvda", "colour=red"}, "unknown key 'colour'"},
		{{"set", "xvda", "flush"}, "'flush' is not KEY=VALUE"},
		{{"set", "xvda", "flush=sometimes"}, "bad value 'sometimes' for flush"},
		{{"set", "xvda", "max_queues=0"}, "bad value '0' for max_queues: use 1..32"},
		{{"set", "xvda", "max_queues=33"}, "bad value '33' for max_queues"},
		{{"set", "xvda", "max_ring_order=5"}, "bad value '5' for max_ring_order: use 0..4"},
		{{"set", "xvda", "max_ring_order=-1"}, "bad value '-1' for max_ring_order"},
		{{"set", "xvda", "discard=maybe"}, "bad value 'maybe' for discard: use 0 or 1"},
		{{"stats", "xvda", "--watch"}, "--watch needs a number"},
		{{"stats", "xvda", "--watch", "0"}, "bad number '0' for --watch"},
		{{"list", "--watch", "1"}, "--watch and --count go with stats only"},
	};
	for (const auto& c : cases) {
		xbctl::Options o;
		std::string err;
		EXPECT_FALSE(parse(c.args, &o, &err)) << c.err;
		EXPECT_NE(err.find(c.err), std::string::npos) << "got: " << err << "\nwant: " << c.err;
	}
}

TEST(XbctlParse, DeviceRoundTripThroughTheKernelWriter)
{
	const xbctl::Device d = parsed_sample();
	EXPECT_EQ(d.name, "vbd-2-51712");
	EXPECT_EQ(d.domid, 2u);
	EXPECT_EQ(d.devid, 51712u);
	EXPECT_TRUE(d.has_phys);
	EXPECT_EQ(d.phys_major, 0xfdu);
	EXPECT_EQ(d.phys_minor, 0x10u);
	EXPECT_TRUE(d.connected);
	EXPECT_EQ(d.sectors, 2048u);
	EXPECT_EQ(d.features.flush_mode, XENBLK_FLUSH_BARRIER);
	EXPECT_TRUE(d.features.barrier);
	EXPECT_FALSE(d.features.flush);
	EXPECT_EQ(d.features.queues, 2u);
	EXPECT_EQ(d.features.ring_order, 3u);
	EXPECT_EQ(d.features.abi, "x86_64-abi");
	EXPECT_TRUE(d.has_config);
	EXPECT_EQ(d.config.flush_policy, XENBLK_FLUSH_BARRIER);
	EXPECT_EQ(d.config.max_queues, 4u);
	EXPECT_EQ(d.op[XENBLK_OP_WRITE].requests, 10u);
	EXPECT_EQ(d.op[XENBLK_OP_WRITE].sectors, 80u);
	EXPECT_EQ(d.op[XENBLK_OP_BARRIER].requests, 3u);
	EXPECT_EQ(d.op[XENBLK_OP_WRITE].latency[4], 6u);
	EXPECT_EQ(d.op[XENBLK_OP_WRITE].latency[7], 4u);
	EXPECT_EQ(d.in_flight, 1u);
	EXPECT_EQ(d.bad, 2u);
}

TEST(XbctlParse, MalformedMessagesAreRefused)
{
	TlvWriter w;
	ASSERT_TRUE(xb::nl::write_device(w, sample()));
	xbctl::Device d;
	// a length running past the end
	std::vector<uint8_t> b = w.buf;
	const uint16_t big = 0x7fff;
	std::memcpy(&b[0], &big, 2);
	EXPECT_FALSE(xbctl::parse_device(b.data(), b.size(), &d));
	// truncated in the middle of an attribute
	EXPECT_FALSE(xbctl::parse_device(w.buf.data(), 6, &d));
	// no name: not a device
	TlvWriter n;
	n.put_u32(XENBLK_A_DOMID, 1);
	EXPECT_FALSE(xbctl::parse_device(n.buf.data(), n.buf.size(), &d));
	// an operation index out of range
	TlvWriter o;
	o.put_string(XENBLK_A_NAME, "xvda");
	o.nest_start(XENBLK_A_STATS);
	o.nest_start(XENBLK_S_OP);
	o.put_u32(XENBLK_O_OP, 9);
	o.nest_end();
	o.nest_end();
	EXPECT_FALSE(xbctl::parse_device(o.buf.data(), o.buf.size(), &d));
}

TEST(XbctlParse, Event)
{
	TlvWriter w;
	ASSERT_TRUE(xb::nl::write_event(w, XENBLK_EV_CONNECTED, "vbd-3-51728", 3, 51728, "barrier"));
	xbctl::Event e;
	ASSERT_TRUE(xbctl::parse_event(w.buf.data(), w.buf.size(), &e));
	EXPECT_EQ(xbctl::event_text(e), "connected vbd-3-51728 domid 3 devid 51728: barrier");
	EXPECT_EQ(xbctl::event_json(e),
		  "{\"event\":\"connected\",\"name\":\"vbd-3-51728\",\"domid\":3,\"devid\":51728,\"detail\":\"barrier\"}");
	TlvWriter d;
	ASSERT_TRUE(xb::nl::write_event(d, XENBLK_EV_DISCONNECTED, "xvda", 0, 51712, nullptr));
	xbctl::Event e2;
	ASSERT_TRUE(xbctl::parse_event(d.buf.data(), d.buf.size(), &e2));
	EXPECT_EQ(xbctl::event_json(e2),
		  "{\"event\":\"disconnected\",\"name\":\"xvda\",\"domid\":0,\"devid\":51712,\"detail\":null}");
}

TEST(XbctlJson, ShapeAndStableKeys)
{
	const xbctl::Device d = parsed_sample();
	const std::string j = xbctl::device_json(d, true);
	EXPECT_TRUE(Json(j).valid()) << j;
	for (const char* k : {"\"name\":\"vbd-2-51712\"", "\"side\":\"back\"", "\"domid\":2", "\"devid\":51712",
			      "\"state\":\"Connected\"", "\"other_state\":\"Connected\"",
			      "\"physical_device\":\"fd:10\"", "\"mode\":\"w\"", "\"connected\":true",
			      "\"sectors\":2048", "\"flush_mode\":\"barrier\"", "\"barrier\":true",
			      "\"queues\":2", "\"ring_order\":3", "\"abi\":\"x86_64-abi\"",
			      "\"config\":{\"flush_policy\":\"barrier\",\"max_queues\":4",
			      "\"write\":{\"requests\":10,\"sectors\":80,\"errors\":0,\"unsupported\":0,\"latency_us_log2\":[0,0,0,0,6,0,0,4,",
			      "\"in_flight\":1", "\"bad\":2"})
		EXPECT_NE(j.find(k), std::string::npos) << k << " in " << j;

	xbctl::Device fe;
	fe.name = "xvdb";
	const std::string f = xbctl::device_json(fe, false);
	EXPECT_TRUE(Json(f).valid()) << f;
	EXPECT_NE(f.find("\"features\":null"), std::string::npos);
	EXPECT_EQ(f.find("\"config\""), std::string::npos);   // the frontend has no settings
	EXPECT_EQ(f.find("physical_device"), std::string::npos);

	EXPECT_TRUE(Json(xbctl::devices_json({}, true)).valid());
	EXPECT_EQ(xbctl::devices_json({}, true), "[]");
	const std::string two = xbctl::devices_json({d, fe}, true);
	EXPECT_TRUE(Json(two).valid());
	EXPECT_FALSE(Json(two.substr(0, two.size() - 1)).valid());   // the checker can fail
	EXPECT_EQ(xbctl::json_escape("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(XbctlText, ListTableAndShow)
{
	const xbctl::Device d = parsed_sample();
	xbctl::Device idle;
	idle.name = "vbd-5-51728";
	idle.domid = 5;
	idle.devid = 51728;
	idle.state = 2;
	const std::string t = xbctl::list_table({d, idle}, true);
	EXPECT_EQ(t.substr(0, t.find('\n')),
		  "NAME            DOMID  DEVID STATE        FLUSH    QUEUES RING      READS     WRITES  FLUSHES");
	EXPECT_NE(t.find("vbd-2-51712         2  51712 Connected    barrier       2    8          0         10        3\n"),
		  std::string::npos) << t;
	EXPECT_NE(t.find("vbd-5-51728         5  51728 InitWait     -             -    -          0          0        0\n"),
		  std::string::npos) << t;
	EXPECT_NE(xbctl::list_table({}, false).find("BACKEND"), std::string::npos);
	EXPECT_NE(xbctl::list_table({}, false).find("(no devices)"), std::string::npos);

	const std::string s = xbctl::show_text(d, true);
	EXPECT_NE(s.find("  physical device        fd:10\n"), std::string::npos) << s;
	EXPECT_NE(s.find("    flush mode           barrier\n"), std::string::npos) << s;
	EXPECT_NE(s.find("    ring order           3 (8 pages)\n"), std::string::npos) << s;
	EXPECT_NE(s.find("  settings (next connect)\n    flush                barrier\n"), std::string::npos) << s;
	EXPECT_NE(xbctl::show_text(idle, true).find("(not connected)"), std::string::npos);
}

TEST(XbctlText, Histogram)
{
	EXPECT_EQ(xbctl::bucket_label(0), "<2us");
	EXPECT_EQ(xbctl::bucket_label(1), "2us-4us");
	EXPECT_EQ(xbctl::bucket_label(10), "1.0ms-2.0ms");
	EXPECT_EQ(xbctl::bucket_label(20), "1.0s-2.1s");
	EXPECT_EQ(xbctl::bucket_label(23), ">=8.4s");

	uint64_t none[24] = {};
	EXPECT_EQ(xbctl::histogram_text(none), "");
	uint64_t b[24] = {};
	b[4] = 10;
	b[6] = 1;
	// from the first to the last non-empty bucket; a non-empty bucket never
	// draws an empty bar; the fullest draws the whole width
	EXPECT_EQ(xbctl::histogram_text(b, 10),
		  "        16us-32us         10 |##########\n"
		  "        32us-64us          0 |\n"
		  "       64us-128us          1 |#\n");
	const std::string st = xbctl::stats_text(parsed_sample());
	EXPECT_NE(st.find("write              10             80        0            0\n"), std::string::npos) << st;
	EXPECT_NE(st.find("write latency\n"), std::string::npos);
	EXPECT_EQ(st.find("read latency"), std::string::npos);   // nothing to draw
}

TEST(XbctlErrors, TextsAndExitCodes)
{
	EXPECT_EQ(xbctl::error_text("show", "xvdq", ENODEV, "no such device"),
		  "xbctl show: unknown device 'xvdq' (see xbctl list) (no such device)");
	EXPECT_EQ(xbctl::error_exit(ENODEV), xbctl::exit_no_device);
	EXPECT_EQ(xbctl::error_text("set", "vbd-1-51712", EPERM, ""),
		  "xbctl set: permission denied: set needs CAP_NET_ADMIN (run as root)");
	EXPECT_EQ(xbctl::error_exit(EPERM), xbctl::exit_permission);
	EXPECT_EQ(xbctl::error_text("list", "", ENOENT, ""),
		  "xbctl list: neither xenblk-back nor xenblk-front is loaded (modprobe one of them)");
	EXPECT_EQ(xbctl::error_exit(ENOENT), xbctl::exit_no_module);
	EXPECT_EQ(xbctl::error_text("set", "vbd-1-51712", EINVAL, "max queues must be 1..32"),
		  "xbctl set: max queues must be 1..32");
	EXPECT_EQ(xbctl::error_exit(EINVAL), xbctl::exit_refused);
	EXPECT_EQ(xbctl::error_exit(EIO), xbctl::exit_failure);
	EXPECT_NE(xbctl::error_text("list", "", EIO, "").find("Input/output error"), std::string::npos);
}

// ---- I/O limits ---------------------------------------------------------------------

TEST(XbctlLimits, KeysBecomeU64AttributesAndTheGroupAString)
{
	xbctl::Options o;
	std::string err;
	ASSERT_TRUE(parse({"set", "vbd-1-51712", "iops_read=500", "bps_write=10M", "bps_write_burst=1M",
			   "iops=off", "bps=2G", "group=tenant-a"}, &o, &err)) << err;
	ASSERT_EQ(o.settings.size(), 6u);
	EXPECT_EQ(o.settings[0], (xbctl::Setting{XENBLK_C_IOPS_READ, 8, 500, {}}));
	EXPECT_EQ(o.settings[1], (xbctl::Setting{XENBLK_C_BPS_WRITE, 8, 10ull << 20, {}}));
	EXPECT_EQ(o.settings[2], (xbctl::Setting{XENBLK_C_BPS_WRITE_BURST, 8, 1ull << 20, {}}));
	EXPECT_EQ(o.settings[3], (xbctl::Setting{XENBLK_C_IOPS, 8, 0, {}}));
	EXPECT_EQ(o.settings[4], (xbctl::Setting{XENBLK_C_BPS, 8, 2ull << 30, {}}));
	EXPECT_EQ(o.settings[5], (xbctl::Setting{XENBLK_C_THROTTLE_GROUP, 0, 0, "tenant-a"}));
	xbctl::Options leave;
	ASSERT_TRUE(parse({"set", "vbd-1-51712", "group="}, &leave, &err)) << err;
	EXPECT_EQ(leave.settings[0], (xbctl::Setting{XENBLK_C_THROTTLE_GROUP, 0, 0, ""}));
}

TEST(XbctlLimits, BadValuesAreRefusedBeforeAnythingIsSent)
{
	const struct { std::vector<const char*> args; const char* err; } cases[] = {
		{{"set", "x", "iops_read=-1"}, "bad value '-1' for iops_read"},
		{{"set", "x", "iops_read=10K"}, "bad value '10K' for iops_read"},   // suffixes: bytes only
		{{"set", "x", "bps=10T"}, "bad value '10T' for bps"},
		{{"set", "x", "bps=99999999999999999999999"}, "bad value"},
		{{"set", "x", "iops=10000000001"}, "at most 10000000000 per second"},
		{{"set", "x", "bps=10G"}, "at most 10000000000 per second"},
		{{"set", "x", "iops_write=100", "iops_write_burst=6100"}, "iops_write_burst=6100 is more than 60 seconds"},
		{{"set", "x", "group=a b"}, "bad value 'a b' for group"},
		{{"set", "x", "group=abcdefghijklmnop"}, "bad value"},
		{{"set", "x", "iops=1", "iops=2"}, "sets what an earlier argument sets"},
		{{"set", "x", "speed=1"}, "unknown key 'speed'"},
	};
	for (const auto& c : cases) {
		xbctl::Options o;
		std::string err;
		EXPECT_FALSE(parse(c.args, &o, &err)) << c.err;
		EXPECT_NE(err.find(c.err), std::string::npos) << "got: " << err << "\nwant: " << c.err;
	}
	xbctl::Options ok;   // 60 s at the rate is the largest burst
	std::string err;
	EXPECT_TRUE(parse({"set", "x", "iops_write=100", "iops_write_burst=6000"}, &ok, &err)) << err;
}

TEST(XbctlLimits, ReportRoundTripJsonAndText)
{
	xb::nl::Snapshot s = sample();
	s.config.limits.l[xb::throttle::iops_read].rate = 500;
	s.config.limits.l[xb::throttle::bps_write] = {10ull << 20, 1ull << 20};
	snprintf(s.config.group, sizeof(s.config.group), "tenant-a");
	s.throttle.limited[xb::throttle::iops_read] = true;
	s.throttle.limited[xb::throttle::bps_write] = true;
	s.throttle.tokens[xb::throttle::iops_read] = 12;
	s.throttle.tokens[xb::throttle::bps_write] = 0;
	s.stats.throttled = 40;
	s.stats.throttled_ns = 2500000000ull;
	s.stats.throttle_held = 5;
	TlvWriter w;
	ASSERT_TRUE(xb::nl::write_device(w, s));
	xbctl::Device d;
	ASSERT_TRUE(xbctl::parse_device(w.buf.data(), w.buf.size(), &d));
	EXPECT_EQ(d.limits.rate[0], 500u);
	EXPECT_EQ(d.limits.rate[4], 10ull << 20);
	EXPECT_EQ(d.limits.burst[4], 1ull << 20);
	EXPECT_EQ(d.limits.rate[5], 0u);
	EXPECT_EQ(d.limits.group, "tenant-a");
	EXPECT_TRUE(d.throttle.present);
	EXPECT_EQ(d.throttle.delayed, 40u);
	EXPECT_EQ(d.throttle.held, 5u);
	EXPECT_TRUE(d.throttle.limited[0]);
	EXPECT_FALSE(d.throttle.limited[1]);
	EXPECT_EQ(d.throttle.tokens[0], 12u);

	const std::string j = xbctl::device_json(d, true);
	EXPECT_TRUE(Json(j).valid()) << j;
	for (const char* k : {"\"limits\":{\"iops_read\":{\"rate\":500,\"burst\":0},",
			      "\"bps_write\":{\"rate\":10485760,\"burst\":1048576}",
			      "\"throttle_group\":\"tenant-a\"",
			      "\"throttle\":{\"delayed\":40,\"delayed_ns\":2500000000,\"held\":5,"
			      "\"tokens\":{\"iops_read\":12,\"bps_write\":0}}"})
		EXPECT_NE(j.find(k), std::string::npos) << k << " in " << j;
	const std::string show = xbctl::show_text(d, true);
	EXPECT_NE(show.find("iops_read            500/s, burst default"), std::string::npos) << show;
	EXPECT_NE(show.find("bps_write            10485760 (10 MiB)/s, burst 1048576 (1 MiB)"), std::string::npos) << show;
	EXPECT_NE(show.find("group                tenant-a"), std::string::npos) << show;
	const std::string st = xbctl::stats_text(d);
	EXPECT_NE(st.find("throttled: 40 requests delayed, 2.500 s in all, 5 waiting now"), std::string::npos) << st;

	// no limits: "none", and no group in JSON
	xbctl::Device none = parsed_sample();
	EXPECT_NE(xbctl::show_text(none, true).find("I/O limits (now)\n    none\n"), std::string::npos);
	EXPECT_NE(xbctl::device_json(none, true).find("\"throttle_group\":null"), std::string::npos);
	EXPECT_EQ(xbctl::event_name(XENBLK_EV_THROTTLE_START), std::string("throttle_start"));
	EXPECT_EQ(xbctl::event_name(XENBLK_EV_THROTTLE_STOP), std::string("throttle_stop"));
}
