// SPDX-License-Identifier: GPL-2.0
// back.cpp - xenblk-back: the xenbus "vbd" backend driver (C++ side).
//
// Every protocol decision lives here and in the core: what to publish, when to
// connect, which request is valid, how a request maps onto block I/O, what a
// completion answers, and the cross-ring barrier order (back_order.hpp).  The
// C glue (glue.c, behind back_api.h) only adapts kernel APIs.
//
// Threads: the xenbus callbacks (probe, hotplug, frontend state, remove) run on
// the xenwatch thread, one at a time.  Each ring has its own worker thread that
// alone touches that ring's state; rings of a device share only the OrderGate
// and the feature-withdrawal flags, both atomic.
#include "kstd.hpp"
#include "rt_api.h"
#include "back_api.h"
#include "load_check.hpp"
#include "ring.hpp"
#include "wire.hpp"
#include "validate.hpp"
#include "negotiate.hpp"
#include "stats.hpp"
#include "back_order.hpp"
#include "back_config.hpp"
#include "nl_api.h"
#include "nl_kernel.hpp"
#include "grant_cache.hpp"

namespace xb {
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

bool streq(const char* a, const char* b) { return kstd::strcmp(a, b) == 0; }

constexpr u32 max_indirect_supported = XBG_MAX_IO_SEGS;   // one bio per request
static_assert(max_indirect_supported <= blkif_max_indirect_segs);

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
	if (cfg.max_indirect_segments && cfg.max_indirect_segments <= blkif_max_direct_segs)
		cfg.max_indirect_segments = 0;   // frontends need more than 11 to use it
	cfg.persistent = p.persistent != 0;
	cfg.discard = p.discard != 0;
	return cfg;
}

class Device;

// One blkif request between dispatch and response.
struct Pending {
	u64 id;
	u64 sectors;
	u64 start_ns;
	u8 op;            // operation echoed in the response
	StatOp stat;
	bool entered;     // counted in the OrderGate
	bool barrier;     // owns the OrderGate
	Pending* next;
	// persistent grants: the cache slots this request uses (one user each)
	u32 nslots;
	u32* slots;       // slots_inline or an allocated array
	u32 slots_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

// Slots per ring for kept mappings (the glue's max_persistent_grants is capped here).
constexpr u32 pgnt_capacity = XBG_PGNT_CAPACITY;

class Ring {
public:
	Ring(Device* dev, u32 index) : dev_(dev), index_(index) {}
	~Ring()
	{
		delete[] pending_;
		delete[] segs_;
		delete[] isegs_;
		delete[] cslots_;
		delete[] cbuckets_;
	}
	kstd::Errno init(Abi abi, u32 nr_pages, void* sring, u32 max_indirect, bool persistent)
	{
		if (persistent) {
			const u32 nb = BackGrantCache::buckets_for(pgnt_capacity);
			cslots_ = new (std::nothrow) CacheSlot[pgnt_capacity];
			cbuckets_ = new (std::nothrow) u32[nb];
			if (!cslots_ || !cbuckets_ ||
			    !cache_.init(kstd::span<CacheSlot>(cslots_, pgnt_capacity),
					 kstd::span<u32>(cbuckets_, nb), xbg_max_persistent_grants()))
				return kstd::Errno::nomem;
			if (xbg_pgnt_init(glue, pgnt_capacity))
				return kstd::Errno::nomem;
			persistent_ = true;
		}
		abi_ = abi;
		if (ring_.attach(sring, nr_pages, entry_size(abi)) != kstd::Errno::ok)
			return kstd::Errno::inval;
		pending_ = new (std::nothrow) Pending[ring_.size()];
		segs_ = new (std::nothrow) xbg_seg[XBG_MAX_IO_SEGS];
		isegs_ = new (std::nothrow) Segment[max_indirect ? max_indirect : 1];
		if (!pending_ || !segs_ || !isegs_)
			return kstd::Errno::nomem;
		for (u32 i = 0; i < ring_.size(); i++) {
			pending_[i].next = free_;
			free_ = &pending_[i];
		}
		return kstd::Errno::ok;
	}
	int work(bool stopping, bool event);
	void pgnt_into(CacheStats* st, u64* kept) const
	{
		st->add(cache_.stats());
		*kept += cache_.nr_mapped();
	}

	xbg_ring* glue = nullptr;
	RingStats stats = {};

private:
	enum class Step { done, blocked, retry };

	Step dispatch(const Request& req);
	Step start_io(const Request& req, Pending* p, int io_op, unsigned int flags,
		      const Segment* seg, u32 n);
	Step submit_barrier();
	void reap();
	void complete(Pending* p, int err);
	void leave_gate();
	struct MapBatch;
	u32 slot_for(MapBatch& b, u32 gref);
	int map_batch(const MapBatch& b);
	int map_persistent(Pending* p, u32 n);
	bool map_indirect_kept(const u32* grefs, u32 n, u32* slots);
	void release_slots(Pending* p);
	void shrink_cache();
	void respond(u64 id, u8 op, s16 status);
	Pending* get_pending()
	{
		Pending* p = free_;
		if (p)
			free_ = p->next;
		return p;
	}
	void put_pending(Pending* p)
	{
		p->next = free_;
		free_ = p;
	}

