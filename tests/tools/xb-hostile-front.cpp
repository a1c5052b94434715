// SPDX-License-Identifier: GPL-2.0
// xb-hostile-front - a hostile blkif frontend, run from a domU's userspace.
//
// It takes over a vbd that no frontend driver drives (the test bed's
// --front none), connects to its backend as a frontend would (one ring page
// granted with /dev/xen/gntalloc, an event channel from /dev/xen/evtchn, the
// frontend keys through /dev/xen/xenbus), and then sends malformed requests,
// one scenario at a time, with valid reads and writes between them to show the
// ring still works.  A backend passes when it answers every malformed request
// with an error status, the request's id and the op Linux blkfront expects,
// stops the ring (answers nothing more) when the producer index runs more than
// a ring ahead, and still closes and reconnects afterwards (a second session,
// which asks for persistent grants, sends indirect requests through them: a
// kept indirect page, a bad one, a read-only one; then it moves the producer
// index back, which must stop the ring too).
//
// Output is TAP: one line per scenario, "1..N" at the end, each line prefixed
// with --tap-prefix.  The verdict of our core's validator (kmod/core) for each
// request is shown beside the backend's answer; with --strict the status must
// be exactly what the core's rules give.  Every wait is bounded.
//
//   xb-hostile-front [--devid 51712] [--protocol x86_64-abi|x86_32-abi]
//                    [--timeout S] [--connect-timeout S] [--strict]
//                    [--hold KEY] [--hold-timeout S] [--tap-prefix P]
//
// --hold KEY: after the scenarios print "XB-HOSTILE-HOLD" and wait until
// xenstore data/xenblk-KEY exists (dom0's xb_tell) before closing the device,
// so that dom0 can read the backend's statistics while the ring is still up.
#include "hostile_front.hpp"

namespace {

void usage()
{
	fprintf(stderr,
		"usage: xb-hostile-front [--devid N] [--protocol x86_64-abi|x86_32-abi]\n"
		"         [--timeout S] [--connect-timeout S] [--strict]\n"
		"         [--hold KEY] [--hold-timeout S] [--tap-prefix P] [--durability]\n");
}

bool parse_options(int argc, char** argv, Options* o)
{
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
		auto need = [&]() { if (!v) { usage(); exit(2); } i++; return v; };
		if (a == "--devid")
			o->devid = static_cast<unsigned>(strtoul(need(), nullptr, 0));
		else if (a == "--protocol") {
			if (!xb::parse_protocol(need(), &o->abi)) {
				fprintf(stderr, "unknown protocol %s\n", v);
				return false;
			}
		} else if (a == "--timeout")
			o->timeout = atof(need());
		else if (a == "--connect-timeout")
			o->connect_timeout = atof(need());
		else if (a == "--strict")
			o->strict = true;
		else if (a == "--hold")
			o->hold_key = need();
		else if (a == "--hold-timeout")
			o->hold_timeout = atof(need());
		else if (a == "--tap-prefix")
			o->tap_prefix = need();
		else if (a == "--durability")
			o->durability = true;
		else {
			usage();
			return false;
		}
	}
	return true;
}

// ---------------------------------------------------------------- scenarios

const char* status_name(s16 st)
{
	switch (st) {
	case BLKIF_RSP_OKAY: return "OKAY";
	case BLKIF_RSP_ERROR: return "ERROR";
	case BLKIF_RSP_EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "bogus";
	}
}

enum class Need { none, flush, barrier, discard, indirect, persistent_indirect };
enum class Expect {
	okay,        // a valid request: OKAY
	error,       // malformed: ERROR or EOPNOTSUPP
	core_error,  // refused by our core's rules, accepted by Linux blkback:
		     // OKAY passes too unless --strict
	core_okay,   // valid, and our backend serves it; Linux blkback refuses it
		     // (ERROR passes too unless --strict)
};

