// SPDX-License-Identifier: GPL-2.0
/*
 * glue.c - xenblk-back: kernel API adaptation only.  Every decision is made by
 * the C++ driver (back.cpp) behind back_api.h.
 *
 * What lives here: the xenbus driver registration and its callbacks, xenstore
 * access, the block device open (6.1 and 6.12 differ: see "compat"), the
 * shared ring mapping and event channel, one worker thread per ring, grant
 * mapping and bio submission, completion hand-off to the worker, sysfs.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/version.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/kthread.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include <linux/llist.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/ktime.h>
#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "back_api.h"
#include "../rt/rt_api.h"
#include "nl_api.h"

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
static unsigned int max_persistent_grants = 1056;
module_param(max_persistent_grants, uint, 0644);
MODULE_PARM_DESC(max_persistent_grants, "most persistently mapped grants per ring (at most 2048; lowering it unmaps the least recently used)");

unsigned int xbg_max_persistent_grants(void)
{
	return min(READ_ONCE(max_persistent_grants), XBG_PGNT_CAPACITY);
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

int xb_back_glue_on_xen(void)
{
	/* as xen-blkback: any Xen domain may be a driver domain */
	return xen_domain();
}

unsigned long long xbg_now_ns(void)
{
	return ktime_get_ns();
}

/* ---- devices ---- */

struct xbg_dev {
	struct xenbus_device *xd;
	void *cpp;
	struct xenbus_watch watch;
	bool watching;
	bool sysfs;
	struct mutex lock;
	struct block_device *bdev;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *bdev_file;
#else
	fmode_t bdev_mode;
#endif
};

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

/* ---- block device: compat ---- */

int xbg_bdev_open(struct xbg_dev *gd, unsigned int major, unsigned int minor, int read_only)
{
	dev_t dev = MKDEV(major, minor);
	/* a writable disk is ours alone; a read-only one may be shared */
	void *holder = read_only ? NULL : gd;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *f = bdev_file_open_by_dev(dev, read_only ? BLK_OPEN_READ :
					       BLK_OPEN_READ | BLK_OPEN_WRITE, holder, NULL);

	if (IS_ERR(f))
		return PTR_ERR(f);
	gd->bdev_file = f;
	gd->bdev = file_bdev(f);
#else
	fmode_t mode = read_only ? FMODE_READ : FMODE_READ | FMODE_WRITE | FMODE_EXCL;
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

/* The new size, and our state written again in the same transaction: the
 * frontend's watch on our state fires and it reads "sectors" (as with the
 * stock backend). */
int xbg_announce_resize(struct xbg_dev *gd, unsigned long long sectors)
{
	struct xenbus_transaction xbt;
	int err;

	do {
		err = xenbus_transaction_start(&xbt);
		if (err)
			return err;
		err = xenbus_printf(xbt, gd->xd->nodename, "sectors", "%llu", sectors);
		if (!err)
			err = xenbus_printf(xbt, gd->xd->nodename, "state", "%d", gd->xd->state);
		if (err) {
			xenbus_transaction_end(xbt, 1);
			return err;
		}
		err = xenbus_transaction_end(xbt, 0);
	} while (err == -EAGAIN);
	return err;
}

/* ---- sysfs: the stock backend's files, so xentop keeps working ---- */

static struct xbg_dev *xbg_of(struct device *dev)
{
	return dev_get_drvdata(dev);
}

static ssize_t xbg_stat_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct xbg_dev *gd = xbg_of(dev);

	return sysfs_emit(buf, "%lld\n", xb_back_dev_stat(gd->cpp, attr->attr.name));
}

