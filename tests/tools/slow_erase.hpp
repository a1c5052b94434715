// SPDX-License-Identifier: GPL-2.0
// slow_erase.hpp - xb-hostile-back --erase-delay: a disk whose secure discard
// is slow.  Every request is answered correctly at once, except a secure
// discard (BLKIF_DISCARD_SECURE): held delay ms while the rest is served,
// then answered with the next status of the list (okay, error; the last one
// repeats); an okay erase zeroes its range.  "XB-SLOW-ERASE ..." lines say
// when each arrived and was answered and how many reads were served while it
// was held.  tests/selftests/back/secure-erase.sh.
#pragma once
#include "hostile_back.hpp"

#include <vector>

namespace {

class SlowErase {
public:
	// "okay,error,..." -> statuses; false on a word that is neither
	static bool parse_statuses(const std::string& l, std::vector<s16>* out)
	{
		out->clear();
		for (size_t p = 0; p <= l.size();) {
			const size_t e = std::min(l.find(',', p), l.size());
			const std::string w = l.substr(p, e - p);
			if (w == "okay")
				out->push_back(BLKIF_RSP_OKAY);
			else if (w == "error")
				out->push_back(BLKIF_RSP_ERROR);
			else
				return false;
			p = e + 1;
		}
		return !out->empty();
	}

	void start(double delay_ms, const std::vector<s16>& statuses)
	{
		delay_ms_ = delay_ms;
		statuses_ = statuses;
		t0_ = monotonic();
	}
	bool active() const { return delay_ms_ >= 0; }

	// One request of the frontend's (Linux blkfront wants an INDIRECT
	// answered with its indirect_op).
	void serve(Back& b, Queue& q, const xb::Request& r)
	{
		if (r.op == BLKIF_OP_DISCARD) {
			discard(b, q, r);
			return;
		}
		count_io(r);
		b.respond(q, r.id, r.op == BLKIF_OP_INDIRECT ? r.indirect_op : r.op, b.serve(r));
	}

	// Answer the held erases that are due (all of them when stopping).
	void answer_held(Back& b, bool all)
	{
		while (!held_.empty() && (all || monotonic() >= held_.front().due)) {
			const Held h = held_.front();
			held_.erase(held_.begin());
			const s16 st = h.inside ? h.status : BLKIF_RSP_ERROR;
			if (st == BLKIF_RSP_OKAY) {
				u8 zero[BLKIF_SECTOR_SIZE] = {};
				for (u64 s = h.sector; s < h.sector + h.count; s++)
					b.disk.write(s, zero);
			}
			b.respond(*h.q, h.id, BLKIF_OP_DISCARD, st);
			answered_++;
			const double now = monotonic();
			printf("XB-SLOW-ERASE erase %u answered %s after %.3f s%s, reads %llu in all, reads served meanwhile %llu\n",
			       h.n, st == BLKIF_RSP_OKAY ? "OKAY" : "ERROR", now - h.arrived,
			       all && now < h.due ? " (early: the tool stops)" : "",
			       static_cast<unsigned long long>(reads_), static_cast<unsigned long long>(h.reads));
			fflush(stdout);
		}
	}

	// a wait of ms, cut short for the next erase due
	int wait_ms(int ms) const
	{
		if (held_.empty())
			return ms;
		return std::max(0, std::min(ms, static_cast<int>((held_.front().due - monotonic()) * 1000) + 1));
	}

	void totals() const
	{
		printf("XB-SLOW-ERASE reads=%llu writes=%llu discards=%llu erases=%u answered=%u\n",
		       static_cast<unsigned long long>(reads_), static_cast<unsigned long long>(writes_),
		       static_cast<unsigned long long>(discards_), erases_, answered_);
		fflush(stdout);
	}

private:
	struct Held {
		Queue* q;
		u64 id, sector, count, reads = 0;
		double arrived, due;
		unsigned n;
		s16 status;
		bool inside;
	};

	void count_io(const xb::Request& r)
	{
		const u8 op = r.op == BLKIF_OP_INDIRECT ? r.indirect_op : r.op;
		if (op == BLKIF_OP_READ) {
			reads_++;
			for (Held& h : held_)
				h.reads++;
		} else if (op == BLKIF_OP_WRITE) {
			writes_++;
		}
	}

	// a discard answered at once, a secure one held
	void discard(Back& b, Queue& q, const xb::Request& r)
	{
		const bool inside = r.nr_sectors && r.sector + r.nr_sectors <= b.sectors &&
				    r.sector + r.nr_sectors > r.sector;
		if (!(r.discard_flag & BLKIF_DISCARD_SECURE)) {
			discards_++;
			b.respond(q, r.id, r.op, inside ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR);
			return;
		}
		Held h;
		h.q = &q;
		h.id = r.id;
		h.sector = r.sector;
		h.count = r.nr_sectors;
		h.inside = inside;
		h.arrived = monotonic();
		h.due = h.arrived + delay_ms_ / 1000.0;
		h.n = ++erases_;
		h.status = statuses_[std::min<size_t>(h.n - 1, statuses_.size() - 1)];
		printf("XB-SLOW-ERASE erase %u sector=%llu count=%llu arrived at %.3f s\n", h.n,
		       static_cast<unsigned long long>(h.sector), static_cast<unsigned long long>(h.count),
		       h.arrived - t0_);
		fflush(stdout);
		held_.push_back(h);
	}

	double delay_ms_ = -1;   // < 0: not this mode
	std::vector<s16> statuses_{BLKIF_RSP_OKAY};
	std::vector<Held> held_;     // in arrival order: the same delay for each
	double t0_ = 0;
	u64 reads_ = 0, writes_ = 0, discards_ = 0;
	unsigned erases_ = 0, answered_ = 0;
};

} // namespace
