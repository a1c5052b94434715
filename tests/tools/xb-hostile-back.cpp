// SPDX-License-Identifier: GPL-2.0
// xb-hostile-back - a hostile blkif backend in dom0's userspace, against the
// frontend driver of a running domU.
//
// It makes each virtual disk itself, as a toolstack would (a frontend
// directory device/vbd/N in the domU, a backend directory under a type no
// kernel driver watches, /local/domain/0/backend/xbhostile/D/N), plays the
// backend's handshake (InitWait, the frontend's rings mapped with gntdev,
// its ports bound with evtchn, Connected) and then, session after session
// (one disk each, xvdb..xvdp in turn):
//
//   valid     answers correctly through the data grants (the control: the
//             domU reads the pattern, writes and reads back)
//   keys      bogus keys at connect, each set refused (the frontend never
//             connects) or clamped to something sane (it connects, the size
//             is as expected)
//   random    one hostile answer per disk (a bad or duplicate id, a wrong
//             op, an unknown status, rsp_prod beyond the ring or anywhere,
//             a ring's worth of garbage), then a burst of random ones: the
//             domU's read must fail with EIO
//   teardown  a reader in the domU, then the backend Closing (or the disk's
//             frontend directory removed) while the tool keeps writing
//             responses and notifying until the frontend is Closed
//
// --erase-delay MS is another mode, not hostile but slow: one disk (xvdb)
// for domain D (0 too: dom0's own xen-blkfront), offering discard and secure
// discard (discard-secure 1), each secure discard held MS ms and answered
// with the next status of --erase-status (slow_erase.hpp); SIGTERM ends it
// (held erases answered, Closing, Closed).  tests/selftests/back/secure-erase.sh
// serves a domU through our backend with it.
//
// The domU runs the checks it is told through xenstore: dom0 writes
// data/xenblk-hbN "COMMAND ARGS", the domU answers data/hb-rN "ok ..." or
// "fail ...".  Output is TAP (--tap-prefix) and "XB-HOSTILE-BACK ..." counts.
// The seed is printed; --seed replays a run.
//
//   xb-hostile-back --domid D [--seed S] [--random N] [--teardowns N]
//                   [--tap-prefix P]
//   xb-hostile-back --domid D --erase-delay MS [--erase-status okay,error,...]
#include "slow_erase.hpp"   // and hostile_back.hpp

namespace {

volatile sig_atomic_t g_stop = 0;

constexpr u64 kSectors = 16384;   // 8 MiB
enum class Hostile { none, bad_id, dup_id, wrong_op, bad_status, beyond, jump, garbage, count };
const char* hostile_name(Hostile h)
{
	static const char* n[] = {"none", "id out of range", "duplicate id", "wrong op",
				  "unknown status", "rsp_prod beyond the ring", "rsp_prod jump",
				  "a ring of garbage"};
	return n[static_cast<int>(h)];
}

// One bogus key set: the keys it changes, and what the frontend must do.
struct KeySet {
	const char* key;
	const char* value;
	bool refused;
	u64 sectors;    // if accepted: the disk's size
	const char* check;   // if accepted: what else to verify
};
const KeySet kKeySets[] = {
	{"max-ring-page-order", "255", false, kSectors, "ring order <= 4"},
	{"multi-queue-max-queues", "4294967295", false, kSectors, "queues <= 4"},
	{"feature-max-indirect-segments", "4294967295", false, kSectors, "a 128 KiB read"},
	{"sectors", "0", false, 0, "size 0"},
	{"sectors", "36028797018963968", true, 0, nullptr},   // 2^55
	{"sectors", "18446744073709551615", true, 0, nullptr},
	{"sectors", "99999999999999999999", true, 0, nullptr},
	{"sector-size", "0", true, 0, nullptr},
	{"sector-size", "1000", true, 0, nullptr},
	{"sector-size", "4294967296", true, 0, nullptr},
	{"physical-sector-size", "256", true, 0, nullptr},
	{"multi-queue-max-queues", "4294967296", true, 0, nullptr},
	{"max-ring-page-order", "x", true, 0, nullptr},
	{"feature-max-indirect-segments", "18446744073709551616", true, 0, nullptr},
	{"feature-flush-cache", "yes", true, 0, nullptr},
	{"feature-discard", "-1", true, 0, nullptr},
	{"info", "0x1", true, 0, nullptr},
};

class Tool {
public:
	Tool(u16 domid, u64 seed, Tap& tap) : domid_(domid), rng_(seed), tap_(tap) {}

