/* SPDX-License-Identifier: MIT */
/*
 * xenblk: the Xen blkif wire ABI (io/blkif.h) as a self-contained C header.
 *
 * Usable from C (C99 and later, kernel gnu11) and C++ (C++11 and later), in
 * userspace and in freestanding kernel code: it includes nothing and takes its
 * fixed-width types from the compiler's predefined macros.
 *
 * Three request layouts exist on the wire:
 *   - x86_64: 64-bit fields naturally aligned (request 112 bytes, id at 8);
 *   - x86_32: 64-bit fields 4-byte aligned (request 108 bytes, id at 4);
 *   - native: the layout of the architecture this header is compiled for.
 * A backend speaks the layout its frontend announced in the "protocol" key.
 * Every size and offset is asserted at the bottom of this file.
 */
#ifndef XENBLK_UAPI_BLKIF_H
#define XENBLK_UAPI_BLKIF_H

typedef __UINT8_TYPE__  xenblk_u8;
typedef __UINT16_TYPE__ xenblk_u16;
typedef __UINT32_TYPE__ xenblk_u32;
typedef __UINT64_TYPE__ xenblk_u64;
typedef __INT16_TYPE__  xenblk_s16;
/* A 64-bit field as the i386 ABI aligns it (4 bytes). */
typedef __UINT64_TYPE__ xenblk_u64_a4 __attribute__((aligned(4)));

typedef xenblk_u32 xenblk_grant_ref_t;   /* grant reference */
typedef xenblk_u16 xenblk_vdev_t;        /* virtual device handle */
typedef xenblk_u64 xenblk_sector_t;      /* 512-byte sector index */
typedef xenblk_u32 xenblk_ring_idx_t;    /* free-running ring index */

/* ---- operations -------------------------------------------------------- */
#define BLKIF_OP_READ             0
#define BLKIF_OP_WRITE            1
#define BLKIF_OP_WRITE_BARRIER    2   /* feature-barrier */
#define BLKIF_OP_FLUSH_DISKCACHE  3   /* feature-flush-cache */
#define BLKIF_OP_RESERVED_1       4   /* never valid on the wire */
#define BLKIF_OP_DISCARD          5   /* feature-discard */
#define BLKIF_OP_INDIRECT         6   /* feature-max-indirect-segments */

/* ---- response status --------------------------------------------------- */
#define BLKIF_RSP_EOPNOTSUPP  (-2)
#define BLKIF_RSP_ERROR       (-1)
#define BLKIF_RSP_OKAY          0

/* ---- xenbus states (io/xenbus.h): each end's "state" key ---------------- */
#define XENBLK_STATE_UNKNOWN        0
#define XENBLK_STATE_INITIALISING   1
#define XENBLK_STATE_INITWAIT       2   /* backend: ready for the frontend's keys */
#define XENBLK_STATE_INITIALISED    3   /* frontend: rings and event channels published */
#define XENBLK_STATE_CONNECTED      4
#define XENBLK_STATE_CLOSING        5
#define XENBLK_STATE_CLOSED         6
#define XENBLK_STATE_RECONFIGURING  7
#define XENBLK_STATE_RECONFIGURED   8

/* ---- limits ------------------------------------------------------------ */
#define BLKIF_SECTOR_SHIFT                    9
#define BLKIF_SECTOR_SIZE                     512u
#define BLKIF_PAGE_SIZE                       4096u   /* grant granularity */
#define BLKIF_SECTORS_PER_PAGE                8u
#define BLKIF_MAX_SEGMENTS_PER_REQUEST        11      /* direct segments */
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST  8
#define BLKIF_SEGS_PER_INDIRECT_FRAME \
	(BLKIF_PAGE_SIZE / sizeof(struct blkif_request_segment))      /* 512 */
#define BLKIF_MAX_INDIRECT_SEGMENTS \
	(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME) /* 4096 */
#define BLKIF_INDIRECT_PAGES(segs) \
	(((segs) + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) / BLKIF_SEGS_PER_INDIRECT_FRAME)