#define XBG_STAT(name) static struct device_attribute xbg_attr_##name = __ATTR(name, 0444, xbg_stat_show, NULL)
XBG_STAT(oo_req);
XBG_STAT(rd_req);
XBG_STAT(wr_req);
XBG_STAT(f_req);
XBG_STAT(ds_req);
XBG_STAT(rd_sect);
XBG_STAT(wr_sect);
XBG_STAT(bad_req);
XBG_STAT(err_req);
XBG_STAT(br_waits);
XBG_STAT(br_waited);
XBG_STAT(pgnt_hits);
XBG_STAT(pgnt_mapped);
XBG_STAT(pgnt_evicted);
XBG_STAT(pgnt_full);
XBG_STAT(pgnt_map_failed);
XBG_STAT(pgnt_kept);
XBG_STAT(ind_kept);
XBG_STAT(ind_mapped);

static struct attribute *xbg_stat_attrs[] = {
	&xbg_attr_oo_req.attr, &xbg_attr_rd_req.attr, &xbg_attr_wr_req.attr,
	&xbg_attr_f_req.attr, &xbg_attr_ds_req.attr, &xbg_attr_rd_sect.attr,
	&xbg_attr_wr_sect.attr, &xbg_attr_bad_req.attr, &xbg_attr_err_req.attr,
	&xbg_attr_br_waits.attr, &xbg_attr_br_waited.attr,
	&xbg_attr_pgnt_hits.attr, &xbg_attr_pgnt_mapped.attr, &xbg_attr_pgnt_evicted.attr,
	&xbg_attr_pgnt_full.attr, &xbg_attr_pgnt_map_failed.attr, &xbg_attr_pgnt_kept.attr,
	&xbg_attr_ind_kept.attr, &xbg_attr_ind_mapped.attr,
	NULL,
};

static const struct attribute_group xbg_stat_group = {
	.name = "statistics",
	.attrs = xbg_stat_attrs,
};

static ssize_t physical_device_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return xb_back_dev_physical_device(xbg_of(dev)->cpp, buf, PAGE_SIZE);
}
static DEVICE_ATTR_RO(physical_device);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return xb_back_dev_mode(xbg_of(dev)->cpp, buf, PAGE_SIZE);
}
static DEVICE_ATTR_RO(mode);

int xbg_sysfs_add(struct xbg_dev *gd)
{
	struct device *dev = &gd->xd->dev;
	int err = device_create_file(dev, &dev_attr_physical_device);

	if (err)
		return err;
	err = device_create_file(dev, &dev_attr_mode);
	if (err)
		goto fail_mode;
	err = sysfs_create_group(&dev->kobj, &xbg_stat_group);
	if (err)
		goto fail_stats;
	gd->sysfs = true;
	return 0;
fail_stats:
	device_remove_file(dev, &dev_attr_mode);
fail_mode:
	device_remove_file(dev, &dev_attr_physical_device);
	return err;
}

void xbg_sysfs_remove(struct xbg_dev *gd)
{
	struct device *dev = &gd->xd->dev;

	if (!gd->sysfs)
		return;
	sysfs_remove_group(&dev->kobj, &xbg_stat_group);
	device_remove_file(dev, &dev_attr_mode);
	device_remove_file(dev, &dev_attr_physical_device);
	gd->sysfs = false;
}

/* ---- rings ---- */

struct xbg_io {
	struct llist_node node;
	struct xbg_ring *r;
	void *cookie;
	int err;
	unsigned int n;
	struct page **pages;         /* n */
	grant_handle_t *handles;     /* n */
};