struct Scenario;
using Build = void (*)(Front&, xb::Request&);
// A scenario that is more than one request and one answer.
using Run = void (*)(Front&, const Scenario&, Tap&);

struct Scenario {
	const char* name;
	Need need;
	Expect expect;
	Build build;   // one request, answered as 'expect' says
	Run run;       // or a scenario of its own
};

// --- request builders

void seg_page(xb::Segment* s, u32 gref, u8 first, u8 last)
{
	s->gref = gref;
	s->first_sect = first;
	s->last_sect = last;
}
void one_page(Front& f, xb::Request& r, u8 op, u64 sector)
{
	r = f.request(op);
	r.sector = sector;
	r.nr_segments = 1;
	seg_page(&r.seg[0], f.data.gref, 0, 7);
}

void b_write(Front& f, xb::Request& r) { fill_pattern(f.data.bytes()); one_page(f, r, BLKIF_OP_WRITE, kPatternSector); }
void b_flush(Front& f, xb::Request& r) { r = f.request(BLKIF_OP_FLUSH_DISKCACHE); }
void b_op7(Front& f, xb::Request& r) { r = f.request(7); }
void b_op255(Front& f, xb::Request& r) { r = f.request(255); }
void b_reserved(Front& f, xb::Request& r) { r = f.request(BLKIF_OP_RESERVED_1); }
void b_read0(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, 0); r.nr_segments = 0; }
void b_write0(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_WRITE, 0); r.nr_segments = 0; }
void b_read12(Front& f, xb::Request& r)
{
	one_page(f, r, BLKIF_OP_READ, 0);
	for (auto& s : r.seg)
		seg_page(&s, f.data.gref, 0, 0);
	r.nr_segments = 12;   // the wire holds 11; the backend must not look further
}
void b_read255(Front& f, xb::Request& r) { b_read12(f, r); r.nr_segments = 255; }
void b_first_gt_last(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, 0); seg_page(&r.seg[0], f.data.gref, 4, 2); }
void b_last_gt_7(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, 0); seg_page(&r.seg[0], f.data.gref, 0, 8); }
void b_write_last_255(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_WRITE, 0); seg_page(&r.seg[0], f.data.gref, 7, 255); }
void b_past_end(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, f.lim.sectors); }
void b_straddle(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, f.lim.sectors - 4); }
void b_write_past_end(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_WRITE, f.lim.sectors); }
void b_overflow(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, ~0ull - 3); }
void b_bad_gref(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, 0); r.seg[0].gref = 0x00fffff0; }
void b_ro_gref(Front& f, xb::Request& r) { one_page(f, r, BLKIF_OP_READ, 0); r.seg[0].gref = f.ro_data.gref; }

