/* SPDX-License-Identifier: BSD-2-Clause */
/* instance.c - making, changing and reading an engine instance (everything but packets). */
#include "napt_instance.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_state.h"

static void apply_timeouts(struct napt *n)
{
	for (int c = 0; c < NAPT_TIMEOUT_CLASSES; c++)
		nat_table_set_timeout(n->table, (enum napt_timeout_class)c,
				      n->cfg.timeout_s[c] * 1000u);
	port_pool_set_rest(nat_table_ports(n->table), n->cfg.port_rest_s * 1000u);
}

void instance_index_externals(struct napt *n)
{
	memset(n->ext_by_octet, 0, sizeof(n->ext_by_octet));
	for (unsigned i = 0; i < n->cfg.n_external; i++) {
		uint8_t *slot = &n->ext_by_octet[((const uint8_t *)&n->cfg.external[i])[3]];

		*slot = *slot ? EXT_OCTET_SHARED : (uint8_t)(i + 1);
	}
}

/* Per-host counting costs memory and a little time per flow: only while a limit is set or
 * hosts hold port blocks. */
static int apply_host_limits(struct napt *n, char *err, size_t errlen)
{
	/* Dynamic NAT keeps a host's address while the host holds a session: it counts too. */
	bool want = n->cfg.max_sessions_per_host || n->cfg.ports_per_host ||
		    n->cfg.mode == NAPT_MODE_DYNAMIC || n->blocks;

	if (want && !n->hosts) {
		n->hosts = host_limits_create(n->cfg.max_sessions, &n->hash_key);
		if (!n->hosts) {
			snprintf(err, errlen, "out of memory for per-host limits");
			return -1;
		}
		nat_table_count_hosts(n->table, n->hosts);
	} else if (!want && n->hosts) {
		nat_table_count_hosts(n->table, NULL);
		host_limits_destroy(n->hosts);
		n->hosts = NULL;
	}
	return 0;
}

/* The external addresses of the deterministic prefix are kept for its hosts. */
static void apply_deterministic(struct napt *n)
{
	n->det_externals = 0;
	if (!n->cfg.det.on)
		return;
	det_layout_make(&n->cfg, &n->det, NULL, 0); /* validated already */
	for (unsigned i = 0; i < n->cfg.n_external; i++)
		if (napt_config_det_external(&n->cfg, n->cfg.external[i]))
			n->det_externals |= 1u << i;
}

static int make_blocks(struct napt *n, char *err, size_t errlen)
{
	const struct napt_config *c = &n->cfg;

	if (!c->port_block_size)
		return 0;
	n->blocks = port_blocks_create((uint16_t)c->port_block_size, c->port_lo, c->port_hi,
				       NAPT_MAX_EXTERNAL);
	if (!n->blocks) {
		snprintf(err, errlen, "out of memory for port blocks");
		return -1;
	}
	nat_table_use_blocks(n->table, n->blocks);
	return 0;
}

struct napt *napt_create_keyed(const struct napt_config *cfg, const struct napt_secrets *secrets,
			       char *err, size_t errlen)
{
	struct napt *n;

	if (napt_config_validate(cfg, err, errlen) < 0)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->cfg = *cfg;
	n->cfg.n_forwards = 0;
	instance_index_externals(n);
	prng_seed(&n->rng, secrets->port_seed);
	n->hash_key = (struct siphash_key){secrets->hash_key[0], secrets->hash_key[1]};
	n->table = nat_table_create(cfg->max_sessions, &n->hash_key, &n->counters, cfg->external,
				    cfg->n_external);
	if (!n->table) {
		snprintf(err, errlen, "out of memory for max-sessions %u", cfg->max_sessions);
		free(n);
		return NULL;
	}
	apply_timeouts(n);
	apply_deterministic(n);
	if (make_blocks(n, err, errlen) < 0 || apply_host_limits(n, err, errlen) < 0) {
		napt_destroy(n);
		return NULL;
	}
	forward_rules_clear(&n->fwd);
	frag_table_init(&n->frag, &n->hash_key);
	addr_pool_init(&n->pool, cfg->n_external);
	for (unsigned i = 0; i < cfg->n_forwards; i++) {
		if (napt_forward_add(n, &cfg->forwards[i], err, errlen) < 0) {
			napt_destroy(n);
			return NULL;
		}
	}
	return n;
}

