// SPDX-License-Identifier: GPL-2.0
#include "selftest.hpp"

namespace xb {

namespace {
// exercised through a vtable so that a broken C++ runtime shows up at load
class Probe {
public:
	virtual ~Probe() = default;
	virtual int value() const { return 1; }
};
class Probe2 final : public Probe {
public:
	int value() const override { return 2; }
};
} // namespace

kstd::Errno core_selftest()
{
	kstd::unique_ptr<Probe> p(new (std::nothrow) Probe2);
	if (!p)
		return kstd::Errno::nomem;
	return p->value() == 2 ? kstd::Errno::ok : kstd::Errno::io;
}

} // namespace xb
