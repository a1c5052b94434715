// Shared ring views: geometry, index wrap-around, notification thresholds,
// hostile producer indices, and a two-thread exchange with real barriers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "ring.hpp"
#include "wire.hpp"

namespace {

using xb::RingIdx;

// Page-backed shared area for one ring.
class RingMem {
public:
	explicit RingMem(size_t pages) : pages_(pages), mem_(pages * BLKIF_PAGE_SIZE) {}
	void* data() { return mem_.data(); }
	size_t pages() const { return pages_; }
	blkif_sring_header* hdr() { return reinterpret_cast<blkif_sring_header*>(mem_.data()); }
	// Shared header as a frontend leaves it with both producers at 'start'.
	void set_start(RingIdx start)
	{
		std::memset(mem_.data(), 0, BLKIF_SRING_HEADER_SIZE);
		hdr()->req_prod = hdr()->rsp_prod = start;
		hdr()->req_event = hdr()->rsp_event = start + 1;
	}

private:
	size_t pages_;
	std::vector<unsigned char> mem_;
};

// Barriers that count calls and can run a hook (the other side acting
// exactly inside the window a barrier closes).
struct HookBarriers {
	static inline int mb_n, rmb_n, wmb_n;
	static inline std::function<void()> on_mb, on_wmb;
	static void reset()
	{
		mb_n = rmb_n = wmb_n = 0;
		on_mb = on_wmb = nullptr;
	}
	static void mb()
	{
		mb_n++;
		if (on_mb)
			on_mb();
		xb::SmpBarriers::mb();
	}
	static void rmb()
	{
		rmb_n++;
		xb::SmpBarriers::rmb();
	}
	static void wmb()
	{
		wmb_n++;
		if (on_wmb)
			on_wmb();
		xb::SmpBarriers::wmb();
	}
};

using Front = xb::FrontRing<>;
using Back = xb::BackRing<>;

void put_u64(void* slot, uint64_t v) { std::memcpy(slot, &v, sizeof v); }
uint64_t get_u64(const void* slot)
{
	uint64_t v;
	std::memcpy(&v, slot, sizeof v);
	return v;
}

TEST(Ring, EntriesPerGeometry)
{
	for (unsigned order = 0; order <= BLKIF_MAX_RING_PAGE_ORDER; order++) {
		EXPECT_EQ(xb::ring_entries(1u << order, 112), 32u << order);
		EXPECT_EQ(xb::ring_entries(1u << order, 108), 32u << order);
		EXPECT_EQ(xb::ring_entries(1u << order, 16), 128u << order);   // 252 -> 128
	}
	EXPECT_EQ(xb::ring_entries(0, 112), 0u);
	EXPECT_EQ(xb::ring_entries(3, 112), 0u);
	EXPECT_EQ(xb::ring_entries(32, 112), 0u);
	EXPECT_EQ(xb::ring_entries(1, 0), 0u);
	EXPECT_EQ(xb::ring_entries(1, 4096), 0u);
	EXPECT_EQ(xb::ring_entries(1, 4032), 1u);
}

TEST(Ring, InitRejectsBadGeometry)
{
	RingMem mem(1);
	Front f;
	EXPECT_EQ(f.init(mem.data(), 3, 112), kstd::Errno::inval);
	EXPECT_EQ(f.init(nullptr, 1, 112), kstd::Errno::inval);
	EXPECT_EQ(f.init(mem.data(), 1, 0), kstd::Errno::inval);
	EXPECT_FALSE(f.attached());
	Back b;
	EXPECT_EQ(b.attach(mem.data(), 17, 112), kstd::Errno::inval);
	EXPECT_FALSE(b.attached());
}

TEST(Ring, InitSetsUpSharedHeader)
{
	RingMem mem(2);
	std::memset(mem.data(), 0xAA, 2 * BLKIF_PAGE_SIZE);
	Front f;
	ASSERT_EQ(f.init(mem.data(), 2, 112), kstd::Errno::ok);
	EXPECT_EQ(f.size(), 64u);
	EXPECT_EQ(mem.hdr()->req_prod, 0u);
	EXPECT_EQ(mem.hdr()->rsp_prod, 0u);
	EXPECT_EQ(mem.hdr()->req_event, 1u);
	EXPECT_EQ(mem.hdr()->rsp_event, 1u);
	const auto* p = static_cast<const unsigned char*>(mem.data());
	for (size_t i = 16; i < 2 * BLKIF_PAGE_SIZE; i++)
		ASSERT_EQ(p[i], 0) << "byte " << i;
	EXPECT_EQ(f.free_requests(), 64u);
	EXPECT_EQ(f.req_prod_pvt(), 0u);
	EXPECT_EQ(f.rsp_cons(), 0u);
}

TEST(Ring, SlotsAreEntriesAfterHeader)
{
	RingMem mem(1);
	Front f;
	ASSERT_EQ(f.init(mem.data(), 1, 108), kstd::Errno::ok);
	auto* base = static_cast<unsigned char*>(mem.data()) + BLKIF_SRING_HEADER_SIZE;
	EXPECT_EQ(f.request_slot(0), base);
	EXPECT_EQ(f.request_slot(5), base + 5 * 108);
	EXPECT_EQ(f.request_slot(32 + 5), base + 5 * 108);
	EXPECT_EQ(f.response_slot(0xFFFFFFFFu), base + 31 * 108);
}

// Pass batches through a ring whose indices start just below 2^32, at every
// order and for both entry sizes: the indices wrap, payloads stay in order.
TEST(Ring, IndicesWrapAtEveryOrder)
{
	const RingIdx start = 0xFFFFFFF0u;
	for (unsigned order = 0; order <= BLKIF_MAX_RING_PAGE_ORDER; order++) {
		for (size_t esz : { size_t(112), size_t(108) }) {
			SCOPED_TRACE(testing::Message() << "order " << order << " entry " << esz);
			RingMem mem(1u << order);
			mem.set_start(start);
			Front f;
			Back b;
			ASSERT_EQ(f.attach(mem.data(), mem.pages(), esz, start), kstd::Errno::ok);
			ASSERT_EQ(b.attach(mem.data(), mem.pages(), esz, start), kstd::Errno::ok);
			const uint32_t size = f.size();
			ASSERT_EQ(size, 32u << order);
			const uint32_t batches[] = { size, 1, size / 2 + 1, size - 1, size, 3, size };
			uint64_t sent = 0, recv = 0;
			for (uint32_t want : batches) {
				uint32_t n = 0;
				while (n < want) {
					void* s = f.next_request_slot();
					ASSERT_NE(s, nullptr);
					put_u64(s, sent++);
					n++;
				}
				if (want == size) {   // full ring
					EXPECT_EQ(f.free_requests(), 0u);
					EXPECT_EQ(f.next_request_slot(), nullptr);
				}
				f.push_requests_and_check_notify();

				auto avail = b.unconsumed_requests();
				ASSERT_TRUE(avail.ok());
				ASSERT_EQ(*avail, n);
				const void* rq;
				uint64_t expect = recv;
				while ((rq = b.next_request_slot())) {
					ASSERT_EQ(get_u64(rq), expect);
					void* rs = b.next_response_slot();
					ASSERT_NE(rs, nullptr);
					put_u64(rs, ~expect++);
				}
				EXPECT_EQ(b.next_response_slot(), nullptr);
				b.push_responses_and_check_notify();

				auto got = f.unconsumed_responses();
				ASSERT_TRUE(got.ok());
				ASSERT_EQ(*got, n);
				const void* rs;
				while ((rs = f.next_response_slot()))
					ASSERT_EQ(get_u64(rs), ~recv++);
				EXPECT_EQ(f.free_requests(), size);
			}
			EXPECT_EQ(recv, sent);
			EXPECT_LT(f.req_prod_pvt(), start);   // wrapped past 2^32
			EXPECT_EQ(mem.hdr()->req_prod, RingIdx(start + sent));
			EXPECT_EQ(mem.hdr()->rsp_prod, RingIdx(start + sent));
			EXPECT_FALSE(f.broken());
			EXPECT_FALSE(b.stopped());
		}
	}
}

// The backend never consumes more requests than it has free response slots.
TEST(Ring, BackendConsumesAtMostOneRing)
{
	RingMem mem(1);
	Front f;
	Back b;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);
	while (f.next_request_slot()) {}
	f.push_requests_and_check_notify();
	ASSERT_EQ(*b.unconsumed_requests(), 32u);
	while (b.next_request_slot()) {}
	EXPECT_EQ(b.req_cons(), 32u);
	ASSERT_EQ(*b.unconsumed_requests(), 0u);   // nothing answered, nothing more
	ASSERT_NE(b.next_response_slot(), nullptr);
	b.push_responses_and_check_notify();
	ASSERT_EQ(*f.unconsumed_responses(), 1u);
	ASSERT_NE(f.next_response_slot(), nullptr);
	ASSERT_NE(f.next_request_slot(), nullptr);
	EXPECT_EQ(f.next_request_slot(), nullptr);
	f.push_requests_and_check_notify();
	EXPECT_EQ(*b.unconsumed_requests(), 1u);
}

