// SPDX-License-Identifier: GPL-2.0
// hostile_front.hpp - a blkif frontend in a domU's userspace, for the test
// tools that play a hostile one (xb-hostile-front: fixed scenarios;
// xb-fuzz-front: seeded random requests): TAP output, deadlines, xenstore
// over /dev/xen/xenbus, grants with /dev/xen/gntalloc, an event channel with
// /dev/xen/evtchn, and Front: the connect handshake, requests, responses.
// One translation unit per tool includes it.
#pragma once
#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef uint16_t domid_t;   // the uapi header uses it without defining it
#include <xen/evtchn.h>
#include <xen/gntalloc.h>

#include "ring.hpp"
#include "validate.hpp"
#include "wire.hpp"

namespace {

using xb::u8; using xb::u16; using xb::u32; using xb::u64; using xb::s16;

// ---------------------------------------------------------------- options

struct Options {
	unsigned devid = 51712;                 // xvda
	xb::Abi abi = xb::Abi::x86_64;
	double timeout = 5;                     // per scenario
	double connect_timeout = 30;
	bool strict = false;
	std::string hold_key;
	double hold_timeout = 120;
	std::string tap_prefix;
	bool durability = false;                // --durability: the barrier/FUA sequence only
};

// ---------------------------------------------------------------- output

class Tap {
public:
	explicit Tap(std::string prefix) : prefix_(std::move(prefix)) {}
	bool result(bool ok, const std::string& name)
	{
		n_++;
		failed_ += !ok;
		line("%s %d - %s", ok ? "ok" : "not ok", n_, name.c_str());
		return ok;
	}
	void skip(const std::string& name, const char* why)
	{
		n_++;
		line("ok %d - %s # SKIP %s", n_, name.c_str(), why);
	}
	void diag(const char* fmt, ...) __attribute__((format(printf, 2, 3)))
	{
		va_list ap;
		va_start(ap, fmt);
		const std::string s = vformat(fmt, ap);
		va_end(ap);
		line("# %s", s.c_str());
	}
	static std::string vformat(const char* fmt, va_list ap)
	{
		char buf[512];
		vsnprintf(buf, sizeof(buf), fmt, ap);
		return buf;
	}
	// the plan; false if anything failed
	bool done()
	{
		line("1..%d", n_);
		return failed_ == 0;
	}

private:
	void line(const char* fmt, ...) __attribute__((format(printf, 2, 3)))
	{
		va_list ap;
		va_start(ap, fmt);
		fputs(prefix_.c_str(), stdout);
		vprintf(fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
		fflush(stdout);
	}
	std::string prefix_;
	int n_ = 0, failed_ = 0;
};

// ---------------------------------------------------------------- random

// xorshift64*: small, seedable, the same sequence everywhere (the
// seeded tools: a printed seed replays a run)
class Rng {
public:
	explicit Rng(u64 seed) : s_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
	u64 next()
	{
		s_ ^= s_ >> 12;
		s_ ^= s_ << 25;
		s_ ^= s_ >> 27;
		return s_ * 0x2545f4914f6cdd1dull;
	}
	u64 below(u64 n) { return n ? next() % n : 0; }
	bool chance(u32 percent) { return below(100) < percent; }
	template <class T, size_t N> T pick(const T (&a)[N]) { return a[below(N)]; }

private:
	u64 s_;
};

// ---------------------------------------------------------------- time

double monotonic()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Deadline {
	explicit Deadline(double secs) : end(monotonic() + secs) {}
	bool passed() const { return monotonic() >= end; }
	int ms_left() const
	{
		const double left = end - monotonic();
		return left <= 0 ? 0 : static_cast<int>(left * 1000) + 1;
	}
	double end;
};

void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, nullptr);
}

// ---------------------------------------------------------------- xenstore
// The xenstore wire protocol over /dev/xen/xenbus: a 16-byte header (type,
// req_id, tx_id, len) and a payload; one request, one reply.  Paths without a
// leading '/' are relative to this domain's home (/local/domain/DOMID).