struct napt *napt_create(const struct napt_config *cfg, uint64_t seed, char *err, size_t errlen)
{
	struct napt_secrets s = {.port_seed = seed};
	struct prng derive;

	prng_seed(&derive, ~seed);
	s.hash_key[0] = prng_next(&derive);
	s.hash_key[1] = prng_next(&derive);
	return napt_create_keyed(cfg, &s, err, errlen);
}

void napt_destroy(struct napt *n)
{
	if (!n)
		return;
	nat_table_destroy(n->table);
	host_limits_destroy(n->hosts);
	nat_events_destroy(n->events);
	port_blocks_destroy(n->blocks);
	free(n);
}

/* ---- ending sessions that a rule change closes ---- */

struct mapping_filter {
	bool by_ext; /* only mappings on external address number ext_index */
	uint8_t ext_index;
	uint8_t origin;
	uint8_t protos; /* NAPT_FWD_* bits; 0 = any */
	uint16_t port_lo, port_hi;
	bool any_origin_but_forward;
};

static bool proto_in(uint8_t proto, uint8_t protos)
{
	return !protos || (proto == IPPROTO_TCP && (protos & NAPT_FWD_TCP)) ||
	       (proto == IPPROTO_UDP && (protos & NAPT_FWD_UDP));
}

static int remove_if_matches(struct nat_table *t, uint32_t idx, void *ctx)
{
	const struct mapping_filter *f = ctx;
	const struct nat_mapping *m = nat_mapping_at(t, idx);

	if (f->by_ext) {
		if (m->ext_index == f->ext_index)
			nat_mapping_remove(t, idx);
		return 0;
	}
	if (f->any_origin_but_forward ? m->origin == NAPT_ORIGIN_FORWARD : m->origin != f->origin)
		return 0;
	if (!proto_in(m->proto, f->protos) || m->ext_port < f->port_lo || m->ext_port > f->port_hi)
		return 0;
	nat_mapping_remove(t, idx);
	return 0;
}

/* A hash lookup costs about as much as 16 slots of the walk over the whole table. */
#define LOOKUP_COST_IN_SLOTS 16

/* A forward of a few ports (as NAT-PMP and PCP make) looks its ports up, so adding or
 * removing one costs the same at any table size; a wide range, the DMZ (every port) or an
 * external address walks the table once. */
static void remove_mappings(struct napt *n, struct mapping_filter f)
{
	static const uint8_t protos[NAPT_PROTOS] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
	uint64_t lookups = ((uint64_t)f.port_hi - f.port_lo + 1) * n->cfg.n_external * NAPT_PROTOS;

	if (!n->counters.mappings_current)
		return;
	if (f.by_ext || lookups * LOOKUP_COST_IN_SLOTS >= n->cfg.max_sessions) {
		nat_table_each_mapping(n->table, remove_if_matches, &f);
		return;
	}
	for (unsigned p = 0; p < NAPT_PROTOS; p++)
		for (unsigned e = 0; proto_in(protos[p], f.protos) && e < n->cfg.n_external; e++)
			for (uint32_t port = f.port_lo; port <= f.port_hi; port++)
				nat_table_each_mapping_on(n->table, protos[p], e, (uint16_t)port,
							  remove_if_matches, &f);
}

/* ---- the open ports (napt_port_watch) ---- */

static void tell_port(struct napt *n, uint8_t proto, unsigned ext, uint16_t port)
{
	n->port_watch(n->port_watch_ctx, proto, ext, port, napt_port_open(n, proto, ext, port));
}

static void watch_mapping(void *ctx, const struct nat_mapping *m)
{
	tell_port(ctx, m->proto, m->ext_index, m->ext_port);
}

/* A forward is looked up on every external address (a deterministic one aside, which
 * napt_port_open() answers for). */
