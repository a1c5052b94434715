// SPDX-License-Identifier: GPL-2.0
/* The generic netlink family of xenblk-front (see rt/nl_glue.c): no SET. */
#define XBNL_FAMILY_NAME XENBLK_GENL_FRONT_NAME
#define XBNL_HAS_SET 0
#include "../rt/nl_glue.c"
