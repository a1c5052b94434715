// SPDX-License-Identifier: GPL-2.0
// xbctl_core.cpp - see xbctl_core.hpp.
#include "xbctl_core.hpp"
#include "xbctl_attr.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <xenblk/netlink.h>

namespace xbctl {

static_assert(XENBLK_LATENCY_BUCKETS == 24 && XENBLK_OP_COUNT == 5);

const char* usage()
{
	return "usage: xbctl [-j|--json] [--back|--front] COMMAND [ARGS]\n"
	       "\n"
	       "commands:\n"
	       "  list                      every device of the loaded module\n"
	       "  show DEV                  identity, state, negotiated features, settings\n"
	       "  stats DEV [--watch SEC] [--count N]\n"
	       "                            per-operation counters and latency histograms\n"
	       "  set DEV KEY=VALUE...      backend settings for the device's next connect:\n"
	       "                            flush=auto|flush|barrier|both|none max_queues=1..32\n"
	       "                            max_ring_order=0..4 persistent=0|1 discard=0|1\n"
	       "                            and I/O limits, at once (0: none): iops_read=N\n"
	       "                            iops_write=N iops=N bps_read=B bps_write=B bps=B,\n"
	       "                            KEY_burst=N|B, group=NAME (B: bytes, K/M/G suffix)\n"
	       "  reset DEV                 statistics start again at zero\n"
	       "  monitor                   print events (connect, disconnect, downgrade, errors,\n"
	       "                            throttling)\n"
	       "\n"
	       "DEV is a name from `xbctl list`: vbd-DOMID-DEVID (backend) or xvdX (frontend).\n"
	       "xbctl talks to xenblk-back if it is loaded, else to xenblk-front.\n"
	       "exit codes: 0 ok, 1 usage, 2 unknown device, 3 permission, 4 module not loaded,\n"
	       "5 refused by the kernel, 6 other failure.  See xbctl(8).\n";
}

// ---- command line --------------------------------------------------------------

namespace {

bool parse_uint(const std::string& s, uint32_t max, uint32_t* out)
{
	if (s.empty() || s.size() > 10)
		return false;
	uint64_t v = 0;
	for (char c : s) {
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + static_cast<unsigned>(c - '0');
	}
	if (v > max)
		return false;
	*out = static_cast<uint32_t>(v);
	return true;
}

bool parse_bool(const std::string& s, uint32_t* out)
{
	if (s == "1" || s == "on" || s == "yes" || s == "true") {
		*out = 1;
		return true;
	}
	if (s == "0" || s == "off" || s == "no" || s == "false") {
		*out = 0;
		return true;
	}
	return false;
}

} // namespace

bool parse_setting(const std::string& kv, Setting* out, std::string* err)
{
	const size_t eq = kv.find('=');
	if (eq == std::string::npos || eq == 0) {
		*err = "'" + kv + "' is not KEY=VALUE";
		return false;
	}
	const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
	uint32_t n = 0;
	if (parse_limit_setting(k, v, out, err))
		return err->empty();
	if (k == "flush" || k == "flush_policy") {
		static const struct { const char* name; uint32_t val; } pol[] = {
			{"none", XENBLK_FLUSH_NONE}, {"barrier", XENBLK_FLUSH_BARRIER},
			{"flush", XENBLK_FLUSH_FLUSH}, {"auto", XENBLK_FLUSH_AUTO},
			{"both", XENBLK_FLUSH_BOTH},
		};
		for (const auto& p : pol) {
			if (v == p.name) {
				*out = Setting{XENBLK_C_FLUSH_POLICY, 1, p.val, {}};
				return true;
			}
		}
		*err = "bad value '" + v + "' for flush: use auto, flush, barrier, both or none";
		return false;
	}
	if (k == "max_queues") {
		if (!parse_uint(v, 32, &n) || n == 0) {
			*err = "bad value '" + v + "' for max_queues: use 1..32";
			return false;
		}
		*out = Setting{XENBLK_C_MAX_QUEUES, 4, n, {}};
		return true;
	}
	if (k == "max_ring_order") {
		if (!parse_uint(v, 4, &n)) {
			*err = "bad value '" + v + "' for max_ring_order: use 0..4";
			return false;
		}
		*out = Setting{XENBLK_C_MAX_RING_ORDER, 4, n, {}};
		return true;
	}
	if (k == "persistent" || k == "discard") {
		if (!parse_bool(v, &n)) {
			*err = "bad value '" + v + "' for " + k + ": use 0 or 1";
			return false;
		}
		*out = Setting{k == "persistent" ? XENBLK_C_PERSISTENT : XENBLK_C_DISCARD, 1, n, {}};
		return true;
	}
	*err = "unknown key '" + k + "': use flush, max_queues, max_ring_order, persistent, discard, "
		"a limit (iops_read, iops_write, iops, bps_read, bps_write, bps, each also KEY_burst) or group";
	return false;
}

bool parse_args(int argc, const char* const* argv, Options* o, std::string* err)
{
	std::vector<std::string> pos;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		if (a == "-j" || a == "--json") {
			o->json = true;
		} else if (a == "-h" || a == "--help") {
			o->help = true;
		} else if (a == "-V" || a == "--version") {
			o->version = true;
		} else if (a == "--back" || a == "-b") {
			o->side = Side::back;
		} else if (a == "--front" || a == "-f") {
			o->side = Side::front;
		} else if (a == "--watch" || a == "-w" || a == "--count" || a == "-c") {
			const bool watch = a == "--watch" || a == "-w";
			uint32_t n;
			if (i + 1 >= argc) {
				*err = a + " needs a number";
				return false;
			}
			if (!parse_uint(argv[++i], 86400, &n) || n == 0) {
				*err = std::string("bad number '") + argv[i] + "' for " + a + ": use 1..86400";
				return false;
			}
			(watch ? o->watch : o->count) = n;
		} else if (a.size() > 1 && a[0] == '-') {
			*err = "unknown option '" + a + "'";
			return false;
		} else {
			pos.push_back(a);
		}
	}
	if (o->help || o->version)
		return true;
	if (pos.empty()) {
		*err = "no command given";
		return false;
	}
	o->command = pos[0];
	const std::string& c = o->command;
	const bool needs_dev = c == "show" || c == "stats" || c == "set" || c == "reset";
	if (c != "list" && c != "monitor" && !needs_dev) {
		*err = "unknown command '" + c + "'";
		return false;
	}
	if (needs_dev) {
		if (pos.size() < 2) {
			*err = c + " needs a device (see xbctl list)";
			return false;
		}
		o->device = pos[1];
		if (o->device.size() > 31) {
			*err = "device name '" + o->device + "' is too long";
			return false;
		}
	}
	const size_t want = needs_dev ? 2 : 1;
	if (c == "set") {
		if (pos.size() < 3) {
			*err = "set needs at least one KEY=VALUE";
			return false;
		}
		for (size_t i = 2; i < pos.size(); i++) {
			Setting s;
			if (!parse_setting(pos[i], &s, err))
				return false;
			for (const Setting& x : o->settings)
				if (x.attr == s.attr) {
					*err = "'" + pos[i] + "' sets what an earlier argument sets";
					return false;
				}
			o->settings.push_back(s);
		}
		if (!check_limits(o->settings, err))
			return false;
	} else if (pos.size() > want) {
		*err = "unexpected argument '" + pos[want] + "'";
		return false;
	}
	if ((o->watch || o->count) && c != "stats") {
		*err = "--watch and --count go with stats only";
		return false;
	}
	return true;
}

