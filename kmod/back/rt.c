// SPDX-License-Identifier: GPL-2.0
/* The shared C side of the C++ runtime, compiled into this module. */
#include "../rt/rt_glue.c"
