// SPDX-License-Identifier: GPL-2.0
// front.cpp - xenblk-front: the frontend driver (C++ side).
//
// Every protocol decision is made here and in the core: the xenbus state
// machine, negotiation (core/negotiate), ring handling (core/ring), request
// planning (core/split), encoding and decoding (core/wire), response
// validation, flush-mode downgrades and statistics (core/stats).  The C glue
// (glue.c) only adapts kernel APIs.  See Documentation/frontend.md.
#include "kstd.hpp"
#include "rt_api.h"
#include "front_api.h"
#include "load_check.hpp"
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

namespace {

using namespace xb;
using kstd::Errno;
using kstd::to_int;
using kstd::unique_ptr;
using kstd::span;

constexpr u32 no_shadow = ~u32{0};
constexpr u8 no_op = 0xff;
constexpr u32 max_block_segments = 256;   // per block request, with indirect
constexpr unsigned purge_interval_ms = 10000;   // looking for pool pages the backend unmapped
static_assert(max_block_segments <= blkif_max_indirect_segs);

// ---- locking -------------------------------------------------------------------

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
	bool held;         // a page is still mapped by the backend: never complete
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
	Pdu* pdu;                  // nullptr: free
	u32 next_free;
	u16 nr_grants;
	u8 nr_indirect;
	u64 sectors;
	u64 start_ns;
	u32 grefs_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	u32* grefs;                // grefs_inline or an allocated array
	void* indirect_page[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	u32 indirect_gref[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	// persistent grants: the pool pages used (nr_grants of them, and nr_indirect)
	PoolUse uses_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	PoolUse* uses;             // uses_inline or an allocated array
	PoolPage* indirect_pg[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

StatOp stat_op(u8 op)
{
	switch (op) {
	case BLKIF_OP_READ: return StatOp::read;
	case BLKIF_OP_WRITE: return StatOp::write;
	case BLKIF_OP_FLUSH_DISKCACHE: return StatOp::flush;
	case BLKIF_OP_WRITE_BARRIER: return StatOp::barrier;
	default: return StatOp::discard;
	}
}

const char* op_name(u8 op)
{
	switch (op) {
	case BLKIF_OP_READ: return "read";
	case BLKIF_OP_WRITE: return "write";
	case BLKIF_OP_FLUSH_DISKCACHE: return "flush";
	case BLKIF_OP_WRITE_BARRIER: return "barrier";
	case BLKIF_OP_DISCARD: return "discard";
	case BLKIF_OP_INDIRECT: return "indirect";
	default: return "unknown";
	}
}

// Push every block request of 'list' onto '*head' (their order does not matter).
void push_all(Pdu** head, Pdu* list)
{
	while (list) {
		Pdu* p = list;
		list = p->next;
		p->next = *head;
		*head = p;
	}
}

enum class Submit { queued, busy, resource, done };

class Ring {
public:
	Ring(Device* dev, u32 index) : dev_(dev), index_(index) {}
	~Ring() { teardown(); }
	Ring(const Ring&) = delete;
	Ring& operator=(const Ring&) = delete;

	int setup(u32 ring_order, Abi abi, u32 max_pieces);
	void stop_events();   // unbinds the event channel: no interrupt after this
	void teardown();
	// at connect: persistent grants or not, for requests of at most max_segments
	void start(bool persistent, u32 max_segments);
	void purge();      // frees pool pages the backend no longer maps
	void pool_into(PoolStats* st, u32* pages, u32* free_pages);
	FrontQueue front_queue() const { return {span<const u32>(grefs_, nr_pages_), port_}; }

	// queue_rq and re-issue: plan, grant and put one block request on the ring
	// hctx: stop this hw queue under the lock when the ring is full
	Submit submit(Pdu* p, int* err, xb_fe_hctx* hctx = nullptr);
	void push_and_notify();
	void commit();
	void interrupt();
	void stats_into(DeviceStats* out);
	void count_fallback();
	void fail_all();   // the device is broken: fail every request in flight
	// resume: unbind, forget the old ring and its grants, put each block
	// request that was in flight on *saved (once); the object stays, so
	// that blk-mq's hctx keeps pointing at it, and setup() runs again
	void suspend(Pdu** saved);

private:
	Submit submit_locked(Pdu* p, int* err);
	void push_locked();
	u32 alloc_shadow();
	void release_shadow(u32 id);
	bool end_grants(Shadow& s);
	PoolPage* pool_get();
	void pool_after_response(PoolPage* pg);
	void pool_free_chain(PoolPage* chain, bool deferred);
	void release_pool_pages(Shadow& s, bool read_done);
	void give_back_pool_pages(Shadow& s);
	bool grant_pieces_persistent(Shadow& s, const WireRequest& w, bool to_backend);
	void complete_shadow(u32 id, s16 status, Pdu** done);
	void fail_all_locked(Pdu** done);
	bool bad_response(const char* fmt, unsigned long long a, unsigned b, unsigned c, const char* why);

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
	unique_ptr<xb_fe_seg[]> gsegs_;
	unique_ptr<DataSegment[]> dsegs_;
	unique_ptr<GrantPiece[]> pieces_;
	unique_ptr<WireRequest[]> wreqs_;
	bool push_pending_ = false;
	RingStats stats_ = {};
	bool persistent_ = false;
	FrontGrantPool pool_;
};

class Device {
public:
	explicit Device(xb_fe_dev* gd) : gd_(gd) {}
	~Device() = default;
	Device(const Device&) = delete;
	Device& operator=(const Device&) = delete;

	int probe();
	void backend_changed(int state);
	void remove();
	int resume();
	void work();
	void purge();
	Ring* ring(u32 i) { return i < nr_rings_ ? rings_[i].get() : nullptr; }
	int show_stats(char* buf, unsigned len);

	// read on the I/O path without a lock
	bool broken() const { return kstd::read_once(broken_); }
	bool closing() const { return kstd::read_once(closing_); }
	SplitLimits limits() const;
	xb_fe_dev* gd() const { return gd_; }
	u16 handle() const { return static_cast<u16>(vdevice_); }
	const char* name() const { return name_; }
	void set_broken();
	void queue_reissue(Pdu* list);
	void discard_refused() { kstd::write_once(discard_refused_, true); xb_fe_glue_schedule_work(gd_); }
	void log_once(bool* flag, const char* what);

	// generic netlink (at the end of this file); the device list lock is
	// held, which also keeps the rings from being freed (free_rings)
	void nl_snapshot(nl::Snapshot* out);
	void nl_reset_stats();
	void nl_event(u32 type, const char* detail, bool atomic) const
	{
		nlk::event(type, name_, xb_fe_glue_backend_id(gd_), vdevice_, detail, atomic);
	}

private:
	void sum_stats(DeviceStats* st);
	// netlink readers walk the rings only while they are up (list lock held)
	void set_rings_up(bool up)
	{
		xbnl_lock();
		rings_up_ = up;
		xbnl_unlock();
	}
	int talk_to_backend();
	int connect();
	int resume_connect(const KeySource& backend);
	void fail_saved();
	bool hold_for_resume(Pdu* p);
	void close();
	void free_rings();
	void reissue(Pdu* p);

	xb_fe_dev* gd_;
	u32 vdevice_ = 0;
	u32 first_minor_ = 0;
	u32 minors_ = 0;
	char name_[8] = {};
	NegotiatedConfig cfg_;
	FrontendLimits lim_;
	bool use_flush_cache_ = true;
	bool use_barrier_ = true;
	unique_ptr<unique_ptr<Ring>[]> rings_;
	u32 nr_rings_ = 0;
	bool disk_ = false;
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
	u64 fallbacks_ = 0;
	bool logged_nomode_ = false;
	bool logged_broken_ = false;
	bool logged_leak_ = false;
	bool logged_plan_ = false;
	DeviceStats nl_base_ = {};   // statistics at the last netlink reset
	friend class Ring;
};

// ---- Ring --------------------------------------------------------------------------

int Ring::setup(u32 ring_order, Abi abi, u32 max_pieces)
{
	int err;

	abi_ = abi;
	if (!lock_.get() && !lock_.init())   // kept across a resume
		return to_int(Errno::nomem);
	nr_pages_ = 1u << ring_order;
	err = xb_fe_glue_ring_setup(dev_->gd(), nr_pages_, &shared_, grefs_);
	if (err) {
		nr_pages_ = 0;
		return err;
	}
	if (ring_.init(shared_, nr_pages_, entry_size(abi)) != Errno::ok)
		return to_int(Errno::inval);
	shadow_.reset(new (std::nothrow) Shadow[ring_.size()]);
	flight_.reset(new (std::nothrow) InFlight[ring_.size()]);
	max_pieces_ = max_pieces;
	gsegs_.reset(new (std::nothrow) xb_fe_seg[max_pieces]);
	dsegs_.reset(new (std::nothrow) DataSegment[max_pieces]);
	pieces_.reset(new (std::nothrow) GrantPiece[max_pieces]);
	wreqs_.reset(new (std::nothrow) WireRequest[max_pieces + 1]);
	if (!shadow_ || !flight_ || !gsegs_ || !dsegs_ || !pieces_ || !wreqs_)
		return to_int(Errno::nomem);
	for (u32 i = 0; i < ring_.size(); i++) {
		shadow_[i] = {};
		flight_[i] = {};
		shadow_[i].next_free = i + 1 < ring_.size() ? i + 1 : no_shadow;
	}
	free_head_ = 0;
	nr_free_ = ring_.size();
	return xb_fe_glue_evtchn_bind(dev_->gd(), this, &port_, &irq_);
}

void Ring::stop_events()
{
	if (irq_ > 0 || port_)
		xb_fe_glue_evtchn_unbind(dev_->gd(), this, port_, irq_);
	irq_ = 0;
	port_ = 0;
}

void Ring::teardown()
{
	stop_events();   // first: no interrupt runs after this
	if (shadow_) {
		Pdu* done = nullptr;
		fail_all_locked(&done);   // nothing else runs: the disk is gone
		for (Pdu* p = done; p;) {
			Pdu* n = p->next;
			if (!p->held)
				xb_fe_glue_rq_end(p->rq, p->err);
			p = n;
		}
	}
	// every pool page is free now; one the backend still maps is freed by
	// the grant table once it is unmapped, never before
	pool_free_chain(pool_.drain_free(), true);
	persistent_ = false;
	if (nr_pages_)
		xb_fe_glue_ring_teardown(&shared_, nr_pages_, grefs_);
	nr_pages_ = 0;
	shared_ = nullptr;
}

void Ring::suspend(Pdu** saved)
{
	PoolPage* pool = nullptr;

	if (irq_ > 0 || port_)
		xb_fe_glue_evtchn_unbind(dev_->gd(), this, port_, irq_);
	irq_ = 0;
	port_ = 0;
	if (shadow_) {
		Guard g(lock_.get());
		for (u32 id = 0; id < ring_.size(); id++) {
			Shadow& s = shadow_[id];
			Pdu* p = s.pdu;
			if (!p)
				continue;
			if (s.uses) {
				give_back_pool_pages(s);   // the whole pool goes below
			} else if (!end_grants(s)) {
				// the restored domain's grant table is new: these end at once
				p->held = true;
			}
			if (!p->saved) {
				p->saved = true;
				p->next = *saved;
				*saved = p;
			}
			release_shadow(id);
		}
		stats_.in_flight = 0;
		push_pending_ = false;
		// the new backend may not offer persistent grants: start() decides
		pool = pool_.drain_free();
		persistent_ = false;
	}
	pool_free_chain(pool, true);   // new grant table: each ends at once
	if (nr_pages_)
		xb_fe_glue_ring_teardown(&shared_, nr_pages_, grefs_);
	nr_pages_ = 0;
	shared_ = nullptr;
}

u32 Ring::alloc_shadow()
{
	const u32 id = free_head_;
	if (id == no_shadow)
		return id;
	free_head_ = shadow_[id].next_free;
	nr_free_--;
	return id;
}

void Ring::release_shadow(u32 id)
{
	Shadow& s = shadow_[id];
	if (s.grefs && s.grefs != s.grefs_inline)
		xb_rt_free(s.grefs);
	if (s.uses && s.uses != s.uses_inline)
		xb_rt_free(s.uses);
	s = {};
	flight_[id] = {};
	s.next_free = free_head_;
	free_head_ = id;
	nr_free_++;
}

// false if the backend still maps one of the pages: the block request then
// must never complete (its pages would go back to their owner while the
// backend can still write them), and the device is broken.
bool Ring::end_grants(Shadow& s)
{
	bool leaked = false;

	for (u32 i = 0; i < s.nr_grants; i++)
		if (!xb_fe_glue_end_grant(s.grefs[i]))
			leaked = true;
	for (u32 i = 0; i < s.nr_indirect; i++) {
		if (xb_fe_glue_end_grant(s.indirect_gref[i]))
			xb_fe_glue_page_free(s.indirect_page[i]);
		else
			leaked = true;   // still mapped: the page must never be reused
	}
	s.nr_grants = 0;
	s.nr_indirect = 0;
	if (leaked) {
		dev_->log_once(&dev_->logged_leak_,
			       "the backend kept a page mapped after answering: holding its request, device broken");
		dev_->set_broken();
	}
	return !leaked;
}

void Ring::start(bool persistent, u32 max_segments)
{
	Guard g(lock_.get());
	// a new connection has new rings: nothing is in flight and the pool is empty
	persistent_ = persistent;
	pool_.init(persistent ? persistent_pool_bound(ring_.size(), max_segments) : 0);
}

// A pool page for one request: the one returned last, else a new one
// (allocated without sleeping, zeroed, granted read-write), within the bound.
PoolPage* Ring::pool_get()
{
	if (PoolPage* pg = pool_.take())
		return pg;
	if (!pool_.can_grow())
		return nullptr;
	auto* pg = static_cast<PoolPage*>(xb_rt_alloc_nowait(sizeof(PoolPage)));
	if (!pg)
		return nullptr;
	*pg = {};
	unsigned long long pfn = 0;
	void* page = xb_fe_glue_page_alloc_nowait(&pfn);
	if (!page) {
		xb_rt_free(pg);
		return nullptr;
	}
	kstd::memset(page, 0, BLKIF_PAGE_SIZE);   // nothing of ours reaches the backend
	const int ref = xb_fe_glue_grant(dev_->gd(), pfn, 0);
	if (ref < 0) {
		xb_fe_glue_page_free(page);
		xb_rt_free(pg);
		return nullptr;
	}
	pg->page = page;
	pg->pfn = pfn;
	pg->gref = static_cast<u32>(ref);
	pool_.adopt(pg);   // can_grow() was checked under the same lock
	return pg;
}

// After a response: a page the backend still maps was made persistent by it
// and is kept; for any other the attempt ended the grant, and the page goes.
void Ring::pool_after_response(PoolPage* pg)
{
	const bool ended = xb_fe_glue_end_grant(pg->gref) == 1;

	switch (completion_fate(true, ended)) {
	case PageFate::keep:
		pool_.give_back(pg, true);
		break;
	case PageFate::drop:
	case PageFate::hold:   // not reached with persistent = true
		pool_.forget(pg);
		xb_fe_glue_page_free(pg->page);
		xb_rt_free(pg);
		break;
	}
}

// Pages that left the pool.  deferred: their grant is still active; end it
// now, or let the grant table free the page when the backend unmaps it.
void Ring::pool_free_chain(PoolPage* chain, bool deferred)
{
	while (chain) {
		PoolPage* n = chain->next;
		if (deferred)
			xb_fe_glue_end_grant_free(chain->gref, chain->page);
		else
			xb_fe_glue_page_free(chain->page);
		xb_rt_free(chain);
		chain = n;
	}
}

// Response to a request that used pool pages: copy a read's data out, then
// let each page go back or leave.
void Ring::release_pool_pages(Shadow& s, bool read_done)
{
	for (u32 i = 0; i < s.nr_grants; i++) {
		const PoolUse& u = s.uses[i];
		if (read_done)
			xb_fe_glue_copy_from_pool(u.frame, u.pg->page, u.off, u.len);
		pool_after_response(u.pg);
	}
	for (u32 i = 0; i < s.nr_indirect; i++)
		pool_after_response(s.indirect_pg[i]);
	s.nr_grants = 0;
	s.nr_indirect = 0;
}

// A request's pool pages back to the pool as they are (no response came:
// nothing to copy out), still granted.
void Ring::give_back_pool_pages(Shadow& s)
{
	for (u32 i = 0; i < s.nr_grants; i++)
		pool_.give_back(s.uses[i].pg, false);
	for (u32 i = 0; i < s.nr_indirect; i++)
		pool_.give_back(s.indirect_pg[i], false);
	s.nr_grants = 0;
	s.nr_indirect = 0;
}

// The data pages of one blkif request through pool pages (a write's data is
// copied in now).  false: no page to be had; what was taken stays in s for
// the rollback.
bool Ring::grant_pieces_persistent(Shadow& s, const WireRequest& w, bool to_backend)
{
	s.uses = s.uses_inline;
	if (w.nr_pieces > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		s.uses = static_cast<PoolUse*>(xb_rt_alloc_nowait(sizeof(PoolUse) * w.nr_pieces));
		if (!s.uses) {
			s.uses = s.uses_inline;
			return false;
		}
	}
	for (u32 i = 0; i < w.nr_pieces; i++) {
		const GrantPiece& gp = pieces_[w.first_piece + i];
		PoolPage* pg = pool_get();
		if (!pg)
			return false;
		const u16 off = static_cast<u16>(gp.first_sect * BLKIF_SECTOR_SIZE);
		const u16 len = static_cast<u16>((gp.last_sect - gp.first_sect + 1u) * BLKIF_SECTOR_SIZE);
		s.uses[s.nr_grants] = {pg, gp.frame, off, len};
		s.grefs[s.nr_grants++] = pg->gref;
		if (to_backend)
			xb_fe_glue_copy_to_pool(pg->page, gp.frame, off, len);
	}
	return true;
}

void Ring::purge()
{
	PoolPage* gone;
	{
		Guard g(lock_.get());
		if (!persistent_)
			return;
		gone = pool_.remove_free_if([](PoolPage* pg) { return xb_fe_glue_end_grant(pg->gref) == 1; });
	}
	pool_free_chain(gone, false);   // their grants ended
}

void Ring::pool_into(PoolStats* st, u32* pages, u32* free_pages)
{
	Guard g(lock_.get());
	st->add(pool_.stats());
	*pages += pool_.total();
	*free_pages += pool_.nr_free();
}

Submit Ring::submit(Pdu* p, int* err, xb_fe_hctx* hctx)
{
	Guard g(lock_.get());
	const Submit s = submit_locked(p, err);
	// stopped before the lock is dropped: the completion that makes room
	// runs after this and restarts the queue
	if (s == Submit::busy && hctx)
		xb_fe_glue_stop_queue(hctx);
	return s;
}

Submit Ring::submit_locked(Pdu* p, int* err)
{
	xb_fe_rq_info info;
	BlockRequest br;
	Plan plan;
	int rc;

	*err = 0;
	if (dev_->broken() || !nr_pages_) {
		*err = to_int(Errno::io);
		return Submit::done;
	}
	xb_fe_glue_rq_info(p->rq, &info);
	br.sector = info.sector;
	br.nr_sectors = info.nr_sectors;
	br.fua = info.fua;
	br.preflush = info.preflush;
	switch (info.op) {
	case XB_FE_OP_READ: br.op = BlockOp::read; break;
	case XB_FE_OP_WRITE: br.op = BlockOp::write; break;
	case XB_FE_OP_FLUSH: br.op = BlockOp::flush; br.nr_sectors = 0; br.preflush = false; break;
	case XB_FE_OP_DISCARD: br.op = BlockOp::discard; break;
	case XB_FE_OP_SECURE_ERASE: br.op = BlockOp::secure_erase; break;
	default:
		*err = to_int(Errno::opnotsupp);
		return Submit::done;
	}
	if (br.op == BlockOp::read || br.op == BlockOp::write) {
		const int n = xb_fe_glue_rq_segments(p->rq, gsegs_.get(), max_pieces_);
		if (n <= 0) {
			*err = to_int(Errno::io);
			dev_->log_once(&dev_->logged_plan_, "a block request has more segments than the queue allows");
			return Submit::done;
		}
		for (int i = 0; i < n; i++)
			dsegs_[i] = {gsegs_[i].addr, gsegs_[i].len};
		br.segs = span<const DataSegment>(dsegs_.get(), static_cast<size_t>(n));
	}
	const SplitLimits lim = dev_->limits();
	rc = plan_request(br, lim, span<WireRequest>(wreqs_.get(), max_pieces_ + 1),
			  span<GrantPiece>(pieces_.get(), max_pieces_), &plan);
	if (rc) {
		// FUA or a flush the current mode cannot carry, a discard the backend
		// withdrew, or a malformed request: never pretend it was done
		if (rc == to_int(Errno::opnotsupp) &&
		    (br.op == BlockOp::discard || br.op == BlockOp::secure_erase))
			*err = rc;
		else {
			*err = to_int(Errno::io);
			if (rc != to_int(Errno::opnotsupp))
				xb_rt_log(XB_LOG_ERR, "%s: cannot plan a request (op %u, sector %llu): %d",
					  dev_->name(), info.op, info.sector, rc);
		}
		return Submit::done;
	}
	if (plan.complete_now())
		return Submit::done;
	if (plan.nr_reqs > nr_free_ || plan.nr_reqs > ring_.free_requests())
		return Submit::busy;

	// grant everything first; a shortage rolls the whole block request back
	u32 first_id = no_shadow, last_id = no_shadow;
	const u64 now = xb_fe_glue_now_ns();
	for (size_t r = 0; r < plan.nr_reqs; r++) {
		const WireRequest& w = wreqs_[r];
		const u32 id = alloc_shadow();
		Shadow& s = shadow_[id];
		const bool to_backend = w.operation != BLKIF_OP_READ;   // backend reads our pages

		s.pdu = p;
		s.next_free = no_shadow;
		if (last_id != no_shadow)
			shadow_[last_id].next_free = id;   // chain of this block request
		else
			first_id = id;
		last_id = id;
		flight_[id] = {true, w.indirect ? static_cast<u8>(BLKIF_OP_INDIRECT) : w.operation,
			       w.operation};
		s.sectors = w.nr_sectors;
		s.start_ns = now;
		s.grefs = s.grefs_inline;
		if (w.nr_pieces > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			s.grefs = static_cast<u32*>(xb_rt_alloc_nowait(sizeof(u32) * w.nr_pieces));
			if (!s.grefs)
				goto rollback;
		}
		if (persistent_) {
			if (!grant_pieces_persistent(s, w, to_backend))
				goto rollback;
		} else {
			for (u32 i = 0; i < w.nr_pieces; i++) {
				const int ref = xb_fe_glue_grant(dev_->gd(), pieces_[w.first_piece + i].frame,
								 to_backend ? 1 : 0);
				if (ref < 0)
					goto rollback;
				s.grefs[s.nr_grants++] = static_cast<u32>(ref);
			}
		}
		for (u32 k = 0; k < w.nr_indirect_pages; k++) {
			unsigned long long pfn = 0;
			PoolPage* ipg = nullptr;
			void* page;
			if (persistent_) {
				ipg = pool_get();
				page = ipg ? ipg->page : nullptr;
			} else {
				page = xb_fe_glue_page_alloc_nowait(&pfn);
			}
			if (!page)
				goto rollback;
			auto* seg = static_cast<struct blkif_request_segment*>(page);
			const u32 first = k * BLKIF_SEGS_PER_INDIRECT_FRAME;
			const u32 n = kstd::min<u32>(w.nr_pieces - first, BLKIF_SEGS_PER_INDIRECT_FRAME);
			kstd::memset(page, 0, BLKIF_PAGE_SIZE);
			for (u32 i = 0; i < n; i++) {
				seg[i].gref = s.grefs[first + i];
				seg[i].first_sect = pieces_[w.first_piece + first + i].first_sect;
				seg[i].last_sect = pieces_[w.first_piece + first + i].last_sect;
			}
			if (ipg) {
				s.indirect_pg[s.nr_indirect] = ipg;
				s.indirect_page[s.nr_indirect] = page;
				s.indirect_gref[s.nr_indirect++] = ipg->gref;
				continue;
			}
			const int ref = xb_fe_glue_grant(dev_->gd(), pfn, 1);
			if (ref < 0) {
				xb_fe_glue_page_free(page);
				goto rollback;
			}
			s.indirect_page[s.nr_indirect] = page;
			s.indirect_gref[s.nr_indirect++] = static_cast<u32>(ref);
		}
	}

	// everything granted: fill the ring slots
	for (size_t r = 0, id = first_id; r < plan.nr_reqs; r++) {
		const WireRequest& w = wreqs_[r];
		Shadow& s = shadow_[id];
		Request q = {};

		q.op = flight_[id].op;
		q.handle = dev_->handle();
		q.id = id;
		q.sector = w.sector;
		if (w.operation == BLKIF_OP_DISCARD) {
			q.nr_sectors = w.nr_sectors;
			q.discard_flag = w.discard_flag;
		} else if (w.indirect) {
			q.indirect_op = w.operation;
			q.nr_segments = static_cast<u16>(w.nr_pieces);
			for (u32 k = 0; k < s.nr_indirect; k++)
				q.indirect_grefs[k] = s.indirect_gref[k];
		} else {
			q.nr_segments = static_cast<u16>(w.nr_pieces);
			for (u32 i = 0; i < w.nr_pieces; i++)
				q.seg[i] = {s.grefs[i], pieces_[w.first_piece + i].first_sect,
					    pieces_[w.first_piece + i].last_sect};
		}
		void* slot = ring_.next_request_slot();
		if (!slot || !encode_request(abi_, q, slot)) {
			// cannot happen: room was checked and the plan is representable
			xb_rt_fatal("xenblk-front: ring slot vanished");
			break;
		}
		const u32 next = s.next_free;
		s.next_free = no_shadow;
		id = next;
	}
	p->pending = static_cast<u32>(plan.nr_reqs);
	stats_.in_flight += plan.nr_reqs;
	push_pending_ = true;
	return Submit::queued;

rollback:
	for (u32 id = first_id; id != no_shadow;) {
		Shadow& s = shadow_[id];
		const u32 next = s.next_free;
		if (s.uses) {
			give_back_pool_pages(s);   // never sent: untouched, still granted
		} else {
			end_grants(s);
		}
		release_shadow(id);
		id = next;
	}
	return Submit::resource;
}

void Ring::push_locked()
{
	if (!push_pending_ || !nr_pages_)
		return;
	push_pending_ = false;
	if (ring_.push_requests_and_check_notify())
		xb_fe_glue_notify(irq_);
}

void Ring::push_and_notify()
{
	Guard g(lock_.get());
	push_locked();
}

void Ring::commit()
{
	push_and_notify();
}

bool Ring::bad_response(const char* fmt, unsigned long long a, unsigned b, unsigned c,
			const char* why)
{
	stats_.bad_requests++;
	if (!dev_->logged_broken_) {
		dev_->logged_broken_ = true;
		xb_rt_log(XB_LOG_ERR, fmt, dev_->name(), index_, a, b, c, why);
		dev_->nl_event(XENBLK_EV_BAD_REQUEST, why, true);
	}
	dev_->set_broken();
	return false;
}

void Ring::complete_shadow(u32 id, s16 status, Pdu** done)
{
	Shadow& s = shadow_[id];
	Pdu* p = s.pdu;
	const u8 op = flight_[id].inner_op;

	if (s.uses)
		release_pool_pages(s, op == BLKIF_OP_READ && status == BLKIF_RSP_OKAY);
	else if (!end_grants(s))
		p->held = true;
	stats_.complete(stat_op(op), s.sectors, status, xb_fe_glue_now_ns() - s.start_ns);
	if (stats_.in_flight)
		stats_.in_flight--;
	switch (response_action(flight_[id], status)) {
	case ResponseAction::ok:
		break;
	case ResponseAction::flush_refused:
		p->reissue = true;
		p->failed_op = op;
		break;
	case ResponseAction::discard_refused:
		p->err = to_int(Errno::opnotsupp);
		dev_->discard_refused();
		break;
	case ResponseAction::io_error:
		p->err = to_int(Errno::io);
		break;
	}
	release_shadow(id);
	if (p->pending && --p->pending == 0) {
		p->next = *done;
		*done = p;
	}
}

void Ring::fail_all_locked(Pdu** done)
{
	for (u32 id = 0; id < ring_.size(); id++) {
		if (!shadow_[id].pdu)
			continue;
		Pdu* p = shadow_[id].pdu;
		p->err = to_int(Errno::io);
		p->reissue = false;
		complete_shadow(id, BLKIF_RSP_ERROR, done);
	}
	push_pending_ = false;
}

void Ring::interrupt()
{
	Pdu* done = nullptr;
	bool freed = false;
	{
		Guard g(lock_.get());
		if (!nr_pages_ || !shadow_)
			return;
		while (!dev_->broken()) {
			const kstd::Result<u32> n = ring_.unconsumed_responses();
			if (!n) {
				bad_response("%s: ring %u: the backend published an impossible response index (%llu %u %u): %s",
					     ring_.rsp_cons(), ring_.req_prod_pvt(), 0, "rsp_prod");
				break;
			}
			while (const void* slot = ring_.next_response_slot()) {
				Response r;
				decode_response(abi_, slot, &r);
				const BadResponse bad = check_response(r, span<const InFlight>(flight_.get(), ring_.size()));
				if (bad != BadResponse::none) {
					bad_response("%s: ring %u: bad response (id %llu, op %u, status %u): %s",
						     r.id, r.op, static_cast<u16>(r.status), bad_response_name(bad));
					break;
				}
				complete_shadow(static_cast<u32>(r.id), r.status, &done);
				freed = true;
			}
			if (dev_->broken())
				break;
			const kstd::Result<bool> more = ring_.final_check_for_responses();
			if (!more) {
				bad_response("%s: ring %u: the backend published an impossible response index (%llu %u %u): %s",
					     ring_.rsp_cons(), ring_.req_prod_pvt(), 1, "rsp_prod");
				break;
			}
			if (!*more)
				break;
		}
		if (dev_->broken())
			fail_all_locked(&done);
	}
	Pdu* reissue = nullptr;
	while (done) {
		Pdu* p = done;
		done = p->next;
		if (p->held)
			continue;
		if (p->reissue && !p->err) {
			p->next = reissue;
			reissue = p;
		} else {
			xb_fe_glue_rq_end(p->rq, p->err);
		}
	}
	if (reissue)
		dev_->queue_reissue(reissue);
	if (freed)
		xb_fe_glue_kick(dev_->gd());
}

void Ring::stats_into(DeviceStats* out)
{
	Guard g(lock_.get());
	out->add(stats_);
}

void Ring::count_fallback()
{
	Guard g(lock_.get());
	stats_.fallbacks++;
}

// ---- Device --------------------------------------------------------------------------

void Device::log_once(bool* flag, const char* what)
{
	if (kstd::read_once(*flag))
		return;
	kstd::write_once(*flag, true);
	xb_rt_log(XB_LOG_ERR, "%s: %s", name_, what);
}

void Device::set_broken()
{
	if (kstd::read_once(broken_))
		return;
	kstd::write_once(broken_, true);
	nl_event(XENBLK_EV_RING_ERROR, "device broken: every request fails", true);
	xb_fe_glue_schedule_work(gd_);   // fails what the other rings hold
}

SplitLimits Device::limits() const
{
	SplitLimits lim = split_limits(cfg_, 0);
	lim.flush = static_cast<FlushMode>(kstd::read_once(flush_mode_));
	lim.write_cache = kstd::read_once(write_cache_);
	lim.discard = kstd::read_once(discard_on_) && cfg_.discard;
	return lim;
}

int Device::probe()
{
	XsSource self(gd_, false);
	char buf[32];
	int err;

	if (!reissue_lock_.init())
		return to_int(Errno::nomem);
	err = read_u32(self, "virtual-device", 0, &vdevice_);
	if (err || !self.read("virtual-device", buf, sizeof(buf))) {
		xb_rt_log(XB_LOG_ERR, "%s: no usable virtual-device key", xb_fe_glue_nodename(gd_));
		return to_int(Errno::nodev);
	}
	DiskName dn;
	if (!xvd_disk_name(vdevice_, &dn)) {
		xb_rt_log(XB_LOG_ERR, "%s: virtual-device %u is not an xvd whole disk (202:16*N); not supported",
			  xb_fe_glue_nodename(gd_), vdevice_);
		return to_int(Errno::nodev);
	}
	first_minor_ = dn.first_minor;
	minors_ = dn.minors;
	kstd::memcpy(name_, dn.name, sizeof(name_));

	xb_fe_params prm;
	xb_fe_glue_params(&prm);
	lim_.max_queues = prm.max_queues ? prm.max_queues : 1;
	lim_.nr_cpus = xb_fe_glue_nr_cpus();
	lim_.max_ring_order = kstd::min(prm.max_ring_page_order, blkif_max_ring_order);
	lim_.max_indirect_segments = kstd::min(prm.max_indirect_segments, max_block_segments);
	lim_.persistent = prm.persistent != 0;
	// a device we were unbound from was left Closed: start over, the
	// backend prepares for a reconnect when it sees Initialising
	if (xb_fe_glue_state(gd_) != XB_FE_INITIALISING)
		xb_fe_glue_switch_state(gd_, XB_FE_INITIALISING);
	use_flush_cache_ = prm.use_flush_cache != 0;
	use_barrier_ = prm.use_barrier != 0;
	return 0;
}

int Device::talk_to_backend()
{
	XsSource backend(gd_, true);
	XsSink sink(gd_);
	FrontQueue fq[16];
	int err;

	// resuming with a disk: blk-mq's hardware queues point at our Ring
	// objects, so the same rings are set up again, as many as before
	const bool keep = resuming_ && disk_ && rings_ && nr_rings_;
	FrontendLimits lim = lim_;
	if (keep)
		lim.max_queues = nr_rings_;
	else
		free_rings();
	cfg_ = NegotiatedConfig();
	err = frontend_negotiate_transport(backend, lim, &cfg_);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "reading the backend's transport keys");
		return err;
	}
	if (cfg_.nr_queues > kstd::array_size(fq))
		cfg_.nr_queues = kstd::array_size(fq);
	if (keep && cfg_.nr_queues != nr_rings_) {
		xb_rt_log(XB_LOG_ERR, "%s: after the restore the backend offers %u queue(s), the disk has %u: cannot resume",
			  name_, cfg_.nr_queues, nr_rings_);
		xb_fe_glue_fatal(gd_, to_int(Errno::inval), "resuming with fewer queues");
		return to_int(Errno::inval);
	}
	if (!keep) {
		rings_.reset(new (std::nothrow) unique_ptr<Ring>[cfg_.nr_queues]);
		if (!rings_)
			return to_int(Errno::nomem);
		nr_rings_ = cfg_.nr_queues;
	}
	// planning scratch: the most segments a block request may have
	const u32 max_pieces = lim_.max_indirect_segments > blkif_max_direct_segs
		? lim_.max_indirect_segments : blkif_max_direct_segs;
	for (u32 q = 0; q < nr_rings_; q++) {
		if (!keep)
			rings_[q].reset(new (std::nothrow) Ring(this, q));
		if (!rings_[q]) {
			err = to_int(Errno::nomem);
			break;
		}
		err = rings_[q]->setup(cfg_.ring_order, cfg_.abi, max_pieces);
		if (err)
			break;
		fq[q] = rings_[q]->front_queue();
	}
	if (!err)
		err = frontend_publish(cfg_, span<const FrontQueue>(fq, nr_rings_), sink);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "setting up the rings");
		if (keep)
			for (u32 q = 0; q < nr_rings_; q++)
				rings_[q]->teardown();
		else
			free_rings();
		return err;
	}
	set_rings_up(true);
	xb_rt_log(XB_LOG_INFO, "%s: %u ring(s) of %u page(s), protocol %s", name_, nr_rings_,
		  1u << cfg_.ring_order, protocol_name(cfg_.abi));
	return xb_fe_glue_switch_state(gd_, XB_FE_INITIALISED);
}

