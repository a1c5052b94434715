/* SPDX-License-Identifier: GPL-2.0 */
/*
 * glue.h - private to xenblk-front's C glue: the per-device object and the
 * kernel callback tables, which the entry side (glue.c) defines and the
 * services (glue_xen.c, glue_blk.c) hand to the kernel.
 */
#ifndef XENBLK_FRONT_GLUE_H
#define XENBLK_FRONT_GLUE_H

#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/interrupt.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

struct xb_fe_dev {
	struct xenbus_device *xbdev;
	void *cxx;                      /* the C++ device */
	struct blk_mq_tag_set tag_set;
	struct gendisk *gd;             /* NULL: no disk */
	struct work_struct work;        /* runs xb_fe_work */
	struct delayed_work purge;      /* runs xb_fe_purge */
};

/* glue.c */
extern struct xenbus_driver xb_fe_driver;
extern const struct blk_mq_ops xb_fe_mq_ops;
extern const struct block_device_operations xb_fe_fops;
extern const struct attribute_group *xb_fe_disk_groups[];
irqreturn_t xb_fe_irq(int irq, void *ring);

#endif /* XENBLK_FRONT_GLUE_H */
