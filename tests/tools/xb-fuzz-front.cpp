// SPDX-License-Identifier: GPL-2.0
// xb-fuzz-front - a hostile blkif frontend that sends seeded random requests.
//
// Like xb-hostile-front it takes over a vbd no frontend driver drives (the
// test bed's --front none) from a domU's userspace; instead of fixed
// scenarios it sends --requests requests drawn from a seeded generator, up
// to --batch in flight: about half are valid reads and writes of one page or
// an indirect list; the others have one or more fields mutated (the
// operation, nr_segments, the sector, first/last_sect, grant refs, the
// indirect operation, count, pages and their segments, discard ranges, the
// id).  Each answer is checked against our core's rules (kmod/core/validate):
// a request the core refuses must get the status it gives, one it accepts
// BLKIF_RSP_OKAY (BLKIF_RSP_ERROR allowed only when a grant ref was
// mutated), every response must carry an id in flight and the op Linux
// blkfront expects.  Each session ends with a producer index jumped past the
// ring: the backend must stop the ring (answer nothing more); the next
// session connects again (the second asks for persistent grants).
//
// The seed is printed; --seed replays a run.  Output is TAP with
// --tap-prefix, a diagnostic line per session and a summary line
// "XB-FUZZ requests=N answered=N refused=N ...".  Every wait is bounded.
//
//   xb-fuzz-front [--devid N] [--requests N] [--batch N] [--sessions N]
//                 [--seed S] [--timeout S] [--connect-timeout S] [--tap-prefix P]
#include "hostile_front.hpp"

#include <map>

namespace {

struct FuzzOptions {
	u64 requests = 100000;
	u32 batch = 16;
	u32 sessions = 2;
	u64 seed = 0;   // 0: from the clock
};

constexpr u32 kIndPages = 32;   // list pages: one per request of a batch (at most 32)
// Data pages the requests spread their segments over: Xen counts the maps of
// one grant in 8 bits, so a page may be in at most 255 segments in flight
// (a grant mapped more often fails, legitimately, with an error).  A batch of
// 32 requests of up to 256 segments (our backend's bound) uses each of 64
// pages at most 128 times.
constexpr u32 kDataPages = 64;
constexpr u32 kMaxValidIndirect = 64;

// One request in flight: what it was, what the core says of it.
struct Sent {
	xb::Request req;
	xb::Reject core;
	xb::Reject core_header;   // validate_request alone
	bool grant_mutated;   // an ERROR for an accepted request is then fine
	bool list_unknown;    // an indirect page ref mutated: the list the backend
			      // reads is not ours, OKAY or ERROR are both fine
	int ind;              // its indirect page, or -1
};

struct Counts {
	u64 sent = 0, answered = 0, okay = 0, refused = 0, errors = 0, bad = 0;
};

class Fuzzer {
public:
	// each session draws its own sequence from the run's seed
	Fuzzer(Front& f, const FuzzOptions& o, Tap& tap, u32 session)
		: f_(f), o_(o), tap_(tap), rng_(o.seed + 0x9e3779b97f4a7c15ull * session) {}

	bool add_pages()
	{
		for (u32 i = 0; i < kIndPages; i++)
			if (!f_.grants.alloc(f_.backend_id, true, &ind_[i]))
				return false;
		for (u32 i = 0; i < kDataPages; i++)
			if (!f_.grants.alloc(f_.backend_id, true, &data_[i]))
				return false;
		return true;
	}

	// n requests in batches; false at the first violation (printed)
	bool run(u64 n)
	{
		while (n) {
			const u32 b = static_cast<u32>(std::min<u64>(n, 1 + rng_.below(o_.batch)));
			used_ = 0;
			for (u32 i = 0; i < b; i++) {
				Sent s = make();
				void* slot = f_.ring.next_request_slot();
				if (!slot)
					return violation("no ring slot for a request (ring full with %zu in flight)",
							 flight_.size());
				if (!xb::encode_request(f_.opt.abi, s.req, slot))
					return violation("the generator made a request the wire cannot carry "
							 "(op %u, %u segments)", s.req.op, s.req.nr_segments);
				flight_.emplace(s.req.id, s);
				c.sent++;
			}
			f_.ring.push_requests_and_check_notify();
			f_.evtchn.notify();
			if (!collect())
				return false;
			n -= std::min<u64>(n, b);
		}
		return true;
	}