// INDIRECT: n segments described in ind_page (every indirect gref points at it)
void indirect(Front& f, xb::Request& r, u8 iop, u16 n, u64 sector, u8 last = 7)
{
	r = f.request(BLKIF_OP_INDIRECT);
	r.indirect_op = iop;
	r.nr_segments = n;
	r.sector = sector;
	for (auto& g : r.indirect_grefs)
		g = f.ind_page.gref;
	auto* segs = reinterpret_cast<struct blkif_request_segment*>(f.ind_page.bytes());
	memset(segs, 0, BLKIF_PAGE_SIZE);
	for (size_t i = 0; i < BLKIF_SEGS_PER_INDIRECT_FRAME; i++) {
		segs[i].gref = f.data.gref;
		segs[i].first_sect = 0;
		segs[i].last_sect = i == 0 ? last : 0;
	}
}
void b_ind_read(Front& f, xb::Request& r) { indirect(f, r, BLKIF_OP_READ, 1, kPatternSector); }
void b_ind_badop(Front& f, xb::Request& r) { indirect(f, r, BLKIF_OP_WRITE_BARRIER, 1, 0); }
void b_ind_op7(Front& f, xb::Request& r) { indirect(f, r, 7, 1, 0); }
void b_ind_zero(Front& f, xb::Request& r) { indirect(f, r, BLKIF_OP_READ, 0, 0); }
void b_ind_over_max(Front& f, xb::Request& r)
{
	indirect(f, r, BLKIF_OP_READ, static_cast<u16>(f.lim.max_indirect_segments + 1), 0);
}
void b_ind_9_pages(Front& f, xb::Request& r) { indirect(f, r, BLKIF_OP_READ, BLKIF_MAX_INDIRECT_SEGMENTS + 1, 0); }
void b_ind_65535(Front& f, xb::Request& r) { indirect(f, r, BLKIF_OP_READ, 65535, 0); }
void b_ind_bad_gref(Front& f, xb::Request& r)
{
	indirect(f, r, BLKIF_OP_READ, 1, 0);
	r.indirect_grefs[0] = 0x00fffff0;
}
void b_ind_bad_seg(Front& f, xb::Request& r) { indirect(f, r, BLKIF_OP_READ, 1, 0, 8); }
// the same descriptors in a page granted read-only: a backend needs to read it only
void b_ind_ro_page(Front& f, xb::Request& r)
{
	indirect(f, r, BLKIF_OP_READ, 1, kPatternSector);
	memcpy(f.ro_data.bytes(), f.ind_page.bytes(), BLKIF_PAGE_SIZE);
	r.indirect_grefs[0] = f.ro_data.gref;
}
void b_ind_past_end(Front& f, xb::Request& r) { indirect(f, r, BLKIF_OP_READ, 1, f.lim.sectors); }

void discard(Front& f, xb::Request& r, u64 sector, u64 n, u8 flag = 0)
{
	r = f.request(BLKIF_OP_DISCARD);
	r.sector = sector;
	r.nr_sectors = n;
	r.discard_flag = flag;
}
void b_dis_past_end(Front& f, xb::Request& r) { discard(f, r, f.lim.sectors, 8); }
void b_dis_overflow(Front& f, xb::Request& r) { discard(f, r, ~0ull - 3, 8); }
void b_dis_huge(Front& f, xb::Request& r) { discard(f, r, 8, ~0ull - 3); }
void b_dis_empty(Front& f, xb::Request& r) { discard(f, r, 65536, 0); }
void b_dis_flag(Front& f, xb::Request& r) { discard(f, r, 65536, 8, 0x80); }

// --- the core's verdict, for the report (and --strict)

xb::Reject core_verdict(const Front& f, const xb::Request& r)
{
	xb::Reject rej = xb::validate_request(r, f.lim);
	if (rej == xb::Reject::none && r.kind == xb::ReqKind::indirect) {
		xb::Segment seg[BLKIF_SEGS_PER_INDIRECT_FRAME];
		const size_t n = std::min<size_t>(r.nr_segments, BLKIF_SEGS_PER_INDIRECT_FRAME);
		if (xb::decode_indirect_segments(f.ind_page.addr, 0, n, seg))
			rej = xb::validate_segments(seg, n, r.sector, r.indirect_op != BLKIF_OP_READ,
						    f.lim, nullptr);
	}
	return rej;
}

// --- runners

