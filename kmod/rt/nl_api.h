/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl_api.h - the boundary between a module's generic netlink glue (nl_glue.c,
 * kernel headers) and its C++ handlers.  Plain C, no includes.
 *
 * The glue registers the family, checks attribute types against the policy and
 * builds messages; the C++ side decides everything else: which device a request
 * names, what is reported, whether a setting is accepted and why not.  It also
 * keeps the module's device list (a mutex and a list of opaque C++ devices).
 */
#ifndef XENBLK_NL_API_H
#define XENBLK_NL_API_H

#ifdef __cplusplus
extern "C" {
#endif

struct xbnl_msg;

/* ---- glue -> C++ (process context, genetlink's lock held) ----
 * why receives a sentence for the extended ACK (a string that lives as long as
 * the module); bad_attr a XENBLK_C_* attribute the refusal is about, or 0. */
int xb_nl_get(struct xbnl_msg *m, const char *name, const char **why);
/* Appends devices from *pos on; *pos is where the next call goes on.
 * 0 (done or message full) or -errno. */
int xb_nl_dump(struct xbnl_msg *m, unsigned long *pos);
/* has[i], val[i] for i = 1..XENBLK_C_MAX: the XENBLK_A_CONFIG nest */
int xb_nl_set(const char *name, const unsigned char *has, const unsigned int *val,
	      const char **why, int *bad_attr);
int xb_nl_reset(const char *name, const char **why);

/* ---- C++ -> glue ---- */
/* One message (genlmsg_put) in m; 0 or -EMSGSIZE.  Then put attributes and end it,
 * or cancel it (everything since xbnl_begin is dropped). */
int xbnl_begin(struct xbnl_msg *m);
void xbnl_end(struct xbnl_msg *m);
void xbnl_cancel(struct xbnl_msg *m);
/* 0 or -EMSGSIZE */
int xbnl_put_u8(struct xbnl_msg *m, unsigned short type, unsigned char v);
int xbnl_put_u32(struct xbnl_msg *m, unsigned short type, unsigned int v);
int xbnl_put_u64(struct xbnl_msg *m, unsigned short type, unsigned long long v, unsigned short pad);
int xbnl_put_str(struct xbnl_msg *m, unsigned short type, const char *s);
int xbnl_nest_start(struct xbnl_msg *m, unsigned short type);
void xbnl_nest_end(struct xbnl_msg *m);

/* Events to the multicast group.  atomic: called where sleeping is not allowed.
 * NULL when nobody listens or memory is short (events are best effort). */
struct xbnl_msg *xbnl_event_new(int atomic);
void xbnl_event_send(struct xbnl_msg *m, int atomic);
void xbnl_event_free(struct xbnl_msg *m);

/* The device list (a mutex: process context only).  dev_at and the devices it
 * returns are valid while the lock is held; dev_del waits for readers. */
void xbnl_lock(void);
void xbnl_unlock(void);
int xbnl_dev_add(void *dev);          /* 0 or -ENOMEM */
void xbnl_dev_del(void *dev);
/* Each device gets a serial when added, increasing in list order.  dev_from:
 * the first device whose serial is >= *serial (lock held), *serial set to
 * its serial; NULL when there is none.  A dump resumes from the serial after
 * the last device it reported, so devices added or removed between its
 * messages are never skipped nor repeated. */
void *xbnl_dev_from(unsigned long *serial);

/* module init / exit (glue.c) */
int xbnl_register(void);
void xbnl_unregister(void);

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_NL_API_H */