TEST(Ring, RequestNotifyFollowsReqEvent)
{
	RingMem mem(1);
	Front f;
	Back b;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);

	f.next_request_slot();
	EXPECT_TRUE(f.push_requests_and_check_notify());    // 0 -> 1 passes req_event 1
	f.next_request_slot();
	EXPECT_FALSE(f.push_requests_and_check_notify());   // backend did not re-arm
	EXPECT_FALSE(f.push_requests_and_check_notify());   // nothing new: no event

	// The backend drains; final check finds nothing and re-arms at req_cons + 1.
	ASSERT_EQ(*b.unconsumed_requests(), 2u);
	while (b.next_request_slot()) {}
	auto more = b.final_check_for_requests();
	ASSERT_TRUE(more.ok());
	EXPECT_FALSE(*more);
	EXPECT_EQ(mem.hdr()->req_event, 3u);

	// A batch that crosses the threshold notifies once.
	for (int i = 0; i < 3; i++)
		f.next_request_slot();
	EXPECT_TRUE(f.push_requests_and_check_notify());   // 2 -> 5 passes 3
	f.next_request_slot();
	EXPECT_FALSE(f.push_requests_and_check_notify());

	// Final check with work pending reports it and leaves req_event alone.
	more = b.final_check_for_requests();
	ASSERT_TRUE(more.ok());
	EXPECT_TRUE(*more);
	EXPECT_EQ(mem.hdr()->req_event, 3u);
}

