// SPDX-License-Identifier: GPL-2.0
/*
 * nl_family.c - the entry side of a module's generic netlink family: the
 * family, its commands and policies, and the handlers the netlink core calls,
 * which hand every request to C++ (xb_nl_*, nl_api.h).  Each module compiles
 * it once through kmod/<module>/nl.c, which defines XBNL_FAMILY_NAME first.
 *
 * What the family offers (SET or not, who may run a command, the type of each
 * XENBLK_A_CONFIG value) is the C++ side's decision: nl_services.c applies
 * it when C++ registers the family.  Nothing here is called from C++.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include <xenblk/netlink.h>
#include "../rt/nl_api.h"
#include "../rt/nl_msg.h"

#ifndef XBNL_FAMILY_NAME
#error "define XBNL_FAMILY_NAME before including nl_family.c"
#endif

static void xbnl_why(struct genl_info *info, const char *why, const struct nlattr *attr)
{
	/* why is a C++ string literal: it outlives the request */
	if (!why || !info->extack)
		return;
	info->extack->_msg = why;
	if (attr)
		info->extack->bad_attr = attr;
}

static const char *xbnl_name(struct genl_info *info)
{
	const struct nlattr *a = info->attrs[XENBLK_A_NAME];

	return a ? nla_data(a) : NULL;
}

static int xbnl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct xbnl_msg m = {
		.portid = info->snd_portid,
		.seq = info->snd_seq,
		.cmd = XENBLK_CMD_DEV_GET,
	};
	const char *why = NULL;
	int err;

	m.skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!m.skb)
		return -ENOMEM;
	err = xb_nl_get(&m, xbnl_name(info), &why);
	if (err) {
		nlmsg_free(m.skb);
		xbnl_why(info, why, info->attrs[XENBLK_A_NAME]);
		return err;
	}
	return genlmsg_reply(m.skb, info);
}

static int xbnl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct xbnl_msg m = {
		.skb = skb,
		.portid = NETLINK_CB(cb->skb).portid,
		.seq = cb->nlh->nlmsg_seq,
		.flags = NLM_F_MULTI,
		.cmd = XENBLK_CMD_DEV_GET,
	};
	/* the position is C++'s (xb_nl_dump): kept between the calls of one dump */
	unsigned long pos = cb->args[0];
	int err = xb_nl_dump(&m, &pos);

	cb->args[0] = pos;
	return err < 0 ? err : skb->len;
}

static int xbnl_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	const char *why = NULL;
	int err = xb_nl_reset(xbnl_name(info), &why);

	if (err)
		xbnl_why(info, why, info->attrs[XENBLK_A_NAME]);
	return err;
}

/* the types of the XENBLK_C_* values: set from the C++ side's spec */
struct nla_policy xbnl_config_policy[XENBLK_C_MAX + 1];

static int xbnl_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[XENBLK_C_MAX + 1] = {};
	unsigned char has[XENBLK_C_MAX + 1] = {};
	unsigned long long val[XENBLK_C_MAX + 1] = {};
	const char *str[XENBLK_C_MAX + 1] = {};
	const char *why = NULL;
	int bad = 0, err, i;

	if (info->attrs[XENBLK_A_CONFIG]) {
		/* the family policy validated the nest already */
		err = nla_parse_nested(tb, XENBLK_C_MAX, info->attrs[XENBLK_A_CONFIG],
				       xbnl_config_policy, info->extack);
		if (err)
			return err;
	}
	for (i = 1; i <= XENBLK_C_MAX; i++) {
		if (!tb[i])
			continue;
		has[i] = 1;
		/* the policy fixed each attribute's type: its length tells it */
		switch (xbnl_config_policy[i].type) {
		case NLA_U8: val[i] = nla_get_u8(tb[i]); break;
		case NLA_U32: val[i] = nla_get_u32(tb[i]); break;
		case NLA_U64: val[i] = nla_get_u64(tb[i]); break;
		case NLA_NUL_STRING: str[i] = nla_data(tb[i]); break;
		default: break;
		}
	}
	err = xb_nl_set(xbnl_name(info), has, val, str, &why, &bad);
	if (err)
		xbnl_why(info, why, bad > 0 && bad <= XENBLK_C_MAX && tb[bad] ? tb[bad] :
			 info->attrs[XENBLK_A_NAME]);
	return err;
}

/* XENBLK_A_CONFIG is accepted only where the spec offers SET */
struct nla_policy xbnl_policy[XENBLK_A_MAX + 1] = {
	[XENBLK_A_NAME] = { .type = NLA_NUL_STRING, .len = 31 },
};

/* SET last: a family without it registers the first two (flags from the spec) */
struct genl_ops xbnl_ops[] = {
	{
		.cmd = XENBLK_CMD_DEV_GET,
		.doit = xbnl_get_doit,
		.dumpit = xbnl_get_dumpit,
	},
	{
		.cmd = XENBLK_CMD_STATS_RESET,
		.doit = xbnl_reset_doit,
	},
	{
		.cmd = XENBLK_CMD_DEV_SET,
		.doit = xbnl_set_doit,
	},
};
const unsigned int xbnl_n_ops = ARRAY_SIZE(xbnl_ops);

static const struct genl_multicast_group xbnl_mcgrps[] = {
	{ .name = XENBLK_GENL_MCGRP_EVENTS },
};

struct genl_family xbnl_family __ro_after_init = {
	.name = XBNL_FAMILY_NAME,
	.version = XENBLK_GENL_VERSION,
	.maxattr = XENBLK_A_MAX,
	.policy = xbnl_policy,
	.module = THIS_MODULE,
	.ops = xbnl_ops,
	.mcgrps = xbnl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(xbnl_mcgrps),
	/* 0: every command is strictly validated (unknown attributes, trailing data) */
	.resv_start_op = 0,
};
