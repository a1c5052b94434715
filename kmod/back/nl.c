// SPDX-License-Identifier: GPL-2.0
/* The generic netlink family of xenblk-back (see rt/nl_family.c). */
#define XBNL_FAMILY_NAME XENBLK_GENL_BACK_NAME
#include "../rt/nl_family.c"