static void watch_forward(struct napt *n, const struct napt_forward *f)
{
	static const uint8_t protos[2] = {IPPROTO_TCP, IPPROTO_UDP};

	for (unsigned p = 0; n->port_watch && p < 2; p++)
		for (unsigned e = 0; proto_in(protos[p], f->protos) && e < n->cfg.n_external; e++)
			for (uint32_t port = f->ext_lo; port <= f->ext_hi; port++)
				tell_port(n, protos[p], e, (uint16_t)port);
}

void napt_port_watch(struct napt *n, napt_port_watch_fn fn, void *ctx)
{
	n->port_watch = fn;
	n->port_watch_ctx = ctx;
	nat_table_watch_ports(n->table, fn ? watch_mapping : NULL, n);
}

/* ---- rules ---- */

/* Field by field: the structs have padding that parsers need not clear. */
static bool forward_equal(const struct napt_forward *a, const struct napt_forward *b)
{
	return a->protos == b->protos && a->ext_lo == b->ext_lo && a->ext_hi == b->ext_hi &&
	       a->in_addr == b->in_addr && a->in_lo == b->in_lo;
}

static bool prefixes_equal(const struct napt_config *a, const struct napt_config *b)
{
	if (a->n_inside != b->n_inside)
		return false;
	for (unsigned i = 0; i < a->n_inside; i++)
		if (a->inside[i].addr != b->inside[i].addr || a->inside[i].len != b->inside[i].len)
			return false;
	return true;
}

/* Config refuses forwards and the DMZ with mode dynamic (napt_config.c, check_mode): a pool
 * address belongs to the host that holds it, so the run-time ones (naptctl, NAT-PMP/PCP)
 * are refused alike, or they would open it to the world or share its endpoints. */
static int dynamic_refuses(const struct napt *n, const char *what, char *err, size_t errlen)
{
	if (n->cfg.mode != NAPT_MODE_DYNAMIC)
		return 0;
	snprintf(err, errlen,
		 "'mode dynamic' does not go with %s (the addresses belong to the "
		 "hosts that hold them)",
		 what);
	return -1;
}

int napt_forward_add(struct napt *n, const struct napt_forward *fwd, char *err, size_t errlen)
{
	if (dynamic_refuses(n, "'forward'", err, errlen) < 0)
		return -1;
	/* Easy IP: the router's own ports never reach the engine (napt_config.h). */
	if (napt_config_hides_local(&n->cfg, fwd->protos, fwd->ext_lo, fwd->ext_hi, err, errlen))
		return -1;
	if (forward_rules_add(&n->fwd, fwd, err, errlen) < 0)
		return -1;
	n->cfg.forwards[n->cfg.n_forwards++] = *fwd;
	/* A forward wins over dynamic and DMZ mappings holding its ports (rfc-checklist F.53). */
	remove_mappings(n, (struct mapping_filter){.protos = fwd->protos,
						   .port_lo = fwd->ext_lo,
						   .port_hi = fwd->ext_hi,
						   .any_origin_but_forward = true});
	watch_forward(n, fwd);
	return 0;
}

int napt_forward_del(struct napt *n, uint8_t protos, uint16_t ext_port)
{
	struct napt_forward gone;
	struct napt_config *c = &n->cfg;

	if (forward_rules_del(&n->fwd, protos, ext_port, &gone) < 0)
		return -1;
	for (unsigned i = 0; i < c->n_forwards; i++) {
		if (forward_equal(&c->forwards[i], &gone)) {
			memmove(&c->forwards[i], &c->forwards[i + 1],
				(c->n_forwards - i - 1) * sizeof(gone));
			c->n_forwards--;
			break;
		}
	}
	/* The door closes for connections already open through it too. */
	remove_mappings(n, (struct mapping_filter){.origin = NAPT_ORIGIN_FORWARD,
						   .protos = gone.protos,
						   .port_lo = gone.ext_lo,
						   .port_hi = gone.ext_hi});
	watch_forward(n, &gone);
	return 0;
}

/* A forward's session from a remote its filters no longer admit ends (the forward's own
 * mapping only: a lease's port holds no other). */