// ---- attributes ------------------------------------------------------------------

namespace {

bool parse_op(const Attr& nest, Device* d)
{
	OpStats s;
	uint32_t op = ~0u;
	const bool ok = each_attr(nest.data, nest.len, [&](const Attr& a) {
		switch (a.type) {
		case XENBLK_O_OP: return get(a, &op);
		case XENBLK_O_REQUESTS: return get(a, &s.requests);
		case XENBLK_O_SECTORS: return get(a, &s.sectors);
		case XENBLK_O_ERRORS: return get(a, &s.errors);
		case XENBLK_O_UNSUPPORTED: return get(a, &s.unsupported);
		case XENBLK_O_LATENCY:
			return each_attr(a.data, a.len, [&](const Attr& b) {
				if (b.type >= 1 && b.type <= 24)
					return get(b, &s.latency[b.type - 1]);
				return true;   // newer kernels may add buckets
			});
		default: return true;
		}
	});
	if (!ok || op >= 5)
		return false;
	d->op[op] = s;
	return true;
}

} // namespace

bool parse_device(const uint8_t* data, size_t len, Device* d)
{
	bool named = false;
	const bool ok = each_attr(data, len, [&](const Attr& a) {
		switch (a.type) {
		case XENBLK_A_NAME: named = true; return get(a, &d->name);
		case XENBLK_A_DOMID: return get(a, &d->domid);
		case XENBLK_A_DEVID: return get(a, &d->devid);
		case XENBLK_A_STATE: return get(a, &d->state);
		case XENBLK_A_OTHER_STATE: return get(a, &d->other_state);
		case XENBLK_A_PHYS_MAJOR: d->has_phys = true; return get(a, &d->phys_major);
		case XENBLK_A_PHYS_MINOR: return get(a, &d->phys_minor);
		case XENBLK_A_READ_ONLY: d->has_mode = true; return get(a, &d->read_only);
		case XENBLK_A_SECTORS: return get(a, &d->sectors);
		case XENBLK_A_FEATURES:
			d->connected = true;
			return each_attr(a.data, a.len, [&](const Attr& f) {
				auto& x = d->features;
				switch (f.type) {
				case XENBLK_F_FLUSH_MODE: return get(f, &x.flush_mode);
				case XENBLK_F_FLUSH: return get(f, &x.flush);
				case XENBLK_F_BARRIER: return get(f, &x.barrier);
				case XENBLK_F_DISCARD: return get(f, &x.discard);
				case XENBLK_F_PERSISTENT: return get(f, &x.persistent);
				case XENBLK_F_INDIRECT_SEGS: return get(f, &x.indirect_segs);
				case XENBLK_F_QUEUES: return get(f, &x.queues);
				case XENBLK_F_RING_ORDER: return get(f, &x.ring_order);
				case XENBLK_F_ABI: return get(f, &x.abi);
				default: return true;
				}
			});
		case XENBLK_A_CONFIG:
			d->has_config = true;
			return each_attr(a.data, a.len, [&](const Attr& c) {
				auto& x = d->config;
				switch (c.type) {
				case XENBLK_C_FLUSH_POLICY: return get(c, &x.flush_policy);
				case XENBLK_C_MAX_QUEUES: return get(c, &x.max_queues);
				case XENBLK_C_MAX_RING_ORDER: return get(c, &x.max_ring_order);
				case XENBLK_C_PERSISTENT: return get(c, &x.persistent);
				case XENBLK_C_DISCARD: return get(c, &x.discard);
				default: return parse_limit_attr(c.type, c.data, c.len, d);
				}
			});
		case XENBLK_A_STATS:
			return each_attr(a.data, a.len, [&](const Attr& s) {
				switch (s.type) {
				case XENBLK_S_OP: return parse_op(s, d);
				case XENBLK_S_IN_FLIGHT: return get(s, &d->in_flight);
				case XENBLK_S_BAD: return get(s, &d->bad);
				case XENBLK_S_FALLBACKS: return get(s, &d->fallbacks);
				case XENBLK_S_OUT_OF_RESOURCES: return get(s, &d->out_of_resources);
				case XENBLK_S_THROTTLE: return parse_throttle(s.data, s.len, d);
				default: return true;
				}
			});
		default:
			return true;   // attributes of a newer kernel
		}
	});
	return ok && named;
}

