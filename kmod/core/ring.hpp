// SPDX-License-Identifier: GPL-2.0
// ring.hpp - front and back views of a Xen shared I/O ring (io/ring.h semantics).
//
// The shared area is nr_pages pages: struct blkif_sring_header (64 bytes), then
// a power-of-two number of fixed-size entries.  Indices are free-running 32-bit
// counters; entry i lives at slot (i & (size - 1)).  Slots are handed out as raw
// memory: the wire codec copies requests and responses in and out of them.
//
// The other end is not trusted.  Every producer index is read once per check
// (a snapshot), checked against what the other end may legally have produced,
// and only then are entries up to that snapshot handed out.  A bogus index
// stops the view for good (FrontRing::broken(), BackRing::stopped()).
//
// Memory ordering follows io/ring.h: rmb after reading a producer index and
// before reading entries, wmb before publishing a producer index, full mb
// between publishing an index (or an event threshold) and reading the other
// side's event threshold (or producer index).  Barriers are a policy so that
// tests can count or hook them.
#pragma once
#include "kstd.hpp"
#include "xenblk/blkif.h"

namespace xb {

using RingIdx = kstd::u32;

// SMP barriers for rings shared with another domain.  On x86 rmb and wmb
// compile to compiler barriers and mb to a full fence, like virt_*mb().
struct SmpBarriers {
	static void mb() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
	static void rmb() { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
	static void wmb() { __atomic_thread_fence(__ATOMIC_RELEASE); }
};

// Entries of a ring of nr_pages (1, 2, 4, 8 or 16) pages of entry_size-byte
// entries: the largest power of two that fits after the header.  0 if the
// geometry is invalid.
constexpr kstd::u32 ring_entries(kstd::size_t nr_pages, kstd::size_t entry_size)
{
	if (!kstd::is_pow2(nr_pages) || nr_pages > (1u << BLKIF_MAX_RING_PAGE_ORDER) ||
	    entry_size == 0)
		return 0;
	kstd::size_t n = (nr_pages * BLKIF_PAGE_SIZE - BLKIF_SRING_HEADER_SIZE) / entry_size;
	while (n & (n - 1))
		n &= n - 1;   // clear the lowest set bit until one is left
	return static_cast<kstd::u32>(n);
}

namespace detail {

// Geometry shared by both views.
class RingView {
public:
	kstd::u32 size() const { return size_; }
	bool attached() const { return hdr_ != nullptr; }

protected:
	kstd::Errno set_geometry(void* shared, kstd::size_t nr_pages, kstd::size_t entry_size)
	{
		const kstd::u32 n = ring_entries(nr_pages, entry_size);
		if (!shared || !n)
			return kstd::Errno::inval;
		hdr_ = static_cast<struct blkif_sring_header*>(shared);
		entries_ = static_cast<kstd::u8*>(shared) + BLKIF_SRING_HEADER_SIZE;
		entry_size_ = entry_size;
		size_ = n;
		return kstd::Errno::ok;
	}
	void* slot(RingIdx i) const { return entries_ + (i & (size_ - 1)) * entry_size_; }
	// The event-index test of io/ring.h: did the producer pass the threshold
	// 'event' in moving from old to now?
	static bool passed(RingIdx event, RingIdx old, RingIdx now)
	{
		return static_cast<RingIdx>(now - event) < static_cast<RingIdx>(now - old);
	}

	struct blkif_sring_header* hdr_ = nullptr;
	kstd::u8* entries_ = nullptr;
	kstd::size_t entry_size_ = 0;
	kstd::u32 size_ = 0;
};

} // namespace detail

// Frontend view: produces requests, consumes responses.
template <class Barriers = SmpBarriers>
class FrontRing : public detail::RingView {
public:
	// Zero the whole shared area and initialise the header (producers 0,
	// event thresholds 1), then attach at index 0.
	kstd::Errno init(void* shared, kstd::size_t nr_pages, kstd::size_t entry_size)
	{
		const kstd::Errno e = attach(shared, nr_pages, entry_size, 0);
		if (e != kstd::Errno::ok)
			return e;
		kstd::memset(shared, 0, nr_pages * BLKIF_PAGE_SIZE);
		kstd::write_once(hdr_->req_event, RingIdx(1));
		kstd::write_once(hdr_->rsp_event, RingIdx(1));
		return kstd::Errno::ok;
	}
	// Attach to an already initialised ring whose producers are both at
	// 'start' (nothing in flight).  The shared header is not touched.
	kstd::Errno attach(void* shared, kstd::size_t nr_pages, kstd::size_t entry_size,
			   RingIdx start = 0)
	{
		const kstd::Errno e = set_geometry(shared, nr_pages, entry_size);
		if (e != kstd::Errno::ok)
			return e;
		req_prod_pvt_ = req_prod_pub_ = rsp_cons_ = rsp_avail_ = start;
		broken_ = false;
		return kstd::Errno::ok;
	}

