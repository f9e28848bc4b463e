/* SPDX-License-Identifier: BSD-2-Clause */
/* route_setup.c - which routes, rules and neighbour entries naptd adds, and in what order. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_log.h"
#include "netlink_journal.h"
#include "route_setup.h"
#include "rule_dump.h"
#include "sysctl_record.h"
#include "sysctl_setting.h"

struct route_setup {
	struct netlink_journal *journal;
	/* During start, what a naptd that did not exit left (protocol ROUTE_PROTO): taken over
	 * where this one makes the same entry, removed once set-up is complete. */
	struct nl_cache *stale_rules, *stale_routes;
	bool pref0;  /* rules at priority 0, ahead of the local rule (put_local_rule_last) */
	bool remake; /* made over the routing of the running naptd (route_setup_remake) */
	struct tun_device tun;
	int wan_ifindex; /* 0: no wan-interface, no proxy neighbour entries */
	struct sysctl_setting ip_forward, rp_filter, accept_local, local_ports, tcp_demux,
	    udp_demux;
	struct sysctl_record record; /* the values of the last four from before naptd */
};

/* addr in network order. NULL when out of memory. */
static struct nl_addr *ipv4_addr(uint32_t addr, unsigned prefixlen)
{
	struct nl_addr *a = nl_addr_build(AF_INET, &addr, sizeof(addr));

	if (a)
		nl_addr_set_prefixlen(a, (int)prefixlen);
	return a;
}

static const char *ipv4_str(uint32_t addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

/* Whether the stale entry a (a route) is the route b that set-up is about to add. */
static bool same_route(struct nl_object *a, struct nl_object *b)
{
	struct rtnl_route *x = (struct rtnl_route *)a, *y = (struct rtnl_route *)b;

	return rtnl_route_get_table(x) == rtnl_route_get_table(y) &&
	       rtnl_route_get_type(x) == rtnl_route_get_type(y) &&
	       rtnl_route_get_priority(x) == rtnl_route_get_priority(y) &&
	       nl_addr_cmp_prefix(rtnl_route_get_dst(x), rtnl_route_get_dst(y)) == 0;
}

/* Whether the stale entry a (a rule) is the rule b: all that naptd's rules set (a has no
 * other selector, flag or action: rule_dump_own). */
static bool same_rule(struct nl_object *a, struct nl_object *b)
{
	struct rtnl_rule *x = (struct rtnl_rule *)a, *y = (struct rtnl_rule *)b;
	const char *ix = rtnl_rule_get_iif(x), *iy = rtnl_rule_get_iif(y);
	uint8_t px = 0, py = 0;
	uint16_t lx = 0, hx = 0, ly = 0, hy = 0;

	rtnl_rule_get_ipproto(x, &px);
	rtnl_rule_get_ipproto(y, &py);
	rtnl_rule_get_dport(x, &lx, &hx);
	rtnl_rule_get_dport(y, &ly, &hy);
	return rtnl_rule_get_prio(x) == rtnl_rule_get_prio(y) &&
	       rtnl_rule_get_table(x) == rtnl_rule_get_table(y) &&
	       rtnl_rule_get_action(x) == rtnl_rule_get_action(y) &&
	       strcmp(ix ? ix : "", iy ? iy : "") == 0 &&
	       nl_addr_cmp(rtnl_rule_get_src(x), rtnl_rule_get_src(y)) == 0 &&
	       nl_addr_cmp(rtnl_rule_get_dst(x), rtnl_rule_get_dst(y)) == 0 && px == py &&
	       lx == ly && hx == hy;
}

struct stale_search {
	struct nl_object *want, *found;
	bool (*same)(struct nl_object *stale, struct nl_object *want);
};

static void match_stale(struct nl_object *obj, void *arg)
{
	struct stale_search *q = arg;

	if (!q->found && q->same(obj, q->want))
		q->found = obj;
}

/* Whether stale holds an entry the same as want; that one leaves stale (it is ours again). */
static bool take_stale(struct nl_cache *stale, struct nl_object *want,
		       bool (*same)(struct nl_object *, struct nl_object *))
{
	struct stale_search q = {want, NULL, same};

	if (stale)
		nl_cache_foreach(stale, match_stale, &q);
	if (q.found)
		nl_cache_remove(q.found);
	return q.found != NULL;
}

/* Add r, or take over the same route left by a naptd that did not exit: that one is never
 * missing, not even for a moment. */
static int journal_route(struct route_setup *rs, struct rtnl_route *r, const char *what, char *err,
			 size_t errlen)
{
	if (take_stale(rs->stale_routes, (struct nl_object *)r, same_route))
		return netlink_journal_adopt_route(rs->journal, r, what, err, errlen);
	return netlink_journal_add_route(rs->journal, r, what, err, errlen);
}

/* A route of naptd's to dst/prefixlen in table. NULL when out of memory. */
static struct rtnl_route *new_route(uint32_t dst, unsigned prefixlen, uint32_t table)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct nl_addr *a = ipv4_addr(dst, prefixlen);

	if (r && a) {
		rtnl_route_set_family(r, AF_INET);
		rtnl_route_set_table(r, table);
		rtnl_route_set_protocol(r, ROUTE_PROTO);
		rtnl_route_set_dst(r, a);
	} else {
		rtnl_route_put(r);
		r = NULL;
	}
	nl_addr_put(a);
	return r;
}

