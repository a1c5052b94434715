// SPDX-License-Identifier: GPL-2.0
// front_entry.cpp - xenblk-front: the C++ entry points (front_entry.h) that
// the glue (glue.c) calls from module init/exit, the xenbus driver, blk-mq,
// the event channel handler, the work items and sysfs.  Each one only finds
// the object and calls it; queue_rq also turns the outcome into the answer
// blk-mq gets.
#include "front.hpp"
#include "load_check.hpp"

using namespace xb;
using namespace xb::fe;

extern "C" int xb_front_module_init(void)
{
	const int rc = xb_load_check(xb_front_glue_on_xen(), "not running on Xen with PV disk devices");
	if (rc)
		return rc;
	// the netlink family first: a disk reports events as soon as it connects
	int err = nlk::register_family(&nl_report);
	if (err)
		return err;
	err = xb_front_glue_register();
	if (err)
		nlk::unregister_family();
	return err;
}

extern "C" void xb_front_module_exit(void)
{
	xb_front_glue_unregister();
	nlk::unregister_family();
}

extern "C" void* xb_fe_probe(struct xb_fe_dev* gd)
{
	Device* d = new (std::nothrow) Device(gd);
	if (!d)
		return nullptr;
	if (d->probe() || xbnl_dev_add(d)) {
		delete d;
		return nullptr;
	}
	return d;
}

extern "C" void xb_fe_remove(void* dev)
{
	Device* d = static_cast<Device*>(dev);
	xbnl_dev_del(d);   // waits for netlink readers
	d->close();
	delete d;
}

extern "C" int xb_fe_resume(void* dev)
{
	return static_cast<Device*>(dev)->resume();
}

extern "C" void xb_fe_backend_changed(void* dev, int state)
{
	static_cast<Device*>(dev)->backend_changed(state);
}

extern "C" void xb_fe_work(void* dev)
{
	static_cast<Device*>(dev)->work();
}

extern "C" void xb_fe_purge(void* dev)
{
	static_cast<Device*>(dev)->purge();
}

extern "C" void* xb_fe_ring_ctx(void* dev, unsigned int queue)
{
	return static_cast<Device*>(dev)->ring(queue);
}

extern "C" void xb_fe_pdu_init(void* pdu)
{
	*static_cast<Pdu*>(pdu) = {};
}

extern "C" int xb_fe_queue_rq(void* ring, struct xb_fe_hctx* hctx, struct xb_fe_rq* rq, void* pdu,
			      int last)
{
	Ring* r = static_cast<Ring*>(ring);
	Pdu* p = static_cast<Pdu*>(pdu);
	int err = 0;

	*p = {};
	p->rq = rq;
	p->ring = r;
	p->failed_op = no_op;
	xb_fe_glue_rq_start(rq);
	const Submit s = r->submit(p, &err, hctx);
	// publish at the end of a batch, and whenever this request did not go on
	// the ring: what the batch queued so far must never wait for a next call
	if (last || s != Submit::queued)
		r->push_and_notify();
	if (s == Submit::queued)
		return XB_FE_QUEUED;
	if (s == Submit::done) {
		xb_fe_glue_rq_end(rq, err);
		return XB_FE_QUEUED;
	}
	return s == Submit::busy ? XB_FE_BUSY : XB_FE_RESOURCE;
}

extern "C" int xb_fe_timeout(void* pdu)
{
	Pdu* p = static_cast<Pdu*>(pdu);

	if (!p->ring)
		return XB_FE_EH_RESET;
	return p->ring->timeout(p) ? XB_FE_EH_DONE : XB_FE_EH_RESET;
}

extern "C" void xb_fe_commit_rqs(void* ring)
{
	static_cast<Ring*>(ring)->push_and_notify();
}

extern "C" void xb_fe_interrupt(void* ring)
{
	static_cast<Ring*>(ring)->interrupt();
}

extern "C" int xb_fe_show_stats(void* dev, char* buf, unsigned int len)
{
	return static_cast<Device*>(dev)->show_stats(buf, len);
}
