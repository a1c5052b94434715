/* SPDX-License-Identifier: GPL-2.0 */
/*
 * back_services.h - what xenblk-back's C++ driver calls in its C glue
 * (glue_xenbus.c, glue_ring.c).  Plain C, no includes: both sides compile it.
 *
 * Each service is a thin adapter over a kernel API; the C++ side decides when,
 * with which values, and what happens on failure.  No service names a C++
 * symbol: the one that runs C++ code (a ring's worker thread, a xenstore
 * watch) takes a function pointer and a context from the C++ side.
 * Handles are opaque: struct xbg_dev is one xenbus "vbd" device, struct
 * xbg_ring one shared ring with its event channel and worker thread, struct
 * xbg_io one request's block I/O with its grant mappings.
 */
#ifndef XENBLK_BACK_SERVICES_H
#define XENBLK_BACK_SERVICES_H

#ifdef __cplusplus
extern "C" {
#endif

struct xbg_dev;
struct xbg_ring;
struct xbg_io;

/* bio flags, chosen by the C++ side; the glue maps each to its REQ_* bit
 * (no XBG_BIO_WRITE: REQ_OP_READ) */
enum {
	XBG_BIO_WRITE = 1,         /* REQ_OP_WRITE */
	XBG_BIO_PREFLUSH = 2,      /* REQ_PREFLUSH */
	XBG_BIO_FUA = 4,           /* REQ_FUA */
	XBG_BIO_SYNC = 8,          /* REQ_SYNC */
	XBG_BIO_IDLE = 16,         /* REQ_IDLE */
};

/* block device open flags (no XBG_OPEN_WRITE: read-only) */
enum {
	XBG_OPEN_WRITE = 1,        /* open for writing too */
	XBG_OPEN_EXCLUSIVE = 2,    /* claim it: no other exclusive opener, no mount */
};

/* One data segment: bytes [offset, offset + len) of the granted page gref.
 * slot >= 0: gref is already mapped persistently in that slot (xbg_pgnt_map);
 * -1: map it for this request only. */
struct xbg_seg {
	unsigned int gref;
	unsigned short offset;
	unsigned short len;
	int slot;
};

/* Slots per ring for persistently mapped grants (max_persistent_grants is
 * capped to it; the C++ side sizes its cache with it). */
#define XBG_PGNT_CAPACITY 2048u

/* Largest number of segments one I/O accepts (one bio). */
#define XBG_MAX_IO_SEGS 256u
/* Indirect pages one request may use. */
#define XBG_MAX_INDIRECT_PAGES 8u

/* What the opened block device has. */
struct xbg_bdev_props {
	unsigned long long sectors;        /* 512-byte units */
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int discard_granularity;  /* bytes */
	unsigned int discard_alignment;    /* bytes */
	int read_only;
	int removable;
	int cdrom;
	int write_cache;
	int fua;
	int discard;
	int secure_erase;
};

/* Module parameters, read at each connect. */
struct xbg_params {
	char flush_policy[16];             /* "auto", "flush", "barrier", "both", "none" */
	unsigned int max_queues;           /* 0: number of online CPUs */
	unsigned int max_ring_order;
	unsigned int max_indirect_segments;
	int discard;
	int persistent;                    /* offer feature-persistent */
	unsigned int online_cpus;
};

/* ---- module (glue_xenbus.c) ---- */
int xbg_on_xen(void);                  /* 1: running in a Xen domain (dom0 or driver domain) */
void xbg_get_params(struct xbg_params *out);
/* The module's max_persistent_grants (per ring; the caller caps it). */
unsigned int xbg_max_persistent_grants(void);
/* test knob: blkif operations (bit 1 << op) to answer with EOPNOTSUPP */
unsigned int xbg_refuse_ops(void);
/* test knob: 1 if the next response is to carry a bogus id (counts down) */
int xbg_corrupt_next_response(void);
/* test knob: 1 if the next flush or barrier is to fail with an error (counts down) */
int xbg_fail_next_flush(void);
/* test knob: 1 while new requests are to be left on the rings */
int xbg_hold_requests(void);
unsigned long long xbg_now_ns(void);

/* ---- xenstore and the xenbus device (glue_xenbus.c) ---- */
/* our directory and the frontend's; 1 if present */
int xbg_read(struct xbg_dev *gd, const char *key, char *buf, unsigned int len);
int xbg_read_other(struct xbg_dev *gd, const char *key, char *buf, unsigned int len);
int xbg_write(struct xbg_dev *gd, const char *key, const char *value);
/* A transaction on our directory: start, writes, end (abort: 1 to drop it).
 * xbg_txn_end returns -EAGAIN when the transaction is to be run again. */
int xbg_txn_start(unsigned int *txn);
int xbg_txn_write(struct xbg_dev *gd, unsigned int txn, const char *key, const char *value);
int xbg_txn_end(unsigned int txn, int abort);
/* Watch our key: fn(ctx) on the xenwatch thread each time it is written (and
 * once at once).  0 or -errno; xbg_unwatch undoes it (a no-op without one). */
int xbg_watch(struct xbg_dev *gd, const char *key, void (*fn)(void *ctx), void *ctx);
void xbg_unwatch(struct xbg_dev *gd);
/* xenbus states: XENBLK_STATE_* (<xenblk/blkif.h>: the values of enum xenbus_state) */
int xbg_switch_state(struct xbg_dev *gd, int state);
int xbg_our_state(struct xbg_dev *gd);
int xbg_is_online(struct xbg_dev *gd);
void xbg_unregister(struct xbg_dev *gd);
void xbg_fatal(struct xbg_dev *gd, int err, const char *what);
unsigned int xbg_domid(struct xbg_dev *gd);
unsigned int xbg_handle(struct xbg_dev *gd);
/* serialises statistics readers with ring teardown (may sleep) */
void xbg_dev_lock(struct xbg_dev *gd);
void xbg_dev_unlock(struct xbg_dev *gd);
/* the sysfs files of the stock backend (physical_device, mode, statistics/) */
int xbg_sysfs_add(struct xbg_dev *gd);
void xbg_sysfs_remove(struct xbg_dev *gd);

/* ---- block device (glue_xenbus.c) ---- */
/* XBG_OPEN_* flags; 0 or -errno */
int xbg_bdev_open(struct xbg_dev *gd, unsigned int major, unsigned int minor, unsigned int flags);
void xbg_bdev_close(struct xbg_dev *gd);
void xbg_bdev_get_props(struct xbg_dev *gd, struct xbg_bdev_props *out);
/* whether the device has a volatile write cache now (0 without a device) */
int xbg_bdev_write_cache(struct xbg_dev *gd);
/* the open device's size now, in 512-byte sectors (0 if none is open) */
unsigned long long xbg_bdev_sectors(struct xbg_dev *gd);

/* ---- rings (glue_ring.c) ---- */
/* Maps the ring, binds the event channel and creates the worker thread, which
 * runs worker(ctx) once started.  *sring receives the shared page(s).  NULL
 * on failure (nothing left). */
struct xbg_ring *xbg_ring_create(struct xbg_dev *gd, unsigned int index,
				 const unsigned int *ring_refs, unsigned int nr_pages,
				 unsigned int evtchn, void **sring,
				 int (*worker)(void *ctx), void *ctx);
void xbg_ring_start(struct xbg_ring *r);
/* Stops the worker (worker() returns once xbg_ring_should_stop says so),
 * unbinds the event channel, unmaps every grant left and the ring. */
void xbg_ring_stop(struct xbg_ring *r);
void xbg_ring_free(struct xbg_ring *r);
void xbg_ring_kick(struct xbg_ring *r);       /* wake the worker */
void xbg_ring_notify(struct xbg_ring *r);     /* event to the frontend */
void xbg_ring_plug(struct xbg_ring *r);
void xbg_ring_unplug(struct xbg_ring *r);

/* The worker thread's primitives (on the worker only). */
int xbg_ring_should_stop(struct xbg_ring *r);
/* Sleeps until a kick, an event, a completion or the stop. */
void xbg_ring_wait(struct xbg_ring *r);
/* The same, or until ns nanoseconds passed (an hrtimer: requests held by the
 * I/O limits start on time). */
void xbg_ring_wait_ns(struct xbg_ring *r, unsigned long long ns);
/* Takes the pending kick: 1 if an event of the frontend came with it (to be
 * EOI'd with xbg_ring_eoi). */
int xbg_ring_take_event(struct xbg_ring *r);
/* EOI of that event; spurious: it brought no request (XSA-332: Xen's event
 * code then delays the next event of that channel). */
void xbg_ring_eoi(struct xbg_ring *r, int spurious);
/* 1 while I/O of this ring is submitted or completed and not reaped yet */
int xbg_ring_busy(struct xbg_ring *r);
/* Sleeps until a completion or ms milliseconds passed. */
void xbg_ring_wait_done(struct xbg_ring *r, unsigned int ms);
void xbg_sleep_ms(unsigned int ms);
void xbg_cond_resched(void);

/* Indirect pages: map n (read-only) into the ring's indirect slots; addrs[i]
 * receives each page, ok[i] = 1 if it mapped.  0, or -ENOMEM / -EINVAL with
 * nothing mapped.  xbg_indirect_unmap releases them all (mapped or not). */
int xbg_indirect_map(struct xbg_ring *r, const unsigned int *grefs, unsigned int n,
		     const void **addrs, unsigned char *ok);
void xbg_indirect_unmap(struct xbg_ring *r);

/* ---- one request's I/O (glue_ring.c) ----
 * xbg_io_alloc: n pages, none set (NULL: out of memory).  Each page is then a
 * kept mapping (xbg_io_use_slot) or mapped for this I/O (xbg_io_map).  Until
 * it is submitted the caller owns it; xbg_io_free unmaps what it mapped and
 * frees it.  Once submitted, its completion is reported by xbg_ring_reap with
 * cookie, its own mappings already unmapped. */
struct xbg_io *xbg_io_alloc(struct xbg_ring *r, void *cookie, unsigned int n);
/* page i is the kept mapping of slot: 0, or -EINVAL if the slot holds none */
int xbg_io_use_slot(struct xbg_io *io, unsigned int i, unsigned int slot);
/* Map grefs[k] into page idx[k], k < n, in one batch; readonly: the device
 * only reads the pages.  ok[k] = 1 if it mapped.  0, or -ENOMEM with nothing
 * mapped. */
int xbg_io_map(struct xbg_io *io, const unsigned int *idx, const unsigned int *grefs,
	       unsigned int n, int readonly, unsigned char *ok);
/* One bio of the io's pages (segs[i] gives page i's bytes; none: an empty
 * bio) with XBG_BIO_* flags.  0, or -errno with io still the caller's. */
int xbg_io_submit(struct xbg_io *io, unsigned int bio_flags, unsigned long long sector,
		  const struct xbg_seg *segs);
void xbg_io_free(struct xbg_io *io);
/* Discard exactly [sector, sector + nr) as a chain of bios.  0: submitted,
 * completes later; 1: nothing to submit; -ENOMEM: nothing done; other
 * -errno: the device refused it at once (nothing to reap). */
int xbg_io_discard(struct xbg_ring *r, void *cookie, unsigned long long sector,
		   unsigned long long nr);
/* Secure erase of exactly [sector, sector + nr): the kernel has it only
 * synchronously, so it runs on the module's workqueue and completes like a
 * bio.  0, or -ENOMEM with nothing done. */
int xbg_io_secure_erase(struct xbg_ring *r, void *cookie, unsigned long long sector,
			unsigned long long nr);
/* Completed I/O, own grants already unmapped: up to max (cookie, errno) pairs. */
unsigned int xbg_ring_reap(struct xbg_ring *r, void **cookies, int *errs, unsigned int max);

/* ---- persistent grants (glue_ring.c) ----
 * Slots 0..capacity-1 of a ring, each holding at most one read-write mapping
 * of a frontend grant.  init at connect (may sleep); the rest on the ring's
 * worker only.  Every mapping left is unmapped by xbg_ring_stop. */
int xbg_pgnt_init(struct xbg_ring *r, unsigned int capacity);
/* Map grefs[i] into slots[i] (empty slots), n <= XBG_MAX_IO_SEGS; ok[i] = 1
 * if it mapped.  0; -ENOMEM or -EINVAL with nothing mapped; 1: the map failed
 * as a whole, and the slots with ok[i] = 1 hold a mapping all the same. */
int xbg_pgnt_map(struct xbg_ring *r, const unsigned int *slots, const unsigned int *grefs,
		 unsigned int n, unsigned char *ok);
/* Unmap the mappings of n slots (n <= XBG_MAX_IO_SEGS; empty slots are
 * skipped); the slots are empty after. */
void xbg_pgnt_unmap(struct xbg_ring *r, const unsigned int *slots, unsigned int n);
/* The page a mapped slot holds (an indirect page read through its kept mapping). */
const void *xbg_pgnt_addr(struct xbg_ring *r, unsigned int slot);

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_BACK_SERVICES_H */
