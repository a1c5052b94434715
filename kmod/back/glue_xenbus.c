// SPDX-License-Identifier: GPL-2.0
/*
 * glue_xenbus.c - xenblk-back's services (back_services.h) for the device:
 * module parameters and test knobs, xenstore, the xenbus device, the block
 * device (6.1 and 6.12 differ: see "compat"), sysfs.  Called by the C++
 * driver; each one adapts a kernel API and decides nothing.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/blkdev.h>
#include <linux/ktime.h>
#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "back_services.h"
#include "xenbus_states.h"
#include "glue.h"

/* ---- module parameters (read at each probe / connect) ---- */

static char *flush_policy = "auto";
module_param(flush_policy, charp, 0644);
MODULE_PARM_DESC(flush_policy, "flush/barrier features offered: auto, flush, barrier, both, none (applies at the next connect)");
static unsigned int max_queues;
module_param(max_queues, uint, 0644);
MODULE_PARM_DESC(max_queues, "most rings per device (0: number of online CPUs)");
static unsigned int max_ring_page_order = 4;
module_param(max_ring_page_order, uint, 0644);
MODULE_PARM_DESC(max_ring_page_order, "largest ring the frontend may use, as log2 pages (0..4)");
static unsigned int max_indirect_segments = 256;
module_param(max_indirect_segments, uint, 0644);
MODULE_PARM_DESC(max_indirect_segments, "segments per indirect request (0: no indirect; at most 256)");
static bool discard = true;
module_param(discard, bool, 0644);
MODULE_PARM_DESC(discard, "offer discard when the device supports it");
static bool feature_persistent = true;
module_param(feature_persistent, bool, 0644);
MODULE_PARM_DESC(feature_persistent, "offer persistent grants (applies to devices created later)");
/* the number of kept mappings per ring: at most this many, read at every pass */
static unsigned int max_persistent_grants = 2048;
module_param(max_persistent_grants, uint, 0644);
MODULE_PARM_DESC(max_persistent_grants, "most persistently mapped grants per ring (default and most 2048; lowering it unmaps the least recently used)");

unsigned int xbg_max_persistent_grants(void)
{
	return READ_ONCE(max_persistent_grants);
}

static unsigned int refuse_ops;
module_param(refuse_ops, uint, 0644);
MODULE_PARM_DESC(refuse_ops, "for testing frontends: bitmask of blkif operations (1 << op: 4 barrier, 8 flush, 32 discard) answered with EOPNOTSUPP as by a device that lost the capability (at once)");

unsigned int xbg_refuse_ops(void)
{
	return READ_ONCE(refuse_ops);
}

static unsigned int corrupt_responses;
module_param(corrupt_responses, uint, 0644);
MODULE_PARM_DESC(corrupt_responses, "for testing frontends: this many of the next responses carry an id no request has (a misbehaving backend)");

/* 1 if *knob was above zero (and is one less now) */
static int xbg_take_one(unsigned int *knob)
{
	unsigned int v = READ_ONCE(*knob);

	while (v) {
		unsigned int old = cmpxchg(knob, v, v - 1);

		if (old == v)
			return 1;
		v = old;
	}
	return 0;
}

int xbg_corrupt_next_response(void)
{
	return xbg_take_one(&corrupt_responses);
}

static unsigned int fail_flushes;
module_param(fail_flushes, uint, 0644);
MODULE_PARM_DESC(fail_flushes, "for testing frontends: this many of the next FLUSH_DISKCACHE and WRITE_BARRIER requests are answered with BLKIF_RSP_ERROR without being performed (a device whose flush failed)");

int xbg_fail_next_flush(void)
{
	return xbg_take_one(&fail_flushes);
}

static bool hold_requests;
module_param(hold_requests, bool, 0644);
MODULE_PARM_DESC(hold_requests, "for testing frontends: leave new requests on the rings (bios in flight still complete and are answered) until cleared");