bool parse_event(const uint8_t* data, size_t len, Event* e)
{
	bool typed = false;
	const bool ok = each_attr(data, len, [&](const Attr& a) {
		switch (a.type) {
		case XENBLK_A_EVENT: typed = true; return get(a, &e->type);
		case XENBLK_A_NAME: return get(a, &e->name);
		case XENBLK_A_DOMID: return get(a, &e->domid);
		case XENBLK_A_DEVID: return get(a, &e->devid);
		case XENBLK_A_EVENT_DETAIL: return get(a, &e->detail);
		default: return true;
		}
	});
	return ok && typed;
}

// ---- names -----------------------------------------------------------------------

const char* state_name(uint32_t s)
{
	static const char* const n[] = {"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured"};
	return s < 9 ? n[s] : "?";
}

const char* flush_name(uint8_t f)
{
	switch (f) {
	case XENBLK_FLUSH_NONE: return "none";
	case XENBLK_FLUSH_BARRIER: return "barrier";
	case XENBLK_FLUSH_FLUSH: return "flush";
	case XENBLK_FLUSH_AUTO: return "auto";
	case XENBLK_FLUSH_BOTH: return "both";
	default: return "?";
	}
}

const char* op_name(unsigned op)
{
	static const char* const n[] = {"read", "write", "flush", "barrier", "discard"};
	return op < 5 ? n[op] : "?";
}