	// ---- the domU's side: a command, its answer (serving meanwhile)
	bool ask(Back* b, const std::string& cmd, double secs, std::string* answer)
	{
		const unsigned n = ++step_;
		const std::string home = "/local/domain/" + std::to_string(domid_) + "/data/";
		Deadline d(secs);
		double again = 0;
		while (!ctl_.read(home + "hb-r" + std::to_string(n), answer)) {
			if (d.passed() || g_stop) {
				*answer = "no answer in " + std::to_string(static_cast<int>(secs)) + " s";
				return false;
			}
			// written again every half second: the domU's wait is a
			// xenstore watch, and a write just before the watch was set
			// would otherwise be seen only when its 10 s bound ends
			if (monotonic() >= again) {
				ctl_.write(home + "xenblk-hb" + std::to_string(n), cmd);
				again = monotonic() + 0.5;
			}
			if (b)
				pump(*b, 50);
			else
				sleep_ms(50);
		}
		// both keys go: they are the domU's nodes, and xenstored's quota
		// of nodes per domain ended a run of 80 teardowns at step 107
		ctl_.rm(home + "xenblk-hb" + std::to_string(n));
		ctl_.rm(home + "hb-r" + std::to_string(n));
		return answer->compare(0, 2, "ok") == 0 && answer->find("fail") == std::string::npos;
	}
	// A check of the domU's; one owed by the session before (its disk gone)
	// goes with it ("A + B": one round trip less).
	bool check(Back* b, const std::string& label, const std::string& cmd, double secs = 60)
	{
		std::string a;
		const std::string c = owed_.empty() ? cmd : owed_ + " + " + cmd;
		owed_.clear();
		const bool ok = ask(b, c, secs, &a);
		tap_.result(ok, label + ": domU " + c + ": " + a);
		return ok;
	}

	// ---- one disk
	std::unique_ptr<Back> make(const char* label, std::string* name)
	{
		const unsigned idx = 1 + (disks_++ % 15);   // xvdb .. xvdp
		*name = std::string("xvd") + static_cast<char>('a' + idx);
		std::unique_ptr<Back> b(new Back(domid_, (202u << 8) | (idx << 4)));
		if (!b->open_devs() || !b->create()) {
			tap_.result(false, std::string(label) + ": create " + *name + " in xenstore: " + strerror(errno));
			return nullptr;
		}
		ctl_.open_dev();
		return b;
	}

	// Handshake with the base keys, one of them replaced; the frontend's
	// state at the end (4 when it connected).  Serving starts at Connected:
	// the frontend reads the new disk before it says Connected itself.
	u64 handshake(Back& b, const KeySet* bogus, std::string* why)
	{
		auto val = [&](const char* k, const char* dflt) {
			return bogus && !strcmp(bogus->key, k) ? std::string(bogus->value) : std::string(dflt);
		};
		b.set("max-ring-page-order", val("max-ring-page-order", "2"));
		b.set("multi-queue-max-queues", val("multi-queue-max-queues", "2"));
		b.set("feature-flush-cache", val("feature-flush-cache", "1"));
		b.set("feature-max-indirect-segments", val("feature-max-indirect-segments", "32"));
		b.state(st_initwait);
		u64 fs = 0;
		Deadline d(20);
		while ((fs = b.front_state()) < st_initialised && !d.passed() && !g_stop)
			sleep_ms(20);
		if (fs != st_initialised) {
			*why = "frontend state " + std::to_string(fs) + " after InitWait";
			return fs;
		}
		if (!b.attach(why))
			return 0;
		b.sectors = bogus && !bogus->refused && !strcmp(bogus->key, "sectors") ? bogus->sectors : kSectors;
		b.set("sectors", val("sectors", std::to_string(kSectors).c_str()));
		b.set("sector-size", val("sector-size", "512"));
		b.set("physical-sector-size", val("physical-sector-size", "512"));
		b.set("info", val("info", "0"));
		b.set("feature-discard", val("feature-discard", erase_.active() ? "1" : "0"));
		if (erase_.active()) {
			b.set("discard-granularity", "4096");
			b.set("discard-alignment", "0");
			b.set("discard-secure", "1");
		}
		b.set("mode", "w");
		b.state(st_connected);
		Deadline c(30);
		while ((fs = b.front_state()) == st_initialised && !c.passed() && !g_stop)
			pump(b, 20);
		if (fs != st_connected)
			*why = "frontend state " + std::to_string(fs) + " after Connected";
		return fs;
	}