	RingIdx req_prod_pvt() const { return req_prod_pvt_; }
	RingIdx rsp_cons() const { return rsp_cons_; }
	// The backend published an impossible rsp_prod; sticky.
	bool broken() const { return broken_; }

	// Slots free for new requests (responses consumed make room).
	kstd::u32 free_requests() const { return size_ - (req_prod_pvt_ - rsp_cons_); }
	void* request_slot(RingIdx idx) const { return slot(idx); }
	// Slot for the next request and advance req_prod_pvt; nullptr if the
	// ring is full or broken.  Fill it before consuming more responses.
	void* next_request_slot()
	{
		if (broken_ || !free_requests())
			return nullptr;
		return slot(req_prod_pvt_++);
	}
	// Publish the private requests; true if the backend asked to be notified.
	bool push_requests_and_check_notify()
	{
		const RingIdx old = req_prod_pub_, now = req_prod_pvt_;
		Barriers::wmb();   // requests visible before the index
		kstd::write_once(hdr_->req_prod, now);
		req_prod_pub_ = now;
		Barriers::mb();    // index visible before reading req_event
		return passed(kstd::read_once(hdr_->req_event), old, now);
	}

	// Snapshot rsp_prod and return the number of responses ready.  Responses
	// may only answer published requests: rsp_prod must lie in
	// [rsp_cons, published req_prod], otherwise the ring is broken.
	kstd::Result<kstd::u32> unconsumed_responses()
	{
		if (broken_)
			return kstd::Errno::proto;
		const RingIdx prod = kstd::read_once(hdr_->rsp_prod);
		Barriers::rmb();   // index read before the entries it covers
		if (static_cast<RingIdx>(prod - rsp_cons_) >
		    static_cast<RingIdx>(req_prod_pub_ - rsp_cons_)) {
			broken_ = true;
			return kstd::Errno::proto;
		}
		rsp_avail_ = prod;
		return static_cast<kstd::u32>(prod - rsp_cons_);
	}
	const void* response_slot(RingIdx idx) const { return slot(idx); }
	// Slot of the next response covered by the last snapshot, and advance
	// rsp_cons; nullptr when the snapshot is used up.  Copy it out at once.
	const void* next_response_slot()
	{
		if (broken_ || rsp_cons_ == rsp_avail_)
			return nullptr;
		return slot(rsp_cons_++);
	}
	kstd::Result<bool> check_for_responses()
	{
		const kstd::Result<kstd::u32> n = unconsumed_responses();
		if (!n)
			return n.error();
		return *n != 0;
	}
	// Before sleeping: ask for an event at the next response, then look
	// again so that a response published meanwhile is not missed.
	kstd::Result<bool> final_check_for_responses()
	{
		const kstd::Result<bool> more = check_for_responses();
		if (!more || *more)
			return more;
		kstd::write_once(hdr_->rsp_event, RingIdx(rsp_cons_ + 1));
		Barriers::mb();    // rsp_event visible before re-reading rsp_prod
		return check_for_responses();
	}

private:
	RingIdx req_prod_pvt_ = 0;   // next request slot to fill
	RingIdx req_prod_pub_ = 0;   // last req_prod we published
	RingIdx rsp_cons_ = 0;       // next response to consume
	RingIdx rsp_avail_ = 0;      // rsp_prod of the last valid snapshot
	bool broken_ = false;
};

// Backend view: consumes requests, produces responses.
template <class Barriers = SmpBarriers>
class BackRing : public detail::RingView {
public:
	// Attach to a ring the frontend initialised, with both producers at
	// 'start' (0 for a fresh ring).  The shared header is not touched.
	kstd::Errno attach(void* shared, kstd::size_t nr_pages, kstd::size_t entry_size,
			   RingIdx start = 0)
	{
		const kstd::Errno e = set_geometry(shared, nr_pages, entry_size);
		if (e != kstd::Errno::ok)
			return e;
		req_cons_ = req_avail_ = rsp_prod_pvt_ = rsp_prod_pub_ = start;
		stopped_ = false;
		return kstd::Errno::ok;
	}

