/* SPDX-License-Identifier: BSD-2-Clause */
/* pcp_server.c - NAT-PMP and PCP port mappings: the wire formats, the access rules, the
 * leases (forwards with an end of life) and their expiry. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon_log.h"
#include "ipv4_packet.h" /* get16/32, put16/32: the wire is big-endian as IP is */
#include "pcp_server.h"

#define PCP_MAX_SOCKETS 8
#define PCP_MSG_MAX     1100 /* RFC 6887 section 7: the largest PCP message */
#define PCP_CLIENT_PORT 5350 /* where unsolicited announcements go (RFC 6887 section 14.1.3) */
/* Lifetimes granted: at most a day (RFC 6887 section 15 lets the server shorten them). */
#define LEASE_MAX_S 86400
/* RFC 6886 section 3.2.1: 10 announcements, the first two 250 ms apart, each later gap
 * twice the one before (about 128 s in all). */
#define ANNOUNCEMENTS         10
#define ANNOUNCE_FIRST_GAP_MS 250
/* Ports tried for a new mapping before giving up with NO_RESOURCES: each try is a few hash
 * lookups (napt_port_mapped), whatever the table's size. */
#define PORT_TRIES 4096
/* Mapping requests a host may make in a second; the others are answered "out of resources"
 * (RFC 6886 section 3.5, RFC 6887 section 7.4). A client sends one request and its
 * retransmissions, 250 ms apart and doubling (RFC 6886 section 3.1, RFC 6887 section 8.1.1),
 * and renews each mapping once per half lifetime: ten a second leave room for a burst of
 * new mappings. Each host counts in an entry of its own (its address is kept), in one of
 * RATE_SETS sets chosen by a keyed hash: a busy neighbour cannot use up another host's
 * budget. Only when RATE_WAYS other hosts of its set have asked in the same second is a
 * host refused unheard. */
#define HOST_MAPS_PER_S 10
#define RATE_SET_BITS   8
#define RATE_SETS       (1u << RATE_SET_BITS)
#define RATE_WAYS       4
/* Leases one inside host may hold: a quarter of the store, so that a host asking for port
 * after port (AddAnyPortMapping, or PCP MAP with new internal ports, within its rate) leaves
 * the others room, as the per-host session quotas do for sessions (security.md). */
#define HOST_MAX_LEASES (RUNTIME_MAX_LEASES / 4)
/* Lease timer: expiry and the state file's write, at most this often (RFC 6887 section 15
 * lets a lease acknowledged this long before a kill -9 be lost: the client renews it). */
#define TICK_MS 250

/* RFC 6886 section 3.5 result codes. */
enum natpmp_result {
	NATPMP_SUCCESS = 0,
	NATPMP_UNSUPP_VERSION = 1,
	NATPMP_REFUSED = 2,
	NATPMP_NETWORK_FAILURE = 3,
	NATPMP_NO_RESOURCES = 4,
	NATPMP_UNSUPP_OPCODE = 5,
};

/* RFC 6887 section 7.4 result codes (those this server sends). */
enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
	PCP_EXCESSIVE_REMOTE_PEERS = 13,
};

enum pcp_opcode { PCP_OP_ANNOUNCE = 0, PCP_OP_MAP = 1, PCP_OP_PEER = 2 };
/* RFC 6887 section 13: codes below 128 must be understood (section 7.3). */
enum pcp_option { PCP_OPT_THIRD_PARTY = 1, PCP_OPT_PREFER_FAILURE = 2, PCP_OPT_FILTER = 3 };
#define PCP_HEADER_LEN 24 /* section 7.1 */
#define PCP_MAP_LEN    36 /* section 11.1: the MAP data after the header */
#define PCP_PEER_LEN   56 /* section 12.1: the PEER data after the header */

/* One host's mapping requests in the current second. */
struct host_rate {
	uint32_t host; /* network order */
	int64_t second;
	unsigned count;
};

struct pcp_server {
	struct naptd *d;
	int epfd, timerfd;
	int announce_timerfd; /* one-shot: the next announcement of a series */
	unsigned announcements_left;
	unsigned announce_gap_ms; /* until the one after the next */
	int socks[PCP_MAX_SOCKETS];
	unsigned n_socks;
	unsigned lan_ifindex; /* requests count only when they came in on lan-interface */
	bool dirty;           /* the leases changed since their last hand-over to the writer */
	struct runtime_state_writer *writer; /* NULL without a state file */
	struct host_rate rates[RATE_SETS][RATE_WAYS];
	uint32_t rate_key; /* random: which hosts share a set is not known outside */
};

/* ---- access rules ---- */

/* The first rule holding (host, port) decides; none: refused. */
static bool allowed(const struct pcp_server *s, uint32_t host, uint16_t port)
{
	const struct napt_daemon_settings *c = &s->d->file_cfg.daemon;

	for (unsigned i = 0; i < c->n_pcp_rules; i++) {
		const struct napt_pcp_rule *r = &c->pcp_rules[i];

		if ((host & r->hosts.mask) == r->hosts.addr && port >= r->lo && port <= r->hi)
			return r->allow;
	}
	return false;
}

/* Whether a pcp-allow line of c names host (any host with any_host), whatever its ports.
 * The rules are read where they are used: a reload (naptd_reload.c) applies at once. */
static bool may_map(const struct napt_daemon_settings *c, uint32_t host, bool any_host)
{
	for (unsigned i = 0; i < c->n_pcp_rules; i++) {
		const struct napt_pcp_rule *r = &c->pcp_rules[i];

		if (r->allow && (any_host || (host & r->hosts.mask) == r->hosts.addr))
			return true;
	}
	return false;
}

bool pcp_server_serves(const struct pcp_server *s, uint32_t host)
{
	return may_map(&s->d->file_cfg.daemon, host, false);
}

/* ---- leases ---- */

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

/* Seconds since the mapping state began (RFC 6886 section 3.6, RFC 6887 section 8.5). */
static uint32_t epoch_seconds(const struct pcp_server *s)
{
	int64_t t = wall_now() - s->d->runtime.epoch_start;

	return t > 0 ? (uint32_t)t : 0;
}