TEST(Ring, ResponseNotifyFollowsRspEvent)
{
	RingMem mem(1);
	Front f;
	Back b;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);
	for (int i = 0; i < 6; i++)
		f.next_request_slot();
	f.push_requests_and_check_notify();
	ASSERT_EQ(*b.unconsumed_requests(), 6u);
	while (b.next_request_slot()) {}

	b.next_response_slot();
	EXPECT_TRUE(b.push_responses_and_check_notify());    // passes rsp_event 1
	b.next_response_slot();
	EXPECT_FALSE(b.push_responses_and_check_notify());

	ASSERT_EQ(*f.unconsumed_responses(), 2u);
	while (f.next_response_slot()) {}
	auto more = f.final_check_for_responses();
	ASSERT_TRUE(more.ok());
	EXPECT_FALSE(*more);
	EXPECT_EQ(mem.hdr()->rsp_event, 3u);

	b.next_response_slot();
	b.next_response_slot();
	EXPECT_TRUE(b.push_responses_and_check_notify());
	more = f.final_check_for_responses();
	ASSERT_TRUE(more.ok());
	EXPECT_TRUE(*more);
	EXPECT_EQ(mem.hdr()->rsp_event, 3u);
	EXPECT_EQ(b.next_response_slot() != nullptr, true);
	b.next_response_slot();
	EXPECT_EQ(b.next_response_slot(), nullptr);   // all six answered
}

// The frontend publishes a request exactly between the backend re-arming
// req_event and re-reading req_prod: the final check must see it.
TEST(Ring, FinalCheckForRequestsCatchesRace)
{
	HookBarriers::reset();
	RingMem mem(1);
	Front f;
	xb::BackRing<HookBarriers> b;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);
	bool notified = false;
	HookBarriers::on_mb = [&] {
		EXPECT_EQ(mem.hdr()->req_event, 1u);   // already re-armed
		f.next_request_slot();
		notified = f.push_requests_and_check_notify();
	};
	auto more = b.final_check_for_requests();
	HookBarriers::reset();
	ASSERT_TRUE(more.ok());
	EXPECT_TRUE(*more);
	EXPECT_TRUE(notified);
	EXPECT_NE(b.next_request_slot(), nullptr);
}