struct xbg_ring {
	struct xbg_dev *gd;
	void *cpp;
	unsigned int index;
	void *sring;
	int irq;
	struct task_struct *task;
	wait_queue_head_t wq;
	int kick;
	atomic_t eoi;
	atomic_t bios;               /* bios submitted whose end_io has not finished */
	struct llist_head done;
	struct llist_node *reaping;  /* taken from done, not yet handed to C++ */
	struct gnttab_page_cache cache;
	struct blk_plug plug;
	struct gnttab_map_grant_ref *map;       /* XBG_MAX_IO_SEGS, worker only */
	struct gnttab_unmap_grant_ref *unmap;   /* XBG_MAX_IO_SEGS, worker only */
	struct page *ind_pages[XBG_MAX_INDIRECT_PAGES];
	grant_handle_t ind_handles[XBG_MAX_INDIRECT_PAGES];
	unsigned int ind_n;
	unsigned int grefs[XBG_MAX_IO_SEGS];    /* worker only */
	/* persistent grants: per slot a page (NULL: none yet) and a handle */
	struct page **pg_pages;
	grant_handle_t *pg_handles;
	unsigned int pg_cap;
	struct page *tpages[XBG_MAX_IO_SEGS];   /* worker only */
	grant_handle_t thandles[XBG_MAX_IO_SEGS];
	unsigned int tidx[XBG_MAX_IO_SEGS];
};

static unsigned long xbg_vaddr(struct page *page)
{
	return (unsigned long)pfn_to_kaddr(page_to_pfn(page));
}

/* Unmap n granted pages; pages whose unmap failed are not reused (leaked). */
static void xbg_unmap(struct xbg_ring *r, struct page **pages, grant_handle_t *handles,
		      unsigned int n)
{
	unsigned int i, k = 0;
	int err;

	for (i = 0; i < n; i++) {
		if (handles[i] == INVALID_GRANT_HANDLE)
			continue;
		gnttab_set_unmap_op(&r->unmap[k], xbg_vaddr(pages[i]), GNTMAP_host_map, handles[i]);
		pages[k++] = pages[i];
		handles[i] = INVALID_GRANT_HANDLE;
	}
	if (!k)
		return;
	err = gnttab_unmap_refs(r->unmap, NULL, pages, k);
	if (err) {
		pr_err("xenblk-back: grant unmap failed (%d); %u pages not reused\n", err, k);
		return;
	}
	xb_rt_count_grants(-(long)k);
	gnttab_page_cache_put(&r->cache, pages, k);
}

/* Map n grants of the frontend into pages from the ring's cache. */
static int xbg_map(struct xbg_ring *r, const unsigned int *grefs, unsigned int n, bool readonly,
		   struct page **pages, grant_handle_t *handles)
{
	unsigned int i, got;
	int err, bad = 0;
	u32 flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);

	if (!n)
		return 0;
	for (got = 0; got < n; got++) {
		handles[got] = INVALID_GRANT_HANDLE;
		if (gnttab_page_cache_get(&r->cache, &pages[got])) {
			gnttab_page_cache_put(&r->cache, pages, got);
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++)
		gnttab_set_map_op(&r->map[i], xbg_vaddr(pages[i]), flags, grefs[i],
				  r->gd->xd->otherend_id);
	err = gnttab_map_refs(r->map, NULL, pages, n);
	for (i = 0; i < n; i++) {
		if (!err && r->map[i].status == GNTST_okay) {
			handles[i] = r->map[i].handle;
			xb_rt_count_grants(1);
		} else {
			bad = 1;
		}
	}
	if (!bad)
		return 0;
	/* unmap what did map; return every page */
	for (i = 0; i < n; i++)
		if (handles[i] == INVALID_GRANT_HANDLE)
			gnttab_page_cache_put(&r->cache, &pages[i], 1);
	{
		unsigned int k = 0;

		for (i = 0; i < n; i++)
			if (handles[i] != INVALID_GRANT_HANDLE) {
				pages[k] = pages[i];
				handles[k++] = handles[i];
			}
		xbg_unmap(r, pages, handles, k);
	}
	return -EFAULT;
}

int xbg_indirect_map(struct xbg_ring *r, const unsigned int *grefs, unsigned int n,
		     const void **addrs)
{
	unsigned int i;
	int err;

	if (n > XBG_MAX_INDIRECT_PAGES)
		return -EINVAL;
	err = xbg_map(r, grefs, n, true, r->ind_pages, r->ind_handles);
	if (err)
		return err;
	r->ind_n = n;
	for (i = 0; i < n; i++)
		addrs[i] = (const void *)xbg_vaddr(r->ind_pages[i]);
	return 0;
}