/* dst/prefixlen dev TUN in table [src prefsrc]; prefsrc 0 for none. */
static int add_tun_route(struct route_setup *rs, uint32_t dst, unsigned prefixlen, uint32_t table,
			 uint32_t prefsrc, char *err, size_t errlen)
{
	struct rtnl_route *r = new_route(dst, prefixlen, table);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *src = prefsrc ? ipv4_addr(prefsrc, 32) : NULL;
	char what[128], ip[INET_ADDRSTRLEN], sip[INET_ADDRSTRLEN];

	int rc = -1;

	snprintf(what, sizeof(what), "route %s/%u dev %s table %u%s%s", ipv4_str(dst, ip),
		 prefixlen, rs->tun.name, table, prefsrc ? " src " : "",
		 prefsrc ? ipv4_str(prefsrc, sip) : "");
	if (r && nh && (src || !prefsrc)) {
		if (src)
			rtnl_route_set_pref_src(r, src);
		rtnl_route_nh_set_ifindex(nh, rs->tun.ifindex);
		rtnl_route_add_nexthop(r, nh);
		nh = NULL; /* the route owns it now */
		rc = journal_route(rs, r, what, err, errlen);
	} else {
		snprintf(err, errlen, "%s: out of memory", what);
	}
	if (nh) /* rtnl_route_nh_free() does not take NULL */
		rtnl_route_nh_free(nh);
	nl_addr_put(src);
	rtnl_route_put(r);
	return rc;
}

/* unreachable dst/prefixlen in table, metric ROUTE_METRIC_CLOSED: behind the route into the
 * TUN while naptd runs, the only route left when naptd was killed (its TUN routes go with
 * the device), so that traffic meant for the NAT is refused (ICMP host unreachable) rather
 * than forwarded by the next rule or table untranslated. Removed only by a clean exit. */
static int add_closed_route(struct route_setup *rs, uint32_t dst, unsigned prefixlen,
			    uint32_t table, char *err, size_t errlen)
{
	struct rtnl_route *r = new_route(dst, prefixlen, table);
	char what[96], ip[INET_ADDRSTRLEN];
	int rc = -1;

	snprintf(what, sizeof(what), "route unreachable %s/%u table %u metric %u",
		 ipv4_str(dst, ip), prefixlen, table, ROUTE_METRIC_CLOSED);
	if (r) {
		rtnl_route_set_type(r, RTN_UNREACHABLE);
		rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
		rtnl_route_set_priority(r, ROUTE_METRIC_CLOSED);
		rc = journal_route(rs, r, what, err, errlen);
	} else {
		snprintf(err, errlen, "%s: out of memory", what);
	}
	rtnl_route_put(r);
	return rc;
}

/* One policy rule: [iif IF] [from SRC] [to DST] [ipproto P [dport LO-HI]] lookup TABLE |
 * blackhole, pref PREF. */
struct rule_spec {
	const char *iif;                     /* NULL: any */
	const struct napt_prefix *src, *dst; /* NULL: any */
	uint32_t table;                      /* 0: blackhole */
	uint32_t pref;
	uint8_t ipproto;             /* 0: any */
	uint16_t dport_lo, dport_hi; /* dport_lo 0: any port; set only with ipproto */
};

static void rule_text(const struct rule_spec *rs, char *buf, size_t len)
{
	char sip[INET_ADDRSTRLEN], dip[INET_ADDRSTRLEN], ports[24] = "", match[48] = "", act[32];

	if (rs->dport_lo)
		snprintf(ports, sizeof(ports), " dport %u-%u", rs->dport_lo, rs->dport_hi);
	if (rs->ipproto)
		snprintf(match, sizeof(match), " ipproto %u%s", rs->ipproto, ports);
	if (rs->table)
		snprintf(act, sizeof(act), "lookup %u", rs->table);
	else
		snprintf(act, sizeof(act), "blackhole");
	snprintf(buf, len, "rule%s%s from %s/%u to %s/%u%s %s pref %u", rs->iif ? " iif " : "",
		 rs->iif ? rs->iif : "", rs->src ? ipv4_str(rs->src->addr, sip) : "0.0.0.0",
		 rs->src ? rs->src->len : 0u, rs->dst ? ipv4_str(rs->dst->addr, dip) : "0.0.0.0",
		 rs->dst ? rs->dst->len : 0u, match, act, rs->pref);
}

/* What r matches: all that spec names (s and d: its addresses, NULL for any). */
static void set_rule_match(struct rtnl_rule *r, const struct rule_spec *spec, struct nl_addr *s,
			   struct nl_addr *d)
{
	if (spec->iif)
		rtnl_rule_set_iif(r, spec->iif);
	if (s)
		rtnl_rule_set_src(r, s);
	if (d)
		rtnl_rule_set_dst(r, d);
	if (spec->ipproto)
		rtnl_rule_set_ipproto(r, spec->ipproto);
	if (spec->dport_lo)
		rtnl_rule_set_dport_range(r, spec->dport_lo, spec->dport_hi);
}

