// SPDX-License-Identifier: GPL-2.0
/*
 * nl_glue.c - generic netlink glue shared by both modules (nl_api.h).  Each
 * module compiles it once through kmod/<module>/nl.c, which defines
 * XBNL_FAMILY_NAME and XBNL_HAS_SET first.
 *
 * Kernel side only: the family and its policies, message construction, the
 * device list.  The handlers call into C++ (xb_nl_*) for every decision.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/capability.h>
#include <net/genetlink.h>

#include <xenblk/netlink.h>
#include "../rt/nl_api.h"

#ifndef XBNL_FAMILY_NAME
#error "define XBNL_FAMILY_NAME and XBNL_HAS_SET before including nl_glue.c"
#endif

#define XBNL_MAX_NEST 4

struct xbnl_msg {
	struct sk_buff *skb;
	void *hdr;
	u32 portid;
	u32 seq;
	int flags;
	u8 cmd;
	int depth;
	struct nlattr *nest[XBNL_MAX_NEST];
};

static struct genl_family xbnl_family;

/* ---- the device list ---- */

struct xbnl_dev {
	struct list_head node;
	void *dev;
	unsigned long serial;   /* increasing in list order: dumps resume by it */
};

static DEFINE_MUTEX(xbnl_mutex);
static unsigned long xbnl_next_serial;   /* under xbnl_mutex */
static LIST_HEAD(xbnl_devs);

void xbnl_lock(void)
{
	mutex_lock(&xbnl_mutex);
}

void xbnl_unlock(void)
{
	mutex_unlock(&xbnl_mutex);
}

int xbnl_dev_add(void *dev)
{
	struct xbnl_dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return -ENOMEM;
	d->dev = dev;
	mutex_lock(&xbnl_mutex);
	d->serial = xbnl_next_serial++;
	list_add_tail(&d->node, &xbnl_devs);
	mutex_unlock(&xbnl_mutex);
	return 0;
}

void xbnl_dev_del(void *dev)
{
	struct xbnl_dev *d, *tmp;

	mutex_lock(&xbnl_mutex);
	list_for_each_entry_safe(d, tmp, &xbnl_devs, node) {
		if (d->dev == dev) {
			list_del(&d->node);
			kfree(d);
			break;
		}
	}
	mutex_unlock(&xbnl_mutex);
}

void *xbnl_dev_from(unsigned long *serial)
{
	struct xbnl_dev *d;

	lockdep_assert_held(&xbnl_mutex);
	list_for_each_entry(d, &xbnl_devs, node) {
		if (d->serial >= *serial) {
			*serial = d->serial;
			return d->dev;
		}
	}
	return NULL;
}

/* ---- messages ---- */

int xbnl_begin(struct xbnl_msg *m)
{
	m->depth = 0;
	m->hdr = genlmsg_put(m->skb, m->portid, m->seq, &xbnl_family, m->flags, m->cmd);
	return m->hdr ? 0 : -EMSGSIZE;
}

void xbnl_end(struct xbnl_msg *m)
{
	WARN_ON_ONCE(m->depth);
	genlmsg_end(m->skb, m->hdr);
}

void xbnl_cancel(struct xbnl_msg *m)
{
	genlmsg_cancel(m->skb, m->hdr);
	m->depth = 0;
}

int xbnl_put_u8(struct xbnl_msg *m, unsigned short type, unsigned char v)
{
	return nla_put_u8(m->skb, type, v);
}

int xbnl_put_u32(struct xbnl_msg *m, unsigned short type, unsigned int v)
{
	return nla_put_u32(m->skb, type, v);
}

int xbnl_put_u64(struct xbnl_msg *m, unsigned short type, unsigned long long v, unsigned short pad)
{
	return nla_put_u64_64bit(m->skb, type, v, pad);
}

int xbnl_put_str(struct xbnl_msg *m, unsigned short type, const char *s)
{
	return nla_put_string(m->skb, type, s);
}

int xbnl_nest_start(struct xbnl_msg *m, unsigned short type)
{
	struct nlattr *n;

	if (m->depth >= XBNL_MAX_NEST)
		return -EMSGSIZE;
	n = nla_nest_start(m->skb, type);
	if (!n)
		return -EMSGSIZE;
	m->nest[m->depth++] = n;
	return 0;
}