class XenStore {
public:
	~XenStore() { if (fd_ >= 0) close(fd_); }
	bool is_open() const { return fd_ >= 0; }
	bool open_dev()
	{
		if (fd_ >= 0)
			return true;
		for (const char* p : {"/dev/xen/xenbus", "/proc/xen/xenbus"}) {
			fd_ = open(p, O_RDWR | O_CLOEXEC);
			if (fd_ >= 0)
				return true;
		}
		return false;
	}
	// The value at path, or false (absent, error or timeout).
	bool read(const std::string& path, std::string* value)
	{
		return call(kRead, path + '\0', value);
	}
	bool write(const std::string& path, const std::string& value)
	{
		std::string reply;
		return call(kWrite, path + '\0' + value, &reply);
	}
	// For a tool that plays dom0's part (xb-hostile-back): remove a subtree;
	// set a node's permissions ("n0", "rD": owner and default first, as
	// xenstore-chmod takes them); and transactions (tx != 0 while one is open).
	bool rm(const std::string& path)
	{
		std::string reply;
		return call(kRm, path + '\0', &reply);
	}
	bool set_perms(const std::string& path, std::initializer_list<const char*> perms)
	{
		std::string payload = path + '\0', reply;
		for (const char* p : perms)
			payload += std::string(p) + '\0';
		return call(kSetPerms, payload, &reply);
	}
	bool begin()
	{
		std::string reply;
		tx = 0;
		if (!call(kTxStart, std::string(1, '\0'), &reply))
			return false;
		tx = static_cast<u32>(strtoul(reply.c_str(), nullptr, 10));
		return tx != 0;
	}
	// false if the transaction must be retried (EAGAIN) or failed
	bool commit()
	{
		std::string reply;
		const bool ok = call(kTxEnd, std::string("T") + '\0', &reply);
		tx = 0;
		return ok;
	}
	u32 tx = 0;
	bool read_uint(const std::string& path, u64* out)
	{
		std::string v;
		if (!read(path, &v) || v.empty())
			return false;
		char* end = nullptr;
		*out = strtoull(v.c_str(), &end, 0);
		return end && *end == '\0';
	}
	u64 read_uint_or(const std::string& path, u64 dflt)
	{
		u64 v;
		return read_uint(path, &v) ? v : dflt;
	}
	// Poll path until it holds one of the wanted values; false at the deadline.
	bool wait_value(const std::string& path, std::initializer_list<u64> want, double secs,
			u64* last)
	{
		Deadline d(secs);
		for (;;) {
			u64 v;
			if (read_uint(path, &v)) {
				*last = v;
				for (u64 w : want)
					if (v == w)
						return true;
			}
			if (d.passed())
				return false;
			sleep_ms(50);
		}
	}

private:
	static constexpr u32 kRead = 2, kTxStart = 6, kTxEnd = 7, kWrite = 11, kRm = 13,
			     kSetPerms = 14, kError = 16;
	struct Header {
		u32 type, req_id, tx_id, len;
	};

	bool call(u32 type, const std::string& payload, std::string* reply)
	{
		if (fd_ < 0)
			return false;
		Header h = {type, ++req_id_, tx, static_cast<u32>(payload.size())};
		std::string msg(reinterpret_cast<const char*>(&h), sizeof(h));
		msg += payload;
		if (::write(fd_, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size()))
			return false;
		Header rh;
		if (!read_exact(&rh, sizeof(rh)))
			return false;
		std::string body(rh.len, '\0');
		if (rh.len && !read_exact(&body[0], rh.len))
			return false;
		if (rh.type == kError || rh.req_id != h.req_id)
			return false;
		while (!body.empty() && body.back() == '\0')
			body.pop_back();
		*reply = body;
		return true;
	}
	// Bounded: a xenstore daemon that stops answering must not hang the tool.
	bool read_exact(void* buf, size_t len)
	{
		Deadline d(10);
		char* p = static_cast<char*>(buf);
		while (len) {
			struct pollfd pfd = {fd_, POLLIN, 0};
			if (poll(&pfd, 1, d.ms_left()) <= 0)
				return false;
			const ssize_t r = ::read(fd_, p, len);
			if (r <= 0)
				return false;
			p += r;
			len -= static_cast<size_t>(r);
		}
		return true;
	}
	int fd_ = -1;
	u32 req_id_ = 0;
};

