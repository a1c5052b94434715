// SPDX-License-Identifier: GPL-2.0
/*
 * glue.c - xenblk-front: kernel API adaptation only.  Every decision is made by
 * the C++ driver (front.cpp) behind front_api.h.  The differences between the
 * supported kernels (6.1, 6.12) are confined to the "compat" section.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/hdreg.h>
#include <linux/interrupt.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/delay.h>
#include <linux/major.h>
#include <linux/cpumask.h>
#include <linux/highmem.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>
#include <xen/events.h>
#include <xen/page.h>
#include <xen/platform_pci.h>

#include "front_api.h"
#include "../rt/rt_api.h"
#include "nl_api.h"

struct xb_fe_dev {
	struct xenbus_device *xbdev;
	void *cxx;
	struct blk_mq_tag_set tag_set;
	struct gendisk *gd;
	struct work_struct work;
	struct delayed_work purge;
	bool deleted;
};

static unsigned int max_queues = 4;
module_param(max_queues, uint, 0444);
MODULE_PARM_DESC(max_queues, "Most rings (hardware queues) per disk (default 4; also capped by CPUs and the backend)");
static unsigned int max_ring_page_order = 4;
module_param(max_ring_page_order, uint, 0444);
MODULE_PARM_DESC(max_ring_page_order, "Most pages per ring as a power of 2, 0..4 (default 4; also capped by the backend)");
static unsigned int max_indirect_segments = 256;
module_param(max_indirect_segments, uint, 0444);
MODULE_PARM_DESC(max_indirect_segments, "Most segments per indirect request, 0 or 12..256 (default 256; 0 or <= 11: direct requests only)");

static bool use_flush_cache = true;
module_param(use_flush_cache, bool, 0444);
MODULE_PARM_DESC(use_flush_cache, "Use the backend's feature-flush-cache (default 1; 0: barrier if offered, else no cache control)");
static bool use_barrier = true;
module_param(use_barrier, bool, 0444);
MODULE_PARM_DESC(use_barrier, "Use the backend's feature-barrier (default 1)");
static bool feature_persistent = true;
module_param(feature_persistent, bool, 0644);
MODULE_PARM_DESC(feature_persistent, "Announce persistent grants (default 1; read when a disk connects)");

void xb_fe_glue_params(struct xb_fe_params *out)
{
	out->use_flush_cache = use_flush_cache;
	out->use_barrier = use_barrier;
	out->max_queues = max_queues;
	out->max_ring_page_order = max_ring_page_order;
	out->max_indirect_segments = max_indirect_segments;
	out->persistent = feature_persistent;
}

struct xb_fe_lock {
	spinlock_t lock;
};

/* ---------------------------------------------------------------- compat */

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
static struct gendisk *compat_alloc_disk(struct xb_fe_dev *gd, const struct xb_fe_disk_params *p)
{
	struct queue_limits lim = {
		.logical_block_size = p->logical_block_size,
		.physical_block_size = p->physical_block_size,
		.max_hw_sectors = p->max_hw_sectors,
		.max_segments = p->max_segments,
		.max_segment_size = PAGE_SIZE,
		.seg_boundary_mask = PAGE_SIZE - 1,
		.dma_alignment = 511,
		.max_hw_discard_sectors = p->max_discard_sectors,
		.discard_granularity = p->discard_granularity,
		.discard_alignment = p->discard_alignment,
		.max_secure_erase_sectors = p->secure_erase ? p->max_discard_sectors : 0,
	};