	// The producer index far past the ring: nothing may be answered after it.
	bool stop_ring()
	{
		auto* hdr = static_cast<struct blkif_sring_header*>(f_.ring_page.addr);
		const u32 before = __atomic_load_n(&hdr->rsp_prod, __ATOMIC_ACQUIRE);
		const u32 bogus = f_.ring.req_prod_pvt() + 64 + static_cast<u32>(rng_.below(1u << 20));
		__atomic_store_n(&hdr->req_prod, bogus, __ATOMIC_RELEASE);
		f_.evtchn.notify();
		sleep_ms(1500);
		const u32 after = __atomic_load_n(&hdr->rsp_prod, __ATOMIC_ACQUIRE);
		tap_.result(after == before, "req_prod jumped to " + std::to_string(bogus) +
			    ": " + (after == before ? "no response, ring stopped" :
				    std::to_string(after - before) + " responses"));
		return after == before;
	}

	Counts c;

private:
	// ---- the generator
	Sent make()
	{
		Sent s = {};
		s.ind = -1;
		const u64 cap = f_.lim.sectors ? f_.lim.sectors : 1;
		// a sector: mostly inside, sometimes at or past the end, or absurd
		auto sector = [&]() -> u64 {
			switch (rng_.below(8)) {
			case 0: return cap - rng_.below(16);
			case 1: return cap + rng_.below(16);
			case 2: return ~0ull - rng_.below(64);
			case 3: return rng_.next();
			default: return rng_.below(cap) & ~7ull;
			}
		};
		const bool valid = rng_.chance(50);
		const u64 kind = rng_.below(valid ? 2 : 4);
		if (kind == 0 || (!valid && kind == 3 && !f_.lim.max_indirect_segments)) {   // direct read/write
			const u8 op = rng_.chance(50) ? BLKIF_OP_READ : BLKIF_OP_WRITE;
			s.req = f_.request(op);
			const u32 n = 1 + static_cast<u32>(rng_.below(BLKIF_MAX_SEGMENTS_PER_REQUEST));
			s.req.nr_segments = static_cast<u16>(n);
			s.req.sector = rng_.below(cap > 256 ? cap - 256 : 1) & ~7ull;
			const u32 k = static_cast<u32>(rng_.below(kDataPages));
			for (u32 i = 0; i < n; i++) {
				s.req.seg[i].gref = data_[(k + i) % kDataPages].gref;
				s.req.seg[i].first_sect = 0;
				s.req.seg[i].last_sect = 7;
			}
		} else if (kind == 1 && f_.lim.max_indirect_segments) {   // indirect read/write
			s.req = indirect(rng_.chance(50) ? BLKIF_OP_READ : BLKIF_OP_WRITE,
					 1 + static_cast<u32>(rng_.below(std::min(kMaxValidIndirect,
										  f_.lim.max_indirect_segments))),
					 &s.ind);
			s.req.sector = rng_.below(cap > 8192 ? cap - 8192 : 1) & ~7ull;
		} else if (kind == 1 || kind == 2) {   // discard, or another op
			static const u8 ops[] = {BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_WRITE_BARRIER,
						 BLKIF_OP_RESERVED_1, 7, 255};
			s.req = f_.request(valid ? u8(BLKIF_OP_DISCARD) : rng_.pick(ops));
			s.req.sector = valid ? rng_.below(cap / 2) & ~7ull : sector();
			s.req.nr_sectors = valid ? 8 * (1 + rng_.below(64)) : rng_.chance(50) ? rng_.next() : rng_.below(4096);
			s.req.discard_flag = static_cast<u8>(valid ? 0 : rng_.below(256));
		} else {   // indirect, mutated below
			s.req = indirect(BLKIF_OP_READ, 1, &s.ind);
		}
		if (!valid)
			mutate(&s, sector);
		s.core = verdict(s);
		return s;
	}