// ---------------------------------------------------------------- grants
// Pages shared with the backend domain through /dev/xen/gntalloc.

struct GrantedPage {
	u32 gref = 0;
	void* addr = nullptr;
	u8* bytes() const { return static_cast<u8*>(addr); }
};

class Grants {
public:
	~Grants() { if (fd_ >= 0) close(fd_); }
	bool is_open() const { return fd_ >= 0; }
	bool open_dev()
	{
		fd_ = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
		return fd_ >= 0;
	}
	// One zeroed page granted to domid, writable by it or read-only.
	bool alloc(u16 domid, bool writable, GrantedPage* out)
	{
		struct ioctl_gntalloc_alloc_gref a;
		memset(&a, 0, sizeof(a));
		a.domid = domid;
		a.flags = writable ? GNTALLOC_FLAG_WRITABLE : 0;
		a.count = 1;
		if (ioctl(fd_, IOCTL_GNTALLOC_ALLOC_GREF, &a) < 0)
			return false;
		void* p = mmap(nullptr, BLKIF_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_,
			       static_cast<off_t>(a.index));
		if (p == MAP_FAILED)
			return false;
		memset(p, 0, BLKIF_PAGE_SIZE);
		out->gref = a.gref_ids[0];
		out->addr = p;
		return true;
	}

private:
	int fd_ = -1;
};

// ---------------------------------------------------------------- event channel

class EventChannel {
public:
	~EventChannel() { if (fd_ >= 0) close(fd_); }
	// A fresh port that domain remote may bind to.
	bool open_unbound(u16 remote)
	{
		if (fd_ >= 0)
			close(fd_);   // unbinds the old port
		fd_ = open("/dev/xen/evtchn", O_RDWR | O_CLOEXEC);
		if (fd_ < 0)
			return false;
		struct ioctl_evtchn_bind_unbound_port b = {remote};
		const int r = ioctl(fd_, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &b);
		if (r < 0)
			return false;
		port_ = static_cast<unsigned>(r);
		return true;
	}
	unsigned port() const { return port_; }
	void notify()
	{
		struct ioctl_evtchn_notify n = {port_};
		ioctl(fd_, IOCTL_EVTCHN_NOTIFY, &n);
	}
	// Wait up to ms for an event; consume and unmask it.  The caller looks
	// at the ring whatever this returns (events are a hint, not the truth).
	bool wait(int ms)
	{
		struct pollfd pfd = {fd_, POLLIN, 0};
		if (poll(&pfd, 1, ms) <= 0)
			return false;
		unsigned p;
		if (::read(fd_, &p, sizeof(p)) != sizeof(p))
			return false;
		return ::write(fd_, &p, sizeof(p)) == sizeof(p);
	}
	unsigned events = 0;

private:
	int fd_ = -1;
	unsigned port_ = 0;
};

// ---------------------------------------------------------------- the frontend

enum XenbusState : u64 {
	st_initialising = 1, st_initwait = 2, st_initialised = 3, st_connected = 4,
	st_closing = 5, st_closed = 6,
};

// The test pattern at kPatternSector: dom0 checks it on the disk too.
constexpr u64 kPatternSector = 2048;   // 1 MiB
inline void fill_pattern(u8* page)
{
	static const char line[] = "xb-hostile-page\n";   // 16 bytes, 256 times
	for (size_t i = 0; i < BLKIF_PAGE_SIZE; i += 16)
		memcpy(page + i, line, 16);
}

struct Answer {
	bool got = false;          // a response arrived in time
	xb::Response rsp = {};
	std::string trouble;       // a protocol violation by the backend
};

class Front {
public:
	explicit Front(const Options& o) : opt(o) {}

