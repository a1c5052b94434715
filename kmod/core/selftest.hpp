// SPDX-License-Identifier: GPL-2.0
// selftest.hpp - a self-check of the protocol core, run by each module at load.
#pragma once
#include "kstd.hpp"

namespace xb {

// Drives requests and responses through a real one-page shared ring with the
// front and back views, the wire codec and the validator, and checks every
// field that comes out.  Returns Errno::ok, or Errno::nomem / Errno::io.
kstd::Errno core_selftest();

} // namespace xb
