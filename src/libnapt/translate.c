/* SPDX-License-Identifier: BSD-2-Clause */
/* translate.c - the engine's entry point: one packet in, a verdict out.
 *
 * The rules implemented here are written out in docs/behaviour.md; the section numbers
 * in comments below refer to it.
 */
#include "napt_instance.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "ipv4_packet.h"
#include "tcp_mss.h"
#include "tcp_state.h"

/* ---- small helpers ---- */

static int proto_index(uint8_t proto)
{
	return proto == IPPROTO_TCP ? NAPT_P_TCP : proto == IPPROTO_UDP ? NAPT_P_UDP : NAPT_P_ICMP;
}

static uint8_t forward_bit(uint8_t proto)
{
	return proto == IPPROTO_TCP ? NAPT_FWD_TCP : NAPT_FWD_UDP;
}

/* Every packet asks this twice, so the last octet picks the candidate (napt_instance.h,
 * ext_by_octet) and only octets shared by two external addresses need the scan. */
static int external_index(const struct napt *n, uint32_t addr)
{
	uint8_t octet = ((const uint8_t *)&addr)[3];
	uint8_t hint = n->ext_by_octet[octet];

	if (hint == EXT_OCTET_SHARED) {
		for (unsigned i = 0; i < n->cfg.n_external; i++)
			if (n->cfg.external[i] == addr)
				return (int)i;
		return -1;
	}
	return hint && n->cfg.external[hint - 1] == addr ? hint - 1 : -1;
}

static bool is_inside(const struct napt *n, uint32_t addr)
{
	for (unsigned i = 0; i < n->cfg.n_inside; i++)
		if ((addr & n->cfg.inside[i].mask) == n->cfg.inside[i].addr)
			return true;
	return false;
}

/* One-to-one NAT entries (`static`), by either address. */
static const struct napt_static *static_by_in(const struct napt *n, uint32_t addr)
{
	for (unsigned i = 0; i < n->cfg.n_statics; i++)
		if (n->cfg.statics[i].in_addr == addr)
			return &n->cfg.statics[i];
	return NULL;
}

static const struct napt_static *static_by_ext(const struct napt *n, uint32_t addr)
{
	for (unsigned i = 0; i < n->cfg.n_statics; i++)
		if (n->cfg.statics[i].ext_addr == addr)
			return &n->cfg.statics[i];
	return NULL;
}

static enum napt_timeout_class session_class(uint8_t proto, uint8_t tcp_seen)
{
	if (proto == IPPROTO_TCP)
		return tcp_timeout_class(tcp_seen);
	return proto == IPPROTO_UDP ? NAPT_TIMEOUT_UDP : NAPT_TIMEOUT_ICMP;
}

