// SPDX-License-Identifier: GPL-2.0
// front_xenbus.cpp - xenblk-front: the xenbus state machine of one vbd
// device.  Probe, the backend's InitWait (transport negotiation, rings,
// our keys), Connected (device negotiation, the disk and its queue limits,
// or a resize), Closing/Closed (the disk goes, then the rings), and the
// disk's lifecycle.  Resume and re-issue are in front_recovery.cpp.
#include "front.hpp"

namespace xb::fe {

int Device::probe()
{
	XsSource self(gd_, false);
	char buf[32];
	int err;

	if (!reissue_lock_.init())
		return to_int(Errno::nomem);
	err = read_u32(self, "virtual-device", 0, &vdevice_);
	if (err || !self.read("virtual-device", buf, sizeof(buf))) {
		xb_rt_log(XB_LOG_ERR, "%s: no usable virtual-device key", xb_fe_glue_nodename(gd_));
		return to_int(Errno::nodev);
	}
	DiskName dn;
	if (!xvd_disk_name(vdevice_, &dn)) {
		xb_rt_log(XB_LOG_ERR, "%s: virtual-device %u is not an xvd whole disk (202:16*N); not supported",
			  xb_fe_glue_nodename(gd_), vdevice_);
		return to_int(Errno::nodev);
	}
	first_minor_ = dn.first_minor;
	minors_ = dn.minors;
	kstd::memcpy(name_, dn.name, sizeof(name_));

	xb_fe_params prm;
	xb_fe_glue_params(&prm);
	lim_.max_queues = prm.max_queues ? prm.max_queues : 1;
	lim_.nr_cpus = xb_fe_glue_nr_cpus();
	lim_.max_ring_order = kstd::min(prm.max_ring_page_order, blkif_max_ring_order);
	lim_.max_indirect_segments = kstd::min(prm.max_indirect_segments, max_block_segments);
	lim_.persistent = prm.persistent != 0;
	// a device we were unbound from was left Closed: start over, the
	// backend prepares for a reconnect when it sees Initialising
	if (xb_fe_glue_state(gd_) != XENBLK_STATE_INITIALISING)
		xb_fe_glue_switch_state(gd_, XENBLK_STATE_INITIALISING);
	use_flush_cache_ = prm.use_flush_cache != 0;
	use_barrier_ = prm.use_barrier != 0;
	return 0;
}

// At connect: how the data reaches the backend.  Pool pages only when
// persistent grants were negotiated or the backend is not trusted (the module
// parameter trusted, read now, and our own "trusted" key, which the toolstack
// writes); otherwise each request grants its own pages.
GrantMode Device::decide_grant_mode()
{
	XsSource self(gd_, false);
	xb_fe_params prm;
	char buf[16];

	xb_fe_glue_params(&prm);
	const bool have = self.read("trusted", buf, sizeof(buf));
	const bool trusted = backend_trusted(prm.trusted != 0, have ? buf : nullptr);
	return grant_mode(trusted, cfg_.persistent);
}

// Most segments of a block request: the negotiated indirect maximum, or direct.
u32 Device::max_segments() const
{
	return segments_per_request(kstd::min(cfg_.max_indirect_segments, max_block_segments));
}

int Device::talk_to_backend()
{
	XsSource backend(gd_, true);
	XsSink sink(gd_);
	FrontQueue fq[frontend_max_queues];   // negotiation never gives more
	int err;

	// resuming with a disk: blk-mq's hardware queues point at our Ring
	// objects, so the same rings are set up again, as many as before
	const bool keep = resuming_ && has_disk() && rings_ && nr_rings_;
	FrontendLimits lim = lim_;
	if (keep)
		lim.max_queues = nr_rings_;
	else
		free_rings();
	cfg_ = NegotiatedConfig();
	err = frontend_negotiate_transport(backend, lim, &cfg_);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "reading the backend's transport keys");
		return err;
	}
	if (keep && cfg_.nr_queues != nr_rings_) {
		xb_rt_log(XB_LOG_ERR, "%s: after the restore the backend offers %u queue(s), the disk has %u: cannot resume",
			  name_, cfg_.nr_queues, nr_rings_);
		xb_fe_glue_fatal(gd_, to_int(Errno::inval), "resuming with fewer queues");
		return to_int(Errno::inval);
	}
	if (!keep) {
		rings_.reset(new (std::nothrow) unique_ptr<Ring>[cfg_.nr_queues]);
		if (!rings_)
			return to_int(Errno::nomem);
		nr_rings_ = cfg_.nr_queues;
	}
	// planning scratch: the most segments a block request may have
	const u32 max_pieces = segments_per_request(lim_.max_indirect_segments);
	for (u32 q = 0; q < nr_rings_; q++) {
		if (!keep)
			rings_[q].reset(new (std::nothrow) Ring(this, q));
		if (!rings_[q]) {
			err = to_int(Errno::nomem);
			break;
		}
		err = rings_[q]->setup(cfg_.ring_order, cfg_.abi, max_pieces);
		if (err)
			break;
		fq[q] = rings_[q]->front_queue();
	}
	if (!err)
		err = frontend_publish(cfg_, span<const FrontQueue>(fq, nr_rings_), sink);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "setting up the rings");
		if (keep)
			for (u32 q = 0; q < nr_rings_; q++)
				rings_[q]->teardown();
		else
			free_rings();
		return err;
	}
	set_rings_up(true);
	xb_rt_log(XB_LOG_INFO, "%s: %u ring(s) of %u page(s), protocol %s", name_, nr_rings_,
		  1u << cfg_.ring_order, protocol_name(cfg_.abi));
	return xb_fe_glue_switch_state(gd_, XENBLK_STATE_INITIALISED);
}

