/* SPDX-License-Identifier: BSD-2-Clause */
/* session_save.c - sessions handed out as records and taken back (session_save.h). */
#include "session_save.h"

#include <netinet/in.h>

#include "napt_instance.h"
#include "tcp_state.h"

/* ---- saving ---- */

struct save_walk {
	uint32_t now;
	napt_saved_fn fn;
	void *ctx;
};

static int save_one(const struct nat_table *t, uint32_t idx, void *ctx)
{
	const struct save_walk *w = ctx;
	const struct nat_session *s = nat_session_at(t, idx);
	struct napt_saved_session rec = {
	    SESSION_RECORD_FIELDS(t, s, w->now),
	    .origin = s->origin,
	    .tcp_seen = s->proto == IPPROTO_TCP ? s->tcp_seen : 0,
	};

	if (nat_session_expired(t, s, w->now))
		return 0;
	return w->fn(&rec, w->ctx);
}

void napt_save_sessions(const struct napt *n, uint64_t now_ms, napt_saved_fn fn, void *ctx)
{
	struct save_walk w = {(uint32_t)now_ms, fn, ctx};

	nat_table_each_session(n->table, save_one, &w);
}

/* ---- restoring ---- */

static const char *const result_names[NAPT_RESTORE_RESULTS] = {
    "restored", "invalid", "stale", "duplicate", "conflict", "unsupported", "full",
};

const char *napt_restore_result_name(enum napt_restore_result r)
{
	return (unsigned)r < NAPT_RESTORE_RESULTS ? result_names[r] : "?";
}

/* Only what this engine writes: a known protocol and origin, TCP bits only on TCP, an
 * inside host, no port 0 where a port is part of the key. */
static bool record_valid(const struct napt *n, const struct napt_saved_session *s)
{
	bool ports = s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP;

	if (!ports && s->proto != IPPROTO_ICMP)
		return false;
	if (s->origin != NAPT_ORIGIN_OUTBOUND &&
	    !(ports && (s->origin == NAPT_ORIGIN_FORWARD || s->origin == NAPT_ORIGIN_DMZ)))
		return false;
	if (s->proto == IPPROTO_TCP ? s->tcp_seen & ~(unsigned)TCPF_ALL : s->tcp_seen)
		return false;
	if (ports && (!s->in_port || !s->ext_port))
		return false;
	return napt_config_inside(&n->cfg, s->in_addr);
}

/* Index of an external address, -1 when it is not one (any more). */
static int saved_external(const struct napt *n, uint32_t addr)
{
	for (unsigned i = 0; i < n->cfg.n_external; i++)
		if (n->cfg.external[i] == addr)
			return (int)i;
	return -1;
}

/* A one-to-one `static` host's packets bypass the table: its sessions are not wanted. */
static bool host_is_static(const struct napt *n, uint32_t addr)
{
	for (unsigned i = 0; i < n->cfg.n_statics; i++)
		if (n->cfg.statics[i].in_addr == addr)
			return true;
	return false;
}

static int proto_slot(uint8_t proto)
{
	return proto == IPPROTO_TCP ? NAPT_P_TCP : proto == IPPROTO_UDP ? NAPT_P_UDP : NAPT_P_ICMP;
}

static uint8_t proto_fwd(uint8_t proto)
{
	return proto == IPPROTO_TCP ? NAPT_FWD_TCP : NAPT_FWD_UDP;
}

/* Whether a forward claims the external port (ICMP has none). */
static bool port_forwarded(const struct napt *n, uint8_t proto, uint16_t port)
{
	return proto != IPPROTO_ICMP &&
	       port_bit(forward_rules_claimed(&n->fwd, proto_fwd(proto)), port);
}

/* Whether a mapping holds the external port in the pool. */
static bool port_held(const struct napt *n, const struct napt_saved_session *s, unsigned ext)
{
	return port_bit(nat_table_ports(n->table)->used[proto_slot(s->proto)][ext], s->ext_port);
}

