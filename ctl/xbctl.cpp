// SPDX-License-Identifier: GPL-2.0
// xbctl - configure xenblk devices and read their statistics over generic
// netlink (libnl-genl-3).  Everything that needs no kernel is in xbctl_core.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <xenblk/netlink.h>

#include "xbctl_core.hpp"

using namespace xbctl;

namespace {

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct Conn {
	nl_sock* sk = nullptr;
	int family = -1;
	bool back = false;
	~Conn()
	{
		if (sk)
			nl_socket_free(sk);
	}
};

// Reply state of one request.
struct Reply {
	bool done = false;
	int err = 0;                 // positive errno
	std::string ext_ack;
	std::vector<Device> devices;
	bool bad_message = false;
};

int on_valid(nl_msg* msg, void* arg)
{
	auto* r = static_cast<Reply*>(arg);
	genlmsghdr* g = static_cast<genlmsghdr*>(nlmsg_data(nlmsg_hdr(msg)));
	Device d;
	if (parse_device(reinterpret_cast<const uint8_t*>(genlmsg_attrdata(g, 0)),
			 static_cast<size_t>(genlmsg_attrlen(g, 0)), &d))
		r->devices.push_back(d);
	else
		r->bad_message = true;
	return NL_OK;
}

int on_finish(nl_msg*, void* arg)
{
	static_cast<Reply*>(arg)->done = true;
	return NL_STOP;
}

int on_error(sockaddr_nl*, nlmsgerr* e, void* arg)
{
	auto* r = static_cast<Reply*>(arg);
	r->done = true;
	r->err = -e->error;
	// extended ACK: TLVs after the (capped) original header
	const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
	if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
		const size_t off = NLMSG_HDRLEN + sizeof(*e);
		if (h->nlmsg_len > off) {
			const uint8_t* p = reinterpret_cast<const uint8_t*>(e) + sizeof(*e);
			size_t len = h->nlmsg_len - off;
			while (len >= 4) {
				uint16_t alen, type;
				std::memcpy(&alen, p, 2);
				std::memcpy(&type, p + 2, 2);
				if (alen < 4 || alen > len)
					break;
				if (type == NLMSGERR_ATTR_MSG && alen > 4)
					r->ext_ack.assign(reinterpret_cast<const char*>(p + 4), strnlen(reinterpret_cast<const char*>(p + 4), alen - 4));
				const size_t step = (alen + 3u) & ~3u;
				if (step >= len)
					break;
				p += step;
				len -= step;
			}
		}
	}
	return NL_STOP;
}

int on_ack(nl_msg*, void* arg)
{
	static_cast<Reply*>(arg)->done = true;
	return NL_STOP;
}

// 0, or a positive errno (ENOENT: no family)
int connect(Conn* c, Side side)
{
	c->sk = nl_socket_alloc();
	if (!c->sk)
		return ENOMEM;
	if (genl_connect(c->sk) < 0)
		return EPROTONOSUPPORT;
	const int one = 1;
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (side != Side::front) {
		c->family = genl_ctrl_resolve(c->sk, XENBLK_GENL_BACK_NAME);
		if (c->family >= 0) {
			c->back = true;
			return 0;
		}
	}
	if (side != Side::back) {
		c->family = genl_ctrl_resolve(c->sk, XENBLK_GENL_FRONT_NAME);
		if (c->family >= 0)
			return 0;
	}
	return ENOENT;
}

// Sends cmd (dump: every device) and collects the reply; 0 or a positive errno.
int request(Conn* c, uint8_t cmd, bool dump, const std::string& dev,
	    const std::vector<Setting>& settings, Reply* r)
{
	nl_msg* msg = nlmsg_alloc();
	if (!msg)
		return ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0, dump ? NLM_F_DUMP : 0, cmd,
			 XENBLK_GENL_VERSION) ||
	    (!dev.empty() && nla_put_string(msg, XENBLK_A_NAME, dev.c_str()) < 0)) {
		nlmsg_free(msg);
		return ENOMEM;
	}
	if (!settings.empty()) {
		nlattr* n = nla_nest_start(msg, XENBLK_A_CONFIG);
		for (const Setting& s : settings) {
			switch (s.bytes) {
			case 1: nla_put_u8(msg, s.attr, static_cast<uint8_t>(s.val)); break;
			case 4: nla_put_u32(msg, s.attr, static_cast<uint32_t>(s.val)); break;
			case 8: nla_put_u64(msg, s.attr, s.val); break;
			default: nla_put_string(msg, s.attr, s.str.c_str()); break;
			}
		}
		nla_nest_end(msg, n);
	}
	nl_cb* cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);
	int err = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	while (err >= 0 && !r->done)
		err = nl_recvmsgs(c->sk, cb);
	nl_cb_put(cb);
	if (r->err)
		return r->err;
	if (err < 0)
		return EIO;
	return 0;
}

int fail(const Options& o, int err, const std::string& ext_ack)
{
	std::fprintf(stderr, "%s\n", error_text(o.command, o.device, err, ext_ack).c_str());
	return error_exit(err);
}