TEST(Ring, FinalCheckForResponsesCatchesRace)
{
	HookBarriers::reset();
	RingMem mem(1);
	xb::FrontRing<HookBarriers> f;
	Back b;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);
	f.next_request_slot();
	f.push_requests_and_check_notify();
	ASSERT_EQ(*b.unconsumed_requests(), 1u);
	b.next_request_slot();
	HookBarriers::reset();
	bool notified = false;
	HookBarriers::on_mb = [&] {
		b.next_response_slot();
		notified = b.push_responses_and_check_notify();
	};
	auto more = f.final_check_for_responses();
	HookBarriers::reset();
	ASSERT_TRUE(more.ok());
	EXPECT_TRUE(*more);
	EXPECT_TRUE(notified);
	EXPECT_NE(f.next_response_slot(), nullptr);
}

// wmb before publishing the index, mb after it; rmb after each snapshot.
TEST(Ring, BarrierPlacement)
{
	HookBarriers::reset();
	RingMem mem(1);
	xb::FrontRing<HookBarriers> f;
	xb::BackRing<HookBarriers> b;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);
	f.next_request_slot();
	HookBarriers::on_wmb = [&] { EXPECT_EQ(mem.hdr()->req_prod, 0u); };
	HookBarriers::on_mb = [&] { EXPECT_EQ(mem.hdr()->req_prod, 1u); };
	f.push_requests_and_check_notify();
	EXPECT_EQ(HookBarriers::wmb_n, 1);
	EXPECT_EQ(HookBarriers::mb_n, 1);
	EXPECT_EQ(HookBarriers::rmb_n, 0);

	HookBarriers::reset();
	ASSERT_EQ(*b.unconsumed_requests(), 1u);
	EXPECT_EQ(HookBarriers::rmb_n, 1);
	b.next_request_slot();
	b.next_response_slot();
	HookBarriers::on_wmb = [&] { EXPECT_EQ(mem.hdr()->rsp_prod, 0u); };
	HookBarriers::on_mb = [&] { EXPECT_EQ(mem.hdr()->rsp_prod, 1u); };
	b.push_responses_and_check_notify();
	EXPECT_EQ(HookBarriers::wmb_n, 1);
	EXPECT_EQ(HookBarriers::mb_n, 1);

	HookBarriers::reset();
	HookBarriers::on_mb = [&] { EXPECT_EQ(mem.hdr()->req_event, 2u); };
	ASSERT_FALSE(*b.final_check_for_requests());
	EXPECT_EQ(HookBarriers::mb_n, 1);
	EXPECT_EQ(HookBarriers::rmb_n, 2);
	HookBarriers::reset();
}

// A frontend that runs req_prod more than one ring ahead of our responses
// stops the backend for good.
TEST(Ring, BackendStopsOnProducerOverflow)
{
	const RingIdx start = 0xFFFFFFF0u;
	RingMem mem(1);
	mem.set_start(start);
	Back b;
	ASSERT_EQ(b.attach(mem.data(), 1, 112, start), kstd::Errno::ok);

	mem.hdr()->req_prod = start + 32;   // exactly one full ring: fine
	auto n = b.unconsumed_requests();
	ASSERT_TRUE(n.ok());
	EXPECT_EQ(*n, 32u);
	EXPECT_FALSE(b.stopped());

	mem.hdr()->req_prod = start + 33;   // one past
	n = b.unconsumed_requests();
	EXPECT_FALSE(n.ok());
	EXPECT_EQ(n.error(), kstd::Errno::proto);
	EXPECT_TRUE(b.stopped());
	EXPECT_EQ(b.next_request_slot(), nullptr);   // earlier snapshot revoked

	mem.hdr()->req_prod = start + 1;    // sane again: still stopped
	EXPECT_FALSE(b.unconsumed_requests().ok());
	EXPECT_FALSE(b.final_check_for_requests().ok());
	EXPECT_EQ(b.next_request_slot(), nullptr);
	EXPECT_EQ(b.req_cons(), start);
}

TEST(Ring, BackendStopsWhenProducerFarAheadOfResponses)
{
	RingMem mem(1);
	Back b;
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);
	mem.set_start(0);
	mem.hdr()->req_prod = 32;
	ASSERT_EQ(*b.unconsumed_requests(), 32u);
	while (b.next_request_slot()) {}
	mem.hdr()->req_prod = 40;   // 40 ahead of rsp_prod_pvt 0
	EXPECT_FALSE(b.unconsumed_requests().ok());
	EXPECT_TRUE(b.stopped());

	Back c;
	ASSERT_EQ(c.attach(mem.data(), 1, 112), kstd::Errno::ok);
	mem.hdr()->req_prod = 0x80000000u;   // far ahead
	EXPECT_FALSE(c.unconsumed_requests().ok());
	EXPECT_TRUE(c.stopped());
}