/* The external address a host's mapping is reached on: the one paired pooling gives it,
 * passing over a deterministic prefix's addresses as new_outbound_mapping() does (no lease
 * takes packets there). */
uint32_t pcp_server_external_of(const struct pcp_server *s, uint32_t host)
{
	const struct napt_config *c = napt_get_config(s->d->nat);
	unsigned first = ntohl(host) % c->n_external;

	for (unsigned i = 0; i < c->n_external; i++) {
		uint32_t a = c->external[(first + i) % c->n_external];

		if (!napt_config_det_external(c, a))
			return a;
	}
	return c->external[first];
}

/* The leases changed: the state file follows at the next tick (flush_leases), so a flood
 * of requests costs at most one write (and its fsyncs) per tick. */
static void save_leases(struct pcp_server *s)
{
	s->dirty = true;
}

static void write_failed(int rc, const char *err)
{
	if (rc != 0)
		daemon_log(LOG_WARNING, "pcp: %s%s", rc < 0 ? "mappings not kept on disk: " : "",
			   err);
}

/* Write the leases now, in the loop (at start, and should the writer thread fail). */
static void save_now(struct pcp_server *s)
{
	char err[512];
	int rc = runtime_state_save(s->d->file_cfg.daemon.state, &s->d->runtime, err, sizeof(err));

	write_failed(rc, err);
	s->dirty = rc < 0;
	s->d->pcp_state_writes += rc >= 0;
}

/* The writer thread starts with the first change after start, so after privileges_drop():
 * capabilities belong to each thread, and one made before the drop would keep them all. */
static bool writer_ready(struct pcp_server *s)
{
	char err[512];

	if (!s->writer && !(s->writer = runtime_state_writer_start(s->d->file_cfg.daemon.state, err,
								   sizeof(err))))
		daemon_log(LOG_WARNING, "pcp: %s: writing in the loop", err);
	return s->writer != NULL;
}

/* Hand the leases to the writer thread if they changed: the loop does not wait for the
 * disk. A failed write is due again (the state file must hold the leases the clients were
 * told of, RFC 6887 section 15). */
static void flush_leases(struct pcp_server *s)
{
	if (!s->d->file_cfg.daemon.state[0])
		return;
	if (s->writer) {
		char err[512];
		uint64_t writes;
		int rc = runtime_state_writer_status(s->writer, &writes, err, sizeof(err));

		write_failed(rc, err);
		s->dirty = s->dirty || rc < 0;
		s->d->pcp_state_writes += writes;
	}
	if (!s->dirty)
		return;
	if (!writer_ready(s))
		save_now(s);
	else if (runtime_state_writer_submit(s->writer, &s->d->runtime) == 0)
		s->dirty = false;
}

static void lease_remove(struct pcp_server *s, unsigned i)
{
	struct runtime_state *st = &s->d->runtime;

	napt_forward_del(s->d->nat, st->leases[i].fwd.protos, st->leases[i].fwd.ext_lo);
	runtime_state_drop_lease(st, i);
}

static int lease_find(const struct runtime_state *st, uint32_t host, uint8_t protos,
		      uint16_t in_port)
{
	for (unsigned i = 0; i < st->n_leases; i++) {
		const struct napt_forward *f = &st->leases[i].fwd;

		if (f->in_addr == host && f->protos == protos && f->in_lo == in_port)
			return (int)i;
	}
	return -1;
}

/* The leases host holds, of every origin (NAT-PMP, PCP, UPnP). */
static unsigned host_leases(const struct runtime_state *st, uint32_t host)
{
	unsigned n = 0;

	for (unsigned i = 0; i < st->n_leases; i++)
		n += st->leases[i].fwd.in_addr == host;
	return n;
}

/* The leases that ended are removed from the engine and the state. */
static void expire_leases(struct pcp_server *s)
{
	struct runtime_state *st = &s->d->runtime;
	int64_t now = wall_now();
	bool changed = false;

	for (unsigned i = 0; i < st->n_leases;) {
		if (st->leases[i].expires > now) {
			i++;
			continue;
		}
		char fwd[96];

		napt_forward_format(&st->leases[i].fwd, fwd, sizeof(fwd));
		daemon_log(LOG_INFO, "pcp: mapping %s expired", fwd);
		lease_remove(s, i);
		changed = true;
	}
	if (changed)
		save_leases(s);
}

/* A forward wins over a dynamic mapping on its port (napt_forward_add): a new lease takes
 * a port no mapping uses, so no open connection is cut. */
static bool port_in_use(const struct pcp_server *s, uint8_t protos, uint16_t port)
{
	return napt_port_mapped(s->d->nat, protos == NAPT_FWD_TCP ? IPPROTO_TCP : IPPROTO_UDP,
				port);
}

/* The request's filters (RFC 6887 section 13.3), none for NAT-PMP and UPnP, into f. */
static void copy_filters(struct napt_forward *f, const struct map_request *q)
{
	memset(f->filters, 0, sizeof(f->filters));
	if (q->n_filters)
		memcpy(f->filters, q->filters, q->n_filters * sizeof(f->filters[0]));
	f->n_filters = (uint8_t)q->n_filters;
}

/* The forward a request asks for on port, with its filters. */
static struct napt_forward lease_forward(const struct map_request *q, uint16_t port)
{
	struct napt_forward f = {.protos = q->protos,
				 .ext_lo = port,
				 .ext_hi = port,
				 .in_addr = q->client,
				 .in_lo = q->in_port};

	copy_filters(&f, q);
	return f;
}

/* Add the forward ext_port -> host:in_port if the rules allow it and the port is free. */
static bool try_port(struct pcp_server *s, const struct map_request *q, uint16_t port)
{
	struct napt_forward f = lease_forward(q, port);
	char err[256];

	/* Any port the pcp-allow rules give, in or out of port-range: every port of the external
	 * address reaches naptd (Easy IP steers them all, route_setup.c); the engine refuses
	 * the router's own (local-service, local-ports, the DHCP client's). */
	if (!port || !allowed(s, q->client, port) || port_in_use(s, q->protos, port))
		return false;
	return napt_forward_add(s->d->nat, &f, err, sizeof(err)) == 0;
}

