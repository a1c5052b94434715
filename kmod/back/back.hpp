// SPDX-License-Identifier: GPL-2.0
// back.hpp - xenblk-back's C++ driver: the types its files share.
//
// Every protocol decision lives in the C++ side and the core: what to
// publish, when to connect, which request is valid, how a request maps onto
// block I/O, what a completion answers, and the cross-ring barrier order
// (back_order.hpp).  The C glue adapts kernel APIs only: it calls the entry
// points (back_entry.h, defined in back_entry.cpp) and offers services
// (back_services.h), which call no C++ symbol.
//
//   back_xenbus.cpp      xenbus state machine, connect/disconnect, resize
//   back_io.cpp          the ring worker: dispatch, barrier order, completion
//   back_persistent.cpp  persistent grants (kept mappings) of a ring
//   back_throttle.cpp    I/O limits: requests held on a ring, throttle groups
//   back_stats.cpp       statistics (sysfs table), netlink reporting
//   back_entry.cpp       the extern "C" entry points
//
// Threads: the xenbus callbacks (probe, hotplug, frontend state, remove) run on
// the xenwatch thread, one at a time.  Each ring has its own worker thread that
// alone touches that ring's state; rings of a device share only the OrderGate
// and the feature-withdrawal flags, both atomic.
#pragma once
#include "kstd.hpp"
#include "rt_api.h"
#include "back_services.h"
#include "ring.hpp"
#include "wire.hpp"
#include "validate.hpp"
#include "negotiate.hpp"
#include "stats.hpp"
#include "back_order.hpp"
#include "back_config.hpp"
#include "nl_report.hpp"
#include "nl_kernel.hpp"
#include "grant_cache.hpp"
#include "throttle.hpp"

namespace xb::back {

// The device lock (statistics readers against ring teardown), held for a scope.
class DevLock {
public:
	explicit DevLock(xbg_dev* gd) : gd_(gd) { xbg_dev_lock(gd_); }
	~DevLock() { xbg_dev_unlock(gd_); }
	DevLock(const DevLock&) = delete;
	DevLock& operator=(const DevLock&) = delete;
private:
	xbg_dev* gd_;
};

inline constexpr u32 max_indirect_supported = XBG_MAX_IO_SEGS;   // one bio per request
static_assert(max_indirect_supported <= blkif_max_indirect_segs);

// Slots per ring for kept mappings; max_persistent_grants is capped to it.
inline constexpr u32 pgnt_capacity = XBG_PGNT_CAPACITY;
inline u32 max_persistent_grants() { return kstd::min(xbg_max_persistent_grants(), pgnt_capacity); }

// One request's I/O while it is ours (not submitted): freed with whatever it
// mapped unless release()d to the glue by a successful submit.
class IoHandle {
public:
	explicit IoHandle(xbg_io* io) : io_(io) {}
	~IoHandle()
	{
		if (io_)
			xbg_io_free(io_);
	}
	IoHandle(const IoHandle&) = delete;
	IoHandle& operator=(const IoHandle&) = delete;
	xbg_io* get() const { return io_; }
	void release() { io_ = nullptr; }
private:
	xbg_io* io_;
};

// The worker's timing: a pass that could not go on (out of memory, requests
// held by the test knob) is retried after retry_ms; a stopping worker looks
// for completions at least every drain_poll_ms.
inline constexpr unsigned int retry_ms = 10;
inline constexpr unsigned int drain_poll_ms = 100;

// Values of Ring::work()
enum : int { work_idle = 0, work_more = 1, work_retry = 2, work_spurious = 4 };

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


class Device;

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
		delete[] held_;
	}
	kstd::Errno init(Abi abi, u32 nr_pages, void* sring, u32 max_indirect, bool persistent);
	// the worker thread (glue: xbg_ring_create)
	static int worker(void* ring) { return static_cast<Ring*>(ring)->thread(); }
	void pgnt_into(CacheStats* st, u64* kept) const
	{
		st->add(cache_.stats());
		*kept += cache_.nr_mapped();
	}

	xbg_ring* glue = nullptr;
	RingStats stats = {};