int Device::connect()
{
	XsSource raw(gd_, true);
	const MaskedSource backend(raw, use_flush_cache_, use_barrier_);
	xb_fe_disk_params p = {};
	int err;

	if (disk_ && resuming_)
		return resume_connect(backend);
	if (disk_) {
		// the backend re-announces Connected after a resize
		u64 sectors;
		if (read_u64(backend, key::sectors, 0, &sectors) != 0)
			return 0;
		if (!valid_disk_sectors(sectors)) {
			xb_rt_log(XB_LOG_WARNING, "%s: backend announced %llu sectors: too large, size kept",
				  name_, static_cast<unsigned long long>(sectors));
		} else if (sectors != cfg_.sectors) {
			xb_rt_log(XB_LOG_NOTICE, "%s: new size %llu sectors", name_,
				  static_cast<unsigned long long>(sectors));
			cfg_.sectors = sectors;
			xb_fe_glue_disk_set_capacity(gd_, sectors);
		}
		return 0;
	}
	err = frontend_negotiate_device(backend, lim_, &cfg_);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "reading the backend's device keys");
		return err;
	}
	kstd::write_once(flush_mode_, static_cast<u8>(cfg_.flush));
	kstd::write_once(write_cache_, cfg_.write_cache);
	kstd::write_once(discard_on_, cfg_.discard);
	kstd::write_once(broken_, false);
	kstd::write_once(closing_, false);

	const u32 segs = cfg_.max_indirect_segments > blkif_max_direct_segs
		? kstd::min(cfg_.max_indirect_segments, max_block_segments) : blkif_max_direct_segs;
	for (u32 q = 0; q < nr_rings_; q++)
		rings_[q]->start(cfg_.persistent, segs);
	p.sectors = cfg_.sectors;
	p.name = name_;
	p.first_minor = first_minor_;
	p.minors = minors_;
	p.nr_queues = nr_rings_;
	p.queue_depth = ring_entries(1u << cfg_.ring_order, entry_size(cfg_.abi));
	p.logical_block_size = cfg_.sector_size;
	p.physical_block_size = cfg_.physical_sector_size;
	p.max_segments = segs;
	p.max_hw_sectors = segs * BLKIF_SECTORS_PER_PAGE;
	if (cfg_.discard) {
		p.max_discard_sectors = ~u32{0} >> 9;
		p.discard_granularity = cfg_.discard_granularity;
		p.discard_alignment = cfg_.discard_alignment;
		p.secure_erase = cfg_.discard_secure;
	}
	p.write_cache = cfg_.write_cache;
	p.fua = cfg_.fua;
	p.read_only = cfg_.read_only;
	p.removable = (cfg_.info & VDISK_REMOVABLE) != 0;
	p.cdrom = (cfg_.info & VDISK_CDROM) != 0;
	err = xb_fe_glue_disk_create(gd_, &p);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "creating the disk");
		return err;
	}
	disk_ = true;
	if (cfg_.persistent)
		xb_fe_glue_schedule_purge(gd_, purge_interval_ms);
	xb_rt_log(XB_LOG_INFO,
		  "%s: %llu sectors of %u bytes, flush mode %s (write cache %s, fua %s), %s segments %u, discard %s, persistent grants %s",
		  name_, static_cast<unsigned long long>(cfg_.sectors), cfg_.sector_size, flush_mode_name(cfg_.flush),
		  cfg_.write_cache ? "on" : "off", cfg_.fua ? "on" : "off",
		  segs > blkif_max_direct_segs ? "indirect" : "direct", segs,
		  cfg_.discard ? (cfg_.discard_secure ? "on (secure)" : "on") : "off",
		  cfg_.persistent ? "on" : "off");
	err = xb_fe_glue_switch_state(gd_, XB_FE_CONNECTED);
	nl_event(XENBLK_EV_CONNECTED, flush_mode_name(cfg_.flush), false);
	return err;
}