	// xenstore, grants, event channel, keys, and the connect handshake.  Again
	// after disconnect(): a reconnect with a fresh ring page and port.
	bool connect(Tap& tap)
	{
		dir = "device/vbd/" + std::to_string(opt.devid);
		if (!xs.open_dev())
			return fail(tap, "open /dev/xen/xenbus");
		if (!xs.read(dir + "/backend", &backend))
			return fail(tap, "read " + dir + "/backend");
		backend_id = static_cast<u16>(xs.read_uint_or(dir + "/backend-id", 0));
		u64 st = 0;
		if (!xs.wait_value(backend + "/state", {st_initwait, st_closed}, opt.connect_timeout, &st))
			return fail(tap, "backend reaches InitWait (state " + std::to_string(st) + ")");
		if (st == st_closed) {   // after a close: Initialising asks for InitWait again
			xs.write(dir + "/state", std::to_string(st_initialising));
			if (!xs.wait_value(backend + "/state", {st_initwait}, opt.connect_timeout, &st))
				return fail(tap, "backend back in InitWait after Initialising (state " +
					    std::to_string(st) + ")");
		}
		if (!grants.is_open() && !grants.open_dev())
			return fail(tap, std::string("open /dev/xen/gntalloc: ") + strerror(errno));
		if (!grants.alloc(backend_id, true, &ring_page) ||
		    !grants.alloc(backend_id, true, &data) || !grants.alloc(backend_id, false, &ro_data) ||
		    !grants.alloc(backend_id, true, &ind_page))
			return fail(tap, std::string("grant pages with /dev/xen/gntalloc: ") + strerror(errno));
		if (!evtchn.open_unbound(backend_id))
			return fail(tap, std::string("event channel with /dev/xen/evtchn: ") + strerror(errno));
		if (ring.init(ring_page.addr, 1, xb::entry_size(opt.abi)) != kstd::Errno::ok)
			return fail(tap, "ring init");
		// the second session asks for persistent grants
		const bool keys = xs.write(dir + "/feature-persistent", connects ? "1" : "0") &&
			xs.write(dir + "/ring-ref", std::to_string(ring_page.gref)) &&
			xs.write(dir + "/event-channel", std::to_string(evtchn.port())) &&
			xs.write(dir + "/protocol", xb::protocol_name(opt.abi)) &&
			xs.write(dir + "/state", std::to_string(st_initialised));
		if (!keys)
			return fail(tap, "write the frontend keys");
		if (!xs.wait_value(backend + "/state", {st_connected}, opt.connect_timeout, &st))
			return fail(tap, "backend reaches Connected (state " + std::to_string(st) + ")");
		xs.write(dir + "/state", std::to_string(st_connected));
		read_limits();
		persistent = connects && xs.read_uint_or(backend + "/feature-persistent", 0) != 0;
		tap.result(true, std::string(connects++ ? "reconnected" : "connected") + ": ring-ref " + std::to_string(ring_page.gref) + ", port " +
			   std::to_string(evtchn.port()) + ", " + xb::protocol_name(opt.abi) +
			   ", backend " + backend);
		tap.diag("backend offers: sectors=%llu sector-size=%u ro=%d flush=%d barrier=%d "
			 "discard=%d max-indirect-segments=%u; persistent grants %s",
			 static_cast<unsigned long long>(lim.sectors), lim.logical_block_size,
			 lim.read_only, lim.flush, lim.barrier, lim.discard, lim.max_indirect_segments,
			 persistent ? "in use" : "not in use");
		return true;
	}

	// Frontend Closing then Closed; the backend must follow.
	void disconnect(Tap& tap)
	{
		u64 st = 0;
		xs.write(dir + "/state", std::to_string(st_closing));
		bool ok = xs.wait_value(backend + "/state", {st_closing, st_closed}, opt.connect_timeout, &st);
		tap.result(ok, "frontend Closing: backend follows (state " + std::to_string(st) + ")");
		xs.write(dir + "/state", std::to_string(st_closed));
		ok = xs.wait_value(backend + "/state", {st_closed}, opt.connect_timeout, &st);
		tap.result(ok, "frontend Closed: backend Closed (state " + std::to_string(st) + ")");
	}