/* The suggested port, the internal port, then ports from a random start (RFC 6056). */
static int pick_port(struct pcp_server *s, const struct map_request *q, uint16_t *port)
{
	const struct napt_config *c = napt_get_config(s->d->nat);
	unsigned span = (unsigned)c->port_hi - c->port_lo + 1;
	uint32_t start = 0;

	if (q->want_port && try_port(s, q, q->want_port)) {
		*port = q->want_port;
		return MAP_OK;
	}
	if (q->prefer_failure)
		return MAP_CANNOT_PROVIDE;
	if (try_port(s, q, q->in_port)) {
		*port = q->in_port;
		return MAP_OK;
	}
	if (getrandom(&start, sizeof(start), GRND_NONBLOCK) < 0)
		start = (uint32_t)wall_now();
	for (unsigned i = 0; i < span && i < PORT_TRIES; i++) {
		uint16_t p = (uint16_t)(c->port_lo + (start + i) % span);

		if (try_port(s, q, p)) {
			*port = p;
			return MAP_OK;
		}
	}
	return MAP_NO_RESOURCES;
}

static uint32_t granted_lifetime(uint32_t asked)
{
	return asked > LEASE_MAX_S ? LEASE_MAX_S : asked;
}

static bool nonce_matches(const struct runtime_lease *l, const uint8_t *nonce)
{
	static const uint8_t zero[RUNTIME_NONCE_LEN];

	/* A NAT-PMP lease has no nonce: a PCP client may take it over, and the reverse. */
	return !nonce || memcmp(l->nonce, zero, sizeof(zero)) == 0 ||
	       memcmp(l->nonce, nonce, RUNTIME_NONCE_LEN) == 0;
}

/* Lifetime 0: delete the host's mapping of in_port, or all its mappings of the protocol
 * when in_port is 0 (RFC 6886 section 3.4). Deleting what does not exist succeeds. */
static enum map_outcome map_delete(struct pcp_server *s, const struct map_request *q)
{
	struct runtime_state *st = &s->d->runtime;
	bool changed = false;

	for (unsigned i = 0; i < st->n_leases;) {
		const struct runtime_lease *l = &st->leases[i];

		if (l->fwd.in_addr != q->client || l->fwd.protos != q->protos ||
		    (q->in_port && l->fwd.in_lo != q->in_port)) {
			i++;
			continue;
		}
		if (!nonce_matches(l, q->nonce))
			return MAP_NONCE_MISMATCH;
		lease_remove(s, i);
		changed = true;
	}
	if (changed)
		save_leases(s);
	return MAP_OK;
}

static void set_nonce(struct runtime_lease *l, const uint8_t *nonce)
{
	if (nonce)
		memcpy(l->nonce, nonce, RUNTIME_NONCE_LEN);
	else
		memset(l->nonce, 0, RUNTIME_NONCE_LEN);
}

/* Whether f is one of the n filters of set (a copy is the same filter: it counts once). */
static bool holds_filter(const struct napt_peer_filter *set, unsigned n,
			 const struct napt_peer_filter *f)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i].addr == f->addr && set[i].port == f->port && set[i].len == f->len)
			return true;
	return false;
}

/* RFC 6887 section 13.3: a renewal's FILTER options are added to the lease's, after a prefix
 * length 0 option has removed them all ("There is no mechanism to remove a specific
 * filter"), in the engine too, which ends the sessions of remotes the new set refuses. False,
 * nothing changed, when the set would not fit (7.4: EXCESSIVE_REMOTE_PEERS). */
static bool refilter(struct pcp_server *s, struct napt_forward *f, const struct map_request *q)
{
	struct napt_peer_filter set[NAPT_FWD_MAX_FILTERS] = {{0}};
	unsigned n = q->clear_filters ? 0 : f->n_filters;

	memcpy(set, f->filters, n * sizeof(set[0]));
	for (unsigned i = 0; i < q->n_filters; i++) {
		if (holds_filter(set, n, &q->filters[i]))
			continue;
		if (n == NAPT_FWD_MAX_FILTERS)
			return false;
		set[n++] = q->filters[i];
	}
	if (!q->n_filters && !q->clear_filters)
		return true; /* nothing asked: the engine's copy stands */
	memcpy(f->filters, set, sizeof(set));
	f->n_filters = (uint8_t)n;
	napt_forward_filter(s->d->nat, f->protos, f->ext_lo, f->filters, f->n_filters);
	return true;
}

/* A new lease, or the renewal of the host's lease of the same internal port (RFC 6886
 * section 3.3: the existing mapping is returned with the new lifetime; RFC 6887 section 13.3:
 * with the request's filters). */
static enum map_outcome map_add(struct pcp_server *s, const struct map_request *q,
				struct map_grant *g)
{
	struct runtime_state *st = &s->d->runtime;
	int i = lease_find(st, q->client, q->protos, q->in_port);
	uint16_t port;

	if (!may_map(&s->d->file_cfg.daemon, q->client, false))
		return MAP_DENIED;
	if (i >= 0 && !nonce_matches(&st->leases[i], q->nonce))
		return MAP_NONCE_MISMATCH;
	if (i >= 0 && !allowed(s, q->client, st->leases[i].fwd.ext_lo)) {
		/* A reload's rules no longer give the lease's port: it ends here, and the
		 * renewal is a new request, else renewals would keep it past the rules. */
		lease_remove(s, (unsigned)i);
		save_leases(s);
		i = -1;
	}
	if (i < 0) {
		enum map_outcome o = st->n_leases == RUNTIME_MAX_LEASES ||
					     host_leases(st, q->client) >= HOST_MAX_LEASES
					 ? MAP_NO_RESOURCES
					 : (enum map_outcome)pick_port(s, q, &port);
		if (o != MAP_OK)
			return o;
		i = (int)st->n_leases++;
		st->leases[i] = (struct runtime_lease){.fwd = lease_forward(q, port)};
	} else if (!refilter(s, &st->leases[i].fwd, q)) {
		return MAP_EXCESSIVE;
	}
	g->lifetime = granted_lifetime(q->lifetime);
	g->ext_port = st->leases[i].fwd.ext_lo;
	st->leases[i].expires = wall_now() + g->lifetime;
	set_nonce(&st->leases[i], q->nonce);
	st->leases[i].upnp = q->upnp;
	if (q->desc)
		runtime_desc_set(st->leases[i].desc, q->desc);
	save_leases(s);
	return MAP_OK;
}