	if (p->write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	if (p->fua)
		lim.features |= BLK_FEAT_FUA;
	return blk_mq_alloc_disk(&gd->tag_set, &lim, gd);
}

static void compat_set_cache(struct request_queue *q, int write_cache, int fua)
{
	struct queue_limits lim = queue_limits_start_update(q);

	lim.features &= ~(BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA);
	if (write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	if (fua)
		lim.features |= BLK_FEAT_FUA;
	if (queue_limits_commit_update(q, &lim))
		pr_warn("xenblk-front: could not update the queue's cache flags\n");
}

static void compat_disable_discard(struct request_queue *q)
{
	struct queue_limits lim = queue_limits_start_update(q);

	lim.max_hw_discard_sectors = 0;
	lim.max_secure_erase_sectors = 0;
	if (queue_limits_commit_update(q, &lim))
		pr_warn("xenblk-front: could not turn discard off\n");
}
#else
static struct gendisk *compat_alloc_disk(struct xb_fe_dev *gd, const struct xb_fe_disk_params *p)
{
	struct gendisk *disk = blk_mq_alloc_disk(&gd->tag_set, gd);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_flag_set(QUEUE_FLAG_VIRT, q);
	blk_queue_logical_block_size(q, p->logical_block_size);
	blk_queue_physical_block_size(q, p->physical_block_size);
	blk_queue_max_hw_sectors(q, p->max_hw_sectors);
	blk_queue_max_segments(q, p->max_segments);
	blk_queue_max_segment_size(q, PAGE_SIZE);
	blk_queue_segment_boundary(q, PAGE_SIZE - 1);
	blk_queue_dma_alignment(q, 511);
	if (p->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, p->max_discard_sectors);
		q->limits.discard_granularity = p->discard_granularity;
		q->limits.discard_alignment = p->discard_alignment;
		if (p->secure_erase)
			blk_queue_max_secure_erase_sectors(q, p->max_discard_sectors);
	}
	blk_queue_write_cache(q, p->write_cache, p->fua);
	return disk;
}

static void compat_set_cache(struct request_queue *q, int write_cache, int fua)
{
	blk_queue_write_cache(q, write_cache, fua);
}

static void compat_disable_discard(struct request_queue *q)
{
	blk_queue_max_discard_sectors(q, 0);
	blk_queue_max_secure_erase_sectors(q, 0);
}
#endif

/* ---------------------------------------------------------------- services */

int xb_front_glue_on_xen(void)
{
	return xen_domain() && xen_has_pv_disk_devices();
}

unsigned int xb_fe_glue_nr_cpus(void)
{
	return num_online_cpus();
}

int xb_fe_glue_read(struct xb_fe_dev *gd, int other, const char *key, char *buf,
		    unsigned int len)
{
	const char *dir = other ? gd->xbdev->otherend : gd->xbdev->nodename;
	unsigned int n;
	char *val;

	val = xenbus_read(XBT_NIL, dir, key, &n);
	if (IS_ERR(val))
		return 0;
	if (len) {
		n = min(n, len - 1);
		memcpy(buf, val, n);
		buf[n] = '\0';
	}
	kfree(val);
	return 1;
}

int xb_fe_glue_write(struct xb_fe_dev *gd, const char *key, const char *value)
{
	return xenbus_write(XBT_NIL, gd->xbdev->nodename, key, value);
}

int xb_fe_glue_remove(struct xb_fe_dev *gd, const char *key)
{
	int err = xenbus_rm(XBT_NIL, gd->xbdev->nodename, key);

	return err == -ENOENT ? 0 : err;
}

int xb_fe_glue_state(struct xb_fe_dev *gd)
{
	return gd->xbdev->state;
}

int xb_fe_glue_switch_state(struct xb_fe_dev *gd, int state)
{
	return xenbus_switch_state(gd->xbdev, state);
}

void xb_fe_glue_frontend_closed(struct xb_fe_dev *gd)
{
	xenbus_frontend_closed(gd->xbdev);
}

void xb_fe_glue_fatal(struct xb_fe_dev *gd, int err, const char *what)
{
	xenbus_dev_fatal(gd->xbdev, err, "%s", what);
}

unsigned int xb_fe_glue_backend_id(struct xb_fe_dev *gd)
{
	return gd->xbdev->otherend_id;
}

const char *xb_fe_glue_nodename(struct xb_fe_dev *gd)
{
	return gd->xbdev->nodename;
}

int xb_fe_glue_ring_setup(struct xb_fe_dev *gd, unsigned int nr_pages, void **vaddr,
			  unsigned int *grefs)
{
	grant_ref_t refs[XENBUS_MAX_RING_GRANTS];
	unsigned int i;
	int err;

	if (nr_pages > XENBUS_MAX_RING_GRANTS)
		return -EINVAL;
	err = xenbus_setup_ring(gd->xbdev, GFP_NOIO | __GFP_HIGH, vaddr, nr_pages, refs);
	if (err)
		return err;
	for (i = 0; i < nr_pages; i++)
		grefs[i] = refs[i];
	return 0;
}

void xb_fe_glue_ring_teardown(void **vaddr, unsigned int nr_pages, unsigned int *grefs)
{
	grant_ref_t refs[XENBUS_MAX_RING_GRANTS];
	unsigned int i;

	if (nr_pages > XENBUS_MAX_RING_GRANTS)
		return;
	for (i = 0; i < nr_pages; i++)
		refs[i] = grefs[i];
	xenbus_teardown_ring(vaddr, nr_pages, refs);
	for (i = 0; i < nr_pages; i++)
		grefs[i] = refs[i];
}

static irqreturn_t xb_fe_irq(int irq, void *ring)
{
	xb_fe_interrupt(ring);
	return IRQ_HANDLED;
}

int xb_fe_glue_evtchn_bind(struct xb_fe_dev *gd, void *ring, unsigned int *port, int *irq)
{
	evtchn_port_t p;
	int err;

	err = xenbus_alloc_evtchn(gd->xbdev, &p);
	if (err)
		return err;
	err = bind_evtchn_to_irqhandler(p, xb_fe_irq, 0, "xenblk-front", ring);
	if (err < 0) {
		xenbus_free_evtchn(gd->xbdev, p);
		return err;
	}
	*port = p;
	*irq = err;
	return 0;
}

void xb_fe_glue_evtchn_unbind(struct xb_fe_dev *gd, void *ring, unsigned int port, int irq)
{
	if (irq > 0)
		unbind_from_irqhandler(irq, ring);   /* also closes the port */
	else if (port)
		xenbus_free_evtchn(gd->xbdev, port);
}

void xb_fe_glue_notify(int irq)
{
	notify_remote_via_irq(irq);
}

int xb_fe_glue_grant(struct xb_fe_dev *gd, unsigned long long pfn, int readonly)
{
	int ref = gnttab_grant_foreign_access(gd->xbdev->otherend_id, pfn_to_gfn(pfn), readonly);

	if (ref >= 0)
		xb_rt_count_grants(1);
	return ref;
}

int xb_fe_glue_end_grant(unsigned int ref)
{
	if (!gnttab_try_end_foreign_access(ref))
		return 0;
	xb_rt_count_grants(-1);
	return 1;
}

void xb_fe_glue_end_grant_free(unsigned int ref, void *page)
{
	/* the grant table ends it now or once the backend unmapped it */
	gnttab_end_foreign_access(ref, virt_to_page(page));
	xb_rt_count_grants(-1);
}

void xb_fe_glue_copy_to_pool(void *pool_page, unsigned long long pfn, unsigned int off,
			     unsigned int len)
{
	void *src;

	if (WARN_ON_ONCE(off >= PAGE_SIZE || len > PAGE_SIZE - off))
		return;
	src = kmap_local_page(pfn_to_page(pfn));
	memcpy((char *)pool_page + off, (char *)src + off, len);
	kunmap_local(src);
}

void xb_fe_glue_copy_from_pool(unsigned long long pfn, const void *pool_page, unsigned int off,
			       unsigned int len)
{
	void *dst;

	if (WARN_ON_ONCE(off >= PAGE_SIZE || len > PAGE_SIZE - off))
		return;
	dst = kmap_local_page(pfn_to_page(pfn));
	memcpy((char *)dst + off, (const char *)pool_page + off, len);
	kunmap_local(dst);
}

void *xb_fe_glue_page_alloc_nowait(unsigned long long *pfn)
{
	struct page *pg = alloc_page(GFP_NOWAIT | __GFP_NOWARN);

	if (!pg)
		return NULL;
	*pfn = page_to_pfn(pg);
	return page_address(pg);
}

void xb_fe_glue_page_free(void *page)
{
	if (page)
		free_page((unsigned long)page);
}

struct xb_fe_lock *xb_fe_glue_lock_new(void)
{
	struct xb_fe_lock *l = kmalloc(sizeof(*l), GFP_KERNEL);