static bool is_bare_syn(const struct ipv4_view *v)
{
	return v->proto == IPPROTO_TCP && (v->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
}

static struct napt_result drop(struct napt *n, enum napt_drop_reason r, enum napt_dir d)
{
	n->counters.dropped[r]++;
	return (struct napt_result){NAPT_DROP, r, d};
}

/* A translated packet, counted by protocol and direction (a hairpin's half counts as out). */
static struct napt_result forwarded(struct napt *n, uint8_t proto, enum napt_dir d)
{
	n->counters.translated[proto_index(proto)][d == NAPT_DIR_IN]++;
	return (struct napt_result){NAPT_FORWARD, NAPT_DROP_NONE, d};
}

/* ---- rewriting (section 8) ---- */

/* Offset of the transport checksum, or 0 for none. */
static size_t l4_csum_offset(uint8_t proto)
{
	return proto == IPPROTO_TCP ? TCP_OFF_CSUM : proto == IPPROTO_UDP ? UDP_OFF_CSUM : 0;
}

/* Write a new address into the IP header (source or destination) and fold the change into
 * the header checksum. Returns the change for the transport checksum: TCP and UDP sum the
 * address in their pseudo-header, ICMP does not; 0 when nothing changed. */
static inline uint64_t set_addr(struct ipv4_view *v, bool source, uint32_t addr)
{
	uint8_t *field = v->ip + (source ? IP_OFF_SRC : IP_OFF_DST);
	uint32_t old;
	uint16_t ipc;

	memcpy(&old, field, 4);
	if (old == addr)
		return 0;
	memcpy(&ipc, v->ip + IP_OFF_CSUM, 2);
	ipc = csum_update32(ipc, old, addr);
	memcpy(v->ip + IP_OFF_CSUM, &ipc, 2);
	memcpy(field, &addr, 4);
	if (source)
		v->src = addr;
	else
		v->dst = addr;
	return l4_csum_offset(v->proto) ? csum_delta32(old, addr) : 0;
}

/* Write a new port (ICMP echo: identifier); returns the change for the transport checksum,
 * 0 when nothing changed. */
static inline uint64_t set_port(struct ipv4_view *v, bool source, uint16_t port)
{
	size_t port_off = v->proto == IPPROTO_ICMP ? ICMP_OFF_ID
			  : source                 ? L4_OFF_SPORT
						   : L4_OFF_DPORT;
	uint16_t old, new;

	memcpy(&old, v->l4 + port_off, 2);
	put16(v->l4 + port_off, port);
	memcpy(&new, v->l4 + port_off, 2);
	if (v->proto == IPPROTO_ICMP)
		v->sport = v->dport = port;
	else if (source)
		v->sport = port;
	else
		v->dport = port;
	return old == new ? 0 : csum_delta16(old, new);
}

/* Fold the address (pseudo-header) and port changes into the transport checksum with one
 * RFC 1624 update: eqn 3 holds for any sum of changed words. The field is touched only when
 * it is in the buffer (quotes may be cut). ICMP has no partial checksum, so its identifier
 * is always folded in. */
static inline void fold_l4(struct ipv4_view *v, uint64_t addr_delta, uint64_t port_delta,
			   bool partial)
{
	size_t off = v->proto == IPPROTO_ICMP ? ICMP_OFF_CSUM : l4_csum_offset(v->proto);
	uint16_t c;

	partial = partial && v->proto != IPPROTO_ICMP;
	if ((!addr_delta && !port_delta) || !v->l4 || !off || v->l4_len < off + 2)
		return;
	memcpy(&c, v->l4 + off, 2);
	c = csum_l4_update(c, v->proto == IPPROTO_UDP, addr_delta, port_delta, partial);
	memcpy(v->l4 + off, &c, 2);
}

static void rewrite_addr(struct ipv4_view *v, bool source, uint32_t addr, bool partial)
{
	fold_l4(v, set_addr(v, source, addr), 0, partial);
}

/* Address and port of one side, as a session rewrites them. */
static inline void rewrite_endpoint(struct ipv4_view *v, bool source, uint32_t addr, uint16_t port,
				    bool partial)
{
	uint64_t addr_delta = set_addr(v, source, addr);

	fold_l4(v, addr_delta, set_port(v, source, port), partial);
}

/* ICMP errors are rewritten inside their quote (RFC 5508 REQ-4): the ICMP checksum takes
 * the change of the bytes at hand in one RFC 1624 eqn 3 update, m and m' being their sum
 * before (`before`) and after the rewrite. Summing the message anew would be wrong for a
 * first fragment, which holds only the start of what the checksum covers; for a whole
 * message, whose checksum was checked on the way in, both give the same. */
static void icmp_refold(struct ipv4_view *v, uint16_t before)
{
	uint16_t c;

	memcpy(&c, v->l4 + ICMP_OFF_CSUM, 2);
	c = csum_apply(c, csum_delta16(before, csum_sum_as_stored(v->l4, v->l4_len)));
	memcpy(v->l4 + ICMP_OFF_CSUM, &c, 2);
}

/* mss-clamp: a translated SYN (or SYN-ACK) that carries a larger MSS gets the clamp. Out of
 * line, so that the short path, which asks for each packet, keeps its size and pays only the
 * test of the flags (clamp_syn). */
__attribute__((noinline)) static void clamp_syn_options(const struct napt *n, struct ipv4_view *v,
							bool partial)
{
	if (n->cfg.mss_clamp && v->proto == IPPROTO_TCP && v->l4)
		tcp_mss_clamp(v->l4, v->l4_len, n->cfg.mss_clamp, partial);
}

static inline void clamp_syn(const struct napt *n, struct ipv4_view *v, bool partial)
{
	if (__builtin_expect(v->tcp_flags & TCP_SYN, 0))
		clamp_syn_options(n, v, partial);
}

/* ---- keys ---- */

/* The flow as seen from the inside: (inside endpoint, remote endpoint). ICMP echo has no
 * remote port. `local_is_src` says which side of the packet is ours. */
static struct nat_key flow_key(const struct ipv4_view *v, bool local_is_src)
{
	struct nat_key k = {.proto = v->proto};

	k.addr = local_is_src ? v->src : v->dst;
	k.rem_addr = local_is_src ? v->dst : v->src;
	k.port = local_is_src ? v->sport : v->dport;
	k.rem_port = v->proto == IPPROTO_ICMP ? 0 : (local_is_src ? v->dport : v->sport);
	return k;
}

/* RFC 4787 4.1: the mapping key holds as much of the remote endpoint as the mapping
 * behaviour depends on. */
static struct nat_key mapping_key(const struct napt *n, const struct nat_key *flow)
{
	struct nat_key k = *flow;

	if (n->cfg.mapping == NAPT_ENDPOINT_INDEPENDENT)
		k.rem_addr = 0;
	if (n->cfg.mapping != NAPT_ADDRESS_AND_PORT_DEPENDENT)
		k.rem_port = 0;
	return k;
}

/* ---- outbound (sections 3, 6) ---- */

/* A mapping on (ext, port) for the flow, or 0 with the reason. */
static uint32_t add_outbound_mapping(struct napt *n, const struct nat_key *flow, unsigned ext,
				     uint16_t port, uint8_t flags, enum napt_drop_reason *why)
{
	struct nat_key mkey = mapping_key(n, flow);
	struct nat_mapping m = {
	    .in_addr = flow->addr,
	    .in_port = flow->port,
	    .ext_port = port,
	    .proto = flow->proto,
	    .origin = NAPT_ORIGIN_OUTBOUND,
	    .flags = MAPF_IN_INDEXED | MAPF_POOL_PORT | flags,
	    .ext_index = (uint8_t)ext,
	};
	uint32_t idx = nat_mapping_new(n->table, &m, &mkey);

	if (!idx)
		*why = NAPT_DROP_TABLE_FULL;
	return idx;
}

static const uint64_t *forward_ports(const struct napt *n, uint8_t proto)
{
	return proto == IPPROTO_ICMP ? NULL : forward_rules_claimed(&n->fwd, forward_bit(proto));
}

/* RFC 7422: the port the formula gives the flow in its host's range, else the next free
 * one of the range (det_nat.h), counted. Forwards' ports are not avoided: no forward takes
 * a packet to a deterministic address (inbound_session), so two nodes agree whatever their
 * forwards. */
static uint32_t deterministic_mapping(struct napt *n, const struct nat_key *flow,
				      const struct det_range *r, enum napt_drop_reason *why)
{
	int ext = external_index(n, r->ext_addr);
	uint16_t want = det_port(r, flow->port);
	int port = -1;

	if (ext >= 0) /* napt_external_replace() keeps the prefix's addresses; be sure */
		port = port_pool_pick(nat_table_ports(n->table), proto_index(flow->proto),
				      (unsigned)ext, r->lo, r->hi, want, -1,
				      (uint64_t)(want - r->lo), NULL);
	if (port < 0) {
		*why = NAPT_DROP_PORTS_EXHAUSTED;
		return 0;
	}
	if (port != want)
		n->counters.det_collisions++;
	return add_outbound_mapping(n, flow, (unsigned)ext, (uint16_t)port, MAPF_DET, why);
}

bool translate_block_limited(const struct napt *n, const struct host_count *h)
{
	uint32_t size = n->cfg.port_block_size, limit = n->cfg.ports_per_host;

	return limit && h && (h->blocks + 1) * size > (limit > size ? limit : size);
}

/* A port in one of the host's blocks, else in a new block (its first mapping gives it to
 * the host, nat_table.c), up to ports-per-host ports of blocks. Returns -1 when no block
 * has room and the host may have no more blocks. */
static int block_port(struct napt *n, const struct nat_key *flow, unsigned ext, uint16_t preferred,
		      int parity, uint64_t rnd, bool *limited)
{
	const struct port_pool *pp = nat_table_ports(n->table);
	const struct host_count *h = host_limits_find(n->hosts, flow->addr);
	uint32_t id = h ? h->block : 0;
	unsigned e;
	uint16_t lo, hi;
	int port;

	for (; id; id = n->blocks->b[id - 1].next) {
		port_blocks_range(n->blocks, id - 1, &e, &lo, &hi);
		if (e != ext)
			continue;
		port = port_pool_pick(pp, proto_index(flow->proto), e, lo, hi, preferred, parity,
				      rnd, forward_ports(n, flow->proto));
		if (port >= 0)
			return port;
	}
	*limited = translate_block_limited(n, h);
	id = *limited ? 0 : port_blocks_find_free(n->blocks, pp, ext, preferred, rnd);
	if (!id)
		return -1;
	port_blocks_range(n->blocks, id - 1, &e, &lo, &hi);
	return port_pool_pick(pp, proto_index(flow->proto), e, lo, hi, preferred, parity, rnd,
			      forward_ports(n, flow->proto));
}

/* A port for the flow on ext: in the host's blocks, or chosen alone. */
static int dynamic_port(struct napt *n, const struct nat_key *flow, unsigned ext, uint64_t rnd,
			bool *limited)
{
	const struct napt_config *c = &n->cfg;
	uint16_t preferred = c->port_preservation ? flow->port : 0;
	int parity = c->port_parity ? flow->port & 1 : -1;

	if (n->blocks)
		return block_port(n, flow, ext, preferred, parity, rnd, limited);
	return port_pool_pick(nat_table_ports(n->table), proto_index(flow->proto), ext, c->port_lo,
			      c->port_hi, preferred, parity, rnd, forward_ports(n, flow->proto));
}

/* Paired pooling (RFC 4787 REQ-2): an inside host starts at its own external address and
 * moves on only when that address has no free port. The addresses of a deterministic
 * prefix are left to its hosts. */
static uint32_t new_outbound_mapping(struct napt *n, const struct nat_key *flow, uint32_t now,
				     enum napt_drop_reason *why)
{
	const struct napt_config *c = &n->cfg;
	unsigned first = ntohl(flow->addr) % c->n_external;
	uint64_t rnd = prng_next(&n->rng);
	bool limited = false;
	struct det_range r;

	port_pool_tick(nat_table_ports(n->table), now);
	if (c->det.on && det_forward(&n->det, flow->addr, &r))
		return deterministic_mapping(n, flow, &r, why);
	for (unsigned i = 0; i < c->n_external; i++) {
		unsigned ext = (first + i) % c->n_external;
		int port;

		if (n->det_externals >> ext & 1)
			continue;
		port = dynamic_port(n, flow, ext, rnd, &limited);
		if (port >= 0)
			return add_outbound_mapping(n, flow, ext, (uint16_t)port,
						    n->blocks ? MAPF_BLOCK : 0, why);
	}
	*why = limited ? NAPT_DROP_HOST_PORTS : NAPT_DROP_PORTS_EXHAUSTED;
	if (limited)
		n->counters.last_limited_host = flow->addr;
	return 0;
}

/* Tries at a port that no bound host's mapping holds: those mappings keep their ports and
 * are not in the port bitmaps, so the pick may meet one. They are few against the port range,
 * so a handful of random starts finds a port unless the address is nearly full. */
#define SHARED_PORT_TRIES 8

/* Whether a mapping holds (ext, port) for proto: the lookup inbound packets make. */
static bool ext_port_held(const struct napt *n, uint8_t proto, unsigned ext, uint16_t port)
{
	struct nat_key k = {
	    .addr = nat_table_ext_addr(n->table, ext), .port = port, .proto = proto};

	return nat_mapping_find_out(n->table, &k) != 0;
}

/* mode dynamic: a port of port-range on pool address ext, by NAPT (the flow's own port
 * first, with port preservation), that neither the bitmaps nor a bound host's mapping hold.
 * -1 when none was found. */
static int shared_port(struct napt *n, const struct nat_key *flow, unsigned ext)
{
	const struct napt_config *c = &n->cfg;
	uint16_t preferred = c->port_preservation ? flow->port : 0;
	int parity = c->port_parity ? flow->port & 1 : -1;

	for (unsigned i = 0; i < SHARED_PORT_TRIES; i++, preferred = 0) {
		int port = port_pool_pick(nat_table_ports(n->table), proto_index(flow->proto), ext,
					  c->port_lo, c->port_hi, preferred, parity,
					  prng_next(&n->rng), NULL);

		if (port < 0 || !ext_port_held(n, flow->proto, ext, (uint16_t)port))
			return port;
	}
	return -1;
}

/* dynamic-fallback napt (RFC 3022 section 2.2: NAPT over the same pool): a host that found
 * no free address shares one, paired as in NAPT (ntohl(host) mod n first). Only a held one:
 * an address without a holder rests (else the host would have bound it), and a shared port
 * there could be the last holder's kept one, which its peers still know. */
static uint32_t fallback_mapping(struct napt *n, const struct nat_key *flow, uint32_t now,
				 enum napt_drop_reason *why)
{
	unsigned first = ntohl(flow->addr) % n->cfg.n_external;

	port_pool_tick(nat_table_ports(n->table), now);
	for (unsigned i = 0; i < n->cfg.n_external; i++) {
		unsigned ext = (first + i) % n->cfg.n_external;
		int port = n->pool.b[ext].holder ? shared_port(n, flow, ext) : -1;

		if (port >= 0) {
			n->counters.pool_fallbacks++;
			return add_outbound_mapping(n, flow, ext, (uint16_t)port, 0, why);
		}
	}
	*why = NAPT_DROP_POOL_EXHAUSTED;
	return 0;
}

/* Whether a host bound to ext may keep the flow's port: not while a shared mapping
 * (dynamic-fallback) holds it there or it rests after one. */
static bool bound_port_free(const struct napt *n, const struct nat_key *flow, unsigned ext)
{
	const struct port_pool *pp = nat_table_ports(n->table);
	int p = proto_index(flow->proto);

	return !port_bit(pp->used[p][ext], flow->port) &&
	       !port_pool_resting(pp, p, ext, flow->port);
}

/* A holder's flow whose port a shared mapping holds on its address ext: NAPT there. */
static uint32_t translated_bound_mapping(struct napt *n, const struct nat_key *flow, unsigned ext,
					 enum napt_drop_reason *why)
{
	int port = shared_port(n, flow, ext);

	if (port < 0) {
		*why = NAPT_DROP_PORTS_EXHAUSTED;
		return 0;
	}
	return add_outbound_mapping(n, flow, ext, (uint16_t)port, 0, why);
}

/* mode dynamic (RFC 3022 Basic NAT): the host's own address of the pool, its port kept (but
 * for a port a shared mapping took there: then translated as by NAPT). A host that finds the
 * pool empty is refused, or with dynamic-fallback napt shares an address. */
static uint32_t new_bound_mapping(struct napt *n, const struct nat_key *flow, uint32_t now,
				  enum napt_drop_reason *why)
{
	struct nat_key mkey = mapping_key(n, flow);
	int ext = addr_pool_bind(&n->pool, flow->addr, now, instance_host_busy, n);
	struct nat_mapping m = {
	    .in_addr = flow->addr,
	    .in_port = flow->port,
	    .ext_port = flow->port,
	    .proto = flow->proto,
	    .origin = NAPT_ORIGIN_OUTBOUND,
	    .flags = MAPF_IN_INDEXED,
	};
	uint32_t idx;

	if (ext < 0 && n->cfg.dynamic_fallback_napt)
		return fallback_mapping(n, flow, now, why);
	if (ext < 0) {
		*why = NAPT_DROP_POOL_EXHAUSTED;
		return 0;
	}
	if (!bound_port_free(n, flow, (unsigned)ext))
		return translated_bound_mapping(n, flow, (unsigned)ext, why);
	m.ext_index = (uint8_t)ext;
	idx = nat_mapping_new(n->table, &m, &mkey);
	if (!idx)
		*why = NAPT_DROP_TABLE_FULL;
	return idx;
}

/* A session of `mapping` towards the remote endpoint; a mapping left without a session
 * (the table is full) is taken back. */
static uint32_t new_session(struct napt *n, uint32_t mapping, const struct nat_key *flow,
			    uint32_t now, enum napt_drop_reason *why)
{
	uint32_t s = nat_session_new(n->table, mapping, flow->rem_addr, flow->rem_port,
				     session_class(flow->proto, 0), now);

	if (!s) {
		*why = NAPT_DROP_TABLE_FULL;
		if (!nat_mapping_at(n->table, mapping)->sessions)
			nat_mapping_remove(n->table, mapping);
	}
	return s;
}

/* RFC 6888 REQ-4: a host at its session limit, or at its port limit when it needs a new
 * port, gets no new flow; its existing flows and every other host are unaffected. */
enum napt_drop_reason translate_host_limit(struct napt *n, uint32_t host, bool new_port)
{
	struct host_count c;
	enum napt_drop_reason why = NAPT_DROP_NONE;

	if (!n->hosts)
		return NAPT_DROP_NONE;
	c = host_limits_get(n->hosts, host);
	if (n->cfg.max_sessions_per_host && c.sessions >= n->cfg.max_sessions_per_host)
		why = NAPT_DROP_HOST_SESSIONS;
	else if (new_port && n->cfg.ports_per_host && c.ports >= n->cfg.ports_per_host)
		why = NAPT_DROP_HOST_PORTS;
	if (why != NAPT_DROP_NONE)
		n->counters.last_limited_host = host;
	return why;
}

/* A TCP segment other than a SYN with no session: only a deterministic host's flow is
 * picked up (another node with the same config may have carried it so far, on the same
 * external endpoint), as conntrack does; a RST closes what it would pick up. */
static bool may_pick_up(const struct napt *n, const struct ipv4_view *v)
{
	struct det_range r;

	return n->cfg.det.on && !(v->tcp_flags & TCP_RST) && det_forward(&n->det, v->src, &r);
}

/* The picked-up session is in the state the segment allows: established for an ACK or
 * data; a FIN then moves it on as on any session (track_tcp). Until the remote answers it
 * has the transitory timeout (tcp_timeout_class): a stray or forged ACK holds a session for
 * 4 minutes, not 2 hours, and the first inbound segment gives it the established one. */
static void picked_up(struct napt *n, uint32_t sidx, uint32_t now)
{
	struct nat_session *s = nat_session_at(n->table, sidx);

	s->tcp_seen = TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_PICKED;
	nat_session_touch(n->table, sidx, session_class(s->proto, s->tcp_seen), now);
	n->counters.det_pickups++;
}

/* A new session for flow, which has none: on its host's live mapping, else on a new one,
 * within the host's limits. *sidx stays 0 when the reason is not NAPT_DROP_NONE. */
static enum napt_drop_reason open_flow(struct napt *n, const struct nat_key *flow, uint32_t now,
				       uint32_t *sidx)
{
	struct nat_key mkey = mapping_key(n, flow);
	enum napt_drop_reason why;
	uint32_t m = nat_mapping_find_in(n->table, &mkey);

	if (m && !nat_mapping_live(n->table, m, now))
		m = 0;
	why = translate_host_limit(n, flow->addr, !m);
	if (why != NAPT_DROP_NONE)
		return why;
	if (!m)
		m = n->cfg.mode == NAPT_MODE_DYNAMIC ? new_bound_mapping(n, flow, now, &why)
						     : new_outbound_mapping(n, flow, now, &why);
	if (m)
		*sidx = new_session(n, m, flow, now, &why);
	return why;
}

static enum napt_drop_reason outbound_session(struct napt *n, const struct ipv4_view *v,
					      uint32_t now, uint32_t *sidx)
{
	struct nat_key flow = flow_key(v, true);
	enum napt_drop_reason why;
	bool pickup;

	*sidx = nat_session_find_in(n->table, &flow, now);
	if (*sidx)
		return NAPT_DROP_NONE;
	pickup = v->proto == IPPROTO_TCP && !is_bare_syn(v);
	if (pickup && !may_pick_up(n, v))
		return NAPT_DROP_TCP_NO_SESSION;
	if (v->proto == IPPROTO_ICMP && v->icmp_type != ICMP_ECHO)
		return NAPT_DROP_NO_MAPPING;
	why = open_flow(n, &flow, now, sidx);
	if (*sidx && pickup)
		picked_up(n, *sidx, now);
	return why;
}

/* Only the segments tcp_state_moves() names move a TCP session's state: any other
 * segment, and every UDP or ICMP packet, leaves the session in the class it is in. */
static void track_tcp(struct napt *n, uint32_t sidx, const struct ipv4_view *v, bool outbound,
		      uint32_t now)
{
	struct nat_session *s = nat_session_at(n->table, sidx);
	enum napt_timeout_class c = s->tclass;

	if (tcp_state_moves(s->tcp_seen, v->tcp_flags) && v->proto == IPPROTO_TCP && v->l4) {
		s->tcp_seen = tcp_state_update(s->tcp_seen, v->tcp_flags, outbound);
		c = session_class(s->proto, s->tcp_seen);
	}
	nat_session_touch(n->table, sidx, c, now);
}

/* ---- inbound (section 4) ---- */

/* RFC 4787 section 5: may a packet from rem_addr open a session on this mapping? */
static bool filter_admits(const struct napt *n, const struct nat_mapping *m, uint32_t rem_addr,
			  uint32_t now)
{
	if (m->origin != NAPT_ORIGIN_OUTBOUND)
		return true; /* forwards and the DMZ are open doors by definition */
	switch (n->cfg.filtering) {
	case NAPT_ENDPOINT_INDEPENDENT:
		return true;
	case NAPT_ADDRESS_DEPENDENT:
		for (uint32_t i = m->sessions; i; i = nat_session_at(n->table, i)->sib_next) {
			const struct nat_session *s = nat_session_at(n->table, i);

			if (s->rem_addr == rem_addr && !nat_session_expired(n->table, s, now))
				return true;
		}
		return false;
	default:
		return false; /* APDF: only an existing session admits, found before */
	}
}

/* RFC 5508 3.1: an inside host's echo mapping is a query mapping, there for the replies to
 * its own requests. An echo request that comes in on it (an outside host that guessed or saw
 * the identifier, or the host's own request hairpinned back) is not a reply: refused,
 * whatever the filtering. The DMZ host's mappings, made by requests, take requests. */
static bool echo_request_to_query(const struct ipv4_view *v, uint8_t origin)
{
	return v->proto == IPPROTO_ICMP && v->icmp_type == ICMP_ECHO &&
	       origin == NAPT_ORIGIN_OUTBOUND;
}

/* Whether port is in a port block an inside host holds: the block's log line names that
 * host for all its ports, so the DMZ takes none of them. */
static bool in_held_block(const struct napt *n, unsigned ext, uint16_t port)
{
	uint32_t id = n->blocks ? port_blocks_of(n->blocks, ext, port) : 0;

	return id && n->blocks->b[id - 1].owner;
}

/* A mapping for an unsolicited packet that a forward or the DMZ takes in. */
static uint32_t new_inbound_mapping(struct napt *n, const struct nat_key *out, unsigned ext,
				    enum napt_drop_reason *why)
{
	const struct napt_forward *f = NULL;
	struct nat_mapping m = {
	    .ext_port = out->port,
	    .proto = out->proto,
	    .ext_index = (uint8_t)ext,
	};
	uint32_t idx;

	if (out->proto != IPPROTO_ICMP)
		f = forward_rules_lookup(&n->fwd, forward_bit(out->proto), out->port);
	if (f) {
		m.in_addr = f->in_addr;
		m.in_port = (uint16_t)(f->in_lo + (out->port - f->ext_lo));
		m.origin = NAPT_ORIGIN_FORWARD;
	} else if (n->cfg.has_dmz && !in_held_block(n, ext, out->port)) {
		m.in_addr = n->cfg.dmz;
		m.in_port = out->port;
		m.origin = NAPT_ORIGIN_DMZ;
		m.flags = MAPF_POOL_PORT; /* dynamic mappings must not take this port now */
	} else {
		*why = NAPT_DROP_NO_MAPPING;
		return 0;
	}
	idx = nat_mapping_new(n->table, &m, NULL);
	if (!idx)
		*why = NAPT_DROP_TABLE_FULL;
	return idx;
}

/* Easy IP: the echo identifiers outside port-range are the router's, as local-ports are its
 * ports. No inside host's echo mapping gets one (outbound mappings take ports of port-range),
 * and an echo reply to the WAN address with one is the router's ping's, even where a DMZ
 * host's echo mapping (made by a remote's request) holds that identifier: it matches no
 * session, and naptd hands it to the router (host_handback.h). */
static bool routers_echo_reply(const struct napt *n, const struct ipv4_view *v)
{
	return n->cfg.daemon.external_interface[0] && v->proto == IPPROTO_ICMP &&
	       v->icmp_type == ICMP_ECHO_REPLY && v->dst == n->cfg.external[0] &&
	       (v->dport < n->cfg.port_lo || v->dport > n->cfg.port_hi);
}

static int found_mapping(struct nat_table *t, uint32_t idx, void *ctx)
{
	(void)t;
	(void)idx;
	*(bool *)ctx = true;
	return 1;
}

/* What inbound_session() below lets through on (proto, ext, port), the DMZ and the answers
 * to unsolicited SYNs aside: a session lies on a mapping of its endpoint, and a mapping or a
 * forward is what takes the rest. */
bool napt_port_open(struct napt *n, uint8_t proto, unsigned ext, uint16_t port)
{
	bool mapped = false;

	if (ext >= n->cfg.n_external)
		return false;
	if (proto != IPPROTO_ICMP && !(n->det_externals >> ext & 1) &&
	    forward_rules_lookup(&n->fwd, forward_bit(proto), port))
		return true;
	nat_table_each_mapping_on(n->table, proto, ext, port, found_mapping, &mapped);
	return mapped;
}

static enum napt_drop_reason inbound_session(struct napt *n, const struct ipv4_view *v,
					     unsigned ext, uint32_t now, uint32_t *sidx)
{
	struct nat_key flow = flow_key(v, false);
	struct nat_key mkey = {.addr = flow.addr, .port = flow.port, .proto = flow.proto};
	enum napt_drop_reason why = NAPT_DROP_NONE;
	const struct napt_forward *fwd = NULL;
	uint32_t m;

	*sidx = 0;
	if (routers_echo_reply(n, v))
		return NAPT_DROP_NO_MAPPING;
	*sidx = nat_session_find_out(n->table, &flow, now);
	if (*sidx && echo_request_to_query(v, nat_session_at(n->table, *sidx)->origin)) {
		*sidx = 0;
		return NAPT_DROP_FILTERED;
	}
	if (*sidx)
		return NAPT_DROP_NONE;
	if (v->proto == IPPROTO_ICMP && v->icmp_type != ICMP_ECHO)
		return NAPT_DROP_NO_MAPPING; /* echo replies match sessions only */
	m = nat_mapping_find_out(n->table, &mkey);
	if (m && !nat_mapping_live(n->table, m, now))
		m = 0;
	if (m && (echo_request_to_query(v, nat_mapping_at(n->table, m)->origin) ||
		  !filter_admits(n, nat_mapping_at(n->table, m), flow.rem_addr, now)))
		return NAPT_DROP_FILTERED;
	/* Decide first whether anything would take it: no state for the unsolicited. A
	 * deterministic address's ports are its hosts' (RFC 7422): neither a forward nor the
	 * DMZ may answer there for another host, whom the reverse formula would not name. */
	if (!m && n->det_externals >> ext & 1)
		return NAPT_DROP_NO_MAPPING;
	/* One read of the forward table for the two questions: does a forward take it, and do
	 * its filters (PCP FILTER, RFC 6887 section 13.3) admit the remote. */
	if (v->proto != IPPROTO_ICMP &&
	    (!m || nat_mapping_at(n->table, m)->origin == NAPT_ORIGIN_FORWARD))
		fwd = forward_rules_lookup(&n->fwd, forward_bit(v->proto), flow.port);
	if (!m && !fwd && !n->cfg.has_dmz)
		return NAPT_DROP_NO_MAPPING;
	if (fwd && !napt_forward_admits(fwd, flow.rem_addr, flow.rem_port))
		return NAPT_DROP_PEER_FILTERED;
	if (v->proto == IPPROTO_TCP && !is_bare_syn(v))
		return NAPT_DROP_TCP_NO_SESSION;
	if (!m)
		m = new_inbound_mapping(n, &flow, ext, &why);
	if (m)
		*sidx = new_session(n, m, &flow, now, &why);
	return why;
}

/* ---- ICMP errors (section 7) ---- */

/* The quoted packet of an ICMP error, parsed. */
static enum napt_drop_reason icmp_quote(const struct ipv4_view *v, struct ipv4_view *q)
{
	if (v->l4_len < ICMP_HDR)
		return NAPT_DROP_BAD_ICMP_QUOTE;
	return ipv4_parse_quote(v->l4 + ICMP_HDR, v->l4_len - ICMP_HDR, q);
}

/* An error about a static host's traffic: only the addresses change. */
static bool static_icmp_error(const struct napt *n, struct ipv4_view *v, struct ipv4_view *q,
			      bool outbound)
{
	const struct napt_static *st =
	    outbound ? static_by_in(n, q->dst) : static_by_ext(n, q->src);

	if (!st)
		return false;
	rewrite_addr(q, !outbound, outbound ? st->ext_addr : st->in_addr, false);
	rewrite_addr(v, outbound, outbound ? st->ext_addr : st->in_addr, false);
	return true;
}

/* An error about a flow we translated. The quote travels the opposite way to the error,
 * so for an outbound error the quote's destination is ours, and for an inbound error its
 * source. Errors neither refresh nor end the session (RFC 5508 REQ-6). */
static struct napt_result translate_icmp_error(struct napt *n, struct ipv4_view *v, bool outbound,
					       uint32_t now)
{
	enum napt_dir dir = outbound ? NAPT_DIR_OUT : NAPT_DIR_IN;
	struct ipv4_view q;
	struct nat_key k;
	const struct nat_session *s;
	uint32_t sidx, ext_addr;
	uint16_t before;

	if (icmp_quote(v, &q) != NAPT_DROP_NONE)
		return drop(n, NAPT_DROP_BAD_ICMP_QUOTE, dir);
	before = csum_sum_as_stored(v->l4, v->l4_len);
	if (static_icmp_error(n, v, &q, outbound))
		goto translated;
	k = flow_key(&q, !outbound);
	sidx = outbound ? nat_session_find_in(n->table, &k, now)
			: nat_session_find_out(n->table, &k, now);
	if (!sidx)
		return drop(n, NAPT_DROP_NO_SESSION_ICMP, dir);
	s = nat_session_at(n->table, sidx);
	ext_addr = nat_table_ext_addr(n->table, s->ext_index);
	if (outbound) {
		rewrite_endpoint(&q, false, ext_addr, s->ext_port, false);
		rewrite_addr(v, true, ext_addr, false);
	} else {
		rewrite_endpoint(&q, true, s->in_addr, s->in_port, false);
		rewrite_addr(v, false, s->in_addr, false);
	}
translated:
	icmp_refold(v, before);
	n->counters.icmp_errors_translated++;
	return forwarded(n, IPPROTO_ICMP, dir);
}

/* ---- answers to unsolicited SYNs (RFC 5382 REQ-4) ---- */

/* At most REPLIES_PER_SECOND answers in any 1000 ms, so a spoofed SYN flood cannot turn the
 * gateway into a reflector towards the spoofed sources: a ring of the last answers' times,
 * and an answer may go when the one that many answers ago is a second old. */
static bool reply_allowed(struct napt *n, uint32_t now)
{
	uint32_t *oldest = &n->reply_times[n->reply_next];

	if (n->replies_recorded == REPLIES_PER_SECOND && (uint32_t)(now - *oldest) < 1000) {
		n->counters.replies_limited++;
		return false;
	}
	*oldest = now;
	n->reply_next = (n->reply_next + 1) % REPLIES_PER_SECOND;
	if (n->replies_recorded < REPLIES_PER_SECOND)
		n->replies_recorded++;
	return true;
}

/* A fresh 20-byte IPv4 header from the NAT itself: TTL 64, DF, ID 0 (RFC 6864: atomic). */
static void reply_ip_header(uint8_t *ip, size_t tot_len, uint8_t proto, uint32_t src, uint32_t dst)
{
	uint16_t c;

	memset(ip, 0, IPV4_MIN_HDR);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot_len);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + IP_OFF_SRC, &src, 4);
	memcpy(ip + IP_OFF_DST, &dst, 4);
	c = csum_buffer(ip, IPV4_MIN_HDR);
	memcpy(ip + IP_OFF_CSUM, &c, 2);
}

