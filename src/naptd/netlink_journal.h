/* SPDX-License-Identifier: BSD-2-Clause */
/* netlink_journal.h - add routes, rules and neighbour entries, and remember each one, so
 * naptd removes exactly what it added, newest first, and nothing else. */
#ifndef NETLINK_JOURNAL_H
#define NETLINK_JOURNAL_H

#include <stddef.h>

struct nl_sock;
struct rtnl_route;
struct rtnl_rule;
struct rtnl_neigh;
struct netlink_journal;

/* Opens its own rtnetlink socket. NULL with the reason in err. */
struct netlink_journal *netlink_journal_open(char *err, size_t errlen);
struct nl_sock *netlink_journal_sock(struct netlink_journal *j);

/* Add with NLM_F_CREATE | NLM_F_EXCL (an entry that already exists is an error, so we never
 * claim one the administrator made) and record it. what names it in messages. Each returns
 * 0, or -1 with the reason in err. */
int netlink_journal_add_route(struct netlink_journal *j, struct rtnl_route *r, const char *what,
			      char *err, size_t errlen);
int netlink_journal_add_rule(struct netlink_journal *j, struct rtnl_rule *r, const char *what,
			     char *err, size_t errlen);
int netlink_journal_add_neigh(struct netlink_journal *j, struct rtnl_neigh *n, const char *what,
			      char *err, size_t errlen);

/* Record, without adding, an entry the kernel already holds: one a killed naptd left that is
 * exactly what this one would add (route_setup.c takes it over, so there is no moment
 * without it). 0, or -1 with the reason in err. */
int netlink_journal_adopt_route(struct netlink_journal *j, struct rtnl_route *r, const char *what,
				char *err, size_t errlen);
int netlink_journal_adopt_rule(struct netlink_journal *j, struct rtnl_rule *r, const char *what,
			       char *err, size_t errlen);

/* Forget the entries recorded by netlink_journal_adopt_*: netlink_journal_close leaves them
 * in the kernel. A start that fails keeps a killed naptd's leftovers in force (fail closed,
 * route_setup.c) and undoes only what it added itself. */
void netlink_journal_forget_adopted(struct netlink_journal *j);

/* Undo everything and free. */
void netlink_journal_close(struct netlink_journal *j);
/* Free without undoing: the entries stay in the kernel (another journal took them over). */
void netlink_journal_forget(struct netlink_journal *j);

#endif
