// SPDX-License-Identifier: GPL-2.0
/*
 * nl_services.c - the services side of a module's generic netlink glue
 * (nl_api.h): what the C++ side calls.  Registering the family with what the
 * C++ side decided it offers (struct xbnl_spec), message construction, events
 * to the multicast group, the device list.  Each module compiles it once
 * through kmod/<module>/nl_services.c.  It calls no C++.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <net/genetlink.h>

#include <xenblk/netlink.h>
#include "../rt/nl_api.h"
#include "../rt/nl_msg.h"

/* ---- the family ---- */

int xbnl_register(const struct xbnl_spec *spec)
{
	unsigned int i;

	BUILD_BUG_ON(XENBLK_C_MAX >= XBNL_SPEC_CONFIG_SLOTS);
	for (i = 1; i <= XENBLK_C_MAX; i++) {
		switch (spec->config_bytes[i]) {
		case 1: xbnl_config_policy[i].type = NLA_U8; break;
		case 4: xbnl_config_policy[i].type = NLA_U32; break;
		case 8: xbnl_config_policy[i].type = NLA_U64; break;
		case XBNL_SPEC_STRING:
			xbnl_config_policy[i].type = NLA_NUL_STRING;
			xbnl_config_policy[i].len = XBNL_SPEC_STRING_MAX;
			break;
		default: xbnl_config_policy[i].type = NLA_UNSPEC; break;
		}
	}
	if (spec->has_set) {
		xbnl_policy[XENBLK_A_CONFIG].type = NLA_NESTED;
		xbnl_policy[XENBLK_A_CONFIG].nested_policy = xbnl_config_policy;
		xbnl_policy[XENBLK_A_CONFIG].len = XENBLK_C_MAX;
	}
	for (i = 0; i < xbnl_n_ops; i++) {
		const u8 cmd = xbnl_ops[i].cmd;

		if (cmd < XBNL_SPEC_CMD_SLOTS && spec->admin_only[cmd])
			xbnl_ops[i].flags |= GENL_ADMIN_PERM;
	}
	/* the ops array ends with DEV_SET */
	xbnl_family.n_ops = spec->has_set ? xbnl_n_ops : xbnl_n_ops - 1;
	return genl_register_family(&xbnl_family);
}

void xbnl_unregister(void)
{
	genl_unregister_family(&xbnl_family);
}

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
