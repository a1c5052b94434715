// SPDX-License-Identifier: GPL-2.0
/* The generic netlink family of xenblk-back (see rt/nl_glue.c). */
#define XBNL_FAMILY_NAME XENBLK_GENL_BACK_NAME
#define XBNL_HAS_SET 1
#include "../rt/nl_glue.c"