// The domain was restored (or migrated): the backend is a new one and the old
// rings, grants and event channels are gone.  Requests in flight are kept and
// requeued once the new rings are connected (resume_connect), flushes and FUA
// writes included, planned again under the flush mode the new backend offers.
int Device::resume()
{
	xb_rt_log(XB_LOG_INFO, "%s: resuming: reconnecting to the backend", name_);
	xb_fe_glue_cancel_purge(gd_);   // the pools go with the old grants
	kstd::write_once(resuming_, true);
	if (disk_)
		xb_fe_glue_disk_quiesce(gd_);   // no queue_rq until the new rings run
	xb_fe_glue_flush_work(gd_);         // pending re-issues move to saved_
	Pdu* saved = nullptr;
	for (u32 q = 0; q < nr_rings_; q++)
		if (rings_[q])
			rings_[q]->suspend(&saved);
	{
		Guard g(reissue_lock_.get());
		push_all(&saved_, saved);
	}
	set_rings_up(false);
	resume_sectors_ = cfg_.sectors;
	if (!disk_) {   // never connected: start over as after a probe
		kstd::write_once(resuming_, false);
		free_rings();
	}
	// the backend answers our Initialising with InitWait: talk_to_backend()
	return xb_fe_glue_switch_state(gd_, XB_FE_INITIALISING);
}

