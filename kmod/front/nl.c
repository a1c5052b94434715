// SPDX-License-Identifier: GPL-2.0
/* The generic netlink family of xenblk-front (see rt/nl_family.c). */
#define XBNL_FAMILY_NAME XENBLK_GENL_FRONT_NAME
#include "../rt/nl_family.c"