	if (l)
		spin_lock_init(&l->lock);
	return l;
}

void xb_fe_glue_lock_free(struct xb_fe_lock *l)
{
	kfree(l);
}

unsigned long xb_fe_glue_lock(struct xb_fe_lock *l)
{
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	return flags;
}

void xb_fe_glue_unlock(struct xb_fe_lock *l, unsigned long flags)
{
	spin_unlock_irqrestore(&l->lock, flags);
}

unsigned long long xb_fe_glue_now_ns(void)
{
	return ktime_get_ns();
}

void xb_fe_glue_msleep(unsigned int ms)
{
	msleep(ms);
}

/* ---------------------------------------------------------------- requests */

void xb_fe_glue_rq_info(struct xb_fe_rq *xrq, struct xb_fe_rq_info *out)
{
	struct request *rq = (struct request *)xrq;

	out->sector = blk_rq_pos(rq);
	out->nr_sectors = blk_rq_sectors(rq);
	out->fua = !!(rq->cmd_flags & REQ_FUA);
	out->preflush = !!(rq->cmd_flags & REQ_PREFLUSH);
	switch (req_op(rq)) {
	case REQ_OP_READ:
		out->op = XB_FE_OP_READ;
		break;
	case REQ_OP_WRITE:
		out->op = XB_FE_OP_WRITE;
		break;
	case REQ_OP_FLUSH:
		out->op = XB_FE_OP_FLUSH;
		break;
	case REQ_OP_DISCARD:
		out->op = XB_FE_OP_DISCARD;
		break;
	case REQ_OP_SECURE_ERASE:
		out->op = XB_FE_OP_SECURE_ERASE;
		break;
	default:
		out->op = XB_FE_OP_OTHER;
		break;
	}
}

int xb_fe_glue_rq_segments(struct xb_fe_rq *xrq, struct xb_fe_seg *segs, unsigned int max)
{
	struct request *rq = (struct request *)xrq;
	struct req_iterator iter;
	struct bio_vec bv;
	unsigned int n = 0;

	rq_for_each_segment(bv, rq, iter) {
		unsigned long long addr = page_to_phys(bv.bv_page) + bv.bv_offset;

		if (n && segs[n - 1].addr + segs[n - 1].len == addr) {
			segs[n - 1].len += bv.bv_len;
			continue;
		}
		if (n == max)
			return -ENOSPC;
		segs[n].addr = addr;
		segs[n].len = bv.bv_len;
		segs[n].pad = 0;
		n++;
	}
	return n;
}

void xb_fe_glue_rq_start(struct xb_fe_rq *xrq)
{
	blk_mq_start_request((struct request *)xrq);
}

void xb_fe_glue_rq_end(struct xb_fe_rq *xrq, int err)
{
	blk_mq_end_request((struct request *)xrq, errno_to_blk_status(err));
}

/* ---------------------------------------------------------------- blk-mq */

static blk_status_t xb_fe_mq_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *qd)
{
	switch (xb_fe_queue_rq(hctx->driver_data, (struct xb_fe_hctx *)hctx,
			       (struct xb_fe_rq *)qd->rq, blk_mq_rq_to_pdu(qd->rq), qd->last)) {
	case XB_FE_QUEUED:
		return BLK_STS_OK;
	case XB_FE_BUSY:
		return BLK_STS_DEV_RESOURCE;
	default:
		return BLK_STS_RESOURCE;
	}
}

