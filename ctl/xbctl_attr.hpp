// SPDX-License-Identifier: GPL-2.0
// xbctl_attr.hpp - reading netlink attributes (raw TLVs) of xbctl's replies
// and events, without libnl (the unit tests feed bytes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace xbctl {

struct Attr {
	uint16_t type;
	const uint8_t* data;
	size_t len;
};

// Walks netlink TLVs (4-byte aligned); false on a malformed one.
template <class F> inline bool each_attr(const uint8_t* p, size_t len, F f)
{
	while (len >= 4) {
		uint16_t alen, type;
		std::memcpy(&alen, p, 2);
		std::memcpy(&type, p + 2, 2);
		if (alen < 4 || alen > len)
			return false;
		if (!f(Attr{static_cast<uint16_t>(type & 0x3fff), p + 4, static_cast<size_t>(alen - 4)}))
			return false;
		const size_t step = (alen + 3u) & ~3u;
		if (step >= len)
			return true;
		p += step;
		len -= step;
	}
	return len == 0;
}

inline bool get(const Attr& a, uint8_t* v)
{
	if (a.len < 1)
		return false;
	*v = a.data[0];
	return true;
}
inline bool get(const Attr& a, bool* v)
{
	uint8_t x;
	if (!get(a, &x))
		return false;
	*v = x != 0;
	return true;
}
inline bool get(const Attr& a, uint32_t* v)
{
	if (a.len < 4)
		return false;
	std::memcpy(v, a.data, 4);
	return true;
}
inline bool get(const Attr& a, uint64_t* v)
{
	if (a.len < 8)
		return false;
	std::memcpy(v, a.data, 8);
	return true;
}
inline bool get(const Attr& a, std::string* v)
{
	size_t n = 0;
	while (n < a.len && a.data[n])
		n++;
	*v = std::string(reinterpret_cast<const char*>(a.data), n);
	return true;
}

} // namespace xbctl