void xbg_indirect_unmap(struct xbg_ring *r)
{
	xbg_unmap(r, r->ind_pages, r->ind_handles, r->ind_n);
	r->ind_n = 0;
}

int xbg_pgnt_init(struct xbg_ring *r, unsigned int capacity)
{
	unsigned int i;

	if (r->pg_cap || capacity > XBG_PGNT_CAPACITY)
		return -EINVAL;
	r->pg_pages = kvcalloc(capacity, sizeof(*r->pg_pages), GFP_KERNEL);
	r->pg_handles = kvcalloc(capacity, sizeof(*r->pg_handles), GFP_KERNEL);
	if (!r->pg_pages || !r->pg_handles) {
		kvfree(r->pg_pages);
		kvfree(r->pg_handles);
		r->pg_pages = NULL;
		r->pg_handles = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < capacity; i++)
		r->pg_handles[i] = INVALID_GRANT_HANDLE;
	r->pg_cap = capacity;
	return 0;
}

int xbg_pgnt_map(struct xbg_ring *r, const unsigned int *slots, const unsigned int *grefs,
		 unsigned int n, unsigned char *ok)
{
	unsigned int i;
	int err;

	if (n > XBG_MAX_IO_SEGS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (slots[i] >= r->pg_cap || r->pg_handles[slots[i]] != INVALID_GRANT_HANDLE)
			return -EINVAL;
		if (!r->pg_pages[slots[i]] && gnttab_page_cache_get(&r->cache, &r->pg_pages[slots[i]]))
			return -ENOMEM;   /* pages taken so far stay with their slots */
	}
	/* read-write: a kept mapping serves reads and writes */
	for (i = 0; i < n; i++)
		gnttab_set_map_op(&r->map[i], xbg_vaddr(r->pg_pages[slots[i]]), GNTMAP_host_map,
				  grefs[i], r->gd->xd->otherend_id);
	for (i = 0; i < n; i++)
		r->tpages[i] = r->pg_pages[slots[i]];
	err = gnttab_map_refs(r->map, NULL, r->tpages, n);
	for (i = 0; i < n; i++) {
		ok[i] = r->map[i].status == GNTST_okay;
		if (ok[i]) {
			r->pg_handles[slots[i]] = r->map[i].handle;
			xb_rt_count_grants(1);
		}
	}
	if (err) {
		/* the batch failed as a whole: undo what did map */
		xbg_pgnt_unmap(r, slots, n);
		for (i = 0; i < n; i++)
			ok[i] = 0;
	}
	return 0;
}

const void *xbg_pgnt_addr(struct xbg_ring *r, unsigned int slot)
{
	return (const void *)xbg_vaddr(r->pg_pages[slot]);
}

void xbg_pgnt_unmap(struct xbg_ring *r, const unsigned int *slots, unsigned int n)
{
	unsigned int i, k = 0;
	int err;

	if (n > XBG_MAX_IO_SEGS)
		return;
	for (i = 0; i < n; i++) {
		unsigned int s = slots[i];

		if (s >= r->pg_cap || r->pg_handles[s] == INVALID_GRANT_HANDLE)
			continue;
		gnttab_set_unmap_op(&r->unmap[k], xbg_vaddr(r->pg_pages[s]), GNTMAP_host_map,
				    r->pg_handles[s]);
		r->tpages[k] = r->pg_pages[s];
		r->tidx[k++] = s;
		r->pg_handles[s] = INVALID_GRANT_HANDLE;
	}
	if (!k)
		return;
	err = gnttab_unmap_refs(r->unmap, NULL, r->tpages, k);
	if (err) {
		/* never reuse a page that may still be mapped */
		pr_err("xenblk-back: persistent grant unmap failed (%d); %u pages not reused\n", err, k);
		for (i = 0; i < k; i++)
			r->pg_pages[r->tidx[i]] = NULL;
		return;
	}
	xb_rt_count_grants(-(long)k);
}

