// SPDX-License-Identifier: GPL-2.0
// negotiate.hpp - xenstore feature negotiation between blkfront and blkback.
//
// The core never touches xenstore: the C glue (and the tests) implement KeySource
// and KeySink over one device directory, and keys are relative to it
// ("feature-barrier", "queue-1/ring-ref3").  Documentation/negotiation.md lists
// every key each side reads and writes and the rules implemented here.
//
// Error convention: functions return 0 or a negative errno (kstd::Errno values):
//   -ENOENT  a required key is absent
//   -EINVAL  a value is malformed (not a strict unsigned decimal, or out of its
//            type) or semantically invalid (e.g. a sector size of 768)
//   -ERANGE  a well-formed value exceeds what this side offered
//   -E2BIG   a caller buffer is too small
// A malformed number is an error, never "absent": reading garbage as a default
// could turn a write-back disk into one we believe is write-through.
#pragma once
#include "kstd.hpp"
#include "abi.hpp"
#include "xenblk/blkif.h"

namespace xb {

// Protocol limits as unsigned values.
constexpr u32 blkif_max_direct_segs = BLKIF_MAX_SEGMENTS_PER_REQUEST;       // 11
constexpr u32 blkif_max_indirect_segs = BLKIF_MAX_INDIRECT_SEGMENTS;        // 4096
constexpr u32 blkif_max_ring_order = BLKIF_MAX_RING_PAGE_ORDER;             // 4
// The indirect-segment rule of both ends: a maximum of 11 or less gives no
// indirect requests (a direct request carries 11 already), so it counts as none.
constexpr bool indirect_usable(u32 max_indirect) { return max_indirect > blkif_max_direct_segs; }
// The most segments one read or write may carry with that maximum negotiated.
constexpr u32 segments_per_request(u32 max_indirect)
{
	return indirect_usable(max_indirect) ? max_indirect : blkif_max_direct_segs;
}
// The most rings our frontend sets up for one disk, whatever the backend and
// the module parameter allow (the stock frontend's own cap is the CPUs).
inline constexpr u32 frontend_max_queues = 16;

// ---- xenstore access ----------------------------------------------------------

class KeySource {
public:
	// false if the key is absent; otherwise buf holds the value, NUL-terminated
	// (truncated to len - 1 bytes if longer: a value that fills the buffer is
	// treated as malformed).
	virtual bool read(const char* key, char* buf, size_t len) const = 0;
protected:
	~KeySource() = default;
};

class KeySink {
public:
	// 0 or a negative errno
	virtual int write(const char* key, const char* value) = 0;
	// the key is gone afterwards (also when it was not there): 0 or a negative errno
	virtual int remove(const char* key) = 0;
protected:
	~KeySink() = default;
};

// Key names (relative to the device directory).
namespace key {
// backend -> frontend
inline constexpr char feature_flush_cache[] = "feature-flush-cache";
inline constexpr char feature_barrier[] = "feature-barrier";
inline constexpr char feature_discard[] = "feature-discard";
inline constexpr char discard_granularity[] = "discard-granularity";
inline constexpr char discard_alignment[] = "discard-alignment";
inline constexpr char discard_secure[] = "discard-secure";
inline constexpr char feature_persistent[] = "feature-persistent";   // both directions
inline constexpr char feature_max_indirect_segments[] = "feature-max-indirect-segments";
inline constexpr char multi_queue_max_queues[] = "multi-queue-max-queues";
inline constexpr char max_ring_page_order[] = "max-ring-page-order";
inline constexpr char sectors[] = "sectors";
inline constexpr char sector_size[] = "sector-size";
inline constexpr char physical_sector_size[] = "physical-sector-size";
inline constexpr char info[] = "info";
// frontend -> backend
inline constexpr char ring_page_order[] = "ring-page-order";
inline constexpr char multi_queue_num_queues[] = "multi-queue-num-queues";
inline constexpr char ring_ref[] = "ring-ref";                        // + page index if order > 0
inline constexpr char event_channel[] = "event-channel";
inline constexpr char protocol[] = "protocol";
} // namespace key

// ---- numbers ------------------------------------------------------------------

// Strict unsigned decimal: one or more digits and nothing else (no sign, space,
// "0x", trailing newline); leading zeros allowed.  false on overflow.
bool parse_u64(const char* s, u64* out);
bool parse_u32(const char* s, u32* out);
// Decimal text of v into buf; 0 or -E2BIG.
int format_u64(char* buf, size_t len, u64 v);

// Read a number: absent => *out = dflt and 0; malformed => -EINVAL.
int read_u64(const KeySource& src, const char* key, u64 dflt, u64* out);
int read_u32(const KeySource& src, const char* key, u32 dflt, u32* out);
// A boolean feature key: any unsigned decimal, non-zero is true.
int read_bool(const KeySource& src, const char* key, bool dflt, bool* out);

// A logical sector size blkif can carry: a power of 2 from 512 to 4096.
bool valid_sector_size(u32 size);

// ---- per-queue key names --------------------------------------------------------

// "<leaf>" for a single queue, "queue-<q>/<leaf>" when nr_queues > 1.
int queue_key(char* buf, size_t len, u32 nr_queues, u32 queue, const char* leaf);
// The key of ring page <page> of queue <queue>: "ring-ref" for order 0, else
// "ring-ref<page>", with the queue prefix above ("queue-1/ring-ref3").
int ring_ref_key(char* buf, size_t len, u32 nr_queues, u32 queue, u32 ring_order, u32 page);
inline constexpr size_t key_buf_len = 48;   // enough for any key built here

// ---- flush modes ----------------------------------------------------------------

// How the frontend makes writes durable.
enum class FlushMode : u8 {
	none = 0,      // no cache control: the disk is (or is treated as) write-through
	barrier = 1,   // BLKIF_OP_WRITE_BARRIER (drain + flush + write)
	flush = 2,     // BLKIF_OP_FLUSH_DISKCACHE
};
const char* flush_mode_name(FlushMode m);

// Block-layer flags for a mode: FLUSH => write cache; BARRIER => write cache + FUA
// (a data barrier acts as a FUA write); NONE => neither.
struct BlockFlags {
	bool write_cache;
	bool fua;
};
BlockFlags flush_flags(FlushMode m);

// One downgrade step after the backend answered BLKIF_RSP_EOPNOTSUPP.
struct FlushDowngrade {
	FlushMode from;
	FlushMode to;
	bool changed() const { return from != to; }
};
// failed_op is the blkif operation that got EOPNOTSUPP.  FLUSH -> BARRIER (only
// if the backend offered barrier) -> NONE.  A failure of an operation that does
// not belong to the current mode (a request issued before an earlier downgrade)
// changes nothing, so two in-flight failures never skip a step.
FlushDowngrade downgrade_flush(FlushMode current, u8 failed_op, bool barrier_offered);

// ---- backend side -----------------------------------------------------------------

// What the administrator allows for one device.
enum class FlushPolicy : u8 {
	automatic,  // flush-cache if the device has a write cache; barrier always
	flush,      // flush-cache if the device has a write cache; never barrier
	barrier,    // barrier only
	both,       // same keys as automatic
	none,       // advertise neither (both keys written as 0)
};

struct BackendConfig {
	FlushPolicy flush = FlushPolicy::automatic;
	u32 max_queues = 1;                  // 0 is taken as 1
	u32 max_ring_order = blkif_max_ring_order;         // clamped to 4
	bool persistent = true;
	bool discard = true;
	u32 max_indirect_segments = 256;     // 0: do not offer indirect; clamped to 4096
};

// What the backing device has.
struct DeviceProps {
	u64 sectors = 0;                     // size in 512-byte units
	u32 logical_block_size = 512;        // power of 2, 512..4096
	u32 physical_block_size = 512;       // power of 2, >= logical
	bool read_only = false;
	bool cdrom = false;
	bool removable = false;
	bool write_cache = false;            // volatile write cache
	bool fua = false;                    // no key: used by the backend's barrier
	bool discard = false;
	u32 discard_granularity = 0;         // bytes; 0 => logical block size
	u32 discard_alignment = 0;           // bytes
	bool secure_erase = false;
};

// Transport keys (readable by the frontend before it connects): feature-persistent,
// feature-max-indirect-segments, multi-queue-max-queues, max-ring-page-order.
int backend_publish_transport(const BackendConfig& cfg, KeySink& out);
// Device keys (written when connecting): feature-flush-cache, feature-barrier,
// feature-discard + discard-*, sectors, sector-size, physical-sector-size, info.
// Also used again after a resize.
int backend_publish_device(const BackendConfig& cfg, const DeviceProps& dev, KeySink& out);
// Both of the above.
int backend_publish(const BackendConfig& cfg, const DeviceProps& dev, KeySink& out);

// One ring as the frontend described it.
struct BackQueue {
	u32 ring_refs[1u << blkif_max_ring_order];   // first 2^ring_order valid
	u32 event_channel;
};

struct BackConnectInfo {
	Abi abi = native_abi();
	u32 nr_queues = 0;
	u32 ring_order = 0;
	bool persistent = false;             // both sides want persistent grants
};

// Read the frontend's transport keys.  queues receives nr_queues entries
// (-ENOSPC if it has fewer than the frontend asks for).
int backend_read_frontend(const KeySource& frontend, const BackendConfig& cfg,
			  kstd::span<BackQueue> queues, BackConnectInfo* out);

// ---- frontend side ----------------------------------------------------------------

struct FrontendLimits {
	u32 max_queues = 1;                  // 0 is taken as 1
	u32 nr_cpus = 1;                     // 0 is taken as 1
	u32 max_ring_order = blkif_max_ring_order;
	u32 max_indirect_segments = 256;
	bool persistent = true;              // we want persistent grants
};

struct NegotiatedConfig {
	// transport (frontend_negotiate_transport)
	Abi abi = native_abi();
	u32 nr_queues = 1;
	u32 ring_order = 0;
	bool persistent_offered = false;     // what we publish as feature-persistent
	// device (frontend_negotiate_device)
	FlushMode flush = FlushMode::none;
	bool barrier_offered = false;        // backend offers barrier: fallback for FLUSH
	bool write_cache = false;            // block-layer flags for flush (flush_flags)
	bool fua = false;
	bool discard = false;
	bool discard_secure = false;
	u32 discard_granularity = 0;         // bytes, multiple of sector_size
	u32 discard_alignment = 0;           // bytes, multiple of sector_size, < granularity
	bool persistent = false;             // both sides
	u32 max_indirect_segments = 0;       // 0: direct requests only; else 12..4096
	u64 sectors = 0;                     // 512-byte units
	u32 sector_size = 512;
	u32 physical_sector_size = 512;
	u32 info = 0;                        // VDISK_* bits
	bool read_only = false;
};

// The largest disk a backend may announce, in 512-byte units: its size in bytes
// must fit a signed 64-bit offset (the block layer's i_size, loff_t).
inline constexpr u64 max_disk_sectors = (~u64{0} >> 1) >> 9;
constexpr bool valid_disk_sectors(u64 sectors) { return sectors <= max_disk_sectors; }

// At backend InitWait: queues, ring order, ABI.  Fills only the transport fields.
int frontend_negotiate_transport(const KeySource& backend, const FrontendLimits& lim,
				 NegotiatedConfig* out);
// At backend Connected: features and disk geometry.  Fills only the device fields.
int frontend_negotiate_device(const KeySource& backend, const FrontendLimits& lim,
			      NegotiatedConfig* out);
// Both, for a backend that already shows every key.
int frontend_negotiate(const KeySource& backend, const FrontendLimits& lim,
		       NegotiatedConfig* out);

// Apply one downgrade step to cfg (flush, write_cache, fua).
FlushDowngrade apply_flush_downgrade(NegotiatedConfig* cfg, u8 failed_op);

// What the glue allocated for one queue.
struct FrontQueue {
	kstd::span<const u32> ring_refs;     // exactly 2^ring_order grant refs
	u32 event_channel;
};

// Write ring-page-order (if > 0), multi-queue-num-queues (if > 1), per-queue
// ring-ref(s) and event-channel, protocol, feature-persistent.
// queues.size() must equal cfg.nr_queues.
int frontend_publish(const NegotiatedConfig& cfg, kstd::span<const FrontQueue> queues,
		     KeySink& out);

} // namespace xb