// One request, one answer.
void run_request(Front& f, const Scenario& s, Tap& tap)
{
	xb::Request r;
	s.build(f, r);
	const xb::Reject core = core_verdict(f, r);
	const s16 want = core == xb::Reject::none ? s16(BLKIF_RSP_ERROR) : xb::reject_status(core);
	const std::string what = std::string(s.name) + " -> ";
	if (!f.submit(r)) {
		tap.result(false, what + "no ring slot (ring full or broken)");
		return;
	}
	const Answer a = f.await(r.id, f.opt.timeout);
	if (!a.trouble.empty()) {
		tap.result(false, what + a.trouble);
		return;
	}
	if (!a.got) {
		tap.result(false, what + "no response within " + std::to_string(int(f.opt.timeout)) + " s");
		return;
	}
	const s16 st = a.rsp.status;
	// Linux blkfront insists on this op: the request's, or for INDIRECT the indirect_op
	const u8 want_op = r.op == BLKIF_OP_INDIRECT ? r.indirect_op : r.op;
	const bool op_ok = a.rsp.op == want_op;
	const std::string got = std::string(status_name(st)) + " (op " + std::to_string(a.rsp.op) +
		(op_ok ? "" : ", want op " + std::to_string(want_op)) + ")";
	if (s.expect == Expect::okay || (s.expect == Expect::core_okay && f.opt.strict)) {
		tap.result(st == BLKIF_RSP_OKAY && op_ok, what + got);
		return;
	}
	if (s.expect == Expect::core_okay) {
		tap.result(op_ok && (st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR), what + got);
		return;
	}
	const bool error = st == BLKIF_RSP_ERROR || st == BLKIF_RSP_EOPNOTSUPP;
	const bool exact = st == want;
	const bool lenient_ok = s.expect == Expect::core_error && st == BLKIF_RSP_OKAY;
	const std::string core_says = std::string("core: ") +
		(core == xb::Reject::none ? "accepts (grants are checked when mapping)" : xb::reject_name(core)) +
		" -> " + status_name(want);
	tap.result(op_ok && (f.opt.strict ? exact : error || lenient_ok),
		   what + got + ", id echoed; " + core_says);
	if (!exact)
		tap.diag("%s: backend answered %s where our core's rules give %s", s.name,
			 status_name(st), status_name(want));
}

// Read the pattern sector back and compare it with what was written.
void run_read_back(Front& f, const Scenario& s, Tap& tap)
{
	memset(f.data.addr, 0, BLKIF_PAGE_SIZE);
	xb::Request r;
	one_page(f, r, BLKIF_OP_READ, kPatternSector);
	if (!f.submit(r)) {
		tap.result(false, std::string(s.name) + ": no ring slot");
		return;
	}
	const Answer a = f.await(r.id, f.opt.timeout);
	u8 want[BLKIF_PAGE_SIZE];
	fill_pattern(want);
	const bool same = memcmp(want, f.data.addr, BLKIF_PAGE_SIZE) == 0;
	tap.result(a.got && a.trouble.empty() && a.rsp.status == BLKIF_RSP_OKAY && same,
		   std::string(s.name) + " -> " +
		   (a.got ? std::string(status_name(a.rsp.status)) + (same ? ", data matches" : ", DATA DIFFERS")
			  : a.trouble.empty() ? "no response" : a.trouble));
}

// Publish an impossible producer index: the backend must not consume
// anything (no response) and must keep the ring stopped even when the index
// looks sane again.
void run_bogus_prod(Front& f, const Scenario& s, Tap& tap, u32 bogus)
{
	auto* hdr = static_cast<struct blkif_sring_header*>(f.ring_page.addr);
	const u32 rsp_before = __atomic_load_n(&hdr->rsp_prod, __ATOMIC_ACQUIRE);
	__atomic_store_n(&hdr->req_prod, bogus, __ATOMIC_RELEASE);
	f.evtchn.notify();
	Deadline d(f.opt.timeout);
	while (!d.passed() && __atomic_load_n(&hdr->rsp_prod, __ATOMIC_ACQUIRE) == rsp_before)
		sleep_ms(20);
	const u32 rsp_after = __atomic_load_n(&hdr->rsp_prod, __ATOMIC_ACQUIRE);
	tap.result(rsp_after == rsp_before,
		   std::string(s.name) + ": req_prod " + std::to_string(bogus) + " with rsp_prod " +
		   std::to_string(rsp_before) + " -> " +
		   (rsp_after == rsp_before ? "no response in " + std::to_string(int(f.opt.timeout)) +
			" s: ring stopped" : std::to_string(rsp_after - rsp_before) + " responses"));

	// A valid read with req_prod back at a sane value: still no answer.
	xb::Request r;
	one_page(f, r, BLKIF_OP_READ, kPatternSector);
	void* slot = f.ring.request_slot(f.ring.req_prod_pvt());
	xb::encode_request(f.opt.abi, r, slot);
	__atomic_store_n(&hdr->req_prod, f.ring.req_prod_pvt() + 1, __ATOMIC_RELEASE);
	f.evtchn.notify();
	Deadline d2(std::min(f.opt.timeout, 3.0));
	while (!d2.passed() && __atomic_load_n(&hdr->rsp_prod, __ATOMIC_ACQUIRE) == rsp_after)
		sleep_ms(20);
	const bool quiet = __atomic_load_n(&hdr->rsp_prod, __ATOMIC_ACQUIRE) == rsp_after;
	tap.result(quiet, std::string("then a valid READ with a sane req_prod -> ") +
		   (quiet ? "no response: the ring stays stopped" : "answered: the ring was restarted"));
}
// More than a ring ahead of the responses (Linux's RING_REQUEST_PROD_OVERFLOW).
void run_overflow(Front& f, const Scenario& s, Tap& tap)
{
	run_bogus_prod(f, s, tap, f.ring.req_prod_pvt() + 4 * f.ring.size() + 7);
}
// Behind the requests the backend already consumed.
void run_backwards(Front& f, const Scenario& s, Tap& tap)
{
	run_bogus_prod(f, s, tap, f.ring.req_prod_pvt() - 1);
}

