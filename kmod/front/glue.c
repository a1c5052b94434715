// SPDX-License-Identifier: GPL-2.0
/*
 * glue.c - xenblk-front: kernel API adaptation only.  Every decision is made by
 * the C++ driver (front.cpp) behind front_api.h.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <xen/xen.h>
#include <xen/platform_pci.h>

#include "front_api.h"

int xb_front_glue_on_xen(void)
{
	return xen_domain() && xen_has_pv_disk_devices();
}

static int __init xb_front_init(void)
{
	return xb_front_module_init();
}

static void __exit xb_front_exit(void)
{
	xb_front_module_exit();
}

module_init(xb_front_init);
module_exit(xb_front_exit);

MODULE_DESCRIPTION("xenblk: Xen paravirtual block device frontend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:vbd");
