/* SPDX-License-Identifier: BSD-2-Clause */
/* rule_dump.c - list naptd's rules from the kernel's RTM_NEWRULE messages, and delete the
 * rules with its protocol that it never makes. */
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon_log.h"
#include "rule_dump.h"

/* Linux 6.15 on reports a rule with a single destination port with a full port mask as well
 * (FRA_DPORT_MASK 0xffff, unknown to older headers): naptd's single-port local-service and
 * DHCP client rules carry it. */
#ifndef FRA_DPORT_MASK
#define FRA_DPORT_MASK 29
#endif

/* Foreign rules deleted per round; any more are found again by the next round. */
#define FOREIGN_MAX 32
/* Each round deletes at least one rule; a kernel rule list that keeps changing under us
 * (or a delete that never succeeds) ends the start rather than looping. */
#define ROUNDS_MAX 16

struct rule_list {
	uint8_t proto;
	struct nl_cache *own;
	struct nlmsghdr *foreign[FOREIGN_MAX]; /* copies of the kernel's messages */
	unsigned n_foreign, n_found;           /* kept, and found (kept or not) */
	int error;                             /* a libnl error while parsing, else 0 */
};

/* Whether nlh describes a rule naptd can have made: the attributes of its rules only (the
 * kernel adds a table and suppress_prefixlen -1 to each), no flags but "iif not present". */
static bool naptd_made(struct nlmsghdr *nlh)
{
	const struct fib_rule_hdr *frh = nlmsg_data(nlh);
	struct nlattr *a;
	int rem;

	if (frh->tos || (frh->flags & ~(uint32_t)FIB_RULE_IIF_DETACHED))
		return false;
	nlmsg_for_each_attr(a, nlh, sizeof(*frh), rem)
	{
		switch (nla_type(a)) {
		case FRA_DST:
		case FRA_SRC:
		case FRA_IIFNAME:
		case FRA_PRIORITY:
		case FRA_TABLE:
		case FRA_PROTOCOL:
		case FRA_IP_PROTO:
		case FRA_DPORT_RANGE:
			break;
		case FRA_DPORT_MASK:
			if (nla_len(a) != 2 || nla_get_u16(a) != UINT16_MAX)
				return false;
			break;
		case FRA_SUPPRESS_PREFIXLEN:
			if (nla_len(a) != 4 || nla_get_u32(a) != UINT32_MAX)
				return false;
			break;
		default: /* a fwmark, oif, goto, uid range... or one newer than this code */
			return false;
		}
	}
	return true;
}

static void add_own(struct nl_object *obj, void *arg)
{
	struct rule_list *l = arg;
	int rc = nl_cache_add(l->own, obj);

	if (rc < 0)
		l->error = rc;
}

static void keep_foreign(struct rule_list *l, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *copy;

	l->n_found++;
	if (l->n_foreign < FOREIGN_MAX && (copy = malloc(nlh->nlmsg_len))) {
		memcpy(copy, nlh, nlh->nlmsg_len);
		l->foreign[l->n_foreign++] = copy;
	}
}

static int on_rule(struct nl_msg *msg, void *arg)
{
	struct rule_list *l = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	const struct nlattr *p;
	int rc;

	if (nlh->nlmsg_type != RTM_NEWRULE || !nlmsg_valid_hdr(nlh, sizeof(struct fib_rule_hdr)))
		return NL_SKIP;
	p = nlmsg_find_attr(nlh, sizeof(struct fib_rule_hdr), FRA_PROTOCOL);
	if (!p || nla_len(p) != 1 || nla_get_u8(p) != l->proto)
		return NL_SKIP;
	if (!naptd_made(nlh)) {
		keep_foreign(l, nlh);
		return NL_SKIP;
	}
	rc = nl_msg_parse(msg, add_own, l);
	if (rc < 0)
		l->error = rc;
	return NL_SKIP;
}

/* One dump of the IPv4 rules into l. Returns the libnl result. */
static int dump_rules(struct nl_sock *sk, struct rule_list *l)
{
	struct fib_rule_hdr frh = {.family = AF_INET};
	struct nl_cb *s = nl_socket_get_cb(sk), *cb = nl_cb_clone(s);
	int rc = -NLE_NOMEM;

	nl_cb_put(s);
	if (cb) {
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_rule, l);
		rc = nl_send_simple(sk, RTM_GETRULE, NLM_F_DUMP, &frh, sizeof(frh));
		if (rc >= 0)
			rc = nl_recvmsgs(sk, cb);
		nl_cb_put(cb);
	}
	return rc < 0 ? rc : l->error;
}

/* Deleted with the kernel's own description of the rule, so that it matches on every
 * selector the rule has, not only on those libnl knows. */
static void delete_foreign(struct nl_sock *sk, struct nlmsghdr *nlh)
{
	const struct fib_rule_hdr *frh = nlmsg_data(nlh);
	const struct nlattr *pref = nlmsg_find_attr(nlh, sizeof(*frh), FRA_PRIORITY);
	int rc = nl_send_simple(sk, RTM_DELRULE, 0, nlmsg_data(nlh), nlmsg_datalen(nlh));

	if (rc >= 0)
		rc = nl_wait_for_ack(sk);
	daemon_log(rc < 0 ? LOG_WARNING : LOG_NOTICE,
		   "rule pref %u with naptd's protocol but flags 0x%x, tos %u or a selector "
		   "naptd never sets: %s",
		   pref && nla_len(pref) == 4 ? nla_get_u32(pref) : 0u, frh->flags, frh->tos,
		   rc < 0 ? nl_geterror(rc) : "removed");
}

int rule_dump_own(struct nl_sock *sk, uint8_t proto, struct nl_cache **rules, char *err,
		  size_t errlen)
{
	int rc = 0;

	for (unsigned round = 0; round < ROUNDS_MAX; round++) {
		struct rule_list l = {.proto = proto};

		rc = nl_cache_alloc_name("route/rule", &l.own);
		if (rc >= 0)
			rc = dump_rules(sk, &l);
		for (unsigned i = 0; i < l.n_foreign; i++) {
			delete_foreign(sk, l.foreign[i]);
			free(l.foreign[i]);
		}
		/* Deleted by its selectors, a foreign rule may have taken a copy of naptd's
		 * along (the kernel ignores the flags): the list is read again. */
		if (rc >= 0 && l.n_found == 0) {
			*rules = l.own;
			return 0;
		}
		nl_cache_free(l.own);
		if (rc < 0 && rc != -NLE_DUMP_INTR)
			break;
	}
	snprintf(err, errlen, "cannot list the rules with protocol %u: %s", proto,
		 rc < 0 ? nl_geterror(rc) : "rules naptd never makes cannot be removed");
	return -1;
}