/* RFC 793 reset generation for a segment without ACK: SEQ 0, ACK = SEG.SEQ + SEG.LEN
 * (the SYN counts one), flags RST|ACK. */
static size_t build_rst(const struct ipv4_view *v, uint8_t *buf)
{
	uint32_t src = v->dst, dst = v->src;
	uint16_t sport = v->dport, dport = v->sport;
	size_t payload = v->l4_len - (size_t)(v->l4[12] >> 4) * 4;
	uint32_t ack = get32(v->l4 + 4) + 1 + (uint32_t)payload;
	uint8_t *tcp = buf + IPV4_MIN_HDR;
	uint32_t sum;
	uint16_t c;

	reply_ip_header(buf, IPV4_MIN_HDR + TCP_MIN_HDR, IPPROTO_TCP, src, dst);
	memset(tcp, 0, TCP_MIN_HDR);
	put16(tcp + L4_OFF_SPORT, sport);
	put16(tcp + L4_OFF_DPORT, dport);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = TCP_RST | TCP_ACK;
	sum = csum_add_bytes(0, buf + IP_OFF_SRC, 8) + IPPROTO_TCP + TCP_MIN_HDR;
	c = (uint16_t)~csum_fold(csum_add_bytes(sum, tcp, TCP_MIN_HDR));
	put16(tcp + TCP_OFF_CSUM, c);
	return IPV4_MIN_HDR + TCP_MIN_HDR;
}

