/* SPDX-License-Identifier: MIT */
/*
 * xenblk: the generic netlink interface of xenblk-back and xenblk-front.
 *
 * Each module registers its own family (XENBLK_GENL_BACK_NAME in dom0 or a
 * driver domain, XENBLK_GENL_FRONT_NAME in a domU), both at version
 * XENBLK_GENL_VERSION, with the same commands and attribute numbers; an
 * attribute that does not apply to a side is never sent by it and refused in
 * its requests.  Each family has one multicast group, XENBLK_GENL_MCGRP_EVENTS.
 * Documentation/netlink.md describes every command and attribute.
 *
 * Like blkif.h this header includes nothing: C (kernel and userspace) and C++
 * include it alike.  Integer attributes are NLA_U8/U32/U64 as noted; every counter
 * is NLA_U64 (padded with XENBLK_A_PAD / XENBLK_S_PAD / XENBLK_O_PAD).
 */
#ifndef XENBLK_UAPI_NETLINK_H
#define XENBLK_UAPI_NETLINK_H

#define XENBLK_GENL_BACK_NAME   "xenblk_back"
#define XENBLK_GENL_FRONT_NAME  "xenblk_front"
#define XENBLK_GENL_VERSION     1
#define XENBLK_GENL_MCGRP_EVENTS "events"

/* Commands.  GET: doit with XENBLK_A_NAME answers one device, dumpit answers
 * every device.  SET (backend only) and STATS_RESET need CAP_NET_ADMIN.
 * EVENT is only ever sent, to the events group. */
enum xenblk_cmd {
	XENBLK_CMD_UNSPEC,
	XENBLK_CMD_DEV_GET,
	XENBLK_CMD_DEV_SET,
	XENBLK_CMD_STATS_RESET,
	XENBLK_CMD_EVENT,
	__XENBLK_CMD_MAX,
};
#define XENBLK_CMD_MAX (__XENBLK_CMD_MAX - 1)

/* Top-level attributes of requests, replies and events. */
enum xenblk_attr {
	XENBLK_A_UNSPEC,
	XENBLK_A_PAD,
	XENBLK_A_NAME,          /* string: "vbd-DOMID-DEVID" (backend), "xvda" (frontend) */
	XENBLK_A_DOMID,         /* u32: the other end's domain */
	XENBLK_A_DEVID,         /* u32: virtual device number (xenstore handle) */
	XENBLK_A_PHYS_MAJOR,    /* u32: backend: the physical device */
	XENBLK_A_PHYS_MINOR,    /* u32 */
	XENBLK_A_READ_ONLY,     /* u8: 1 read-only, 0 writable */
	XENBLK_A_STATE,         /* u32: our xenbus state (enum xenbus_state) */
	XENBLK_A_OTHER_STATE,   /* u32: the other end's xenbus state */
	XENBLK_A_FEATURES,      /* nest: XENBLK_F_*, what was negotiated (connected only) */
	XENBLK_A_CONFIG,        /* nest: XENBLK_C_*, backend per-device settings */
	XENBLK_A_STATS,         /* nest: XENBLK_S_* */
	XENBLK_A_EVENT,         /* u32: enum xenblk_event */
	XENBLK_A_EVENT_DETAIL,  /* string: what happened, for people */
	XENBLK_A_SECTORS,       /* u64: size in 512-byte sectors (connected only) */
	__XENBLK_A_MAX,
};
#define XENBLK_A_MAX (__XENBLK_A_MAX - 1)

/* Flush modes (XENBLK_F_FLUSH_MODE) and policies (XENBLK_C_FLUSH_POLICY). */
enum xenblk_flush {
	XENBLK_FLUSH_NONE = 0,        /* mode: no cache control; policy: offer neither */
	XENBLK_FLUSH_BARRIER = 1,     /* mode: WRITE_BARRIER; policy: offer barrier only */
	XENBLK_FLUSH_FLUSH = 2,       /* mode: FLUSH_DISKCACHE; policy: offer flush only */
	XENBLK_FLUSH_AUTO = 3,        /* policy only: flush if the disk caches, and barrier */
	XENBLK_FLUSH_BOTH = 4,        /* policy only: same keys as auto */
};

/* XENBLK_A_FEATURES */
enum xenblk_feature_attr {
	XENBLK_F_UNSPEC,
	XENBLK_F_FLUSH_MODE,    /* u8 enum xenblk_flush; backend: flush offered ? FLUSH : BARRIER/NONE */
	XENBLK_F_FLUSH,         /* u8: feature-flush-cache in use */
	XENBLK_F_BARRIER,       /* u8: feature-barrier in use */
	XENBLK_F_DISCARD,       /* u8 */
	XENBLK_F_PERSISTENT,    /* u8: persistent grants */
	XENBLK_F_INDIRECT_SEGS, /* u32: 0 = direct requests only */
	XENBLK_F_QUEUES,        /* u32: rings */
	XENBLK_F_RING_ORDER,    /* u32: log2 pages per ring */
	XENBLK_F_ABI,           /* string: "x86_64-abi", "x86_32-abi" */
	__XENBLK_F_MAX,
};
#define XENBLK_F_MAX (__XENBLK_F_MAX - 1)

/* XENBLK_A_CONFIG: in GET replies every value in force for the next connect;
 * in SET requests any subset. */