int get_one(Conn* c, const Options& o, Device* d)
{
	Reply r;
	const int err = request(c, XENBLK_CMD_DEV_GET, false, o.device, {}, &r);
	if (err)
		return fail(o, err, r.ext_ack);
	if (r.devices.size() != 1) {
		std::fprintf(stderr, "xbctl %s: malformed reply from the kernel\n", o.command.c_str());
		return exit_failure;
	}
	*d = r.devices[0];
	return exit_ok;
}

volatile sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }

int on_event(nl_msg* msg, void* arg)
{
	const bool json = *static_cast<bool*>(arg);
	genlmsghdr* g = static_cast<genlmsghdr*>(nlmsg_data(nlmsg_hdr(msg)));
	Event e;
	if (g->cmd != XENBLK_CMD_EVENT ||
	    !parse_event(reinterpret_cast<const uint8_t*>(genlmsg_attrdata(g, 0)),
			 static_cast<size_t>(genlmsg_attrlen(g, 0)), &e))
		return NL_OK;
	std::printf("%s\n", (json ? event_json(e) : event_text(e)).c_str());
	std::fflush(stdout);
	return NL_OK;
}

int monitor(Conn* c, Options& o)
{
	const char* fam = c->back ? XENBLK_GENL_BACK_NAME : XENBLK_GENL_FRONT_NAME;
	const int grp = genl_ctrl_resolve_grp(c->sk, fam, XENBLK_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return fail(o, ENOENT, "");
	nl_socket_disable_seq_check(c->sk);
	if (nl_socket_add_membership(c->sk, grp) < 0) {
		std::fprintf(stderr, "xbctl monitor: cannot join the events group\n");
		return exit_failure;
	}
	nl_socket_modify_cb(c->sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, &o.json);
	// on stderr, so that -j output stays JSON lines; scripts wait for it
	std::fprintf(stderr, "xbctl monitor: listening to %s events\n", fam);
	while (!stop) {
		const int err = nl_recvmsgs_default(c->sk);
		if (err < 0 && err != -NLE_INTR && !stop) {
			std::fprintf(stderr, "xbctl monitor: %s\n", nl_geterror(err));
			return exit_failure;
		}
	}
	return exit_ok;
}

} // namespace

int main(int argc, char** argv)
{
	Options o;
	std::string why;
	if (!parse_args(argc, argv, &o, &why)) {
		std::fprintf(stderr, "xbctl: %s\n%s", why.c_str(), usage());
		return exit_usage;
	}
	if (o.help) {
		std::fputs(usage(), stdout);
		return exit_ok;
	}
	if (o.version) {
		std::printf("xbctl (xenblk) netlink version %d\n", XENBLK_GENL_VERSION);
		return exit_ok;
	}
	Conn c;
	int err = connect(&c, o.side);
	if (err == ENOENT && o.side != Side::any) {
		std::fprintf(stderr, "xbctl %s: xenblk-%s is not loaded\n", o.command.c_str(),
			     o.side == Side::back ? "back" : "front");
		return exit_no_module;
	}
	if (err)
		return fail(o, err, "");
	std::signal(SIGINT, on_signal);
	std::signal(SIGTERM, on_signal);

	if (o.command == "list") {
		Reply r;
		err = request(&c, XENBLK_CMD_DEV_GET, true, "", {}, &r);
		if (err)
			return fail(o, err, r.ext_ack);
		if (r.bad_message) {
			std::fprintf(stderr, "xbctl list: malformed reply from the kernel\n");
			return exit_failure;
		}
		std::fputs((o.json ? devices_json(r.devices, c.back) + "\n" : list_table(r.devices, c.back)).c_str(), stdout);
		return exit_ok;
	}
	if (o.command == "show") {
		Device d;
		const int rc = get_one(&c, o, &d);
		if (rc)
			return rc;
		std::fputs((o.json ? device_json(d, c.back) + "\n" : show_text(d, c.back)).c_str(), stdout);
		return exit_ok;
	}
	if (o.command == "stats") {
		for (unsigned n = 1; !stop; n++) {
			Device d;
			const int rc = get_one(&c, o, &d);
			if (rc)
				return rc;
			std::fputs((o.json ? device_json(d, c.back) + "\n" : stats_text(d)).c_str(), stdout);
			std::fflush(stdout);
			if (!o.watch || (o.count && n >= o.count))
				break;
			for (unsigned s = 0; s < o.watch && !stop; s++)
				sleep(1);
			if (!o.json)
				std::fputs("\n", stdout);
		}
		return exit_ok;
	}
	if (o.command == "set" || o.command == "reset") {
		const bool set = o.command == "set";
		if (set && !c.back) {
			std::fprintf(stderr, "xbctl set: only the backend (xenblk-back) has settings; this domain runs xenblk-front\n");
			return exit_usage;
		}
		Reply r;
		err = request(&c, set ? XENBLK_CMD_DEV_SET : XENBLK_CMD_STATS_RESET, false, o.device,
			      o.settings, &r);
		if (err)
			return fail(o, err, r.ext_ack);
		return exit_ok;
	}
	return monitor(&c, o);
}
