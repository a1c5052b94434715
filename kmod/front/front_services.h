/* SPDX-License-Identifier: GPL-2.0 */
/*
 * front_services.h - the kernel services xenblk-front's C++ driver uses: the
 * C glue (glue_xen.c, glue_blk.c) implements them and calls no C++ symbol;
 * where a service calls back, it takes a function pointer and a context.
 * Plain C, no includes: both sides compile it.
 *
 * The services adapt kernel APIs (xenstore, grant tables, event channels,
 * gendisk and blk-mq, memory) and make no protocol decision.  Handles are
 * opaque: struct xb_fe_dev is the glue's per-xenbus-device object,
 * struct xb_fe_rq a block request, struct xb_fe_lock a spinlock,
 * struct xb_fe_hctx a blk-mq hardware queue.
 */
#ifndef XENBLK_FRONT_SERVICES_H
#define XENBLK_FRONT_SERVICES_H

#ifdef __cplusplus
extern "C" {
#endif

struct xb_fe_dev;
struct xb_fe_rq;
struct xb_fe_lock;
struct xb_fe_hctx;

/* block operations of a request */
enum {
	XB_FE_OP_READ = 0, XB_FE_OP_WRITE = 1, XB_FE_OP_FLUSH = 2,
	XB_FE_OP_DISCARD = 3, XB_FE_OP_SECURE_ERASE = 4, XB_FE_OP_OTHER = 5,
};

struct xb_fe_rq_info {
	unsigned long long sector;      /* 512-byte units */
	unsigned long long nr_sectors;
	unsigned int op;                /* XB_FE_OP_* */
	unsigned int fua;
	unsigned int preflush;
};

/* the disk and its queue limits, every number decided by the C++ side */
struct xb_fe_disk_params {
	unsigned long long sectors;     /* 512-byte units */
	const char *name;               /* "xvda" */
	unsigned int first_minor;
	unsigned int minors;
	unsigned int nr_queues;
	unsigned int queue_depth;
	unsigned int pdu_size;          /* bytes of driver data per request */
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int max_segments;
	unsigned int max_segment_size;  /* bytes */
	unsigned int seg_boundary_mask;
	unsigned int dma_alignment;     /* mask */
	unsigned int max_hw_sectors;
	unsigned int discard_granularity;  /* bytes */
	unsigned int discard_alignment;    /* bytes */
	unsigned int max_discard_sectors;  /* 0: no discard */
	unsigned int max_secure_erase_sectors;  /* 0: no secure erase */
	unsigned char write_cache;
	unsigned char fua;
	unsigned char read_only;
	unsigned char removable;
};

/* module parameters */
struct xb_fe_params {
	unsigned int max_queues;
	unsigned int max_ring_page_order;
	unsigned int max_indirect_segments;
	unsigned int use_flush_cache;     /* 0: ignore feature-flush-cache */
	unsigned int use_barrier;         /* 0: ignore feature-barrier */
	unsigned int persistent;          /* 1: announce feature-persistent */
	unsigned int trusted;             /* 0: bounce through granted pool pages */
};

/* ---- the module (glue_xen.c) ---- */
int xb_front_glue_on_xen(void);        /* 1: a Xen domain with PV disk devices */
/* the block major and the xenbus frontend driver */
int xb_front_glue_register(void);
void xb_front_glue_unregister(void);
void xb_fe_glue_params(struct xb_fe_params *out);
unsigned int xb_fe_glue_nr_cpus(void);

/* ---- xenstore and xenbus (glue_xen.c) ---- */
/* other = 1 reads the backend's directory, 0 our own.
 * read: 1 found (buf NUL-terminated, truncated to len - 1), 0 absent. */
int xb_fe_glue_read(struct xb_fe_dev *gd, int other, const char *key, char *buf,
		    unsigned int len);
int xb_fe_glue_write(struct xb_fe_dev *gd, const char *key, const char *value);
/* removes our key; 0 also when it was not there */
int xb_fe_glue_remove(struct xb_fe_dev *gd, const char *key);
int xb_fe_glue_state(struct xb_fe_dev *gd);          /* our xenbus state (XENBLK_STATE_*, <xenblk/blkif.h>: the values of enum xenbus_state) */
int xb_fe_glue_switch_state(struct xb_fe_dev *gd, int state);
void xb_fe_glue_frontend_closed(struct xb_fe_dev *gd);
void xb_fe_glue_fatal(struct xb_fe_dev *gd, int err, const char *what);
unsigned int xb_fe_glue_backend_id(struct xb_fe_dev *gd);
const char *xb_fe_glue_nodename(struct xb_fe_dev *gd);

/* ---- rings, event channels, grants, memory (glue_xen.c) ---- */
/* shared ring: nr_pages zeroed pages granted to the backend */
int xb_fe_glue_ring_setup(struct xb_fe_dev *gd, unsigned int nr_pages, void **vaddr,
			  unsigned int *grefs);
void xb_fe_glue_ring_teardown(void **vaddr, unsigned int nr_pages, unsigned int *grefs);
/* event channel whose interrupt runs the glue's handler, which calls
 * xb_fe_interrupt(ring) (front_entry.h) */
int xb_fe_glue_evtchn_bind(struct xb_fe_dev *gd, void *ring, unsigned int *port, int *irq);
void xb_fe_glue_evtchn_unbind(struct xb_fe_dev *gd, void *ring, unsigned int port, int irq);
void xb_fe_glue_notify(int irq);

/* grants of guest frames (pfn) to the backend: ref >= 0 or negative errno */
int xb_fe_glue_grant(struct xb_fe_dev *gd, unsigned long long pfn, int readonly);
/* 1: access ended and the ref freed; 0: the backend still maps it (ref leaked) */
int xb_fe_glue_end_grant(unsigned int ref);
/* End a grant and free its page (allocated by xb_fe_glue_page_alloc_nowait):
 * at once, or later by the grant table once the backend has unmapped it. */
void xb_fe_glue_end_grant_free(unsigned int ref, void *page);
/* End a grant of a page we do not own, at once or once the backend has
 * unmapped it; the grant table holds a reference to the page until then. */
void xb_fe_glue_end_grant_deferred(unsigned int ref);

/* copies between a pool page and guest memory: bytes [off, off + len) of the
 * frame pfn and of the pool page; off + len <= 4096; no sleeping */
void xb_fe_glue_copy_to_pool(void *pool_page, unsigned long long pfn, unsigned int off,
			     unsigned int len);
void xb_fe_glue_copy_from_pool(unsigned long long pfn, const void *pool_page, unsigned int off,
			       unsigned int len);

/* one page, without sleeping; *pfn receives its frame */
void *xb_fe_glue_page_alloc_nowait(unsigned long long *pfn);
void xb_fe_glue_page_free(void *page);

/* spinlocks for the rings (irq-safe) */
struct xb_fe_lock *xb_fe_glue_lock_new(void);
void xb_fe_glue_lock_free(struct xb_fe_lock *l);
unsigned long xb_fe_glue_lock(struct xb_fe_lock *l);
void xb_fe_glue_unlock(struct xb_fe_lock *l, unsigned long flags);

unsigned long long xb_fe_glue_now_ns(void);
void xb_fe_glue_msleep(unsigned int ms);

/* ---- block requests (glue_blk.c) ---- */
void xb_fe_glue_rq_info(struct xb_fe_rq *rq, struct xb_fe_rq_info *out);
/* calls fn(ctx, addr, len) for each data segment of the request in order
 * (addr: guest physical byte address); stops at the first fn that returns
 * non-zero and returns its value; 0 when every segment was seen */
int xb_fe_glue_rq_for_each_segment(struct xb_fe_rq *rq,
				   int (*fn)(void *ctx, unsigned long long addr, unsigned int len),
				   void *ctx);
void xb_fe_glue_rq_start(struct xb_fe_rq *rq);
void xb_fe_glue_rq_end(struct xb_fe_rq *rq, int err);   /* err: 0 or negative errno */
/* resume: hands a started request back to blk-mq */
void xb_fe_glue_rq_requeue(struct xb_fe_rq *rq);
/* stop one hw queue (under the ring lock, so that a completion cannot slip by) */
void xb_fe_glue_stop_queue(struct xb_fe_hctx *hctx);

/* ---- the disk (glue_blk.c); the C++ side calls these only while the disk exists ---- */
int xb_fe_glue_disk_create(struct xb_fe_dev *gd, const struct xb_fe_disk_params *p);
/* del_gendisk: waits for in-flight I/O (the rings must still run), new I/O fails */
void xb_fe_glue_disk_del(struct xb_fe_dev *gd);
/* drops the disk and the tag set, once deleted and the rings are gone */
void xb_fe_glue_disk_put(struct xb_fe_dev *gd);
void xb_fe_glue_disk_set_capacity(struct xb_fe_dev *gd, unsigned long long sectors);
/* process context */
void xb_fe_glue_disk_set_cache(struct xb_fe_dev *gd, int write_cache, int fua);
void xb_fe_glue_disk_disable_discard(struct xb_fe_dev *gd);
void xb_fe_glue_kick(struct xb_fe_dev *gd);            /* restart stopped hw queues */
/* resume: no queue_rq runs between quiesce and unquiesce; kick_requeue runs
 * what xb_fe_glue_rq_requeue handed back */
void xb_fe_glue_disk_quiesce(struct xb_fe_dev *gd);
void xb_fe_glue_disk_unquiesce(struct xb_fe_dev *gd);
void xb_fe_glue_kick_requeue(struct xb_fe_dev *gd);

/* ---- work items (glue_blk.c): they call xb_fe_work / xb_fe_purge ---- */
void xb_fe_glue_schedule_work(struct xb_fe_dev *gd);
void xb_fe_glue_flush_work(struct xb_fe_dev *gd);
/* runs what is pending, then waits until the work neither runs nor is queued
 * (it may requeue itself); nothing may schedule it meanwhile */
void xb_fe_glue_stop_work(struct xb_fe_dev *gd);
/* run xb_fe_purge in ms milliseconds; cancel: not pending nor running on return */
void xb_fe_glue_schedule_purge(struct xb_fe_dev *gd, unsigned int ms);
void xb_fe_glue_cancel_purge(struct xb_fe_dev *gd);

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_FRONT_SERVICES_H */
