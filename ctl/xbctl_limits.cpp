// SPDX-License-Identifier: GPL-2.0
// xbctl_limits.cpp - xbctl and a backend device's I/O limits: the keys of
// `xbctl set`, the attributes of GET replies, their JSON and text.
// Documentation/throttle.md says what the limits mean.
#include "xbctl_core.hpp"
#include "xbctl_attr.hpp"

#include <cstdio>
#include <xenblk/netlink.h>

namespace xbctl {

static_assert(XENBLK_C_BPS - XENBLK_C_IOPS_READ == 5 &&
	      XENBLK_C_IOPS_READ_BURST - XENBLK_C_IOPS_READ == 6 &&
	      XENBLK_C_BPS_BURST - XENBLK_C_IOPS_READ == 11,
	      "six rates then their six bursts, in one order");

namespace {

constexpr unsigned nr_kinds = 6;
constexpr uint64_t max_rate = 10000000000ull;   // the kernel's bound (throttle.hpp)
constexpr uint64_t max_burst_seconds = 60;

bool is_bytes(unsigned kind) { return kind >= 3; }

// "500", "10M" (bytes only: K, M, G are 1024, 1024^2, 1024^3), "0"/"off"/"none"
bool parse_amount(const std::string& v, bool bytes, uint64_t* out)
{
	if (v == "off" || v == "none") {
		*out = 0;
		return true;
	}
	if (v.empty() || v.size() > 20)
		return false;
	uint64_t n = 0;
	size_t i = 0;
	for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; i++) {
		const unsigned d = static_cast<unsigned>(v[i] - '0');
		if (n > (~0ull - d) / 10)
			return false;
		n = n * 10 + d;
	}
	if (i == 0)
		return false;
	uint64_t mul = 1;
	if (i < v.size()) {
		if (!bytes || i + 1 != v.size())
			return false;
		switch (v[i]) {
		case 'K': case 'k': mul = 1ull << 10; break;
		case 'M': case 'm': mul = 1ull << 20; break;
		case 'G': case 'g': mul = 1ull << 30; break;
		default: return false;
		}
	}
	if (n > ~0ull / mul)
		return false;
	*out = n * mul;
	return true;
}

bool group_ok(const std::string& g)
{
	if (g.size() > 15)
		return false;
	for (char c : g)
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	return true;
}

std::string num(uint64_t v) { return std::to_string(v); }

std::string fmt_rate(unsigned kind, uint64_t v)
{
	if (!is_bytes(kind))
		return num(v);
	char b[48];
	if (v >= (1ull << 20) && v % (1ull << 20) == 0)
		std::snprintf(b, sizeof(b), "%llu (%llu MiB)", static_cast<unsigned long long>(v),
			      static_cast<unsigned long long>(v >> 20));
	else
		std::snprintf(b, sizeof(b), "%llu", static_cast<unsigned long long>(v));
	return b;
}

} // namespace

const char* limit_key(unsigned kind)
{
	static const char* const keys[nr_kinds] = {
		"iops_read", "iops_write", "iops", "bps_read", "bps_write", "bps",
	};
	return kind < nr_kinds ? keys[kind] : "?";
}

bool parse_limit_setting(const std::string& k, const std::string& v, Setting* out, std::string* err)
{
	err->clear();
	if (k == "group" || k == "throttle_group") {
		if (!group_ok(v)) {
			*err = "bad value '" + v + "' for group: 1 to 15 of A-Z a-z 0-9 _ . - (empty: leave the group)";
			return true;
		}
		*out = Setting{XENBLK_C_THROTTLE_GROUP, 0, 0, v};
		return true;
	}
	for (unsigned kind = 0; kind < nr_kinds; kind++) {
		const std::string key = limit_key(kind);
		const bool burst = k == key + "_burst";
		if (k != key && !burst)
			continue;
		uint64_t n;
		if (!parse_amount(v, is_bytes(kind), &n)) {
			*err = "bad value '" + v + "' for " + k + ": use a whole number" +
				(is_bytes(kind) ? " of bytes (K, M, G: 1024, 1024^2, 1024^3)" : "") +
				", 0 for " + (burst ? "the default burst" : "no limit");
			return true;
		}
		if (!burst && n > max_rate) {
			*err = "bad value '" + v + "' for " + k + ": at most 10000000000 per second";
			return true;
		}
		if (burst && n / max_burst_seconds > max_rate) {
			*err = "bad value '" + v + "' for " + k + ": at most 60 seconds at the largest rate";
			return true;
		}
		*out = Setting{static_cast<int>((burst ? XENBLK_C_IOPS_READ_BURST : XENBLK_C_IOPS_READ) + kind),
			       8, n, {}};
		return true;
	}
	return false;
}

