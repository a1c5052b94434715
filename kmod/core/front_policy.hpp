// SPDX-License-Identifier: GPL-2.0
// front_policy.hpp - the frontend's decisions about backends that stop
// answering or are not trusted: what a blk-mq timeout does, what happens to a
// request that must be given back while the backend may still map its pages,
// and whether a device's data is bounced through the ring's pool of granted
// pages.  Pure functions: the driver gathers the facts, these decide
// (unit-tested in tests/unit/test_front_policy.cpp; see
// Documentation/frontend.md, "A backend that stops answering" and "Untrusted
// backends").
#pragma once
#include "kstd.hpp"

namespace xb {

// How long the disk's removal lets the backend answer what it is still working
// on (requests whose pages it maps) before they fail anyway.
inline constexpr unsigned close_grace_ms = 10000;
// How often the removal looks again meanwhile.
inline constexpr unsigned close_poll_ms = 50;

// ---- blk-mq timeouts -------------------------------------------------------------

// What the timeout handler sees of the ring a timed-out request was sent on.
struct RingHealth {
	bool resuming;          // save/restore under way: the request is re-issued later
	bool broken;            // the device is broken (a bad response, or failed before)
	bool closing;           // the disk is being removed
	bool ring_dead;         // this ring was abandoned (removal or an earlier timeout)
	bool ring_up;           // the ring is set up (pages, event channel)
	int backend_state;      // the backend's xenbus state (4: Connected)
};

enum class TimeoutAction : kstd::u8 {
	reset_timer,            // healthy: slow is not dead, wait again
	fail,                   // fail the request with -EIO (and give up on the ring)
};

// A request on a healthy ring of a connected backend is never failed by a
// timeout (a slow backend, e.g. under emulation, can take many seconds).
TimeoutAction timeout_action(const RingHealth& h);

// ---- giving a request back while the backend may still map its pages ---------------

enum class ReleaseAction : kstd::u8 {
	fail_now,               // no page of the guest can be reached by the backend: fail it
	wait,                   // the backend maps one of the request's own pages: not yet
	defer_and_fail,         // give up waiting: the grant table ends the remaining grants
				// when the backend unmaps (and keeps the pages until then); fail it
};

// pooled: the request's data went through pool pages (persistent grants or
// bounce), which are the driver's and never return to their owner while
// granted; grants_ended: every grant of the request's own pages is ended;
// give_up: the wait is over (grace period passed, or a timeout).
ReleaseAction release_action(bool pooled, bool grants_ended, bool give_up);

// ---- untrusted backends: bounce mode ----------------------------------------------

// Whether the backend of a device is trusted with the guest's pages: the
// module parameter (trusted, default 1) and the device's own "trusted" key
// written by the toolstack (absent: trusted).  Either one saying no is no; a
// key that is not a number is taken as no.
bool backend_trusted(bool param_trusted, const char* key_value /* nullptr: absent */);

enum class GrantMode : kstd::u8 {
	direct,                 // each request grants its own pages for its duration
	persistent,             // pool pages the backend keeps mapped (feature-persistent)
	bounce,                 // pool pages without persistent grants: the data is
				// copied, the backend never sees a page of the guest
};

GrantMode grant_mode(bool trusted, bool persistent);

inline constexpr bool pooled(GrantMode m) { return m != GrantMode::direct; }

// After a response, a pool page either is kept by the pool (still granted)
// or, when the backend does not keep it, has its grant ended and is freed.
// In bounce mode the pool keeps every page granted: ending and granting a page
// per request would cost what the copy saves, and the page holds only data the
// backend already saw.  Persistent: the page is kept only if the backend still
// maps it (the driver learns that by trying to end the grant).
inline constexpr bool probe_after_response(GrantMode m) { return m == GrantMode::persistent; }

const char* grant_mode_name(GrantMode m);

} // namespace xb