// A whole ring published at once (req_prod exactly one ring ahead, which is
// legal), valid READs alternating with unknown ops: every request answered
// once, each with its own status.
// Every free slot filled, one notification.  reads: every other request a
// valid READ (the rest unknown ops), else unknown ops only: answered without
// any I/O, so no completion wakes the backend up again; it must answer the
// whole ring from that one notification.
void full_ring(Front& f, const Scenario& s, Tap& tap, bool reads)
{
	struct Sent { u64 id; bool valid; bool answered; };
	std::vector<Sent> sent;
	const u32 n = f.ring.free_requests();
	for (u32 i = 0; i < n; i++) {
		xb::Request r;
		if (reads && i % 2 == 0)
			one_page(f, r, BLKIF_OP_READ, kPatternSector);
		else
			r = f.request(7);
		void* slot = f.ring.next_request_slot();
		if (!slot || !xb::encode_request(f.opt.abi, r, slot)) {
			tap.result(false, std::string(s.name) + ": no ring slot");
			return;
		}
		sent.push_back({r.id, reads && i % 2 == 0, false});
	}
	f.ring.push_requests_and_check_notify();
	f.evtchn.notify();
	const Deadline d(f.opt.timeout);
	u32 answered = 0, okay = 0, refused = 0;
	std::string trouble;
	while (answered < n && trouble.empty()) {
		const Answer a = f.next_response(d);
		if (!a.got) {
			trouble = a.trouble.empty() ? "timeout" : a.trouble;
			break;
		}
		auto it = std::find_if(sent.begin(), sent.end(), [&](const Sent& x) { return x.id == a.rsp.id; });
		if (it == sent.end() || it->answered) {
			trouble = it == sent.end() ? "response to an id never sent" : "a request answered twice";
			break;
		}
		it->answered = true;
		answered++;
		const s16 want = it->valid ? s16(BLKIF_RSP_OKAY) : s16(BLKIF_RSP_EOPNOTSUPP);
		if (a.rsp.status == want || (!it->valid && !f.opt.strict && a.rsp.status == BLKIF_RSP_ERROR))
			(it->valid ? okay : refused)++;
	}
	tap.result(trouble.empty() && okay + refused == n,
		   std::string(s.name) + " -> " + std::to_string(answered) + " of " + std::to_string(n) +
		   " answered, " + std::to_string(okay) + " OKAY, " + std::to_string(refused) + " refused" +
		   (trouble.empty() ? "" : "; " + trouble));
}

