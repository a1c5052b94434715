// SPDX-License-Identifier: GPL-2.0
// back_config.cpp - parsing of the backend's toolstack keys and parameters.
#include "back_config.hpp"

namespace xb {

// negotiate.hpp's protocol limits, referenced so that this file (which needs only
// FlushPolicy) builds under -Wunused-const-variable
static_assert(blkif_max_direct_segs < blkif_max_indirect_segs);

namespace {

bool parse_hex_u32(const char* s, const char** end, u32* out)
{
	u64 v = 0;
	const char* p = s;

	for (; *p; p++) {
		u32 d;
		if (*p >= '0' && *p <= '9')
			d = static_cast<u32>(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = static_cast<u32>(*p - 'a') + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = static_cast<u32>(*p - 'A') + 10;
		else
			break;
		v = v * 16 + d;
		if (v > 0xffffffffu)
			return false;
	}
	if (p == s)
		return false;
	*end = p;
	*out = static_cast<u32>(v);
	return true;
}

} // namespace

bool parse_physical_device(const char* s, u32* major, u32* minor)
{
	const char* p;
	u32 ma, mi;

	if (!s || !parse_hex_u32(s, &p, &ma) || *p != ':')
		return false;
	if (!parse_hex_u32(p + 1, &p, &mi) || *p)
		return false;
	*major = ma;
	*minor = mi;
	return true;
}

bool parse_vbd_mode(const char* s, bool* read_only)
{
	if (!s)
		return false;
	if (!kstd::strcmp(s, "r")) {
		*read_only = true;
		return true;
	}
	if (!kstd::strcmp(s, "w") || !kstd::strcmp(s, "w!")) {
		*read_only = false;
		return true;
	}
	return false;
}

static const struct {
	const char* name;
	FlushPolicy policy;
} policies[] = {
	{"auto", FlushPolicy::automatic},
	{"flush", FlushPolicy::flush},
	{"barrier", FlushPolicy::barrier},
	{"both", FlushPolicy::both},
	{"none", FlushPolicy::none},
};

bool parse_flush_policy(const char* s, FlushPolicy* out)
{
	if (!s)
		return false;
	for (const auto& p : policies) {
		if (!kstd::strcmp(s, p.name)) {
			*out = p.policy;
			return true;
		}
	}
	return false;
}

const char* flush_policy_name(FlushPolicy p)
{
	for (const auto& e : policies)
		if (e.policy == p)
			return e.name;
	return "?";
}

} // namespace xb
