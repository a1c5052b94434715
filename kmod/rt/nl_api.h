/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl_api.h - the boundary between a module's generic netlink glue and its C++
 * side.  Plain C, no includes.  The calls go one way per file:
 *
 *   nl_family.c (the netlink core calls it)  ->  nl_handlers.cpp (C++)
 *   nl_handlers.cpp  ->  nl_services.c (registration, messages, device list)
 *
 * The glue checks attribute types against the policy and builds messages; the
 * C++ side decides everything else: what the family offers (struct
 * xbnl_spec), which device a request names, what is reported, whether a
 * setting is accepted and why not.  The drivers reach the handlers through a
 * report they register (nl_kernel.hpp), never the other way round.
 */
#ifndef XENBLK_NL_API_H
#define XENBLK_NL_API_H

#ifdef __cplusplus
extern "C" {
#endif

struct xbnl_msg;

/* ---- nl_family.c -> C++ (process context, genetlink's lock held) ----
 * why receives a sentence for the extended ACK (a string that lives as long as
 * the module); bad_attr a XENBLK_C_* attribute the refusal is about, or 0. */
int xb_nl_get(struct xbnl_msg *m, const char *name, const char **why);
/* Appends devices from *pos on; *pos is where the next call goes on.
 * 0 (done or message full) or -errno. */
int xb_nl_dump(struct xbnl_msg *m, unsigned long *pos);
/* has[i], val[i] for i = 1..XENBLK_C_MAX: the XENBLK_A_CONFIG nest (str[i]
 * for a string attribute, NULL otherwise) */
int xb_nl_set(const char *name, const unsigned char *has, const unsigned long long *val,
	      const char *const *str, const char **why, int *bad_attr);
int xb_nl_reset(const char *name, const char **why);

/* ---- C++ -> nl_services.c ---- */

/* What a family offers: decided by C++, applied when it is registered. */
#define XBNL_SPEC_CONFIG_SLOTS 32   /* > XENBLK_C_MAX */
#define XBNL_SPEC_STRING 0xff       /* config_bytes: a NUL-terminated string ... */
#define XBNL_SPEC_STRING_MAX 15     /* ... of at most this many characters */
#define XBNL_SPEC_CMD_SLOTS 8       /* > XENBLK_CMD_MAX */
struct xbnl_spec {
	int has_set;                                          /* XENBLK_CMD_DEV_SET exists */
	unsigned char admin_only[XBNL_SPEC_CMD_SLOTS];        /* by command: CAP_NET_ADMIN */
	unsigned char config_bytes[XBNL_SPEC_CONFIG_SLOTS];   /* by XENBLK_C_*: 1 u8, 4 u32, 8 u64,
								 XBNL_SPEC_STRING, 0 refused */
};
/* Registers the family (module init, before any request can arrive): 0 or -errno. */
int xbnl_register(const struct xbnl_spec *spec);
void xbnl_unregister(void);

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

#ifdef __cplusplus
}
#endif

#endif /* XENBLK_NL_API_H */