	Device* dev_;
	u32 index_;
	Abi abi_ = native_abi();
	BackRing<> ring_;
	Pending* pending_ = nullptr;
	Pending* free_ = nullptr;
	xbg_seg* segs_ = nullptr;
	Segment* isegs_ = nullptr;
	Request parked_ = {};        // consumed, waiting for the gate
	bool have_parked_ = false;
	bool barrier_wait_ = false;  // parked_ is our barrier, gate claimed, draining
	bool barrier_inflight_ = false;
	bool stop_logged_ = false;
	bool push_ = false;
	// a frontend (or a dying disk) must not flood the log: the first few only
	static constexpr u32 log_limit = 8;
	u32 logged_rejects_ = 0;
	u32 logged_errors_ = 0;
	// persistent grants (worker only)
	bool persistent_ = false;
	static constexpr u32 ro_indirect_limit = 8;
	u32 indirect_ro_ = 0;   // indirect pages in a row that did not map read-write
	BackGrantCache cache_;
	CacheSlot* cslots_ = nullptr;
	u32* cbuckets_ = nullptr;
	u32 evict_[XBG_MAX_IO_SEGS] = {};
	u32 map_slot_[XBG_MAX_IO_SEGS] = {};
	u32 map_gref_[XBG_MAX_IO_SEGS] = {};
	unsigned char map_ok_[XBG_MAX_IO_SEGS] = {};
	static bool may_log(u32* n)
	{
		if (*n >= log_limit)
			return false;
		if (++*n == log_limit)
			xb_rt_log(XB_LOG_INFO, "further messages of this kind on this ring are suppressed");
		return true;
	}
};

class Device {
public:
	explicit Device(xbg_dev* gd) : gd_(gd) {}
	~Device() { disconnect(); close(); }

	void probe();
	void hotplug_changed();
	void frontend_changed(int state);
	long long stat(const char* which);
	int physical_device(char* buf, unsigned int len);
	int mode(char* buf, unsigned int len);

	// for rings: the flags of a plain write.  The frontend of a device that
	// offered no flush treats it as write-through and never flushes: while the
	// device has a volatile cache anyway, every write goes to it with FUA.
	unsigned int write_flags() const
	{
		return !__atomic_load_n(&cache_offered_, __ATOMIC_RELAXED) && xbg_bdev_write_cache(gd_)
			? XBG_IO_FUA : 0;
	}
	DeviceLimits limits() const
	{
		DeviceLimits l = limits_;
		l.sectors = __atomic_load_n(&limits_.sectors, __ATOMIC_RELAXED);   // resize()
		if (__atomic_load_n(&no_flush_, __ATOMIC_RELAXED))
			l.flush = false;
		if (__atomic_load_n(&no_barrier_, __ATOMIC_RELAXED))
			l.barrier = false;
		if (__atomic_load_n(&no_discard_, __ATOMIC_RELAXED))
			l.discard = l.secure_discard = false;
		return l;
	}
	void withdraw(u8 op);
	void check_resize();
	OrderGate gate;
	u32 nr_rings() const { return nr_rings_; }
	void kick(u32 ring)
	{
		if (ring < nr_rings_ && rings_[ring]->glue)
			xbg_ring_kick(rings_[ring]->glue);
	}
	void kick_all()
	{
		for (u32 i = 0; i < nr_rings_; i++)
			kick(i);
	}
	xbg_dev* gd() const { return gd_; }

	// generic netlink (back_nl at the end of this file)
	void nl_name(char* buf, size_t len) const;
	void nl_snapshot(nl::Snapshot* out);
	void nl_reset_stats();
	int nl_configure(const nl::SetRequest& req, nl::SetError* err);
	void nl_event(u32 type, const char* detail, bool atomic = false) const;

private:
	BackendConfig effective_config();
	void republish_transport();
	void sum_stats(DeviceStats* s);
	void connect();
	void disconnect();
	void close();