	template <class F> void mutate(Sent* s, F sector)
	{
		xb::Request& r = s->req;
		const xb::ReqKind born = r.kind;
		const u32 n = 1 + static_cast<u32>(rng_.below(3));
		for (u32 m = 0; m < n; m++) {
			switch (rng_.below(9)) {
			case 0: r.op = static_cast<u8>(rng_.below(256)); r.kind = xb::request_kind(r.op); break;
			case 1: r.nr_segments = static_cast<u16>(rng_.chance(50) ? rng_.below(16) : rng_.below(65536)); break;
			case 2: r.sector = sector(); break;
			case 3: {
				xb::Segment& g = r.seg[rng_.below(BLKIF_MAX_SEGMENTS_PER_REQUEST)];
				g.first_sect = static_cast<u8>(rng_.below(rng_.chance(50) ? 8 : 256));
				g.last_sect = static_cast<u8>(rng_.below(rng_.chance(50) ? 8 : 256));
				break;
			}
			case 4:   // a grant ref: read-only, absurd, or not granted
				r.seg[rng_.below(BLKIF_MAX_SEGMENTS_PER_REQUEST)].gref =
					rng_.chance(30) ? f_.ro_data.gref : stray_gref();
				s->grant_mutated = true;
				break;
			case 5: r.indirect_op = static_cast<u8>(rng_.below(rng_.chance(50) ? 8 : 256)); break;
			case 6:   // a list page that is not the list: what it holds is unknown
				r.indirect_grefs[rng_.below(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST)] =
					rng_.chance(50) ? f_.ro_data.gref : stray_gref();
				s->grant_mutated = true;
				s->list_unknown = true;
				break;
			case 7:
				if (s->ind >= 0)
					mutate_list(ind_[s->ind], s);
				break;
			case 8: r.nr_sectors = rng_.next(); break;
			}
		}
		// (the wire has 8 bits of nr_segments for all but INDIRECT)
		r.kind = xb::request_kind(r.op);
		if (r.kind != xb::ReqKind::indirect && r.nr_segments > 255)
			r.nr_segments &= 0xff;
		// another kind of request reads grant refs the generator did not set
		// up for it (an INDIRECT made of a READ has list refs 0): an error
		// from a grant that does not map is then fine
		if (r.kind != born)
			s->grant_mutated = true;
		// an id: random, or that of a request in flight.  Requests that share
		// an id all have one exact expected answer (no mutated grant, whose
		// answer may be OKAY or ERROR): a response then fits one of them, or
		// another just like it, and matching it is never ambiguous.
		if (rng_.chance(10)) {
			if (rng_.chance(50)) {
				r.id = rng_.next();
			} else if (!s->grant_mutated) {
				for (const auto& e : flight_)
					if (!e.second.grant_mutated) {
						r.id = e.first;
						break;
					}
			}
		}
	}

	// A grant ref for a mutated segment or list page: absurd, or any number
	// but those of our ring and list pages (a READ into the ring page would
	// overwrite the ring under the backend: this tool's fault, not the
	// backend's; into a list page, the list of another request in flight)
	u32 stray_gref()
	{
		static const u32 odd[] = {0, 1, 0x00fffff0, 0xffffffff};
		u32 g = rng_.chance(50) ? rng_.pick(odd) : static_cast<u32>(rng_.next());
		bool ours = g == f_.ring_page.gref;
		for (const GrantedPage& p : ind_)
			ours = ours || g == p.gref;
		return ours ? 0x00fffff0 : g;
	}

	void mutate_list(GrantedPage& p, Sent* s)
	{
		auto* segs = reinterpret_cast<struct blkif_request_segment*>(p.bytes());
		const size_t i = rng_.below(BLKIF_SEGS_PER_INDIRECT_FRAME);
		switch (rng_.below(3)) {
		case 0: segs[i].first_sect = static_cast<u8>(rng_.below(256)); break;
		case 1: segs[i].last_sect = static_cast<u8>(rng_.below(256)); break;
		case 2: segs[i].gref = stray_gref(); s->grant_mutated = true; break;
		}
	}