	// Wait for dom0's go (xb_tell domu KEY VALUE).
	bool hold(const std::string& key)
	{
		printf("XB-HOSTILE-HOLD\n");
		fflush(stdout);
		return wait_key(key);
	}
	// dom0's data/xenblk-KEY, within the hold timeout
	bool wait_key(const std::string& key)
	{
		Deadline d(opt.hold_timeout);
		std::string v;
		while (!xs.read("data/xenblk-" + key, &v)) {
			if (d.passed())
				return false;
			sleep_ms(200);
		}
		return true;
	}

	// A request skeleton with a fresh id; the high bits check a 64-bit echo.
	xb::Request request(u8 op)
	{
		xb::Request r;
		memset(&r, 0, sizeof(r));
		r.op = op;
		r.kind = xb::request_kind(op);
		r.handle = static_cast<u16>(opt.devid);
		r.id = 0xb10c000000000000ull | (static_cast<u64>(++seq) << 8) | 0x5a;
		return r;
	}

	// Queue one request and notify; false if the ring refused a slot.
	bool submit(const xb::Request& r)
	{
		void* slot = ring.next_request_slot();
		if (!slot || !xb::encode_request(opt.abi, r, slot))
			return false;
		ring.push_requests_and_check_notify();
		evtchn.notify();   // always, whatever req_event says: one request at a time
		return true;
	}

	// The next response before the deadline: got set, or trouble if the
	// backend published an impossible rsp_prod, or neither at the deadline.
	Answer next_response(const Deadline& d)
	{
		Answer a;
		for (;;) {
			const kstd::Result<u32> n = ring.unconsumed_responses();
			if (!n) {
				a.trouble = "backend published an impossible rsp_prod";
				return a;
			}
			if (*n) {
				xb::decode_response(opt.abi, ring.next_response_slot(), &a.rsp);
				a.got = true;
				return a;
			}
			if (d.passed())
				return a;
			ring.final_check_for_responses();
			if (evtchn.wait(std::min(d.ms_left(), 20)))
				evtchn.events++;
		}
	}

	// The response to request id, within secs.  A response to another id is
	// a protocol violation.
	Answer await(u64 id, double secs)
	{
		Answer a = next_response(Deadline(secs));
		if (a.got && a.rsp.id != id) {
			char buf[96];
			snprintf(buf, sizeof(buf), "response with id %#llx, expected %#llx",
				 static_cast<unsigned long long>(a.rsp.id),
				 static_cast<unsigned long long>(id));
			a.got = false;
			a.trouble = buf;
		}
		return a;
	}

	const Options& opt;
	unsigned connects = 0;
	bool persistent = false;   // this session uses persistent grants
	XenStore xs;
	Grants grants;
	EventChannel evtchn;
	xb::FrontRing<> ring;
	GrantedPage ring_page, data, ro_data, ind_page;
	xb::DeviceLimits lim = {};
	std::string dir, backend;
	u16 backend_id = 0;
	u32 seq = 0;

private:
	bool fail(Tap& tap, const std::string& what)
	{
		tap.result(false, "connect: " + what);
		return false;
	}
	void read_limits()
	{
		lim.sectors = xs.read_uint_or(backend + "/sectors", 0);
		lim.logical_block_size = static_cast<u32>(xs.read_uint_or(backend + "/sector-size", 512));
		std::string mode;
		lim.read_only = (xs.read_uint_or(backend + "/info", 0) & VDISK_READONLY) ||
				(xs.read(backend + "/mode", &mode) && mode == "r");
		lim.discard = xs.read_uint_or(backend + "/feature-discard", 0) != 0;
		lim.secure_discard = xs.read_uint_or(backend + "/discard-secure", 0) != 0;
		lim.flush = xs.read_uint_or(backend + "/feature-flush-cache", 0) != 0;
		lim.barrier = xs.read_uint_or(backend + "/feature-barrier", 0) != 0;
		lim.max_indirect_segments =
			static_cast<u32>(xs.read_uint_or(backend + "/feature-max-indirect-segments", 0));
	}
};

} // namespace
