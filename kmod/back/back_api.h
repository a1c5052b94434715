/* SPDX-License-Identifier: GPL-2.0 */
/*
 * back_api.h - the boundary between xenblk-back's C glue and its C++ driver.
 * Plain C, no includes: both sides compile it.
 *
 * The glue adapts kernel APIs (xenbus, grant tables, event channels, block
 * devices, kthreads, sysfs); every protocol decision is made by the C++ side.
 * Handles are opaque: struct xbg_dev is one xenbus "vbd" device, struct
 * xbg_ring one shared ring with its event channel and worker thread.
 */
#ifndef XENBLK_BACK_API_H
#define XENBLK_BACK_API_H

#ifdef __cplusplus
extern "C" {
#endif

struct xbg_dev;
struct xbg_ring;

/* xenbus states (values of enum xenbus_state) */
enum {
	XBG_STATE_UNKNOWN = 0,
	XBG_STATE_INITIALISING = 1,
	XBG_STATE_INITWAIT = 2,
	XBG_STATE_INITIALISED = 3,
	XBG_STATE_CONNECTED = 4,
	XBG_STATE_CLOSING = 5,
	XBG_STATE_CLOSED = 6,
	XBG_STATE_RECONFIGURING = 7,
	XBG_STATE_RECONFIGURED = 8,
};

/* I/O operations the glue can submit */
enum {
	XBG_IO_READ = 0,
	XBG_IO_WRITE = 1,
	XBG_IO_FLUSH = 2,          /* empty REQ_PREFLUSH write */
};
/* flags for xbg_io_submit */
enum {
	XBG_IO_PREFLUSH = 1,
	XBG_IO_FUA = 2,
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

/* Largest number of segments one xbg_io_submit accepts (one bio). */
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

/* ---- C glue -> C++ ---- */
int xb_back_module_init(void);
void xb_back_module_exit(void);

/* xenbus callbacks, all on the xenwatch thread (serialised per device) */
void *xb_back_dev_probe(struct xbg_dev *gd);           /* C++ device or NULL */
void xb_back_dev_remove(void *dev);
void xb_back_dev_hotplug_changed(void *dev);           /* physical-device written */
void xb_back_dev_frontend_changed(void *dev, int state);
/* statistics for sysfs: which is one of the names below; -1 if unknown */
long long xb_back_dev_stat(void *dev, const char *which);
/* "MAJOR:MINOR" in hex as the hotplug script wrote it, and the mode, for sysfs */
int xb_back_dev_physical_device(void *dev, char *buf, unsigned int len);
int xb_back_dev_mode(void *dev, char *buf, unsigned int len);

/* Ring worker: one pass.  stopping: reap completions only.  event: the pass
 * follows an event from the frontend that is still to be EOI'd.
 * Returns XBG_WORK_IDLE, XBG_WORK_MORE (call again) or XBG_WORK_RETRY (call
 * again after a short sleep: out of memory, or requests held by the test knob),
 * with XBG_WORK_SPURIOUS or'd in when the event brought no request: the glue
 * then EOIs it with XEN_EOI_FLAG_SPURIOUS, and Xen's event code delays the
 * next one of a frontend that keeps notifying for nothing (XSA-332). */
enum { XBG_WORK_IDLE = 0, XBG_WORK_MORE = 1, XBG_WORK_RETRY = 2, XBG_WORK_SPURIOUS = 4 };
int xb_back_ring_work(void *ring, int stopping, int event);

/* ---- C++ -> C glue ---- */
int xb_back_glue_on_xen(void);         /* 1: running in a Xen domain (dom0 or driver domain) */
void xbg_get_params(struct xbg_params *out);
/* test knob: blkif operations (bit 1 << op) to answer with EOPNOTSUPP */
unsigned int xbg_refuse_ops(void);
/* test knob: 1 if the next response is to carry a bogus id (counts down) */
int xbg_corrupt_next_response(void);
/* test knob: 1 if the next flush or barrier is to fail with an error (counts down) */
int xbg_fail_next_flush(void);
/* test knob: 1 while new requests are to be left on the rings */
int xbg_hold_requests(void);
unsigned long long xbg_now_ns(void);

/* xenstore: our directory and the frontend's; 1 if present */
int xbg_read(struct xbg_dev *gd, const char *key, char *buf, unsigned int len);
int xbg_read_other(struct xbg_dev *gd, const char *key, char *buf, unsigned int len);
int xbg_write(struct xbg_dev *gd, const char *key, const char *value);
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

/* block device (exclusive open) */
int xbg_bdev_open(struct xbg_dev *gd, unsigned int major, unsigned int minor, int read_only);
void xbg_bdev_close(struct xbg_dev *gd);
void xbg_bdev_get_props(struct xbg_dev *gd, struct xbg_bdev_props *out);
/* whether the device has a volatile write cache now (0 without a device) */
int xbg_bdev_write_cache(struct xbg_dev *gd);
/* the open device's size now, in 512-byte sectors (0 if none is open) */
unsigned long long xbg_bdev_sectors(struct xbg_dev *gd);
/* publish a new size: "sectors" and our state again, in one transaction */
int xbg_announce_resize(struct xbg_dev *gd, unsigned long long sectors);
int xbg_sysfs_add(struct xbg_dev *gd);
void xbg_sysfs_remove(struct xbg_dev *gd);

/* rings */
struct xbg_ring *xbg_ring_create(struct xbg_dev *gd, void *cpp_ring, unsigned int index,
				 const unsigned int *ring_refs, unsigned int nr_pages,
				 unsigned int evtchn, void **sring);
void xbg_ring_start(struct xbg_ring *r);
/* Stops the worker after every submitted I/O completed and was reaped, then
 * unbinds the event channel and unmaps the ring. */
void xbg_ring_stop(struct xbg_ring *r);
void xbg_ring_free(struct xbg_ring *r);
void xbg_ring_kick(struct xbg_ring *r);       /* wake the worker */
void xbg_ring_notify(struct xbg_ring *r);     /* event to the frontend */
void xbg_ring_plug(struct xbg_ring *r);
void xbg_ring_unplug(struct xbg_ring *r);

/* Map n indirect pages (read-only) into the ring's indirect slots; addrs[i]
 * receives each page.  0 or -errno (nothing stays mapped on failure). */
int xbg_indirect_map(struct xbg_ring *r, const unsigned int *grefs, unsigned int n,
		     const void **addrs);
void xbg_indirect_unmap(struct xbg_ring *r);

/* Submit one request's I/O; its completion is reported by xbg_ring_reap with
 * cookie.  0, or -errno with nothing mapped and nothing to reap. */
int xbg_io_submit(struct xbg_ring *r, void *cookie, int op, unsigned int flags,
		  unsigned long long sector, const struct xbg_seg *segs, unsigned int n);
/* Discard (secure: secure erase) exactly [sector, sector + nr): a discard is
 * submitted and completes later (secure erase waits), reported by xbg_ring_reap
 * like any I/O.  0 or -errno (nothing to reap). */
int xbg_io_discard(struct xbg_ring *r, void *cookie, unsigned long long sector,
		   unsigned long long nr, int secure);
/* Persistent grants: slots 0..capacity-1 of a ring, each holding at most one
 * read-write mapping of a frontend grant.  init at connect (may sleep); the
 * rest on the ring's worker only.  Every mapping left is unmapped by
 * xbg_ring_stop, after the ring's I/O has drained. */
int xbg_pgnt_init(struct xbg_ring *r, unsigned int capacity);
/* Map grefs[i] into slots[i] (empty slots), n <= XBG_MAX_IO_SEGS; ok[i] = 1
 * if it mapped.  0, or -ENOMEM with nothing mapped. */
int xbg_pgnt_map(struct xbg_ring *r, const unsigned int *slots, const unsigned int *grefs,
		 unsigned int n, unsigned char *ok);
/* Unmap the mappings of n slots (n <= XBG_MAX_IO_SEGS); the slots are empty after. */
void xbg_pgnt_unmap(struct xbg_ring *r, const unsigned int *slots, unsigned int n);
/* The page a mapped slot holds (an indirect page read through its kept mapping). */
const void *xbg_pgnt_addr(struct xbg_ring *r, unsigned int slot);
/* The module's max_persistent_grants (per ring), read on the worker. */
unsigned int xbg_max_persistent_grants(void);

/* Completed I/O, grants already unmapped: up to max (cookie, errno) pairs. */
unsigned int xbg_ring_reap(struct xbg_ring *r, void **cookies, int *errs, unsigned int max);

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_BACK_API_H */