	// Close as a backend does: Closing, the frontend Closed, Closed, the
	// directories removed.  The disk must then go in the domU.
	void close(Back& b, const char* label, const std::string& name, bool spam = false, bool gone = true)
	{
		b.state(st_closing);
		Deadline d(20);
		u64 fs;
		const double t0 = monotonic();
		if (spam)
			bad_at_ = t0 + bad_delay();
		while ((fs = b.front_state()) != st_closed && !d.passed())
			spam ? teardown_round(b) : pump(b, 20);
		if (spam && fs == st_closed)
			last_close_ = monotonic() - t0;
		tap_.result(fs == st_closed, std::string(label) + ": Closing: the frontend reaches Closed (state " +
			    std::to_string(fs) + ")");
		for (Deadline t(spam ? 0.5 : 0); spam && !t.passed();)
			garbage_round(b);   // and after it: the frontend's rings are gone now
		b.state(st_closed);
		b.remove();
		burst_queue_ = nullptr;
		if (gone)
			owed_ = "gone " + name;
	}

	// ---- serving
	// Take every request of every ring: answer each correctly, or the first
	// one hostilely when the session is hostile.  Then wait for an event.
	void pump(Back& b, int ms)
	{
		for (auto& q : b.queues) {
			for (;;) {
				const kstd::Result<u32> n = q->ring.unconsumed_requests();
				if (!n || !*n)
					break;
				while (const void* slot = q->ring.next_request_slot()) {
					xb::Request r;
					xb::decode_request(b.abi, slot, &r);
					b.counts.requests++;
					if (erase_.active())
						erase_.serve(b, *q, r);
					else if (hostile_ != Hostile::none && !hostile_done_)
						act(b, *q, r);
					else
						b.respond(*q, r.id, r.op, b.serve(r));
				}
			}
		}
		if (burst_queue_ && monotonic() >= burst_at_) {
			for (; burst_; burst_--)
				garbage(b, *burst_queue_, rng_.below(burst_queue_->ring.size()));
			burst_queue_ = nullptr;
		}
		erase_.answer_held(b, false);
		b.evt.wait(erase_.wait_ms(ms));
	}

	// Serve one disk until SIGTERM; true if it connected and closed.
	bool slow_erase(double delay_ms, const std::vector<s16>& statuses)
	{
		erase_.start(delay_ms, statuses);
		std::string name, why;
		auto b = make("slow-erase", &name);
		if (!b)
			return false;
		// Untrusted: the frontend copies through pages of its own.  Served to
		// dom0 and stacked under a backend, the pages of a request are the
		// domU's, mapped into dom0: dom0 cannot grant them on (every read
		// through the stack failed with EIO).  Written before InitWait: the
		// frontend reads it when it sets up its rings.
		b->xs.write(b->fe + "/trusted", "0");
		const u64 fs = handshake(*b, nullptr, &why);
		if (!tap_.result(fs == st_connected, "slow-erase: " + name + " connects" + (why.empty() ? "" : ": " + why))) {
			b->state(st_closed);
			b->remove();
			return false;
		}
		printf("XB-SLOW-ERASE ready %s sectors=%llu delay=%.0f ms queues=%zu\n", name.c_str(),
		       static_cast<unsigned long long>(b->sectors), delay_ms, b->queues.size());
		fflush(stdout);
		while (!g_stop)
			pump(*b, 20);
		erase_.answer_held(*b, true);
		close(*b, "slow-erase", name, false, false);
		erase_.totals();
		return true;
	}