static int end_refused_sessions(struct nat_table *t, uint32_t idx, void *ctx)
{
	const struct napt_forward *f = ctx;
	uint32_t i = nat_mapping_at(t, idx)->sessions;

	if (nat_mapping_at(t, idx)->origin != NAPT_ORIGIN_FORWARD)
		return 0;
	while (i) {
		const struct nat_session *s = nat_session_at(t, i);
		uint32_t next = s->sib_next; /* removing the last one removes the mapping */

		if (!napt_forward_admits(f, s->rem_addr, s->rem_port))
			nat_session_remove(t, i, false);
		i = next;
	}
	return 0;
}

int napt_forward_filter(struct napt *n, uint8_t protos, uint16_t ext_port,
			const struct napt_peer_filter *f, unsigned count)
{
	static const uint8_t proto_of[] = {IPPROTO_TCP, IPPROTO_UDP};
	struct napt_forward *r = forward_rules_set_filters(&n->fwd, protos, ext_port, f, count);
	struct napt_config *c = &n->cfg;

	if (!r)
		return -1;
	for (unsigned i = 0; i < c->n_forwards; i++)
		if (forward_equal(&c->forwards[i], r))
			c->forwards[i] = *r;
	for (unsigned b = 0; b < 2; b++)
		for (unsigned e = 0; (r->protos >> b & 1) && e < c->n_external; e++)
			for (uint32_t p = r->ext_lo; p <= r->ext_hi; p++)
				nat_table_each_mapping_on(n->table, proto_of[b], e, (uint16_t)p,
							  end_refused_sessions, r);
	return 0;
}

static void end_dmz_sessions(struct napt *n)
{
	remove_mappings(n, (struct mapping_filter){.origin = NAPT_ORIGIN_DMZ, .port_hi = 65535});
}

int napt_dmz_set(struct napt *n, uint32_t addr, char *err, size_t errlen)
{
	if (dynamic_refuses(n, "'dmz'", err, errlen) < 0)
		return -1;
	if (n->cfg.has_dmz && n->cfg.dmz != addr)
		end_dmz_sessions(n);
	n->cfg.has_dmz = true;
	n->cfg.dmz = addr;
	return 0;
}

int napt_external_replace(struct napt *n, uint32_t old_addr, uint32_t new_addr)
{
	struct napt_config *c = &n->cfg;
	unsigned i;

	for (i = 0; i < c->n_external && c->external[i] != old_addr; i++)
		;
	if (i == c->n_external || !new_addr || n->det_externals >> i & 1)
		return -1; /* the deterministic formula names its addresses */
	for (unsigned j = 0; j < c->n_external; j++)
		if (c->external[j] == new_addr)
			return -1;
	for (unsigned j = 0; j < c->n_inside; j++)
		if ((new_addr & c->inside[j].mask) == c->inside[j].addr)
			return -1; /* RFC 4787 REQ-7 */
	for (unsigned j = 0; j < c->n_statics; j++)
		if (c->statics[j].ext_addr == new_addr)
			return -1;
	/* The peers of mappings on the old address cannot reach them any more. */
	remove_mappings(n, (struct mapping_filter){.by_ext = true, .ext_index = (uint8_t)i});
	c->external[i] = new_addr;
	instance_index_externals(n);
	nat_table_set_external(n->table, i, new_addr);
	return 0;
}

void napt_dmz_clear(struct napt *n)
{
	if (n->cfg.has_dmz)
		end_dmz_sessions(n);
	n->cfg.has_dmz = false;
	n->cfg.dmz = 0;
}

int napt_timeout_set(struct napt *n, enum napt_timeout_class c, uint32_t seconds)
{
	if ((unsigned)c >= NAPT_TIMEOUT_CLASSES || !seconds || seconds > NAPT_MAX_TIMEOUT_S)
		return -1;
	n->cfg.timeout_s[c] = seconds;
	nat_table_set_timeout(n->table, c, seconds * 1000u);
	return 0;
}

void napt_flush(struct napt *n)
{
	nat_table_flush(n->table);
	frag_table_init(&n->frag, &n->hash_key);
}

