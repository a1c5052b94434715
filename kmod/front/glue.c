// SPDX-License-Identifier: GPL-2.0
/*
 * glue.c - xenblk-front's entry side: what the kernel calls (module init and
 * exit, the xenbus driver, blk-mq and block device operations, the event
 * channel handler, the work items, sysfs) is handed to the C++ driver through
 * front_entry.h.  Each function is a thin adapter; the kernel services the
 * C++ side uses are in glue_xen.c and glue_blk.c (front_services.h).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/hdreg.h>
#include <linux/interrupt.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include "front_entry.h"
#include "glue.h"
#include "../rt/rt_api.h"
#include "nl_api.h"

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

static enum blk_eh_timer_return xb_fe_mq_timeout(struct request *rq)
{
	return xb_fe_timeout(blk_mq_rq_to_pdu(rq)) == XB_FE_EH_DONE ? BLK_EH_DONE : BLK_EH_RESET_TIMER;
}

const struct blk_mq_ops xb_fe_mq_ops = {
	.queue_rq = xb_fe_mq_queue_rq,
	.timeout = xb_fe_mq_timeout,
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

const struct block_device_operations xb_fe_fops = {
	.owner = THIS_MODULE,
	.getgeo = xb_fe_getgeo,
};

/* ---------------------------------------------------------------- sysfs */

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

const struct attribute_group *xb_fe_disk_groups[] = {
	&xb_fe_disk_group,
	NULL,
};

/* ---------------------------------------------------------------- event channel, work */

irqreturn_t xb_fe_irq(int irq, void *ring)
{
	xb_fe_interrupt(ring);
	return IRQ_HANDLED;
}

static void xb_fe_workfn(struct work_struct *w)
{
	struct xb_fe_dev *gd = container_of(w, struct xb_fe_dev, work);

	xb_fe_work(gd->cxx);
}

static void xb_fe_purgefn(struct work_struct *w)
{
	struct xb_fe_dev *gd = container_of(to_delayed_work(w), struct xb_fe_dev, purge);

	xb_fe_purge(gd->cxx);
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

/* registered by xb_front_glue_register (glue_xen.c) when the C++ side says so */
struct xenbus_driver xb_fe_driver = {
	.ids = xb_fe_ids,
	.probe = xb_fe_xb_probe,
	.remove = xb_fe_xb_remove,
	.resume = xb_fe_xb_resume,
	.otherend_changed = xb_fe_xb_otherend_changed,
	.not_essential = true,
};

/* ---------------------------------------------------------------- module */

static int __init xb_front_init(void)
{
	/* C++ registers the netlink family, then the xenbus driver */
	int err = xb_front_module_init();

	if (!err)
		xb_rt_debugfs_init();
	return err;
}

static void __exit xb_front_exit(void)
{
	xb_rt_debugfs_exit();
	xb_front_module_exit();
}

module_init(xb_front_init);
module_exit(xb_front_exit);

MODULE_DESCRIPTION("xenblk: Xen paravirtual block device frontend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:vbd");
MODULE_ALIAS("xenblk");
