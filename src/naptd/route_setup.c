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
#include "sysctl_setting.h"

struct route_setup {
	struct netlink_journal *journal;
	struct tun_device tun;
	int wan_ifindex; /* 0: no wan-interface, no proxy neighbour entries */
	struct sysctl_setting ip_forward, rp_filter, accept_local, reserved_ports;
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

/* dst/prefixlen dev TUN in table [src prefsrc]; prefsrc 0 for none. */
static int add_tun_route(struct route_setup *rs, uint32_t dst, unsigned prefixlen, uint32_t table,
			 uint32_t prefsrc, char *err, size_t errlen)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *a = ipv4_addr(dst, prefixlen);
	struct nl_addr *src = prefsrc ? ipv4_addr(prefsrc, 32) : NULL;
	char what[128], ip[INET_ADDRSTRLEN], sip[INET_ADDRSTRLEN];

	int rc = -1;

	snprintf(what, sizeof(what), "route %s/%u dev %s table %u%s%s", ipv4_str(dst, ip),
		 prefixlen, rs->tun.name, table, prefsrc ? " src " : "",
		 prefsrc ? ipv4_str(prefsrc, sip) : "");
	if (r && nh && a && (src || !prefsrc)) {
		rtnl_route_set_family(r, AF_INET);
		rtnl_route_set_table(r, table);
		rtnl_route_set_protocol(r, ROUTE_PROTO);
		rtnl_route_set_dst(r, a);
		if (src)
			rtnl_route_set_pref_src(r, src);
		rtnl_route_nh_set_ifindex(nh, rs->tun.ifindex);
		rtnl_route_add_nexthop(r, nh);
		nh = NULL; /* the route owns it now */
		rc = netlink_journal_add_route(rs->journal, r, what, err, errlen);
	} else {
		snprintf(err, errlen, "%s: out of memory", what);
	}
	if (nh) /* rtnl_route_nh_free() does not take NULL */
		rtnl_route_nh_free(nh);
	nl_addr_put(src);
	nl_addr_put(a);
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
		rc = netlink_journal_add_rule(rs->journal, r, what, err, errlen);
	} else {
		snprintf(err, errlen, "%s: out of memory", what);
	}
	nl_addr_put(s);
	nl_addr_put(d);
	rtnl_rule_put(r);
	return rc;
}

/* pref 0: to addr/32 ipproto proto [dport lo-hi] lookup ROUTE_TABLE; lo 0 for any port. */
static int add_steering_rule(struct route_setup *rs, uint32_t addr, uint8_t proto, uint16_t lo,
			     uint16_t hi, char *err, size_t errlen)
{
	struct napt_prefix to = {addr, 0xffffffffu, 32};
	struct rule_spec r = {
	    .dst = &to, .table = ROUTE_TABLE, .ipproto = proto, .dport_lo = lo, .dport_hi = hi};

	return add_rule(rs, &r, err, errlen);
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
 * priority 0, where the local table is looked up: the steering rules (pref 0) are consulted
 * only once the local rule is deleted and added again behind them. A copy at priority 1
 * (protocol ROUTE_PROTO, so a naptd killed half-way leaves nothing it cannot find) delivers
 * local traffic meanwhile. The local rule stays behind them at exit, where it does the same
 * job as before. */
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

/* The router's own connections must not take ephemeral ports of naptd's range: their
 * replies would be steered into the TUN. */
static int reserve_ports(struct route_setup *rs, const struct napt_config *cfg, char *err,
			 size_t errlen)
{
	const char *path = "/proc/sys/net/ipv4/ip_local_reserved_ports";
	char old[sizeof(rs->reserved_ports.old)], value[sizeof(old) + 16];

	if (sysctl_read(path, old, sizeof(old), err, errlen) != 0)
		return -1;
	snprintf(value, sizeof(value), "%s%s%u-%u", old, old[0] ? "," : "", cfg->port_lo,
		 cfg->port_hi);
	return sysctl_change(&rs->reserved_ports, path, value, err, errlen);
}

/* Easy IP: addr is the WAN interface's own address. Inbound packets to naptd's port range
 * and to the forwarded ports, and all ICMP (echo replies and errors carry no port), go into
 * the TUN; the router keeps the other ports for its own services. */
static int add_easy_ip(struct route_setup *rs, uint32_t addr, const struct napt_config *cfg,
		       char *err, size_t errlen)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};

	for (unsigned p = 0; p < 2; p++) {
		if (add_steering_rule(rs, addr, protos[p], cfg->port_lo, cfg->port_hi, err,
				      errlen) != 0)
			return -1;
		for (unsigned i = 0; i < cfg->n_forwards; i++) {
			const struct napt_forward *f = &cfg->forwards[i];

			if ((f->protos & (1u << p)) &&
			    add_steering_rule(rs, addr, protos[p], f->ext_lo, f->ext_hi, err,
					      errlen) != 0)
				return -1;
		}
	}
	if (add_steering_rule(rs, addr, IPPROTO_ICMP, 0, 0, err, errlen) != 0 ||
	    put_local_rule_last(rs, err, errlen) != 0)
		return -1;
	return reserve_ports(rs, cfg, err, errlen);
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
	if (add_tun_route(rs, ext, 32, RT_TABLE_MAIN, q.first, err, errlen) != 0)
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

