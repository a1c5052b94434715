/* SPDX-License-Identifier: GPL-2.0 */
/*
 * back_entry.h - the entry points of xenblk-back's C++ driver, called by its
 * C glue's entry side (glue_entry.c: module init/exit, the xenbus driver's
 * callbacks, sysfs).  Plain C, no includes: both sides compile it.
 *
 * The glue makes no decision: it hands each kernel event to the C++ side.
 */
#ifndef XENBLK_BACK_ENTRY_H
#define XENBLK_BACK_ENTRY_H

#ifdef __cplusplus
extern "C" {
#endif

struct xbg_dev;

/* 0: the glue registers the driver; else the errno to refuse loading with
 * (nothing to undo at exit) */
int xb_back_module_init(void);   /* registers the netlink family too */
void xb_back_module_exit(void);

/* xenbus callbacks, all on the xenwatch thread (serialised per device).
 * probe: 0 with *dev the C++ device (set before its xenstore watch is), or
 * -errno (nothing left). */
int xb_back_dev_probe(struct xbg_dev *gd, void **dev);
void xb_back_dev_remove(void *dev);
void xb_back_dev_frontend_changed(void *dev, int state);

/* The files of sysfs statistics/, as the stock backend has them (xentop reads
 * them): one table, X(name) each, in this order.  xb_back_dev_stat takes its
 * index (XB_BACK_STAT_<name>). */
#define XB_BACK_STATS(X) \
	X(oo_req) X(rd_req) X(wr_req) X(f_req) X(ds_req) X(rd_sect) X(wr_sect) \
	X(bad_req) X(err_req) X(br_waits) X(br_waited) \
	X(pgnt_hits) X(pgnt_mapped) X(pgnt_evicted) X(pgnt_full) X(pgnt_map_failed) \
	X(pgnt_kept) X(ind_kept) X(ind_mapped)
#define XB_BACK_STAT_ENUM(name) XB_BACK_STAT_##name,
enum xb_back_stat { XB_BACK_STATS(XB_BACK_STAT_ENUM) XB_BACK_NR_STATS };
#undef XB_BACK_STAT_ENUM

/* a statistic's value now (the sum over the device's rings, past and present) */
long long xb_back_dev_stat(void *dev, unsigned int which);
/* "MAJOR:MINOR" in hex as the hotplug script wrote it, and the mode */
int xb_back_dev_physical_device(void *dev, char *buf, unsigned int len);
int xb_back_dev_mode(void *dev, char *buf, unsigned int len);

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_BACK_ENTRY_H */