	// an indirect request on a list page no other request of the batch has
	// (a page is not written while a request that uses it is in flight)
	xb::Request indirect(u8 iop, u32 n, int* ind)
	{
		int k = static_cast<int>(rng_.below(kIndPages));
		while (used_ & (1u << k))
			k = (k + 1) % static_cast<int>(kIndPages);
		used_ |= 1u << k;
		*ind = k;
		xb::Request r = f_.request(BLKIF_OP_INDIRECT);
		r.indirect_op = iop;
		r.nr_segments = static_cast<u16>(n);
		// every page of the list is this one (also for a count mutated upwards)
		for (u32 i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
			r.indirect_grefs[i] = ind_[k].gref;
		auto* segs = reinterpret_cast<struct blkif_request_segment*>(ind_[k].bytes());
		for (size_t i = 0; i < BLKIF_SEGS_PER_INDIRECT_FRAME; i++) {
			segs[i].gref = data_[i % kDataPages].gref;
			segs[i].first_sect = 0;
			segs[i].last_sect = 7;
		}
		return r;
	}

	// what our core's rules say of a request (its list as it is now: it is
	// not written again while the request is in flight)
	xb::Reject verdict(Sent& s)
	{
		const xb::Request& r = s.req;
		xb::Reject rej = xb::validate_request(r, f_.lim);
		s.core_header = rej;
		if (rej == xb::Reject::none && r.kind == xb::ReqKind::indirect && s.ind >= 0) {
			// every page of the list is ind_[s.ind] unless a gref was mutated
			std::vector<xb::Segment> seg(r.nr_segments);
			bool ok = true;
			for (u32 done = 0; ok && done < r.nr_segments; done += BLKIF_SEGS_PER_INDIRECT_FRAME) {
				const size_t cnt = std::min<size_t>(r.nr_segments - done, BLKIF_SEGS_PER_INDIRECT_FRAME);
				ok = xb::decode_indirect_segments(ind_[s.ind].addr, 0, cnt, seg.data() + done);
			}
			rej = ok ? xb::validate_segments(seg.data(), r.nr_segments, r.sector,
							 r.indirect_op != BLKIF_OP_READ, f_.lim, nullptr)
				 : xb::Reject::bad_segment;
		}
		return rej;
	}

	// ---- the answers
	bool collect()
	{
		Deadline d(f_.opt.timeout);
		while (!flight_.empty()) {
			const Answer a = f_.next_response(d);
			if (!a.trouble.empty())
				return violation("%s", a.trouble.c_str());
			if (!a.got)
				return violation("%zu requests unanswered after %.0f s", flight_.size(), f_.opt.timeout);
			// an id twice in flight: the response is either request's
			auto range = flight_.equal_range(a.rsp.id);
			if (range.first == range.second)
				return violation("a response with id %#llx, which is not in flight",
						 static_cast<unsigned long long>(a.rsp.id));
			auto it = range.first;
			for (auto j = range.first; j != range.second; ++j)
				if (fits(j->second, a.rsp)) {
					it = j;
					break;
				}
			const Sent s = it->second;
			flight_.erase(it);
			c.answered++;
			if (!check(s, a.rsp))
				return false;
		}
		return true;
	}

	static u8 want_op(const xb::Request& r) { return r.op == BLKIF_OP_INDIRECT ? r.indirect_op : r.op; }
	static s16 want_status(const Sent& s)
	{
		return s.core == xb::Reject::none ? s16(BLKIF_RSP_OKAY) : xb::reject_status(s.core);
	}
	// the answer our core's rules allow for this request
	static bool fits(const Sent& s, const xb::Response& rsp)
	{
		if (rsp.op != want_op(s.req))
			return false;
		if (s.list_unknown && s.core_header == xb::Reject::none)
			return rsp.status == BLKIF_RSP_OKAY || rsp.status == BLKIF_RSP_ERROR;
		return rsp.status == want_status(s) ||
			(s.core == xb::Reject::none && s.grant_mutated && rsp.status == BLKIF_RSP_ERROR);
	}

	bool check(const Sent& s, const xb::Response& rsp)
	{
		const xb::Request& r = s.req;
		if (rsp.status == BLKIF_RSP_OKAY)
			c.okay++;
		else if (s.core != xb::Reject::none)
			c.refused++;
		else
			c.errors++;
		if (!fits(s, rsp))
			return violation("request op %u (indirect op %u, %u segments, sector %#llx, id %#llx): "
					 "answered status %d op %u; core: %s -> status %d op %u",
					 r.op, r.indirect_op, r.nr_segments, static_cast<unsigned long long>(r.sector),
					 static_cast<unsigned long long>(r.id), rsp.status, rsp.op,
					 s.core == xb::Reject::none ? "accepts" : xb::reject_name(s.core), want_status(s),
					 want_op(r));
		return true;
	}

	bool violation(const char* fmt, ...) __attribute__((format(printf, 2, 3)))
	{
		va_list ap;
		va_start(ap, fmt);
		const std::string why = Tap::vformat(fmt, ap);
		va_end(ap);
		c.bad++;
		tap_.result(false, "after " + std::to_string(c.sent) + " requests: " + why);
		return false;
	}

	Front& f_;
	const FuzzOptions& o_;
	Tap& tap_;
	Rng rng_;
	GrantedPage ind_[kIndPages];
	GrantedPage data_[kDataPages];
	u32 used_ = 0;   // list pages of the batch being built
	std::multimap<u64, Sent> flight_;
};

void usage()
{
	fprintf(stderr,
		"usage: xb-fuzz-front [--devid N] [--requests N] [--batch N] [--sessions N] [--seed S]\n"
		"         [--timeout S] [--connect-timeout S] [--tap-prefix P]\n");
}

} // namespace

int main(int argc, char** argv)
{
	Options opt;
	FuzzOptions fo;
	opt.strict = true;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		if (i + 1 >= argc) {
			usage();
			return 2;
		}
		const char* v = argv[++i];
		if (a == "--devid") opt.devid = static_cast<unsigned>(strtoul(v, nullptr, 0));
		else if (a == "--requests") fo.requests = strtoull(v, nullptr, 0);
		else if (a == "--batch") fo.batch = std::max(1u, std::min(32u, static_cast<unsigned>(strtoul(v, nullptr, 0))));
		else if (a == "--sessions") fo.sessions = std::max(1u, static_cast<unsigned>(strtoul(v, nullptr, 0)));
		else if (a == "--seed") fo.seed = strtoull(v, nullptr, 0);
		else if (a == "--timeout") opt.timeout = atof(v);
		else if (a == "--connect-timeout") opt.connect_timeout = atof(v);
		else if (a == "--tap-prefix") opt.tap_prefix = v;
		else {
			usage();
			return 2;
		}
	}
	if (!fo.seed)
		fo.seed = static_cast<u64>(monotonic() * 1e9) ^ static_cast<u64>(getpid());
	Tap tap(opt.tap_prefix);
	tap.diag("seed %llu (--seed %llu replays this run)", static_cast<unsigned long long>(fo.seed),
		 static_cast<unsigned long long>(fo.seed));
	Front f(opt);
	Counts total;
	bool ok = true;
	const double t0 = monotonic();
	for (u32 s = 0; s < fo.sessions && ok; s++) {
		if (!f.connect(tap)) {
			ok = false;
			break;
		}
		Fuzzer z(f, fo, tap, s);
		if (!z.add_pages()) {
			tap.result(false, "grant the indirect pages");
			ok = false;
			break;
		}
		const u64 n = fo.requests / fo.sessions + (s == 0 ? fo.requests % fo.sessions : 0);
		const bool ran = z.run(n);
		tap.result(ran, "session " + std::to_string(s + 1) + ": " + std::to_string(z.c.answered) +
			   " of " + std::to_string(n) + " random requests answered as the core's rules say (" +
			   std::to_string(z.c.okay) + " okay, " + std::to_string(z.c.refused) + " refused, " +
			   std::to_string(z.c.errors) + " grant errors)");
		ok = ran && z.stop_ring();
		total.sent += z.c.sent;
		total.answered += z.c.answered;
		total.okay += z.c.okay;
		total.refused += z.c.refused;
		total.errors += z.c.errors;
		f.disconnect(tap);
	}
	printf("XB-FUZZ seed=%llu requests=%llu answered=%llu okay=%llu refused=%llu errors=%llu seconds=%.0f\n",
	       static_cast<unsigned long long>(fo.seed), static_cast<unsigned long long>(total.sent),
	       static_cast<unsigned long long>(total.answered), static_cast<unsigned long long>(total.okay),
	       static_cast<unsigned long long>(total.refused), static_cast<unsigned long long>(total.errors),
	       monotonic() - t0);
	printf("XB-FUZZ-END\n");
	return tap.done() && ok ? 0 : 1;
}