/* Teardown: every kept mapping goes, then the pages return to the cache. */
static void xbg_pgnt_release(struct xbg_ring *r)
{
	unsigned int s = 0, n, i;

	if (!r->pg_cap)
		return;
	while (s < r->pg_cap) {
		unsigned int slots[64];

		for (n = 0; s < r->pg_cap && n < ARRAY_SIZE(slots); s++)
			if (r->pg_handles[s] != INVALID_GRANT_HANDLE)
				slots[n++] = s;
		xbg_pgnt_unmap(r, slots, n);
	}
	for (i = 0; i < r->pg_cap; i++)
		if (r->pg_pages[i]) {
			gnttab_page_cache_put(&r->cache, &r->pg_pages[i], 1);
			r->pg_pages[i] = NULL;
		}
}

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

static void xbg_io_free(struct xbg_io *io)
{
	xb_rt_count_objects(-1);
	kfree(io);
}

static struct xbg_io *xbg_io_alloc(struct xbg_ring *r, void *cookie, unsigned int n)
{
	struct xbg_io *io = kzalloc(sizeof(*io) + n * (sizeof(struct page *) + sizeof(grant_handle_t)),
				    GFP_NOIO);

	if (!io)
		return NULL;
	xb_rt_count_objects(1);
	io->r = r;
	io->cookie = cookie;
	io->n = n;
	io->pages = (struct page **)(io + 1);
	io->handles = (grant_handle_t *)(io->pages + n);
	return io;
}

int xbg_io_submit(struct xbg_ring *r, void *cookie, int op, unsigned int flags,
		  unsigned long long sector, const struct xbg_seg *segs, unsigned int n)
{
	unsigned int *grefs = r->grefs;
	struct xbg_io *io;
	struct bio *bio;
	blk_opf_t opf;
	unsigned int i, k;
	int err;

	if (n > XBG_MAX_IO_SEGS || (op == XBG_IO_FLUSH && n) || (op != XBG_IO_FLUSH && !n))
		return -EINVAL;
	io = xbg_io_alloc(r, cookie, n);
	if (!io)
		return -ENOMEM;
	/* kept mappings are used as they are; the rest is mapped for this I/O */
	k = 0;
	for (i = 0; i < n; i++) {
		if (segs[i].slot >= 0 && (unsigned int)segs[i].slot < r->pg_cap &&
		    r->pg_handles[segs[i].slot] != INVALID_GRANT_HANDLE) {
			io->pages[i] = r->pg_pages[segs[i].slot];
			io->handles[i] = INVALID_GRANT_HANDLE;   /* not unmapped at completion */
			continue;
		}
		if (segs[i].slot >= 0) {   /* the caller's slot holds no mapping */
			xbg_io_free(io);
			return -EINVAL;
		}
		r->tidx[k] = i;
		grefs[k++] = segs[i].gref;
	}
	err = xbg_map(r, grefs, k, op != XBG_IO_READ, r->tpages, r->thandles);
	if (err) {
		xbg_io_free(io);
		return err;
	}
	for (i = 0; i < k; i++) {
		io->pages[r->tidx[i]] = r->tpages[i];
		io->handles[r->tidx[i]] = r->thandles[i];
	}
	switch (op) {
	case XBG_IO_READ:
		opf = REQ_OP_READ;
		break;
	case XBG_IO_FLUSH:
		opf = REQ_OP_WRITE | REQ_PREFLUSH | REQ_SYNC;
		break;
	default:
		opf = REQ_OP_WRITE | REQ_SYNC | REQ_IDLE;
		if (flags & XBG_IO_PREFLUSH)
			opf |= REQ_PREFLUSH;
		if (flags & XBG_IO_FUA)
			opf |= REQ_FUA;
		break;
	}
	bio = bio_alloc(r->gd->bdev, n, opf, GFP_NOIO);
	bio->bi_iter.bi_sector = op == XBG_IO_FLUSH ? 0 : sector;
	for (i = 0; i < n; i++) {
		if (bio_add_page(bio, io->pages[i], segs[i].len, segs[i].offset) != segs[i].len) {
			bio_put(bio);
			xbg_unmap(r, io->pages, io->handles, n);
			xbg_io_free(io);
			return -EIO;
		}
	}
	bio->bi_private = io;
	bio->bi_end_io = xbg_end_io;
	atomic_inc(&r->bios);
	submit_bio(bio);
	return 0;
}