int Device::connect()
{
	XsSource raw(gd_, true);
	const MaskedSource backend(raw, use_flush_cache_, use_barrier_);
	xb_fe_disk_params p = {};
	int err;

	if (has_disk() && resuming_)
		return resume_connect(backend);
	if (has_disk()) {
		// the backend re-announces Connected after a resize
		u64 sectors;
		if (read_u64(backend, key::sectors, 0, &sectors) != 0)
			return 0;
		if (!valid_disk_sectors(sectors)) {
			xb_rt_log(XB_LOG_WARNING, "%s: backend announced %llu sectors: too large, size kept",
				  name_, static_cast<unsigned long long>(sectors));
		} else if (sectors != cfg_.sectors) {
			xb_rt_log(XB_LOG_NOTICE, "%s: new size %llu sectors", name_,
				  static_cast<unsigned long long>(sectors));
			cfg_.sectors = sectors;
			disk_set_capacity(sectors);
		}
		return 0;
	}
	err = frontend_negotiate_device(backend, lim_, &cfg_);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "reading the backend's device keys");
		return err;
	}
	kstd::write_once(flush_mode_, static_cast<u8>(cfg_.flush));
	kstd::write_once(write_cache_, cfg_.write_cache);
	kstd::write_once(discard_on_, cfg_.discard);
	kstd::write_once(broken_, false);
	kstd::write_once(closing_, false);

	const u32 segs = max_segments();
	mode_ = decide_grant_mode();
	for (u32 q = 0; q < nr_rings_; q++)
		rings_[q]->start(mode_, segs);
	// the queue limits (sysfs queue/), from the protocol
	p.sectors = cfg_.sectors;
	p.name = name_;
	p.first_minor = first_minor_;
	p.minors = minors_;
	p.nr_queues = nr_rings_;
	p.queue_depth = ring_entries(1u << cfg_.ring_order, entry_size(cfg_.abi));
	p.logical_block_size = cfg_.sector_size;
	p.physical_block_size = cfg_.physical_sector_size;
	p.pdu_size = sizeof(Pdu);
	p.max_segments = segs;
	p.max_segment_size = BLKIF_PAGE_SIZE;           // a segment is one granted page
	p.seg_boundary_mask = BLKIF_PAGE_SIZE - 1;      // never across a page
	p.dma_alignment = BLKIF_SECTOR_SIZE - 1;        // blkif addresses sectors
	p.max_hw_sectors = segs * BLKIF_SECTORS_PER_PAGE;
	if (cfg_.discard) {
		p.max_discard_sectors = ~u32{0} >> 9;
		p.discard_granularity = cfg_.discard_granularity;
		p.discard_alignment = cfg_.discard_alignment;
		if (cfg_.discard_secure)
			p.max_secure_erase_sectors = p.max_discard_sectors;
	}
	p.write_cache = cfg_.write_cache;
	p.fua = cfg_.fua;
	p.read_only = cfg_.read_only;
	p.removable = (cfg_.info & VDISK_REMOVABLE) != 0;
	err = disk_create(p);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "creating the disk");
		return err;
	}
	if (pooled(mode_))
		xb_fe_glue_schedule_purge(gd_, purge_interval_ms);
	xb_rt_log(XB_LOG_INFO,
		  "%s: %llu sectors of %u bytes, flush mode %s (write cache %s, fua %s), %s segments %u, discard %s, persistent grants %s%s",
		  name_, static_cast<unsigned long long>(cfg_.sectors), cfg_.sector_size, flush_mode_name(cfg_.flush),
		  cfg_.write_cache ? "on" : "off", cfg_.fua ? "on" : "off",
		  segs > blkif_max_direct_segs ? "indirect" : "direct", segs,
		  cfg_.discard ? (cfg_.discard_secure ? "on (secure)" : "on") : "off",
		  cfg_.persistent ? "on" : "off",
		  mode_ == GrantMode::bounce ? ", bounce (untrusted backend)" : "");
	err = xb_fe_glue_switch_state(gd_, XENBLK_STATE_CONNECTED);
	nl_event(XENBLK_EV_CONNECTED, flush_mode_name(cfg_.flush), false);
	return err;
}

