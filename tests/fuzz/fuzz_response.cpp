// libFuzzer target: what the frontend takes from an untrusted backend - ring
// responses (decode, check against the requests in flight, what an accepted
// status does) and the backend's xenstore keys (negotiation of transport and
// device).
//
// Input: byte 0 picks the path.  Responses: the ABI, the ring size and the
// table of requests in flight, then response slots (zero-padded when short),
// each in a heap block of exactly its size so that ASan reports any read past
// it.  Keys: a value for each key the frontend reads (bytes up to a NUL or the
// key's share of the input), then the frontend's limits.  Besides memory
// safety it checks the rules the driver relies on; a violated one traps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "front_response.hpp"
#include "negotiate.hpp"
#include "wire.hpp"
#include "fuzz_input.hpp"

namespace {

const uint8_t kOps[] = {BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER, BLKIF_OP_FLUSH_DISKCACHE,
			BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT, 0xff};

void fuzz_responses(Input& in, uint8_t sel)
{
	const xb::Abi abi = (sel & 2) ? xb::Abi::x86_32 : xb::Abi::x86_64;
	const size_t ring = size_t{1} << (in.byte() % 9);   // 1 .. 256 entries
	std::unique_ptr<xb::InFlight[]> fl(new xb::InFlight[ring]);
	for (size_t i = 0; i < ring; i++) {
		const uint8_t b = in.byte();
		fl[i].in_use = b & 1;
		fl[i].op = kOps[(b >> 1) % sizeof(kOps)];
		fl[i].inner_op = fl[i].op == BLKIF_OP_INDIRECT ? kOps[(b >> 4) % 3] : fl[i].op;
	}
	const size_t rsz = xb::response_size(abi);
	for (int k = 0; k < 16 && in.n; k++) {
		std::unique_ptr<uint8_t[]> slot(new uint8_t[rsz]);
		in.fill(slot.get(), rsz);
		xb::Response r;
		xb::decode_response(abi, slot.get(), &r);
		const xb::BadResponse bad =
			xb::check_response(r, kstd::span<const xb::InFlight>(fl.get(), ring));
		CHECK(xb::bad_response_name(bad) != nullptr);
		if (bad != xb::BadResponse::none)
			continue;
		// accepted: the id names a request on the ring, with a matching op and
		// a status the protocol has
		CHECK(r.id < ring && fl[r.id].in_use);
		CHECK(r.op == fl[r.id].op || (fl[r.id].op == BLKIF_OP_INDIRECT && r.op == fl[r.id].inner_op));
		CHECK(r.status == BLKIF_RSP_OKAY || r.status == BLKIF_RSP_ERROR ||
		      r.status == BLKIF_RSP_EOPNOTSUPP);
		const xb::ResponseAction a = xb::response_action(fl[r.id], r.status);
		// success only for OKAY; a refusal only for EOPNOTSUPP (an ERROR is
		// never taken for "not supported"), of the operation it concerns
		CHECK((a == xb::ResponseAction::ok) == (r.status == BLKIF_RSP_OKAY));
		if (a == xb::ResponseAction::flush_refused)
			CHECK(r.status == BLKIF_RSP_EOPNOTSUPP &&
			      (fl[r.id].inner_op == BLKIF_OP_FLUSH_DISKCACHE ||
			       fl[r.id].inner_op == BLKIF_OP_WRITE_BARRIER));
		if (a == xb::ResponseAction::discard_refused)
			CHECK(r.status == BLKIF_RSP_EOPNOTSUPP && fl[r.id].inner_op == BLKIF_OP_DISCARD);
		fl[r.id].in_use = false;   // completed: a second answer must be refused
		CHECK(xb::check_response(r, kstd::span<const xb::InFlight>(fl.get(), ring)) ==
		      xb::BadResponse::not_in_flight);
	}
}

const char* const kKeys[] = {
	"multi-queue-max-queues", "max-ring-page-order", "feature-persistent",
	"feature-max-indirect-segments", "feature-flush-cache", "feature-barrier",
	"feature-discard", "discard-granularity", "discard-alignment", "discard-secure",
	"sectors", "sector-size", "physical-sector-size", "info", "mode",
};
constexpr size_t kNrKeys = sizeof(kKeys) / sizeof(kKeys[0]);

class FuzzKeys : public xb::KeySource {
public:
	std::string val[kNrKeys];
	bool present[kNrKeys] = {};
	bool read(const char* key, char* buf, size_t len) const override
	{
		for (size_t i = 0; i < kNrKeys; i++) {
			if (std::strcmp(key, kKeys[i]) != 0 || !present[i])
				continue;
			if (!len)
				return true;
			const size_t k = val[i].size() < len - 1 ? val[i].size() : len - 1;
			std::memcpy(buf, val[i].data(), k);
			buf[k] = '\0';
			return true;
		}
		return false;
	}
};

bool pow2(uint32_t v) { return v && !(v & (v - 1)); }

void fuzz_keys(Input& in)
{
	FuzzKeys keys;
	const uint16_t present = static_cast<uint16_t>(in.byte() | in.byte() << 8);
	for (size_t i = 0; i < kNrKeys; i++) {
		keys.present[i] = present >> i & 1;
		const size_t len = in.byte() % 24;
		for (size_t j = 0; j < len && in.n; j++)
			keys.val[i].push_back(static_cast<char>(in.byte()));
	}
	xb::FrontendLimits lim;
	lim.max_queues = in.byte() % 40;
	lim.nr_cpus = in.byte() % 40;
	lim.max_ring_order = in.byte() % 8;
	lim.max_indirect_segments = static_cast<uint32_t>(in.byte()) * 20;
	lim.persistent = in.byte() & 1;
	xb::NegotiatedConfig c;
	if (xb::frontend_negotiate(keys, lim, &c) != 0)
		return;
	// whatever the backend wrote, what the driver uses stays in bounds
	CHECK(c.nr_queues >= 1 && c.nr_queues <= xb::frontend_max_queues);
	CHECK(c.nr_queues <= (lim.max_queues ? lim.max_queues : 1));
	CHECK(c.ring_order <= xb::blkif_max_ring_order && c.ring_order <= lim.max_ring_order);
	CHECK(xb::valid_disk_sectors(c.sectors));
	CHECK(pow2(c.sector_size) && c.sector_size >= 512 && c.sector_size <= 4096);
	CHECK(pow2(c.physical_sector_size) && c.physical_sector_size >= c.sector_size);
	CHECK(c.max_indirect_segments == 0 ||
	      (c.max_indirect_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST &&
	       c.max_indirect_segments <= BLKIF_MAX_INDIRECT_SEGMENTS &&
	       c.max_indirect_segments <= lim.max_indirect_segments));
	if (c.discard) {
		CHECK(c.discard_granularity && c.discard_granularity % c.sector_size == 0);
		CHECK(c.discard_alignment % c.sector_size == 0 && c.discard_alignment < c.discard_granularity);
	}
	// a write cache is used only where the backend offered a way to flush it
	if (c.write_cache)
		CHECK(c.flush != xb::FlushMode::none);
	if (c.persistent)
		CHECK(lim.persistent);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	Input in{data, size};
	const uint8_t sel = in.byte();
	if (sel & 1)
		fuzz_keys(in);
	else
		fuzz_responses(in, sel);
	return 0;
}
