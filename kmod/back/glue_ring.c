// SPDX-License-Identifier: GPL-2.0
/*
 * glue_ring.c - xenblk-back's services (back_services.h) for the rings: the
 * shared ring mapping and its event channel, the worker thread's primitives,
 * bio submission (the grant maps are in glue_grants.c) and its
 * completion hand-off to the worker.  Called by the C++ driver; each one
 * adapts a kernel API and decides nothing (which flags, what to undo, when to
 * retry: all the caller's).
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/kthread.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include <linux/llist.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "back_services.h"
#include "glue.h"
#include "../rt/rt_api.h"

struct xbg_io {
	struct llist_node node;
	struct xbg_ring *r;
	void *cookie;
	int err;
	unsigned int n;
	struct page **pages;         /* n */
	grant_handle_t *handles;     /* n: INVALID_GRANT_HANDLE for a page not mapped here */
	unsigned char *own;          /* n: 1 if the page is from the ring's cache, not a kept one */
};

/* A secure erase has no asynchronous form in the kernel: it runs on a
 * workqueue of ours and completes like a bio, so that the ring keeps serving
 * meanwhile and teardown waits for it (r->bios). */
static struct workqueue_struct *xbg_erase_wq;

int xbg_ring_module_init(void)
{
	xbg_erase_wq = alloc_workqueue("xenblk-erase", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	return xbg_erase_wq ? 0 : -ENOMEM;
}

void xbg_ring_module_exit(void)
{
	destroy_workqueue(xbg_erase_wq);
}

/* ---- I/O ---- */

static void xbg_io_done(struct xbg_ring *r, struct xbg_io *io)
{
	llist_add(&io->node, &r->done);
	wake_up(&r->wq);
}

static void xbg_end_io(struct bio *bio)
{
	struct xbg_io *io = bio->bi_private;
	struct xbg_ring *r = io->r;

	io->err = blk_status_to_errno(bio->bi_status);
	bio_put(bio);
	xbg_io_done(r, io);
	/* last: the worker may free the ring once this reaches zero */
	atomic_dec(&r->bios);
}

static void xbg_io_release(struct xbg_io *io)
{
	xb_rt_count_objects(-1);
	kfree(io);
}

struct xbg_io *xbg_io_alloc(struct xbg_ring *r, void *cookie, unsigned int n)
{
	struct xbg_io *io;
	unsigned int i;

	if (n > XBG_MAX_IO_SEGS)
		return NULL;
	io = kzalloc(sizeof(*io) + n * (sizeof(struct page *) + sizeof(grant_handle_t) + 1),
		     GFP_NOIO);
	if (!io)
		return NULL;
	xb_rt_count_objects(1);
	io->r = r;
	io->cookie = cookie;
	io->n = n;
	io->pages = (struct page **)(io + 1);
	io->handles = (grant_handle_t *)(io->pages + n);
	io->own = (unsigned char *)(io->handles + n);
	for (i = 0; i < n; i++)
		io->handles[i] = INVALID_GRANT_HANDLE;
	return io;
}

int xbg_io_use_slot(struct xbg_io *io, unsigned int i, unsigned int slot)
{
	struct xbg_ring *r = io->r;

	if (i >= io->n || io->pages[i] || slot >= r->pg_cap ||
	    r->pg_handles[slot] == INVALID_GRANT_HANDLE)
		return -EINVAL;
	io->pages[i] = r->pg_pages[slot];   /* not unmapped at completion */
	return 0;
}

int xbg_io_map(struct xbg_io *io, const unsigned int *idx, const unsigned int *grefs,
	       unsigned int n, int readonly, unsigned char *ok)
{
	struct xbg_ring *r = io->r;
	unsigned int i;
	int err;

	if (n > io->n)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (idx[i] >= io->n || io->pages[idx[i]])
			return -EINVAL;
	err = xbg_map(r, grefs, n, readonly, r->tpages, r->thandles, ok);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		io->pages[idx[i]] = r->tpages[i];
		io->handles[idx[i]] = r->thandles[i];
		io->own[idx[i]] = 1;
	}
	return 0;
}

void xbg_io_free(struct xbg_io *io)
{
	xbg_release(io->r, io->pages, io->handles, io->own, io->n);
	xbg_io_release(io);
}