/* ICMP destination unreachable with `code`, from src to the sender of v, quoting v's IP
 * header and first 8 bytes (RFC 792). */
static size_t build_unreachable(const struct ipv4_view *v, uint8_t *buf, uint8_t code, uint32_t src)
{
	uint8_t quote[60 + 8];
	size_t qlen = v->ihl + 8;
	uint8_t *icmp = buf + IPV4_MIN_HDR;
	uint32_t dst = v->src;
	uint16_t c;

	memcpy(quote, v->ip, qlen);
	reply_ip_header(buf, IPV4_MIN_HDR + ICMP_HDR + qlen, IPPROTO_ICMP, src, dst);
	memset(icmp, 0, ICMP_HDR);
	icmp[0] = ICMP_UNREACH;
	icmp[1] = code;
	memcpy(icmp + ICMP_HDR, quote, qlen);
	c = csum_buffer(icmp, ICMP_HDR + qlen);
	memcpy(icmp + ICMP_OFF_CSUM, &c, 2);
	return IPV4_MIN_HDR + ICMP_HDR + qlen;
}

/* The engine's own answers: to an unsolicited SYN (a RST, or port unreachable from the
 * address it was sent to) and to a new outbound flow refused (RFC 5508 REQ-8). */
enum answer_kind { ANSWER_RST, ANSWER_PORT_UNREACHABLE, ANSWER_PROHIBITED };

