// SPDX-License-Identifier: GPL-2.0
// back_xenbus.cpp - xenblk-back: the xenbus state machine of a device (probe,
// hotplug, the frontend's states), connect and disconnect, resize.  All on
// the xenwatch thread, except check_resize (ring 0's worker).
#include "back.hpp"
#include "nl_api.h"

namespace xb::back {
namespace {

// ---- xenstore through the glue ------------------------------------------------------

class GlueKeys final : public KeySource {
public:
	GlueKeys(xbg_dev* gd, bool other) : gd_(gd), other_(other) {}
	bool read(const char* key, char* buf, size_t len) const override
	{
		return (other_ ? xbg_read_other(gd_, key, buf, static_cast<unsigned int>(len))
			       : xbg_read(gd_, key, buf, static_cast<unsigned int>(len))) == 1;
	}
private:
	xbg_dev* gd_;
	bool other_;
};

// Writes to our directory and remembers the feature keys it wrote, so that
// validation offers exactly what was published.
class PublishSink final : public KeySink {
public:
	explicit PublishSink(xbg_dev* gd) : gd_(gd) {}
	int write(const char* key, const char* value) override
	{
		const bool on = kstd::strcmp(value, "0") != 0;
		if (!kstd::strcmp(key, key::feature_flush_cache))
			flush = on;
		else if (!kstd::strcmp(key, key::feature_barrier))
			barrier = on;
		else if (!kstd::strcmp(key, key::feature_discard))
			discard = on;
		else if (!kstd::strcmp(key, key::discard_secure))
			secure = on;
		return xbg_write(gd_, key, value);
	}
	int remove(const char*) override { return to_int(kstd::Errno::opnotsupp); }
	bool flush = false, barrier = false, discard = false, secure = false;
private:
	xbg_dev* gd_;
};

// Keys written into our own xenstore directory.
class OurKeys final : public KeySink {
public:
	explicit OurKeys(xbg_dev* gd) : gd_(gd) {}
	int write(const char* key, const char* value) override { return xbg_write(gd_, key, value); }
	// the backend writes every key it publishes, each time
	int remove(const char*) override { return to_int(kstd::Errno::opnotsupp); }
private:
	xbg_dev* gd_;
};

BackendConfig read_config()
{
	xbg_params p = {};
	BackendConfig cfg;

	xbg_get_params(&p);
	if (!parse_flush_policy(p.flush_policy, &cfg.flush)) {
		xb_rt_log(XB_LOG_WARNING, "flush_policy '%s' unknown; using auto", p.flush_policy);
		cfg.flush = FlushPolicy::automatic;
	}
	cfg.max_queues = p.max_queues ? p.max_queues : p.online_cpus;
	cfg.max_queues = kstd::min(kstd::max(cfg.max_queues, 1u), OrderGate::max_rings);
	cfg.max_ring_order = kstd::min(p.max_ring_order, blkif_max_ring_order);
	cfg.max_indirect_segments = kstd::min(p.max_indirect_segments, max_indirect_supported);
	if (!indirect_usable(cfg.max_indirect_segments))
		cfg.max_indirect_segments = 0;   // offered as none: no key
	cfg.persistent = p.persistent != 0;
	cfg.discard = p.discard != 0;
	return cfg;
}

} // namespace

// ---- Device ---------------------------------------------------------------------------

// The module parameters with this device's netlink settings over them.
BackendConfig Device::effective_config()
{
	BackendConfig cfg = read_config();
	DevLock lock(gd_);
	settings_.apply(&cfg);
	return cfg;
}

// The transport keys a frontend reads when it starts a handshake, from the
// settings now.
int Device::publish_transport()
{
	const BackendConfig cfg = effective_config();
	{
		DevLock lock(gd_);
		cfg_ = cfg;
	}
	OurKeys sink(gd_);
	const int err = backend_publish_transport(cfg, sink);
	if (err)
		xbg_fatal(gd_, err, "writing transport features");
	return err;
}

// The one place that tells the frontend we wait for it.
int Device::enter_initwait()
{
	return xbg_switch_state(gd_, XENBLK_STATE_INITWAIT);
}

// A new device: the transport keys, a watch for the hotplug script's
// physical-device, then InitWait.  0, or -errno (the watch is undone by remove()).
int Device::probe()
{
	publish_transport();   // a failure is reported to the toolstack; the probe goes on
	const int err = xbg_watch(gd_, "physical-device", hotplug_watch, this);
	if (err)
		return err;
	return enter_initwait();
}

// The device goes (its frontend's domain, or the module): no more hotplug events.
void Device::remove()
{
	xbg_unwatch(gd_);
}

// A netlink SET changed the number of rings, their size or persistent grants: the transport keys
// a frontend reads when it starts a handshake are written again, so that the
// next one (a reconnect) asks within the new limits, and connect() accepts
// exactly what was published.  A connected frontend keeps its rings.
void Device::republish_transport()
{
	const BackendConfig want = effective_config();
	BackendConfig cfg;
	{
		DevLock lock(gd_);
		cfg_.max_queues = want.max_queues;
		cfg_.max_ring_order = want.max_ring_order;
		cfg_.persistent = want.persistent;
		cfg = cfg_;
	}
	OurKeys sink(gd_);
	const int err = backend_publish_transport(cfg, sink);
	if (err)
		xb_rt_log(XB_LOG_WARNING, "%s: writing the transport features again failed: %d",
			  name_, err);
}

void Device::hotplug_changed()
{
	char buf[64], modebuf[8], type[16];
	u32 major, minor;
	const GlueKeys ours(gd_, false);

	if (!ours.read("physical-device", buf, sizeof(buf)))
		return;   // the hotplug script has not run yet
	if (!parse_physical_device(buf, &major, &minor)) {
		xbg_fatal(gd_, to_int(kstd::Errno::inval), "physical-device is not MAJOR:MINOR in hex");
		return;
	}
	if (opened_) {
		if (major != major_ || minor != minor_)
			xb_rt_log(XB_LOG_WARNING, "%s: physical-device changed to %x:%x; ignored",
				  name_, major, minor);
		return;
	}
	if (!ours.read("mode", modebuf, sizeof(modebuf))) {
		xbg_fatal(gd_, to_int(kstd::Errno::noent), "reading mode");
		return;
	}
	if (!parse_vbd_mode(modebuf, &read_only_)) {
		xbg_fatal(gd_, to_int(kstd::Errno::inval), "mode is not r, w or w!");
		return;
	}
	cdrom_ = ours.read("device-type", type, sizeof(type)) && kstd::strcmp(type, "cdrom") == 0;
	// a writable disk is ours alone; a read-only one may be shared
	const int err = xbg_bdev_open(gd_, major, minor,
				      read_only_ ? 0u : unsigned(XBG_OPEN_WRITE | XBG_OPEN_EXCLUSIVE));
	if (err) {
		xbg_fatal(gd_, err, "opening the block device");
		return;
	}
	opened_ = true;
	major_ = major;
	minor_ = minor;
	sysfs_ = xbg_sysfs_add(gd_) == 0;
	if (fe_state_ == XENBLK_STATE_INITIALISED || fe_state_ == XENBLK_STATE_CONNECTED)
		connect();
}

void Device::frontend_changed(int state)
{
	fe_state_ = state;
	switch (state) {
	case XENBLK_STATE_INITIALISING: {
		const int ours = xbg_our_state(gd_);
		if (ours == XENBLK_STATE_CLOSING || ours == XENBLK_STATE_CLOSED) {
			publish_transport();   // again: settings changed since
			enter_initwait();
		}
		break;
	}
	case XENBLK_STATE_INITIALISED:
	case XENBLK_STATE_CONNECTED:
		if (xbg_our_state(gd_) == XENBLK_STATE_CONNECTED)
			break;
		if (opened_)
			connect();   // otherwise when the hotplug script wrote physical-device
		break;
	case XENBLK_STATE_CLOSING:
		disconnect();
		xbg_switch_state(gd_, XENBLK_STATE_CLOSING);
		break;
	case XENBLK_STATE_CLOSED:
		disconnect();
		xbg_switch_state(gd_, XENBLK_STATE_CLOSED);
		if (!xbg_is_online(gd_))
			xbg_unregister(gd_);
		break;
	case XENBLK_STATE_UNKNOWN:
		disconnect();
		xbg_unregister(gd_);
		break;
	default:
		break;
	}
}

void Device::connect()
{
	xbg_bdev_props bp = {};
	DeviceProps props;
	BackConnectInfo ci;
	const GlueKeys fe(gd_, true);
	BackendConfig cfg = effective_config();
	int err;

	disconnect();
	// the limits the transport keys published (at probe, or again after a
	// netlink SET of the rings): accept exactly those
	{
		DevLock lock(gd_);
		cfg.max_queues = cfg_.max_queues;
		cfg.max_ring_order = cfg_.max_ring_order;
		cfg.max_indirect_segments = cfg_.max_indirect_segments;
		cfg.persistent = cfg_.persistent;
	}

	kstd::unique_ptr<BackQueue[]> queues(new (std::nothrow) BackQueue[cfg.max_queues]);
	if (!queues) {
		xbg_fatal(gd_, to_int(kstd::Errno::nomem), "connecting");
		return;
	}
	err = backend_read_frontend(fe, cfg, kstd::span<BackQueue>(queues.get(), cfg.max_queues), &ci);
	if (err) {
		xbg_fatal(gd_, err, "reading the frontend's ring keys");
		return;
	}

	xbg_bdev_get_props(gd_, &bp);
	props.sectors = bp.sectors;
	props.logical_block_size = bp.logical_block_size;
	props.physical_block_size = bp.physical_block_size;
	props.read_only = read_only_ || bp.read_only;
	props.cdrom = cdrom_ || bp.cdrom;
	props.removable = bp.removable;
	props.write_cache = bp.write_cache;
	props.fua = bp.fua;
	props.discard = bp.discard;
	props.discard_granularity = bp.discard_granularity;
	props.discard_alignment = bp.discard_alignment;
	props.secure_erase = bp.secure_erase;

	PublishSink sink(gd_);
	err = backend_publish_device(cfg, props, sink);
	if (err) {
		xbg_fatal(gd_, err, "writing device keys");
		return;
	}
	limits_.sectors = props.sectors;
	limits_.logical_block_size = props.logical_block_size;
	limits_.read_only = props.read_only;
	limits_.flush = sink.flush;
	limits_.barrier = sink.barrier;
	__atomic_store_n(&cache_offered_, sink.flush || sink.barrier, __ATOMIC_RELAXED);
	limits_.discard = sink.discard;
	limits_.secure_discard = sink.discard && sink.secure;
	limits_.max_indirect_segments = cfg.max_indirect_segments;
	no_flush_ = no_barrier_ = no_discard_ = false;
	gate.reset();

	Ring** rings = new (std::nothrow) Ring*[ci.nr_queues];
	if (!rings) {
		xbg_fatal(gd_, to_int(kstd::Errno::nomem), "connecting");
		return;
	}
	for (u32 q = 0; q < ci.nr_queues; q++)
		rings[q] = nullptr;
	{
		DevLock lock(gd_);   // statistics readers walk rings_
		rings_ = rings;
	}
	for (u32 q = 0; q < ci.nr_queues; q++) {
		Ring* r = new (std::nothrow) Ring(this, q);
		void* sring = nullptr;

		if (!r) {
			err = to_int(kstd::Errno::nomem);
			break;
		}
		{
			DevLock lock(gd_);
			rings_[q] = r;
			nr_rings_ = q + 1;
		}
		r->glue = xbg_ring_create(gd_, q, queues[q].ring_refs, 1u << ci.ring_order,
					  queues[q].event_channel, &sring, Ring::worker, r);
		if (!r->glue) {
			err = to_int(kstd::Errno::nomem);
			break;
		}
		const kstd::Errno e = r->init(ci.abi, 1u << ci.ring_order, sring,
					      cfg.max_indirect_segments, ci.persistent);
		if (e != kstd::Errno::ok) {
			err = to_int(e);
			break;
		}
	}
	if (err) {
		disconnect();
		xbg_fatal(gd_, err, "mapping the rings");
		return;
	}
	{
		DevLock lock(gd_);
		ring_order_ = ci.ring_order;
		abi_ = ci.abi;
		persistent_on_ = ci.persistent;
	}
	for (u32 q = 0; q < nr_rings_; q++)
		xbg_ring_start(rings_[q]->glue);
	xb_rt_log(XB_LOG_INFO, "%s: connected, %u ring(s) of %u page(s), %s, flush %d barrier %d discard %d persistent %d",
		  name_, nr_rings_, 1u << ci.ring_order,
		  protocol_name(ci.abi), limits_.flush, limits_.barrier, limits_.discard, ci.persistent);
	xbg_switch_state(gd_, XENBLK_STATE_CONNECTED);
	nl_event(XENBLK_EV_CONNECTED, limits_.flush ? "flush" : limits_.barrier ? "barrier" : "no flush");
}

void Device::disconnect()
{
	if (!rings_)
		return;
	// stop every worker first (each drains its own I/O); a running worker
	// may still kick a stopped ring, whose memory stays until below
	for (u32 q = 0; q < nr_rings_; q++)
		if (rings_[q] && rings_[q]->glue)
			xbg_ring_stop(rings_[q]->glue);
	Ring** rings = rings_;
	const u32 n = nr_rings_;
	{
		DevLock lock(gd_);
		rings_ = nullptr;
		nr_rings_ = 0;
		for (u32 q = 0; q < n; q++) {
			if (rings[q]) {
				u64 unused = 0;
				retired_.add(rings[q]->stats);
				rings[q]->pgnt_into(&retired_pgnt_, &unused);
			}
		}
	}
	for (u32 q = 0; q < n; q++) {
		if (!rings[q])
			continue;
		if (rings[q]->glue)
			xbg_ring_free(rings[q]->glue);
		delete rings[q];
	}
	delete[] rings;
	nl_event(XENBLK_EV_DISCONNECTED, nullptr);
}

void Device::close()
{
	if (sysfs_)
		xbg_sysfs_remove(gd_);
	sysfs_ = false;
	if (opened_)
		xbg_bdev_close(gd_);
	opened_ = false;
}

// The device grew or shrank (lvextend, losetup -c, ...): the new size is
// published and checked against from then on.  Called by ring 0's worker at
// each pass (its only caller, so no two run at once); a read of the size.
void Device::check_resize()
{
	const u64 now = xbg_bdev_sectors(gd_);
	const u64 was = __atomic_load_n(&limits_.sectors, __ATOMIC_RELAXED);
	if (now == 0 || now == was)
		return;
	__atomic_store_n(&limits_.sectors, now, __ATOMIC_RELAXED);
	const int err = announce_size(now);
	xb_rt_log(err ? XB_LOG_WARNING : XB_LOG_INFO, "%s: the device was resized: %llu -> %llu sectors%s",
		  name_, static_cast<unsigned long long>(was),
		  static_cast<unsigned long long>(now), err ? " (publishing the new size failed)" : "");
}

void Device::withdraw(u8 op)
{
	const char* key = nullptr;
	bool* flag = nullptr;

	switch (op) {
	case BLKIF_OP_FLUSH_DISKCACHE: key = key::feature_flush_cache; flag = &no_flush_; break;
	case BLKIF_OP_WRITE_BARRIER: key = key::feature_barrier; flag = &no_barrier_; break;
	case BLKIF_OP_DISCARD: key = key::feature_discard; flag = &no_discard_; break;
	default: return;
	}
	if (__atomic_exchange_n(flag, true, __ATOMIC_RELAXED))
		return;
	xb_rt_log(XB_LOG_WARNING, "%s: the device does not support %s; no longer offered",
		  name_, key);
	xbg_write(gd_, key, "0");
	nl_event(XENBLK_EV_FEATURE_DOWNGRADED, key, true);
}

// The new size, and our state written again in the same transaction: the
// frontend's watch on our state fires and it reads "sectors" (as with the
// stock backend).  A transaction that raced another writer is run again.
int Device::announce_size(u64 sectors)
{
	char num[24];
	__builtin_snprintf(num, sizeof(num), "%llu", static_cast<unsigned long long>(sectors));
	int err;
	do {
		unsigned int txn = 0;
		char state[12];
		err = xbg_txn_start(&txn);
		if (err)
			return err;
		__builtin_snprintf(state, sizeof(state), "%d", xbg_our_state(gd_));
		err = xbg_txn_write(gd_, txn, "sectors", num);
		if (!err)
			err = xbg_txn_write(gd_, txn, "state", state);
		if (err) {
			xbg_txn_end(txn, 1);
			return err;
		}
		err = xbg_txn_end(txn, 0);
	} while (err == to_int(kstd::Errno::again));
	return err;
}

} // namespace xb::back
