// SPDX-License-Identifier: GPL-2.0
/*
 * rt_glue.c - kernel side of the C++ runtime (rt_api.h).  Each module compiles
 * it once through a one-line wrapper in its own directory.
 */
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/bug.h>

#include <linux/atomic.h>
#include <linux/debugfs.h>

#include "../rt/rt_api.h"

static atomic_long_t xb_rt_objects = ATOMIC_LONG_INIT(0);
static atomic_long_t xb_rt_grants = ATOMIC_LONG_INIT(0);
static struct dentry *xb_rt_debugfs;

void xb_rt_count_objects(long delta)
{
	atomic_long_add(delta, &xb_rt_objects);
}

void xb_rt_count_grants(long delta)
{
	atomic_long_add(delta, &xb_rt_grants);
}

static int xb_rt_counter_get(void *data, u64 *val)
{
	*val = (u64)atomic_long_read((atomic_long_t *)data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(xb_rt_counter_fops, xb_rt_counter_get, NULL, "%lld\n");

/* best effort: debugfs may be disabled, nothing depends on it */
void xb_rt_debugfs_init(void)
{
	xb_rt_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file_unsafe("objects", 0444, xb_rt_debugfs, &xb_rt_objects, &xb_rt_counter_fops);
	debugfs_create_file_unsafe("grants", 0444, xb_rt_debugfs, &xb_rt_grants, &xb_rt_counter_fops);
}

void xb_rt_debugfs_exit(void)
{
	debugfs_remove(xb_rt_debugfs);
	xb_rt_debugfs = NULL;
}

void *xb_rt_alloc(size_t size)
{
	void *p = kmalloc(size, GFP_KERNEL);

	if (p)
		atomic_long_inc(&xb_rt_objects);
	return p;
}

void *xb_rt_alloc_nowait(size_t size)
{
	void *p = kmalloc(size, GFP_NOWAIT | __GFP_NOWARN);

	if (p)
		atomic_long_inc(&xb_rt_objects);
	return p;
}

void xb_rt_free(void *p)
{
	if (p)
		atomic_long_dec(&xb_rt_objects);
	kfree(p);
}

void xb_rt_log(int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	if (level < XB_LOG_ERR || level > XB_LOG_DEBUG)
		level = XB_LOG_ERR;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	printk("\001%c" KBUILD_MODNAME ": %pV\n", '0' + level, &vaf);
	va_end(args);
}

void xb_rt_fatal(const char *what)
{
	pr_crit(KBUILD_MODNAME ": C++ runtime: %s\n", what);
	WARN_ON_ONCE(1);
}