int xbg_io_submit(struct xbg_io *io, unsigned int bio_flags, unsigned long long sector,
		  const struct xbg_seg *segs)
{
	struct xbg_ring *r = io->r;
	blk_opf_t opf = (bio_flags & XBG_BIO_WRITE) ? REQ_OP_WRITE : REQ_OP_READ;
	struct bio *bio;
	unsigned int i;

	if (bio_flags & XBG_BIO_PREFLUSH)
		opf |= REQ_PREFLUSH;
	if (bio_flags & XBG_BIO_FUA)
		opf |= REQ_FUA;
	if (bio_flags & XBG_BIO_SYNC)
		opf |= REQ_SYNC;
	if (bio_flags & XBG_BIO_IDLE)
		opf |= REQ_IDLE;
	for (i = 0; i < io->n; i++)
		if (!io->pages[i])
			return -EINVAL;
	bio = bio_alloc(r->gd->bdev, io->n, opf, GFP_NOIO);
	bio->bi_iter.bi_sector = sector;
	for (i = 0; i < io->n; i++) {
		if (bio_add_page(bio, io->pages[i], segs[i].len, segs[i].offset) != segs[i].len) {
			bio_put(bio);
			return -EIO;
		}
	}
	bio->bi_private = io;
	bio->bi_end_io = xbg_end_io;
	atomic_inc(&r->bios);
	submit_bio(bio);
	return 0;
}

struct xbg_erase {
	struct work_struct work;
	struct xbg_io *io;
	sector_t sector, nr;
};

static void xbg_erase_fn(struct work_struct *w)
{
	struct xbg_erase *e = container_of(w, struct xbg_erase, work);
	struct xbg_io *io = e->io;
	struct xbg_ring *r = io->r;

	io->err = blkdev_issue_secure_erase(r->gd->bdev, e->sector, e->nr, GFP_NOIO);
	kfree(e);
	xbg_io_done(r, io);
	/* last: the worker may free the ring once this reaches zero */
	atomic_dec(&r->bios);
}

int xbg_io_secure_erase(struct xbg_ring *r, void *cookie, unsigned long long sector,
			unsigned long long nr)
{
	struct xbg_io *io = xbg_io_alloc(r, cookie, 0);
	struct xbg_erase *e;

	if (!io)
		return -ENOMEM;
	e = kmalloc(sizeof(*e), GFP_NOIO);
	if (!e) {
		xbg_io_release(io);
		return -ENOMEM;
	}
	INIT_WORK(&e->work, xbg_erase_fn);
	e->io = io;
	e->sector = sector;
	e->nr = nr;
	atomic_inc(&r->bios);
	queue_work(xbg_erase_wq, &e->work);
	return 0;
}

int xbg_io_discard(struct xbg_ring *r, void *cookie, unsigned long long sector,
		   unsigned long long nr)
{
	struct xbg_io *io = xbg_io_alloc(r, cookie, 0);
	struct bio *bio = NULL;
	int err;

	if (!io)
		return -ENOMEM;
	/* a chain of discard bios; the last one completes when all have */
	err = __blkdev_issue_discard(r->gd->bdev, sector, nr, GFP_NOIO, &bio);
	if (err || !bio) {
		if (bio) {   /* not expected: the bios built so far still run */
			submit_bio_wait(bio);
			bio_put(bio);
		}
		xbg_io_release(io);
		return err ? err : 1;
	}
	bio->bi_private = io;
	bio->bi_end_io = xbg_end_io;
	atomic_inc(&r->bios);
	submit_bio(bio);
	return 0;
}

unsigned int xbg_ring_reap(struct xbg_ring *r, void **cookies, int *errs, unsigned int max)
{
	unsigned int k = 0;

	while (k < max) {
		struct xbg_io *io;

		if (!r->reaping)
			r->reaping = llist_reverse_order(llist_del_all(&r->done));
		if (!r->reaping)
			break;
		io = llist_entry(r->reaping, struct xbg_io, node);
		r->reaping = r->reaping->next;
		xbg_unmap(r, io->pages, io->handles, io->n);
		cookies[k] = io->cookie;
		errs[k] = io->err;
		k++;
		xbg_io_release(io);
	}
	return k;
}

/* ---- the ring, its event channel and its worker ---- */

static irqreturn_t xbg_ring_irq(int irq, void *arg)
{
	struct xbg_ring *r = arg;

	atomic_set(&r->eoi, 1);
	WRITE_ONCE(r->kick, 1);
	wake_up(&r->wq);
	return IRQ_HANDLED;
}

static int xbg_ring_thread(void *arg)
{
	struct xbg_ring *r = arg;

	return r->worker(r->worker_ctx);
}

int xbg_ring_should_stop(struct xbg_ring *r)
{
	return kthread_should_stop();
}

static bool xbg_ring_has_work(struct xbg_ring *r)
{
	return READ_ONCE(r->kick) || !llist_empty(&r->done) || kthread_should_stop();
}

void xbg_ring_wait(struct xbg_ring *r)
{
	wait_event_interruptible(r->wq, xbg_ring_has_work(r));
}