int Device::resume_connect(const KeySource& backend)
{
	int err = frontend_negotiate_device(backend, lim_, &cfg_);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "reading the backend's device keys after a restore");
		set_broken();
		kstd::write_once(resuming_, false);
		fail_saved();
		xb_fe_glue_disk_unquiesce(gd_);
		return err;
	}
	if (cfg_.sectors != resume_sectors_) {
		xb_rt_log(XB_LOG_NOTICE, "%s: new size %llu sectors", name_,
			  static_cast<unsigned long long>(cfg_.sectors));
		xb_fe_glue_disk_set_capacity(gd_, cfg_.sectors);
	}
	// the new backend may offer another flush mode: queue flags first
	xb_fe_glue_disk_set_cache(gd_, cfg_.write_cache, cfg_.fua);
	kstd::write_once(flush_mode_, static_cast<u8>(cfg_.flush));
	kstd::write_once(write_cache_, cfg_.write_cache);
	if (kstd::read_once(discard_on_) && !cfg_.discard) {
		kstd::write_once(discard_on_, false);
		xb_fe_glue_disk_disable_discard(gd_);
	}
	kstd::write_once(broken_, false);
	kstd::write_once(closing_, false);
	// persistent grants as the new backend offers them (the pools are empty)
	const u32 segs = cfg_.max_indirect_segments > blkif_max_direct_segs
		? kstd::min(cfg_.max_indirect_segments, max_block_segments) : blkif_max_direct_segs;
	for (u32 q = 0; q < nr_rings_; q++)
		rings_[q]->start(cfg_.persistent, segs);
	if (cfg_.persistent)
		xb_fe_glue_schedule_purge(gd_, purge_interval_ms);
	set_rings_up(true);
	err = xb_fe_glue_switch_state(gd_, XB_FE_CONNECTED);

	Pdu* list;
	{
		Guard g(reissue_lock_.get());
		list = saved_;
		saved_ = nullptr;
		kstd::write_once(resuming_, false);
	}
	u32 n = 0;
	while (list) {
		Pdu* p = list;
		list = p->next;
		if (p->held)
			continue;   // a page the old backend may still own: never again
		xb_fe_glue_rq_requeue(p->rq);
		n++;
	}
	xb_fe_glue_disk_unquiesce(gd_);
	xb_fe_glue_kick_requeue(gd_);
	xb_rt_log(XB_LOG_INFO, "%s: resumed: %u ring(s) of %u page(s), flush mode %s, %u request(s) re-issued",
		  name_, nr_rings_, 1u << cfg_.ring_order, flush_mode_name(cfg_.flush), n);
	return err;
}