	xbg_dev* gd_;
	BackendConfig cfg_;
	bool opened_ = false;
	bool sysfs_ = false;
	u32 major_ = 0, minor_ = 0;
	bool read_only_ = false;
	bool cdrom_ = false;
	int fe_state_ = XBG_STATE_UNKNOWN;
	DeviceLimits limits_ = {};
	bool no_flush_ = false, no_barrier_ = false, no_discard_ = false;
	// the frontend was told of a write cache (flush-cache or barrier offered)
	// at connect; if not, it will never flush, so a cache the device has
	// anyway (policy none, or turned on since) gets every write as FUA
	bool cache_offered_ = false;
	Ring** rings_ = nullptr;
	u32 nr_rings_ = 0;
	DeviceStats retired_ = {};   // rings already torn down
	// netlink: per-device settings over the module parameters, the baseline
	// of the last statistics reset, what the last connect negotiated
	nl::BackSettings settings_;
	DeviceStats nl_base_ = {};
	u32 ring_order_ = 0;
	Abi abi_ = native_abi();
	CacheStats retired_pgnt_ = {};
	bool persistent_on_ = false;   // the last connect uses persistent grants
};

// ---- Device ---------------------------------------------------------------------------

// The module parameters with this device's netlink settings over them.
BackendConfig Device::effective_config()
{
	BackendConfig cfg = read_config();
	xbg_dev_lock(gd_);
	settings_.apply(&cfg);
	xbg_dev_unlock(gd_);
	return cfg;
}

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

void Device::probe()
{
	const BackendConfig cfg = effective_config();
	xbg_dev_lock(gd_);
	cfg_ = cfg;
	xbg_dev_unlock(gd_);
	OurKeys sink(gd_);
	const int err = backend_publish_transport(cfg, sink);
	if (err)
		xbg_fatal(gd_, err, "writing transport features");
}

// A netlink SET changed the number of rings, their size or persistent grants: the transport keys
// a frontend reads when it starts a handshake are written again, so that the
// next one (a reconnect) asks within the new limits, and connect() accepts
// exactly what was published.  A connected frontend keeps its rings.
void Device::republish_transport()
{
	const BackendConfig want = effective_config();
	xbg_dev_lock(gd_);
	cfg_.max_queues = want.max_queues;
	cfg_.max_ring_order = want.max_ring_order;
	cfg_.persistent = want.persistent;
	const BackendConfig cfg = cfg_;
	xbg_dev_unlock(gd_);
	OurKeys sink(gd_);
	const int err = backend_publish_transport(cfg, sink);
	if (err)
		xb_rt_log(XB_LOG_WARNING, "vbd-%u-%u: writing the transport features again failed: %d",
			  xbg_domid(gd_), xbg_handle(gd_), err);
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
			xb_rt_log(XB_LOG_WARNING, "vbd-%u-%u: physical-device changed to %x:%x; ignored",
				  xbg_domid(gd_), xbg_handle(gd_), major, minor);
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
	cdrom_ = ours.read("device-type", type, sizeof(type)) && streq(type, "cdrom");
	const int err = xbg_bdev_open(gd_, major, minor, read_only_);
	if (err) {
		xbg_fatal(gd_, err, "opening the block device");
		return;
	}
	opened_ = true;
	major_ = major;
	minor_ = minor;
	sysfs_ = xbg_sysfs_add(gd_) == 0;
	if (fe_state_ == XBG_STATE_INITIALISED || fe_state_ == XBG_STATE_CONNECTED)
		connect();
}

void Device::frontend_changed(int state)
{
	fe_state_ = state;
	switch (state) {
	case XBG_STATE_INITIALISING: {
		const int ours = xbg_our_state(gd_);
		if (ours == XBG_STATE_CLOSING || ours == XBG_STATE_CLOSED) {
			probe();   // transport keys again: settings changed since
			xbg_switch_state(gd_, XBG_STATE_INITWAIT);
		}
		break;
	}
	case XBG_STATE_INITIALISED:
	case XBG_STATE_CONNECTED:
		if (xbg_our_state(gd_) == XBG_STATE_CONNECTED)
			break;
		if (opened_)
			connect();   // otherwise when the hotplug script wrote physical-device
		break;
	case XBG_STATE_CLOSING:
		disconnect();
		xbg_switch_state(gd_, XBG_STATE_CLOSING);
		break;
	case XBG_STATE_CLOSED:
		disconnect();
		xbg_switch_state(gd_, XBG_STATE_CLOSED);
		if (!xbg_is_online(gd_))
			xbg_unregister(gd_);
		break;
	case XBG_STATE_UNKNOWN:
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
	xbg_dev_lock(gd_);
	cfg.max_queues = cfg_.max_queues;
	cfg.max_ring_order = cfg_.max_ring_order;
	cfg.max_indirect_segments = cfg_.max_indirect_segments;
	cfg.persistent = cfg_.persistent;
	xbg_dev_unlock(gd_);

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
	xbg_dev_lock(gd_);   // statistics readers walk rings_
	rings_ = rings;
	xbg_dev_unlock(gd_);
	for (u32 q = 0; q < ci.nr_queues; q++) {
		Ring* r = new (std::nothrow) Ring(this, q);
		void* sring = nullptr;

		if (!r) {
			err = to_int(kstd::Errno::nomem);
			break;
		}
		xbg_dev_lock(gd_);
		rings_[q] = r;
		nr_rings_ = q + 1;
		xbg_dev_unlock(gd_);
		r->glue = xbg_ring_create(gd_, r, q, queues[q].ring_refs, 1u << ci.ring_order,
					  queues[q].event_channel, &sring);
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
	xbg_dev_lock(gd_);
	ring_order_ = ci.ring_order;
	abi_ = ci.abi;
	persistent_on_ = ci.persistent;
	xbg_dev_unlock(gd_);
	for (u32 q = 0; q < nr_rings_; q++)
		xbg_ring_start(rings_[q]->glue);
	xb_rt_log(XB_LOG_INFO, "vbd-%u-%u: connected, %u ring(s) of %u page(s), %s, flush %d barrier %d discard %d persistent %d",
		  xbg_domid(gd_), xbg_handle(gd_), nr_rings_, 1u << ci.ring_order,
		  protocol_name(ci.abi), limits_.flush, limits_.barrier, limits_.discard, ci.persistent);
	xbg_switch_state(gd_, XBG_STATE_CONNECTED);
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
	xbg_dev_lock(gd_);
	rings_ = nullptr;
	nr_rings_ = 0;
	for (u32 q = 0; q < n; q++) {
		if (rings[q]) {
			u64 unused = 0;
			retired_.add(rings[q]->stats);
			rings[q]->pgnt_into(&retired_pgnt_, &unused);
		}
	}
	xbg_dev_unlock(gd_);
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
	const int err = xbg_announce_resize(gd_, now);
	xb_rt_log(err ? XB_LOG_WARNING : XB_LOG_INFO, "vbd-%u-%u: the device was resized: %llu -> %llu sectors%s",
		  xbg_domid(gd_), xbg_handle(gd_), static_cast<unsigned long long>(was),
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
	xb_rt_log(XB_LOG_WARNING, "vbd-%u-%u: the device does not support %s; no longer offered",
		  xbg_domid(gd_), xbg_handle(gd_), key);
	xbg_write(gd_, key, "0");
	nl_event(XENBLK_EV_FEATURE_DOWNGRADED, key, true);
}

// Every ring's statistics and those of rings gone (device lock held).
void Device::sum_stats(DeviceStats* s)
{
	s->add(retired_);
	for (u32 q = 0; q < nr_rings_; q++)
		s->add(rings_[q]->stats);
}

long long Device::stat(const char* which)
{
	DeviceStats s = {};
	xbg_dev_lock(gd_);
	sum_stats(&s);
	xbg_dev_unlock(gd_);

	const auto& op = s.op;
	auto n = [&](StatOp o) { return static_cast<long long>(op[static_cast<unsigned>(o)].requests); };
	auto sec = [&](StatOp o) { return static_cast<long long>(op[static_cast<unsigned>(o)].sectors); };
	if (streq(which, "oo_req"))
		return static_cast<long long>(s.out_of_resources);
	if (streq(which, "rd_req"))
		return n(StatOp::read);
	if (streq(which, "wr_req"))   // as the stock backend: a barrier is an f_req
		return n(StatOp::write);
	if (streq(which, "f_req"))
		return n(StatOp::flush) + n(StatOp::barrier);
	if (streq(which, "ds_req"))
		return n(StatOp::discard);
	if (streq(which, "rd_sect"))
		return sec(StatOp::read);
	if (streq(which, "wr_sect"))
		return sec(StatOp::write) + sec(StatOp::barrier);
	if (streq(which, "br_waits"))
		return static_cast<long long>(s.barrier_waits);
	if (streq(which, "br_waited"))
		return static_cast<long long>(s.barrier_waited);
	if (streq(which, "bad_req"))
		return static_cast<long long>(s.bad_requests);
	if (streq(which, "ind_kept"))
		return static_cast<long long>(s.indirect_kept);
	if (streq(which, "ind_mapped"))
		return static_cast<long long>(s.indirect_mapped);
	if (!kstd::memcmp(which, "pgnt_", 5)) {
		CacheStats c = {};
		u64 kept = 0;
		xbg_dev_lock(gd_);
		c.add(retired_pgnt_);
		for (u32 q = 0; q < nr_rings_; q++)
			rings_[q]->pgnt_into(&c, &kept);
		xbg_dev_unlock(gd_);
		if (streq(which, "pgnt_hits"))
			return static_cast<long long>(c.hits);
		if (streq(which, "pgnt_mapped"))
			return static_cast<long long>(c.mapped);
		if (streq(which, "pgnt_evicted"))
			return static_cast<long long>(c.evicted);
		if (streq(which, "pgnt_full"))
			return static_cast<long long>(c.full);
		if (streq(which, "pgnt_map_failed"))
			return static_cast<long long>(c.map_failed);
		if (streq(which, "pgnt_kept"))
			return static_cast<long long>(kept);
		return -1;
	}
	if (streq(which, "err_req")) {
		long long e = 0;
		for (unsigned o = 0; o < stat_ops; o++)
			e += static_cast<long long>(op[o].errors);
		return e;
	}
	return -1;
}

int Device::physical_device(char* buf, unsigned int len)
{
	if (!opened_ || len < 20)
		return 0;
	// "%x:%x" by hand: no printf here
	const char* hex = "0123456789abcdef";
	char tmp[20];
	unsigned int n = 0;
	auto put = [&](u32 v) {
		char d[8];
		int k = 0;
		do {
			d[k++] = hex[v & 15];
			v >>= 4;
		} while (v);
		while (k)
			tmp[n++] = d[--k];
	};
	put(major_);
	tmp[n++] = ':';
	put(minor_);
	tmp[n++] = '\n';
	kstd::memcpy(buf, tmp, n);
	return static_cast<int>(n);
}

int Device::mode(char* buf, unsigned int len)
{
	if (!opened_ || len < 2)
		return 0;
	buf[0] = read_only_ ? 'r' : 'w';
	buf[1] = '\n';
	return 2;
}

// ---- generic netlink --------------------------------------------------------------------

void Device::nl_name(char* buf, size_t len) const
{
	__builtin_snprintf(buf, len, "vbd-%u-%u", xbg_domid(gd_), xbg_handle(gd_));
}

void Device::nl_event(u32 type, const char* detail, bool atomic) const
{
	char name[nl::name_len];
	nl_name(name, sizeof(name));
	nlk::event(type, name, xbg_domid(gd_), xbg_handle(gd_), detail, atomic);
}

void Device::nl_snapshot(nl::Snapshot* out)
{
	const BackendConfig cfg = effective_config();

	nl_name(out->name, sizeof(out->name));
	out->domid = xbg_domid(gd_);
	out->devid = xbg_handle(gd_);
	out->state = static_cast<u32>(xbg_our_state(gd_));
	out->other_state = static_cast<u32>(fe_state_);
	out->has_config = true;
	out->config.flush = cfg.flush;
	out->config.max_queues = cfg.max_queues;
	out->config.max_ring_order = cfg.max_ring_order;
	out->config.persistent = cfg.persistent;
	out->config.discard = cfg.discard;

	xbg_dev_lock(gd_);
	out->has_phys = out->has_mode = opened_;
	out->phys_major = major_;
	out->phys_minor = minor_;
	out->read_only = read_only_;
	out->connected = rings_ != nullptr && out->state == XBG_STATE_CONNECTED;
	if (out->connected) {
		const DeviceLimits l = limits();
		nl::Features& f = out->features;
		f.flush = l.flush;
		f.barrier = l.barrier;
		f.flush_mode = l.flush ? XENBLK_FLUSH_FLUSH : l.barrier ? XENBLK_FLUSH_BARRIER : XENBLK_FLUSH_NONE;
		f.discard = l.discard;
		f.persistent = persistent_on_;
		f.indirect_segs = l.max_indirect_segments;
		f.queues = nr_rings_;
		f.ring_order = ring_order_;
		f.abi = abi_;
		out->sectors = l.sectors;
	}
	sum_stats(&out->stats);
	nl::stats_since(&out->stats, nl_base_);
	xbg_dev_unlock(gd_);
}

void Device::nl_reset_stats()
{
	xbg_dev_lock(gd_);
	nl_base_ = {};
	sum_stats(&nl_base_);
	xbg_dev_unlock(gd_);
}

int Device::nl_configure(const nl::SetRequest& req, nl::SetError* err)
{
	xbg_dev_lock(gd_);
	const int rc = nl::apply_set(req, &settings_, err);
	xbg_dev_unlock(gd_);
	if (!rc && (req.has[XENBLK_C_MAX_QUEUES] || req.has[XENBLK_C_MAX_RING_ORDER] ||
		    req.has[XENBLK_C_PERSISTENT]))
		republish_transport();
	if (!rc) {
		char name[nl::name_len];
		nl_name(name, sizeof(name));
		xb_rt_log(XB_LOG_INFO, "%s: settings changed through netlink; they apply at the next connect", name);
	}
	return rc;
}

// ---- Ring -------------------------------------------------------------------------------

void Ring::respond(u64 id, u8 op, s16 status)
{
	void* slot = ring_.next_response_slot();
	if (!slot) {
		xb_rt_fatal("xenblk-back: response without a request");
		return;
	}
	if (xbg_corrupt_next_response())
		id ^= 0x5a5a000000000000ull;   // corrupt_responses (tests of frontends)
	encode_response(abi_, slot, id, op, status);
	push_ = true;
}

StatOp stat_of(u8 op)
{
	switch (op) {
	case BLKIF_OP_READ: return StatOp::read;
	case BLKIF_OP_WRITE: return StatOp::write;
	case BLKIF_OP_FLUSH_DISKCACHE: return StatOp::flush;
	case BLKIF_OP_WRITE_BARRIER: return StatOp::barrier;
	default: return StatOp::discard;
	}
}

Ring::Step Ring::start_io(const Request& req, Pending* p, int io_op, unsigned int flags,
			  const Segment* seg, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		segs_[i].gref = seg[i].gref;
		segs_[i].offset = static_cast<unsigned short>(seg[i].first_sect * 512u);
		segs_[i].len = static_cast<unsigned short>((seg[i].last_sect - seg[i].first_sect + 1u) * 512u);
		segs_[i].slot = -1;
	}
	int err = persistent_ && n ? map_persistent(p, n) : 0;
	if (!err)
		err = xbg_io_submit(glue, p, io_op, flags, req.sector, segs_, n);
	if (err == to_int(kstd::Errno::nomem)) {
		release_slots(p);
		return Step::retry;
	}
	if (err) {
		complete(p, err);   // a grant that did not map: BLKIF_RSP_ERROR
		return Step::done;
	}
	stats.in_flight++;
	return Step::done;
}

// A request taken off the ring (or parked earlier).  Every path either answers
// it, starts it, or parks it again.
Ring::Step Ring::dispatch(const Request& req)
{
	const DeviceLimits lim = dev_->limits();
	const Reject why = validate_request(req, lim);
	const u8 rsp_op = req.kind == ReqKind::indirect ? req.indirect_op : req.op;

	if (why != Reject::none) {
		stats.bad_requests++;
		if (may_log(&logged_rejects_)) {
			xb_rt_log(XB_LOG_INFO, "vbd-%u-%u ring %u: request op %u rejected: %s",
				  xbg_domid(dev_->gd()), xbg_handle(dev_->gd()), index_, req.op,
				  reject_name(why));
			dev_->nl_event(XENBLK_EV_BAD_REQUEST, reject_name(why), true);
		}
		respond(req.id, rsp_op, reject_status(why));
		return Step::done;
	}

	// refuse_ops (tests of frontends' fallbacks): answer as a device that
	// cannot do the operation would, without doing it
	if (rsp_op < 32 && (xbg_refuse_ops() & (1u << rsp_op)) &&
	    (rsp_op == BLKIF_OP_FLUSH_DISKCACHE || rsp_op == BLKIF_OP_WRITE_BARRIER ||
	     rsp_op == BLKIF_OP_DISCARD)) {
		dev_->withdraw(rsp_op);
		stats.complete(stat_of(rsp_op), 0, BLKIF_RSP_EOPNOTSUPP, 0);
		respond(req.id, rsp_op, BLKIF_RSP_EOPNOTSUPP);
		return Step::done;
	}

	// fail_flushes (tests of frontends' error paths): answer as a device
	// whose flush failed, without doing it
	if ((rsp_op == BLKIF_OP_FLUSH_DISKCACHE || rsp_op == BLKIF_OP_WRITE_BARRIER) &&
	    xbg_fail_next_flush()) {
		stats.complete(stat_of(rsp_op), 0, BLKIF_RSP_ERROR, 0);
		respond(req.id, rsp_op, BLKIF_RSP_ERROR);
		return Step::done;
	}

	if (req.op == BLKIF_OP_WRITE_BARRIER) {
		if (!dev_->gate.try_begin(index_))
			return Step::blocked;     // another ring's barrier first
		barrier_wait_ = true;         // parked_ holds it until every ring drained
		// evidence of cross-ring ordering: what the barrier has to wait for
		// on the other rings (a snapshot; no new request starts there now)
		u64 others = 0;
		for (u32 q = 0; q < dev_->nr_rings(); q++)
			if (q != index_)
				others += dev_->gate.inflight(q);
		if (others) {
			stats.barrier_waits++;
			stats.barrier_waited += others;
		}
		return Step::blocked;
	}

	const OrderGate::Entered e = dev_->gate.enter(index_);
	if (!e.ok) {
		if (e.kick != OrderGate::no_owner && e.kick != index_)
			dev_->kick(e.kick);
		return Step::blocked;
	}
	Pending* p = get_pending();
	if (!p) {   // cannot happen: at most ring size requests are consumed
		xb_rt_fatal("xenblk-back: no pending slot");
		leave_gate();
		return Step::retry;
	}
	p->id = req.id;
	p->nslots = 0;
	p->slots = nullptr;
	p->op = rsp_op;
	p->stat = stat_of(rsp_op);
	p->entered = true;
	p->barrier = false;
	p->sectors = 0;
	p->start_ns = xbg_now_ns();

	Step st = Step::done;
	switch (req.kind) {
	case ReqKind::rw: {
		u64 sectors = 0;
		validate_segments(req.seg, req.nr_segments, req.sector,
				  req.op != BLKIF_OP_READ, lim, &sectors);
		p->sectors = sectors;
		if (req.op == BLKIF_OP_READ)
			st = start_io(req, p, XBG_IO_READ, 0, req.seg, req.nr_segments);
		else if (req.op == BLKIF_OP_WRITE)
			st = start_io(req, p, XBG_IO_WRITE, dev_->write_flags(), req.seg, req.nr_segments);
		else if (req.nr_segments == 0)   // FLUSH_DISKCACHE
			st = start_io(req, p, XBG_IO_FLUSH, 0, req.seg, 0);
		else
			st = start_io(req, p, XBG_IO_WRITE, XBG_IO_PREFLUSH, req.seg, req.nr_segments);
		break;
	}
	case ReqKind::discard: {
		p->sectors = req.nr_sectors;
		const int err = xbg_io_discard(glue, p, req.sector, req.nr_sectors,
					       (req.discard_flag & BLKIF_DISCARD_SECURE) != 0);
		if (err == to_int(kstd::Errno::nomem))
			st = Step::retry;
		else if (err)
			complete(p, err);
		else
			stats.in_flight++;
		break;
	}
	case ReqKind::indirect: {
		const u32 n = req.nr_segments;
		const u32 pages = indirect_pages(n);
		const void* addr[XBG_MAX_INDIRECT_PAGES];
		u32 kslots[XBG_MAX_INDIRECT_PAGES];
		u64 sectors = 0;
		const bool kept = map_indirect_kept(req.indirect_grefs, pages, kslots);
		if (kept) {
			for (u32 pg = 0; pg < pages; pg++)
				addr[pg] = xbg_pgnt_addr(glue, kslots[pg]);
			stats.indirect_kept += pages;
		} else {
			const int err = xbg_indirect_map(glue, req.indirect_grefs, pages, addr);
			if (err == to_int(kstd::Errno::nomem)) {
				st = Step::retry;
				break;
			}
			if (err) {
				complete(p, err);
				break;
			}
			stats.indirect_mapped += pages;
		}
		bool ok = true;
		for (u32 pg = 0; pg < pages && ok; pg++) {
			const u32 first = pg * BLKIF_SEGS_PER_INDIRECT_FRAME;
			const u32 cnt = kstd::min<u32>(n - first, BLKIF_SEGS_PER_INDIRECT_FRAME);
			ok = decode_indirect_segments(addr[pg], 0, cnt, isegs_ + first);
		}
		if (kept) {   // the segments are copied: the pages are free for eviction again
			for (u32 pg = 0; pg < pages; pg++)
				cache_.put(kslots[pg]);
		} else {
			xbg_indirect_unmap(glue);
		}
		const bool write = req.indirect_op == BLKIF_OP_WRITE;
		const Reject r = ok ? validate_segments(isegs_, n, req.sector, write, lim, &sectors)
				    : Reject::bad_segment;
		if (r != Reject::none) {
			stats.bad_requests++;
			if (may_log(&logged_rejects_)) {
				xb_rt_log(XB_LOG_INFO, "vbd-%u-%u ring %u: indirect request rejected: %s",
					  xbg_domid(dev_->gd()), xbg_handle(dev_->gd()), index_,
					  reject_name(r));
				dev_->nl_event(XENBLK_EV_BAD_REQUEST, reject_name(r), true);
			}
			leave_gate();
			put_pending(p);
			respond(req.id, rsp_op, reject_status(r));
			break;
		}
		p->sectors = sectors;
		st = start_io(req, p, write ? XBG_IO_WRITE : XBG_IO_READ, write ? dev_->write_flags() : 0,
			      isegs_, n);
		break;
	}
	case ReqKind::other:
		break;   // validation refused it
	}
	if (st == Step::retry) {
		stats.out_of_resources++;
		leave_gate();
		put_pending(p);
	}
	return st;
}

// The gate is ours and every ring drained: run the barrier parked in parked_.
Ring::Step Ring::submit_barrier()
{
	const Request& req = parked_;
	const DeviceLimits lim = dev_->limits();
	Pending* p = get_pending();
	if (!p)
		return Step::retry;
	p->id = req.id;
	p->nslots = 0;
	p->slots = nullptr;
	p->op = req.op;
	p->stat = StatOp::barrier;
	p->entered = false;
	p->barrier = true;
	p->start_ns = xbg_now_ns();
	p->sectors = 0;
	if (!lim.barrier) {   // withdrawn while we were draining
		complete(p, to_int(kstd::Errno::opnotsupp));
		return Step::done;
	}
	// set before start_io: a barrier that fails at once is completed there,
	// and complete() clears it (p is back in the free list by then)
	barrier_inflight_ = true;
	Step st;
	if (req.nr_segments == 0) {
		st = start_io(req, p, XBG_IO_FLUSH, 0, req.seg, 0);
	} else {
		// checked again: the device may have shrunk while the rings drained
		u64 sectors = 0;
		if (validate_segments(req.seg, req.nr_segments, req.sector, true, lim, &sectors) !=
		    Reject::none) {
			stats.bad_requests++;
			complete(p, to_int(kstd::Errno::io));
			return Step::done;
		}
		p->sectors = sectors;
		st = start_io(req, p, XBG_IO_WRITE, XBG_IO_PREFLUSH | XBG_IO_FUA,
			      req.seg, req.nr_segments);
	}
	if (st == Step::retry) {
		barrier_inflight_ = false;
		stats.out_of_resources++;
		put_pending(p);
	}
	return st;
}

// A request that entered the gate ended (or never started).  Once this ring
// has nothing in flight, the barrier owner is woken: our own ring too, for
// this may be the pass's last reap, after its loop looked at the gate, and the
// barrier parked there would wait for good (nothing else wakes the worker).
void Ring::leave_gate()
{
	const u32 k = dev_->gate.leave(index_);
	if (k != OrderGate::no_owner)
		dev_->kick(k);
}

void Ring::complete(Pending* p, int err)
{
	s16 status = BLKIF_RSP_OKAY;
	if (err == to_int(kstd::Errno::opnotsupp)) {
		status = BLKIF_RSP_EOPNOTSUPP;
		dev_->withdraw(p->op);
	} else if (err) {
		status = BLKIF_RSP_ERROR;
		if (may_log(&logged_errors_))
			xb_rt_log(XB_LOG_WARNING, "vbd-%u-%u ring %u: op %u failed: %d",
				  xbg_domid(dev_->gd()), xbg_handle(dev_->gd()), index_, p->op, err);
	}
	release_slots(p);
	stats.complete(p->stat, p->sectors, status, xbg_now_ns() - p->start_ns);
	respond(p->id, p->op, status);
	if (p->entered)
		leave_gate();
	if (p->barrier) {
		p->barrier = false;   // submit_barrier() sees a barrier that ended at once
		barrier_inflight_ = false;
		dev_->gate.end(index_);
		dev_->kick_all();
	}
	put_pending(p);
}

// One batch of kept mappings: slot_for() gives each ref its kept slot, or
// claims one (the slot's old mapping, if any, queued for unmapping and the ref
// for mapping); map_batch() then unmaps the evicted mappings in one call and
// maps the new refs in one call.  A claim whose map failed is abandoned (its
// slot free again, its use dropped).
struct Ring::MapBatch {
	u32 nev = 0;
	u32 nmap = 0;
};

// the slot holding gref from now on (one more use), or npos when every slot is
// in use
u32 Ring::slot_for(MapBatch& b, u32 gref)
{
	const u32 slot = cache_.get(gref);
	if (slot != BackGrantCache::npos)
		return slot;
	const BackGrantCache::Claim c = cache_.claim(gref);
	if (c.slot == BackGrantCache::npos)
		return c.slot;
	if (c.evict)
		evict_[b.nev++] = c.slot;
	map_slot_[b.nmap] = c.slot;
	map_gref_[b.nmap++] = gref;
	return c.slot;
}

// 0 when every new ref mapped; else the glue's error, or -EFAULT when some
// refs did not map (map_ok_[k] tells which: their slots are abandoned).
int Ring::map_batch(const MapBatch& b)
{
	if (b.nev)
		xbg_pgnt_unmap(glue, evict_, b.nev);
	if (!b.nmap)
		return 0;
	const int err = xbg_pgnt_map(glue, map_slot_, map_gref_, b.nmap, map_ok_);
	bool bad = false;
	for (u32 k = 0; k < b.nmap; k++) {
		if (err || !map_ok_[k]) {
			cache_.abandon(map_slot_[k]);
			bad = true;
		}
	}
	return err ? err : bad ? to_int(kstd::Errno::fault) : 0;
}

// Kept mappings for the n segments in segs_: each segment's slot, or -1 when
// every slot is in use (the glue maps it for this request only).
// 0; -ENOMEM (retry later, nothing held); -EFAULT: a ref of the frontend did
// not map (the request fails, nothing held).
int Ring::map_persistent(Pending* p, u32 n)
{
	p->nslots = 0;
	p->slots = p->slots_inline;
	if (n > kstd::array_size(p->slots_inline)) {
		p->slots = static_cast<u32*>(xb_rt_alloc_nowait(sizeof(u32) * n));
		if (!p->slots)
			return to_int(kstd::Errno::nomem);
	}
	MapBatch b;
	for (u32 i = 0; i < n; i++) {
		const u32 slot = slot_for(b, segs_[i].gref);
		if (slot != BackGrantCache::npos)
			p->slots[p->nslots++] = slot;
		segs_[i].slot = slot == BackGrantCache::npos ? -1 : static_cast<int>(slot);
	}
	const int err = map_batch(b);
	if (err)
		release_slots(p);   // an abandoned slot's put is a no-op
	return err;
}

// Indirect pages through the persistent-grant cache, as data pages are: a page
// the frontend sends again is read through its kept mapping, with no map and
// no unmap (and TLB flush) per request.  Kept mappings are read-write; a
// frontend that grants its indirect pages read-only makes the first such map
// fail (the request then maps them per request, read-only); after
// ro_indirect_limit such failures in a row this ring stops trying.  Our own
// frontend grants read-only the indirect pages it cannot take from its pool.
// true: slots[i] holds grefs[i], in use until put; false: map them per request
// (nothing held).
bool Ring::map_indirect_kept(const u32* grefs, u32 n, u32* slots)
{
	if (!persistent_ || indirect_ro_ >= ro_indirect_limit)
		return false;
	MapBatch b;
	u32 got = 0;
	for (; got < n; got++) {
		slots[got] = slot_for(b, grefs[got]);
		if (slots[got] == BackGrantCache::npos)
			break;   // every kept mapping in use: per request
	}
	const int err = map_batch(b);
	if (err == to_int(kstd::Errno::fault))
		indirect_ro_++;   // refused: most likely granted read-only
	else if (!err && b.nmap)
		indirect_ro_ = 0;
	if (!err && got == n)
		return true;
	for (u32 i = 0; i < got; i++)
		cache_.put(slots[i]);   // no-op for an abandoned slot
	return false;
}

void Ring::release_slots(Pending* p)
{
	for (u32 i = 0; i < p->nslots; i++)
		cache_.put(p->slots[i]);
	if (p->slots && p->slots != p->slots_inline)
		xb_rt_free(p->slots);
	p->slots = nullptr;
	p->nslots = 0;
}

// Down to max_persistent_grants (it may have been lowered): least recently
// used mappings nobody uses are unmapped.
void Ring::shrink_cache()
{
	if (!persistent_)
		return;
	cache_.set_bound(xbg_max_persistent_grants());
	u32 out[64];
	u32 k;
	while ((k = cache_.shrink(kstd::span<u32>(out))) != 0)
		xbg_pgnt_unmap(glue, out, k);
}

void Ring::reap()
{
	void* cookies[32];
	int errs[32];
	unsigned int n;
	while ((n = xbg_ring_reap(glue, cookies, errs, 32)) != 0) {
		for (unsigned int i = 0; i < n; i++) {
			stats.in_flight--;
			complete(static_cast<Pending*>(cookies[i]), errs[i]);
		}
	}
}

int Ring::work(bool stopping, bool event)
{
	int ret = XBG_WORK_IDLE;
	u32 took = 0;
	bool saw_none = false;   // the pass looked at the ring and found nothing new

	reap();
	if (!stopping && !ring_.stopped() && xbg_hold_requests()) {
		// hold_requests (tests of frontends' resume): requests stay on the
		// ring unanswered; look again after a short sleep
		ret = XBG_WORK_RETRY;
	} else if (!stopping && !ring_.stopped()) {
		if (index_ == 0)
			dev_->check_resize();
		shrink_cache();
		xbg_ring_plug(glue);
		// A request takes two steps (taken off the ring and parked, then
		// dispatched): a pass may take a whole ring of them.  A pass that
		// ends because its budget ran out asks for another one: requests may
		// be left on the ring, and req_event was not moved past them, so the
		// frontend will not notify us for them.
		const u32 budget = 2 * ring_.size();
		u32 batch = 0;
		for (; batch < budget; batch++) {
			if (barrier_wait_) {
				if (!dev_->gate.drained(dev_->nr_rings()))
					break;
				const Step st = submit_barrier();
				if (st == Step::retry) {
					ret = XBG_WORK_RETRY;
					break;
				}
				barrier_wait_ = false;
				have_parked_ = false;
			}
			if (barrier_inflight_)
				break;   // requests after a barrier wait for it
			if (have_parked_) {
				const Step st = dispatch(parked_);
				if (st == Step::blocked && barrier_wait_)
					continue;   // our barrier claimed the gate: drained yet?
				if (st == Step::blocked)
					break;
				if (st == Step::retry) {
					ret = XBG_WORK_RETRY;
					break;
				}
				have_parked_ = false;
				continue;
			}
			kstd::Result<bool> more = ring_.final_check_for_requests();
			if (!more || !*more) {
				saw_none = true;
				break;
			}
			const void* slot = ring_.next_request_slot();
			if (!slot)
				break;
			decode_request(abi_, slot, &parked_);
			have_parked_ = true;
			took++;
		}
		if (batch == budget && ret == XBG_WORK_IDLE)
			ret = XBG_WORK_MORE;
		xbg_ring_unplug(glue);
		if (ring_.stopped() && !stop_logged_) {
			stop_logged_ = true;
			xb_rt_log(XB_LOG_ERR, "vbd-%u-%u ring %u: the frontend overran the ring (bogus req_prod); ring stopped",
				  xbg_domid(dev_->gd()), xbg_handle(dev_->gd()), index_);
			dev_->nl_event(XENBLK_EV_RING_ERROR, "the frontend overran the ring; ring stopped", true);
		}
	}
	reap();
	if (push_) {
		push_ = false;
		if (ring_.push_responses_and_check_notify())
			xbg_ring_notify(glue);
	}
	// An event is spurious when the pass looked at the ring and found no new
	// request, or the ring is stopped (a frontend that overran it).  A pass
	// that did not look (a barrier in flight, requests held, the budget) says
	// nothing about the event.
	if (event && took == 0 && (saw_none || ring_.stopped()))
		ret |= XBG_WORK_SPURIOUS;
	return ret;
}

} // namespace
} // namespace xb

// ---- entry points from the glue --------------------------------------------------------------

extern "C" int xb_back_module_init(void)
{
	// on 0 the glue registers the xenbus driver
	return xb_load_check(xb_back_glue_on_xen(), "not running on Xen");
}

extern "C" void xb_back_module_exit(void)
{
}

extern "C" void* xb_back_dev_probe(struct xbg_dev* gd)
{
	xb::Device* d = new (std::nothrow) xb::Device(gd);
	if (!d)
		return nullptr;
	if (xbnl_dev_add(d)) {   // netlink sees every device, or the probe fails
		delete d;
		return nullptr;
	}
	d->probe();
	return d;
}

extern "C" void xb_back_dev_remove(void* dev)
{
	xbnl_dev_del(dev);   // waits for netlink readers
	delete static_cast<xb::Device*>(dev);
}

extern "C" void xb_back_dev_hotplug_changed(void* dev)
{
	static_cast<xb::Device*>(dev)->hotplug_changed();
}

extern "C" void xb_back_dev_frontend_changed(void* dev, int state)
{
	static_cast<xb::Device*>(dev)->frontend_changed(state);
}

extern "C" long long xb_back_dev_stat(void* dev, const char* which)
{
	return static_cast<xb::Device*>(dev)->stat(which);
}

extern "C" int xb_back_dev_physical_device(void* dev, char* buf, unsigned int len)
{
	return static_cast<xb::Device*>(dev)->physical_device(buf, len);
}

extern "C" int xb_back_dev_mode(void* dev, char* buf, unsigned int len)
{
	return static_cast<xb::Device*>(dev)->mode(buf, len);
}

namespace xb::nlk {
bool dev_name(void* dev, char* buf, size_t len)
{
	static_cast<Device*>(dev)->nl_name(buf, len);
	return true;
}
bool dev_snapshot(void* dev, nl::Snapshot* out)
{
	static_cast<Device*>(dev)->nl_snapshot(out);
	return true;
}
void dev_reset_stats(void* dev)
{
	static_cast<Device*>(dev)->nl_reset_stats();
}
int dev_configure(void* dev, const nl::SetRequest& req, nl::SetError* err)
{
	return static_cast<Device*>(dev)->nl_configure(req, err);
}
} // namespace xb::nlk

extern "C" int xb_back_ring_work(void* ring, int stopping, int event)
{
	return static_cast<xb::Ring*>(ring)->work(stopping != 0, event != 0);
}