#define BLKIF_MAX_RING_PAGE_ORDER             4       /* 16 pages */

/* discard request flag */
#define BLKIF_DISCARD_SECURE  (1u << 0)

/* "info" key bits (VDISK_*) */
#define VDISK_CDROM      0x1
#define VDISK_REMOVABLE  0x2
#define VDISK_READONLY   0x4

/* ---- segment (same on every ABI) ---------------------------------------- */
struct blkif_request_segment {
	xenblk_grant_ref_t gref;     /* page granted for this segment */
	xenblk_u8 first_sect;        /* first 512-byte sector in the page (0..7) */
	xenblk_u8 last_sect;         /* last sector, inclusive (first..7) */
	xenblk_u8 _pad[2];
};

/* ---- x86_64 layout ------------------------------------------------------ */
struct blkif_x86_64_request_rw {
	xenblk_u8  operation;        /* READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE */
	xenblk_u8  nr_segments;      /* 0..11 (0 only for barrier/flush) */
	xenblk_vdev_t handle;
	xenblk_u32 _pad1;
	xenblk_u64 id;               /* echoed in the response */
	xenblk_sector_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct blkif_x86_64_request_discard {
	xenblk_u8  operation;        /* DISCARD */
	xenblk_u8  flag;             /* BLKIF_DISCARD_SECURE or 0 */
	xenblk_vdev_t handle;
	xenblk_u32 _pad1;
	xenblk_u64 id;
	xenblk_sector_t sector_number;
	xenblk_u64 nr_sectors;
};
struct blkif_x86_64_request_other {
	xenblk_u8  operation;
	xenblk_u8  _pad1;
	xenblk_u16 _pad2;
	xenblk_u32 _pad3;
	xenblk_u64 id;
};
struct blkif_x86_64_request_indirect {
	xenblk_u8  operation;        /* INDIRECT */
	xenblk_u8  indirect_op;      /* READ or WRITE */
	xenblk_u16 nr_segments;
	xenblk_u32 _pad1;
	xenblk_u64 id;
	xenblk_sector_t sector_number;
	xenblk_vdev_t handle;
	xenblk_u16 _pad2;
	xenblk_grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	xenblk_u32 _pad3;
};
union blkif_x86_64_request {
	xenblk_u8 operation;
	struct blkif_x86_64_request_rw rw;
	struct blkif_x86_64_request_discard discard;
	struct blkif_x86_64_request_other other;
	struct blkif_x86_64_request_indirect indirect;
};
struct blkif_x86_64_response {
	xenblk_u64 id;
	xenblk_u8  operation;
	xenblk_u8  _pad1;
	xenblk_s16 status;           /* BLKIF_RSP_* */
	xenblk_u32 _pad2;
};

/* ---- x86_32 layout ------------------------------------------------------ */
struct blkif_x86_32_request_rw {
	xenblk_u8  operation;
	xenblk_u8  nr_segments;
	xenblk_vdev_t handle;
	xenblk_u64_a4 id;
	xenblk_u64_a4 sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct blkif_x86_32_request_discard {
	xenblk_u8  operation;
	xenblk_u8  flag;
	xenblk_vdev_t handle;
	xenblk_u64_a4 id;
	xenblk_u64_a4 sector_number;
	xenblk_u64_a4 nr_sectors;
};
struct blkif_x86_32_request_other {
	xenblk_u8  operation;
	xenblk_u8  _pad1;
	xenblk_u16 _pad2;
	xenblk_u64_a4 id;
};
struct blkif_x86_32_request_indirect {
	xenblk_u8  operation;
	xenblk_u8  indirect_op;
	xenblk_u16 nr_segments;
	xenblk_u64_a4 id;
	xenblk_u64_a4 sector_number;
	xenblk_vdev_t handle;
	xenblk_u16 _pad1;
	xenblk_grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	xenblk_u64_a4 _pad2;         /* 64 bytes, as on x86_64 */
};
union blkif_x86_32_request {
	xenblk_u8 operation;
	struct blkif_x86_32_request_rw rw;
	struct blkif_x86_32_request_discard discard;
	struct blkif_x86_32_request_other other;
	struct blkif_x86_32_request_indirect indirect;
};
struct blkif_x86_32_response {
	xenblk_u64_a4 id;
	xenblk_u8  operation;
	xenblk_u8  _pad1;
	xenblk_s16 status;
};

/* ---- native layout ------------------------------------------------------ */
#if defined(__i386__)
#define XENBLK_NATIVE_ABI_X86_32 1
typedef union blkif_x86_32_request blkif_request_t;
typedef struct blkif_x86_32_response blkif_response_t;
#else
#define XENBLK_NATIVE_ABI_X86_32 0
typedef union blkif_x86_64_request blkif_request_t;
typedef struct blkif_x86_64_response blkif_response_t;
#endif

/* ABI names used in the frontend's "protocol" key */
#define XEN_IO_PROTO_ABI_X86_32  "x86_32-abi"
#define XEN_IO_PROTO_ABI_X86_64  "x86_64-abi"
#if XENBLK_NATIVE_ABI_X86_32
#define XEN_IO_PROTO_ABI_NATIVE  XEN_IO_PROTO_ABI_X86_32
#else
#define XEN_IO_PROTO_ABI_NATIVE  XEN_IO_PROTO_ABI_X86_64
#endif

/* ---- shared ring -------------------------------------------------------- */
/* The first 64 bytes of the shared ring; entries follow. */
struct blkif_sring_header {
	xenblk_ring_idx_t req_prod;   /* written by the frontend */
	xenblk_ring_idx_t req_event;  /* backend wants an event when req_prod passes this */
	xenblk_ring_idx_t rsp_prod;   /* written by the backend */
	xenblk_ring_idx_t rsp_event;  /* frontend wants an event when rsp_prod passes this */
	xenblk_u8 _pad[48];
};
#define BLKIF_SRING_HEADER_SIZE 64u

/* Entries are the union of request and response, rounded down to a power of 2. */
#define XENBLK_RD2(x)  (((x) & 0x2u)        ? 0x2u              : ((x) & 0x1u))
#define XENBLK_RD4(x)  (((x) & 0xcu)        ? XENBLK_RD2((x) >> 2) << 2   : XENBLK_RD2(x))
#define XENBLK_RD8(x)  (((x) & 0xf0u)       ? XENBLK_RD4((x) >> 4) << 4   : XENBLK_RD4(x))
#define XENBLK_RD16(x) (((x) & 0xff00u)     ? XENBLK_RD8((x) >> 8) << 8   : XENBLK_RD8(x))
#define XENBLK_RD32(x) (((x) & 0xffff0000u) ? XENBLK_RD16((x) >> 16) << 16 : XENBLK_RD16(x))
#define XENBLK_RING_ENTRIES(ring_bytes, entry_bytes) \
	XENBLK_RD32((xenblk_u32)(((ring_bytes) - BLKIF_SRING_HEADER_SIZE) / (entry_bytes)))
#define BLKIF_X86_64_ENTRY_SIZE  112u
#define BLKIF_X86_32_ENTRY_SIZE  108u
/* ring entries for a ring of 2^order pages, per ABI (32 << order for orders 0..4) */
#define BLKIF_X86_64_RING_SIZE(order) \
	XENBLK_RING_ENTRIES(BLKIF_PAGE_SIZE << (order), BLKIF_X86_64_ENTRY_SIZE)
#define BLKIF_X86_32_RING_SIZE(order) \
	XENBLK_RING_ENTRIES(BLKIF_PAGE_SIZE << (order), BLKIF_X86_32_ENTRY_SIZE)

/* ---- compile-time layout checks (C and C++) ----------------------------- */
#ifdef __cplusplus
#define XENBLK_ABI_ASSERT(e) static_assert(e, #e)
#define XENBLK_OFFSETOF(t, m) __builtin_offsetof(t, m)
#else
#define XENBLK_ABI_ASSERT(e) _Static_assert(e, #e)
#define XENBLK_OFFSETOF(t, m) __builtin_offsetof(t, m)
#endif

XENBLK_ABI_ASSERT(sizeof(struct blkif_request_segment) == 8);
XENBLK_ABI_ASSERT(BLKIF_SEGS_PER_INDIRECT_FRAME == 512);
XENBLK_ABI_ASSERT(BLKIF_MAX_INDIRECT_SEGMENTS == 4096);
XENBLK_ABI_ASSERT(sizeof(struct blkif_sring_header) == BLKIF_SRING_HEADER_SIZE);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_sring_header, rsp_event) == 12);

