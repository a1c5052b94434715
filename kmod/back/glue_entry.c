// SPDX-License-Identifier: GPL-2.0
/*
 * glue_entry.c - xenblk-back's entry side: what the kernel calls (module
 * init/exit, the xenbus driver's callbacks, sysfs show), each handed to the
 * C++ driver's entry points (back_entry.h).  No decision is made here.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/device.h>
#include <linux/sysfs.h>
#include <xen/xenbus.h>

#include "back_entry.h"
#include "glue.h"
#include "../rt/rt_api.h"
#include "nl_api.h"

/* ---- sysfs: the stock backend's files, so xentop keeps working ---- */

static struct xbg_dev *xbg_of(struct device *dev)
{
	return dev_get_drvdata(dev);
}

struct xbg_stat_attr {
	struct device_attribute attr;
	unsigned int which;          /* XB_BACK_STAT_* */
};

static ssize_t xbg_stat_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	const struct xbg_stat_attr *sa = container_of(attr, struct xbg_stat_attr, attr);

	return sysfs_emit(buf, "%lld\n", xb_back_dev_stat(xbg_of(dev)->cpp, sa->which));
}

#define XBG_STAT_ATTR(name) \
	static struct xbg_stat_attr xbg_attr_##name = { \
		.attr = __ATTR(name, 0444, xbg_stat_show, NULL), .which = XB_BACK_STAT_##name };
XB_BACK_STATS(XBG_STAT_ATTR)

#define XBG_STAT_PTR(name) &xbg_attr_##name.attr.attr,
static struct attribute *xbg_stat_attrs[] = {
	XB_BACK_STATS(XBG_STAT_PTR)
	NULL,
};
static_assert(ARRAY_SIZE(xbg_stat_attrs) == XB_BACK_NR_STATS + 1);

static const struct attribute_group xbg_stat_group = {
	.name = "statistics",
	.attrs = xbg_stat_attrs,
};

static ssize_t physical_device_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return xb_back_dev_physical_device(xbg_of(dev)->cpp, buf, PAGE_SIZE);
}
static DEVICE_ATTR_RO(physical_device);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return xb_back_dev_mode(xbg_of(dev)->cpp, buf, PAGE_SIZE);
}
static DEVICE_ATTR_RO(mode);

static struct attribute *xbg_dev_attrs[] = {
	&dev_attr_physical_device.attr,
	&dev_attr_mode.attr,
	NULL,
};

static const struct attribute_group xbg_dev_group = {
	.attrs = xbg_dev_attrs,
};

const struct attribute_group *xbg_sysfs_groups[] = {
	&xbg_dev_group,
	&xbg_stat_group,
	NULL,
};

/* ---- xenbus driver ---- */

static void xbg_dev_free(struct xbg_dev *gd)
{
	dev_set_drvdata(&gd->xd->dev, NULL);
	kfree(gd);
	xb_rt_count_objects(-1);
}

static int xbg_probe(struct xenbus_device *xd, const struct xenbus_device_id *id)
{
	struct xbg_dev *gd = kzalloc(sizeof(*gd), GFP_KERNEL);
	int err;

	if (!gd)
		return -ENOMEM;
	xb_rt_count_objects(1);
	gd->xd = xd;
	mutex_init(&gd->lock);
	dev_set_drvdata(&xd->dev, gd);
	err = xb_back_dev_probe(gd, &gd->cpp);
	if (err)
		xbg_dev_free(gd);
	return err;
}

static void xbg_remove(struct xenbus_device *xd)
{
	struct xbg_dev *gd = dev_get_drvdata(&xd->dev);

	if (!gd)
		return;
	xb_back_dev_remove(gd->cpp);
	xbg_dev_free(gd);
}

static void xbg_frontend_changed(struct xenbus_device *xd, enum xenbus_state state)
{
	struct xbg_dev *gd = dev_get_drvdata(&xd->dev);

	if (gd)
		xb_back_dev_frontend_changed(gd->cpp, state);
}

static const struct xenbus_device_id xbg_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct xenbus_driver xbg_driver = {
	.ids = xbg_ids,
	.probe = xbg_probe,
	.remove = xbg_remove,
	.otherend_changed = xbg_frontend_changed,
};

/* ---- module ---- */

static int __init xb_back_init(void)
{
	int err = xbg_ring_module_init();

	if (err)
		return err;
	err = xb_back_module_init();
	if (err)
		goto fail_cpp;
	err = xenbus_register_backend(&xbg_driver);
	if (err)
		goto fail_xenbus;
	xb_rt_debugfs_init();
	return 0;
fail_xenbus:
	xb_back_module_exit();
fail_cpp:
	xbg_ring_module_exit();
	return err;
}

static void __exit xb_back_exit(void)
{
	xb_rt_debugfs_exit();
	xenbus_unregister_driver(&xbg_driver);
	xb_back_module_exit();
	xbg_ring_module_exit();   /* drains: no erase runs past this */
}

module_init(xb_back_init);
module_exit(xb_back_exit);

MODULE_DESCRIPTION("xenblk: Xen paravirtual block device backend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen-backend:vbd");
