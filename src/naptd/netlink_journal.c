/* SPDX-License-Identifier: BSD-2-Clause */
/* netlink_journal.c - a stack of what naptd added through rtnetlink. */
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon_log.h"
#include "netlink_journal.h"

enum journal_kind { JOURNAL_ROUTE, JOURNAL_RULE, JOURNAL_NEIGH };

struct journal_entry {
	enum journal_kind kind;
	struct nl_object *obj; /* a reference of our own */
	bool adopted;          /* found in the kernel, not added (netlink_journal_adopt_*) */
	char what[96];
};

struct netlink_journal {
	struct nl_sock *sk;
	struct journal_entry *entries;
	size_t n, cap;
};

struct netlink_journal *netlink_journal_open(char *err, size_t errlen)
{
	struct netlink_journal *j = calloc(1, sizeof(*j));
	int rc;

	if (!j || !(j->sk = nl_socket_alloc())) {
		snprintf(err, errlen, "netlink: out of memory");
		free(j);
		return NULL;
	}
	rc = nl_connect(j->sk, NETLINK_ROUTE);
	if (rc < 0) {
		snprintf(err, errlen, "netlink: %s", nl_geterror(rc));
		nl_socket_free(j->sk);
		free(j);
		return NULL;
	}
	return j;
}

struct nl_sock *netlink_journal_sock(struct netlink_journal *j)
{
	return j->sk;
}

static int journal_push(struct netlink_journal *j, enum journal_kind kind, struct nl_object *obj,
			bool adopted, const char *what, char *err, size_t errlen)
{
	struct journal_entry *e;

	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 32;
		e = realloc(j->entries, cap * sizeof(*e));
		if (!e) {
			snprintf(err, errlen, "%s: out of memory", what);
			return -1;
		}
		j->entries = e;
		j->cap = cap;
	}
	e = &j->entries[j->n++];
	e->kind = kind;
	e->obj = obj;
	e->adopted = adopted;
	nl_object_get(obj);
	snprintf(e->what, sizeof(e->what), "%s", what);
	return 0;
}

static int journal_delete(struct nl_sock *sk, enum journal_kind kind, struct nl_object *obj)
{
	switch (kind) {
	case JOURNAL_ROUTE:
		return rtnl_route_delete(sk, (struct rtnl_route *)obj, 0);
	case JOURNAL_RULE:
		return rtnl_rule_delete(sk, (struct rtnl_rule *)obj, 0);
	case JOURNAL_NEIGH:
		return rtnl_neigh_delete(sk, (struct rtnl_neigh *)obj, 0);
	}
	return -NLE_INVAL;
}

/* rc is the libnl result of the add; on success the entry is recorded, and if recording
 * fails the entry is taken back out so the kernel holds nothing we forgot. */
static int journal_added(struct netlink_journal *j, enum journal_kind kind, struct nl_object *obj,
			 int rc, const char *what, char *err, size_t errlen)
{
	if (rc < 0) {
		snprintf(err, errlen, "cannot add %s: %s", what, nl_geterror(rc));
		return -1;
	}
	if (journal_push(j, kind, obj, false, what, err, errlen) == 0)
		return 0;
	journal_delete(j->sk, kind, obj);
	return -1;
}

int netlink_journal_add_route(struct netlink_journal *j, struct rtnl_route *r, const char *what,
			      char *err, size_t errlen)
{
	int rc = rtnl_route_add(j->sk, r, NLM_F_EXCL);

	return journal_added(j, JOURNAL_ROUTE, (struct nl_object *)r, rc, what, err, errlen);
}

int netlink_journal_add_rule(struct netlink_journal *j, struct rtnl_rule *r, const char *what,
			     char *err, size_t errlen)
{
	int rc = rtnl_rule_add(j->sk, r, NLM_F_EXCL);

	return journal_added(j, JOURNAL_RULE, (struct nl_object *)r, rc, what, err, errlen);
}

int netlink_journal_add_neigh(struct netlink_journal *j, struct rtnl_neigh *n, const char *what,
			      char *err, size_t errlen)
{
	int rc = rtnl_neigh_add(j->sk, n, NLM_F_CREATE | NLM_F_EXCL);

	return journal_added(j, JOURNAL_NEIGH, (struct nl_object *)n, rc, what, err, errlen);
}

int netlink_journal_adopt_route(struct netlink_journal *j, struct rtnl_route *r, const char *what,
				char *err, size_t errlen)
{
	return journal_push(j, JOURNAL_ROUTE, (struct nl_object *)r, true, what, err, errlen);
}

int netlink_journal_adopt_rule(struct netlink_journal *j, struct rtnl_rule *r, const char *what,
			       char *err, size_t errlen)
{
	return journal_push(j, JOURNAL_RULE, (struct nl_object *)r, true, what, err, errlen);
}

static void journal_remove(struct netlink_journal *j, struct journal_entry *e)
{
	int rc = journal_delete(j->sk, e->kind, e->obj);

	/* A route through the TUN goes away with the device: nothing left to remove. */
	if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV)
		daemon_log(LOG_WARNING, "cannot remove %s: %s", e->what, nl_geterror(rc));
	nl_object_put(e->obj);
}

void netlink_journal_forget_adopted(struct netlink_journal *j)
{
	size_t kept = 0;

	for (size_t i = 0; i < j->n; i++) {
		if (j->entries[i].adopted)
			nl_object_put(j->entries[i].obj);
		else
			j->entries[kept++] = j->entries[i];
	}
	j->n = kept;
}

void netlink_journal_close(struct netlink_journal *j)
{
	if (!j)
		return;
	while (j->n > 0)
		journal_remove(j, &j->entries[--j->n]);
	free(j->entries);
	nl_socket_free(j->sk);
	free(j);
}

void netlink_journal_forget(struct netlink_journal *j)
{
	if (!j)
		return;
	while (j->n > 0)
		nl_object_put(j->entries[--j->n].obj);
	free(j->entries);
	nl_socket_free(j->sk);
	free(j);
}