/* What napt_reconfigure() cannot change in place. */
static int check_fixed(const struct napt_config *old, const struct napt_config *new, char *err,
		       size_t errlen)
{
	const char *what = NULL;

	if (old->max_sessions != new->max_sessions)
		what = "max-sessions";
	else if (old->mode != new->mode)
		what = "mode";
	else if (old->n_external != new->n_external ||
		 memcmp(old->external, new->external, old->n_external * sizeof(uint32_t)))
		what = "external addresses";
	else if (!prefixes_equal(old, new))
		what = "inside prefixes";
	else if (old->port_block_size != new->port_block_size ||
		 (old->port_block_size &&
		  (old->port_lo != new->port_lo || old->port_hi != new->port_hi)))
		what = "port-block-size";
	else if (memcmp(&old->det, &new->det, sizeof(old->det)) ||
		 (old->det.on && (old->port_lo != new->port_lo || old->port_hi != new->port_hi)))
		what = "deterministic NAT";
	if (!what)
		return 0;
	snprintf(err, errlen, "changing %s needs a restart", what);
	return -1;
}

static bool has_forward(const struct napt_config *c, const struct napt_forward *f)
{
	for (unsigned i = 0; i < c->n_forwards; i++)
		if (forward_equal(&c->forwards[i], f))
			return true;
	return false;
}

int napt_reconfigure(struct napt *n, const struct napt_config *cfg, uint64_t now_ms, char *err,
		     size_t errlen)
{
	struct napt_config old = n->cfg;

	if (napt_config_validate(cfg, err, errlen) < 0 || check_fixed(&old, cfg, err, errlen) < 0)
		return -1;
	/* Before the forwards: napt_forward_add() checks them against the new ones. */
	memcpy(n->cfg.local_services, cfg->local_services, sizeof(cfg->local_services));
	n->cfg.n_local_services = cfg->n_local_services;
	n->cfg.local_ports_lo = cfg->local_ports_lo;
	n->cfg.local_ports_hi = cfg->local_ports_hi;
	for (unsigned i = 0; i < old.n_forwards; i++)
		if (!has_forward(cfg, &old.forwards[i]))
			napt_forward_del(n, old.forwards[i].protos, old.forwards[i].ext_lo);
	for (unsigned i = 0; i < cfg->n_forwards; i++) {
		/* Validation ruled out overlaps, so adding cannot fail. */
		if (!has_forward(&n->cfg, &cfg->forwards[i]) &&
		    napt_forward_add(n, &cfg->forwards[i], err, errlen) < 0)
			return -1;
	}
	if (!cfg->has_dmz)
		napt_dmz_clear(n);
	else if (napt_dmz_set(n, cfg->dmz, err, errlen) < 0)
		return -1;
	n->cfg.port_lo = cfg->port_lo;
	n->cfg.port_hi = cfg->port_hi;
	n->cfg.mapping = cfg->mapping;
	n->cfg.filtering = cfg->filtering;
	n->cfg.port_preservation = cfg->port_preservation;
	n->cfg.port_parity = cfg->port_parity;
	n->cfg.unsolicited_syn = cfg->unsolicited_syn;
	n->cfg.mss_clamp = cfg->mss_clamp;
	n->cfg.refused_flows_icmp = cfg->refused_flows_icmp;
	n->cfg.max_sessions_per_host = cfg->max_sessions_per_host;
	n->cfg.ports_per_host = cfg->ports_per_host;
	n->cfg.port_rest_s = cfg->port_rest_s;
	n->cfg.dynamic_fallback_napt = cfg->dynamic_fallback_napt;
	memcpy(n->cfg.statics, cfg->statics, sizeof(cfg->statics));
	n->cfg.n_statics = cfg->n_statics;
	memcpy(n->cfg.timeout_s, cfg->timeout_s, sizeof(cfg->timeout_s));
	n->cfg.daemon = cfg->daemon;
	apply_timeouts(n);
	if (apply_host_limits(n, err, errlen) < 0)
		return -1;
	/* Sessions whose class timeout got shorter go now, not at their next packet. */
	napt_expire(n, now_ms);
	return 0;
}