int xbg_hold_requests(void)
{
	return READ_ONCE(hold_requests);
}

void xbg_get_params(struct xbg_params *out)
{
	kernel_param_lock(THIS_MODULE);
	strscpy(out->flush_policy, flush_policy ? flush_policy : "", sizeof(out->flush_policy));
	/* a value written through sysfs ends in a newline */
	out->flush_policy[strcspn(out->flush_policy, "\n")] = '\0';
	out->max_queues = max_queues;
	out->max_ring_order = max_ring_page_order;
	out->max_indirect_segments = max_indirect_segments;
	out->discard = discard;
	out->persistent = feature_persistent;
	kernel_param_unlock(THIS_MODULE);
	out->online_cpus = num_online_cpus();
}

int xbg_on_xen(void)
{
	/* as xen-blkback: any Xen domain may be a driver domain */
	return xen_domain();
}

unsigned long long xbg_now_ns(void)
{
	return ktime_get_ns();
}

/* ---- xenstore and the xenbus device ---- */

int xbg_read(struct xbg_dev *gd, const char *key, char *buf, unsigned int len)
{
	unsigned int n;
	char *v = xenbus_read(XBT_NIL, gd->xd->nodename, key, &n);

	if (IS_ERR(v))
		return 0;
	strscpy(buf, v, len);
	kfree(v);
	return 1;
}

int xbg_read_other(struct xbg_dev *gd, const char *key, char *buf, unsigned int len)
{
	unsigned int n;
	char *v;

	if (!gd->xd->otherend)
		return 0;
	v = xenbus_read(XBT_NIL, gd->xd->otherend, key, &n);
	if (IS_ERR(v))
		return 0;
	strscpy(buf, v, len);
	kfree(v);
	return 1;
}

int xbg_write(struct xbg_dev *gd, const char *key, const char *value)
{
	return xenbus_write(XBT_NIL, gd->xd->nodename, key, value);
}

int xbg_txn_start(unsigned int *txn)
{
	struct xenbus_transaction t;
	int err = xenbus_transaction_start(&t);

	if (!err)
		*txn = t.id;
	return err;
}

int xbg_txn_write(struct xbg_dev *gd, unsigned int txn, const char *key, const char *value)
{
	struct xenbus_transaction t = { .id = txn };

	return xenbus_write(t, gd->xd->nodename, key, value);
}

int xbg_txn_end(unsigned int txn, int abort)
{
	struct xenbus_transaction t = { .id = txn };

	return xenbus_transaction_end(t, abort);
}

static void xbg_watch_cb(struct xenbus_watch *watch, const char *path, const char *token)
{
	struct xbg_dev *gd = container_of(watch, struct xbg_dev, watch);

	gd->watch_fn(gd->watch_ctx);
}

int xbg_watch(struct xbg_dev *gd, const char *key, void (*fn)(void *ctx), void *ctx)
{
	int err;

	if (gd->watching)
		return -EBUSY;
	gd->watch_fn = fn;
	gd->watch_ctx = ctx;
	err = xenbus_watch_pathfmt(gd->xd, &gd->watch, NULL, xbg_watch_cb, "%s/%s",
				   gd->xd->nodename, key);
	if (err)
		return err;
	gd->watching = true;
	return 0;
}

void xbg_unwatch(struct xbg_dev *gd)
{
	if (!gd->watching)
		return;
	unregister_xenbus_watch(&gd->watch);
	kfree(gd->watch.node);
	gd->watch.node = NULL;
	gd->watching = false;
}

int xbg_switch_state(struct xbg_dev *gd, int state)
{
	return xenbus_switch_state(gd->xd, (enum xenbus_state)state);
}

int xbg_our_state(struct xbg_dev *gd)
{
	return gd->xd->state;
}

int xbg_is_online(struct xbg_dev *gd)
{
	return xenbus_dev_is_online(gd->xd);
}

void xbg_unregister(struct xbg_dev *gd)
{
	device_unregister(&gd->xd->dev);
}