void xb_fe_glue_stop_queue(struct xb_fe_hctx *hctx)
{
	blk_mq_stop_hw_queue((struct blk_mq_hw_ctx *)hctx);
}

static void xb_fe_mq_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	xb_fe_commit_rqs(hctx->driver_data);
}

static int xb_fe_mq_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int idx)
{
	struct xb_fe_dev *gd = data;

	hctx->driver_data = xb_fe_ring_ctx(gd->cxx, idx);
	return hctx->driver_data ? 0 : -EINVAL;
}

static int xb_fe_mq_init_request(struct blk_mq_tag_set *set, struct request *rq,
				 unsigned int hctx_idx, unsigned int numa_node)
{
	xb_fe_pdu_init(blk_mq_rq_to_pdu(rq));
	return 0;
}

static const struct blk_mq_ops xb_fe_mq_ops = {
	.queue_rq = xb_fe_mq_queue_rq,
	.commit_rqs = xb_fe_mq_commit_rqs,
	.init_hctx = xb_fe_mq_init_hctx,
	.init_request = xb_fe_mq_init_request,
};

static int xb_fe_getgeo(struct block_device *bdev, struct hd_geometry *hg)
{
	sector_t cyl = get_capacity(bdev->bd_disk);

	hg->heads = 0xff;
	hg->sectors = 0x3f;
	sector_div(cyl, hg->heads * hg->sectors);
	hg->cylinders = cyl > 0xffff ? 0xffff : cyl;
	return 0;
}

static const struct block_device_operations xb_fe_fops = {
	.owner = THIS_MODULE,
	.getgeo = xb_fe_getgeo,
};

static ssize_t xenblk_stats_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct gendisk *disk = dev_to_disk(dev);
	struct xb_fe_dev *gd = disk->private_data;

	return xb_fe_show_stats(gd->cxx, buf, PAGE_SIZE);
}
static DEVICE_ATTR_RO(xenblk_stats);