const char* event_name(uint32_t ev)
{
	switch (ev) {
	case XENBLK_EV_CONNECTED: return "connected";
	case XENBLK_EV_DISCONNECTED: return "disconnected";
	case XENBLK_EV_FEATURE_DOWNGRADED: return "feature_downgraded";
	case XENBLK_EV_RING_ERROR: return "ring_error";
	case XENBLK_EV_BAD_REQUEST: return "bad_request";
	case XENBLK_EV_THROTTLE_START: return "throttle_start";
	case XENBLK_EV_THROTTLE_STOP: return "throttle_stop";
	default: return "unknown";
	}
}

// ---- JSON --------------------------------------------------------------------------

std::string json_escape(const std::string& s)
{
	std::string o = "\"";
	for (unsigned char c : s) {
		switch (c) {
		case '"': o += "\\\""; break;
		case '\\': o += "\\\\"; break;
		case '\n': o += "\\n"; break;
		case '\t': o += "\\t"; break;
		default:
			if (c < 0x20) {
				char b[8];
				std::snprintf(b, sizeof(b), "\\u%04x", c);
				o += b;
			} else {
				o += static_cast<char>(c);
			}
		}
	}
	return o + "\"";
}

namespace {

std::string num(uint64_t v) { return std::to_string(v); }
const char* jb(bool b) { return b ? "true" : "false"; }

std::string stats_json(const Device& d)
{
	std::string o = "{\"ops\":{";
	for (unsigned i = 0; i < 5; i++) {
		const OpStats& s = d.op[i];
		o += (i ? "," : "") + json_escape(op_name(i)) + ":{\"requests\":" + num(s.requests) +
			",\"sectors\":" + num(s.sectors) + ",\"errors\":" + num(s.errors) +
			",\"unsupported\":" + num(s.unsupported) + ",\"latency_us_log2\":[";
		for (unsigned b = 0; b < 24; b++)
			o += (b ? "," : "") + num(s.latency[b]);
		o += "]}";
	}
	o += "},\"in_flight\":" + num(d.in_flight) + ",\"bad\":" + num(d.bad) +
		",\"fallbacks\":" + num(d.fallbacks) + ",\"out_of_resources\":" + num(d.out_of_resources);
	const std::string t = throttle_json(d);
	return o + (t.empty() ? "" : "," + t) + "}";
}

} // namespace

std::string device_json(const Device& d, bool back)
{
	std::string o = "{\"name\":" + json_escape(d.name) + ",\"side\":" + (back ? "\"back\"" : "\"front\"") +
		",\"domid\":" + num(d.domid) + ",\"devid\":" + num(d.devid) +
		",\"state\":" + json_escape(state_name(d.state)) +
		",\"other_state\":" + json_escape(state_name(d.other_state));
	if (d.has_phys) {
		char b[32];
		std::snprintf(b, sizeof(b), "%x:%x", d.phys_major, d.phys_minor);
		o += ",\"physical_device\":" + json_escape(b);
	} else if (back) {
		o += ",\"physical_device\":null";
	}
	o += std::string(",\"mode\":") + (d.has_mode ? (d.read_only ? "\"r\"" : "\"w\"") : "null");
	o += ",\"connected\":" + std::string(jb(d.connected));
	if (d.connected) {
		const auto& f = d.features;
		o += ",\"sectors\":" + num(d.sectors) + ",\"features\":{\"flush_mode\":" +
			json_escape(flush_name(f.flush_mode)) + ",\"flush\":" + jb(f.flush) +
			",\"barrier\":" + jb(f.barrier) + ",\"discard\":" + jb(f.discard) +
			",\"persistent\":" + jb(f.persistent) + ",\"indirect_segments\":" + num(f.indirect_segs) +
			",\"queues\":" + num(f.queues) + ",\"ring_order\":" + num(f.ring_order) +
			",\"abi\":" + json_escape(f.abi) + "}";
	} else {
		o += ",\"sectors\":null,\"features\":null";
	}
	if (back) {
		if (d.has_config) {
			const auto& c = d.config;
			o += ",\"config\":{\"flush_policy\":" + json_escape(flush_name(c.flush_policy)) +
				",\"max_queues\":" + num(c.max_queues) + ",\"max_ring_order\":" +
				num(c.max_ring_order) + ",\"persistent\":" + jb(c.persistent) +
				",\"discard\":" + jb(c.discard) + "," + limits_json(d) + "}";
		} else {
			o += ",\"config\":null";
		}
	}
	return o + ",\"stats\":" + stats_json(d) + "}";
}