/* x86_64 */
XENBLK_ABI_ASSERT(sizeof(union blkif_x86_64_request) == 112);
XENBLK_ABI_ASSERT(sizeof(union blkif_x86_64_request) == BLKIF_X86_64_ENTRY_SIZE);
XENBLK_ABI_ASSERT(sizeof(struct blkif_x86_64_request_rw) == 112);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_rw, nr_segments) == 1);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_rw, handle) == 2);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_rw, id) == 8);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_rw, sector_number) == 16);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_rw, seg) == 24);
XENBLK_ABI_ASSERT(sizeof(struct blkif_x86_64_request_discard) == 32);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_discard, flag) == 1);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_discard, id) == 8);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_discard, sector_number) == 16);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_discard, nr_sectors) == 24);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_other, id) == 8);
XENBLK_ABI_ASSERT(sizeof(struct blkif_x86_64_request_indirect) == 64);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_indirect, nr_segments) == 2);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_indirect, id) == 8);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_indirect, sector_number) == 16);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_indirect, handle) == 24);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_request_indirect, indirect_grefs) == 28);
XENBLK_ABI_ASSERT(sizeof(struct blkif_x86_64_response) == 16);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_response, operation) == 8);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_64_response, status) == 10);

/* x86_32 */
XENBLK_ABI_ASSERT(sizeof(union blkif_x86_32_request) == 108);
XENBLK_ABI_ASSERT(sizeof(union blkif_x86_32_request) == BLKIF_X86_32_ENTRY_SIZE);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_rw, handle) == 2);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_rw, id) == 4);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_rw, sector_number) == 12);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_rw, seg) == 20);
XENBLK_ABI_ASSERT(sizeof(struct blkif_x86_32_request_discard) == 28);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_discard, id) == 4);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_discard, nr_sectors) == 20);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_other, id) == 4);
XENBLK_ABI_ASSERT(sizeof(struct blkif_x86_32_request_indirect) == 64);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_indirect, id) == 4);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_indirect, sector_number) == 12);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_indirect, handle) == 20);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_request_indirect, indirect_grefs) == 24);
XENBLK_ABI_ASSERT(sizeof(struct blkif_x86_32_response) == 12);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_response, operation) == 8);
XENBLK_ABI_ASSERT(XENBLK_OFFSETOF(struct blkif_x86_32_response, status) == 10);

/* ring sizes for orders 0..4 */
XENBLK_ABI_ASSERT(BLKIF_X86_64_RING_SIZE(0) == 32);
XENBLK_ABI_ASSERT(BLKIF_X86_64_RING_SIZE(1) == 64);
XENBLK_ABI_ASSERT(BLKIF_X86_64_RING_SIZE(2) == 128);
XENBLK_ABI_ASSERT(BLKIF_X86_64_RING_SIZE(3) == 256);
XENBLK_ABI_ASSERT(BLKIF_X86_64_RING_SIZE(4) == 512);
XENBLK_ABI_ASSERT(BLKIF_X86_32_RING_SIZE(0) == 32);
XENBLK_ABI_ASSERT(BLKIF_X86_32_RING_SIZE(4) == 512);

#endif /* XENBLK_UAPI_BLKIF_H */