static struct attribute *xb_fe_disk_attrs[] = {
	&dev_attr_xenblk_stats.attr,
	NULL,
};

static const struct attribute_group xb_fe_disk_group = {
	.attrs = xb_fe_disk_attrs,
};

static const struct attribute_group *xb_fe_disk_groups[] = {
	&xb_fe_disk_group,
	NULL,
};

int xb_fe_glue_disk_create(struct xb_fe_dev *gd, const struct xb_fe_disk_params *p)
{
	struct gendisk *disk;
	int err;

	if (gd->gd)
		return -EEXIST;
	memset(&gd->tag_set, 0, sizeof(gd->tag_set));
	gd->tag_set.ops = &xb_fe_mq_ops;
	gd->tag_set.nr_hw_queues = p->nr_queues;
	gd->tag_set.queue_depth = p->queue_depth;
	gd->tag_set.numa_node = NUMA_NO_NODE;
	gd->tag_set.cmd_size = xb_fe_pdu_size();
	gd->tag_set.driver_data = gd;
	err = blk_mq_alloc_tag_set(&gd->tag_set);
	if (err)
		return err;

	disk = compat_alloc_disk(gd, p);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(&gd->tag_set);
		return PTR_ERR(disk);
	}
	strscpy(disk->disk_name, p->name, DISK_NAME_LEN);
	disk->major = XENVBD_MAJOR;
	disk->first_minor = p->first_minor;
	disk->minors = p->minors;
	disk->fops = &xb_fe_fops;
	disk->private_data = gd;
	if (p->removable)
		disk->flags |= GENHD_FL_REMOVABLE;
	set_capacity(disk, p->sectors);
	set_disk_ro(disk, p->read_only);

	err = device_add_disk(&gd->xbdev->dev, disk, xb_fe_disk_groups);
	if (err) {
		put_disk(disk);
		blk_mq_free_tag_set(&gd->tag_set);
		return err;
	}
	gd->gd = disk;
	return 0;
}

void xb_fe_glue_disk_del(struct xb_fe_dev *gd)
{
	if (!gd->gd || gd->deleted)
		return;
	blk_mq_start_stopped_hw_queues(gd->gd->queue, true);
	del_gendisk(gd->gd);
	gd->deleted = true;
}

void xb_fe_glue_disk_put(struct xb_fe_dev *gd)
{
	if (!gd->gd)
		return;
	xb_fe_glue_disk_del(gd);
	put_disk(gd->gd);
	blk_mq_free_tag_set(&gd->tag_set);
	gd->gd = NULL;
	gd->deleted = false;
}

void xb_fe_glue_disk_set_capacity(struct xb_fe_dev *gd, unsigned long long sectors)
{
	if (gd->gd)
		set_capacity_and_notify(gd->gd, sectors);
}

void xb_fe_glue_disk_set_cache(struct xb_fe_dev *gd, int write_cache, int fua)
{
	if (gd->gd)
		compat_set_cache(gd->gd->queue, write_cache, fua);
}

void xb_fe_glue_disk_disable_discard(struct xb_fe_dev *gd)
{
	if (gd->gd)
		compat_disable_discard(gd->gd->queue);
}

void xb_fe_glue_flush_work(struct xb_fe_dev *gd)
{
	flush_work(&gd->work);
}

void xb_fe_glue_stop_work(struct xb_fe_dev *gd)
{
	flush_work(&gd->work);
	cancel_work_sync(&gd->work);
}

void xb_fe_glue_kick(struct xb_fe_dev *gd)
{
	if (gd->gd && !gd->deleted)
		blk_mq_start_stopped_hw_queues(gd->gd->queue, true);
}

void xb_fe_glue_disk_quiesce(struct xb_fe_dev *gd)
{
	if (gd->gd)
		blk_mq_quiesce_queue(gd->gd->queue);
}

void xb_fe_glue_disk_unquiesce(struct xb_fe_dev *gd)
{
	if (gd->gd)
		blk_mq_unquiesce_queue(gd->gd->queue);
}

void xb_fe_glue_rq_requeue(struct xb_fe_rq *xrq)
{
	blk_mq_requeue_request((struct request *)xrq, false);
}

void xb_fe_glue_kick_requeue(struct xb_fe_dev *gd)
{
	if (gd->gd) {
		blk_mq_start_stopped_hw_queues(gd->gd->queue, true);
		blk_mq_kick_requeue_list(gd->gd->queue);
	}
}