/* Add r, or take over the same rule left by a naptd that did not exit. */
static int journal_rule(struct route_setup *rs, struct rtnl_rule *r, const char *what, char *err,
			size_t errlen)
{
	/* Kept or new, a rule at priority 0 must end up ahead of the local rule. */
	rs->pref0 |= rtnl_rule_get_prio(r) == 0;
	if (take_stale(rs->stale_rules, (struct nl_object *)r, same_rule))
		return netlink_journal_adopt_rule(rs->journal, r, what, err, errlen);
	return netlink_journal_add_rule(rs->journal, r, what, err, errlen);
}

static int add_rule(struct route_setup *rs, const struct rule_spec *spec, char *err, size_t errlen)
{
	struct rtnl_rule *r = rtnl_rule_alloc();
	struct nl_addr *s = spec->src ? ipv4_addr(spec->src->addr, spec->src->len) : NULL;
	struct nl_addr *d = spec->dst ? ipv4_addr(spec->dst->addr, spec->dst->len) : NULL;
	char what[160];
	int rc = -1;

	rule_text(spec, what, sizeof(what));
	if (r && (s || !spec->src) && (d || !spec->dst)) {
		rtnl_rule_set_family(r, AF_INET);
		rtnl_rule_set_prio(r, spec->pref);
		set_rule_match(r, spec, s, d);
		if (spec->table) {
			rtnl_rule_set_table(r, spec->table);
			rtnl_rule_set_action(r, FR_ACT_TO_TBL);
		} else {
			rtnl_rule_set_action(r, FR_ACT_BLACKHOLE);
		}
		rtnl_rule_set_protocol(r, ROUTE_PROTO);
		rc = journal_rule(rs, r, what, err, errlen);
	} else {
		snprintf(err, errlen, "%s: out of memory", what);
	}
	nl_addr_put(s);
	nl_addr_put(d);
	rtnl_rule_put(r);
	return rc;
}

/* "pref PREF lookup local" with protocol proto: the rule that delivers packets to the
 * router's own addresses. */
static struct rtnl_rule *local_rule(uint32_t pref, uint8_t proto)
{
	struct rtnl_rule *r = rtnl_rule_alloc();

	if (r) {
		rtnl_rule_set_family(r, AF_INET);
		rtnl_rule_set_prio(r, pref);
		rtnl_rule_set_table(r, RT_TABLE_LOCAL);
		rtnl_rule_set_action(r, FR_ACT_TO_TBL);
		rtnl_rule_set_protocol(r, proto);
	}
	return r;
}

/* Add (flags NLM_F_EXCL) or delete a local rule; returns the libnl result. */
static int change_local_rule(struct nl_sock *sk, uint32_t pref, uint8_t proto, bool add)
{
	struct rtnl_rule *r = local_rule(pref, proto);
	int rc = -NLE_NOMEM;

	if (r)
		rc = add ? rtnl_rule_add(sk, r, NLM_F_EXCL) : rtnl_rule_delete(sk, r, 0);
	rtnl_rule_put(r);
	return rc;
}

/* The kernel puts a new rule after the rules of the same priority, and nothing goes before
 * priority 0, where the local table is looked up: naptd's rules at priority 0 (the WAN guard,
 * the Easy IP steering rules) are consulted only once the local rule is deleted and added
 * again behind them. A copy at priority 1 (protocol ROUTE_PROTO, so a naptd killed half-way
 * leaves nothing it cannot find) delivers local traffic meanwhile. The local rule stays at
 * priority 0 for good: once naptd's rules go (clean exit) it is first again, as before, and
 * after a kill naptd's rules stay ahead of it, guarding. */
static int put_local_rule_last(struct route_setup *rs, char *err, size_t errlen)
{
	struct nl_sock *sk = netlink_journal_sock(rs->journal);
	int rc = change_local_rule(sk, 1, ROUTE_PROTO, true);

	if (rc < 0) {
		snprintf(err, errlen, "cannot add rule pref 1 lookup local: %s", nl_geterror(rc));
		return -1;
	}
	change_local_rule(sk, 0, RTPROT_KERNEL, false);
	rc = change_local_rule(sk, 0, RTPROT_KERNEL, true);
	if (rc < 0)
		snprintf(err, errlen, "cannot add rule pref 0 lookup local: %s", nl_geterror(rc));
	change_local_rule(sk, 1, ROUTE_PROTO, false);
	return rc < 0 ? -1 : 0;
}

/* The router's own connections take their ephemeral ports from local-ports
 * (net.ipv4.ip_local_port_range, put back at exit): replies to them are kept from the TUN by
 * add_easy_ip, and no forward, lease or mapping of naptd's lies there (napt_config.h). */
static int move_local_ports(struct route_setup *rs, const struct napt_config *cfg, char *err,
			    size_t errlen)
{
	char value[16];

	/* As the kernel prints it, so an unchanged range is not rewritten. */
	snprintf(value, sizeof(value), "%u\t%u", cfg->local_ports_lo, cfg->local_ports_hi);
	return sysctl_change(&rs->local_ports, sysctl_record_proc(SYSCTL_LOCAL_PORTS), value, err,
			     errlen);
}