/* A secure erase has no asynchronous form in the kernel: it runs on a
 * workqueue of ours and completes like a bio, so that the ring keeps serving
 * meanwhile and teardown waits for it (r->bios). */
static struct workqueue_struct *xbg_erase_wq;

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

int xbg_io_discard(struct xbg_ring *r, void *cookie, unsigned long long sector,
		   unsigned long long nr, int secure)
{
	struct xbg_io *io = xbg_io_alloc(r, cookie, 0);
	struct bio *bio = NULL;
	int err;

	if (!io)
		return -ENOMEM;
	if (secure) {
		struct xbg_erase *e = kmalloc(sizeof(*e), GFP_NOIO);

		if (!e) {
			xbg_io_free(io);
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
	/* a chain of discard bios; the last one completes when all have */
	err = __blkdev_issue_discard(r->gd->bdev, sector, nr, GFP_NOIO, &bio);
	if (err || !bio) {
		if (bio) {   /* not expected: the bios built so far still run */
			submit_bio_wait(bio);
			bio_put(bio);
		}
		io->err = err;
		xbg_io_done(r, io);
		return 0;
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
		xbg_io_free(io);
	}
	return k;
}

static irqreturn_t xbg_ring_irq(int irq, void *arg)
{
	struct xbg_ring *r = arg;

	atomic_set(&r->eoi, 1);
	WRITE_ONCE(r->kick, 1);
	wake_up(&r->wq);
	return IRQ_HANDLED;
}

static bool xbg_ring_has_work(struct xbg_ring *r)
{
	return READ_ONCE(r->kick) || !llist_empty(&r->done) || kthread_should_stop();
}

static int xbg_ring_thread(void *arg)
{
	struct xbg_ring *r = arg;

	while (!kthread_should_stop()) {
		int ret;

		wait_event_interruptible(r->wq, xbg_ring_has_work(r));
		do {
			int eoi = atomic_xchg(&r->eoi, 0);

			WRITE_ONCE(r->kick, 0);
			ret = xb_back_ring_work(r->cpp, 0, eoi);
			if (eoi)
				xen_irq_lateeoi(r->irq, (ret & XBG_WORK_SPURIOUS) ? XEN_EOI_FLAG_SPURIOUS : 0);
			ret &= ~XBG_WORK_SPURIOUS;
			if (ret == XBG_WORK_RETRY) {
				schedule_timeout_interruptible(msecs_to_jiffies(10));
				WRITE_ONCE(r->kick, 1);
			}
			cond_resched();
		} while (ret != XBG_WORK_IDLE && !kthread_should_stop());
	}
	/* teardown: wait for every bio, answer what completed, map nothing new */
	while (atomic_read(&r->bios) > 0 || !llist_empty(&r->done) || r->reaping) {
		wait_event_timeout(r->wq, !llist_empty(&r->done), HZ / 10);
		xb_back_ring_work(r->cpp, 1, 0);
	}
	xb_back_ring_work(r->cpp, 1, 0);
	return 0;
}

struct xbg_ring *xbg_ring_create(struct xbg_dev *gd, void *cpp_ring, unsigned int index,
				 const unsigned int *ring_refs, unsigned int nr_pages,
				 unsigned int evtchn, void **sring)
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
	r->cpp = cpp_ring;
	r->index = index;
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

/* ---- xenbus driver ---- */

static void xbg_hotplug_cb(struct xenbus_watch *watch, const char *path, const char *token)
{
	struct xbg_dev *gd = container_of(watch, struct xbg_dev, watch);

	xb_back_dev_hotplug_changed(gd->cpp);
}

static int xbg_probe(struct xenbus_device *xd, const struct xenbus_device_id *id)
{
	struct xbg_dev *gd = kzalloc(sizeof(*gd), GFP_KERNEL);
	int err;

	if (!gd)
		return -ENOMEM;
	xb_rt_count_objects(1);
	gd->xd = xd;
	mutex_init(&gd->lock);
	dev_set_drvdata(&xd->dev, gd);
	gd->cpp = xb_back_dev_probe(gd);
	if (!gd->cpp) {
		dev_set_drvdata(&xd->dev, NULL);
		kfree(gd);
		xb_rt_count_objects(-1);
		return -ENOMEM;
	}
	err = xenbus_watch_pathfmt(xd, &gd->watch, NULL, xbg_hotplug_cb, "%s/%s",
				   xd->nodename, "physical-device");
	if (err)
		goto fail;
	gd->watching = true;
	err = xenbus_switch_state(xd, XenbusStateInitWait);
	if (err)
		goto fail;
	return 0;
fail:
	if (gd->watching) {
		unregister_xenbus_watch(&gd->watch);
		kfree(gd->watch.node);
	}
	xb_back_dev_remove(gd->cpp);
	dev_set_drvdata(&xd->dev, NULL);
	kfree(gd);
	xb_rt_count_objects(-1);
	return err;
}

static void xbg_remove(struct xenbus_device *xd)
{
	struct xbg_dev *gd = dev_get_drvdata(&xd->dev);

	if (!gd)
		return;
	if (gd->watching) {
		unregister_xenbus_watch(&gd->watch);
		kfree(gd->watch.node);
		gd->watching = false;
	}
	xb_back_dev_remove(gd->cpp);
	dev_set_drvdata(&xd->dev, NULL);
	kfree(gd);
	xb_rt_count_objects(-1);
}

static void xbg_frontend_changed(struct xenbus_device *xd, enum xenbus_state state)
{
	struct xbg_dev *gd = dev_get_drvdata(&xd->dev);

	if (gd)
		xb_back_dev_frontend_changed(gd->cpp, state);
}

static const struct xenbus_device_id xbg_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct xenbus_driver xbg_driver = {
	.ids = xbg_ids,
	.probe = xbg_probe,
	.remove = xbg_remove,
	.otherend_changed = xbg_frontend_changed,
};

static int __init xb_back_init(void)
{
	int err;

	xbg_erase_wq = alloc_workqueue("xenblk-erase", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!xbg_erase_wq)
		return -ENOMEM;
	err = xb_back_module_init();
	if (err) {
		destroy_workqueue(xbg_erase_wq);
		return err;
	}
	err = xbnl_register();
	if (err) {
		xb_back_module_exit();
		destroy_workqueue(xbg_erase_wq);
		return err;
	}
	err = xenbus_register_backend(&xbg_driver);
	if (err) {
		xbnl_unregister();
		xb_back_module_exit();
		destroy_workqueue(xbg_erase_wq);
		return err;
	}
	xb_rt_debugfs_init();
	return 0;
}

static void __exit xb_back_exit(void)
{
	xb_rt_debugfs_exit();
	xenbus_unregister_driver(&xbg_driver);
	xbnl_unregister();
	xb_back_module_exit();
	destroy_workqueue(xbg_erase_wq);   /* drains: no erase runs past this */
}

module_init(xb_back_init);
module_exit(xb_back_exit);

MODULE_DESCRIPTION("xenblk: Xen paravirtual block device backend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen-backend:vbd");