// A re-issue while a resume is under way waits for the new rings.
bool Device::hold_for_resume(Pdu* p)
{
	Guard g(reissue_lock_.get());
	if (!resuming_)
		return false;
	p->next = saved_;
	saved_ = p;
	return true;
}

// Requests held for a resume that cannot happen: I/O error, never success.
void Device::fail_saved()
{
	Pdu* list;
	{
		Guard g(reissue_lock_.get());
		list = saved_;
		saved_ = nullptr;
	}
	while (list) {
		Pdu* p = list;
		list = p->next;
		if (!p->held)
			xb_fe_glue_rq_end(p->rq, to_int(Errno::io));
	}
}

void Device::free_rings()
{
	// In this order: a late or bogus response schedules the work until its
	// ring's event channel is unbound, and the work walks the rings.
	for (u32 i = 0; i < nr_rings_; i++)
		if (rings_ && rings_[i])
			rings_[i]->stop_events();
	xb_fe_glue_stop_work(gd_);      // neither running nor pending after this
	xb_fe_glue_cancel_purge(gd_);   // it walks the rings
	xbnl_lock();   // netlink readers walk the rings
	rings_up_ = false;
	rings_.reset();
	nr_rings_ = 0;
	xbnl_unlock();
}

void Device::close()
{
	kstd::write_once(closing_, true);
	if (kstd::read_once(resuming_)) {   // the backend went away during a resume
		kstd::write_once(resuming_, false);
		fail_saved();
		xb_fe_glue_disk_unquiesce(gd_);
	}
	if (disk_)
		xb_fe_glue_disk_del(gd_);   // in-flight I/O drains through the rings
	free_rings();                      // no interrupt, no work after this
	if (disk_) {
		xb_fe_glue_disk_put(gd_);
		nl_event(XENBLK_EV_DISCONNECTED, nullptr, false);
	}
	disk_ = false;
}

