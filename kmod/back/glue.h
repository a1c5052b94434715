/* SPDX-License-Identifier: GPL-2.0 */
/*
 * glue.h - what xenblk-back's C glue files share among themselves (kernel
 * types; never seen by the C++ side).
 *
 * glue_entry.c is the entry side (kernel -> C++, through back_entry.h);
 * glue_xenbus.c, glue_ring.c and glue_grants.c are the services side
 * (C++ -> kernel, through back_services.h).  The services call no C++ symbol: the entry side
 * lends them only its sysfs attribute groups.
 */
#ifndef XENBLK_BACK_GLUE_H
#define XENBLK_BACK_GLUE_H

#include <linux/version.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <linux/wait.h>
#include <linux/llist.h>
#include <linux/blkdev.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>

#include "back_services.h"

struct block_device;
struct file;

/* one xenbus "vbd" device */
struct xbg_dev {
	struct xenbus_device *xd;
	void *cpp;
	struct xenbus_watch watch;
	bool watching;
	void (*watch_fn)(void *ctx);
	void *watch_ctx;
	bool sysfs;
	struct mutex lock;
	struct block_device *bdev;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *bdev_file;
#else
	fmode_t bdev_mode;
#endif
};

/* one shared ring with its event channel and worker thread */
struct xbg_ring {
	struct xbg_dev *gd;
	void *sring;
	int irq;
	struct task_struct *task;
	int (*worker)(void *ctx);
	void *worker_ctx;
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
	/* persistent grants: per slot a page (NULL: none yet) and a handle */
	struct page **pg_pages;
	grant_handle_t *pg_handles;
	unsigned int pg_cap;
	struct page *tpages[XBG_MAX_IO_SEGS];   /* worker only */
	grant_handle_t thandles[XBG_MAX_IO_SEGS];
	unsigned int tidx[XBG_MAX_IO_SEGS];
};

/* glue_grants.c, for glue_ring.c */
unsigned long xbg_vaddr(struct page *page);
void xbg_unmap(struct xbg_ring *r, struct page **pages, grant_handle_t *handles, unsigned int n);
int xbg_map(struct xbg_ring *r, const unsigned int *grefs, unsigned int n, bool readonly,
	    struct page **pages, grant_handle_t *handles, unsigned char *ok);
void xbg_release(struct xbg_ring *r, struct page **pages, grant_handle_t *handles,
		 const unsigned char *own, unsigned int n);
void xbg_pgnt_release(struct xbg_ring *r);

/* glue_entry.c: the sysfs files of a device (NULL-terminated) */
extern const struct attribute_group *xbg_sysfs_groups[];

/* glue_ring.c: module-wide resources, set up at load before the driver registers */
int xbg_ring_module_init(void);
void xbg_ring_module_exit(void);

#endif /* XENBLK_BACK_GLUE_H */
