// SPDX-License-Identifier: GPL-2.0
// front_recovery.cpp - xenblk-front: what happens when things go wrong or
// away.  Resume after a restore or migration (hold every request, reconnect,
// requeue), re-issue after a refused flush or barrier (flush-mode
// downgrade), a discard the backend refused, and a broken device (every
// request fails).  The work item runs here.
#include "front.hpp"

namespace xb::fe {

namespace {

const char* op_name(u8 op)
{
	switch (op) {
	case BLKIF_OP_READ: return "read";
	case BLKIF_OP_WRITE: return "write";
	case BLKIF_OP_FLUSH_DISKCACHE: return "flush";
	case BLKIF_OP_WRITE_BARRIER: return "barrier";
	case BLKIF_OP_DISCARD: return "discard";
	case BLKIF_OP_INDIRECT: return "indirect";
	default: return "unknown";
	}
}

// Push every block request of 'list' onto '*head' (their order does not matter).
void push_all(Pdu** head, Pdu* list)
{
	while (list) {
		Pdu* p = list;
		list = p->next;
		p->next = *head;
		*head = p;
	}
}

} // namespace

void Device::log_once(bool* flag, const char* what)
{
	if (kstd::read_once(*flag))
		return;
	kstd::write_once(*flag, true);
	xb_rt_log(XB_LOG_ERR, "%s: %s", name_, what);
}

void Device::set_broken()
{
	if (kstd::read_once(broken_))
		return;
	kstd::write_once(broken_, true);
	nl_event(XENBLK_EV_RING_ERROR, "device broken: every request fails", true);
	xb_fe_glue_schedule_work(gd_);   // fails what the other rings hold
}

// The domain was restored (or migrated): the backend is a new one and the old
// rings, grants and event channels are gone.  Requests in flight are kept and
// requeued once the new rings are connected (resume_connect), flushes and FUA
// writes included, planned again under the flush mode the new backend offers.
int Device::resume()
{
	xb_rt_log(XB_LOG_INFO, "%s: resuming: reconnecting to the backend", name_);
	xb_fe_glue_cancel_purge(gd_);   // the pools go with the old grants
	kstd::write_once(resuming_, true);
	if (has_disk())
		xb_fe_glue_disk_quiesce(gd_);   // no queue_rq until the new rings run
	xb_fe_glue_flush_work(gd_);         // pending re-issues move to saved_
	Pdu* saved = nullptr;
	for (u32 q = 0; q < nr_rings_; q++)
		if (rings_[q])
			rings_[q]->suspend(&saved);
	{
		Guard g(reissue_lock_.get());
		push_all(&saved_, saved);
	}
	set_rings_up(false);
	resume_sectors_ = cfg_.sectors;
	if (!has_disk()) {   // never connected: start over as after a probe
		kstd::write_once(resuming_, false);
		free_rings();
	}
	// the backend answers our Initialising with InitWait: talk_to_backend()
	return xb_fe_glue_switch_state(gd_, XENBLK_STATE_INITIALISING);
}

int Device::resume_connect(const KeySource& backend)
{
	int err = frontend_negotiate_device(backend, lim_, &cfg_);
	if (err) {
		xb_fe_glue_fatal(gd_, err, "reading the backend's device keys after a restore");
		set_broken();
		kstd::write_once(resuming_, false);
		fail_saved();
		if (has_disk())
			xb_fe_glue_disk_unquiesce(gd_);
		return err;
	}
	if (cfg_.sectors != resume_sectors_) {
		xb_rt_log(XB_LOG_NOTICE, "%s: new size %llu sectors", name_,
			  static_cast<unsigned long long>(cfg_.sectors));
		disk_set_capacity(cfg_.sectors);
	}
	// the new backend may offer another flush mode: queue flags first
	disk_set_cache(cfg_.write_cache, cfg_.fua);
	kstd::write_once(flush_mode_, static_cast<u8>(cfg_.flush));
	kstd::write_once(write_cache_, cfg_.write_cache);
	if (kstd::read_once(discard_on_) && !cfg_.discard) {
		kstd::write_once(discard_on_, false);
		disk_disable_discard();
	}
	kstd::write_once(broken_, false);
	kstd::write_once(closing_, false);
	// persistent grants as the new backend offers them (the pools are empty),
	// bounce as the new host trusts it
	const u32 segs = max_segments();
	mode_ = decide_grant_mode();
	for (u32 q = 0; q < nr_rings_; q++)
		rings_[q]->start(mode_, segs);
	if (pooled(mode_))
		xb_fe_glue_schedule_purge(gd_, purge_interval_ms);
	set_rings_up(true);
	err = xb_fe_glue_switch_state(gd_, XENBLK_STATE_CONNECTED);

	Pdu* list;
	{
		Guard g(reissue_lock_.get());
		list = saved_;
		saved_ = nullptr;
		kstd::write_once(resuming_, false);
	}
	u32 n = 0;
	while (list) {
		Pdu* p = list;
		list = p->next;
		xb_fe_glue_rq_requeue(p->rq);
		n++;
	}
	if (has_disk()) {
		xb_fe_glue_disk_unquiesce(gd_);
		xb_fe_glue_kick(gd_);           // then what was handed back runs
		xb_fe_glue_kick_requeue(gd_);
	}
	xb_rt_log(XB_LOG_INFO, "%s: resumed: %u ring(s) of %u page(s), flush mode %s, %u request(s) re-issued",
		  name_, nr_rings_, 1u << cfg_.ring_order, flush_mode_name(cfg_.flush), n);
	return err;
}

// A re-issue while a resume is under way waits for the new rings.
bool Device::hold_for_resume(Pdu* p)
{
	Guard g(reissue_lock_.get());
	if (!resuming_)
		return false;
	p->next = saved_;
	saved_ = p;
	return true;
}

// Requests held for a resume that cannot happen: I/O error, never success.
void Device::fail_saved()
{
	Pdu* list;
	{
		Guard g(reissue_lock_.get());
		list = saved_;
		saved_ = nullptr;
	}
	while (list) {
		Pdu* p = list;
		list = p->next;
		xb_fe_glue_rq_end(p->rq, to_int(Errno::io));
	}
}

void Device::queue_reissue(Pdu* list)
{
	{
		Guard g(reissue_lock_.get());
		push_all(&reissue_head_, list);
	}
	xb_fe_glue_schedule_work(gd_);
}

void Device::reissue(Pdu* p)
{
	if (hold_for_resume(p))   // planned again under the restored backend's mode
		return;
	const FlushDowngrade d = apply_flush_downgrade(&cfg_, p->failed_op);

	if (d.changed()) {
		p->ring->count_fallback();
		xb_rt_log(XB_LOG_WARNING, "%s: the backend refused %s: flush mode %s -> %s",
			  name_, op_name(p->failed_op), flush_mode_name(d.from), flush_mode_name(d.to));
		nl_event(XENBLK_EV_FEATURE_DOWNGRADED, flush_mode_name(d.to), false);
		// queue flags first, then the mode the planner sees
		disk_set_cache(cfg_.write_cache, cfg_.fua);
		kstd::write_once(flush_mode_, static_cast<u8>(cfg_.flush));
		kstd::write_once(write_cache_, cfg_.write_cache);
		if (d.to == FlushMode::none)
			xb_rt_log(XB_LOG_WARNING, "%s: no flush mode left: writes are no longer guaranteed durable",
				  name_);
	}
	p->reissue = false;
	p->failed_op = no_op;
	p->err = 0;
	if (cfg_.flush == FlushMode::none) {
		log_once(&logged_nomode_, "failing flush/FUA requests: the backend supports no flush mode");
		xb_fe_glue_rq_end(p->rq, to_int(Errno::io));
		return;
	}
	for (;;) {
		int err = 0;
		if (hold_for_resume(p))
			return;
		if (closing() || broken()) {
			xb_fe_glue_rq_end(p->rq, to_int(Errno::io));
			return;
		}
		const Submit s = p->ring->submit(p, &err);
		if (s == Submit::queued) {
			p->ring->push_and_notify();
			return;
		}
		if (s == Submit::done) {
			xb_fe_glue_rq_end(p->rq, err);
			return;
		}
		xb_fe_glue_msleep(1);   // ring full or grants short: wait for completions
	}
}

void Device::work()
{
	if (broken())
		for (u32 i = 0; i < nr_rings_; i++)
			if (rings_[i])
				rings_[i]->fail_all();
	if (kstd::read_once(discard_refused_)) {
		kstd::write_once(discard_refused_, false);
		if (kstd::read_once(discard_on_)) {
			kstd::write_once(discard_on_, false);
			disk_disable_discard();
			xb_rt_log(XB_LOG_WARNING, "%s: the backend refused a discard: discard turned off", name_);
		}
	}
	for (;;) {
		Pdu* list;
		{
			Guard g(reissue_lock_.get());
			list = reissue_head_;
			reissue_head_ = nullptr;
		}
		if (!list)
			break;
		while (list) {
			Pdu* p = list;
			list = p->next;
			reissue(p);
		}
	}
}

} // namespace xb::fe
