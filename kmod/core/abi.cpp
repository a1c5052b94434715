// SPDX-License-Identifier: GPL-2.0
#include "abi.hpp"

namespace xb {

bool parse_protocol(const char* value, Abi* out)
{
	if (!value || !value[0]) {
		*out = native_abi();
		return true;
	}
	if (!kstd::strcmp(value, XEN_IO_PROTO_ABI_X86_64)) {
		*out = Abi::x86_64;
		return true;
	}
	if (!kstd::strcmp(value, XEN_IO_PROTO_ABI_X86_32)) {
		*out = Abi::x86_32;
		return true;
	}
	return false;
}

const char* protocol_name(Abi a)
{
	return a == Abi::x86_32 ? XEN_IO_PROTO_ABI_X86_32 : XEN_IO_PROTO_ABI_X86_64;
}

} // namespace xb
