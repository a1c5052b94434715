// SPDX-License-Identifier: GPL-2.0
/*
 * glue_xen.c - xenblk-front's Xen services for the C++ driver
 * (front_services.h): module parameters, registration, xenstore and xenbus
 * state, shared ring pages, event channels, grants, pages, locks, time.
 * Thin adapters over kernel APIs: no decision, no C++ symbol.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/blkdev.h>
#include <linux/interrupt.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/delay.h>
#include <linux/major.h>
#include <linux/cpumask.h>
#include <linux/highmem.h>
#include <linux/timekeeping.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>
#include <xen/events.h>
#include <xen/page.h>
#include <xen/platform_pci.h>

#include "front_services.h"
#include "xenbus_states.h"
#include "glue.h"
#include "../rt/rt_api.h"

/* ---------------------------------------------------------------- module */

static unsigned int max_queues = 4;
module_param(max_queues, uint, 0444);
MODULE_PARM_DESC(max_queues, "Most rings (hardware queues) per disk (default 4; also capped by CPUs, the backend and 16)");
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
static bool trusted = true;
module_param(trusted, bool, 0644);
MODULE_PARM_DESC(trusted, "Trust backends with the guest's pages (default 1; 0: copy all data through pages granted to them, also when a disk's xenstore key trusted is 0; read when a disk connects)");

void xb_fe_glue_params(struct xb_fe_params *out)
{
	out->use_flush_cache = use_flush_cache;
	out->use_barrier = use_barrier;
	out->max_queues = max_queues;
	out->max_ring_page_order = max_ring_page_order;
	out->max_indirect_segments = max_indirect_segments;
	out->persistent = feature_persistent;
	out->trusted = trusted;
}

int xb_front_glue_on_xen(void)
{
	return xen_domain() && xen_has_pv_disk_devices();
}

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
/* an open of a 202:N node with no driver loaded asks for this module, as for
 * the stock frontend */
MODULE_ALIAS_BLOCKDEV_MAJOR(XENVBD_MAJOR);

unsigned int xb_fe_glue_nr_cpus(void)
{
	return num_online_cpus();
}

/* ---------------------------------------------------------------- xenstore, xenbus */

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

/* ---------------------------------------------------------------- rings, event channels */

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

/* ---------------------------------------------------------------- grants, pages */

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

void xb_fe_glue_end_grant_deferred(unsigned int ref)
{
	/* NULL: the grant table takes a reference to the page while it waits */
	gnttab_end_foreign_access(ref, NULL);
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

/* ---------------------------------------------------------------- locks, time */

struct xb_fe_lock {
	spinlock_t lock;
};

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