#define UNREACH_PORT       3
#define UNREACH_PROHIBITED 13 /* communication administratively prohibited (RFC 1812 5.2.7.1) */

static size_t answer_len(const struct ipv4_view *v, enum answer_kind kind)
{
	return kind == ANSWER_RST ? IPV4_MIN_HDR + TCP_MIN_HDR
				  : IPV4_MIN_HDR + ICMP_HDR + v->ihl + 8;
}

static size_t build_answer(const struct napt *n, const struct ipv4_view *v, enum answer_kind kind,
			   uint8_t *buf)
{
	if (kind == ANSWER_RST)
		return build_rst(v, buf);
	if (kind == ANSWER_PORT_UNREACHABLE)
		return build_unreachable(v, buf, UNREACH_PORT, v->dst);
	/* from the external address the host would have used: an address of the NAT */
	return build_unreachable(v, buf, UNREACH_PROHIBITED,
				 n->cfg.external[ntohl(v->src) % n->cfg.n_external]);
}

/* RFC 5382 REQ-4: the answer to an unsolicited SYN, per unsolicited-syn, waits 6 s in the
 * queue (syn_answer.h); a full queue, or a source at its share, gets none. */
static void hold_answer(struct napt *n, const struct ipv4_view *v, uint32_t now)
{
	uint8_t a[SYN_ANSWER_MAX];
	struct syn_pair pair = {v->src, v->dst, v->sport, v->dport};
	enum answer_kind kind;

	if (n->cfg.unsolicited_syn == NAPT_UNSOLICITED_DROP)
		return;
	kind =
	    n->cfg.unsolicited_syn == NAPT_UNSOLICITED_RST ? ANSWER_RST : ANSWER_PORT_UNREACHABLE;
	if (!syn_answer_queue(&n->answers, &pair, a, build_answer(n, v, kind, a), now))
		n->counters.replies_limited++;
}