void xbg_ring_wait_ns(struct xbg_ring *r, unsigned long long ns)
{
	wait_event_interruptible_hrtimeout(r->wq, xbg_ring_has_work(r), ns_to_ktime(ns));
}

int xbg_ring_take_event(struct xbg_ring *r)
{
	int eoi = atomic_xchg(&r->eoi, 0);

	WRITE_ONCE(r->kick, 0);
	return eoi;
}

void xbg_ring_eoi(struct xbg_ring *r, int spurious)
{
	xen_irq_lateeoi(r->irq, spurious ? XEN_EOI_FLAG_SPURIOUS : 0);
}

int xbg_ring_busy(struct xbg_ring *r)
{
	return atomic_read(&r->bios) > 0 || !llist_empty(&r->done) || r->reaping;
}

void xbg_ring_wait_done(struct xbg_ring *r, unsigned int ms)
{
	wait_event_timeout(r->wq, !llist_empty(&r->done), msecs_to_jiffies(ms));
}

void xbg_sleep_ms(unsigned int ms)
{
	schedule_timeout_interruptible(msecs_to_jiffies(ms));
}

void xbg_cond_resched(void)
{
	cond_resched();
}

struct xbg_ring *xbg_ring_create(struct xbg_dev *gd, unsigned int index,
				 const unsigned int *ring_refs, unsigned int nr_pages,
				 unsigned int evtchn, void **sring,
				 int (*worker)(void *ctx), void *ctx)
{
	grant_ref_t refs[XENBUS_MAX_RING_GRANTS];
	struct xbg_ring *r;
	unsigned int i;
	int err;

	if (nr_pages == 0 || nr_pages > XENBUS_MAX_RING_GRANTS)
		return NULL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return NULL;
	xb_rt_count_objects(1);
	r->gd = gd;
	r->worker = worker;
	r->worker_ctx = ctx;
	init_waitqueue_head(&r->wq);
	init_llist_head(&r->done);
	gnttab_page_cache_init(&r->cache);
	r->map = kvcalloc(XBG_MAX_IO_SEGS, sizeof(*r->map), GFP_KERNEL);
	r->unmap = kvcalloc(XBG_MAX_IO_SEGS, sizeof(*r->unmap), GFP_KERNEL);
	if (!r->map || !r->unmap)
		goto fail;
	for (i = 0; i < nr_pages; i++)
		refs[i] = ring_refs[i];
	err = xenbus_map_ring_valloc(gd->xd, refs, nr_pages, &r->sring);
	if (err) {
		r->sring = NULL;
		goto fail;
	}
	err = bind_interdomain_evtchn_to_irqhandler_lateeoi(gd->xd, evtchn, xbg_ring_irq, 0,
							    "xenblk-back", r);
	if (err < 0)
		goto fail;
	r->irq = err;
	r->task = kthread_create(xbg_ring_thread, r, "xenblk-%u-%u-%u", gd->xd->otherend_id,
				 xbg_handle(gd), index);
	if (IS_ERR(r->task)) {
		r->task = NULL;
		goto fail;
	}
	*sring = r->sring;
	return r;
fail:
	xbg_ring_stop(r);
	xbg_ring_free(r);
	return NULL;
}

void xbg_ring_start(struct xbg_ring *r)
{
	WRITE_ONCE(r->kick, 1);
	wake_up_process(r->task);
}

void xbg_ring_stop(struct xbg_ring *r)
{
	if (r->task) {
		kthread_stop(r->task);
		r->task = NULL;
	}
	if (r->irq > 0) {
		unbind_from_irqhandler(r->irq, r);
		r->irq = 0;
	}
	if (r->ind_n)
		xbg_indirect_unmap(r);
	xbg_pgnt_release(r);   /* the worker has stopped: no I/O uses them */
	if (r->sring) {
		xenbus_unmap_ring_vfree(r->gd->xd, r->sring);
		r->sring = NULL;
	}
}

void xbg_ring_free(struct xbg_ring *r)
{
	xbg_pgnt_release(r);
	gnttab_page_cache_shrink(&r->cache, 0);
	kvfree(r->pg_pages);
	kvfree(r->pg_handles);
	kvfree(r->map);
	kvfree(r->unmap);
	kfree(r);
	xb_rt_count_objects(-1);
}

void xbg_ring_kick(struct xbg_ring *r)
{
	WRITE_ONCE(r->kick, 1);
	wake_up(&r->wq);
}

void xbg_ring_notify(struct xbg_ring *r)
{
	notify_remote_via_irq(r->irq);
}

void xbg_ring_plug(struct xbg_ring *r)
{
	blk_start_plug(&r->plug);
}

void xbg_ring_unplug(struct xbg_ring *r)
{
	blk_finish_plug(&r->plug);
}