TEST(Ring, BackendStopsWhenProducerMovesBack)
{
	RingMem mem(1);
	Back b;
	mem.set_start(0);
	ASSERT_EQ(b.attach(mem.data(), 1, 112), kstd::Errno::ok);
	mem.hdr()->req_prod = 4;
	ASSERT_EQ(*b.unconsumed_requests(), 4u);
	while (b.next_request_slot()) {}
	mem.hdr()->req_prod = 2;   // behind req_cons, within a ring of rsp_prod_pvt
	EXPECT_FALSE(b.unconsumed_requests().ok());
	EXPECT_TRUE(b.stopped());
}

TEST(Ring, FrontendDetectsRspProdBeyondPublishedRequests)
{
	const RingIdx start = 0xFFFFFFFEu;
	RingMem mem(1);
	mem.set_start(start);
	Front f;
	ASSERT_EQ(f.attach(mem.data(), 1, 112, start), kstd::Errno::ok);
	for (int i = 0; i < 3; i++)
		f.next_request_slot();
	f.push_requests_and_check_notify();
	f.next_request_slot();   // filled, not published

	mem.hdr()->rsp_prod = start + 3;   // all published ones answered: fine
	auto n = f.unconsumed_responses();
	ASSERT_TRUE(n.ok());
	EXPECT_EQ(*n, 3u);
	mem.hdr()->rsp_prod = start + 4;   // answers an unpublished request
	n = f.unconsumed_responses();
	EXPECT_FALSE(n.ok());
	EXPECT_EQ(n.error(), kstd::Errno::proto);
	EXPECT_TRUE(f.broken());
	EXPECT_EQ(f.next_response_slot(), nullptr);
	EXPECT_EQ(f.next_request_slot(), nullptr);
	mem.hdr()->rsp_prod = start + 1;   // sane again: still broken
	EXPECT_FALSE(f.final_check_for_responses().ok());
	EXPECT_FALSE(f.check_for_responses().ok());
}

TEST(Ring, FrontendDetectsRspProdMoreThanOneRingAhead)
{
	RingMem mem(1);
	Front f;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	mem.hdr()->rsp_prod = 33;
	EXPECT_FALSE(f.unconsumed_responses().ok());
	EXPECT_TRUE(f.broken());
}

TEST(Ring, FrontendDetectsRspProdMovingBack)
{
	RingMem mem(1);
	Front f;
	ASSERT_EQ(f.init(mem.data(), 1, 112), kstd::Errno::ok);
	for (int i = 0; i < 4; i++)
		f.next_request_slot();
	f.push_requests_and_check_notify();
	mem.hdr()->rsp_prod = 3;
	ASSERT_EQ(*f.unconsumed_responses(), 3u);
	while (f.next_response_slot()) {}
	mem.hdr()->rsp_prod = 1;
	EXPECT_FALSE(f.unconsumed_responses().ok());
	EXPECT_TRUE(f.broken());
}

// ---------------------------------------------------------------- two threads

