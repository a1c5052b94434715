// SPDX-License-Identifier: GPL-2.0
// hostile_back.hpp - a blkif backend in dom0's userspace, for xb-hostile-back:
// the device's xenstore directories (as a toolstack makes them), the connect
// handshake, the frontend's rings mapped with /dev/xen/gntdev, its event
// channels bound with /dev/xen/evtchn, and a servant that answers requests
// correctly by mapping their data grants.  What is hostile is in the tool.
#pragma once
#include "hostile_front.hpp"   // Tap, Deadline, XenStore

#include <csignal>
#include <map>
#include <memory>

typedef uint32_t grant_ref_t;   // the uapi header uses it without defining it
#include <xen/gntdev.h>

namespace {

// ---------------------------------------------------------------- gntdev

// Grants of one domain mapped into this process; one mapping per call.
class Mapper {
public:
	~Mapper() { if (fd_ >= 0) close(fd_); }
	bool open_dev()
	{
		fd_ = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
		return fd_ >= 0;
	}
	struct Map {
		void* addr = nullptr;
		u64 index = 0;
		u32 count = 0;
	};
	// Map refs of domid contiguously; writable or read-only.
	bool map(u16 domid, const u32* refs, u32 count, bool writable, Map* out)
	{
		std::vector<u8> buf(sizeof(ioctl_gntdev_map_grant_ref) +
				    count * sizeof(ioctl_gntdev_grant_ref));
		auto* m = reinterpret_cast<ioctl_gntdev_map_grant_ref*>(buf.data());
		m->count = count;
		for (u32 i = 0; i < count; i++)
			m->refs[i] = {domid, refs[i]};
		if (ioctl(fd_, IOCTL_GNTDEV_MAP_GRANT_REF, m) < 0)
			return false;
		void* p = mmap(nullptr, count * BLKIF_PAGE_SIZE,
			       writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd_,
			       static_cast<off_t>(m->index));
		if (p == MAP_FAILED) {
			struct ioctl_gntdev_unmap_grant_ref u = {m->index, count, 0};
			ioctl(fd_, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
			return false;
		}
		*out = {p, m->index, count};
		return true;
	}
	// Unmapped before the answer: a frontend may refuse an answer to a
	// request whose pages are still mapped (ours does).
	void unmap(Map* m)
	{
		if (!m->addr)
			return;
		munmap(m->addr, m->count * BLKIF_PAGE_SIZE);
		struct ioctl_gntdev_unmap_grant_ref u = {m->index, m->count, 0};
		ioctl(fd_, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
		m->addr = nullptr;
	}

private:
	int fd_ = -1;
};

// ---------------------------------------------------------------- evtchn

// Interdomain ports bound on one /dev/xen/evtchn; the fd tells which fired.
class Ports {
public:
	~Ports() { if (fd_ >= 0) close(fd_); }
	bool open_dev()
	{
		fd_ = open("/dev/xen/evtchn", O_RDWR | O_CLOEXEC);
		return fd_ >= 0;
	}
	int bind(u16 domid, unsigned remote_port)
	{
		struct ioctl_evtchn_bind_interdomain b = {domid, remote_port};
		return ioctl(fd_, IOCTL_EVTCHN_BIND_INTERDOMAIN, &b);
	}
	void unbind(unsigned port)
	{
		struct ioctl_evtchn_unbind u = {port};
		ioctl(fd_, IOCTL_EVTCHN_UNBIND, &u);
	}
	void notify(unsigned port)
	{
		struct ioctl_evtchn_notify n = {port};
		if (ioctl(fd_, IOCTL_EVTCHN_NOTIFY, &n) == 0)
			notified++;
	}
	// Wait up to ms; consume and unmask what fired.  A hint only.
	void wait(int ms)
	{
		struct pollfd pfd = {fd_, POLLIN, 0};
		if (poll(&pfd, 1, ms) <= 0)
			return;
		unsigned p[16];
		const ssize_t r = ::read(fd_, p, sizeof(p));
		if (r > 0 && ::write(fd_, p, static_cast<size_t>(r)) < 0)
			return;
	}
	u64 notified = 0;

private:
	int fd_ = -1;
};

// ---------------------------------------------------------------- the disk

// What a sector holds: 16 lines "xb-hostile-back sector %08llu\n" (32
// bytes), unless written since.  The domU's checks expect the same text.
struct Disk {
	std::map<u64, std::string> written;
	void read(u64 sector, u8* out) const
	{
		const auto it = written.find(sector);
		if (it != written.end()) {
			memcpy(out, it->second.data(), BLKIF_SECTOR_SIZE);
			return;
		}
		char line[40];
		snprintf(line, sizeof(line), "xb-hostile-back sector %08llu\n",
			 static_cast<unsigned long long>(sector % 100000000));
		for (u32 i = 0; i < BLKIF_SECTOR_SIZE; i += 32)
			memcpy(out + i, line, 32);
	}
	void write(u64 sector, const u8* in)
	{
		written[sector].assign(reinterpret_cast<const char*>(in), BLKIF_SECTOR_SIZE);
	}
};

// ---------------------------------------------------------------- one ring

struct Queue {
	Mapper::Map ring_map;
	unsigned port = 0;   // local
	xb::BackRing<> ring;
	blkif_sring_header* hdr() const { return static_cast<blkif_sring_header*>(ring_map.addr); }
};

struct Counts {
	u64 requests = 0, served = 0, responses = 0, hostile = 0, jumps = 0;
};

// The backend side of one vbd of domain `domid`.
class Back {
public:
	Back(u16 domid, unsigned devid) : domid_(domid), devid_(devid)
	{
		be = "/local/domain/0/backend/xbhostile/" + std::to_string(domid) + "/" +
		     std::to_string(devid);
		fe = "/local/domain/" + std::to_string(domid) + "/device/vbd/" + std::to_string(devid);
	}
	~Back() { release(); }

	bool open_devs()
	{
		return xs.open_dev() && gnt.open_dev() && evt.open_dev();
	}

	// Both directories in one transaction, as a toolstack makes them: the
	// backend's owned by dom0 and readable by the domU, the frontend's owned
	// by the domU.  The backend says Initialising.
	bool create()
	{
		for (int attempt = 0; attempt < 5; attempt++) {
			if (!xs.begin())
				return false;
			const std::string d = std::to_string(domid_), v = std::to_string(devid_);
			const std::string rd = "r" + d, nd = "n" + d;
			const bool ok =
				xs.write(be, "") && xs.set_perms(be, {"n0", rd.c_str()}) &&
				xs.write(be + "/frontend", fe) && xs.write(be + "/frontend-id", d) &&
				xs.write(be + "/online", "1") && xs.write(be + "/dev", "xvd" + v) &&
				xs.write(be + "/state", "1") &&
				xs.write(fe, "") && xs.set_perms(fe, {nd.c_str(), "r0"}) &&
				xs.write(fe + "/backend", be) && xs.write(fe + "/backend-id", "0") &&
				xs.write(fe + "/virtual-device", v) && xs.write(fe + "/device-type", "disk") &&
				xs.write(fe + "/state", "1");
			if (!ok) {
				xs.commit();
				return false;
			}
			if (xs.commit())
				return true;
		}
		return false;
	}
	bool set(const std::string& key, const std::string& value) { return xs.write(be + "/" + key, value); }
	bool state(int s) { return set("state", std::to_string(s)); }
	u64 front_state() { return xs.read_uint_or(fe + "/state", 0); }
	bool front_key(const std::string& key, std::string* v) { return xs.read(fe + "/" + key, v); }

	// After the frontend's Initialised: its queues' ring refs and ports,
	// rings mapped, ports bound.  why says what was wrong.
	bool attach(std::string* why)
	{
		std::string proto;
		abi = xb::native_abi();
		if (front_key("protocol", &proto) && !xb::parse_protocol(proto.c_str(), &abi))
			return fail(why, "protocol " + proto);
		const u64 nq = xs.read_uint_or(fe + "/multi-queue-num-queues", 1);
		const u64 order = xs.read_uint_or(fe + "/ring-page-order", 0);
		ring_order = static_cast<u32>(order);
		if (nq < 1 || nq > 16 || order > BLKIF_MAX_RING_PAGE_ORDER)
			return fail(why, "queues " + std::to_string(nq) + ", ring-page-order " +
					 std::to_string(order));
		for (u64 q = 0; q < nq; q++) {
			const std::string pre = nq > 1 ? "/queue-" + std::to_string(q) : "";
			std::unique_ptr<Queue> Q(new Queue);
			std::vector<u32> refs;
			for (u64 p = 0; p < (1u << order); p++) {
				const std::string k = fe + pre + "/ring-ref" + (order ? std::to_string(p) : "");
				u64 r;
				if (!xs.read_uint(k, &r))
					return fail(why, "no " + k);
				refs.push_back(static_cast<u32>(r));
			}
			u64 port;
			if (!xs.read_uint(fe + pre + "/event-channel", &port))
				return fail(why, "no event-channel");
			if (!gnt.map(domid_, refs.data(), static_cast<u32>(refs.size()), true, &Q->ring_map))
				return fail(why, std::string("map the ring: ") + strerror(errno));
			const int lp = evt.bind(domid_, static_cast<unsigned>(port));
			if (lp < 0) {
				gnt.unmap(&Q->ring_map);
				return fail(why, std::string("bind the event channel: ") + strerror(errno));
			}
			Q->port = static_cast<unsigned>(lp);
			Q->ring.attach(Q->ring_map.addr, 1u << order, xb::entry_size(abi));
			queues.push_back(std::move(Q));
		}
		return true;
	}

	// Answer one request as a backend should: READ and WRITE through their
	// data grants (direct or through indirect pages), FLUSH okay, the rest
	// EOPNOTSUPP.  Returns the status.
	s16 serve(const xb::Request& r)
	{
		counts.served++;
		u8 op = r.op == BLKIF_OP_INDIRECT ? r.indirect_op : r.op;
		if (op == BLKIF_OP_FLUSH_DISKCACHE || op == BLKIF_OP_WRITE_BARRIER)
			return BLKIF_RSP_OKAY;
		if (op != BLKIF_OP_READ && op != BLKIF_OP_WRITE)
			return BLKIF_RSP_EOPNOTSUPP;
		std::vector<xb::Segment> seg;
		if (r.op == BLKIF_OP_INDIRECT) {
			const u32 pages = xb::indirect_pages(r.nr_segments);
			if (!r.nr_segments || pages > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST)
				return BLKIF_RSP_ERROR;
			Mapper::Map im;
			if (!gnt.map(domid_, r.indirect_grefs, pages, false, &im))
				return BLKIF_RSP_ERROR;
			seg.resize(r.nr_segments);
			for (u32 p = 0, done = 0; p < pages; p++) {
				const u32 n = std::min<u32>(r.nr_segments - done, BLKIF_SEGS_PER_INDIRECT_FRAME);
				xb::decode_indirect_segments(static_cast<u8*>(im.addr) + p * BLKIF_PAGE_SIZE, 0, n,
							     &seg[done]);
				done += n;
			}
			gnt.unmap(&im);
		} else {
			if (!r.nr_segments || r.nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
				return BLKIF_RSP_ERROR;
			seg.assign(r.seg, r.seg + r.nr_segments);
		}
		std::vector<u32> refs;
		u64 total = 0;
		for (const xb::Segment& s : seg) {
			if (s.first_sect > s.last_sect || s.last_sect >= BLKIF_SECTORS_PER_PAGE)
				return BLKIF_RSP_ERROR;
			refs.push_back(s.gref);
			total += s.last_sect - s.first_sect + 1u;
		}
		if (r.sector + total > sectors || r.sector + total < r.sector)
			return BLKIF_RSP_ERROR;
		Mapper::Map m;
		// READ: we write the guest's pages; WRITE: it granted them read-only
		if (!gnt.map(domid_, refs.data(), static_cast<u32>(refs.size()), op == BLKIF_OP_READ, &m))
			return BLKIF_RSP_ERROR;
		u64 sector = r.sector;
		for (size_t i = 0; i < seg.size(); i++) {
			u8* page = static_cast<u8*>(m.addr) + i * BLKIF_PAGE_SIZE;
			for (u32 s = seg[i].first_sect; s <= seg[i].last_sect; s++, sector++) {
				if (op == BLKIF_OP_READ)
					disk.read(sector, page + s * BLKIF_SECTOR_SIZE);
				else
					disk.write(sector, page + s * BLKIF_SECTOR_SIZE);
			}
		}
		gnt.unmap(&m);
		return BLKIF_RSP_OKAY;
	}

	// Write a response at the next slot of q (any id, op, status) and publish.
	void respond(Queue& q, u64 id, u8 op, s16 status, bool notify = true)
	{
		void* slot = q.ring.next_response_slot();
		if (!slot)   // every request answered already: a slot beyond them
			slot = q.ring.response_slot(q.ring.rsp_prod_pvt());
		xb::encode_response(abi, slot, id, op, status);
		counts.responses++;
		if (q.ring.push_responses_and_check_notify() || notify)
			evt.notify(q.port);
	}

	void release()
	{
		for (auto& q : queues) {
			evt.unbind(q->port);
			gnt.unmap(&q->ring_map);
		}
		queues.clear();
	}
	// The directories gone: the frontend's first (the domU's driver lets
	// go of its device), then ours.
	void remove()
	{
		release();
		xs.rm(fe);
		xs.rm(be);
	}

	u16 domid() const { return domid_; }
	unsigned devid() const { return devid_; }

	XenStore xs;
	Mapper gnt;
	Ports evt;
	Disk disk;
	Counts counts;
	std::vector<std::unique_ptr<Queue>> queues;
	xb::Abi abi = xb::Abi::x86_64;
	u32 ring_order = 0;
	u64 sectors = 0;
	std::string be, fe;

private:
	bool fail(std::string* why, const std::string& w)
	{
		*why = w;
		return false;
	}
	u16 domid_;
	unsigned devid_;
};

} // namespace
