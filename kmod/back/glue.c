// SPDX-License-Identifier: GPL-2.0
/*
 * glue.c - xenblk-back: kernel API adaptation only.  Every decision is made by
 * the C++ driver (back.cpp) behind back_api.h.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <xen/xen.h>

#include "back_api.h"

int xb_back_glue_on_xen(void)
{
	/* as xen-blkback: any Xen domain may be a driver domain */
	return xen_domain();
}

static int __init xb_back_init(void)
{
	return xb_back_module_init();
}

static void __exit xb_back_exit(void)
{
	xb_back_module_exit();
}

module_init(xb_back_init);
module_exit(xb_back_exit);

MODULE_DESCRIPTION("xenblk: Xen paravirtual block device backend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen-backend:vbd");