void run_full_ring(Front& f, const Scenario& s, Tap& tap) { full_ring(f, s, tap, true); }
void run_full_ring_refused(Front& f, const Scenario& s, Tap& tap) { full_ring(f, s, tap, false); }

// A frontend that notifies for nothing: a notification every millisecond for
// a second, no request.  The backend must EOI those events as spurious, so that
// Xen's event code delays the next ones (XSA-332); dom0 counts the backend's
// interrupts meanwhile (with --hold: it says when to start and when it has
// counted).  Then a valid READ: the ring still serves.
void run_flood(Front& f, const Scenario& s, Tap& tap)
{
	const bool paced = !f.opt.hold_key.empty();
	if (paced) {
		printf("XB-FLOOD-READY\n");
		fflush(stdout);
		if (!f.wait_key("flood-go")) {
			tap.result(false, std::string(s.name) + ": dom0's go within the hold timeout");
			return;
		}
	}
	const double t0 = monotonic();
	unsigned n = 0;
	while (monotonic() - t0 < 1.0) {
		f.evtchn.notify();
		n++;
		sleep_ms(1);
	}
	if (paced) {
		printf("XB-FLOOD-DONE %u\n", n);
		fflush(stdout);
		if (!f.wait_key("flood-counted")) {
			tap.result(false, std::string(s.name) + ": dom0's count within the hold timeout");
			return;
		}
	}
	tap.diag("%u notifications in 1 s without a request", n);
	run_read_back(f, s, tap);
}

#define ONE(name, need, expect, build) {name, Need::need, Expect::expect, build, nullptr}
#define RUN(name, need, run) {name, Need::need, Expect::okay, nullptr, run}

// In order; the valid reads between the groups show the ring still works.
const Scenario kScenarios[] = {
	ONE("valid WRITE of one page", none, okay, b_write),
	RUN("valid READ of the page written", none, run_read_back),
	ONE("valid FLUSH_DISKCACHE", flush, okay, b_flush),

	ONE("unknown op 7", none, error, b_op7),
	ONE("unknown op 255", none, error, b_op255),
	ONE("op 4 (RESERVED_1)", none, error, b_reserved),
	RUN("valid READ after bad ops", none, run_read_back),

	ONE("READ with 0 segments", none, error, b_read0),
	ONE("WRITE with 0 segments", none, error, b_write0),
	ONE("READ with 12 direct segments", none, error, b_read12),
	ONE("READ with 255 direct segments", none, error, b_read255),
	ONE("READ segment first_sect 4 > last_sect 2", none, error, b_first_gt_last),
	ONE("READ segment last_sect 8 > 7", none, error, b_last_gt_7),
	ONE("WRITE segment first_sect 7, last_sect 255", none, error, b_write_last_255),
	ONE("READ at the sector just past the end", none, error, b_past_end),
	ONE("READ straddling the end of the disk", none, error, b_straddle),
	ONE("WRITE past the end of the disk", none, error, b_write_past_end),
	ONE("READ at sector 2^64-4 (sector + length wraps)", none, error, b_overflow),
	ONE("READ into grant ref 0xfffff0 (not granted)", none, error, b_bad_gref),
	ONE("READ into a read-only grant", none, error, b_ro_gref),
	RUN("valid READ after bad segments", none, run_read_back),

	ONE("valid INDIRECT READ of one segment", indirect, okay, b_ind_read),
	ONE("INDIRECT with indirect_op WRITE_BARRIER", indirect, error, b_ind_badop),
	ONE("INDIRECT with indirect_op 7", indirect, error, b_ind_op7),
	ONE("INDIRECT with 0 segments", indirect, error, b_ind_zero),
	ONE("INDIRECT with max-indirect-segments + 1", indirect, error, b_ind_over_max),
	ONE("INDIRECT with 4097 segments (9 pages)", indirect, error, b_ind_9_pages),
	ONE("INDIRECT with 65535 segments", indirect, error, b_ind_65535),
	ONE("INDIRECT with indirect page grant 0xfffff0", indirect, error, b_ind_bad_gref),
	ONE("INDIRECT segment last_sect 8 > 7", indirect, error, b_ind_bad_seg),
	ONE("INDIRECT READ past the end", indirect, error, b_ind_past_end),
	RUN("valid READ after bad indirect requests", none, run_read_back),

	ONE("DISCARD past the end", discard, error, b_dis_past_end),
	ONE("DISCARD at sector 2^64-4 (wraps)", discard, error, b_dis_overflow),
	ONE("DISCARD of 2^64-4 sectors", discard, error, b_dis_huge),
	ONE("DISCARD of 0 sectors", discard, core_error, b_dis_empty),
	ONE("DISCARD with unknown flag bit 0x80", discard, core_error, b_dis_flag),
	RUN("valid READ after bad discards", none, run_read_back),

	RUN("a full ring at once: 16 valid READs and 16 unknown ops", none, run_full_ring),
	RUN("a full ring at once of unknown ops, one notification: every one answered", none, run_full_ring_refused),
	RUN("valid READ after the full ring", none, run_read_back),
	RUN("valid READ after a second of notifications without a request", none, run_flood),
	RUN("ring overflow: req_prod 4 rings + 7 ahead", none, run_overflow),
};

