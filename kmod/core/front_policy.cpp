// SPDX-License-Identifier: GPL-2.0
// front_policy.cpp - see front_policy.hpp.
#include "front_policy.hpp"

namespace xb {

namespace {
constexpr int state_connected = 4;   // XenbusStateConnected

// A xenstore number as the negotiation reads them: decimal digits only,
// at most 32 bits.
bool parse_key_u32(const char* s, kstd::u32* out)
{
	kstd::u64 v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + static_cast<kstd::u64>(*s - '0');
		if (v > 0xffffffffull)
			return false;
	}
	*out = static_cast<kstd::u32>(v);
	return true;
}
}

TimeoutAction timeout_action(const RingHealth& h)
{
	if (h.resuming)
		return TimeoutAction::reset_timer;   // held, re-issued on the new rings
	if (h.broken || h.closing || h.ring_dead || !h.ring_up)
		return TimeoutAction::fail;
	if (h.backend_state != state_connected)
		return TimeoutAction::fail;          // the backend left without closing us
	return TimeoutAction::reset_timer;
}

ReleaseAction release_action(bool pooled, bool grants_ended, bool give_up)
{
	if (pooled || grants_ended)
		return ReleaseAction::fail_now;
	return give_up ? ReleaseAction::defer_and_fail : ReleaseAction::wait;
}

bool backend_trusted(bool param_trusted, const char* key_value)
{
	if (!param_trusted)
		return false;
	if (!key_value)
		return true;
	kstd::u32 v = 0;
	if (!parse_key_u32(key_value, &v))
		return false;
	return v != 0;
}

GrantMode grant_mode(bool trusted, bool persistent)
{
	if (persistent)
		return GrantMode::persistent;   // pool pages only: bounced already
	return trusted ? GrantMode::direct : GrantMode::bounce;
}

const char* grant_mode_name(GrantMode m)
{
	switch (m) {
	case GrantMode::direct: return "direct";
	case GrantMode::persistent: return "persistent";
	case GrantMode::bounce: return "bounce";
	}
	return "unknown";
}

} // namespace xb