private:
	enum class Step { done, blocked, retry };
	// a request consumed and not yet started because of the I/O limits
	struct Held {
		Request req;
		u64 since_ns;
	};

	// back_io.cpp
	int thread();
	int work(bool stopping, bool event);
	Step dispatch(const Request& req);
	Step start(const Request& req, const DeviceLimits& lim, u8 rsp_op);
	Step dispatch_indirect(const Request& req, Pending* p, const DeviceLimits& lim, u8 rsp_op);
	Step start_io(const Request& req, Pending* p, unsigned int bio_flags,
		      const Segment* seg, u32 n);
	int submit_io(Pending* p, unsigned int bio_flags, u64 sector, u32 n);
	Step start_discard(const Request& req, Pending* p);
	Step submit_barrier();
	void end_barrier();
	void reap();
	void complete(Pending* p, int err);
	void leave_gate();
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
	// back_throttle.cpp
	// go: start it now (charged); held: in held_, started later; full: it
	// cannot be held now (the FIFO is full, or no memory for it)
	enum class Hold { go, held, full };
	Hold throttle(const Request& req, u64 now);
	void release_held(u64 now, bool all);
	// back_persistent.cpp
	kstd::Errno init_persistent();
	struct MapBatch;
	u32 slot_for(MapBatch& b, u32 gref);
	int map_batch(const MapBatch& b);
	int map_persistent(Pending* p, u32 n);
	bool map_indirect_kept(const u32* grefs, u32 n, u32* slots);
	void release_slots(Pending* p);
	void shrink_cache();

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
	// requests held by the I/O limits (back_throttle.cpp): a FIFO allocated
	// at the first hold; they entered the gate, so a barrier waits for them
	Held* held_ = nullptr;
	u32 held_cap_ = 0, held_head_ = 0, held_n_ = 0;
	u64 wake_ns_ = 0;   // when the first of them may start (0: none held)
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
	u32 io_idx_[XBG_MAX_IO_SEGS] = {};
	u32 io_gref_[XBG_MAX_IO_SEGS] = {};
	unsigned char io_ok_[XBG_MAX_IO_SEGS] = {};
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
	explicit Device(xbg_dev* gd) : gd_(gd)
	{
		__builtin_snprintf(name_, sizeof(name_), "vbd-%u-%u", xbg_domid(gd), xbg_handle(gd));
	}
	~Device()
	{
		disconnect();
		close();
		nlk::ListLock lock;
		leave_group();
	}

	// back_xenbus.cpp (xenwatch thread)
	int probe();
	void remove();
	void frontend_changed(int state);

	// back_stats.cpp
	long long stat(unsigned int which);
	int physical_device(char* buf, unsigned int len);
	int mode(char* buf, unsigned int len);

	// for rings: the flags of a plain write.  The frontend of a device that
	// offered no flush treats it as write-through and never flushes: while the
	// device has a volatile cache anyway, every write goes to it with FUA.
	unsigned int write_flags() const
	{
		return !__atomic_load_n(&cache_offered_, __ATOMIC_RELAXED) && xbg_bdev_write_cache(gd_)
			? XBG_BIO_FUA : 0;
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
	// I/O limits (back_throttle.cpp): its own, or its group's
	throttle::Throttle* throttle() const { return __atomic_load_n(&thr_, __ATOMIC_ACQUIRE); }
	void throttle_delayed(u64 now);   // a request was held
	void throttle_free(u64 now);      // one started without waiting
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
	// "vbd-DOMID-HANDLE", as xenbus names the device: every log line and the
	// netlink report name it so
	const char* name() const { return name_; }

	// generic netlink (back_stats.cpp)
	void nl_snapshot(nl::Snapshot* out);
	void nl_reset_stats();
	int nl_configure(const nl::SetRequest& req, nl::SetError* err);
	void nl_event(u32 type, const char* detail, bool atomic = false) const;

private:
	// back_xenbus.cpp
	static void hotplug_watch(void* dev) { static_cast<Device*>(dev)->hotplug_changed(); }
	void hotplug_changed();
	BackendConfig effective_config();
	int publish_transport();
	void republish_transport();
	int enter_initwait();
	int announce_size(u64 sectors);
	void connect();
	void disconnect();
	void close();
	// back_stats.cpp
	void sum_stats(DeviceStats* s);
	// back_throttle.cpp (netlink's device-list lock held)
	struct LimitsChange {
		int group;               // the device's group after the request (-1: none)
		bool carry;              // the group changes and takes the device's limits
		throttle::Limits lim;    // the limits, merged with the request's by apply_set
	};
	int prepare_limits(const nl::SetRequest& req, LimitsChange* c, nl::SetError* err) const;
	void commit_limits(const nl::SetRequest& req, const LimitsChange& c);
	void leave_group();
	const char* group_name() const;   // "" when in none
	void throttle_snapshot(nl::Snapshot* out);

	xbg_dev* gd_;
	char name_[nl::name_len];
	BackendConfig cfg_;
	bool opened_ = false;
	bool sysfs_ = false;
	u32 major_ = 0, minor_ = 0;
	bool read_only_ = false;
	bool cdrom_ = false;
	int fe_state_ = XENBLK_STATE_UNKNOWN;
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
	// I/O limits: thr_ is &own_thr_ or a group's (changed under netlink's
	// device-list lock; groups are never freed while the module is loaded)
	throttle::Throttle own_thr_;
	throttle::Throttle* thr_ = &own_thr_;
	int group_ = -1;
	bool throttling_ = false;   // between a start event and its stop event
	u64 last_delay_ns_ = 0;
	u64 last_event_ns_ = 0;
};

// what the netlink family reports (back_stats.cpp; registered at module init)
extern const nlk::Report nl_report;

} // namespace xb::back