/* host's entry for second now: its own, else one that no host used in that second (taken
 * for host); NULL when RATE_WAYS other hosts of its set asked in that second. */
static struct host_rate *rate_entry(struct pcp_server *s, uint32_t host, int64_t now)
{
	/* Multiplicative hashing (Knuth): the top bits depend on every bit of host ^ key. */
	struct host_rate *set =
	    s->rates[((ntohl(host) ^ s->rate_key) * 2654435761u) >> (32 - RATE_SET_BITS)];
	struct host_rate *spare = NULL;

	for (unsigned w = 0; w < RATE_WAYS; w++) {
		if (set[w].second == now && set[w].host == host)
			return &set[w];
		if (set[w].second != now && !spare)
			spare = &set[w];
	}
	if (spare)
		*spare = (struct host_rate){.host = host, .second = now};
	return spare;
}

/* Whether host is within HOST_MAPS_PER_S this second (counting this request). */
static bool within_rate(struct pcp_server *s, uint32_t host)
{
	struct host_rate *r = rate_entry(s, host, (int64_t)(naptd_now_ms() / 1000));

	return r && ++r->count <= HOST_MAPS_PER_S;
}

enum map_outcome pcp_server_map(struct pcp_server *s, const struct map_request *q,
				struct map_grant *g)
{
	*g = (struct map_grant){0};
	if (!within_rate(s, q->client)) {
		s->d->pcp_limited++;
		return MAP_LIMITED;
	}
	/* RFC 6886 section 3.4, RFC 6887 section 11.1: internal port 0 deletes all of the
	 * host's mappings, with lifetime 0 only; a forward to port 0 is nothing to keep. */
	if (!q->in_port && q->lifetime)
		return MAP_MALFORMED;
	expire_leases(s);
	if (q->lifetime == 0)
		return map_delete(s, q);
	return map_add(s, q, g);
}

/* ---- the wire ---- */

/* An IPv4 address as PCP carries it: IPv4-mapped IPv6 (RFC 6887 section 5). */
static void put_mapped(uint8_t *p, uint32_t addr)
{
	memset(p, 0, 10);
	p[10] = p[11] = 0xff;
	memcpy(p + 12, &addr, 4);
}

static bool get_mapped(const uint8_t *p, uint32_t *addr)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memcpy(addr, p + 12, 4);
	return memcmp(p, prefix, sizeof(prefix)) == 0;
}

/* NAT-PMP public address answer (RFC 6886 section 3.2), also sent unsolicited. */
static size_t natpmp_address(const struct pcp_server *s, uint32_t client, uint8_t *r)
{
	uint32_t ext = pcp_server_external_of(s, client);

	r[0] = 0;
	r[1] = 128;
	put16(r + 2, NATPMP_SUCCESS);
	put32(r + 4, epoch_seconds(s));
	memcpy(r + 8, &ext, 4);
	return 12;
}

/* What each outcome is called in NAT-PMP (RFC 6886 section 3.5) and PCP (RFC 6887 section
 * 7.4). */
static const struct outcome_codes {
	uint16_t natpmp;
	uint8_t pcp;
} outcome_codes[] = {
    [MAP_OK] = {NATPMP_SUCCESS, PCP_SUCCESS},
    [MAP_DENIED] = {NATPMP_REFUSED, PCP_NOT_AUTHORIZED},
    [MAP_NONCE_MISMATCH] = {NATPMP_REFUSED, PCP_NOT_AUTHORIZED},
    [MAP_NO_RESOURCES] = {NATPMP_NO_RESOURCES, PCP_NO_RESOURCES},
    [MAP_CANNOT_PROVIDE] = {NATPMP_NO_RESOURCES, PCP_CANNOT_PROVIDE_EXTERNAL},
    /* NAT-PMP has no "malformed": refused, as RFC 6886 section 3.5 answers what it will
     * not do. */
    [MAP_MALFORMED] = {NATPMP_REFUSED, PCP_MALFORMED_REQUEST},
    [MAP_LIMITED] = {NATPMP_NO_RESOURCES, PCP_NO_RESOURCES},
    /* FILTER is PCP's alone: NAT-PMP never gets here. */
    [MAP_EXCESSIVE] = {NATPMP_NO_RESOURCES, PCP_EXCESSIVE_REMOTE_PEERS},
};

/* NAT-PMP mapping request (RFC 6886 section 3.3): opcode 1 UDP, 2 TCP. */
static size_t natpmp_map(struct pcp_server *s, uint32_t client, const uint8_t *q, uint8_t *r)
{
	struct map_request m = {.client = client,
				.protos = q[1] == 1 ? NAPT_FWD_UDP : NAPT_FWD_TCP,
				.in_port = get16(q + 4),
				.want_port = get16(q + 6),
				.lifetime = get32(q + 8)};
	struct map_grant g;
	enum map_outcome o = pcp_server_map(s, &m, &g);

	put16(r + 2, outcome_codes[o].natpmp);
	put16(r + 8, m.in_port);
	put16(r + 10, o == MAP_OK ? g.ext_port : 0);
	put32(r + 12, o == MAP_OK ? g.lifetime : 0);
	return 16;
}

/* RFC 6886 section 3: version 0. Returns the answer's length, 0 for none. */
static size_t natpmp_answer(struct pcp_server *s, uint32_t client, const uint8_t *q, size_t len,
			    uint8_t *r)
{
	if (len < 2 || q[1] >= 128) /* a response, not a request: ignored */
		return 0;
	if (q[1] == 0)
		return natpmp_address(s, client, r);
	memset(r, 0, 16);
	r[1] = (uint8_t)(128 + q[1]);
	put32(r + 4, epoch_seconds(s));
	if ((q[1] == 1 || q[1] == 2) && len >= 12)
		return natpmp_map(s, client, q, r);
	put16(r + 2, NATPMP_UNSUPP_OPCODE);
	return 8;
}

