// SPDX-License-Identifier: GPL-2.0
// back_config.hpp - what the backend reads from the toolstack and its parameters.
//
// The hotplug script (/etc/xen/scripts/block) writes physical-device as hex
// "MAJOR:MINOR" (e.g. "7:0", "fe:10") and libxl writes mode ("r", "w", "w!").
// The flush policy is a module parameter by name.  Everything here is strict:
// malformed text is refused, never read as a default.
#pragma once
#include "kstd.hpp"
#include "negotiate.hpp"

namespace xb {

// "MAJOR:MINOR", both hexadecimal (no "0x", no sign, no spaces), each at most
// 0xffffffff.  false for anything else.
bool parse_physical_device(const char* s, u32* major, u32* minor);

// "r" => read-only; "w" and "w!" (shared writable) => writable; anything else
// (empty included) is refused.
bool parse_vbd_mode(const char* s, bool* read_only);

// "auto", "flush", "barrier", "both", "none".
bool parse_flush_policy(const char* s, FlushPolicy* out);
const char* flush_policy_name(FlushPolicy p);

} // namespace xb