	// rsp_prod moved to v, published, notified
	void publish(Back& b, Queue& q, u32 v)
	{
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&q.hdr()->rsp_prod, v, __ATOMIC_RELAXED);
		b.evt.notify(q.port);
	}
	// a response with random fields written at rsp_prod, published
	void garbage(Back& b, Queue& q, u64 id)
	{
		const u32 prod = __atomic_load_n(&q.hdr()->rsp_prod, __ATOMIC_RELAXED);
		xb::encode_response(b.abi, q.ring.response_slot(prod), id, static_cast<u8>(rng_.next()),
				    static_cast<s16>(rng_.next()));
		b.counts.responses++;
		b.counts.hostile++;
		publish(b, q, prod + 1);
	}
	void garbage_round(Back& b)
	{
		for (auto& q : b.queues) {
			garbage(b, *q, rng_.below(2) ? rng_.next() : rng_.below(q->ring.size() * 2));
			garbage(b, *q, rng_.below(q->ring.size()));
		}
		sleep_ms(1);
	}
	// When the one bad answer of a teardown is due: the frontend frees its
	// rings just before it says Closed, so in the second half of the time
	// the last teardown took to Closed (the first: within 300 ms).
	double bad_delay()
	{
		const double u = static_cast<double>(rng_.below(1000)) / 1000;
		return last_close_ > 0 ? last_close_ * (0.5 + u / 2) : 0.3 * u;
	}
	// During a teardown: every request answered correctly, a notification
	// with nothing new every round (an interrupt for the frontend), and at
	// bad_at_ one bad answer: the frontend breaks the disk then and
	// schedules its work, at a random moment of its teardown.
	void teardown_round(Back& b)
	{
		hostile_ = Hostile::none;
		pump(b, 0);
		for (auto& q : b.queues) {
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			b.evt.notify(q->port);
		}
		if (bad_at_ && monotonic() >= bad_at_ && !b.queues.empty()) {
			bad_at_ = 0;
			garbage(b, *b.queues[rng_.below(b.queues.size())], rng_.next() | (1ull << 62));
		}
		sleep_ms(1);
	}

	// The session's hostile answer to request r.
	void act(Back& b, Queue& q, const xb::Request& r)
	{
		hostile_done_ = true;
		b.counts.hostile++;
		const u32 size = q.ring.size();
		switch (hostile_) {
		case Hostile::bad_id:
			b.respond(q, rng_.below(2) ? size + rng_.below(1000) : rng_.next() | (1ull << 63),
				  r.op, BLKIF_RSP_OKAY);
			break;
		case Hostile::dup_id: {
			// answered correctly, and again in the same publication: a
			// second answer published later could meet a new request that
			// reuses the id, and would then be a legal answer to it
			const s16 st = b.serve(r);
			xb::encode_response(b.abi, q.ring.next_response_slot(), r.id, r.op, st);
			xb::encode_response(b.abi, q.ring.response_slot(q.ring.rsp_prod_pvt()), r.id, r.op,
					    BLKIF_RSP_OKAY);
			b.counts.responses += 2;
			publish(b, q, q.ring.rsp_prod_pvt() + 1);
			break;
		}
		case Hostile::wrong_op: {
			u8 op;
			do
				op = static_cast<u8>(rng_.below(2) ? rng_.below(8) : rng_.next());
			while (op == r.op || op == r.indirect_op);
			b.respond(q, r.id, op, BLKIF_RSP_OKAY);
			break;
		}
		case Hostile::bad_status: {
			s16 st;
			do
				st = static_cast<s16>(rng_.next());
			while (st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR || st == BLKIF_RSP_EOPNOTSUPP);
			b.respond(q, r.id, r.op, st);
			break;
		}
		case Hostile::beyond:
			publish(b, q, q.ring.req_cons() + size + 1 + static_cast<u32>(rng_.below(1000)));
			b.counts.jumps++;
			break;
		case Hostile::jump:
			publish(b, q, static_cast<u32>(rng_.next()));
			b.counts.jumps++;
			break;
		default:   // a whole ring of random responses, rsp_prod past the requests
			for (u32 i = 0; i < size + 1; i++)
				garbage(b, q, rng_.below(2) ? r.id : rng_.next());
			break;
		}
		// and a burst of random ones once the frontend has seen it
		burst_ = static_cast<unsigned>(rng_.below(8));
		burst_at_ = monotonic() + 0.3;
		burst_queue_ = &q;
	}

	// ---- the phases
	bool valid()
	{
		std::string name, why;
		auto b = make("valid", &name);
		if (!b)
			return false;
		const u64 fs = handshake(*b, nullptr, &why);
		if (!tap_.result(fs == st_connected, "valid: " + name + " connects" + (why.empty() ? "" : ": " + why))) {
			b->remove();
			return false;
		}
		tap_.diag("valid: %zu queue(s), ring order %u, protocol %s", b->queues.size(), b->ring_order,
			  xb::protocol_name(b->abi));
		bool ok = check(b.get(), "valid", "read " + name + " 24 8 16384");
		ok &= check(b.get(), "valid", "write " + name + " 64");
		ok &= check(b.get(), "valid", "read " + name + " 200 256");
		ok &= tap_.result(b->counts.served >= 4 && b->disk.written.size() >= 8,
				  "valid: the tool served " + std::to_string(b->counts.served) +
				  " requests, " + std::to_string(b->disk.written.size()) + " sectors written");
		close(*b, "valid", name);
		totals(*b);
		return ok;
	}