// A WRITE and an empty WRITE_BARRIER in one notification: the backend takes
// both in one pass, so the barrier waits for a write of its own ring that is
// still in flight.  On a disk that completes inside submission (null_blk with
// irqmode=0) the write's completion is reaped after the pass's loop; the
// backend must still run the parked barrier (it once went idle instead, and
// the barrier was never answered).  Both answered, the write first.  The page
// is at 8 MiB.
void run_write_then_barrier(Front& f, const Scenario& s, Tap& tap)
{
	fill_pattern(f.data.bytes());
	xb::Request w, b;
	one_page(f, w, BLKIF_OP_WRITE, 16384);
	b = f.request(BLKIF_OP_WRITE_BARRIER);
	for (const xb::Request* r : {&w, &b}) {
		void* slot = f.ring.next_request_slot();
		if (!slot || !xb::encode_request(f.opt.abi, *r, slot)) {
			tap.result(false, std::string(s.name) + ": no ring slot");
			return;
		}
	}
	f.ring.push_requests_and_check_notify();
	f.evtchn.notify();
	const Deadline d(f.opt.timeout);
	const double t0 = monotonic();
	std::string order, trouble;
	bool okay = true;
	for (int i = 0; i < 2 && trouble.empty(); i++) {
		const Answer a = f.next_response(d);
		if (!a.got) {
			trouble = a.trouble.empty() ? "no response within " + std::to_string(int(f.opt.timeout)) +
				" s (" + std::to_string(i) + " of 2 answered)" : a.trouble;
			break;
		}
		const bool is_w = a.rsp.id == w.id, is_b = a.rsp.id == b.id;
		if ((!is_w && !is_b) || order.find(is_w ? 'W' : 'B') != std::string::npos) {
			trouble = "a response to an id never sent, or twice";
			break;
		}
		order += is_w ? 'W' : 'B';
		okay = okay && a.rsp.status == BLKIF_RSP_OKAY;
	}
	tap.result(trouble.empty() && okay && order == "WB",
		   std::string(s.name) + " -> " +
		   (trouble.empty() ? std::string(okay ? "both OKAY" : "an error status") +
			", answered in the order " + order + " within " +
			std::to_string(static_cast<int>((monotonic() - t0) * 1000)) + " ms" : trouble));
}

