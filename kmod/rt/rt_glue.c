// SPDX-License-Identifier: GPL-2.0
/*
 * rt_glue.c - kernel side of the C++ runtime (rt_api.h).  Each module compiles
 * it once through a one-line wrapper in its own directory.
 */
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/bug.h>

#include "../rt/rt_api.h"

void *xb_rt_alloc(size_t size)
{
	return kmalloc(size, GFP_KERNEL);
}

void *xb_rt_alloc_nowait(size_t size)
{
	return kmalloc(size, GFP_NOWAIT | __GFP_NOWARN);
}

void xb_rt_free(void *p)
{
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