const struct napt_config *napt_get_config(const struct napt *n)
{
	return &n->cfg;
}

/* ---- views ---- */

struct session_walk {
	uint32_t now;
	napt_session_fn fn;
	void *ctx;
};

static int visit_session(const struct nat_table *t, uint32_t idx, void *ctx)
{
	const struct session_walk *w = ctx;
	const struct nat_session *s = nat_session_at(t, idx);
	uint32_t idle = w->now - s->last_ms;
	uint32_t timeout = nat_table_timeout(t, (enum napt_timeout_class)s->tclass);
	struct napt_session_info info = {
	    SESSION_RECORD_FIELDS(t, s, w->now),
	    .state = s->proto == IPPROTO_TCP ? tcp_state_name(tcp_state_of(s->tcp_seen)) : "-",
	    .origin = (enum napt_origin)s->origin,
	    .expires_in_ms = idle < timeout ? timeout - idle : 0,
	};

	return w->fn(&info, w->ctx);
}

uint32_t napt_walk_sessions(const struct napt *n, uint64_t now_ms, uint32_t cursor,
			    uint32_t positions, napt_session_fn fn, void *ctx)
{
	struct session_walk w = {(uint32_t)now_ms, fn, ctx};

	return nat_table_walk_sessions(n->table, cursor, positions, visit_session, &w);
}

struct mapping_walk {
	napt_mapping_fn fn;
	void *ctx;
};

static int visit_mapping(struct nat_table *t, uint32_t idx, void *ctx)
{
	const struct mapping_walk *w = ctx;
	const struct nat_mapping *m = nat_mapping_at(t, idx);
	struct napt_mapping_info info = {
	    .proto = m->proto,
	    .in_addr = m->in_addr,
	    .ext_addr = nat_table_ext_addr(t, m->ext_index),
	    .in_port = m->in_port,
	    .ext_port = m->ext_port,
	    .origin = (enum napt_origin)m->origin,
	    .sessions = nat_mapping_sessions(t, idx),
	    .rem_addr = m->rem_addr,
	    .rem_port = m->rem_port,
	};

	return w->fn(&info, w->ctx);
}

uint32_t napt_block_holder(const struct napt *n, uint32_t ext_addr, uint16_t port, uint16_t *lo,
			   uint16_t *hi)
{
	for (unsigned e = 0; n->blocks && e < n->cfg.n_external; e++) {
		uint32_t id =
		    n->cfg.external[e] == ext_addr ? port_blocks_of(n->blocks, e, port) : 0;
		unsigned ext;

		if (id && n->blocks->b[id - 1].owner) {
			port_blocks_range(n->blocks, id - 1, &ext, lo, hi);
			return n->blocks->b[id - 1].owner;
		}
	}
	return 0;
}

bool napt_port_mapped(struct napt *n, uint8_t proto, uint16_t port)
{
	for (unsigned e = 0; e < n->cfg.n_external; e++) {
		struct nat_key k = {
		    .addr = nat_table_ext_addr(n->table, e), .port = port, .proto = proto};

		if (nat_mapping_find_out(n->table, &k))
			return true;
	}
	return false;
}

bool instance_host_busy(void *ctx, uint32_t host)
{
	const struct napt *n = ctx;

	return host_limits_get(n->hosts, host).sessions > 0;
}

/* mode dynamic: the bound addresses (at most NAPT_MAX_EXTERNAL), as mappings of every
 * protocol and port, all at the start of a walk. */
static void each_binding(const struct napt *n, napt_mapping_fn fn, void *ctx)
{
	for (unsigned i = 0; i < n->pool.n; i++) {
		const struct addr_binding *b = &n->pool.b[i];
		struct napt_mapping_info m = {.in_addr = b->holder,
					      .ext_addr = n->cfg.external[i],
					      .origin = NAPT_ORIGIN_DYNAMIC};

		if (!b->holder)
			continue;
		m.sessions = host_limits_get(n->hosts, b->holder).sessions;
		fn(&m, ctx);
	}
}