// --durability: one page written before a data barrier, one written by the
// barrier, one after it; then the tool holds (no close, no flush) so that dom0
// can destroy the domain and power-cycle the disk.  Pages at 2, 4 and 6 MiB
// (and, before them, the write + empty barrier pair above at 8 MiB).
void b_dur_before(Front& f, xb::Request& r) { fill_pattern(f.data.bytes()); one_page(f, r, BLKIF_OP_WRITE, 4096); }
void b_dur_barrier(Front& f, xb::Request& r) { fill_pattern(f.data.bytes()); one_page(f, r, BLKIF_OP_WRITE_BARRIER, 8192); }
void b_dur_after(Front& f, xb::Request& r) { fill_pattern(f.data.bytes()); one_page(f, r, BLKIF_OP_WRITE, 12288); }
const Scenario kDurability[] = {
	RUN("a WRITE and an empty WRITE_BARRIER in one notification (8 MiB)", barrier, run_write_then_barrier),
	ONE("plain WRITE of the page at 2 MiB", none, okay, b_dur_before),
	ONE("WRITE_BARRIER with the page at 4 MiB", barrier, okay, b_dur_barrier),
	ONE("plain WRITE of the page at 6 MiB, after the barrier", none, okay, b_dur_after),
};

// After the close, a second connection on the same device.
const Scenario kAfterReconnect[] = {
	RUN("valid READ after the reconnect", none, run_read_back),
	ONE("persistent: valid INDIRECT READ of one segment", persistent_indirect, okay, b_ind_read),
	ONE("persistent: the same INDIRECT READ again (its indirect page kept)", persistent_indirect, okay, b_ind_read),
	ONE("persistent: INDIRECT with indirect page grant 0xfffff0", persistent_indirect, error, b_ind_bad_gref),
	ONE("persistent: INDIRECT READ with a read-only indirect page", persistent_indirect, core_okay, b_ind_ro_page),
	RUN("persistent: valid READ after the indirect requests", none, run_read_back),
	RUN("producer moved back: req_prod one behind", none, run_backwards),
};

bool available(const Front& f, Need n, const char** why)
{
	switch (n) {
	case Need::none: return true;
	case Need::flush: *why = "backend offers no feature-flush-cache"; return f.lim.flush;
	case Need::barrier: *why = "backend offers no feature-barrier"; return f.lim.barrier;
	case Need::discard: *why = "backend offers no feature-discard"; return f.lim.discard;
	case Need::indirect: *why = "backend offers no indirect segments"; return f.lim.max_indirect_segments != 0;
	case Need::persistent_indirect:
		*why = "backend offers no persistent grants or no indirect segments";
		return f.persistent && f.lim.max_indirect_segments != 0;
	}
	return false;
}

template <size_t N> void run_all(Front& f, const Scenario (&list)[N], Tap& tap)
{
	for (const Scenario& s : list) {
		const char* why = "";
		if (!available(f, s.need, &why))
			tap.skip(s.name, why);
		else if (s.run)
			s.run(f, s, tap);
		else
			run_request(f, s, tap);
	}
}

} // namespace

int main(int argc, char** argv)
{
	Options opt;
	if (!parse_options(argc, argv, &opt))
		return 2;
	Tap tap(opt.tap_prefix);
	Front f(opt);
	if (!f.connect(tap)) {
		tap.done();
		return 1;
	}
	if (opt.durability) {
		run_all(f, kDurability, tap);
		printf("XB-DURABILITY-WRITTEN\n");
		fflush(stdout);
		if (!opt.hold_key.empty() && !f.hold(opt.hold_key))
			tap.result(false, "dom0's go (data/xenblk-" + opt.hold_key + ") within the hold timeout");
		return tap.done() ? 0 : 1;
	}
	run_all(f, kScenarios, tap);
	tap.diag("%u events received", f.evtchn.events);
	if (!opt.hold_key.empty() && !f.hold(opt.hold_key))
		tap.result(false, "dom0's go (data/xenblk-" + opt.hold_key + ") within the hold timeout");
	f.disconnect(tap);
	// a stopped ring must not leave the device unusable: connect again
	if (f.connect(tap)) {
		run_all(f, kAfterReconnect, tap);
		f.disconnect(tap);
	}
	printf("XB-HOSTILE-END\n");
	return tap.done() ? 0 : 1;
}
