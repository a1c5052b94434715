/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl_msg.h - what the two C files of a module's generic netlink glue share
 * (nl_family.c: the family and its handlers; nl_services.c: what C++ calls).
 * Kernel headers: C only.
 */
#ifndef XENBLK_NL_MSG_H
#define XENBLK_NL_MSG_H

#include <net/genetlink.h>

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

/* nl_family.c: the family, its commands and policies; nl_services.c applies
 * the C++ side's struct xbnl_spec to them when it registers the family */
extern struct genl_family xbnl_family;
extern struct genl_ops xbnl_ops[];
extern const unsigned int xbnl_n_ops;
extern struct nla_policy xbnl_config_policy[];
extern struct nla_policy xbnl_policy[];

#endif /* XENBLK_NL_MSG_H */