/* Early demux (put back at exit) hands a packet that matches a local socket the socket's
 * cached input route, or marks it as the socket's: the rules are then skipped, or the packet
 * is steered into the TUN and the forwarding path drops it for carrying a socket. Both hit
 * the connections of a service naptd handed back: its handshake's ACK is lost. Off, every
 * packet to the WAN address is routed by the rules. */
static int no_early_demux(struct route_setup *rs, char *err, size_t errlen)
{
	if (sysctl_change(&rs->tcp_demux, sysctl_record_proc(SYSCTL_TCP_DEMUX), "0", err, errlen) !=
	    0)
		return -1;
	return sysctl_change(&rs->udp_demux, sysctl_record_proc(SYSCTL_UDP_DEMUX), "0", err,
			     errlen);
}

/* pref 0, to addr/32 ipproto proto [dport lo-hi] [iif iif] lookup table; lo 0 for any port. */
static int add_wan_addr_rule(struct route_setup *rs, uint32_t addr, const char *iif, uint8_t proto,
			     uint16_t lo, uint16_t hi, uint32_t table, char *err, size_t errlen)
{
	struct napt_prefix to = {addr, 0xffffffffu, 32};
	struct rule_spec r = {.iif = iif,
			      .dst = &to,
			      .table = table,
			      .ipproto = proto,
			      .dport_lo = lo,
			      .dport_hi = hi};

	return add_rule(rs, &r, err, errlen);
}

/* The router's own ports, ahead of the steering rules: each local-service, the DHCP
 * client's (napt_config.h), and local-ports (the replies to the router's own connections),
 * straight to the local table. Without an iif: from the WAN, the LAN and the router itself
 * alike. */
static int keep_local(struct route_setup *rs, uint32_t addr, const struct napt_config *cfg,
		      char *err, size_t errlen)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};

	for (unsigned i = 0; i < cfg->n_local_services; i++) {
		const struct napt_local_service *ls = &cfg->local_services[i];
		uint8_t p = ls->protos == NAPT_FWD_TCP ? IPPROTO_TCP : IPPROTO_UDP;

		if (add_wan_addr_rule(rs, addr, NULL, p, ls->lo, ls->hi, RT_TABLE_LOCAL, err,
				      errlen) != 0)
			return -1;
	}
	if (add_wan_addr_rule(rs, addr, NULL, IPPROTO_UDP, NAPT_DHCP_CLIENT_PORT,
			      NAPT_DHCP_CLIENT_PORT, RT_TABLE_LOCAL, err, errlen) != 0)
		return -1;
	for (unsigned p = 0; p < 2; p++)
		if (add_wan_addr_rule(rs, addr, NULL, protos[p], cfg->local_ports_lo,
				      cfg->local_ports_hi, RT_TABLE_LOCAL, err, errlen) != 0)
			return -1;
	return 0;
}

/* Easy IP: addr is the WAN interface's own address. Every TCP, UDP and ICMP packet to it that
 * arrives on the WAN interface (or, for hairpinning, on lan-interface) enters the TUN,
 * whatever its port: a forward, lease, static entry or DMZ added at run time needs no rule of
 * its own. The router's own ports go to the local table before (keep_local); of what no rule
 * of naptd's takes, naptd hands the ICMP back to the kernel unchanged (wan_address_hands_back)
 * and the engine refuses the rest.
 * The rules name the input interface, so a packet naptd writes back (input interface the
 * TUN) is delivered locally instead of entering the TUN again. */
static int add_easy_ip(struct route_setup *rs, uint32_t addr, const struct napt_config *cfg,
		       char *err, size_t errlen)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
	const char *iifs[] = {cfg->daemon.external_interface, cfg->daemon.lan_interface};

	if (move_local_ports(rs, cfg, err, errlen) != 0 || no_early_demux(rs, err, errlen) != 0 ||
	    keep_local(rs, addr, cfg, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < 2 && iifs[i][0]; i++)
		for (unsigned p = 0; p < 3; p++)
			if (add_wan_addr_rule(rs, addr, iifs[i], protos[p], 0, 0, ROUTE_TABLE, err,
					      errlen) != 0)
				return -1;
	return 0;
}

/* A proxy entry (NTF_PROXY) makes the kernel answer ARP for addr on the WAN interface as
 * long as addr routes elsewhere (into the TUN), without turning proxy_arp on for all. */
static int add_proxy_neigh(struct route_setup *rs, uint32_t addr, char *err, size_t errlen)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *a = ipv4_addr(addr, 32);
	char what[96], ip[INET_ADDRSTRLEN], ifname[IF_NAMESIZE] = "?";
	int rc = -1;

	if_indextoname((unsigned)rs->wan_ifindex, ifname);
	snprintf(what, sizeof(what), "proxy neighbour %s dev %s", ipv4_str(addr, ip), ifname);
	if (n && a) {
		rtnl_neigh_set_family(n, AF_INET);
		rtnl_neigh_set_ifindex(n, rs->wan_ifindex);
		rtnl_neigh_set_dst(n, a);
		rtnl_neigh_set_flags(n, NTF_PROXY);
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		rc = netlink_journal_add_neigh(rs->journal, n, what, err, errlen);
	} else {
		snprintf(err, errlen, "%s: out of memory", what);
	}
	nl_addr_put(a);
	rtnl_neigh_put(n);
	return rc;
}

