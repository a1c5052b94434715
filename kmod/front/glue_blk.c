// SPDX-License-Identifier: GPL-2.0
/*
 * glue_blk.c - xenblk-front's block services for the C++ driver
 * (front_services.h): block requests, the gendisk and its queue, the work
 * items.  Thin adapters: every number and every decision (limits, when a disk
 * is created, deleted or dropped) comes from the C++ side; no C++ symbol.
 * The differences between the supported kernels (6.1, 6.12) are confined to
 * the "compat" section.
 */
#include <linux/module.h>
#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/major.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include "front_services.h"
#include "glue.h"

/* ---------------------------------------------------------------- compat */

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
static struct gendisk *compat_alloc_disk(struct xb_fe_dev *gd, const struct xb_fe_disk_params *p)
{
	struct queue_limits lim = {
		.logical_block_size = p->logical_block_size,
		.physical_block_size = p->physical_block_size,
		.max_hw_sectors = p->max_hw_sectors,
		.max_segments = p->max_segments,
		.max_segment_size = p->max_segment_size,
		.seg_boundary_mask = p->seg_boundary_mask,
		.dma_alignment = p->dma_alignment,
		.max_hw_discard_sectors = p->max_discard_sectors,
		.discard_granularity = p->discard_granularity,
		.discard_alignment = p->discard_alignment,
		.max_secure_erase_sectors = p->max_secure_erase_sectors,
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
	blk_queue_max_segment_size(q, p->max_segment_size);
	blk_queue_segment_boundary(q, p->seg_boundary_mask);
	blk_queue_dma_alignment(q, p->dma_alignment);
	if (p->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, p->max_discard_sectors);
		q->limits.discard_granularity = p->discard_granularity;
		q->limits.discard_alignment = p->discard_alignment;
		if (p->max_secure_erase_sectors)
			blk_queue_max_secure_erase_sectors(q, p->max_secure_erase_sectors);
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

int xb_fe_glue_rq_for_each_segment(struct xb_fe_rq *xrq,
				   int (*fn)(void *ctx, unsigned long long addr, unsigned int len),
				   void *ctx)
{
	struct request *rq = (struct request *)xrq;
	struct req_iterator iter;
	struct bio_vec bv;
	int rc;

	rq_for_each_segment(bv, rq, iter) {
		rc = fn(ctx, page_to_phys(bv.bv_page) + bv.bv_offset, bv.bv_len);
		if (rc)
			return rc;
	}
	return 0;
}

void xb_fe_glue_rq_start(struct xb_fe_rq *xrq)
{
	blk_mq_start_request((struct request *)xrq);
}

void xb_fe_glue_rq_end(struct xb_fe_rq *xrq, int err)
{
	blk_mq_end_request((struct request *)xrq, errno_to_blk_status(err));
}

void xb_fe_glue_rq_requeue(struct xb_fe_rq *xrq)
{
	blk_mq_requeue_request((struct request *)xrq, false);
}

void xb_fe_glue_stop_queue(struct xb_fe_hctx *hctx)
{
	blk_mq_stop_hw_queue((struct blk_mq_hw_ctx *)hctx);
}

/* ---------------------------------------------------------------- the disk */

int xb_fe_glue_disk_create(struct xb_fe_dev *gd, const struct xb_fe_disk_params *p)
{
	struct gendisk *disk;
	int err;

	memset(&gd->tag_set, 0, sizeof(gd->tag_set));
	gd->tag_set.ops = &xb_fe_mq_ops;
	gd->tag_set.nr_hw_queues = p->nr_queues;
	gd->tag_set.queue_depth = p->queue_depth;
	gd->tag_set.numa_node = NUMA_NO_NODE;
	gd->tag_set.cmd_size = p->pdu_size;
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
	del_gendisk(gd->gd);
}

void xb_fe_glue_disk_put(struct xb_fe_dev *gd)
{
	put_disk(gd->gd);
	blk_mq_free_tag_set(&gd->tag_set);
	gd->gd = NULL;
}

void xb_fe_glue_disk_set_capacity(struct xb_fe_dev *gd, unsigned long long sectors)
{
	set_capacity_and_notify(gd->gd, sectors);
}

void xb_fe_glue_disk_set_cache(struct xb_fe_dev *gd, int write_cache, int fua)
{
	compat_set_cache(gd->gd->queue, write_cache, fua);
}

void xb_fe_glue_disk_disable_discard(struct xb_fe_dev *gd)
{
	compat_disable_discard(gd->gd->queue);
}

void xb_fe_glue_kick(struct xb_fe_dev *gd)
{
	blk_mq_start_stopped_hw_queues(gd->gd->queue, true);
}

void xb_fe_glue_disk_quiesce(struct xb_fe_dev *gd)
{
	blk_mq_quiesce_queue(gd->gd->queue);
}

void xb_fe_glue_disk_unquiesce(struct xb_fe_dev *gd)
{
	blk_mq_unquiesce_queue(gd->gd->queue);
}

void xb_fe_glue_kick_requeue(struct xb_fe_dev *gd)
{
	blk_mq_kick_requeue_list(gd->gd->queue);
}

/* ---------------------------------------------------------------- work items */

void xb_fe_glue_schedule_work(struct xb_fe_dev *gd)
{
	schedule_work(&gd->work);
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

void xb_fe_glue_schedule_purge(struct xb_fe_dev *gd, unsigned int ms)
{
	schedule_delayed_work(&gd->purge, msecs_to_jiffies(ms));
}

void xb_fe_glue_cancel_purge(struct xb_fe_dev *gd)
{
	cancel_delayed_work_sync(&gd->purge);
}
