/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rt_api.h - the C runtime services the C++ side of a xenblk module uses.
 *
 * Plain C, no includes: compiled by the C glue (with kernel headers) and by the
 * freestanding C++ (without).  Implemented once in rt_glue.c, linked into each
 * module.
 */
#ifndef XENBLK_RT_API_H
#define XENBLK_RT_API_H

#ifdef __cplusplus
extern "C" {
#endif

/* printk levels */
enum xb_log_level {
	XB_LOG_ERR = 3,
	XB_LOG_WARNING = 4,
	XB_LOG_NOTICE = 5,
	XB_LOG_INFO = 6,
	XB_LOG_DEBUG = 7,
};

/* kmalloc(GFP_KERNEL) / kfree; NULL on failure, never sleeps in xb_rt_alloc_nowait */
void *xb_rt_alloc(__SIZE_TYPE__ size);
void *xb_rt_alloc_nowait(__SIZE_TYPE__ size);
void xb_rt_free(void *p);

/*
 * Live-object accounting for leak checks: allocations through xb_rt_alloc*
 * count themselves; glue code counts the objects it allocates itself and the
 * foreign grants it has mapped.  Shown read-only in debugfs as
 * <module>/objects and <module>/grants (xb_rt_debugfs_init at module load).
 */
void xb_rt_count_objects(long delta);
void xb_rt_count_grants(long delta);
void xb_rt_debugfs_init(void);
void xb_rt_debugfs_exit(void);

/* Logs "<module>: <message>" at the given level (a newline is added). */
void xb_rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A C++ invariant broke beyond recovery (pure virtual call): logs, WARNs once.
 * Deliberately not declared noreturn (objtool must see the same on both sides).
 */
void xb_rt_fatal(const char *what);

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_RT_API_H */