static void xb_fe_workfn(struct work_struct *w)
{
	struct xb_fe_dev *gd = container_of(w, struct xb_fe_dev, work);

	xb_fe_work(gd->cxx);
}

void xb_fe_glue_schedule_work(struct xb_fe_dev *gd)
{
	schedule_work(&gd->work);
}

static void xb_fe_purgefn(struct work_struct *w)
{
	struct xb_fe_dev *gd = container_of(to_delayed_work(w), struct xb_fe_dev, purge);

	xb_fe_purge(gd->cxx);
}

void xb_fe_glue_schedule_purge(struct xb_fe_dev *gd, unsigned int ms)
{
	schedule_delayed_work(&gd->purge, msecs_to_jiffies(ms));
}

void xb_fe_glue_cancel_purge(struct xb_fe_dev *gd)
{
	cancel_delayed_work_sync(&gd->purge);
}

/* ---------------------------------------------------------------- xenbus */

static int xb_fe_xb_probe(struct xenbus_device *xbdev, const struct xenbus_device_id *id)
{
	struct xb_fe_dev *gd = kzalloc(sizeof(*gd), GFP_KERNEL);

	if (!gd)
		return -ENOMEM;
	gd->xbdev = xbdev;
	INIT_WORK(&gd->work, xb_fe_workfn);
	INIT_DELAYED_WORK(&gd->purge, xb_fe_purgefn);
	dev_set_drvdata(&xbdev->dev, gd);
	gd->cxx = xb_fe_probe(gd);
	if (!gd->cxx) {
		dev_set_drvdata(&xbdev->dev, NULL);
		kfree(gd);
		return -ENODEV;
	}
	return 0;
}

static void xb_fe_xb_remove(struct xenbus_device *xbdev)
{
	struct xb_fe_dev *gd = dev_get_drvdata(&xbdev->dev);

	if (!gd)
		return;
	cancel_delayed_work_sync(&gd->purge);
	xb_fe_remove(gd->cxx);   /* tears the disk and rings down */
	cancel_work_sync(&gd->work);
	dev_set_drvdata(&xbdev->dev, NULL);
	kfree(gd);
}

/* after a restore or migration: the old rings are gone, connect again */
static int xb_fe_xb_resume(struct xenbus_device *xbdev)
{
	struct xb_fe_dev *gd = dev_get_drvdata(&xbdev->dev);

	return gd ? xb_fe_resume(gd->cxx) : 0;
}

static void xb_fe_xb_otherend_changed(struct xenbus_device *xbdev, enum xenbus_state state)
{
	struct xb_fe_dev *gd = dev_get_drvdata(&xbdev->dev);

	if (gd)
		xb_fe_backend_changed(gd->cxx, state);
}

static const struct xenbus_device_id xb_fe_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct xenbus_driver xb_fe_driver = {
	.ids = xb_fe_ids,
	.probe = xb_fe_xb_probe,
	.remove = xb_fe_xb_remove,
	.resume = xb_fe_xb_resume,
	.otherend_changed = xb_fe_xb_otherend_changed,
	.not_essential = true,
};

int xb_front_glue_register(void)
{
	int err = register_blkdev(XENVBD_MAJOR, "xvd");

	if (err) {
		pr_warn("xenblk-front: major %d is taken (is xen-blkfront loaded?)\n", XENVBD_MAJOR);
		return err;
	}
	err = xenbus_register_frontend(&xb_fe_driver);
	if (err)
		unregister_blkdev(XENVBD_MAJOR, "xvd");
	return err;
}

void xb_front_glue_unregister(void)
{
	xenbus_unregister_driver(&xb_fe_driver);
	unregister_blkdev(XENVBD_MAJOR, "xvd");
}

static int __init xb_front_init(void)
{
	int err = xbnl_register();

	if (err)
		return err;
	err = xb_front_module_init();
	if (err)
		xbnl_unregister();
	else
		xb_rt_debugfs_init();
	return err;
}

static void __exit xb_front_exit(void)
{
	xb_rt_debugfs_exit();
	xb_front_module_exit();
	xbnl_unregister();
}

module_init(xb_front_init);
module_exit(xb_front_exit);

MODULE_DESCRIPTION("xenblk: Xen paravirtual block device frontend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:vbd");
MODULE_ALIAS("xenblk");