enum xenblk_config_attr {
	XENBLK_C_UNSPEC,
	XENBLK_C_FLUSH_POLICY,  /* u8 enum xenblk_flush */
	XENBLK_C_MAX_QUEUES,    /* u32: 1..32 */
	XENBLK_C_MAX_RING_ORDER,/* u32: 0..4 */
	XENBLK_C_PERSISTENT,    /* u8: 0 or 1: offer feature-persistent (grants kept mapped) */
	XENBLK_C_DISCARD,       /* u8: 0 or 1 */
	/* I/O limits (Documentation/throttle.md): unlike the settings above they
	 * apply at once, connected or not.  Rates per second, 0 = no limit;
	 * bursts in the rate's units, 0 = a tenth of a second's worth. */
	XENBLK_C_IOPS_READ,     /* u64: read requests */
	XENBLK_C_IOPS_WRITE,    /* u64: write and discard requests */
	XENBLK_C_IOPS,          /* u64: all of them */
	XENBLK_C_BPS_READ,      /* u64: bytes read */
	XENBLK_C_BPS_WRITE,     /* u64: bytes written */
	XENBLK_C_BPS,           /* u64: bytes read and written */
	XENBLK_C_IOPS_READ_BURST,  /* u64: the burst of each rate above, same order */
	XENBLK_C_IOPS_WRITE_BURST,
	XENBLK_C_IOPS_BURST,
	XENBLK_C_BPS_READ_BURST,
	XENBLK_C_BPS_WRITE_BURST,
	XENBLK_C_BPS_BURST,
	XENBLK_C_THROTTLE_GROUP,/* string (1..15 of [A-Za-z0-9_.-]): devices of one
				 * group share one set of limits; "" leaves the group */
	XENBLK_C_PAD,
	__XENBLK_C_MAX,
};
#define XENBLK_C_MAX (__XENBLK_C_MAX - 1)

/* XENBLK_A_STATS: counters since the device appeared or the last STATS_RESET */
enum xenblk_stats_attr {
	XENBLK_S_UNSPEC,
	XENBLK_S_PAD,
	XENBLK_S_OP,            /* nest XENBLK_O_*, once per operation */
	XENBLK_S_IN_FLIGHT,     /* u64: requests on the rings now (not reset) */
	XENBLK_S_BAD,           /* u64: backend: rejected requests; frontend: bad responses */
	XENBLK_S_FALLBACKS,     /* u64: frontend: flush-mode downgrades; backend: features withdrawn */
	XENBLK_S_OUT_OF_RESOURCES, /* u64: backend: waits for memory or grants */
	XENBLK_S_THROTTLE,      /* nest XENBLK_T_*: backend, the device's I/O limits at work */
	__XENBLK_S_MAX,
};
#define XENBLK_S_MAX (__XENBLK_S_MAX - 1)

enum xenblk_op {
	XENBLK_OP_READ, XENBLK_OP_WRITE, XENBLK_OP_FLUSH, XENBLK_OP_BARRIER, XENBLK_OP_DISCARD,
	XENBLK_OP_COUNT,
};

/* log2 microsecond latency buckets: bucket 0 < 2 us, bucket i [2^i, 2^(i+1)) us,
 * the last one everything from 2^(XENBLK_LATENCY_BUCKETS-1) us up */
#define XENBLK_LATENCY_BUCKETS 24

/* XENBLK_S_OP */
enum xenblk_op_attr {
	XENBLK_O_UNSPEC,
	XENBLK_O_PAD,
	XENBLK_O_OP,            /* u32 enum xenblk_op */
	XENBLK_O_REQUESTS,      /* u64: completed */
	XENBLK_O_SECTORS,       /* u64: 512-byte sectors of successful requests */
	XENBLK_O_ERRORS,        /* u64 */
	XENBLK_O_UNSUPPORTED,   /* u64: answered EOPNOTSUPP */
	XENBLK_O_LATENCY,       /* nest: attribute type i + 1 (u64) is bucket i */
	__XENBLK_O_MAX,
};
#define XENBLK_O_MAX (__XENBLK_O_MAX - 1)

/* XENBLK_S_THROTTLE */
enum xenblk_throttle_attr {
	XENBLK_T_UNSPEC,
	XENBLK_T_PAD,
	XENBLK_T_DELAYED,       /* u64: requests that waited for the limits */
	XENBLK_T_DELAYED_NS,    /* u64: their waits, summed (ns) */
	XENBLK_T_HELD,          /* u64: requests waiting now (not reset) */
	XENBLK_T_TOKENS,        /* nest: attribute type XENBLK_C_IOPS_READ..XENBLK_C_BPS
				 * (u64): what each set limit may still run ahead now,
				 * in its units (not reset) */
	__XENBLK_T_MAX,
};
#define XENBLK_T_MAX (__XENBLK_T_MAX - 1)

/* XENBLK_A_EVENT */
enum xenblk_event {
	XENBLK_EV_UNSPEC,
	XENBLK_EV_CONNECTED,
	XENBLK_EV_DISCONNECTED,
	XENBLK_EV_FEATURE_DOWNGRADED,  /* frontend: flush mode lowered; backend: feature withdrawn */
	XENBLK_EV_RING_ERROR,          /* a ring was stopped or the device broken */
	XENBLK_EV_BAD_REQUEST,         /* backend: request rejected; frontend: bad response */
	XENBLK_EV_THROTTLE_START,      /* backend: requests began to wait for the limits */
	XENBLK_EV_THROTTLE_STOP,       /* backend: they no longer do (see throttle.md) */
	__XENBLK_EV_MAX,
};
#define XENBLK_EV_MAX (__XENBLK_EV_MAX - 1)

#endif /* XENBLK_UAPI_NETLINK_H */