/* Traffic the NAT must see even though no route would bring it to the TUN, so the engine
 * drops and counts it (docs/security.md): from the LAN with an external address as source
 * (spoofing: dropped "spoofed"), from the WAN to an inside address (a peer routing our
 * private prefix at us: dropped "not-nat"); from the WAN with an inside source address,
 * blackholed here, since the engine would take it for hairpinned traffic. What naptd
 * writes back to the TUN goes by the main table, ahead of all of these. */
static int add_guards(struct route_setup *rs, const struct napt_config *a, char *err, size_t errlen)
{
	const char *lan = a->daemon.lan_interface[0] ? a->daemon.lan_interface : NULL;
	const char *wan = a->daemon.wan_interface[0] ? a->daemon.wan_interface : NULL;
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
		struct rule_spec from = {
		    .iif = wan, .src = &a->inside[i], .pref = ROUTE_PREF_WAN_FROM_INSIDE};
		struct rule_spec to = {.iif = wan,
				       .dst = &a->inside[i],
				       .table = ROUTE_TABLE,
				       .pref = ROUTE_PREF_WAN_TO_INSIDE};

		if (add_rule(rs, &from, err, errlen) != 0 || add_rule(rs, &to, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* With "external interface", external[0] is that interface's own address (wan_address.h). */
static int add_addresses(struct route_setup *rs, const struct napt_config *a, char *err,
			 size_t errlen)
{
	unsigned first = 0;

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

static void remove_if_stale(struct nl_object *obj, void *arg)
{
	struct rtnl_rule *r = (struct rtnl_rule *)obj;
	struct route_setup *rs = arg;
	uint8_t proto;
	int rc;

	if (rtnl_rule_get_protocol(r, &proto) != 0 || proto != ROUTE_PROTO)
		return;
	/* A naptd killed while it moved the local rule (put_local_rule_last) may have left
	 * only its copy: the original goes back before the copy goes. */
	if (rtnl_rule_get_table(r) == RT_TABLE_LOCAL)
		change_local_rule(netlink_journal_sock(rs->journal), 0, RTPROT_KERNEL, true);
	rc = rtnl_rule_delete(netlink_journal_sock(rs->journal), r, 0);
	daemon_log(rc < 0 ? LOG_WARNING : LOG_NOTICE,
		   "rule pref %u left by a naptd that did not exit: %s", rtnl_rule_get_prio(r),
		   rc < 0 ? nl_geterror(rc) : "removed");
}

/* Rules carry protocol ROUTE_PROTO: those left by a naptd killed with SIGKILL (its routes
 * went with its TUN device) are removed, so a restart works; the administrator's own rules
 * are never touched. Called once ROUTE_TABLE's default route is ours, so no other naptd
 * is running. */
static int remove_stale_rules(struct route_setup *rs, char *err, size_t errlen)
{
	struct nl_cache *cache;
	int rc = rtnl_rule_alloc_cache(netlink_journal_sock(rs->journal), AF_INET, &cache);

	if (rc < 0) {
		snprintf(err, errlen, "cannot list rules: %s", nl_geterror(rc));
		return -1;
	}
	nl_cache_foreach(cache, remove_if_stale, rs);
	nl_cache_free(cache);
	return 0;
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

	if (sysctl_change(&rs->ip_forward, "/proc/sys/net/ipv4/ip_forward", "1", err, errlen) != 0)
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

static int route_setup_start(struct route_setup *rs, const struct napt_config *cfg, char *err,
			     size_t errlen)
{
	const char *wan = cfg->daemon.wan_interface;

	if (wan[0] && (rs->wan_ifindex = (int)if_nametoindex(wan)) == 0) {
		snprintf(err, errlen, "wan-interface %s: no such interface", wan);
		return -1;
	}
	if (!wan[0])
		daemon_log(LOG_WARNING, "no wan-interface: no proxy neighbour entries");
	rs->journal = netlink_journal_open(err, errlen);
	/* The default route of ROUTE_TABLE first: it exists only while a naptd runs (it goes
	 * with the TUN device), so a second naptd stops here before it touches any rule. */
	if (!rs->journal || add_tun_route(rs, 0, 0, ROUTE_TABLE, 0, err, errlen) != 0 ||
	    remove_stale_rules(rs, err, errlen) != 0 || set_sysctls(rs, err, errlen) != 0)
		return -1;
	return add_addresses(rs, cfg, err, errlen);
}

struct route_setup *route_setup_open(const struct napt_config *cfg, const struct tun_device *tun,
				     char *err, size_t errlen)
{
	struct route_setup *rs = calloc(1, sizeof(*rs));

	if (!rs) {
		snprintf(err, errlen, "routing: out of memory");
		return NULL;
	}
	rs->tun = *tun;
	if (route_setup_start(rs, cfg, err, errlen) != 0) {
		route_setup_close(rs);
		return NULL;
	}
	return rs;
}

static void restore_sysctl(struct sysctl_setting *s)
{
	char err[256];

	if (sysctl_restore(s, err, sizeof(err)) != 0)
		daemon_log(LOG_WARNING, "%s", err);
}

void route_setup_close(struct route_setup *rs)
{
	if (!rs)
		return;
	netlink_journal_close(rs->journal);
	restore_sysctl(&rs->reserved_ports);
	restore_sysctl(&rs->accept_local);
	restore_sysctl(&rs->rp_filter);
	if (rs->ip_forward.changed)
		daemon_log(LOG_NOTICE, "ip_forward set back to %s", rs->ip_forward.old);
	restore_sysctl(&rs->ip_forward);
	free(rs);
}