	void keys()
	{
		for (const KeySet& k : kKeySets) {
			if (g_stop)
				return;
			const std::string label = std::string("keys ") + k.key + "=" + k.value;
			std::string name, why;
			auto b = make(label.c_str(), &name);
			if (!b)
				continue;
			const u64 fs = handshake(*b, &k, &why);
			if (k.refused) {
				tap_.result(fs == st_closing || fs == st_closed,
					    label + ": refused (frontend state " + std::to_string(fs) + ")");
				check(b.get(), label, "absent " + name);
			} else {
				tap_.result(fs == st_connected, label + ": accepted (frontend state " +
					    std::to_string(fs) + ")" + (why.empty() ? "" : ": " + why));
				if (!k.sectors)
					check(b.get(), label, "size " + name + " 0");
				if (!strcmp(k.check, "ring order <= 4"))
					tap_.result(b->ring_order <= 4, label + ": ring-page-order " +
						    std::to_string(b->ring_order));
				if (!strcmp(k.check, "queues <= 4"))
					tap_.result(!b->queues.empty() && b->queues.size() <= 4,
						    label + ": " + std::to_string(b->queues.size()) + " queue(s)");
				if (k.sectors)
					check(b.get(), label, std::string("read ") + name + " 512 " +
					      (!strcmp(k.check, "a 128 KiB read") ? "256" : "8") + " " +
					      std::to_string(k.sectors));
			}
			close(*b, label.c_str(), name, false, !k.refused);
			totals(*b);
		}
	}

	void random(unsigned rounds)
	{
		const unsigned kinds = static_cast<unsigned>(Hostile::count) - 1;
		std::vector<Hostile> order;
		for (unsigned i = 0; i < rounds; i++) {
			if (i % kinds == 0) {   // each kind once in every kinds rounds
				std::vector<Hostile> k;
				for (unsigned j = 1; j <= kinds; j++)
					k.push_back(static_cast<Hostile>(j));
				for (unsigned j = kinds; j > 1; j--)
					std::swap(k[j - 1], k[rng_.below(j)]);
				order.insert(order.end(), k.begin(), k.end());
			}
		}
		for (unsigned i = 0; i < rounds && !g_stop; i++) {
			const std::string label = std::string("random ") + std::to_string(i + 1) + " (" +
						  hostile_name(order[i]) + ")";
			std::string name, why;
			auto b = make(label.c_str(), &name);
			if (!b)
				continue;
			hostile_ = order[i];
			hostile_done_ = false;
			const u64 fs = handshake(*b, nullptr, &why);
			// the frontend reads the new disk before it says Connected: it
			// may have met the hostile answer already and connect broken
			tap_.result(fs == st_connected, label + ": " + name + " connects" +
				    (why.empty() ? "" : ": " + why));
			check(b.get(), label, "eio " + name + " 8");
			tap_.result(hostile_done_, label + ": the hostile answer was sent");
			hostile_ = Hostile::none;
			close(*b, label.c_str(), name);
			totals(*b);
		}
	}

	void teardown(unsigned rounds)
	{
		for (unsigned i = 0; i < rounds && !g_stop; i++) {
			const bool remove = i % 2;   // the backend Closing, or the disk's directory removed
			const std::string label = std::string("teardown ") + std::to_string(i + 1) +
						  (remove ? " (frontend directory removed)" : " (backend Closing)");
			std::string name, why;
			auto b = make(label.c_str(), &name);
			if (!b)
				continue;
			const u64 fs = handshake(*b, nullptr, &why);
			if (!tap_.result(fs == st_connected, label + ": " + name + " connects" +
					 (why.empty() ? "" : ": " + why))) {
				close(*b, label.c_str(), name);
				continue;
			}
			check(b.get(), label, "load " + name);
			for (Deadline d(1.0); !d.passed();)
				pump(*b, 20);
			const u64 before = b->counts.responses;
			if (!remove) {
				close(*b, label.c_str(), name, true);
			} else {
				b->xs.rm(b->fe);
				bad_at_ = monotonic() + bad_delay();
				for (Deadline d(1.0); !d.passed();)
					teardown_round(*b);
				for (Deadline d(0.5); !d.passed();)
					garbage_round(*b);
				b->state(st_closed);
				b->remove();
			}
			tap_.diag("%s: %llu responses during the teardown", label.c_str(),
				  static_cast<unsigned long long>(b->counts.responses - before));
			check(nullptr, label, "ended " + name, 60);
			totals(*b);
		}
	}