bool check_limits(const std::vector<Setting>& s, std::string* err)
{
	for (unsigned kind = 0; kind < nr_kinds; kind++) {
		const Setting* rate = nullptr;
		const Setting* burst = nullptr;
		for (const Setting& x : s) {
			if (x.attr == static_cast<int>(XENBLK_C_IOPS_READ + kind))
				rate = &x;
			if (x.attr == static_cast<int>(XENBLK_C_IOPS_READ_BURST + kind))
				burst = &x;
		}
		// (a burst alone is checked by the kernel against the rate in force)
		if (rate && burst && rate->val && burst->val / max_burst_seconds > rate->val) {
			*err = std::string(limit_key(kind)) + "_burst=" + num(burst->val) + " is more than 60 seconds at " +
				limit_key(kind) + "=" + num(rate->val);
			return false;
		}
	}
	return true;
}

bool parse_limit_attr(int type, const uint8_t* data, size_t len, Device* d)
{
	const Attr a{static_cast<uint16_t>(type), data, len};
	if (type == XENBLK_C_THROTTLE_GROUP)
		return get(a, &d->limits.group);
	if (type >= XENBLK_C_IOPS_READ && type < XENBLK_C_IOPS_READ_BURST)
		return get(a, &d->limits.rate[type - XENBLK_C_IOPS_READ]);
	if (type >= XENBLK_C_IOPS_READ_BURST && type <= XENBLK_C_BPS_BURST)
		return get(a, &d->limits.burst[type - XENBLK_C_IOPS_READ_BURST]);
	return true;   // not a limit
}

bool parse_throttle(const uint8_t* data, size_t len, Device* d)
{
	auto& t = d->throttle;
	t.present = true;
	return each_attr(data, len, [&](const Attr& a) {
		switch (a.type) {
		case XENBLK_T_DELAYED: return get(a, &t.delayed);
		case XENBLK_T_DELAYED_NS: return get(a, &t.delayed_ns);
		case XENBLK_T_HELD: return get(a, &t.held);
		case XENBLK_T_TOKENS:
			return each_attr(a.data, a.len, [&](const Attr& k) {
				if (k.type < XENBLK_C_IOPS_READ || k.type > XENBLK_C_BPS)
					return true;
				const unsigned kind = k.type - XENBLK_C_IOPS_READ;
				t.limited[kind] = true;
				return get(k, &t.tokens[kind]);
			});
		default: return true;
		}
	});
}

std::string limits_json(const Device& d)
{
	std::string o = "\"limits\":{";
	for (unsigned kind = 0; kind < nr_kinds; kind++)
		o += std::string(kind ? "," : "") + "\"" + limit_key(kind) + "\":{\"rate\":" +
			num(d.limits.rate[kind]) + ",\"burst\":" + num(d.limits.burst[kind]) + "}";
	o += "},\"throttle_group\":" + (d.limits.group.empty() ? std::string("null") : json_escape(d.limits.group));
	return o;
}

std::string throttle_json(const Device& d)
{
	const auto& t = d.throttle;
	if (!t.present)
		return "";
	std::string o = "\"throttle\":{\"delayed\":" + num(t.delayed) + ",\"delayed_ns\":" + num(t.delayed_ns) +
		",\"held\":" + num(t.held) + ",\"tokens\":{";
	bool first = true;
	for (unsigned kind = 0; kind < nr_kinds; kind++) {
		if (!t.limited[kind])
			continue;
		o += std::string(first ? "" : ",") + "\"" + limit_key(kind) + "\":" + num(t.tokens[kind]);
		first = false;
	}
	return o + "}}";
}

std::string limits_text(const Device& d)
{
	std::string o = "  I/O limits (now)\n";
	bool any = false;
	char b[160];
	for (unsigned kind = 0; kind < nr_kinds; kind++) {
		if (!d.limits.rate[kind])
			continue;
		any = true;
		const std::string burst = d.limits.burst[kind] ? fmt_rate(kind, d.limits.burst[kind]) : "default";
		std::snprintf(b, sizeof(b), "    %-20s %s/s, burst %s\n", limit_key(kind),
			      fmt_rate(kind, d.limits.rate[kind]).c_str(), burst.c_str());
		o += b;
	}
	if (!any)
		o += "    none\n";
	if (!d.limits.group.empty()) {
		std::snprintf(b, sizeof(b), "    %-20s %s (its limits are the group's)\n", "group", d.limits.group.c_str());
		o += b;
	}
	return o;
}

std::string throttle_text(const Device& d)
{
	const auto& t = d.throttle;
	if (!t.present)
		return "";
	char b[200];
	std::snprintf(b, sizeof(b), "throttled: %llu requests delayed, %.3f s in all, %llu waiting now\n",
		      static_cast<unsigned long long>(t.delayed), static_cast<double>(t.delayed_ns) / 1e9,
		      static_cast<unsigned long long>(t.held));
	std::string o = b;
	for (unsigned kind = 0; kind < nr_kinds; kind++) {
		if (!t.limited[kind])
			continue;
		std::snprintf(b, sizeof(b), "  %-10s %llu %s of burst left\n", limit_key(kind),
			      static_cast<unsigned long long>(t.tokens[kind]), is_bytes(kind) ? "bytes" : "requests");
		o += b;
	}
	return o;
}

} // namespace xbctl