void xbnl_nest_end(struct xbnl_msg *m)
{
	if (WARN_ON_ONCE(m->depth == 0))
		return;
	nla_nest_end(m->skb, m->nest[--m->depth]);
}

/* ---- events ---- */

struct xbnl_msg *xbnl_event_new(int atomic)
{
	gfp_t gfp = atomic ? GFP_ATOMIC : GFP_KERNEL;
	struct xbnl_msg *m;

	if (!genl_has_listeners(&xbnl_family, &init_net, 0))
		return NULL;
	m = kzalloc(sizeof(*m), gfp);
	if (!m)
		return NULL;
	m->skb = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!m->skb) {
		kfree(m);
		return NULL;
	}
	m->cmd = XENBLK_CMD_EVENT;
	if (xbnl_begin(m)) {
		nlmsg_free(m->skb);
		kfree(m);
		return NULL;
	}
	return m;
}

void xbnl_event_send(struct xbnl_msg *m, int atomic)
{
	genlmsg_end(m->skb, m->hdr);
	genlmsg_multicast(&xbnl_family, m->skb, 0, 0, atomic ? GFP_ATOMIC : GFP_KERNEL);
	kfree(m);
}

void xbnl_event_free(struct xbnl_msg *m)
{
	nlmsg_free(m->skb);
	kfree(m);
}

/* ---- handlers ---- */

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

#if XBNL_HAS_SET
static const struct nla_policy xbnl_config_policy[XENBLK_C_MAX + 1] = {
	[XENBLK_C_FLUSH_POLICY] = { .type = NLA_U8 },
	[XENBLK_C_MAX_QUEUES] = { .type = NLA_U32 },
	[XENBLK_C_MAX_RING_ORDER] = { .type = NLA_U32 },
	[XENBLK_C_PERSISTENT] = { .type = NLA_U8 },
	[XENBLK_C_DISCARD] = { .type = NLA_U8 },
};

static int xbnl_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[XENBLK_C_MAX + 1] = {};
	unsigned char has[XENBLK_C_MAX + 1] = {};
	unsigned int val[XENBLK_C_MAX + 1] = {};
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
		val[i] = nla_len(tb[i]) == 1 ? nla_get_u8(tb[i]) : nla_get_u32(tb[i]);
	}
	err = xb_nl_set(xbnl_name(info), has, val, &why, &bad);
	if (err)
		xbnl_why(info, why, bad > 0 && bad <= XENBLK_C_MAX && tb[bad] ? tb[bad] :
			 info->attrs[XENBLK_A_NAME]);
	return err;
}
#endif

static const struct nla_policy xbnl_policy[XENBLK_A_MAX + 1] = {
	[XENBLK_A_NAME] = { .type = NLA_NUL_STRING, .len = 31 },
#if XBNL_HAS_SET
	[XENBLK_A_CONFIG] = NLA_POLICY_NESTED(xbnl_config_policy),
#endif
};

static const struct genl_ops xbnl_ops[] = {
	{
		.cmd = XENBLK_CMD_DEV_GET,
		.doit = xbnl_get_doit,
		.dumpit = xbnl_get_dumpit,
	},
#if XBNL_HAS_SET
	{
		.cmd = XENBLK_CMD_DEV_SET,
		.doit = xbnl_set_doit,
		.flags = GENL_ADMIN_PERM,
	},
#endif
	{
		.cmd = XENBLK_CMD_STATS_RESET,
		.doit = xbnl_reset_doit,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group xbnl_mcgrps[] = {
	{ .name = XENBLK_GENL_MCGRP_EVENTS },
};

static struct genl_family xbnl_family __ro_after_init = {
	.name = XBNL_FAMILY_NAME,
	.version = XENBLK_GENL_VERSION,
	.maxattr = XENBLK_A_MAX,
	.policy = xbnl_policy,
	.module = THIS_MODULE,
	.ops = xbnl_ops,
	.n_ops = ARRAY_SIZE(xbnl_ops),
	.mcgrps = xbnl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(xbnl_mcgrps),
	/* 0: every command is strictly validated (unknown attributes, trailing data) */
	.resv_start_op = 0,
};

int xbnl_register(void)
{
	return genl_register_family(&xbnl_family);
}

void xbnl_unregister(void)
{
	genl_unregister_family(&xbnl_family);
}