/* The record's mapping made again: 0 when the table is full (*why says so). */
static uint32_t remake_mapping(struct napt *n, const struct napt_saved_session *s, unsigned ext,
			       uint8_t flags, const struct nat_key *in_key,
			       enum napt_restore_result *why)
{
	struct nat_mapping add = {
	    .in_addr = s->in_addr,
	    .in_port = s->in_port,
	    .ext_port = s->ext_port,
	    .proto = s->proto,
	    .origin = s->origin,
	    .flags = flags,
	    .ext_index = (uint8_t)ext,
	};

	*why = NAPT_RESTORE_FULL;
	return nat_mapping_new(n->table, &add, in_key);
}

/* The pool flags an outbound mapping on (ext, port) takes now, or -1 when the port is not
 * one this config would give the host: outside its deterministic range, a block of another
 * host or one more block than ports-per-host allows, outside the port range, or a
 * deterministic prefix's address for another host. */
static int outbound_flags(const struct napt *n, const struct napt_saved_session *s, unsigned ext)
{
	struct det_range r;
	uint32_t block;

	if (n->cfg.det.on && det_forward(&n->det, s->in_addr, &r))
		return r.ext_addr == s->ext_addr && s->ext_port >= r.lo && s->ext_port <= r.hi
			   ? MAPF_DET
			   : -1;
	if (n->det_externals >> ext & 1 || s->ext_port < n->cfg.port_lo ||
	    s->ext_port > n->cfg.port_hi)
		return -1;
	if (!n->blocks)
		return 0;
	block = port_blocks_of(n->blocks, ext, s->ext_port);
	if (!block)
		return -1;
	if (n->blocks->b[block - 1].mappings)
		return n->blocks->b[block - 1].owner == s->in_addr ? MAPF_BLOCK : -1;
	/* A block new to the host: within ports-per-host, as translate.c hands them out. */
	return translate_block_limited(n, host_limits_find(n->hosts, s->in_addr)) ? -1 : MAPF_BLOCK;
}

/* The outbound mapping of the session: found (a second session of it) or made on the saved
 * external endpoint when the port is free. 0 with the reason in *why. */
static uint32_t outbound_mapping(struct napt *n, const struct napt_saved_session *s, unsigned ext,
				 enum napt_restore_result *why)
{
	/* RFC 4787 4.1: the mapping's key holds as much of the remote as the behaviour uses. */
	struct nat_key key = {
	    .addr = s->in_addr,
	    .port = s->in_port,
	    .proto = s->proto,
	    .rem_addr = n->cfg.mapping == NAPT_ENDPOINT_INDEPENDENT ? 0 : s->rem_addr,
	    .rem_port = n->cfg.mapping == NAPT_ADDRESS_AND_PORT_DEPENDENT ? s->rem_port : 0,
	};
	uint32_t idx = nat_mapping_find_in(n->table, &key);
	const struct nat_mapping *m = idx ? nat_mapping_at(n->table, idx) : NULL;
	int flags;

	/* RFC 6888 REQ-4: the per-host limits hold for restored flows as for new ones. */
	*why = NAPT_RESTORE_FULL;
	if (translate_host_limit(n, s->in_addr, !m) != NAPT_DROP_NONE)
		return 0;
	*why = NAPT_RESTORE_CONFLICT;
	if (m)
		return m->ext_index == ext && m->ext_port == s->ext_port ? idx : 0;
	flags = outbound_flags(n, s, ext);
	if (flags < 0 || port_forwarded(n, s->proto, s->ext_port) || port_held(n, s, ext))
		return 0;
	return remake_mapping(n, s, ext, (uint8_t)(MAPF_IN_INDEXED | MAPF_POOL_PORT | flags), &key,
			      why);
}

/* Whether the forward or the DMZ of this config still takes the session in to the same
 * inside endpoint, the forward's filters (PCP FILTER, RFC 6887 section 13.3) admitting its
 * remote. */
static bool inbound_rule_holds(const struct napt *n, const struct napt_saved_session *s)
{
	const struct napt_forward *f =
	    forward_rules_lookup(&n->fwd, proto_fwd(s->proto), s->ext_port);

	if (s->origin == NAPT_ORIGIN_FORWARD)
		return f && f->in_addr == s->in_addr &&
		       s->in_port == (uint16_t)(f->in_lo + (s->ext_port - f->ext_lo)) &&
		       napt_forward_admits(f, s->rem_addr, s->rem_port);
	return !f && n->cfg.has_dmz && n->cfg.dmz == s->in_addr && s->in_port == s->ext_port;
}

