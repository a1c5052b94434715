/* SPDX-License-Identifier: GPL-2.0 */
/*
 * front_entry.h - xenblk-front's entry points: the C glue (glue.c) calls
 * them, the C++ driver (front_entry.cpp) implements them.
 * Plain C, no includes: both sides compile it.
 *
 * Handles are opaque: struct xb_fe_dev is the glue's per-xenbus-device
 * object, struct xb_fe_rq a block request, struct xb_fe_hctx a blk-mq
 * hardware queue; void *dev is the C++ device, void *ring one of its rings.
 */
#ifndef XENBLK_FRONT_ENTRY_H
#define XENBLK_FRONT_ENTRY_H

#ifdef __cplusplus
extern "C" {
#endif

struct xb_fe_dev;
struct xb_fe_rq;
struct xb_fe_hctx;

/* what xb_fe_queue_rq tells blk-mq */
enum {
	XB_FE_QUEUED = 0,      /* on the ring (or completed already) */
	XB_FE_BUSY = 1,        /* ring full: the hw queue was stopped (xb_fe_glue_stop_queue) */
	XB_FE_RESOURCE = 2,    /* grants or memory short: retry later */
};

/* module_init / module_exit: the C++ side decides, then registers through the glue */
int xb_front_module_init(void);
void xb_front_module_exit(void);

/* xenbus driver callbacks */
void *xb_fe_probe(struct xb_fe_dev *gd);            /* C++ device or NULL */
void xb_fe_remove(void *dev);
/* the domain was restored or migrated: drop the rings, keep the requests */
int xb_fe_resume(void *dev);
void xb_fe_backend_changed(void *dev, int backend_state);

/* work items (process context) */
void xb_fe_work(void *dev);
void xb_fe_purge(void *dev);                        /* the purge timer */

/* blk-mq */
void *xb_fe_ring_ctx(void *dev, unsigned int queue);
void xb_fe_pdu_init(void *pdu);
int xb_fe_queue_rq(void *ring, struct xb_fe_hctx *hctx, struct xb_fe_rq *rq, void *pdu, int last);
/* a started request timed out (process context): what blk-mq is told */
enum {
	XB_FE_EH_RESET = 0,    /* still ours: wait again */
	XB_FE_EH_DONE = 1,     /* failed and completed */
};
int xb_fe_timeout(void *pdu);
void xb_fe_commit_rqs(void *ring);

/* the event channel handler (hard irq) */
void xb_fe_interrupt(void *ring);

/* sysfs xenblk_stats */
int xb_fe_show_stats(void *dev, char *buf, unsigned int len);

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_FRONT_ENTRY_H */