void Device::backend_changed(int state)
{
	const int ours = xb_fe_glue_state(gd_);

	switch (state) {
	case XB_FE_INITWAIT:
		if (ours != XB_FE_INITIALISING)
			break;
		talk_to_backend();
		break;
	case XB_FE_CONNECTED:
		if (ours != XB_FE_INITIALISED && ours != XB_FE_CONNECTED) {
			if (ours != XB_FE_INITIALISING || talk_to_backend())
				break;
		}
		connect();
		break;
	case XB_FE_CLOSED:
		// Closed while we start over (rebind): it will answer Initialising
		if (ours == XB_FE_CLOSED || (ours == XB_FE_INITIALISING && !rings_up_ && !disk_))
			break;
		[[fallthrough]];
	case XB_FE_CLOSING:
		close();
		xb_fe_glue_frontend_closed(gd_);
		break;
	default:
		break;
	}
}

void Device::remove()
{
	close();
}

void Device::queue_reissue(Pdu* list)
{
	{
		Guard g(reissue_lock_.get());
		push_all(&reissue_head_, list);
	}
	xb_fe_glue_schedule_work(gd_);
}

void Device::reissue(Pdu* p)
{
	if (hold_for_resume(p))   // planned again under the restored backend's mode
		return;
	const FlushDowngrade d = apply_flush_downgrade(&cfg_, p->failed_op);

	if (d.changed()) {
		fallbacks_++;
		p->ring->count_fallback();
		xb_rt_log(XB_LOG_WARNING, "%s: the backend refused %s: flush mode %s -> %s",
			  name_, op_name(p->failed_op), flush_mode_name(d.from), flush_mode_name(d.to));
		nl_event(XENBLK_EV_FEATURE_DOWNGRADED, flush_mode_name(d.to), false);
		// queue flags first, then the mode the planner sees
		xb_fe_glue_disk_set_cache(gd_, cfg_.write_cache, cfg_.fua);
		kstd::write_once(flush_mode_, static_cast<u8>(cfg_.flush));
		kstd::write_once(write_cache_, cfg_.write_cache);
		if (d.to == FlushMode::none)
			xb_rt_log(XB_LOG_WARNING, "%s: no flush mode left: writes are no longer guaranteed durable",
				  name_);
	}
	p->reissue = false;
	p->failed_op = no_op;
	p->err = 0;
	if (cfg_.flush == FlushMode::none) {
		log_once(&logged_nomode_, "failing flush/FUA requests: the backend supports no flush mode");
		xb_fe_glue_rq_end(p->rq, to_int(Errno::io));
		return;
	}
	for (;;) {
		int err = 0;
		if (hold_for_resume(p))
			return;
		if (closing() || broken()) {
			xb_fe_glue_rq_end(p->rq, to_int(Errno::io));
			return;
		}
		const Submit s = p->ring->submit(p, &err);
		if (s == Submit::queued) {
			p->ring->push_and_notify();
			return;
		}
		if (s == Submit::done) {
			xb_fe_glue_rq_end(p->rq, err);
			return;
		}
		xb_fe_glue_msleep(1);   // ring full or grants short: wait for completions
	}
}

