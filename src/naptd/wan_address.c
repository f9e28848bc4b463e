/* SPDX-License-Identifier: BSD-2-Clause */
/* wan_address.c - Easy IP: the external address is the WAN interface's own, and follows it. */
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_log.h"
#include "host_handback.h"
#include "pcp_server.h"
#include "upnp_igd.h"
#include "route_setup.h"
#include "wan_address.h"

struct wan_address {
	struct naptd *d;
	struct nl_sock *events; /* member of RTNLGRP_IPV4_IFADDR */
	struct nl_sock *query;  /* address dumps */
	int ifindex;
	const char *ifname;
	uint32_t addr; /* in force: the engine's external[0], network order */
	bool lost;     /* the interface has no address: logged once */
};

static struct nl_sock *route_socket(char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;

	if (rc < 0) {
		snprintf(err, errlen, "netlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct primary_search {
	int ifindex;
	uint32_t addr; /* 0: none found yet */
};

/* The primary address: a secondary one (IFA_F_SECONDARY, an alias in the same subnet) is
 * not what the interface's own traffic leaves with. */
static void match_primary(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *ra = (struct rtnl_addr *)obj;
	struct primary_search *q = arg;
	struct nl_addr *local = rtnl_addr_get_local(ra);

	if (q->addr || rtnl_addr_get_ifindex(ra) != q->ifindex ||
	    rtnl_addr_get_family(ra) != AF_INET || !local ||
	    (rtnl_addr_get_flags(ra) & IFA_F_SECONDARY))
		return;
	memcpy(&q->addr, nl_addr_get_binary_addr(local), sizeof(q->addr));
}

/* *addr = the interface's primary IPv4 address, 0 when it has none. */
static int primary_address(struct nl_sock *sk, int ifindex, uint32_t *addr, char *err,
			   size_t errlen)
{
	struct primary_search q = {.ifindex = ifindex};
	struct nl_cache *cache;
	int rc = rtnl_addr_alloc_cache(sk, &cache);

	if (rc < 0) {
		snprintf(err, errlen, "cannot list addresses: %s", nl_geterror(rc));
		return -1;
	}
	nl_cache_foreach(cache, match_primary, &q);
	nl_cache_free(cache);
	*addr = q.addr;
	return 0;
}

static int interface_index(const char *name, char *err, size_t errlen)
{
	int ifindex = (int)if_nametoindex(name);

	if (!ifindex)
		snprintf(err, errlen, "external interface %s: no such interface", name);
	return ifindex;
}

int wan_address_fill(struct napt_config *cfg, char *err, size_t errlen)
{
	const char *name = cfg->daemon.external_interface;
	struct nl_sock *sk;
	uint32_t addr = 0;
	int ifindex, rc;

	if (!name[0])
		return 0;
	if (!(ifindex = interface_index(name, err, errlen)) || !(sk = route_socket(err, errlen)))
		return -1;
	rc = primary_address(sk, ifindex, &addr, err, errlen);
	nl_socket_free(sk);
	if (rc != 0)
		return -1;
	if (!addr || cfg->n_external == NAPT_MAX_EXTERNAL) {
		snprintf(err, errlen, "external interface %s: %s", name,
			 addr ? "too many external addresses" : "no IPv4 address");
		return -1;
	}
	memmove(&cfg->external[1], &cfg->external[0], cfg->n_external * sizeof(cfg->external[0]));
	cfg->external[0] = addr;
	cfg->n_external++;
	return 0;
}

struct wan_address *wan_address_open(struct naptd *d, char *err, size_t errlen)
{
	struct wan_address *w = calloc(1, sizeof(*w));
	int rc;

	if (!w) {
		snprintf(err, errlen, "external interface: out of memory");
		return NULL;
	}
	w->d = d;
	w->ifname = d->file_cfg.daemon.external_interface;
	w->addr = d->file_cfg.external[0];
	if (!(w->ifindex = interface_index(w->ifname, err, errlen)) ||
	    !(w->query = route_socket(err, errlen)) || !(w->events = route_socket(err, errlen))) {
		wan_address_close(w);
		return NULL;
	}
	/* Events carry sequence number 0; they answer no request of ours. */
	nl_socket_disable_seq_check(w->events);
	rc = nl_socket_add_membership(w->events, RTNLGRP_IPV4_IFADDR);
	if (rc == 0)
		rc = nl_socket_set_nonblocking(w->events);
	if (rc < 0) {
		snprintf(err, errlen, "address events: %s", nl_geterror(rc));
		wan_address_close(w);
		return NULL;
	}
	return w;
}

int wan_address_fd(const struct wan_address *w)
{
	return nl_socket_get_fd(w->events);
}

/* The routes and rules for the new address come, then those for the old one go. Routing
 * fails only if the kernel refuses; translation goes on either way. */
static void redo_routes(struct wan_address *w)
{
	struct naptd *d = w->d;
	char err[512];

	if (d->routes &&
	    route_setup_remake(&d->routes, napt_get_config(d->nat), &d->tun, err, sizeof(err)) != 0)
		daemon_log(LOG_ERR,
			   "external interface %s: no routing for the new address, the old one "
			   "stays: %s",
			   w->ifname, err);
}

static void address_changed(struct wan_address *w, uint32_t addr)
{
	char old[INET_ADDRSTRLEN], now[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &w->addr, old, sizeof(old));
	inet_ntop(AF_INET, &addr, now, sizeof(now));
	if (napt_external_replace(w->d->nat, w->addr, addr) != 0) {
		daemon_log(LOG_ERR,
			   "external interface %s: new address %s is inside or already in use; "
			   "still translating to %s",
			   w->ifname, now, old);
		return;
	}
	w->addr = addr;
	w->d->file_cfg.external[0] = addr;
	daemon_log(LOG_NOTICE,
		   "external interface %s: address %s -> %s; the mappings on %s are dropped",
		   w->ifname, old, now, old);
	redo_routes(w);
	pcp_server_address_changed(w->d->pcp);
	upnp_igd_address_changed(w->d->upnp);
}

void wan_address_dispatch(struct wan_address *w)
{
	char err[256];
	uint32_t addr;

	/* The events only say that something changed: the address is read afresh, so an
	 * event lost to a full socket buffer loses nothing. */
	while (nl_recvmsgs_default(w->events) == 0)
		;
	if (primary_address(w->query, w->ifindex, &addr, err, sizeof(err)) != 0) {
		daemon_log(LOG_WARNING, "external interface %s: %s", w->ifname, err);
		return;
	}
	if (!addr && !w->lost)
		daemon_log(LOG_WARNING,
			   "external interface %s has no IPv4 address: waiting for one", w->ifname);
	w->lost = !addr;
	if (addr && addr != w->addr)
		address_changed(w, addr);
}

bool wan_address_hands_back(const struct wan_address *w, const struct napt_config *cfg,
			    const struct napt_packet *p, const struct napt_result *r)
{
	return w && host_handback_takes(w->addr, cfg, p, r);
}

void wan_address_close(struct wan_address *w)
{
	if (!w)
		return;
	nl_socket_free(w->events);
	nl_socket_free(w->query);
	free(w);
}