uint32_t napt_walk_mappings(const struct napt *n, uint32_t cursor, uint32_t positions,
			    napt_mapping_fn fn, void *ctx)
{
	struct mapping_walk w = {fn, ctx};

	if (cursor == 0 && n->cfg.mode == NAPT_MODE_DYNAMIC)
		each_binding(n, fn, ctx);
	return nat_table_walk_mappings(n->table, cursor, positions, visit_mapping, &w);
}

void napt_foreach_mapping(const struct napt *n, napt_mapping_fn fn, void *ctx)
{
	napt_walk_mappings(n, 0, UINT32_MAX, fn, ctx);
}

void napt_foreach_mapping_on(const struct napt *n, uint8_t proto, uint32_t ext_addr,
			     uint16_t ext_port, napt_mapping_fn fn, void *ctx)
{
	struct mapping_walk w = {fn, ctx};

	for (unsigned e = 0; e < n->cfg.n_external; e++)
		if (n->cfg.external[e] == ext_addr)
			nat_table_each_mapping_on(n->table, proto, e, ext_port, visit_mapping, &w);
}

const struct napt_counters *napt_get_counters(const struct napt *n)
{
	return &n->counters;
}

unsigned napt_ports_in_use(const struct napt *n, enum napt_proto_index p, unsigned ext)
{
	return port_pool_count(nat_table_ports(n->table), (int)p, ext);
}

size_t napt_memory_bytes(const struct napt *n)
{
	return sizeof(*n) + nat_table_bytes(n->table) +
	       (n->hosts ? host_limits_bytes(n->hosts) : 0) +
	       (n->blocks ? port_blocks_bytes(n->blocks) : 0);
}

const char *napt_drop_reason_name(enum napt_drop_reason r)
{
	static const char *const names[NAPT_DROP_REASONS] = {
	    [NAPT_DROP_NONE] = "none",
	    [NAPT_DROP_TRUNCATED] = "truncated",
	    [NAPT_DROP_BAD_VERSION] = "bad-version",
	    [NAPT_DROP_BAD_IHL] = "bad-ihl",
	    [NAPT_DROP_BAD_TOTAL_LEN] = "bad-total-length",
	    [NAPT_DROP_BAD_IP_CSUM] = "bad-ip-checksum",
	    [NAPT_DROP_BAD_L4] = "bad-l4",
	    [NAPT_DROP_BAD_ICMP_CSUM] = "bad-icmp-checksum",
	    [NAPT_DROP_BAD_ICMP_QUOTE] = "bad-icmp-quote",
	    [NAPT_DROP_UNSUPPORTED] = "unsupported",
	    [NAPT_DROP_NOT_NAT] = "not-nat",
	    [NAPT_DROP_SPOOFED] = "spoofed",
	    [NAPT_DROP_NO_MAPPING] = "no-mapping",
	    [NAPT_DROP_FILTERED] = "filtered",
	    [NAPT_DROP_NO_SESSION_ICMP] = "no-session-icmp",
	    [NAPT_DROP_TCP_NO_SESSION] = "tcp-no-session",
	    [NAPT_DROP_TABLE_FULL] = "table-full",
	    [NAPT_DROP_PORTS_EXHAUSTED] = "ports-exhausted",
	    [NAPT_DROP_FRAG_NO_FIRST] = "fragment-no-first",
	    [NAPT_DROP_FRAG_FULL] = "fragment-full",
	    [NAPT_DROP_FIRST_FRAG_SHORT] = "first-fragment-short",
	    [NAPT_DROP_HOST_SESSIONS] = "host-session-limit",
	    [NAPT_DROP_HOST_PORTS] = "host-port-limit",
	    [NAPT_DROP_POOL_EXHAUSTED] = "pool-exhausted",
	    [NAPT_DROP_PEER_FILTERED] = "peer-filtered",
	};
	return (unsigned)r < NAPT_DROP_REASONS ? names[r] : "?";
}

const char *napt_dir_name(enum napt_dir d)
{
	static const char *const names[] = {"none", "out", "in", "hairpin"};

	return (unsigned)d < 4 ? names[d] : "?";
}