/* An outbound SYN, translated: the answer waiting for an inbound SYN of the same pair (the
 * other end's SYN of a hole punch, crossed with this one) is not sent. */
static void cancel_answers(struct napt *n, const struct ipv4_view *v)
{
	struct syn_pair pair = {v->dst, v->src, v->dport, v->sport};

	if (syn_answer_waiting(&n->answers) && is_bare_syn(v))
		n->counters.replies_cancelled += syn_answer_cancel(&n->answers, &pair);
}

/* Answers whose 6 s passed become due, each under the rate limit. Out of line: reap() runs
 * for every packet and asks only whether any answer waits. */
__attribute__((noinline)) static void answers_come_due(struct napt *n, uint32_t now)
{
	struct syn_answer_slot *s;

	while ((s = syn_answer_come_due(&n->answers, now)))
		s->state = reply_allowed(n, now) ? SYN_ANSWER_DUE : SYN_ANSWER_CANCELLED;
}

/* Write an immediate answer in place when the rate limit allows and it fits the buffer. */
static bool answer(struct napt *n, struct napt_packet *pkt, const struct ipv4_view *v,
		   enum answer_kind kind, uint32_t now)
{
	size_t cap = pkt->cap ? pkt->cap : pkt->len;

	if (cap < answer_len(v, kind) || !reply_allowed(n, now))
		return false;
	pkt->len = build_answer(n, v, kind, pkt->data);
	n->counters.replies_sent++;
	return true;
}

/* RFC 5508 REQ-8: a new flow the NAT has no resources for, or that a per-host limit refuses,
 * gets ICMP 3/13 with refused-flows icmp. Never for a datagram to a multicast or broadcast
 * address (RFC 1122 3.2.2): the first octet from 224 on. */
static bool refused_for_want_of_room(enum napt_drop_reason why)
{
	return why == NAPT_DROP_TABLE_FULL || why == NAPT_DROP_PORTS_EXHAUSTED ||
	       why == NAPT_DROP_HOST_SESSIONS || why == NAPT_DROP_HOST_PORTS ||
	       why == NAPT_DROP_POOL_EXHAUSTED;
}

static bool answer_refused(struct napt *n, struct napt_packet *pkt, const struct ipv4_view *v,
			   enum napt_drop_reason why, uint32_t now)
{
	return n->cfg.refused_flows_icmp && refused_for_want_of_room(why) &&
	       ((const uint8_t *)&v->dst)[0] < 224 && answer(n, pkt, v, ANSWER_PROHIBITED, now);
}

/* ---- one direction ---- */

static struct napt_result translate_out(struct napt *n, struct napt_packet *pkt,
					struct ipv4_view *v, uint32_t now)
{
	const struct napt_static *st;
	enum napt_drop_reason why;
	const struct nat_session *s;
	uint32_t sidx;

	if (v->proto == IPPROTO_ICMP && icmp_is_error(v->icmp_type))
		return translate_icmp_error(n, v, true, now);
	st = static_by_in(n, v->src);
	if (st) {
		/* One-to-one NAT: stateless, every port, the address alone changes. */
		rewrite_addr(v, true, st->ext_addr, pkt->csum_partial);
		return forwarded(n, v->proto, NAPT_DIR_OUT);
	}
	why = outbound_session(n, v, now, &sidx);
	if (why != NAPT_DROP_NONE && answer_refused(n, pkt, v, why, now)) {
		n->counters.dropped[why]++;
		return (struct napt_result){NAPT_REPLY, why, NAPT_DIR_OUT};
	}
	if (why != NAPT_DROP_NONE)
		return drop(n, why, NAPT_DIR_OUT);
	track_tcp(n, sidx, v, true, now);
	s = nat_session_at(n->table, sidx);
	rewrite_endpoint(v, true, nat_table_ext_addr(n->table, s->ext_index), s->ext_port,
			 pkt->csum_partial);
	cancel_answers(n, v);
	return forwarded(n, v->proto, NAPT_DIR_OUT);
}

/* ext: the pool index of the destination, or (unsigned)-1 for a static address.
 * may_answer: false for the inbound half of a hairpin, whose answer would go to our own
 * external address instead of the inside host that sent the SYN. */
static struct napt_result translate_in(struct napt *n, struct napt_packet *pkt, struct ipv4_view *v,
				       unsigned ext, bool may_answer, uint32_t now)
{
	const struct napt_static *st;
	enum napt_drop_reason why;
	const struct nat_session *s;
	uint32_t sidx;

	if (v->proto == IPPROTO_ICMP && icmp_is_error(v->icmp_type))
		return translate_icmp_error(n, v, false, now);
	/* classify() found the destination among the pool (ext valid) or the statics: only
	 * in the second case is there a static entry to find. */
	st = ext < NAPT_MAX_EXTERNAL ? NULL : static_by_ext(n, v->dst);
	if (st) {
		rewrite_addr(v, false, st->in_addr, pkt->csum_partial);
		return forwarded(n, v->proto, NAPT_DIR_IN);
	}
	why = inbound_session(n, v, ext, now, &sidx);
	if ((why == NAPT_DROP_NO_MAPPING || why == NAPT_DROP_FILTERED) && is_bare_syn(v) &&
	    may_answer)
		hold_answer(n, v, now);
	if (why != NAPT_DROP_NONE)
		return drop(n, why, NAPT_DIR_IN);
	track_tcp(n, sidx, v, false, now);
	s = nat_session_at(n->table, sidx);
	rewrite_endpoint(v, false, s->in_addr, s->in_port, pkt->csum_partial);
	return forwarded(n, v->proto, NAPT_DIR_IN);
}

/* Section 9: out, then in, as if the packet had left and come back. */
static struct napt_result translate_hairpin(struct napt *n, struct napt_packet *pkt,
					    struct ipv4_view *v, unsigned ext, uint32_t now)
{
	struct napt_result r = translate_out(n, pkt, v, now);

	if (r.verdict != NAPT_FORWARD)
		return r;
	r = translate_in(n, pkt, v, ext, false, now);
	if (r.verdict != NAPT_FORWARD)
		return r;
	n->counters.hairpinned++;
	r.dir = NAPT_DIR_HAIRPIN;
	return r;
}

/* ---- fragments (section 10) ---- */

static struct frag_key fragment_key(const struct ipv4_view *v)
{
	return (struct frag_key){v->src, v->dst, v->ip_id, v->proto};
}

static void apply_frag_rewrite(struct ipv4_view *v, const struct frag_rewrite *rw)
{
	rewrite_addr(v, true, rw->src, false);
	rewrite_addr(v, false, rw->dst, false);
}

/* Section 10: an inbound later fragment is held only when its first fragment could be
 * translated: to a static address, through a forward or the DMZ, or on a mapping that
 * admits its source (any mapping under endpoint-independent filtering, else one with a
 * session towards the source). Unsolicited fragments make no state. A session of any
 * protocol admits the source: an ICMP fragment may be an error about a TCP or UDP session,
 * and asking per protocol would keep nothing out, since a source with a session can send
 * held fragments of that session's protocol whose first never comes just as well (its share
 * of the pool bounds both). So one exact lookup per fragment, on the external address
 * number ext that classify() found (the destination is not a static address here). */
static bool first_could_match(const struct napt *n, const struct ipv4_view *v, int ext)
{
	if (static_by_ext(n, v->dst) || n->cfg.has_dmz || (n->fwd.n && v->proto != IPPROTO_ICMP))
		return true;
	if (n->cfg.filtering == NAPT_ENDPOINT_INDEPENDENT)
		return n->counters.mappings_current != 0;
	return nat_table_peer_known(n->table, (unsigned)ext, v->src);
}

static struct napt_result later_fragment(struct napt *n, struct napt_packet *pkt,
					 struct ipv4_view *v, enum napt_dir dir, int ext,
					 uint32_t now)
{
	struct frag_key k = fragment_key(v);
	struct frag_rewrite rw;
	bool evicted;

	if (frag_lookup(&n->frag, &k, now, &rw)) {
		apply_frag_rewrite(v, &rw);
		return forwarded(n, v->proto, dir);
	}
	if (dir == NAPT_DIR_IN && !first_could_match(n, v, ext))
		return drop(n, NAPT_DROP_FRAG_NO_FIRST, dir);
	if (!frag_hold(&n->frag, &k, pkt->data, v->tot_len, now, &evicted))
		return drop(n, NAPT_DROP_FRAG_FULL, dir);
	if (evicted)
		n->counters.dropped[NAPT_DROP_FRAG_FULL]++;
	n->counters.fragments_held++;
	return (struct napt_result){NAPT_HELD, NAPT_DROP_NONE, dir};
}