void Device::free_rings()
{
	// In this order: a late or bogus response schedules the work until its
	// ring's event channel is unbound, and the work walks the rings.
	for (u32 i = 0; i < nr_rings_; i++)
		if (rings_ && rings_[i])
			rings_[i]->stop_events();
	xb_fe_glue_stop_work(gd_);      // neither running nor pending after this
	xb_fe_glue_cancel_purge(gd_);   // it walks the rings
	nlk::ListLock g;   // netlink readers walk the rings
	rings_up_ = false;
	rings_.reset();
	nr_rings_ = 0;
}

void Device::close()
{
	kstd::write_once(closing_, true);
	if (kstd::read_once(resuming_)) {   // the backend went away during a resume
		kstd::write_once(resuming_, false);
		fail_saved();
		if (has_disk())
			xb_fe_glue_disk_unquiesce(gd_);
	}
	if (has_disk()) {
		fail_in_flight();   // nothing may wait for a backend that is gone
		disk_del();         // waits for the requests: none is left on the rings
	}
	free_rings();            // no interrupt, no work after this
	if (has_disk()) {
		disk_put();
		nl_event(XENBLK_EV_DISCONNECTED, nullptr, false);
	}
}

void Device::backend_changed(int state)
{
	const int ours = xb_fe_glue_state(gd_);

	kstd::write_once(backend_state_, state);   // what a timeout sees
	switch (state) {
	case XENBLK_STATE_INITWAIT:
		if (ours != XENBLK_STATE_INITIALISING)
			break;
		talk_to_backend();
		break;
	case XENBLK_STATE_CONNECTED:
		if (ours != XENBLK_STATE_INITIALISED && ours != XENBLK_STATE_CONNECTED) {
			if (ours != XENBLK_STATE_INITIALISING || talk_to_backend())
				break;
		}
		connect();
		break;
	case XENBLK_STATE_CLOSED:
		// Closed while we start over (rebind): it will answer Initialising
		if (ours == XENBLK_STATE_CLOSED || (ours == XENBLK_STATE_INITIALISING && !rings_up_ && !has_disk()))
			break;
		[[fallthrough]];
	case XENBLK_STATE_CLOSING:
		close();
		xb_fe_glue_frontend_closed(gd_);
		break;
	default:
		break;
	}
}

// ---- the disk: C++ decides when, the glue does it ---------------------------

int Device::disk_create(const xb_fe_disk_params& p)
{
	const int err = xb_fe_glue_disk_create(gd_, &p);
	if (!err)
		kstd::write_once(disk_, Disk::live);
	return err;
}

// del_gendisk waits for the requests in flight: restart stopped hw queues
// first so that they drain; kick() leaves the disk alone after this
void Device::disk_del()
{
	if (kstd::read_once(disk_) != Disk::live)
		return;
	xb_fe_glue_kick(gd_);
	xb_fe_glue_disk_del(gd_);
	kstd::write_once(disk_, Disk::deleted);
}

// once the rings are gone
void Device::disk_put()
{
	if (!has_disk())
		return;
	disk_del();
	xb_fe_glue_disk_put(gd_);
	kstd::write_once(disk_, Disk::none);
}

void Device::kick()
{
	if (kstd::read_once(disk_) == Disk::live)
		xb_fe_glue_kick(gd_);
}

void Device::disk_set_capacity(u64 sectors)
{
	if (has_disk())
		xb_fe_glue_disk_set_capacity(gd_, sectors);
}

void Device::disk_set_cache(bool write_cache, bool fua)
{
	if (has_disk())
		xb_fe_glue_disk_set_cache(gd_, write_cache ? 1 : 0, fua ? 1 : 0);
}

void Device::disk_disable_discard()
{
	if (has_disk())
		xb_fe_glue_disk_disable_discard(gd_);
}

} // namespace xb::fe