	void end()
	{
		if (!owed_.empty())
			check(nullptr, "last disk", "true");
		std::string a;
		ask(nullptr, "end", 30, &a);
		printf("XB-HOSTILE-BACK disks=%u requests=%llu responses=%llu hostile=%llu jumps=%llu notifications=%llu\n",
		       disks_, static_cast<unsigned long long>(all_.requests),
		       static_cast<unsigned long long>(all_.responses), static_cast<unsigned long long>(all_.hostile),
		       static_cast<unsigned long long>(all_.jumps), static_cast<unsigned long long>(notified_));
	}

private:
	void totals(const Back& b)
	{
		all_.requests += b.counts.requests;
		all_.responses += b.counts.responses;
		all_.hostile += b.counts.hostile;
		all_.jumps += b.counts.jumps;
		notified_ += b.evt.notified;
	}
	u16 domid_;
	Rng rng_;
	Tap& tap_;
	XenStore ctl_;
	std::string owed_;
	unsigned step_ = 0, disks_ = 0;
	Hostile hostile_ = Hostile::none;
	bool hostile_done_ = false;
	Queue* burst_queue_ = nullptr;   // a burst of garbage is due on it at burst_at_
	double burst_at_ = 0;
	double bad_at_ = 0;   // teardown: when the one bad answer is due (0: sent)
	double last_close_ = 0;   // seconds from Closing to the frontend's Closed, last time
	unsigned burst_ = 0;
	Counts all_;
	u64 notified_ = 0;
	SlowErase erase_;   // --erase-delay
};

void on_signal(int) { g_stop = 1; }

} // namespace

int main(int argc, char** argv)
{
	unsigned domid = 0, rounds = 7, teardowns = 2;
	u64 seed = 0;
	std::string prefix;
	bool have_domid = false;
	double erase_delay = -1;
	std::vector<s16> erase_status{BLKIF_RSP_OKAY};
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
		if (a == "--domid" && v) { domid = static_cast<unsigned>(strtoul(argv[++i], nullptr, 0)); have_domid = true; }
		else if (a == "--erase-delay" && v) erase_delay = strtod(argv[++i], nullptr);
		else if (a == "--erase-status" && v) {
			if (!SlowErase::parse_statuses(argv[++i], &erase_status)) {
				fprintf(stderr, "xb-hostile-back: --erase-status okay,error,...\n");
				return 2;
			}
		}
		else if (a == "--seed" && v) seed = strtoull(argv[++i], nullptr, 0);
		else if (a == "--random" && v) rounds = static_cast<unsigned>(strtoul(argv[++i], nullptr, 0));
		else if (a == "--teardowns" && v) teardowns = static_cast<unsigned>(strtoul(argv[++i], nullptr, 0));
		else if (a == "--tap-prefix" && v) prefix = argv[++i];
		else {
			fprintf(stderr, "usage: %s --domid D [--seed S] [--random N] [--teardowns N] [--tap-prefix P]\n"
				"       %s --domid D --erase-delay MS [--erase-status okay,error,...]\n",
				argv[0], argv[0]);
			return 2;
		}
	}
	// the hostile sessions need a domU's checks; the slow erase serves dom0 too
	if (!have_domid || (!domid && erase_delay < 0)) {
		fprintf(stderr, "xb-hostile-back: --domid is required (0 only with --erase-delay)\n");
		return 2;
	}
	if (erase_delay >= 0) {
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		Tap tap(prefix);
		Tool t(static_cast<u16>(domid), 1, tap);
		const bool ok = t.slow_erase(erase_delay, erase_status);
		return tap.done() && ok ? 0 : 1;
	}
	if (!seed)
		seed = static_cast<u64>(time(nullptr)) ^ (static_cast<u64>(getpid()) << 32);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	Tap tap(prefix);
	printf("XB-HOSTILE-BACK seed=%llu (XENBLK_SEED=%llu replays)\n", static_cast<unsigned long long>(seed),
	       static_cast<unsigned long long>(seed));
	fflush(stdout);
	Tool t(static_cast<u16>(domid), seed, tap);
	const double t0 = monotonic();
	auto took = [&](const char* phase) { tap.diag("%s: %.1f s so far", phase, monotonic() - t0); };
	if (t.valid()) {   // the control: without it nothing else means anything
		took("valid");
		t.keys();
		took("keys");
		t.random(rounds);
		took("random");
		t.teardown(teardowns);
		took("teardown");
	}
	t.end();
	return tap.done() ? 0 : 1;
}