/* After a first fragment: remember its rewrite for the rest and release those held. */
static void first_fragment_done(struct napt *n, const struct frag_key *k, const struct ipv4_view *v,
				enum napt_dir dir, uint32_t now)
{
	struct frag_rewrite rw = {v->src, v->dst};

	frag_remember(&n->frag, k, &rw, now);
	frag_release(&n->frag, k, &rw, dir == NAPT_DIR_IN);
}

size_t napt_next_released(struct napt *n, uint8_t *buf, size_t cap)
{
	struct frag_rewrite rw;
	struct ipv4_view v;
	bool inbound;
	size_t len;

	/* Held fragments passed ipv4_parse() when they were held, so parsing cannot fail. */
	while ((len = frag_take_ready(&n->frag, buf, cap, &rw, &inbound))) {
		if (ipv4_parse(buf, len, &v) != NAPT_DROP_NONE)
			continue;
		apply_frag_rewrite(&v, &rw);
		n->counters.translated[proto_index(v.proto)][inbound]++;
		return len;
	}
	len = syn_answer_take(&n->answers, buf, cap);
	if (len)
		n->counters.replies_sent++;
	return len;
}

/* ---- classification (section 1) ---- */

static enum napt_dir classify(const struct napt *n, const struct ipv4_view *v, int *ext,
			      enum napt_drop_reason *why)
{
	if (external_index(n, v->src) >= 0 || static_by_ext(n, v->src)) {
		*why = NAPT_DROP_SPOOFED;
		return NAPT_DIR_NONE;
	}
	*ext = external_index(n, v->dst);
	if (*ext >= 0 || static_by_ext(n, v->dst))
		return is_inside(n, v->src) ? NAPT_DIR_HAIRPIN : NAPT_DIR_IN;
	if (is_inside(n, v->src) && !is_inside(n, v->dst))
		return NAPT_DIR_OUT;
	*why = NAPT_DROP_NOT_NAT;
	return NAPT_DIR_NONE;
}

/* ---- established flows: the short path ----
 *
 * Nearly every packet on a busy link belongs to a TCP or UDP flow that already has its
 * session, in an option-less, unfragmented header. Such a packet is validated, classified
 * and looked up in one pass here; any other packet, or one whose flow has no session yet,
 * returns false and takes the full path below, which gives it the same result (validation
 * failures, new flows, ICMP, fragments, hairpins and static NAT all live there). The checks
 * are those of section 2, narrowed: what passes here would pass ipv4_parse() too. */

/* An IHL-5 TCP or UDP packet, unfragmented, whose lengths and header checksum hold. The
 * buffer holds at least the 40 bytes of an IP and a TCP header, so both protocols' fields
 * can be read before knowing which one it is: TCP and UDP come mixed on a link, and one
 * test of both is cheaper than a mispredicted branch between them. */
static inline bool plain_transport(const struct napt_packet *pkt, struct ipv4_view *v)
{
	const uint8_t *ip = pkt->data;
	const uint8_t *l4 = ip + IPV4_MIN_HDR;
	size_t tot, l4_len, doff, udp_len;
	bool tcp, udp;

	if (pkt->len < IPV4_MIN_HDR + TCP_MIN_HDR || ip[0] != 0x45 || (get16(ip + 6) & 0x3fff))
		return false;
	tot = get16(ip + 2);
	if (tot > pkt->len || tot < IPV4_MIN_HDR + UDP_HDR || !csum_valid(ip, IPV4_MIN_HDR))
		return false;
	l4_len = tot - IPV4_MIN_HDR;
	doff = (size_t)(l4[12] >> 4) * 4;
	udp_len = get16(l4 + 4);
	tcp = ip[9] == IPPROTO_TCP;
	udp = ip[9] == IPPROTO_UDP;
	if (!((tcp & (doff >= TCP_MIN_HDR) & (doff <= l4_len)) |
	      (udp & (udp_len >= UDP_HDR) & (udp_len <= l4_len))))
		return false;
	v->ip = pkt->data;
	v->ihl = IPV4_MIN_HDR;
	v->tot_len = tot;
	v->ip_id = get16(ip + 4);
	v->frag_offset = 0;
	v->more_frags = false;
	v->icmp_type = 0;
	v->proto = ip[9];
	v->l4 = pkt->data + IPV4_MIN_HDR;
	v->l4_len = l4_len;
	v->tcp_flags = tcp ? l4[13] : 0;
	memcpy(&v->src, ip + IP_OFF_SRC, 4);
	memcpy(&v->dst, ip + IP_OFF_DST, 4);
	v->sport = get16(l4 + L4_OFF_SPORT);
	v->dport = get16(l4 + L4_OFF_DPORT);
	return true;
}

/* Whether the packet may take the short path: plain_transport(), and plainly outbound or
 * inbound by classify() (not spoofed, not a hairpin, a not-NAT packet). Static entries
 * leave every packet to the full path: their hosts' packets are rewritten without a
 * session, even where a forward's session names the same host. Fills the lookup key of
 * its session, the bucket still to compute. */
static inline bool established_candidate(const struct napt *n, const struct napt_packet *pkt,
					 struct ipv4_view *v, struct nat_lookup *l)
{
	enum napt_drop_reason why;
	enum napt_dir dir;
	int ext;

	if (n->cfg.n_statics || !plain_transport(pkt, v))
		return false;
	dir = classify(n, v, &ext, &why);
	if (dir != NAPT_DIR_OUT && dir != NAPT_DIR_IN)
		return false;
	l->key = flow_key(v, dir == NAPT_DIR_OUT);
	l->out = dir == NAPT_DIR_IN;
	return true;
}

/* The short path's end, once the lookup's bucket is known: false when the flow has no
 * session (a new flow: the full path creates it). */
static inline bool translate_established(struct napt *n, struct napt_packet *pkt,
					 struct ipv4_view *v, const struct nat_lookup *l,
					 uint32_t now, struct napt_result *r)
{
	uint32_t sidx = nat_lookup_session(n->table, l, now);
	const struct nat_session *s;

	if (!sidx)
		return false;
	track_tcp(n, sidx, v, !l->out, now);
	s = nat_session_at(n->table, sidx);
	if (l->out)
		rewrite_endpoint(v, false, s->in_addr, s->in_port, pkt->csum_partial);
	else
		rewrite_endpoint(v, true, nat_table_ext_addr(n->table, s->ext_index), s->ext_port,
				 pkt->csum_partial);
	clamp_syn(n, v, pkt->csum_partial);
	*r = forwarded(n, v->proto, l->out ? NAPT_DIR_IN : NAPT_DIR_OUT);
	return true;
}

/* ---- the entry point ---- */

static inline void reap(struct napt *n, uint32_t now)
{
	nat_table_expire(n->table, now, REAP_PER_PACKET);
	if (n->frag.n_held)
		n->counters.dropped[NAPT_DROP_FRAG_NO_FIRST] += frag_expire(&n->frag, now);
	if (__builtin_expect(syn_answer_waiting(&n->answers), 0))
		answers_come_due(n, now);
}

/* The full path for a packet that passed validation: classification, fragments, ICMP
 * errors, static NAT, new flows. A packet the short path took up to its lookup comes here
 * with the view plain_transport() made: what it checked is what ipv4_parse() checks. */
static struct napt_result translate_valid(struct napt *n, struct napt_packet *pkt,
					  struct ipv4_view *v, uint32_t now)
{
	enum napt_drop_reason why = NAPT_DROP_NONE;
	enum napt_dir dir;
	struct frag_key first_key;
	struct napt_result r;
	int ext = -1;

	dir = classify(n, v, &ext, &why);
	if (dir == NAPT_DIR_NONE)
		return drop(n, why, dir);
	if (v->frag_offset)
		return later_fragment(n, pkt, v, dir, ext, now);
	first_key = fragment_key(v);
	if (dir == NAPT_DIR_OUT)
		r = translate_out(n, pkt, v, now);
	else if (dir == NAPT_DIR_IN)
		r = translate_in(n, pkt, v, (unsigned)ext, true, now);
	else
		r = translate_hairpin(n, pkt, v, (unsigned)ext, now);
	if (r.verdict != NAPT_FORWARD)
		return r;
	clamp_syn(n, v, pkt->csum_partial);
	if (v->more_frags)
		first_fragment_done(n, &first_key, v, r.dir, now);
	return r;
}

