/* SPDX-License-Identifier: GPL-2.0 */
/*
 * front_api.h - the boundary between xenblk-front's C glue and its C++ driver.
 * Plain C, no includes: both sides compile it.
 */
#ifndef XENBLK_FRONT_API_H
#define XENBLK_FRONT_API_H

#ifdef __cplusplus
extern "C" {
#endif

/* C glue -> C++ */
int xb_front_module_init(void);
void xb_front_module_exit(void);

/* C++ -> C glue */
int xb_front_glue_on_xen(void);        /* 1: a Xen domain with PV disk devices */

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_FRONT_API_H */