/* PCP response header (RFC 6887 section 7.2) over the copied request. */
static void pcp_header(const struct pcp_server *s, uint8_t *r, uint8_t result, uint32_t lifetime)
{
	r[0] = 2;
	r[1] |= 0x80;
	r[2] = 0;
	r[3] = result;
	put32(r + 4, lifetime);
	put32(r + 8, epoch_seconds(s));
	memset(r + 12, 0, 12);
}

/* What an option of a request asks for (RFC 6887 section 13), one option at a time. */
struct pcp_opts {
	uint8_t opcode;
	uint32_t client; /* the request's source */
	bool third_party, prefer_failure;
	/* FILTER (section 13.3): the remote peers the mapping is to admit, in order */
	struct napt_peer_filter filters[NAPT_FWD_MAX_FILTERS];
	unsigned n_filters;
	bool excessive;     /* more than NAPT_FWD_MAX_FILTERS: EXCESSIVE_REMOTE_PEERS (7.4) */
	bool clear_filters; /* a prefix length 0 option: the lease's filters go first */
};

/* The option's length (section 13: THIRD_PARTY 16, PREFER_FAILURE 0, FILTER 20) and that it
 * comes once (THIRD_PARTY, PREFER_FAILURE; 7.4: "appears too many times") else
 * MALFORMED_OPTION; the opcodes it is valid for else MALFORMED_REQUEST (section 12.1 for
 * PREFER_FAILURE in PEER; FILTER, valid for MAP only, and THIRD_PARTY, for MAP and PEER,
 * the same way). */
static uint8_t pcp_option_form(const uint8_t *p, size_t olen, const struct pcp_opts *o)
{
	static const struct {
		uint16_t len;
		uint8_t opcodes; /* bit per opcode */
	} form[] = {[PCP_OPT_THIRD_PARTY] = {16, 1 << PCP_OP_MAP | 1 << PCP_OP_PEER},
		    [PCP_OPT_PREFER_FAILURE] = {0, 1 << PCP_OP_MAP},
		    [PCP_OPT_FILTER] = {20, 1 << PCP_OP_MAP}};
	bool again = (p[0] == PCP_OPT_THIRD_PARTY && o->third_party) ||
		     (p[0] == PCP_OPT_PREFER_FAILURE && o->prefer_failure);

	if (olen != form[p[0]].len || again)
		return PCP_MALFORMED_OPTION;
	return form[p[0]].opcodes >> o->opcode & 1 ? PCP_SUCCESS : PCP_MALFORMED_REQUEST;
}

/* FILTER (RFC 6887 section 13.3, figure 15): reserved, prefix length, remote peer port (0:
 * all ports), remote peer address. Prefix length 0 is "no filter" and removes the filters
 * before it, in the request and in the lease (section 13.3, with erratum 3891). An IPv4 remote is
 * IPv4-mapped, its prefix length 96-128 (the 96 bits of the mapped prefix, then the IPv4 prefix);
 * anything else, or an IPv6 remote (never a peer of this IPv4 NAT), is MALFORMED_OPTION. Host bits
 * past the prefix are ignored. */
static uint8_t pcp_filter(const uint8_t *p, struct pcp_opts *o)
{
	uint8_t plen = p[5];
	struct napt_peer_filter f;
	uint32_t addr;

	if (plen == 0) {
		o->n_filters = 0;
		o->excessive = false;
		o->clear_filters = true;
		return PCP_SUCCESS;
	}
	if (!get_mapped(p + 8, &addr) || plen < 96 || plen > 128)
		return PCP_MALFORMED_OPTION;
	plen -= 96;
	f = (struct napt_peer_filter){.addr = plen ? addr & htonl(0xffffffffu << (32 - plen)) : 0,
				      .port = get16(p + 6),
				      .len = plen};
	if (holds_filter(o->filters, o->n_filters, &f))
		return PCP_SUCCESS;
	if (o->n_filters == NAPT_FWD_MAX_FILTERS)
		o->excessive = true;
	else
		o->filters[o->n_filters++] = f;
	return PCP_SUCCESS;
}

/* One option the server knows (codes 1-3), well formed. */
static uint8_t pcp_option(const uint8_t *p, size_t olen, struct pcp_opts *o)
{
	uint8_t result = pcp_option_form(p, olen, o);
	uint32_t third;

	if (result != PCP_SUCCESS)
		return result;
	switch (p[0]) {
	case PCP_OPT_THIRD_PARTY:
		/* Section 13.1: naming oneself is malformed. Mapping for another host is not
		 * supported (a host maps only to itself, section 18.1's simple threat model):
		 * an unsupported mandatory option, UNSUPP_OPTION (section 7.3). */
		o->third_party = true;
		return get_mapped(p + 4, &third) && third == o->client ? PCP_MALFORMED_REQUEST
								       : PCP_UNSUPP_OPTION;
	case PCP_OPT_PREFER_FAILURE:
		o->prefer_failure = true;
		return PCP_SUCCESS;
	default:
		return pcp_filter(p, o);
	}
}

/* The options after the opcode's data (RFC 6887 section 7.3): each padded to 4 bytes and
 * inside the message, else MALFORMED_OPTION; an unknown one in the mandatory range (code <
 * 128) fails the request with UNSUPP_OPTION, an unknown optional one is skipped. The first
 * error decides. */
static uint8_t pcp_options(const uint8_t *p, size_t len, struct pcp_opts *o)
{
	while (len >= 4) {
		size_t olen = get16(p + 2), padded = (olen + 3) & ~(size_t)3;
		uint8_t result = PCP_SUCCESS;

		if (4 + padded > len)
			return PCP_MALFORMED_OPTION;
		if (p[0] >= PCP_OPT_THIRD_PARTY && p[0] <= PCP_OPT_FILTER)
			result = pcp_option(p, olen, o);
		else if (p[0] < 128)
			result = PCP_UNSUPP_OPTION;
		if (result != PCP_SUCCESS)
			return result;
		p += 4 + padded;
		len -= 4 + padded;
	}
	return len ? PCP_MALFORMED_OPTION : PCP_SUCCESS;
}

/* The options of the request in r (len bytes), whose opcode's data is data_len long. */
static uint8_t request_options(const uint8_t *r, size_t len, size_t data_len, uint32_t client,
			       struct pcp_opts *o)
{
	size_t at = PCP_HEADER_LEN + data_len;