/* The mapping a forward or the DMZ made: found by its external endpoint, or made again. */
static uint32_t inbound_mapping(struct napt *n, const struct napt_saved_session *s, unsigned ext,
				enum napt_restore_result *why)
{
	struct nat_key key = {.addr = s->ext_addr, .port = s->ext_port, .proto = s->proto};
	uint32_t idx = nat_mapping_find_out(n->table, &key);
	const struct nat_mapping *m = idx ? nat_mapping_at(n->table, idx) : NULL;
	bool dmz = s->origin == NAPT_ORIGIN_DMZ;

	*why = NAPT_RESTORE_CONFLICT;
	if (!inbound_rule_holds(n, s))
		return 0;
	if (m)
		return m->origin == s->origin && m->in_addr == s->in_addr &&
			       m->in_port == s->in_port
			   ? idx
			   : 0;
	if (dmz && port_held(n, s, ext))
		return 0;
	return remake_mapping(n, s, ext, dmz ? MAPF_POOL_PORT : 0, NULL, why);
}

/* Whether the table holds a session on either of the record's keys already. */
static bool session_known(struct napt *n, const struct napt_saved_session *s, uint32_t now)
{
	struct nat_key in = {s->in_addr, s->rem_addr, s->in_port, s->rem_port, s->proto};
	struct nat_key out = {s->ext_addr, s->rem_addr, s->ext_port, s->rem_port, s->proto};

	return nat_session_find_in(n->table, &in, now) || nat_session_find_out(n->table, &out, now);
}

/* The session on its mapping, last seen idle ms before now, in the class of its TCP state. */
static enum napt_restore_result add_session(struct napt *n, uint32_t mapping,
					    const struct napt_saved_session *s,
					    enum napt_timeout_class c, uint32_t last)
{
	uint32_t idx = nat_session_new(n->table, mapping, s->rem_addr, s->rem_port, c, last);

	if (!idx) {
		if (!nat_mapping_at(n->table, mapping)->sessions)
			nat_mapping_remove(n->table, mapping);
		return NAPT_RESTORE_FULL;
	}
	nat_session_at(n->table, idx)->tcp_seen = s->tcp_seen;
	return NAPT_RESTORED;
}

enum napt_restore_result napt_restore_session(struct napt *n, const struct napt_saved_session *s,
					      uint64_t away_ms, uint64_t now_ms)
{
	enum napt_timeout_class c;
	enum napt_restore_result why;
	uint64_t idle = (uint64_t)s->idle_ms + away_ms;
	uint32_t now = (uint32_t)now_ms, last, mapping;
	int ext;

	if (!record_valid(n, s))
		return NAPT_RESTORE_INVALID;
	if (n->cfg.mode == NAPT_MODE_DYNAMIC)
		return NAPT_RESTORE_UNSUPPORTED;
	c = s->proto == IPPROTO_TCP   ? tcp_timeout_class(s->tcp_seen)
	    : s->proto == IPPROTO_UDP ? NAPT_TIMEOUT_UDP
				      : NAPT_TIMEOUT_ICMP;
	if (idle >= nat_table_timeout(n->table, c))
		return NAPT_RESTORE_STALE;
	last = now - (uint32_t)idle;
	if (!nat_table_in_expiry_order(n->table, c, last))
		return NAPT_RESTORE_INVALID;
	ext = saved_external(n, s->ext_addr);
	if (ext < 0 || host_is_static(n, s->in_addr))
		return NAPT_RESTORE_CONFLICT;
	if (session_known(n, s, now))
		return NAPT_RESTORE_DUPLICATE;
	mapping = s->origin == NAPT_ORIGIN_OUTBOUND ? outbound_mapping(n, s, (unsigned)ext, &why)
						    : inbound_mapping(n, s, (unsigned)ext, &why);
	if (!mapping)
		return why;
	return add_session(n, mapping, s, c, last);
}
