// SPDX-License-Identifier: GPL-2.0
// nl_handlers.cpp - generic netlink requests of both modules (see nl_kernel.hpp).
#include "kstd.hpp"
#include "nl_api.h"
#include "nl_kernel.hpp"

namespace xb::nlk {
namespace {

// AttrWriter over the glue's message.
class GlueWriter final : public nl::AttrWriter {
public:
	explicit GlueWriter(xbnl_msg* m) : m_(m) {}
	bool put_u8(u16 t, u8 v) override { return xbnl_put_u8(m_, t, v) == 0; }
	bool put_u32(u16 t, u32 v) override { return xbnl_put_u32(m_, t, v) == 0; }
	bool put_u64(u16 t, u64 v, u16 pad) override { return xbnl_put_u64(m_, t, v, pad) == 0; }
	bool put_string(u16 t, const char* s) override { return xbnl_put_str(m_, t, s) == 0; }
	// write_device ends exactly the nests whose start succeeded
	bool nest_start(u16 t) override { return xbnl_nest_start(m_, t) == 0; }
	void nest_end() override { xbnl_nest_end(m_); }
private:
	xbnl_msg* m_;
};

// the module's report: set before the family is registered, cleared after
const Report* report_ = nullptr;


// The device called name (list locked), or nullptr with *why set.
void* find(const char* name, const char** why)
{
	char buf[nl::name_len];

	if (!name || !*name) {
		*why = "name the device (XENBLK_A_NAME); a dump lists every device";
		return nullptr;
	}
	for (unsigned long pos = 0;; pos++) {
		void* dev = xbnl_dev_from(&pos);
		if (!dev)
			break;
		if (report_->name(dev, buf, sizeof(buf)) && !kstd::strcmp(buf, name))
			return dev;
	}
	*why = "no such device";
	return nullptr;
}

// One device as one message; -EMSGSIZE if it does not fit.
int put_device(xbnl_msg* m, void* dev, nl::Snapshot* snap)
{
	if (!report_->snapshot(dev, snap))
		return to_int(kstd::Errno::nomem);
	if (xbnl_begin(m))
		return to_int(kstd::Errno::toobig);
	GlueWriter w(m);
	if (!nl::write_device(w, *snap)) {
		xbnl_cancel(m);
		return to_int(kstd::Errno::toobig);
	}
	xbnl_end(m);
	return 0;
}

constexpr int emsgsize = -90;

} // namespace

int register_family(const Report* report)
{
	xbnl_spec spec = {};
	static_assert(XENBLK_C_MAX < XBNL_SPEC_CONFIG_SLOTS && XENBLK_CMD_MAX < XBNL_SPEC_CMD_SLOTS);
	spec.has_set = report->configure != nullptr;
	spec.admin_only[XENBLK_CMD_DEV_SET] = 1;
	spec.admin_only[XENBLK_CMD_STATS_RESET] = 1;
	if (spec.has_set) {   // the types of include/uapi/xenblk/netlink.h
		spec.config_bytes[XENBLK_C_FLUSH_POLICY] = 1;
		spec.config_bytes[XENBLK_C_MAX_QUEUES] = 4;
		spec.config_bytes[XENBLK_C_MAX_RING_ORDER] = 4;
		spec.config_bytes[XENBLK_C_PERSISTENT] = 1;
		spec.config_bytes[XENBLK_C_DISCARD] = 1;
		for (u16 a = XENBLK_C_IOPS_READ; a <= XENBLK_C_BPS_BURST; a++)
			spec.config_bytes[a] = 8;
		spec.config_bytes[XENBLK_C_THROTTLE_GROUP] = XBNL_SPEC_STRING;
		static_assert(XBNL_SPEC_STRING_MAX + 1 == nl::group_len);
	}
	report_ = report;
	const int err = xbnl_register(&spec);
	if (err)
		report_ = nullptr;
	return err;
}

void unregister_family()
{
	xbnl_unregister();
	report_ = nullptr;
}

void event(u32 type, const char* name, u32 domid, u32 devid, const char* detail, bool atomic)
{
	xbnl_msg* m = xbnl_event_new(atomic);
	if (!m)
		return;
	GlueWriter w(m);
	if (nl::write_event(w, type, name, domid, devid, detail))
		xbnl_event_send(m, atomic);
	else
		xbnl_event_free(m);
}

} // namespace xb::nlk

using namespace xb;

extern "C" int xb_nl_get(struct xbnl_msg* m, const char* name, const char** why)
{
	kstd::unique_ptr<nl::Snapshot> snap(new (std::nothrow) nl::Snapshot);
	if (!snap)
		return to_int(kstd::Errno::nomem);
	nlk::ListLock lock;
	void* dev = nlk::find(name, why);
	if (!dev)
		return name && *name ? to_int(kstd::Errno::nodev) : to_int(kstd::Errno::inval);
	const int err = nlk::put_device(m, dev, snap.get());
	if (err == to_int(kstd::Errno::toobig)) {
		*why = "the device's report does not fit in one message";
		return nlk::emsgsize;
	}
	return err;
}

extern "C" int xb_nl_dump(struct xbnl_msg* m, unsigned long* pos)
{
	kstd::unique_ptr<nl::Snapshot> snap(new (std::nothrow) nl::Snapshot);
	if (!snap)
		return to_int(kstd::Errno::nomem);
	nlk::ListLock lock;
	bool any = false;
	for (;; ++*pos) {
		void* dev = xbnl_dev_from(pos);
		if (!dev)
			return 0;
		*snap = nl::Snapshot();
		const int err = nlk::put_device(m, dev, snap.get());
		if (err == to_int(kstd::Errno::toobig))
			return any ? 0 : nlk::emsgsize;   // the next call goes on from here
		if (err)
			return err;
		any = true;
	}
}

extern "C" int xb_nl_set(const char* name, const unsigned char* has, const unsigned long long* val,
			 const char* const* str, const char** why, int* bad_attr)
{
	nl::SetRequest req;
	for (unsigned a = 1; a <= XENBLK_C_MAX; a++) {
		req.has[a] = has[a] != 0;
		req.val[a] = val[a];
	}
	if (req.has[XENBLK_C_THROTTLE_GROUP]) {
		// the policy bounds it (XBNL_SPEC_STRING_MAX); a longer one is refused all the same
		const char* g = str[XENBLK_C_THROTTLE_GROUP];
		if (!g || kstd::strlen(g) >= nl::group_len) {
			*why = "a throttle group is named by 1 to 15 characters";
			*bad_attr = XENBLK_C_THROTTLE_GROUP;
			return to_int(kstd::Errno::inval);
		}
		__builtin_memcpy(req.group, g, kstd::strlen(g) + 1);
	}
	nlk::ListLock lock;
	void* dev = nlk::find(name, why);
	if (!dev)
		return name && *name ? to_int(kstd::Errno::nodev) : to_int(kstd::Errno::inval);
	if (!nlk::report_->configure)   // (no SET command is registered then)
		return to_int(kstd::Errno::opnotsupp);
	nl::SetError e;
	const int err = nlk::report_->configure(dev, req, &e);
	if (err) {
		*why = e.why;
		*bad_attr = e.attr;
	}
	return err;
}

extern "C" int xb_nl_reset(const char* name, const char** why)
{
	nlk::ListLock lock;
	void* dev = nlk::find(name, why);
	if (!dev)
		return name && *name ? to_int(kstd::Errno::nodev) : to_int(kstd::Errno::inval);
	nlk::report_->reset_stats(dev);
	return 0;
}
