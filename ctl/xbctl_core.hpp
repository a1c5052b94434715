// SPDX-License-Identifier: GPL-2.0
// xbctl_core.hpp - everything of xbctl that needs no kernel: command lines,
// netlink attribute parsing (raw TLVs), JSON and table output, histograms,
// error texts and exit codes.  xbctl.cpp adds the libnl-genl transport.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xbctl {

// Exit codes (documented in Documentation/xbctl.md and xbctl(8)).
enum Exit : int {
	exit_ok = 0,
	exit_usage = 1,        // bad command line, key or value (nothing was sent)
	exit_no_device = 2,    // the module has no such device
	exit_permission = 3,   // SET/RESET without CAP_NET_ADMIN
	exit_no_module = 4,    // neither xenblk-back nor xenblk-front is loaded
	exit_refused = 5,      // the kernel refused the request (reason printed)
	exit_failure = 6,      // netlink or other failure
};

enum class Side { any, back, front };

// One KEY=VALUE of `xbctl set`, as the attribute it becomes.
struct Setting {
	int attr = 0;        // XENBLK_C_*
	unsigned bytes = 4;  // its netlink type: 1 u8, 4 u32, 8 u64, 0 string
	uint64_t val = 0;
	std::string str;
	bool operator==(const Setting& o) const
	{
		return attr == o.attr && bytes == o.bytes && val == o.val && str == o.str;
	}
};

struct Options {
	bool json = false;
	bool help = false;
	bool version = false;
	Side side = Side::any;
	std::string command;          // list show stats set reset monitor
	std::string device;
	unsigned watch = 0;           // stats --watch SEC (0: once)
	unsigned count = 0;           // stats --count N (0: until interrupted)
	// set: validated settings
	std::vector<Setting> settings;
};

// Parses argv; on error returns false with *err set (exit_usage).
bool parse_args(int argc, const char* const* argv, Options* o, std::string* err);

// "flush=barrier" -> (XENBLK_C_FLUSH_POLICY, XENBLK_FLUSH_BARRIER); false + why.
bool parse_setting(const std::string& kv, Setting* out, std::string* err);
// The I/O limit keys (xbctl_limits.cpp): "iops_read=500", "bps_write=10M",
// "bps_burst=1M", "group=NAME"; false if k is none of them, else *err empty
// on success.  check_limits: what one command line's settings must agree on.
bool parse_limit_setting(const std::string& k, const std::string& v, Setting* out, std::string* err);
bool check_limits(const std::vector<Setting>& s, std::string* err);

struct OpStats {
	uint64_t requests = 0, sectors = 0, errors = 0, unsupported = 0;
	uint64_t latency[24] = {};
};

struct Device {
	std::string name;
	uint32_t domid = 0, devid = 0, state = 0, other_state = 0;
	bool has_phys = false;
	uint32_t phys_major = 0, phys_minor = 0;
	bool has_mode = false, read_only = false;
	bool connected = false;
	uint64_t sectors = 0;
	struct {
		uint8_t flush_mode = 0;
		bool flush = false, barrier = false, discard = false, persistent = false;
		uint32_t indirect_segs = 0, queues = 0, ring_order = 0;
		std::string abi;
	} features;
	bool has_config = false;
	struct {
		uint8_t flush_policy = 0;
		uint32_t max_queues = 0, max_ring_order = 0;
		bool persistent = false, discard = false;
	} config;
	// I/O limits (backend): by XENBLK_C_IOPS_READ + kind, kinds in the header's order
	struct {
		uint64_t rate[6] = {}, burst[6] = {};
		std::string group;
	} limits;
	OpStats op[5];
	uint64_t in_flight = 0, bad = 0, fallbacks = 0, out_of_resources = 0;
	struct {
		bool present = false;
		uint64_t delayed = 0, delayed_ns = 0, held = 0;
		bool limited[6] = {};
		uint64_t tokens[6] = {};
	} throttle;
};

struct Event {
	uint32_t type = 0;
	std::string name, detail;
	uint32_t domid = 0, devid = 0;
};

// The attributes of one XENBLK_CMD_DEV_GET reply or XENBLK_CMD_EVENT (the
// payload after the genetlink header).  false on a malformed message.
bool parse_device(const uint8_t* data, size_t len, Device* d);
bool parse_event(const uint8_t* data, size_t len, Event* e);

const char* state_name(uint32_t s);          // "Connected"
const char* flush_name(uint8_t f);           // "barrier", "auto" ...
const char* op_name(unsigned op);            // "read" ...
const char* event_name(uint32_t ev);         // "connected" ...

std::string json_escape(const std::string& s);
std::string device_json(const Device& d, bool back);
std::string devices_json(const std::vector<Device>& ds, bool back);
std::string event_json(const Event& e);

// xbctl_limits.cpp: a limit kind's key ("iops_read"), the config attribute
// parser for the limits, and their JSON and text
const char* limit_key(unsigned kind);
bool parse_limit_attr(int type, const uint8_t* data, size_t len, Device* d);
bool parse_throttle(const uint8_t* data, size_t len, Device* d);
std::string limits_json(const Device& d);     // "\"limits\":{...},\"throttle_group\":..."
std::string throttle_json(const Device& d);   // "\"throttle\":{...}" or ""
std::string limits_text(const Device& d);
std::string throttle_text(const Device& d);

std::string list_table(const std::vector<Device>& ds, bool back);
std::string show_text(const Device& d, bool back);
std::string stats_text(const Device& d);
std::string event_text(const Event& e);
// Latency histogram as text bars (only the span from the first to the last
// non-empty bucket); width: the longest bar.  "" if empty.
std::string histogram_text(const uint64_t (&b)[24], unsigned width = 40);
std::string bucket_label(unsigned b);        // "<2us", "2-4us", ..., ">=8.4s"

// The message for a failed request (errno from the kernel, its extended ACK
// text if any), and the exit code for it.
std::string error_text(const std::string& command, const std::string& device, int err,
		       const std::string& ext_ack);
int error_exit(int err);

const char* usage();

} // namespace xbctl