struct subnet_search {
	int ifindex;
	uint32_t addr;  /* network order */
	bool found;     /* addr lies in a subnet of the interface */
	uint32_t first; /* the interface's first IPv4 address, 0 if none */
};

static void match_subnet(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *ra = (struct rtnl_addr *)obj;
	struct subnet_search *q = arg;
	struct nl_addr *local = rtnl_addr_get_local(ra);
	uint32_t mine, mask;
	unsigned len;

	if (rtnl_addr_get_ifindex(ra) != q->ifindex || rtnl_addr_get_family(ra) != AF_INET ||
	    !local)
		return;
	len = rtnl_addr_get_prefixlen(ra);
	memcpy(&mine, nl_addr_get_binary_addr(local), sizeof(mine));
	if (!q->first)
		q->first = mine;
	mask = len ? htonl(~0u << (32 - len)) : 0;
	if (((mine ^ q->addr) & mask) == 0)
		q->found = true;
}

/* Whether q->addr lies in a subnet of an IPv4 address of the WAN interface. */
static int search_wan(struct route_setup *rs, struct subnet_search *q, char *err, size_t errlen)
{
	struct nl_cache *cache;
	int rc = rtnl_addr_alloc_cache(netlink_journal_sock(rs->journal), &cache);

	if (rc < 0) {
		snprintf(err, errlen, "cannot list addresses: %s", nl_geterror(rc));
		return -1;
	}
	nl_cache_foreach(cache, match_subnet, q);
	nl_cache_free(cache);
	return 0;
}

/* The route carries a WAN address as preferred source: the router's own packets to the
 * external address, such as the ICMP time-exceeded of a traceroute hop (RFC 792), then
 * reach naptd from outside the inside prefixes and are translated as inbound (RFC 5508
 * section 4.2.1), instead of looking like hairpinned traffic from the LAN address. */
static int add_external(struct route_setup *rs, uint32_t ext, char *err, size_t errlen)
{
	struct subnet_search q = {.ifindex = rs->wan_ifindex, .addr = ext};

	if (rs->wan_ifindex && search_wan(rs, &q, err, errlen) != 0)
		return -1;
	if (add_tun_route(rs, ext, 32, RT_TABLE_MAIN, q.first, err, errlen) != 0 ||
	    add_closed_route(rs, ext, 32, RT_TABLE_MAIN, err, errlen) != 0)
		return -1;
	return q.found ? add_proxy_neigh(rs, ext, err, errlen) : 0;
}

/* Inside -> inside rules go in before the rules into the TUN, so LAN-to-LAN traffic never
 * passes through it, not even for a moment. */