	*o = (struct pcp_opts){.opcode = r[1] & 0x7f, .client = client};
	return pcp_options(r + at, len - at, o);
}

/* MAP (RFC 6887 section 11): r holds a copy of the request (len bytes, at least 60). */
static void pcp_map(struct pcp_server *s, uint32_t client, uint8_t *r, size_t len)
{
	uint8_t *data = r + 24, proto = data[12];
	struct map_request m = {.client = client,
				.protos = proto == IPPROTO_TCP ? NAPT_FWD_TCP : NAPT_FWD_UDP,
				.in_port = get16(data + 16),
				.want_port = get16(data + 18),
				.lifetime = get32(r + 4),
				.nonce = data};
	struct pcp_opts o;
	uint8_t result = request_options(r, len, PCP_MAP_LEN, client, &o);
	struct map_grant g = {0};

	m.prefer_failure = o.prefer_failure;
	m.filters = o.filters;
	m.n_filters = o.n_filters;
	m.clear_filters = o.clear_filters;
	/* 7.4: the filters cannot all be had; nothing is mapped or changed (long lifetime). A
	 * delete (lifetime 0) makes no filter: it deletes whatever the options. */
	if (result == PCP_SUCCESS && o.excessive && m.lifetime)
		result = PCP_EXCESSIVE_REMOTE_PEERS;

	if (result == PCP_SUCCESS && proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		result = PCP_UNSUPP_PROTOCOL; /* protocol 0 ("all") included */
	if (result == PCP_SUCCESS)
		result = outcome_codes[pcp_server_map(s, &m, &g)].pcp;
	/* Errors: a short lifetime for what may pass, a long one for refusals (7.4). */
	pcp_header(s, r, result,
		   result == PCP_SUCCESS        ? g.lifetime
		   : result == PCP_NO_RESOURCES ? 30
						: 1800);
	put16(data + 18, g.ext_port);
	put_mapped(data + 20, result == PCP_SUCCESS ? pcp_server_external_of(s, client) : 0);
}

/* The PEER request's fields (RFC 6887 section 12.1) before the engine is asked: protocol
 * and ports not 0, a remote peer and a suggested address in IPv4 (an IPv6 suggestion cannot
 * be had: CANNOT_PROVIDE_EXTERNAL, PEER implying PREFER_FAILURE). */
static uint8_t peer_fields(const uint8_t *data, struct napt_peer_request *q)
{
	static const uint8_t any6[16];

	if (!q->proto || !q->in_port || !q->rem_port || !get_mapped(data + 40, &q->rem_addr))
		return PCP_MALFORMED_REQUEST;
	if (q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP)
		return PCP_UNSUPP_PROTOCOL;
	if (memcmp(data + 20, any6, sizeof(any6)) != 0 && !get_mapped(data + 20, &q->want_addr))
		return PCP_CANNOT_PROVIDE_EXTERNAL;
	return PCP_SUCCESS;
}

/* What the engine's answer to a PEER request is in PCP (section 7.4). */
static uint8_t peer_result(int rc, const struct napt_peer_grant *g)
{
	if (rc > 0)
		return PCP_CANNOT_PROVIDE_EXTERNAL;
	if (rc == 0)
		return PCP_SUCCESS;
	if (g->why == NAPT_DROP_NOT_NAT) /* a remote peer inside, or one of our addresses */
		return PCP_MALFORMED_REQUEST;
	if (g->why == NAPT_DROP_HOST_SESSIONS || g->why == NAPT_DROP_HOST_PORTS)
		return PCP_USER_EX_QUOTA;
	return PCP_NO_RESOURCES;
}

/* The lifetime a PEER mapping gets: the session lives as long as the engine keeps it idle,
 * so no more than that (section 15: the server may shorten it; the client renews at half,
 * and each renewal restarts the idle timer as a packet would). A PEER request never shortens
 * nor deletes a mapping (section 12.1): lifetime 0 gets what is there. */
static uint32_t peer_lifetime(uint32_t asked, uint32_t idle_s)
{
	return granted_lifetime(asked && asked < idle_s ? asked : idle_s);
}

/* PEER (RFC 6887 section 12): the dynamic mapping the client's flow to the remote peer
 * uses, made if it is not there, as by its first packet; same host rules and budget as MAP.
 * r holds a copy of the request (len bytes, at least 80). */
static void pcp_peer(struct pcp_server *s, uint32_t client, uint8_t *r, size_t len)
{
	uint8_t *data = r + PCP_HEADER_LEN;
	struct napt_peer_request q = {.proto = data[12],
				      .in_addr = client,
				      .in_port = get16(data + 16),
				      .want_port = get16(data + 18),
				      .rem_port = get16(data + 36)};
	struct napt_peer_grant g = {0};
	struct pcp_opts o;
	uint8_t result = request_options(r, len, PCP_PEER_LEN, client, &o);

	if (result == PCP_SUCCESS)
		result = peer_fields(data, &q);
	if (result == PCP_SUCCESS && !may_map(&s->d->file_cfg.daemon, client, false))
		result = PCP_NOT_AUTHORIZED;
	if (result == PCP_SUCCESS && !within_rate(s, client)) {
		s->d->pcp_limited++;
		result = PCP_NO_RESOURCES;
	}
	if (result == PCP_SUCCESS)
		result = peer_result(napt_peer(s->d->nat, &q, naptd_now_ms(), &g), &g);
	pcp_header(s, r, result,
		   result == PCP_SUCCESS ? peer_lifetime(get32(r + 4), g.idle_s)
		   : result == PCP_NO_RESOURCES || result == PCP_USER_EX_QUOTA ? 30
									       : 1800);
	put16(data + 18, result == PCP_SUCCESS ? g.ext_port : 0);
	put_mapped(data + 20, result == PCP_SUCCESS ? g.ext_addr : 0);
}

/* ANNOUNCE (RFC 6887 section 14.1): no data; its options are checked as any request's. */
static void pcp_announce(struct pcp_server *s, uint32_t client, uint8_t *r, size_t len)
{
	struct pcp_opts o;
	uint8_t result = request_options(r, len, 0, client, &o);

	pcp_header(s, r, result, result == PCP_SUCCESS ? 0 : 1800);
}

/* RFC 6887: version 2. r receives the answer (a copy of the request, then the changes). */
static size_t pcp_answer(struct pcp_server *s, uint32_t client, const uint8_t *q, size_t len,
			 uint8_t *r)
{
	uint8_t op;
	uint32_t said;

	if (len < 2 || (q[1] & 0x80)) /* section 8.3: too short, or a response */
		return 0;
	op = q[1] & 0x7f;
	if (len > PCP_MSG_MAX)
		len = PCP_MSG_MAX;
	memset(r, 0, 24);
	memcpy(r, q, len);
	if (len < 24 || len % 4) {
		pcp_header(s, r, PCP_MALFORMED_REQUEST, 1800);
		return len < 24 ? 24 : len;
	}
	if (!get_mapped(q + 8, &said) || said != client)
		pcp_header(s, r, PCP_ADDRESS_MISMATCH, 1800);
	else if (op == PCP_OP_ANNOUNCE)
		pcp_announce(s, client, r, len);
	else if (op == PCP_OP_MAP && len >= PCP_HEADER_LEN + PCP_MAP_LEN)
		pcp_map(s, client, r, len);
	else if (op == PCP_OP_PEER && len >= PCP_HEADER_LEN + PCP_PEER_LEN)
		pcp_peer(s, client, r, len);
	else
		pcp_header(s, r,
			   op == PCP_OP_MAP || op == PCP_OP_PEER ? PCP_MALFORMED_REQUEST
								 : PCP_UNSUPP_OPCODE,
			   1800);
	return len;
}

static size_t answer(struct pcp_server *s, uint32_t client, const uint8_t *q, size_t len,
		     uint8_t *r)
{
	if (len >= 1 && q[0] == 0)
		return natpmp_answer(s, client, q, len, r);
	if (len >= 1 && q[0] == 2)
		return pcp_answer(s, client, q, len, r);
	if (len < 2 || (q[1] & 0x80))
		return 0;
	/* RFC 6887 section 9: another version gets UNSUPP_VERSION with ours. */
	memset(r, 0, 24);
	r[1] = q[1];
	pcp_header(s, r, PCP_UNSUPP_VERSION, 1800);
	return 24;
}

/* The interface a datagram came in on (IP_PKTINFO), 0 when the kernel did not say. */
static unsigned arrival_ifindex(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct in_pktinfo pi;

		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
			continue;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		return (unsigned)pi.ipi_ifindex;
	}
	return 0;
}

