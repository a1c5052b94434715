// SPDX-License-Identifier: GPL-2.0
// front.hpp - xenblk-front's C++ driver: its types (Device, Ring, Pdu,
// Shadow ...) and the small helpers every file of the driver shares.
//
// Every protocol decision is made in the driver and in the core (kmod/core:
// negotiation, rings, request planning, wire codec, statistics); the C glue
// only adapts kernel APIs.  Layers: glue.c -> front_entry.h -> front_entry.cpp
// -> Device / Ring -> front_services.h -> glue_xen.c, glue_blk.c.
// See Documentation/frontend.md ("Source layout").
#ifndef XENBLK_FRONT_HPP
#define XENBLK_FRONT_HPP

#include "kstd.hpp"
#include "rt_api.h"
#include "front_entry.h"
#include "front_services.h"
#include "abi.hpp"
#include "ring.hpp"
#include "wire.hpp"
#include "negotiate.hpp"
#include "split.hpp"
#include "stats.hpp"
#include "front_response.hpp"
#include "nl_api.h"
#include "nl_kernel.hpp"
#include "grant_pool.hpp"
#include "front_policy.hpp"

namespace xb::fe {

using kstd::Errno;
using kstd::to_int;
using kstd::unique_ptr;
using kstd::span;

inline constexpr u32 no_shadow = ~u32{0};
inline constexpr u8 no_op = 0xff;
inline constexpr u32 no_gref = ~u32{0};   // a grant already ended
inline constexpr u32 max_block_segments = 256;   // per block request, with indirect
inline constexpr unsigned purge_interval_ms = 10000;   // looking for pool pages the backend unmapped
static_assert(max_block_segments <= blkif_max_indirect_segs);

// ---- locking -------------------------------------------------------------------

// A ring's (or the re-issue list's) spinlock, interrupts off, for a scope.
class Guard {
public:
	explicit Guard(xb_fe_lock* l) : l_(l), flags_(xb_fe_glue_lock(l)) {}
	~Guard() { xb_fe_glue_unlock(l_, flags_); }
	Guard(const Guard&) = delete;
	Guard& operator=(const Guard&) = delete;
private:
	xb_fe_lock* l_;
	unsigned long flags_;
};

class LockHolder {   // owns a glue spinlock
public:
	LockHolder() = default;
	~LockHolder() { if (l_) xb_fe_glue_lock_free(l_); }
	LockHolder(const LockHolder&) = delete;
	LockHolder& operator=(const LockHolder&) = delete;
	bool init() { l_ = xb_fe_glue_lock_new(); return l_ != nullptr; }
	xb_fe_lock* get() const { return l_; }
private:
	xb_fe_lock* l_ = nullptr;
};

// ---- xenstore adapters ---------------------------------------------------------------

class XsSource final : public KeySource {
public:
	XsSource(xb_fe_dev* gd, bool other) : gd_(gd), other_(other) {}
	bool read(const char* key, char* buf, size_t len) const override
	{
		return xb_fe_glue_read(gd_, other_ ? 1 : 0, key, buf, static_cast<unsigned>(len)) == 1;
	}
private:
	xb_fe_dev* gd_;
	bool other_;
};

// The backend's keys as the administrator lets us use them: a flush feature
// turned off by a module parameter reads as absent.
class MaskedSource final : public KeySource {
public:
	MaskedSource(const KeySource& src, bool flush, bool barrier)
		: src_(src), flush_(flush), barrier_(barrier) {}
	bool read(const char* key, char* buf, size_t len) const override
	{
		if ((!flush_ && !kstd::strcmp(key, key::feature_flush_cache)) ||
		    (!barrier_ && !kstd::strcmp(key, key::feature_barrier)))
			return false;
		return src_.read(key, buf, len);
	}
private:
	const KeySource& src_;
	bool flush_;
	bool barrier_;
};

class XsSink final : public KeySink {
public:
	explicit XsSink(xb_fe_dev* gd) : gd_(gd) {}
	int write(const char* key, const char* value) override { return xb_fe_glue_write(gd_, key, value); }
	int remove(const char* key) override { return xb_fe_glue_remove(gd_, key); }
private:
	xb_fe_dev* gd_;
};

// ---- per request state ---------------------------------------------------------------

class Device;
class Ring;

// Per block request state (the blk-mq pdu).
struct Pdu {
	xb_fe_rq* rq;
	Ring* ring;
	Pdu* next;
	u32 pending;       // blkif requests on the ring
	int err;           // 0 or negative errno to complete with
	u8 failed_op;      // flush or barrier operation the backend refused
	bool reissue;      // plan again in the new flush mode
	bool saved;        // on the resume list (once, however many ring slots it had)
};

// With persistent grants: one data page of a request, copied through a pool page.
struct PoolUse {
	PoolPage* pg;
	u64 frame;         // the block request's page
	u16 off;           // bytes [off, off + len) of both pages
	u16 len;
};

// One blkif request in flight, by ring id.
struct Shadow {
	Pdu* pdu;                  // nullptr: free.  One answered while the backend still
				   // maps a page of the guest keeps its slot (not in flight_)
				   // until released (front_release.cpp)
	u32 next_free;
	u16 nr_grants;
	u8 nr_indirect;
	u64 sectors;
	u64 start_ns;
	u32 grefs_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	u32* grefs;                // grefs_inline or an allocated array; no_gref: ended
	void* indirect_page[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	u32 indirect_gref[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	// persistent grants: the pool pages used (nr_grants of them, and nr_indirect)
	PoolUse uses_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	PoolUse* uses;             // uses_inline or an allocated array
	PoolPage* indirect_pg[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

enum class Submit { queued, busy, resource, done };

// ---- Ring: one shared ring, its event channel, shadows and grant pool --------------------
// front_ring.cpp: setup, teardown, suspend, responses; front_submit.cpp:
// planning and granting a block request; front_pool.cpp: persistent grants.

class Ring {
public:
	Ring(Device* dev, u32 index) : dev_(dev), index_(index) {}
	~Ring() { teardown(); }
	Ring(const Ring&) = delete;
	Ring& operator=(const Ring&) = delete;

	int setup(u32 ring_order, Abi abi, u32 max_pieces);
	void stop_events();   // unbinds the event channel: no interrupt after this
	void teardown();
	// at connect: how the data reaches the backend (own pages, or pool pages
	// with persistent grants or bounce), for requests of at most max_segments
	void start(GrantMode mode, u32 max_segments);
	void purge();      // frees pool pages the backend no longer maps
	void pool_into(PoolStats* st, u32* pages, u32* free_pages, u64* direct_grants);
	FrontQueue front_queue() const { return {span<const u32>(grefs_, nr_pages_), port_}; }

	// queue_rq and re-issue: plan, grant and put one block request on the ring
	// hctx: stop this hw queue under the lock when the ring is full
	Submit submit(Pdu* p, int* err, xb_fe_hctx* hctx = nullptr);
	void push_and_notify();
	void interrupt();
	void stats_into(DeviceStats* out);
	void count_fallback();
	void fail_all();   // the device is broken: fail every request in flight
	// front_release.cpp: the backend does not answer.  abandon: no new
	// request goes on this ring; fail every request whose pages the backend
	// cannot reach (give_up: all of them, the grant table ends what is left
	// when the backend unmaps); true while some are left
	// *failed counts the blkif requests failed
	bool abandon(bool give_up, u32* failed = nullptr);
	// blk-mq timeout of p: true if it was failed (completed), false: wait again
	bool timeout(Pdu* p);
	// resume: unbind, forget the old ring and its grants, put each block
	// request that was in flight on *saved (once); the object stays, so
	// that blk-mq's hctx keeps pointing at it, and setup() runs again
	void suspend(Pdu** saved);

private:
	// front_submit.cpp
	Submit submit_locked(Pdu* p, int* err);
	int merge_segments(xb_fe_rq* rq);
	// front_ring.cpp
	void push_locked();
	u32 alloc_shadow();
	void release_shadow(u32 id);
	bool end_grants(Shadow& s);
	void complete_shadow(u32 id, s16 status, Pdu** done);
	void fail_all_locked(Pdu** done);
	// front_release.cpp
	void defer_grants(Shadow& s);
	bool fail_shadow(u32 id, bool give_up, Pdu** done);
	void end_all(Pdu* done);
	bool bad_response(const char* fmt, unsigned long long a, unsigned b, unsigned c, const char* why);
	// front_pool.cpp
	PoolPage* pool_get();
	void pool_after_response(PoolPage* pg);
	void pool_free_chain(PoolPage* chain, bool deferred);
	void release_pool_pages(Shadow& s, bool read_done);
	void give_back_pool_pages(Shadow& s);
	bool grant_pieces_persistent(Shadow& s, const WireRequest& w, bool to_backend);

	Device* dev_;
	u32 index_;
	LockHolder lock_;
	FrontRing<> ring_;
	Abi abi_ = native_abi();
	void* shared_ = nullptr;
	u32 nr_pages_ = 0;
	u32 grefs_[1u << blkif_max_ring_order] = {};
	unsigned port_ = 0;
	int irq_ = 0;
	unique_ptr<Shadow[]> shadow_;
	unique_ptr<InFlight[]> flight_;   // what response checks see, by id
	u32 free_head_ = no_shadow;
	u32 nr_free_ = 0;
	// planning scratch, used under the lock
	u32 max_pieces_ = 0;
	unique_ptr<DataSegment[]> dsegs_;
	unique_ptr<GrantPiece[]> pieces_;
	unique_ptr<WireRequest[]> wreqs_;
	bool push_pending_ = false;
	RingStats stats_ = {};
	u64 direct_grants_ = 0;   // pages of block requests granted to the backend
	GrantMode mode_ = GrantMode::direct;
	bool dead_ = false;       // abandoned: nothing new goes on it, late answers are ignored
	FrontGrantPool pool_;
};

// ---- Device: one xenbus vbd device and its disk --------------------------------------------
// front_xenbus.cpp: probe, the state machine, connect, close, the disk;
// front_recovery.cpp: resume, re-issue, flush downgrade, broken device;
// front_stats.cpp: sysfs statistics and the netlink hooks.

class Device {
public:
	explicit Device(xb_fe_dev* gd) : gd_(gd) {}
	~Device() = default;
	Device(const Device&) = delete;
	Device& operator=(const Device&) = delete;

	// front_xenbus.cpp
	int probe();
	void backend_changed(int state);
	void close();      // also on remove
	Ring* ring(u32 i) { return i < nr_rings_ ? rings_[i].get() : nullptr; }
	void kick();       // any context: restart stopped hw queues of a live disk
	// front_recovery.cpp
	int resume();
	void work();
	void set_broken();
	void queue_reissue(Pdu* list);
	void discard_refused() { kstd::write_once(discard_refused_, true); xb_fe_glue_schedule_work(gd_); }
	void log_once(bool* flag, const char* what);
	// front_pool.cpp
	void purge();
	// front_stats.cpp
	int show_stats(char* buf, unsigned len);
	// generic netlink; the device list lock is held, which also keeps the
	// rings from being freed (free_rings)
	void nl_snapshot(nl::Snapshot* out);
	void nl_reset_stats();
	void nl_event(u32 type, const char* detail, bool atomic) const;
	// front_submit.cpp
	SplitLimits limits() const;

	// read on the I/O path without a lock
	bool broken() const { return kstd::read_once(broken_); }
	bool closing() const { return kstd::read_once(closing_); }
	bool resuming() const { return kstd::read_once(resuming_); }
	int backend_state() const { return kstd::read_once(backend_state_); }
	xb_fe_dev* gd() const { return gd_; }
	u16 handle() const { return static_cast<u16>(vdevice_); }
	const char* name() const { return name_; }

private:
	// the disk's life: created at connect, deleted (I/O drains through the
	// rings) then dropped once the rings are gone
	enum class Disk : u8 { none, live, deleted };
	bool has_disk() const { return kstd::read_once(disk_) != Disk::none; }
	int disk_create(const xb_fe_disk_params& p);
	void disk_del();
	void disk_put();
	void disk_set_cache(bool write_cache, bool fua);
	void disk_disable_discard();
	void disk_set_capacity(u64 sectors);

	// front_xenbus.cpp
	int talk_to_backend();
	int connect();
	void free_rings();
	u32 max_segments() const;   // per block request, for the queue and the pools
	GrantMode decide_grant_mode();   // at connect: persistent, bounce or direct
	// netlink readers walk the rings only while they are up (list lock held)
	void set_rings_up(bool up)
	{
		nlk::ListLock g;
		rings_up_ = up;
	}
	// front_recovery.cpp
	int resume_connect(const KeySource& backend);
	void fail_saved();
	// front_release.cpp: before the disk is deleted, nothing may stay in flight
	void fail_in_flight();
	bool hold_for_resume(Pdu* p);
	void reissue(Pdu* p);
	// front_stats.cpp
	void sum_stats(DeviceStats* st);

	xb_fe_dev* gd_;
	u32 vdevice_ = 0;
	u32 first_minor_ = 0;
	u32 minors_ = 0;
	char name_[8] = {};
	NegotiatedConfig cfg_;
	FrontendLimits lim_;
	bool use_flush_cache_ = true;
	bool use_barrier_ = true;
	GrantMode mode_ = GrantMode::direct;
	int backend_state_ = XENBLK_STATE_UNKNOWN;   // as last seen by backend_changed
	unique_ptr<unique_ptr<Ring>[]> rings_;
	u32 nr_rings_ = 0;
	Disk disk_ = Disk::none;   // read by kick() in interrupts
	bool rings_up_ = false;
	// read on the I/O path
	u8 flush_mode_ = 0;
	bool write_cache_ = false;
	bool discard_on_ = false;
	bool broken_ = false;
	bool closing_ = false;
	bool discard_refused_ = false;
	// re-issue list (rare path)
	LockHolder reissue_lock_;
	Pdu* reissue_head_ = nullptr;
	// resume (xl restore, migration): requests held until the new rings run
	bool resuming_ = false;
	Pdu* saved_ = nullptr;          // under reissue_lock_
	u64 resume_sectors_ = 0;
	bool logged_nomode_ = false;
	bool logged_broken_ = false;
	bool logged_leak_ = false;
	bool logged_defer_ = false;
	bool logged_timeout_ = false;
	bool logged_plan_ = false;
	DeviceStats nl_base_ = {};   // statistics at the last netlink reset
	friend class Ring;
};

// what the netlink family reports (front_stats.cpp; registered at module init)
extern const nlk::Report nl_report;

} // namespace xb::fe

#endif // XENBLK_FRONT_HPP