void xbg_fatal(struct xbg_dev *gd, int err, const char *what)
{
	xenbus_dev_fatal(gd->xd, err, "%s", what);
}

unsigned int xbg_domid(struct xbg_dev *gd)
{
	return gd->xd->otherend_id;
}

unsigned int xbg_handle(struct xbg_dev *gd)
{
	const char *p = strrchr(gd->xd->nodename, '/');
	unsigned int h = 0;

	if (!p || kstrtouint(p + 1, 10, &h))
		return 0;
	return h;
}

void xbg_dev_lock(struct xbg_dev *gd)
{
	mutex_lock(&gd->lock);
}

void xbg_dev_unlock(struct xbg_dev *gd)
{
	mutex_unlock(&gd->lock);
}

int xbg_sysfs_add(struct xbg_dev *gd)
{
	int err = sysfs_create_groups(&gd->xd->dev.kobj, xbg_sysfs_groups);

	if (!err)
		gd->sysfs = true;
	return err;
}

void xbg_sysfs_remove(struct xbg_dev *gd)
{
	if (!gd->sysfs)
		return;
	sysfs_remove_groups(&gd->xd->dev.kobj, xbg_sysfs_groups);
	gd->sysfs = false;
}

/* ---- block device: compat ---- */

int xbg_bdev_open(struct xbg_dev *gd, unsigned int major, unsigned int minor, unsigned int flags)
{
	dev_t dev = MKDEV(major, minor);
	void *holder = (flags & XBG_OPEN_EXCLUSIVE) ? gd : NULL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	blk_mode_t mode = BLK_OPEN_READ | ((flags & XBG_OPEN_WRITE) ? BLK_OPEN_WRITE : 0);
	struct file *f = bdev_file_open_by_dev(dev, mode, holder, NULL);

	if (IS_ERR(f))
		return PTR_ERR(f);
	gd->bdev_file = f;
	gd->bdev = file_bdev(f);
#else
	fmode_t mode = FMODE_READ | ((flags & XBG_OPEN_WRITE) ? FMODE_WRITE : 0) |
		       (holder ? FMODE_EXCL : 0);
	struct block_device *b = blkdev_get_by_dev(dev, mode, holder);

	if (IS_ERR(b))
		return PTR_ERR(b);
	gd->bdev_mode = mode;
	gd->bdev = b;
#endif
	return 0;
}

void xbg_bdev_close(struct xbg_dev *gd)
{
	if (!gd->bdev)
		return;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	bdev_fput(gd->bdev_file);
	gd->bdev_file = NULL;
#else
	blkdev_put(gd->bdev, gd->bdev_mode);
#endif
	gd->bdev = NULL;
}

int xbg_bdev_write_cache(struct xbg_dev *gd)
{
	struct block_device *b = READ_ONCE(gd->bdev);

	return b && bdev_write_cache(b);
}

void xbg_bdev_get_props(struct xbg_dev *gd, struct xbg_bdev_props *out)
{
	struct block_device *b = gd->bdev;

	memset(out, 0, sizeof(*out));
	if (!b)
		return;
	out->sectors = bdev_nr_sectors(b);
	out->logical_block_size = bdev_logical_block_size(b);
	out->physical_block_size = bdev_physical_block_size(b);
	out->read_only = bdev_read_only(b);
	out->removable = !!(b->bd_disk->flags & GENHD_FL_REMOVABLE);
	out->write_cache = bdev_write_cache(b);
	out->fua = bdev_fua(b);
	out->discard = bdev_max_discard_sectors(b) != 0;
	out->discard_granularity = bdev_discard_granularity(b);
	out->discard_alignment = bdev_discard_alignment(b);
	out->secure_erase = bdev_max_secure_erase_sectors(b) != 0;
}

unsigned long long xbg_bdev_sectors(struct xbg_dev *gd)
{
	return gd->bdev ? bdev_nr_sectors(gd->bdev) : 0;
}