/* Linux takes a datagram for the LAN address on any interface: a WAN neighbour routing the
 * inside prefix at us could forge a request from an inside host and open a forward to it.
 * Only what came in on lan-interface from an inside address is a request (RFC 6887 section
 * 8.1: the server listens on its internal interfaces; RFC 6886 section 3: the gateway's
 * internal address). */
static bool from_lan(const struct pcp_server *s, unsigned ifindex, uint32_t client)
{
	return ifindex == s->lan_ifindex && napt_config_inside(napt_get_config(s->d->nat), client);
}

/* One datagram into q: its length, or -1 when none is left. */
static ssize_t receive(int fd, uint8_t *q, size_t cap, struct sockaddr_in *from, unsigned *ifindex)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = q, .iov_len = cap};
	struct msghdr mh = {.msg_name = from,
			    .msg_namelen = sizeof(*from),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(fd, &mh, 0);

	*ifindex = n < 0 ? 0 : arrival_ifindex(&mh);
	return n;
}

static void serve(struct pcp_server *s, int fd)
{
	uint8_t q[PCP_MSG_MAX + 4], r[PCP_MSG_MAX + 4];

	/* A bounded number per wake-up: a flood cannot starve the TUN. */
	for (int i = 0; i < 32; i++) {
		struct sockaddr_in from;
		unsigned ifindex;
		ssize_t n = receive(fd, q, sizeof(q), &from, &ifindex);
		size_t rlen;

		if (n < 0)
			return;
		if (!from_lan(s, ifindex, from.sin_addr.s_addr)) {
			s->d->pcp_not_lan++; /* no answer: the forger learns nothing */
			continue;
		}
		rlen = answer(s, from.sin_addr.s_addr, q, (size_t)n, r);
		if (rlen)
			sendto(fd, r, rlen, 0, (struct sockaddr *)&from, sizeof(from));
	}
}

/* Unsolicited, to all hosts: NAT-PMP's address announcement (RFC 6886 section 3.2.1) and
 * PCP's ANNOUNCE (RFC 6887 section 14.1.3), once per socket. */
static void announce(struct pcp_server *s)
{
	struct sockaddr_in all = {.sin_family = AF_INET, .sin_port = htons(PCP_CLIENT_PORT)};
	uint8_t msg[24] = {0};

	all.sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP);
	for (unsigned i = 0; i < s->n_socks; i++) {
		size_t len = natpmp_address(s, 0, msg);

		sendto(s->socks[i], msg, len, 0, (struct sockaddr *)&all, sizeof(all));
		memset(msg, 0, sizeof(msg));
		pcp_header(s, msg, PCP_SUCCESS, 0);
		sendto(s->socks[i], msg, 24, 0, (struct sockaddr *)&all, sizeof(all));
	}
}

/* Send one announcement of the series, and set the timer for the next. */
static void announce_next(struct pcp_server *s)
{
	struct itimerspec next = {
	    .it_value = {.tv_sec = s->announce_gap_ms / 1000,
			 .tv_nsec = (long)(s->announce_gap_ms % 1000) * 1000000}};

	announce(s);
	if (--s->announcements_left == 0)
		return;
	s->announce_gap_ms *= 2;
	if (timerfd_settime(s->announce_timerfd, 0, &next, NULL) != 0)
		daemon_log(LOG_WARNING, "pcp: announcement timer: %s", strerror(errno));
}

/* A new series, at start and on an address change; one under way starts over. */
static void announce_series(struct pcp_server *s)
{
	s->announcements_left = ANNOUNCEMENTS;
	s->announce_gap_ms = ANNOUNCE_FIRST_GAP_MS;
	announce_next(s);
}