std::string devices_json(const std::vector<Device>& ds, bool back)
{
	std::string o = "[";
	for (size_t i = 0; i < ds.size(); i++)
		o += (i ? "," : "") + device_json(ds[i], back);
	return o + "]";
}

std::string event_json(const Event& e)
{
	return "{\"event\":" + json_escape(event_name(e.type)) + ",\"name\":" + json_escape(e.name) +
		",\"domid\":" + num(e.domid) + ",\"devid\":" + num(e.devid) + ",\"detail\":" +
		(e.detail.empty() ? std::string("null") : json_escape(e.detail)) + "}";
}

// ---- text ---------------------------------------------------------------------------

namespace {

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, f);
	std::vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

} // namespace

std::string list_table(const std::vector<Device>& ds, bool back)
{
	std::string o = fmt("%-14s %6s %6s %-12s %-8s %6s %4s %10s %10s %8s\n", "NAME",
			    back ? "DOMID" : "BACKEND", "DEVID", "STATE", "FLUSH", "QUEUES", "RING",
			    "READS", "WRITES", "FLUSHES");
	for (const Device& d : ds) {
		const bool c = d.connected;
		o += fmt("%-14s %6u %6u %-12s %-8s %6s %4s %10llu %10llu %8llu\n", d.name.c_str(), d.domid,
			 d.devid, state_name(d.state), c ? flush_name(d.features.flush_mode) : "-",
			 c ? std::to_string(d.features.queues).c_str() : "-",
			 c ? std::to_string(1u << d.features.ring_order).c_str() : "-",
			 static_cast<unsigned long long>(d.op[XENBLK_OP_READ].requests),
			 static_cast<unsigned long long>(d.op[XENBLK_OP_WRITE].requests),
			 static_cast<unsigned long long>(d.op[XENBLK_OP_FLUSH].requests +
							 d.op[XENBLK_OP_BARRIER].requests));
	}
	if (ds.empty())
		o += "(no devices)\n";
	return o;
}

std::string show_text(const Device& d, bool back)
{
	std::string o = fmt("%s\n", d.name.c_str());
	o += fmt("  %-22s %u\n", back ? "frontend domain" : "backend domain", d.domid);
	o += fmt("  %-22s %u\n", "virtual device", d.devid);
	if (d.has_phys)
		o += fmt("  %-22s %x:%x\n", "physical device", d.phys_major, d.phys_minor);
	if (d.has_mode)
		o += fmt("  %-22s %s\n", "mode", d.read_only ? "read-only" : "read-write");
	o += fmt("  %-22s %s (other end: %s)\n", "state", state_name(d.state), state_name(d.other_state));
	if (d.connected) {
		const auto& f = d.features;
		o += fmt("  %-22s %llu sectors (%llu MiB)\n", "size", static_cast<unsigned long long>(d.sectors),
			 static_cast<unsigned long long>(d.sectors >> 11));
		o += "  negotiated\n";
		o += fmt("    %-20s %s\n", "flush mode", flush_name(f.flush_mode));
		o += fmt("    %-20s %s\n", "flush-cache", f.flush ? "yes" : "no");
		o += fmt("    %-20s %s\n", "barrier", f.barrier ? "yes" : "no");
		o += fmt("    %-20s %s\n", "discard", f.discard ? "yes" : "no");
		o += fmt("    %-20s %s\n", "persistent grants", f.persistent ? "yes" : "no");
		o += fmt("    %-20s %u\n", "indirect segments", f.indirect_segs);
		o += fmt("    %-20s %u\n", "queues", f.queues);
		o += fmt("    %-20s %u (%u pages)\n", "ring order", f.ring_order, 1u << f.ring_order);
		o += fmt("    %-20s %s\n", "protocol", f.abi.c_str());
	} else {
		o += "  negotiated             - (not connected)\n";
	}
	if (d.has_config) {
		const auto& c = d.config;
		o += "  settings (next connect)\n";
		o += fmt("    %-20s %s\n", "flush", flush_name(c.flush_policy));
		o += fmt("    %-20s %u\n", "max_queues", c.max_queues);
		o += fmt("    %-20s %u\n", "max_ring_order", c.max_ring_order);
		o += fmt("    %-20s %u\n", "persistent", c.persistent ? 1 : 0);
		o += fmt("    %-20s %u\n", "discard", c.discard ? 1 : 0);
		o += limits_text(d);
	}
	return o;
}