void Ring::fail_all()
{
	Pdu* done = nullptr;
	{
		Guard g(lock_.get());
		if (shadow_)
			fail_all_locked(&done);
	}
	while (done) {
		Pdu* p = done;
		done = p->next;
		if (!p->held)
			xb_fe_glue_rq_end(p->rq, p->err);
	}
}

void Device::work()
{
	if (broken())
		for (u32 i = 0; i < nr_rings_; i++)
			if (rings_[i])
				rings_[i]->fail_all();
	if (kstd::read_once(discard_refused_)) {
		kstd::write_once(discard_refused_, false);
		if (kstd::read_once(discard_on_)) {
			kstd::write_once(discard_on_, false);
			xb_fe_glue_disk_disable_discard(gd_);
			xb_rt_log(XB_LOG_WARNING, "%s: the backend refused a discard: discard turned off", name_);
		}
	}
	for (;;) {
		Pdu* list;
		{
			Guard g(reissue_lock_.get());
			list = reissue_head_;
			reissue_head_ = nullptr;
		}
		if (!list)
			break;
		while (list) {
			Pdu* p = list;
			list = p->next;
			reissue(p);
		}
	}
}

// The purge timer: pool pages the backend stopped mapping are freed.
void Device::purge()
{
	if (!cfg_.persistent || !disk_)
		return;
	for (u32 i = 0; i < nr_rings_; i++)
		if (rings_[i])
			rings_[i]->purge();
	xb_fe_glue_schedule_purge(gd_, purge_interval_ms);
}