static int add_inside(struct route_setup *rs, const struct napt_config *a, char *err, size_t errlen)
{
	for (unsigned i = 0; i < a->n_inside; i++) {
		for (unsigned k = 0; k < a->n_inside; k++) {
			struct rule_spec r = {.src = &a->inside[i],
					      .dst = &a->inside[k],
					      .table = RT_TABLE_MAIN,
					      .pref = ROUTE_PREF_INSIDE};

			if (add_rule(rs, &r, err, errlen) != 0)
				return -1;
		}
	}
	for (unsigned i = 0; i < a->n_inside; i++) {
		struct rule_spec r = {
		    .src = &a->inside[i], .table = ROUTE_TABLE, .pref = ROUTE_PREF_OUT};

		if (add_rule(rs, &r, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* The interface the WAN guards name: wan-interface, else the Easy IP interface (it faces
 * the WAN too). NULL for none. */
static const char *guarded_wan(const struct napt_config *a)
{
	if (a->daemon.wan_interface[0])
		return a->daemon.wan_interface;
	return a->daemon.external_interface[0] ? a->daemon.external_interface : NULL;
}

/* From the WAN with an inside source address: blackholed at priority 0, ahead of the local
 * table, so that neither the engine (it would take the packet for hairpinned traffic) nor
 * any service on the router's own LAN address (NAT-PMP/PCP, SSH) takes a packet forged by a
 * WAN neighbour that routes the inside prefix at the router: Linux delivers a packet for any
 * of its addresses whichever interface it arrives on. Added before every other rule of
 * priority 0, so it is the first rule of all. */
static int add_wan_guard(struct route_setup *rs, const struct napt_config *a, char *err,
			 size_t errlen)
{
	const char *wan = guarded_wan(a);

	for (unsigned i = 0; wan && i < a->n_inside; i++) {
		struct rule_spec from = {
		    .iif = wan, .src = &a->inside[i], .pref = ROUTE_PREF_WAN_FROM_INSIDE};

		if (add_rule(rs, &from, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Traffic the NAT must see even though no route would bring it to the TUN, so the engine
 * drops and counts it (docs/security.md): from the LAN with an external address as source
 * (spoofing: dropped "spoofed"), from the WAN to an inside address (a peer routing our
 * private prefix at us: dropped "not-nat"). What naptd writes back to the TUN goes by the
 * main table, ahead of these. */
static int add_guards(struct route_setup *rs, const struct napt_config *a, char *err, size_t errlen)
{
	const char *lan = a->daemon.lan_interface[0] ? a->daemon.lan_interface : NULL;
	const char *wan = guarded_wan(a);
	struct rule_spec back = {
	    .iif = rs->tun.name, .table = RT_TABLE_MAIN, .pref = ROUTE_PREF_FROM_TUN};

	if (!lan)
		daemon_log(LOG_WARNING, "no lan-interface: LAN packets spoofing an external "
					"address are not steered to naptd");
	if (!wan)
		daemon_log(LOG_WARNING, "no wan-interface: WAN packets to or from inside "
					"addresses are not guarded");
	if (add_rule(rs, &back, err, errlen) != 0)
		return -1;
	for (unsigned e = 0; lan && e < a->n_external + a->n_statics; e++) {
		struct napt_prefix ext = {
		    e < a->n_external ? a->external[e] : a->statics[e - a->n_external].ext_addr,
		    0xffffffffu, 32};
		struct rule_spec r = {
		    .iif = lan, .src = &ext, .table = ROUTE_TABLE, .pref = ROUTE_PREF_SPOOFED};

		if (add_rule(rs, &r, err, errlen) != 0)
			return -1;
	}
	for (unsigned i = 0; wan && i < a->n_inside; i++) {
		struct rule_spec to = {.iif = wan,
				       .dst = &a->inside[i],
				       .table = ROUTE_TABLE,
				       .pref = ROUTE_PREF_WAN_TO_INSIDE};

		if (add_rule(rs, &to, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* With "external interface", external[0] is that interface's own address (wan_address.h). */
static int add_addresses(struct route_setup *rs, const struct napt_config *a, char *err,
			 size_t errlen)
{
	unsigned first = 0;

	if (add_wan_guard(rs, a, err, errlen) != 0)
		return -1;
	if (a->daemon.external_interface[0]) {
		if (add_easy_ip(rs, a->external[0], a, err, errlen) != 0)
			return -1;
		first = 1;
	}
	for (unsigned i = first; i < a->n_external; i++)
		if (add_external(rs, a->external[i], err, errlen) != 0)
			return -1;
	/* Static NAT: the external address of a one-to-one host is routed like a pool's. */
	for (unsigned i = 0; i < a->n_statics; i++)
		if (add_external(rs, a->statics[i].ext_addr, err, errlen) != 0)
			return -1;
	if (add_inside(rs, a, err, errlen) != 0)
		return -1;
	return add_guards(rs, a, err, errlen);
}

/* Keeps in a snapshot of the routes only naptd's own (protocol ROUTE_PROTO) that this
 * set-up may take over: those that lead into no device (what a dead naptd can have left;
 * the default route into this naptd's TUN, already made, is not stale), or with *remake
 * every one: this naptd's own, made again (route_setup_remake). */
static void keep_stale(struct nl_object *obj, void *arg)
{
	const bool *remake = arg;
	struct rtnl_route *r = (struct rtnl_route *)obj;

	if ((!*remake && rtnl_route_get_type(r) != RTN_UNREACHABLE) ||
	    rtnl_route_get_protocol(r) != ROUTE_PROTO)
		nl_cache_remove(obj);
}

/* A naptd killed while it moved the local rule (put_local_rule_last) may have left only its
 * copy at priority 1: the original goes back before the copy goes. */
static void restore_local_rule(struct route_setup *rs)
{
	struct nl_sock *sk = netlink_journal_sock(rs->journal);
	struct rtnl_rule *copy = local_rule(1, ROUTE_PROTO);

	if (copy && take_stale(rs->stale_rules, (struct nl_object *)copy, same_rule)) {
		change_local_rule(sk, 0, RTPROT_KERNEL, true);
		change_local_rule(sk, 1, ROUTE_PROTO, false);
		daemon_log(LOG_NOTICE, "rule pref 1 lookup local left by a naptd that did not "
				       "exit: pref 0 lookup local put back");
	}
	rtnl_rule_put(copy);
}

/* What a naptd that did not exit (SIGKILL, a crash) left: its rules and its unreachable
 * routes (its routes into the TUN went with the device). They stay in force while this
 * naptd sets up, which takes over those it makes again (fail closed throughout) and removes
 * the rest at the end (drop_stale). A rule with naptd's protocol that naptd never makes
 * (a "not", a fwmark) goes at once (rule_dump_own). The administrator's own entries (another
 * protocol) are never touched. Called once ROUTE_TABLE's default route is ours, so no other naptd
 * is running. */
static int find_stale(struct route_setup *rs, bool remake, char *err, size_t errlen)
{
	struct nl_sock *sk = netlink_journal_sock(rs->journal);
	int rc;

	if (rule_dump_own(sk, ROUTE_PROTO, &rs->stale_rules, err, errlen) != 0)
		return -1;
	rc = rtnl_route_alloc_cache(sk, AF_INET, 0, &rs->stale_routes);
	if (rc < 0) {
		snprintf(err, errlen, "cannot list routes: %s", nl_geterror(rc));
		return -1;
	}
	nl_cache_foreach(rs->stale_routes, keep_stale, &remake);
	restore_local_rule(rs);
	return 0;
}

static void remove_stale(struct nl_object *obj, void *arg)
{
	const struct route_setup *rs = arg;
	struct nl_sock *sk = netlink_journal_sock(rs->journal);
	bool rule = strcmp(nl_object_get_type(obj), "route/rule") == 0;
	int rc = rule ? rtnl_rule_delete(sk, (struct rtnl_rule *)obj, 0)
		      : rtnl_route_delete(sk, (struct rtnl_route *)obj, 0);
	char text[256];

	nl_object_dump_buf(obj, text, sizeof(text));
	text[strcspn(text, "\n")] = '\0';
	daemon_log(rc < 0 ? LOG_WARNING : LOG_NOTICE, "%s and not made again: %s: %s",
		   rs->remake ? "made for the old config" : "left by a naptd that did not exit",
		   text + strspn(text, " "), rc < 0 ? nl_geterror(rc) : "removed");
}

/* Removes the entries left in *stale (with remove; else only forgets them: a set-up that
 * failed leaves them in force), and frees it. */
static void drop_list(struct route_setup *rs, struct nl_cache **stale, bool remove)
{
	if (*stale && remove) /* a list exists only with the journal's socket */
		nl_cache_foreach(*stale, remove_stale, rs);
	nl_cache_free(*stale);
	*stale = NULL;
}

/* What find_stale() found and set-up did not take over. */
static void drop_stale(struct route_setup *rs, bool remove)
{
	drop_list(rs, &rs->stale_rules, remove);
	drop_list(rs, &rs->stale_routes, remove);
}

/* Reverse-path filtering (RFC 3704) on the TUN: off when "all" is off, else loose. The
 * kernel uses max(all, TUN), so with all=1 only 2 keeps it loose (0 would leave it strict).
 * Off is needed for the router's own ICMP errors (see add_external): they come back out of
 * the address-less TUN with a local source, which any rp_filter drops; translated inbound
 * packets pass either way. */
static int set_rp_filter(struct route_setup *rs, char *err, size_t errlen)
{
	char path[128], all[16];

	if (sysctl_read("/proc/sys/net/ipv4/conf/all/rp_filter", all, sizeof(all), err, errlen) !=
	    0)
		return -1;
	if (strcmp(all, "0") != 0)
		daemon_log(LOG_WARNING,
			   "net.ipv4.conf.all.rp_filter is %s: %s gets 2 (loose); the "
			   "router's own ICMP errors to inside hosts will be dropped",
			   all, rs->tun.name);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", rs->tun.name);
	return sysctl_change(&rs->rp_filter, path, strcmp(all, "0") ? "2" : "0", err, errlen);
}

static int set_sysctls(struct route_setup *rs, char *err, size_t errlen)
{
	char path[128];

	if (sysctl_change(&rs->ip_forward, sysctl_record_proc(SYSCTL_IP_FORWARD), "1", err,
			  errlen) != 0)
		return -1;
	if (rs->ip_forward.changed)
		daemon_log(LOG_NOTICE, "ip_forward was 0: set to 1 until naptd exits");
	if (set_rp_filter(rs, err, errlen) != 0)
		return -1;
	/* The router's own ICMP errors to the external address (see add_external) come back
	 * out of the TUN with a source address of this router, which the kernel drops as
	 * martian unless accept_local is on. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", rs->tun.name);
	return sysctl_change(&rs->accept_local, path, "1", err, errlen);
}

static void remove_steering(struct nl_object *obj, void *arg)
{
	struct rtnl_rule *r = (struct rtnl_rule *)obj;

	if (rtnl_rule_get_prio(r) == 0 && rtnl_rule_get_table(r) == ROUTE_TABLE) {
		rtnl_rule_delete(arg, r, 0);
		nl_cache_remove(obj);
	}
}

/* Easy IP's steering rules (priority 0, into ROUTE_TABLE) must come after the rules that keep
 * the router's ports, and the kernel orders rules of one priority as they were added: on a
 * remake they go first and come again after those. Meanwhile the WAN address's packets go
 * to the router; nothing passes untranslated. */
static void drop_steering(struct route_setup *rs)
{
	nl_cache_foreach(rs->stale_rules, remove_steering, netlink_journal_sock(rs->journal));
}

/* With remake, the routing of a running naptd is in place and is the stale set: what is
 * made again is taken over, never missing for a moment (but for drop_steering), and the
 * rest goes at the end. */
static int route_setup_start(struct route_setup *rs, const struct napt_config *cfg, bool remake,
			     char *err, size_t errlen)
{
	const char *wan = cfg->daemon.wan_interface;

	if (wan[0] && (rs->wan_ifindex = (int)if_nametoindex(wan)) == 0) {
		snprintf(err, errlen, "wan-interface %s: no such interface", wan);
		return -1;
	}
	if (!wan[0])
		daemon_log(LOG_WARNING, "no wan-interface: no proxy neighbour entries");
	rs->journal = netlink_journal_open(err, errlen);
	rs->remake = remake;
	if (!rs->journal || (remake && find_stale(rs, true, err, errlen) != 0))
		return -1;
	if (remake)
		drop_steering(rs);
	/* The default route of ROUTE_TABLE first: it exists only while a naptd runs (it goes
	 * with the TUN device), so a second naptd stops here before it touches any rule. Its
	 * unreachable companion (fail closed) next, before any rule leads into that table. */
	if (add_tun_route(rs, 0, 0, ROUTE_TABLE, 0, err, errlen) != 0 ||
	    (!remake && (find_stale(rs, false, err, errlen) != 0 ||
			 sysctl_record_open(&rs->record, err, errlen) != 0)) ||
	    set_sysctls(rs, err, errlen) != 0 ||
	    add_closed_route(rs, 0, 0, ROUTE_TABLE, err, errlen) != 0 ||
	    add_addresses(rs, cfg, err, errlen) != 0 ||
	    (rs->pref0 && put_local_rule_last(rs, err, errlen) != 0))
		return -1;
	drop_stale(rs, true);
	return 0;
}

static struct route_setup *setup_new(const struct tun_device *tun, char *err, size_t errlen)
{
	struct route_setup *rs = calloc(1, sizeof(*rs));

	if (!rs)
		snprintf(err, errlen, "routing: out of memory");
	else
		rs->tun = *tun;
	return rs;
}

/* Started over what a naptd that did not exit left: at exit the values from before that
 * one go back, not those it left in force. Only once the start succeeded: a failed start
 * leaves the sysctls, like the routing, as the killed naptd had them, file and all. */
static void take_originals(struct route_setup *rs)
{
	struct sysctl_setting *s[SYSCTL_RECORD_KEYS] = {
	    [SYSCTL_IP_FORWARD] = &rs->ip_forward,
	    [SYSCTL_LOCAL_PORTS] = &rs->local_ports,
	    [SYSCTL_TCP_DEMUX] = &rs->tcp_demux,
	    [SYSCTL_UDP_DEMUX] = &rs->udp_demux,
	};

	for (unsigned k = 0; rs->record.loaded && k < SYSCTL_RECORD_KEYS; k++)
		sysctl_set_original(s[k], sysctl_record_proc(k), rs->record.value[k]);
	rs->record.owned = true;
}

struct route_setup *route_setup_open(const struct napt_config *cfg, const struct tun_device *tun,
				     char *err, size_t errlen)
{
	struct route_setup *rs = setup_new(tun, err, errlen);

	if (rs && route_setup_start(rs, cfg, false, err, errlen) != 0) {
		/* What a killed naptd left (rules into table 4242, its unreachable routes) stays
		 * as it was, whole: removing the part taken over so far would leave its other
		 * rules leading into an empty table, and LAN traffic out untranslated. */
		if (rs->journal)
			netlink_journal_forget_adopted(rs->journal);
		route_setup_close(rs);
		return NULL;
	}
	if (rs)
		take_originals(rs);
	return rs;
}

/* Whether s is back (or was never changed). */
static bool restore_sysctl(struct sysctl_setting *s)
{
	char err[256];

	if (sysctl_restore(s, err, sizeof(err)) == 0)
		return true;
	daemon_log(LOG_WARNING, "%s", err);
	return false;
}

/* Put back what the set-up changed, the last change first. Whether all are back. */
static bool restore_sysctls(struct route_setup *rs)
{
	bool ok = restore_sysctl(&rs->udp_demux);

	ok &= restore_sysctl(&rs->tcp_demux);
	ok &= restore_sysctl(&rs->local_ports);
	ok &= restore_sysctl(&rs->accept_local);
	ok &= restore_sysctl(&rs->rp_filter);
	if (rs->ip_forward.changed)
		daemon_log(LOG_NOTICE, "ip_forward set back to %s", rs->ip_forward.old);
	return restore_sysctl(&rs->ip_forward) && ok;
}

void route_setup_close(struct route_setup *rs)
{
	if (!rs)
		return;
	drop_stale(rs, false);
	netlink_journal_close(rs->journal);
	/* A value not put back keeps the file: the next start puts it back. */
	if (restore_sysctls(rs))
		sysctl_record_remove(&rs->record);
	free(rs);
}

/* The sysctls the old set-up changed: put back at exit the values from before naptd; and
 * their file. */
static void inherit_sysctls(struct route_setup *now, const struct route_setup *old)
{
	sysctl_inherit(&now->ip_forward, &old->ip_forward);
	sysctl_inherit(&now->rp_filter, &old->rp_filter);
	sysctl_inherit(&now->accept_local, &old->accept_local);
	sysctl_inherit(&now->local_ports, &old->local_ports);
	sysctl_inherit(&now->tcp_demux, &old->tcp_demux);
	sysctl_inherit(&now->udp_demux, &old->udp_demux);
	now->record = old->record;
}

/* Forget a set-up without undoing it: its entries stay in force, owned by another one or
 * left for the next start to take over. Its sysctls, when with_sysctls, go back. */
static void setup_forget(struct route_setup *rs, bool with_sysctls)
{
	drop_stale(rs, false);
	netlink_journal_forget(rs->journal);
	if (with_sysctls)
		restore_sysctls(rs);
	free(rs);
}

int route_setup_remake(struct route_setup **rs, const struct napt_config *cfg,
		       const struct tun_device *tun, char *err, size_t errlen)
{
	struct route_setup *now = setup_new(tun, err, errlen);

	if (!now)
		return -1;
	if (route_setup_start(now, cfg, true, err, errlen) != 0) {
		/* What it added stays in force beside the old routing (protocol 245: the next
		 * start removes it); the sysctls it changed go back to the old set-up's. */
		setup_forget(now, true);
		return -1;
	}
	inherit_sysctls(now, *rs);
	setup_forget(*rs, false);
	*rs = now;
	return 0;
}