std::string bucket_label(unsigned b)
{
	auto t = [](uint64_t us) {
		if (us >= 1000000)
			return fmt("%.1fs", static_cast<double>(us) / 1e6);
		if (us >= 1000)
			return fmt("%.1fms", static_cast<double>(us) / 1e3);
		return fmt("%lluus", static_cast<unsigned long long>(us));
	};
	if (b == 0)
		return "<2us";
	if (b >= 23)
		return ">=" + t(1ull << 23);
	return t(1ull << b) + "-" + t(1ull << (b + 1));
}

std::string histogram_text(const uint64_t (&b)[24], unsigned width)
{
	int first = -1, last = -1;
	uint64_t max = 0;
	for (int i = 0; i < 24; i++) {
		if (!b[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (b[i] > max)
			max = b[i];
	}
	if (first < 0)
		return "";
	std::string o;
	for (int i = first; i <= last; i++) {
		unsigned n = static_cast<unsigned>((b[i] * width + max - 1) / max);   // non-empty: >= 1
		o += fmt("  %15s %10llu |%s\n", bucket_label(static_cast<unsigned>(i)).c_str(),
			 static_cast<unsigned long long>(b[i]), std::string(n, '#').c_str());
	}
	return o;
}

std::string stats_text(const Device& d)
{
	std::string o = fmt("%s\n%-8s %12s %14s %8s %12s\n", d.name.c_str(), "OP", "REQUESTS",
			    "SECTORS", "ERRORS", "UNSUPPORTED");
	for (unsigned i = 0; i < 5; i++)
		o += fmt("%-8s %12llu %14llu %8llu %12llu\n", op_name(i),
			 static_cast<unsigned long long>(d.op[i].requests),
			 static_cast<unsigned long long>(d.op[i].sectors),
			 static_cast<unsigned long long>(d.op[i].errors),
			 static_cast<unsigned long long>(d.op[i].unsupported));
	o += fmt("in flight %llu, bad %llu, fallbacks %llu, out of resources %llu\n",
		 static_cast<unsigned long long>(d.in_flight), static_cast<unsigned long long>(d.bad),
		 static_cast<unsigned long long>(d.fallbacks),
		 static_cast<unsigned long long>(d.out_of_resources));
	o += throttle_text(d);
	for (unsigned i = 0; i < 5; i++) {
		const std::string h = histogram_text(d.op[i].latency);
		if (!h.empty())
			o += fmt("%s latency\n", op_name(i)) + h;
	}
	return o;
}

std::string event_text(const Event& e)
{
	std::string o = fmt("%s %s domid %u devid %u", event_name(e.type), e.name.c_str(), e.domid, e.devid);
	if (!e.detail.empty())
		o += ": " + e.detail;
	return o;
}

// ---- errors -------------------------------------------------------------------------

int error_exit(int err)
{
	switch (err) {
	case ENODEV: return exit_no_device;
	case EPERM: case EACCES: return exit_permission;
	case ENOENT: return exit_no_module;
	case EINVAL: case EOPNOTSUPP: case ERANGE: return exit_refused;
	default: return exit_failure;
	}
}

std::string error_text(const std::string& command, const std::string& device, int err,
		       const std::string& ext_ack)
{
	std::string o = "xbctl " + command + ": ";
	switch (err) {
	case ENODEV:
		o += "unknown device '" + device + "' (see xbctl list)";
		break;
	case EPERM: case EACCES:
		o += "permission denied: " + command + " needs CAP_NET_ADMIN (run as root)";
		break;
	case ENOENT:
		o += "neither xenblk-back nor xenblk-front is loaded (modprobe one of them)";
		break;
	default:
		o += ext_ack.empty() ? std::string(std::strerror(err)) : ext_ack;
		if (!ext_ack.empty())
			return o;
		break;
	}
	if (!ext_ack.empty() && err != ENOENT)
		o += " (" + ext_ack + ")";
	return o;
}

} // namespace xbctl