// Payload checksum the backend echoes in the response status.
int16_t checksum(const xb::Request& q)
{
	uint64_t h = q.sector ^ (uint64_t(q.nr_segments) << 56);
	for (unsigned i = 0; i < q.nr_segments && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		h = h * 31 + q.seg[i].gref + (q.seg[i].first_sect << 8) + q.seg[i].last_sect;
	h ^= h >> 29;
	h ^= h >> 15;
	return int16_t(h & 0x7fff);
}

xb::Request make_request(uint64_t seq)
{
	xb::Request q{};
	q.op = BLKIF_OP_WRITE;
	q.id = 0x5a5a000000000000ull + seq;
	q.sector = seq * 8;
	q.nr_segments = uint16_t(1 + seq % BLKIF_MAX_SEGMENTS_PER_REQUEST);
	for (unsigned i = 0; i < q.nr_segments; i++)
		q.seg[i] = xb::Segment{ uint32_t(seq * 13 + i), uint8_t(i % 4), uint8_t(4 + i % 4) };
	return q;
}

// An event channel: notify sets it, the waiter consumes it.
class Event {
public:
	void notify() { pending_.store(true, std::memory_order_release); }
	// false on timeout
	bool wait(std::chrono::steady_clock::time_point deadline)
	{
		for (unsigned spins = 0; !pending_.exchange(false, std::memory_order_acq_rel); spins++) {
			if ((spins & 1023) == 0 && std::chrono::steady_clock::now() > deadline)
				return false;
			std::this_thread::yield();
		}
		return true;
	}

private:
	std::atomic<bool> pending_{ false };
};

TEST(RingThreads, MillionRequestsThroughOnePage)
{
	constexpr uint64_t N = 1000000;
	const xb::Abi abi = xb::native_abi();
	const RingIdx start = 0xFFFF0000u;   // crosses 2^32 on the way
	RingMem mem(1);
	mem.set_start(start);
	Front f;
	Back b;
	ASSERT_EQ(f.attach(mem.data(), 1, xb::entry_size(abi), start), kstd::Errno::ok);
	ASSERT_EQ(b.attach(mem.data(), 1, xb::entry_size(abi), start), kstd::Errno::ok);
	Event to_back, to_front;
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
	std::atomic<bool> back_failed{ false };
	uint64_t back_notifies = 0, front_notifies = 0;

	std::thread backend([&] {
		uint64_t handled = 0;
		while (handled < N) {
			if (!b.unconsumed_requests().ok()) {
				back_failed = true;
				return;
			}
			while (const void* s = b.next_request_slot()) {
				xb::Request q;
				xb::decode_request(abi, s, &q);
				xb::encode_response(abi, b.next_response_slot(), q.id, q.op, checksum(q));
				handled++;
			}
			if (b.push_responses_and_check_notify()) {
				front_notifies++;
				to_front.notify();
			}
			if (handled == N)
				break;
			auto more = b.final_check_for_requests();
			if (!more.ok()) {
				back_failed = true;
				return;
			}
			if (!*more && !to_back.wait(deadline)) {
				back_failed = true;
				return;
			}
		}
	});

	// Frontend on this thread; returns an empty string on success.
	std::vector<uint8_t> seen(N, 0);
	uint64_t done = 0;
	auto frontend = [&]() -> std::string {
		uint64_t sent = 0;
		while (done < N) {
			while (sent < N) {
				void* s = f.next_request_slot();
				if (!s)
					break;
				if (!xb::encode_request(abi, make_request(sent), s))
					return "encode_request failed";
				sent++;
			}
			if (f.push_requests_and_check_notify()) {
				back_notifies++;
				to_back.notify();
			}
			auto n = f.unconsumed_responses();
			if (!n.ok())
				return "bogus rsp_prod";
			while (const void* s = f.next_response_slot()) {
				xb::Response r;
				xb::decode_response(abi, s, &r);
				const uint64_t seq = r.id - 0x5a5a000000000000ull;
				if (seq != done || r.op != BLKIF_OP_WRITE ||
				    r.status != checksum(make_request(seq)))
					return "bad response " + std::to_string(done);
				seen[seq]++;
				done++;
			}
			if (*n)
				continue;
			auto more = f.final_check_for_responses();
			if (!more.ok())
				return "bogus rsp_prod";
			if (!*more && !to_front.wait(deadline))
				return "frontend starved at " + std::to_string(done) + " (lost wakeup?)";
		}
		return "";
	};
	const std::string err = frontend();
	if (!err.empty())   // make the backend give up: producer far ahead
		__atomic_store_n(&mem.hdr()->req_prod, start + 0x40000000u, __ATOMIC_RELEASE);
	to_back.notify();
	backend.join();
	ASSERT_EQ(err, "");
	EXPECT_FALSE(back_failed);
	EXPECT_EQ(done, N);
	for (uint64_t i = 0; i < N; i++)
		ASSERT_EQ(seen[i], 1) << "id " << i;
	EXPECT_EQ(mem.hdr()->req_prod, RingIdx(start + N));
	EXPECT_EQ(mem.hdr()->rsp_prod, RingIdx(start + N));
	EXPECT_GT(back_notifies, 0u);
	EXPECT_GT(front_notifies, 0u);
	EXPECT_LT(back_notifies, N);   // event suppression did something
	RecordProperty("back_notifies", std::to_string(back_notifies));
	RecordProperty("front_notifies", std::to_string(front_notifies));
}

} // namespace
