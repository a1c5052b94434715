// SPDX-License-Identifier: GPL-2.0
/* What xenblk-back's C++ calls of its generic netlink glue (see rt/nl_services.c). */
#include "../rt/nl_services.c"
