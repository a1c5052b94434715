/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C++ side names xenbus states with XENBLK_STATE_* of <xenblk/blkif.h>
 * (it cannot include the kernel's headers); the glue passes them to and from
 * xenbus as enum xenbus_state.  Included by each module's xenbus glue after
 * <xen/xenbus.h>: the build fails if the two ever differ.
 */
#ifndef XENBLK_RT_XENBUS_STATES_H
#define XENBLK_RT_XENBUS_STATES_H

#include <xenblk/blkif.h>

static_assert(XENBLK_STATE_UNKNOWN == XenbusStateUnknown);
static_assert(XENBLK_STATE_INITIALISING == XenbusStateInitialising);
static_assert(XENBLK_STATE_INITWAIT == XenbusStateInitWait);
static_assert(XENBLK_STATE_INITIALISED == XenbusStateInitialised);
static_assert(XENBLK_STATE_CONNECTED == XenbusStateConnected);
static_assert(XENBLK_STATE_CLOSING == XenbusStateClosing);
static_assert(XENBLK_STATE_CLOSED == XenbusStateClosed);
static_assert(XENBLK_STATE_RECONFIGURING == XenbusStateReconfiguring);
static_assert(XENBLK_STATE_RECONFIGURED == XenbusStateReconfigured);

#endif
