// SPDX-License-Identifier: GPL-2.0
// abi.hpp - which blkif request layout a ring speaks, and the wire ABI checked in C++.
#pragma once
#include "kstd.hpp"
#include "xenblk/blkif.h"   // asserts every size/offset in C++ as well

namespace xb {

using kstd::u8; using kstd::u16; using kstd::u32; using kstd::u64;
using kstd::s16; using kstd::size_t;

// The request layout negotiated through the frontend's "protocol" key.  The
// native layout of an x86_64 build is x86_64; an absent key means native.
enum class Abi : u8 { x86_64 = 0, x86_32 = 1 };

constexpr Abi native_abi() { return XENBLK_NATIVE_ABI_X86_32 ? Abi::x86_32 : Abi::x86_64; }

constexpr size_t request_size(Abi a)
{
	return a == Abi::x86_32 ? sizeof(union blkif_x86_32_request) : sizeof(union blkif_x86_64_request);
}
constexpr size_t response_size(Abi a)
{
	return a == Abi::x86_32 ? sizeof(struct blkif_x86_32_response) : sizeof(struct blkif_x86_64_response);
}
// one ring slot = union of request and response
constexpr size_t entry_size(Abi a) { return kstd::max(request_size(a), response_size(a)); }

// Parse a "protocol" value; nullptr (key absent) means the native ABI.
// Returns false for an unknown protocol name.
bool parse_protocol(const char* value, Abi* out);
const char* protocol_name(Abi a);

static_assert(entry_size(Abi::x86_64) == 112);
static_assert(entry_size(Abi::x86_32) == 108);

} // namespace xb
