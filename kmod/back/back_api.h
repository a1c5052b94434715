/* SPDX-License-Identifier: GPL-2.0 */
/*
 * back_api.h - the boundary between xenblk-back's C glue and its C++ driver.
 * Plain C, no includes: both sides compile it.
 */
#ifndef XENBLK_BACK_API_H
#define XENBLK_BACK_API_H

#ifdef __cplusplus
extern "C" {
#endif

/* C glue -> C++ */
int xb_back_module_init(void);
void xb_back_module_exit(void);

/* C++ -> C glue */
int xb_back_glue_on_xen(void);         /* 1: running in a Xen domain (dom0 or driver domain) */

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_BACK_API_H */