/* ---- set-up ---- */

static int open_socket(struct pcp_server *s, const struct sockaddr_in *addr, char *err,
		       size_t errlen)
{
	struct sockaddr_in at = *addr;
	struct in_addr ifaddr = addr->sin_addr;
	struct epoll_event e = {.events = EPOLLIN};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;

	at.sin_port = htons(PCP_SERVER_PORT);
	e.data.fd = fd;
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) != 0 ||
	    bind(fd, (struct sockaddr *)&at, sizeof(at)) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof(ifaddr)) != 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
		char a[INET_ADDRSTRLEN];

		snprintf(err, errlen, "pcp: %s:%d: %s",
			 inet_ntop(AF_INET, &at.sin_addr, a, sizeof(a)), PCP_SERVER_PORT,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	s->socks[s->n_socks++] = fd;
	return 0;
}

/* One socket per IPv4 address of lan-interface: answers leave from the address the client
 * asked (RFC 6887 section 8.3 has the client check it). */
static int open_sockets(struct pcp_server *s, const char *lan, char *err, size_t errlen)
{
	struct ifaddrs *list, *a;
	int rc = 0;

	s->lan_ifindex = lan[0] ? if_nametoindex(lan) : 0;
	if (!s->lan_ifindex || getifaddrs(&list) != 0) {
		snprintf(err, errlen, "pcp-allow needs lan-interface (its addresses are served)");
		return -1;
	}
	for (a = list; a && rc == 0; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET &&
		    strcmp(a->ifa_name, lan) == 0 && s->n_socks < PCP_MAX_SOCKETS)
			rc = open_socket(s, (const struct sockaddr_in *)a->ifa_addr, err, errlen);
	freeifaddrs(list);
	if (rc == 0 && s->n_socks == 0) {
		snprintf(err, errlen, "pcp: lan-interface %s has no IPv4 address", lan);
		rc = -1;
	}
	return rc;
}

/* A timer in the inner epoll: the module keeps its single fd (pcp_server_fd). */
static int open_timer(struct pcp_server *s, int *fd, const struct itimerspec *when, char *err,
		      size_t errlen)
{
	struct epoll_event e = {.events = EPOLLIN};

	*fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	e.data.fd = *fd;
	if (*fd < 0 || timerfd_settime(*fd, 0, when, NULL) != 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, *fd, &e) != 0) {
		snprintf(err, errlen, "pcp: timer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int open_timers(struct pcp_server *s, char *err, size_t errlen)
{
	/* Leases end to the tick; the announcement timer waits, disarmed, for a series. */
	static const struct itimerspec every_tick = {
	    .it_interval = {TICK_MS / 1000, TICK_MS % 1000 * 1000000L},
	    .it_value = {TICK_MS / 1000, TICK_MS % 1000 * 1000000L}};
	static const struct itimerspec disarmed;

	if (open_timer(s, &s->timerfd, &every_tick, err, errlen) != 0)
		return -1;
	return open_timer(s, &s->announce_timerfd, &disarmed, err, errlen);
}

/* RFC 6887 section 8.5: the epoch restarts only when the mappings are lost; those in the
 * state file were not. */
static void start_epoch(struct pcp_server *s)
{
	struct runtime_state *st = &s->d->runtime;

	if (!st->epoch_start || !st->n_leases)
		st->epoch_start = wall_now();
	expire_leases(s);
	if (s->d->file_cfg.daemon.state[0])
		save_now(s);
}

static int server_start(struct pcp_server *s, char *err, size_t errlen)
{
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		snprintf(err, errlen, "pcp: %s", strerror(errno));
		return -1;
	}
	if (open_timers(s, err, errlen) != 0 ||
	    open_sockets(s, s->d->file_cfg.daemon.lan_interface, err, errlen) != 0)
		return -1;
	start_epoch(s);
	announce_series(s);
	daemon_log(LOG_INFO, "pcp: NAT-PMP and PCP on port %d of %s, %u rules", PCP_SERVER_PORT,
		   s->d->file_cfg.daemon.lan_interface, s->d->file_cfg.daemon.n_pcp_rules);
	return 0;
}

int pcp_server_open(struct naptd *d, struct pcp_server **out, char *err, size_t errlen)
{
	struct pcp_server *s;

	*out = NULL;
	if (!may_map(&d->file_cfg.daemon, 0, true)) /* nobody may map: no server */
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "pcp: out of memory");
		return -1;
	}
	s->d = d;
	s->epfd = s->timerfd = s->announce_timerfd = -1;
	if (getrandom(&s->rate_key, sizeof(s->rate_key), GRND_NONBLOCK) < 0)
		s->rate_key = (uint32_t)wall_now();
	if (server_start(s, err, errlen) != 0) {
		pcp_server_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int pcp_server_fd(const struct pcp_server *s)
{
	return s->epfd;
}

static void lease_tick(struct pcp_server *s)
{
	expire_leases(s);
	flush_leases(s);
}

void pcp_server_dispatch(struct pcp_server *s)
{
	struct epoll_event events[PCP_MAX_SOCKETS + 2];
	int n = epoll_wait(s->epfd, events, PCP_MAX_SOCKETS + 2, 0);

	for (int i = 0; i < n; i++) {
		int fd = events[i].data.fd;
		uint64_t ticks;

		if (fd != s->timerfd && fd != s->announce_timerfd)
			serve(s, fd);
		else if (read(fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
			continue;
		else if (fd == s->timerfd)
			lease_tick(s);
		else
			announce_next(s);
	}
}

void pcp_server_address_changed(struct pcp_server *s)
{
	if (s)
		announce_series(s);
}

void pcp_server_close(struct pcp_server *s)
{
	if (!s)
		return;
	flush_leases(s); /* a clean stop keeps every lease acknowledged */
	if (s->writer) {
		char err[512];

		write_failed(runtime_state_writer_stop(s->writer, err, sizeof(err)), err);
	}
	for (unsigned i = 0; i < s->n_socks; i++)
		close(s->socks[i]);
	if (s->timerfd >= 0)
		close(s->timerfd);
	if (s->announce_timerfd >= 0)
		close(s->announce_timerfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}