/* Every packet the short path does not take from its start: validated first (section 2). */
static struct napt_result translate_full(struct napt *n, struct napt_packet *pkt, uint32_t now)
{
	struct ipv4_view v;
	enum napt_drop_reason why = ipv4_parse(pkt->data, pkt->len, &v);

	if (why != NAPT_DROP_NONE)
		return drop(n, why, NAPT_DIR_NONE);
	return translate_valid(n, pkt, &v, now);
}

struct napt_result napt_translate(struct napt *n, struct napt_packet *pkt, uint64_t now_ms)
{
	uint32_t now = (uint32_t)now_ms;
	struct ipv4_view v;
	struct nat_lookup l;
	struct napt_result r;

	reap(n, now);
	if (!established_candidate(n, pkt, &v, &l))
		return translate_full(n, pkt, now);
	nat_lookup_hash(n->table, &l);
	if (translate_established(n, pkt, &v, &l, now, &r))
		return r;
	return translate_valid(n, pkt, &v, now); /* a new flow */
}

/* ---- PCP PEER (RFC 6887 section 12) ---- */

/* The suggested endpoint (RFC 6887 section 12.1) is not the one the mapping has. */
static bool peer_elsewhere(const struct napt_peer_request *q, const struct napt_peer_grant *g)
{
	return (q->want_port && q->want_port != g->ext_port) ||
	       (q->want_addr && q->want_addr != g->ext_addr);
}

/* A one-to-one host: stateless, its own port on its static address (translate_out). */
static int peer_static(const struct napt_static *st, const struct napt_peer_request *q,
		       struct napt_peer_grant *g)
{
	g->ext_addr = st->ext_addr;
	g->ext_port = q->in_port;
	g->idle_s = UINT32_MAX;
	return peer_elsewhere(q, g) ? 1 : 0;
}

static bool peer_valid(const struct napt *n, const struct napt_peer_request *q)
{
	return (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP) && q->in_port && q->rem_port &&
	       is_inside(n, q->in_addr) && q->rem_addr && !is_inside(n, q->rem_addr) &&
	       external_index(n, q->rem_addr) < 0 && !static_by_ext(n, q->rem_addr);
}

/* A session made for a PEER request that is then refused goes as every session ends
 * (nat_session_remove: its events and counts, and its mapping with it, as it is the new
 * mapping's only session; a mapping that was there before keeps its other sessions). The
 * port such a new mapping took was never on the wire: no packet left from it and the
 * refusal names port 0 (pcp_server.c), so no remote can hold state on it, which is what
 * RFC 6888 REQ-8's rest (behaviour.md 15) protects. It does not rest: else a host could
 * rest 10 ports a second (its PCP rate) beyond its own ports-per-host limit. A port that
 * rested before the request rests on. */
static void peer_withdraw(struct napt *n, uint32_t sidx)
{
	struct port_pool *pp = nat_table_ports(n->table);
	const struct nat_session *s = nat_session_at(n->table, sidx);
	int p = proto_index(s->proto);
	unsigned ext = s->ext_index;
	uint16_t port = s->ext_port;
	bool rested = port_pool_resting(pp, p, ext, port);

	nat_session_remove(n->table, sidx, false);
	if (!rested)
		port_pool_unrest(pp, p, ext, port);
}

int napt_peer(struct napt *n, const struct napt_peer_request *q, uint64_t now_ms,
	      struct napt_peer_grant *g)
{
	uint32_t now = (uint32_t)now_ms, sidx;
	struct nat_key flow = {.proto = q->proto,
			       .addr = q->in_addr,
			       .port = q->in_port,
			       .rem_addr = q->rem_addr,
			       .rem_port = q->rem_port};
	const struct napt_static *st = static_by_in(n, q->in_addr);
	struct nat_session *s;
	bool made;

	*g = (struct napt_peer_grant){.why = NAPT_DROP_NONE};
	if (!peer_valid(n, q)) {
		g->why = NAPT_DROP_NOT_NAT;
		return -1;
	}
	if (st)
		return peer_static(st, q, g);
	reap(n, now);
	sidx = nat_session_find_in(n->table, &flow, now);
	made = !sidx;
	if (made && (g->why = open_flow(n, &flow, now, &sidx)) != NAPT_DROP_NONE)
		return -1;
	s = nat_session_at(n->table, sidx);
	g->ext_addr = nat_table_ext_addr(n->table, s->ext_index);
	g->ext_port = s->ext_port;
	/* RFC 6887 section 12.3: PEER implies PREFER_FAILURE; a failed request changes
	 * nothing (section 7.3), so a session made for it goes again. */
	if (peer_elsewhere(q, g)) {
		if (made)
			peer_withdraw(n, sidx);
		return 1;
	}
	nat_session_touch(n->table, sidx, s->tclass, now);
	g->idle_s = nat_table_timeout(n->table, s->tclass) / 1000;
	return 0;
}

void napt_expire(struct napt *n, uint64_t now_ms)
{
	uint32_t now = (uint32_t)now_ms;

	nat_table_expire(n->table, now, UINT32_MAX);
	n->counters.dropped[NAPT_DROP_FRAG_NO_FIRST] += frag_expire(&n->frag, now);
	answers_come_due(n, now);
	if (n->cfg.mode == NAPT_MODE_DYNAMIC)
		addr_pool_release_idle(&n->pool, now, instance_host_busy, n);
}

/* ---- bursts ---- */

/* A packet's place in the burst pipeline: what the short path learnt of it at the first
 * stage, kept for the last. */
struct burst_slot {
	struct ipv4_view v;
	struct nat_lookup l; /* bucket NAT_LOOKUP_NONE: the full path takes the packet */
};

/* Four stages in flight, BURST_STEP packets apart so that each stage finds the line the
 * previous one asked for in the cache: packet i's header checked, its key hashed and its
 * buckets fetched; packet i - STEP's session fetched; packet i - 2 STEP's LRU neighbours
 * (when its session is due to move); packet i - 3 STEP translated. The first stage is the
 * short path's own beginning, so a burst does no work a packet alone would not. While the
 * table fits the core's cache nothing misses, and the packets go one by one, without the
 * ring. */
#define BURST_STEP  3
#define BURST_DEPTH (3 * BURST_STEP)
#define BURST_RING  16 /* a power of two above BURST_DEPTH */

static void burst_begin(struct napt *n, const struct napt_packet *pkt, struct burst_slot *b)
{
	if (established_candidate(n, pkt, &b->v, &b->l))
		nat_lookup_hash(n->table, &b->l);
	else
		b->l.bucket = NAT_LOOKUP_NONE;
}

static struct napt_result burst_end(struct napt *n, struct napt_packet *pkt, struct burst_slot *b,
				    uint32_t now)
{
	struct napt_result r;

	reap(n, now);
	if (b->l.bucket == NAT_LOOKUP_NONE)
		return translate_full(n, pkt, now);
	if (translate_established(n, pkt, &b->v, &b->l, now, &r))
		return r;
	return translate_valid(n, pkt, &b->v, now); /* a new flow */
}

void napt_translate_burst(struct napt *n, struct napt_packet *pkts, struct napt_result *res,
			  unsigned count, uint64_t now_ms)
{
	uint32_t now = (uint32_t)now_ms;
	struct burst_slot ring[BURST_RING];

	if (!nat_table_worth_prefetching(n->table)) {
		for (unsigned i = 0; i < count; i++)
			res[i] = napt_translate(n, &pkts[i], now_ms);
		return;
	}
	for (unsigned i = 0; i < count + BURST_DEPTH; i++) {
		if (i < count)
			burst_begin(n, &pkts[i], &ring[i % BURST_RING]);
		if (i >= BURST_STEP && i - BURST_STEP < count)
			nat_lookup_prefetch_session(n->table,
						    &ring[(i - BURST_STEP) % BURST_RING].l);
		if (i >= 2 * BURST_STEP && i - 2 * BURST_STEP < count)
			nat_lookup_prefetch_next(n->table,
						 &ring[(i - 2 * BURST_STEP) % BURST_RING].l, now);
		if (i >= BURST_DEPTH)
			res[i - BURST_DEPTH] = burst_end(
			    n, &pkts[i - BURST_DEPTH], &ring[(i - BURST_DEPTH) % BURST_RING], now);
	}
}