int Device::show_stats(char* buf, unsigned len)
{
	DeviceStats st = {};
	PoolStats ps = {};
	u32 pool_pages = 0, pool_free = 0;
	const char* const names[stat_ops] = {"read", "write", "flush", "barrier", "discard"};
	int n = 0;

	for (u32 i = 0; i < nr_rings_; i++) {
		if (rings_[i]) {
			rings_[i]->stats_into(&st);
			rings_[i]->pool_into(&ps, &pool_pages, &pool_free);
		}
	}
	auto put = [&](const char* fmt, auto... args) {
		if (n >= 0 && static_cast<unsigned>(n) < len) {
			const int k = __builtin_snprintf(buf + n, len - n, fmt, args...);
			n += k > 0 ? k : 0;
		}
	};
	put("flush_mode %s\nrings %u\nring_pages %u\n", flush_mode_name(static_cast<FlushMode>(flush_mode_)),
	    nr_rings_, 1u << cfg_.ring_order);
	for (unsigned o = 0; o < stat_ops; o++)
		put("%s requests %llu sectors %llu errors %llu unsupported %llu\n", names[o],
		    st.op[o].requests, st.op[o].sectors, st.op[o].errors, st.op[o].unsupported);
	put("in_flight %llu\nbad_responses %llu\nfallbacks %llu\nbroken %u\n", st.in_flight,
	    st.bad_requests, st.fallbacks, broken() ? 1u : 0u);
	put("persistent %u\npool_pages %u\npool_free %u\npool_hits %llu\npool_created %llu\n"
	    "pool_kept %llu\npool_dropped %llu\npool_purged %llu\n",
	    cfg_.persistent ? 1u : 0u, pool_pages, pool_free, ps.hits, ps.created, ps.kept,
	    ps.dropped, ps.purged);
	return kstd::min<int>(n, static_cast<int>(len) - 1);
}

// ---- generic netlink --------------------------------------------------------------

void Device::sum_stats(DeviceStats* st)
{
	if (!rings_up_)
		return;
	for (u32 i = 0; i < nr_rings_; i++)
		if (rings_[i])
			rings_[i]->stats_into(st);
}

void Device::nl_snapshot(nl::Snapshot* out)
{
	XsSource backend(gd_, true);
	char buf[16];

	kstd::memcpy(out->name, name_, sizeof(name_));
	out->domid = xb_fe_glue_backend_id(gd_);
	out->devid = vdevice_;
	out->state = static_cast<u32>(xb_fe_glue_state(gd_));
	u32 other = 0;
	if (backend.read("state", buf, sizeof(buf)) && parse_u32(buf, &other))
		out->other_state = other;
	out->connected = disk_ && rings_up_ && out->state == XB_FE_CONNECTED;
	if (out->connected) {
		nl::Features& f = out->features;
		const FlushMode mode = static_cast<FlushMode>(kstd::read_once(flush_mode_));
		f.flush_mode = nl::flush_mode_attr(mode);
		f.flush = mode == FlushMode::flush;
		f.barrier = mode == FlushMode::barrier;
		f.discard = kstd::read_once(discard_on_) && cfg_.discard;
		f.persistent = cfg_.persistent;
		f.indirect_segs = cfg_.max_indirect_segments;
		f.queues = nr_rings_;
		f.ring_order = cfg_.ring_order;
		f.abi = cfg_.abi;
		out->sectors = cfg_.sectors;
		out->has_mode = true;
		out->read_only = cfg_.read_only;
	}
	sum_stats(&out->stats);
	nl::stats_since(&out->stats, nl_base_);
}

void Device::nl_reset_stats()
{
	nl_base_ = {};
	sum_stats(&nl_base_);
}

} // namespace

namespace xb::nlk {
bool dev_name(void* dev, char* buf, size_t len)
{
	const char* n = static_cast<Device*>(dev)->name();
	if (!*n || kstd::strlen(n) >= len)
		return false;
	kstd::memcpy(buf, n, kstd::strlen(n) + 1);
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
int dev_configure(void*, const nl::SetRequest&, nl::SetError* err)
{
	err->why = "the frontend has no settings";
	return to_int(Errno::opnotsupp);
}
} // namespace xb::nlk

// ---- entry points from the glue ------------------------------------------------------

extern "C" int xb_front_module_init(void)
{
	const int rc = xb_load_check(xb_front_glue_on_xen(), "not running on Xen with PV disk devices");
	if (rc)
		return rc;
	return xb_front_glue_register();
}

extern "C" void xb_front_module_exit(void)
{
	xb_front_glue_unregister();
}

extern "C" void* xb_fe_probe(struct xb_fe_dev* gd)
{
	Device* d = new (std::nothrow) Device(gd);
	if (!d)
		return nullptr;
	if (d->probe() || xbnl_dev_add(d)) {
		delete d;
		return nullptr;
	}
	return d;
}

extern "C" void xb_fe_remove(void* dev)
{
	Device* d = static_cast<Device*>(dev);
	xbnl_dev_del(d);   // waits for netlink readers
	d->remove();
	delete d;
}

extern "C" int xb_fe_resume(void* dev)
{
	return static_cast<Device*>(dev)->resume();
}

extern "C" void xb_fe_backend_changed(void* dev, int state)
{
	static_cast<Device*>(dev)->backend_changed(state);
}

extern "C" void xb_fe_work(void* dev)
{
	static_cast<Device*>(dev)->work();
}

extern "C" void xb_fe_purge(void* dev)
{
	static_cast<Device*>(dev)->purge();
}

extern "C" void* xb_fe_ring_ctx(void* dev, unsigned int queue)
{
	return static_cast<Device*>(dev)->ring(queue);
}

extern "C" unsigned int xb_fe_pdu_size(void)
{
	return sizeof(Pdu);
}

extern "C" void xb_fe_pdu_init(void* pdu)
{
	*static_cast<Pdu*>(pdu) = {};
}

extern "C" int xb_fe_queue_rq(void* ring, struct xb_fe_hctx* hctx, struct xb_fe_rq* rq, void* pdu,
			      int last)
{
	Ring* r = static_cast<Ring*>(ring);
	Pdu* p = static_cast<Pdu*>(pdu);
	int err = 0;

	*p = {};
	p->rq = rq;
	p->ring = r;
	p->failed_op = no_op;
	xb_fe_glue_rq_start(rq);
	const Submit s = r->submit(p, &err, hctx);
	// publish at the end of a batch, and whenever this request did not go on
	// the ring: what the batch queued so far must never wait for a next call
	if (last || s != Submit::queued)
		r->push_and_notify();
	if (s == Submit::queued)
		return XB_FE_QUEUED;
	if (s == Submit::done) {
		xb_fe_glue_rq_end(rq, err);
		return XB_FE_QUEUED;
	}
	return s == Submit::busy ? XB_FE_BUSY : XB_FE_RESOURCE;
}

extern "C" void xb_fe_commit_rqs(void* ring)
{
	static_cast<Ring*>(ring)->commit();
}

extern "C" void xb_fe_interrupt(void* ring)
{
	static_cast<Ring*>(ring)->interrupt();
}

extern "C" int xb_fe_show_stats(void* dev, char* buf, unsigned int len)
{
	return static_cast<Device*>(dev)->show_stats(buf, len);
}