	RingIdx req_cons() const { return req_cons_; }
	RingIdx rsp_prod_pvt() const { return rsp_prod_pvt_; }
	// The frontend published an impossible req_prod; sticky.
	bool stopped() const { return stopped_; }

	// Snapshot req_prod and return the number of requests that may be
	// consumed: min(req_prod - req_cons, size - (req_cons - rsp_prod_pvt)).
	// req_prod must lie in [req_cons, rsp_prod_pvt + size]: running more
	// than one ring ahead of our responses, or moving backwards, stops the
	// ring and nothing more is consumed.
	kstd::Result<kstd::u32> unconsumed_requests()
	{
		if (stopped_)
			return kstd::Errno::proto;
		const RingIdx prod = kstd::read_once(hdr_->req_prod);
		Barriers::rmb();   // index read before the entries it covers
		const RingIdx ahead = prod - rsp_prod_pvt_;
		if (ahead > size_ || static_cast<RingIdx>(prod - req_cons_) > ahead) {
			stopped_ = true;
			return kstd::Errno::proto;
		}
		const kstd::u32 n = kstd::min<kstd::u32>(prod - req_cons_,
							 size_ - (req_cons_ - rsp_prod_pvt_));
		req_avail_ = req_cons_ + n;
		return n;
	}
	const void* request_slot(RingIdx idx) const { return slot(idx); }
	// Slot of the next request covered by the last snapshot, and advance
	// req_cons; nullptr when the snapshot is used up or the ring stopped.
	// Copy it out at once: the frontend may still be writing to it.
	const void* next_request_slot()
	{
		if (stopped_ || req_cons_ == req_avail_)
			return nullptr;
		return slot(req_cons_++);
	}
	void* response_slot(RingIdx idx) const { return slot(idx); }
	// Slot for the next response and advance rsp_prod_pvt; nullptr if every
	// consumed request has been answered.
	void* next_response_slot()
	{
		if (rsp_prod_pvt_ == req_cons_)
			return nullptr;
		return slot(rsp_prod_pvt_++);
	}
	// Publish the private responses; true if the frontend asked to be notified.
	bool push_responses_and_check_notify()
	{
		const RingIdx old = rsp_prod_pub_, now = rsp_prod_pvt_;
		Barriers::wmb();   // responses visible before the index
		kstd::write_once(hdr_->rsp_prod, now);
		rsp_prod_pub_ = now;
		Barriers::mb();    // index visible before reading rsp_event
		return passed(kstd::read_once(hdr_->rsp_event), old, now);
	}
	// Before sleeping: ask for an event at the next request, then look
	// again so that a request published meanwhile is not missed.
	kstd::Result<bool> final_check_for_requests()
	{
		kstd::Result<kstd::u32> n = unconsumed_requests();
		if (!n)
			return n.error();
		if (*n)
			return true;
		kstd::write_once(hdr_->req_event, RingIdx(req_cons_ + 1));
		Barriers::mb();    // req_event visible before re-reading req_prod
		n = unconsumed_requests();
		if (!n)
			return n.error();
		return *n != 0;
	}

private:
	RingIdx req_cons_ = 0;       // next request to consume
	RingIdx req_avail_ = 0;      // req_cons limit of the last valid snapshot
	RingIdx rsp_prod_pvt_ = 0;   // next response slot to fill
	RingIdx rsp_prod_pub_ = 0;   // last rsp_prod we published
	bool stopped_ = false;
};

} // namespace xb
