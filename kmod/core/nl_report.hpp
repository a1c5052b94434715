// SPDX-License-Identifier: GPL-2.0
// nl_report.hpp - what the generic netlink families say, and how SET is judged.
//
// Both modules describe a device as a Snapshot (taken under the device's locks by
// the driver) and write it as attributes of include/uapi/xenblk/netlink.h through
// an AttrWriter; the C glue implements AttrWriter over a netlink message, the
// unit tests over a buffer.  Backend settings from XENBLK_CMD_DEV_SET are checked
// here: a refusal names the attribute and says why, for the extended ACK.
#pragma once
#include "kstd.hpp"
#include "stats.hpp"
#include "negotiate.hpp"
#include "throttle.hpp"
#include "xenblk/netlink.h"

namespace xb::nl {

using kstd::u8;
using kstd::u16;
using kstd::u32;
using kstd::u64;

// Where attributes go.  Every put returns false when the message is full; the
// caller then drops the whole message (a dump continues in the next one).
class AttrWriter {
public:
	virtual bool put_u8(u16 type, u8 v) = 0;
	virtual bool put_u32(u16 type, u32 v) = 0;
	virtual bool put_u64(u16 type, u64 v, u16 pad) = 0;
	virtual bool put_string(u16 type, const char* s) = 0;
	virtual bool nest_start(u16 type) = 0;
	virtual void nest_end() = 0;   // closes the innermost open nest
protected:
	~AttrWriter() = default;
};

// What was negotiated with the other end (valid while connected).
struct Features {
	u8 flush_mode = XENBLK_FLUSH_NONE;   // enum xenblk_flush
	bool flush = false;
	bool barrier = false;
	bool discard = false;
	bool persistent = false;
	u32 indirect_segs = 0;
	u32 queues = 0;
	u32 ring_order = 0;
	Abi abi = native_abi();
};

inline constexpr size_t name_len = 32;
// a throttle group's name: 1..15 of [A-Za-z0-9_.-] and the NUL
inline constexpr size_t group_len = 16;
bool group_name_ok(const char* s);

// A backend device's settings in force for its next connect, and its I/O
// limits (in force now; those of its group if it is in one).
struct Config {
	FlushPolicy flush = FlushPolicy::automatic;
	u32 max_queues = 1;
	u32 max_ring_order = 0;
	bool persistent = false;
	bool discard = true;
	throttle::Limits limits;
	char group[group_len] = {};   // "": none
};

// The backend's limits at work now (XENBLK_S_THROTTLE's tokens; its counters
// and the held requests are in DeviceStats).
struct ThrottleNow {
	bool limited[throttle::nr_kinds] = {};
	u64 tokens[throttle::nr_kinds] = {};
};

struct Snapshot {
	char name[name_len] = {};
	u32 domid = 0;             // the other end
	u32 devid = 0;
	bool has_phys = false;     // backend, once the hotplug script ran
	u32 phys_major = 0;
	u32 phys_minor = 0;
	bool has_mode = false;
	bool read_only = false;
	u32 state = 0;
	u32 other_state = 0;
	bool connected = false;    // features and sectors are valid
	u64 sectors = 0;
	Features features;
	bool has_config = false;   // backend: config and throttle are valid
	Config config;
	ThrottleNow throttle;
	DeviceStats stats = {};
};

// A device as one XENBLK_CMD_DEV_GET reply; false if the message is full.
bool write_device(AttrWriter& w, const Snapshot& s);
// An XENBLK_CMD_EVENT notification.
bool write_event(AttrWriter& w, u32 event, const char* name, u32 domid, u32 devid,
		 const char* detail);

u8 flush_mode_attr(FlushMode m);
u8 flush_policy_attr(FlushPolicy p);
bool flush_policy_from_attr(u32 v, FlushPolicy* out);

// Counters since a reset: *s (now) minus the baseline taken at the reset, in
// place (a DeviceStats is too big for two on a kernel stack).  in_flight is a
// level, not a count: it is never reset.
void stats_since(DeviceStats* s, const DeviceStats& base);

// ---- XENBLK_CMD_DEV_SET (backend) -----------------------------------------------

// The XENBLK_A_CONFIG nest of a request, as the glue found it (types already
// checked by the netlink policy).
struct SetRequest {
	bool has[XENBLK_C_MAX + 1] = {};
	u64 val[XENBLK_C_MAX + 1] = {};
	char group[group_len] = {};   // XENBLK_C_THROTTLE_GROUP (has[] says if given)
};

// The XENBLK_C_* attribute of a limit's rate and of its burst.
inline constexpr u16 rate_attr(throttle::Kind k) { return static_cast<u16>(static_cast<u32>(XENBLK_C_IOPS_READ) + static_cast<u32>(k)); }
inline constexpr u16 burst_attr(throttle::Kind k) { return static_cast<u16>(static_cast<u32>(XENBLK_C_IOPS_READ_BURST) + static_cast<u32>(k)); }
static_assert(XENBLK_C_BPS == rate_attr(throttle::bps_total) &&
	      XENBLK_C_BPS_BURST == burst_attr(throttle::bps_total));
// Whether a request sets limits (rates or bursts), or the group.
bool sets_limits(const SetRequest& req);

// Per-device settings that override the module parameters.
struct BackSettings {
	bool has_flush = false;
	FlushPolicy flush = FlushPolicy::automatic;
	bool has_max_queues = false;
	u32 max_queues = 1;
	bool has_max_ring_order = false;
	u32 max_ring_order = 0;
	bool has_discard = false;
	bool discard = true;
	bool has_persistent = false;   // published at probe: applies to the next device
	bool persistent = true;

	// cfg: the module parameters; the result is what a connect uses
	void apply(BackendConfig* cfg) const;
};

inline constexpr u32 max_queues_limit = 32;   // OrderGate::max_rings
// negotiate.hpp's limits, referenced so that every includer builds under
// -Wunused-const-variable (W=1)
static_assert(blkif_max_direct_segs < blkif_max_indirect_segs && blkif_max_ring_order == 4);

struct SetError {
	const char* why = nullptr;   // a sentence for the extended ACK
	u16 attr = 0;                // the XENBLK_C_* it is about, 0 for the request
};

// All of req or nothing: on success *s holds the merged settings and *lim the
// merged limits (the device's or its group's before), and 0 is returned;
// otherwise -EINVAL and *err says why, and neither changed.  The group is
// checked (group_name_ok or "") but not applied: the driver owns groups.
int apply_set(const SetRequest& req, BackSettings* s, throttle::Limits* lim, SetError* err);

} // namespace xb::nl
