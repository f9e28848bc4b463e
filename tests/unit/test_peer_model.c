/* SPDX-License-Identifier: BSD-2-Clause */
/* test_peer_model.c - the count of sessions per (external address, remote address) that
 * decides whether an inbound later fragment is held (docs/behaviour.md 10) checked against a
 * brute-force count over the live sessions, after every step of thousands of random ones.
 *
 * Two levels. peer_counts alone, in tables of 2 to 62 slots so that probe runs wrap at the
 * end all the time: random ups and downs against a plain array, every pair looked up after
 * each step (a backward shift that moved an entry before its home, or left a gap in a run,
 * loses a pair). Then the whole engine under each way of making sessions (NAPT on three
 * addresses, port blocks, dynamic NAT with and without the fallback, deterministic NAT,
 * per-host limits, SYN answers, DMZ, forwards, endpoint-independent filtering): random
 * outbound, inbound and hairpinned packets, the clock, expiry, forwards, the DMZ, the
 * external address renumbered, reloads, flushes; after each step the table's pairs must be
 * exactly the live sessions' pairs, and an ICMP later fragment from each candidate remote to
 * each external address is held exactly when that pair holds a session (where only the count
 * decides). Last, the share limit a WAN host meets when it forges the address of remotes that
 * hold sessions (the rule admits them): the figures docs/security.md gives.
 *
 * The same walk keeps the open ports naptd's TUN filter follows (napt_port_watch(), Easy
 * IP's flood filter, src/naptd/tun_filter.c) in a model of its own, from the watch's calls
 * alone: after each step they must be exactly the endpoints a brute-force pass over the
 * mapping slots and the forwards finds, and every inbound TCP or UDP packet the engine
 * translates (the DMZ aside, which the filter passes whole) must have found its port open
 * before it came: a port missing from the filter's map would lose that packet.
 */
#include <check.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4_packet.h"
#include "nat_table.h"
#include "napt.h"
#include "napt_instance.h"
#include "packet_builder.h"
#include "peer_counts.h"
#include "unit_run.h"

/* ---- peer_counts alone ---- */

#define PC_CANDIDATES 24

struct pc_model {
	unsigned ext[PC_CANDIDATES];
	uint32_t addr[PC_CANDIDATES];
	uint32_t count[PC_CANDIDATES];
};

static uint32_t rnd(uint32_t *state, uint32_t bound)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 8) % bound;
}

static void pc_check(const struct peer_counts *pc, const struct pc_model *m, unsigned step)
{
	uint32_t pairs = 0;

	for (unsigned i = 0; i < PC_CANDIDATES; i++) {
		pairs += m->count[i] != 0;
		if (peer_counts_known(pc, m->ext[i], m->addr[i]) != (m->count[i] != 0))
			ck_abort_msg("step %u: pair %u (count %u) known %d", step, i, m->count[i],
				     !m->count[i]);
	}
	if (peer_counts_pairs(pc) != pairs)
		ck_abort_msg("step %u: %u pairs, %u counted", step, peer_counts_pairs(pc), pairs);
}

/* max_sessions bounds the live pairs as the flow table does (a pair holds a session). */
static void pc_run(uint32_t max_sessions, uint32_t seed, unsigned steps)
{
	struct siphash_key key = {seed * 0x9e3779b97f4a7c15ull, seed};
	struct peer_counts *pc = peer_counts_create(max_sessions, &key);
	struct pc_model m;
	uint32_t st = seed, sessions = 0;

	ck_assert_ptr_nonnull(pc);
	for (unsigned i = 0; i < PC_CANDIDATES; i++) {
		m.ext[i] = i % 3;
		m.addr[i] = htonl(0xc6336400u + i / 3); /* 198.51.100.x */
		m.count[i] = 0;
	}
	for (unsigned k = 0; k < steps; k++) {
		unsigned i = rnd(&st, PC_CANDIDATES);
		bool up = rnd(&st, 2) && sessions < max_sessions;

		if (!up && !m.count[i])
			continue;
		peer_counts_add(pc, m.ext[i], m.addr[i], up);
		m.count[i] += up ? 1 : -1u;
		sessions += up ? 1 : -1u;
		pc_check(pc, &m, k);
	}
	peer_counts_destroy(pc);
}

START_TEST(peer_counts_match_a_plain_count)
{
	/* 1 to 40 sessions: 2 to 61 slots, the pairs filling up to two thirds of them. */
	for (uint32_t max = 1; max <= 40; max++)
		for (uint32_t seed = 1; seed <= 25; seed++)
			pc_run(max, seed * 7919u + max, 4000);
}
END_TEST

/* ---- the engine ---- */

#define N_HOSTS   8
#define N_REMOTES 6
#define N_PORTS   32

static struct napt *n;
static uint32_t now, rs;
static uint16_t next_id;
static uint16_t ext_ports[N_PORTS]; /* external ports seen on outbound packets */
static uint32_t remotes[N_REMOTES];
static uint32_t ext_orig[NAPT_MAX_EXTERNAL]; /* the configured external addresses */

/* ---- the open ports, as napt_port_watch() tells them ---- */

static uint64_t watched[NAPT_PROTOS][NAPT_MAX_EXTERNAL][65536 / 64];
static uint32_t watched_count;

static int pidx(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 : 2;
}

static bool watched_open(uint8_t proto, unsigned ext, uint16_t port)
{
	return watched[pidx(proto)][ext][port / 64] >> (port % 64) & 1;
}

static void watch_fn(void *ctx, uint8_t proto, unsigned ext, uint16_t port, bool open)
{
	uint64_t *w = &watched[pidx(proto)][ext][port / 64], bit = 1ull << (port % 64);

	(void)ctx;
	watched_count += open && !(*w & bit);
	watched_count -= !open && (*w & bit);
	*w = open ? *w | bit : *w & ~bit;
}

/* The state at the start, then the watch. */
static void watch_start(void)
{
	static const uint8_t all[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};

	memset(watched, 0, sizeof(watched));
	watched_count = 0;
	for (unsigned p = 0; p < 3; p++)
		for (unsigned e = 0; e < n->cfg.n_external; e++)
			for (uint32_t port = 0; port <= 65535; port++)
				if (napt_port_open(n, all[p], e, (uint16_t)port))
					watch_fn(NULL, all[p], e, (uint16_t)port, true);
	napt_port_watch(n, watch_fn, NULL);
}

static int external_number(uint32_t addr)
{
	for (unsigned e = 0; e < n->cfg.n_external; e++)
		if (nat_table_ext_addr(n->table, e) == addr)
			return (int)e;
	return -1;
}

static uint32_t host(unsigned i)
{
	return htonl(0xc0a8010au + i); /* 192.168.1.10 + i */
}

static uint32_t ext_addr(unsigned e)
{
	return nat_table_ext_addr(n->table, e);
}

static void send_spec(struct pb_spec *s)
{
	uint8_t buf[PB_MAX];
	struct napt_packet p = {.data = buf};
	struct napt_result r;

	int ext = external_number(s->dst);
	bool was_open = ext >= 0 && watched_open(s->proto, (unsigned)ext, s->dport);
	bool dmz = n->cfg.has_dmz;

	s->ip_id = ++next_id;
	p.len = pb_build(buf, s);
	r = napt_translate(n, &p, now);
	if (r.verdict == NAPT_FORWARD && r.dir == NAPT_DIR_IN && s->proto != IPPROTO_ICMP && !dmz &&
	    !was_open)
		ck_abort_msg("proto %u to external %d port %u translated in, its port not open",
			     s->proto, ext, s->dport);
	if (r.verdict == NAPT_FORWARD && r.dir == NAPT_DIR_OUT && s->proto != IPPROTO_ICMP)
		ext_ports[rnd(&rs, N_PORTS)] = (uint16_t)(buf[20] << 8 | buf[21]);
	while (napt_next_released(n, buf, sizeof(buf)))
		;
}

static const uint8_t tcp_flag_choice[] = {TCP_SYN,           TCP_ACK, TCP_SYN | TCP_ACK,
					  TCP_FIN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK};
static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};

static void random_flow(struct pb_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->proto = protos[rnd(&rs, 3)];
	s->tcp_flags = tcp_flag_choice[rnd(&rs, sizeof(tcp_flag_choice))];
	s->icmp_type = 8;
	s->payload_len = 12;
}

static void step_out(void)
{
	struct pb_spec s;
	unsigned hairpin = rnd(&rs, 8) == 0;

	random_flow(&s);
	s.src = host(rnd(&rs, N_HOSTS));
	s.sport = (uint16_t)(1000 + rnd(&rs, 6));
	s.dst = hairpin ? ext_addr(rnd(&rs, n->cfg.n_external)) : remotes[rnd(&rs, N_REMOTES)];
	s.dport = hairpin ? ext_ports[rnd(&rs, N_PORTS)] : (uint16_t)(53 + rnd(&rs, 3));
	send_spec(&s);
}

static void step_in(void)
{
	struct pb_spec s;

	random_flow(&s);
	s.src = remotes[rnd(&rs, N_REMOTES)];
	s.sport = (uint16_t)(53 + rnd(&rs, 3));
	s.dst = ext_addr(rnd(&rs, n->cfg.n_external));
	s.dport = rnd(&rs, 4) ? ext_ports[rnd(&rs, N_PORTS)] : (uint16_t)(8080 + rnd(&rs, 2));
	s.icmp_type = rnd(&rs, 2) ? 0 : 8; /* echo reply or request */
	if (s.proto == IPPROTO_ICMP)
		s.sport = s.dport;
	send_spec(&s);
}

static void step_forward(void)
{
	uint16_t port = (uint16_t)(8080 + rnd(&rs, 2));
	struct napt_forward f = {.protos = NAPT_FWD_TCP | NAPT_FWD_UDP,
				 .ext_lo = port,
				 .ext_hi = port,
				 .in_addr = host(rnd(&rs, N_HOSTS)),
				 .in_lo = 80};

	if (napt_forward_del(n, NAPT_FWD_TCP | NAPT_FWD_UDP, port) < 0) {
		char err[256];

		napt_forward_add(n, &f, err, sizeof(err));
	}
}

/* External address number e goes from its configured address to 203.0.113.100 + e and back
 * (Easy IP's renumbering). */
/* The DMZ set (refused under mode dynamic) or cleared. */
static void step_dmz(void)
{
	if (rnd(&rs, 2)) {
		char err[256];

		napt_dmz_set(n, host(rnd(&rs, N_HOSTS)), err, sizeof(err));
	} else {
		napt_dmz_clear(n);
	}
}

static void step_renumber(void)
{
	unsigned e = rnd(&rs, n->cfg.n_external);
	uint32_t other = htonl(0xcb007164u + e);

	napt_external_replace(n, ext_addr(e), ext_addr(e) == other ? ext_orig[e] : other);
}

static void step_reload(void)
{
	struct napt_config cfg = n->cfg;
	char err[256];

	cfg.timeout_s[NAPT_TIMEOUT_UDP] = 1 + rnd(&rs, 20);
	if (n->cfg.mode == NAPT_MODE_NAPT && !n->cfg.det.on && rnd(&rs, 2))
		cfg.filtering = (enum napt_behaviour)rnd(&rs, 3);
	napt_reconfigure(n, &cfg, now, err, sizeof(err));
}

static void step(void)
{
	unsigned what = rnd(&rs, 100);

	if (what < 40)
		step_out();
	else if (what < 70)
		step_in();
	else if (what < 85) {
		now += rnd(&rs, 4000);
		if (rnd(&rs, 2))
			napt_expire(n, now);
	} else if (what < 90)
		step_forward();
	else if (what < 94) {
		step_dmz();
	} else if (what < 97)
		step_renumber();
	else if (what < 99)
		step_reload();
	else if (rnd(&rs, 10) == 0)
		napt_flush(n);
}

/* Sessions of each (external address number, remote) pair, counted over every slot. */
static uint32_t brute_count(unsigned ext, uint32_t rem)
{
	uint32_t c = 0;

	for (uint32_t i = 1; i <= n->cfg.max_sessions; i++) {
		const struct nat_session *s = nat_session_at(n->table, i);

		c += s->proto && s->ext_index == ext && s->rem_addr == rem;
	}
	return c;
}

static uint32_t brute_pairs(void)
{
	uint32_t pairs = 0;

	for (uint32_t i = 1; i <= n->cfg.max_sessions; i++) {
		const struct nat_session *s = nat_session_at(n->table, i);
		bool first = s->proto != 0;

		for (uint32_t j = 1; first && j < i; j++) {
			const struct nat_session *o = nat_session_at(n->table, j);

			first = !(o->proto && o->ext_index == s->ext_index &&
				  o->rem_addr == s->rem_addr);
		}
		pairs += first;
	}
	return pairs;
}

/* Where only the count decides, an ICMP later fragment from rem to external address e. */
static void check_fragment(unsigned e, uint32_t rem, bool known, unsigned stepno)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s = {
	    .src = rem, .dst = ext_addr(e), .ip_id = ++next_id, .frag = 3, .payload_len = 24};
	struct napt_packet p = {.data = buf};
	struct napt_result r;

	if (n->cfg.has_dmz || n->cfg.filtering == NAPT_ENDPOINT_INDEPENDENT)
		return;
	p.len = pb_build(buf, &s);
	buf[9] = IPPROTO_ICMP;
	pb_fix_ip_csum(buf);
	r = napt_translate(n, &p, now);
	if ((r.verdict == NAPT_HELD) != known)
		ck_abort_msg("step %u: fragment from a %s: verdict %d reason %s", stepno,
			     known ? "peer" : "stranger", r.verdict,
			     napt_drop_reason_name(r.reason));
}

/* The open ports the watch told against the mapping slots and the forwards. */
struct endpoint {
	uint8_t proto, ext;
	uint16_t port;
};

static bool listed(const struct endpoint *l, unsigned k, struct endpoint e)
{
	for (unsigned i = 0; i < k; i++)
		if (l[i].proto == e.proto && l[i].ext == e.ext && l[i].port == e.port)
			return true;
	return false;
}

/* A forward's ports on every address but a deterministic one, added to l. */
static unsigned list_forward(struct endpoint *l, unsigned k, const struct napt_forward *f)
{
	for (unsigned x = 0; x < n->cfg.n_external; x++)
		for (uint32_t port = f->ext_lo; !(n->det_externals >> x & 1) && port <= f->ext_hi;
		     port++)
			for (uint8_t b = NAPT_FWD_TCP; b <= NAPT_FWD_UDP; b <<= 1) {
				struct endpoint e = {b == NAPT_FWD_TCP ? IPPROTO_TCP : IPPROTO_UDP,
						     (uint8_t)x, (uint16_t)port};

				if ((f->protos & b) && !listed(l, k, e))
					l[k++] = e;
			}
	return k;
}

static void check_ports(unsigned stepno)
{
	struct endpoint l[256];
	unsigned k = 0;

	for (uint32_t i = 1; i <= n->cfg.max_sessions; i++) {
		const struct nat_mapping *m = nat_mapping_at(n->table, i);
		struct endpoint e = {m->proto, m->ext_index, m->ext_port};

		if (m->proto && !listed(l, k, e))
			l[k++] = e;
	}
	for (unsigned f = 0; f < n->fwd.n; f++)
		k = list_forward(l, k, &n->fwd.rules[f]);
	for (unsigned i = 0; i < k; i++)
		if (!watched_open(l[i].proto, l[i].ext, l[i].port))
			ck_abort_msg("step %u: proto %u ext %u port %u is held, not open", stepno,
				     l[i].proto, l[i].ext, l[i].port);
	if (watched_count != k)
		ck_abort_msg("step %u: %u ports open, %u held", stepno, watched_count, k);
}

/* The table against the brute-force count. The fragments' turn first reaps what has expired:
 * a packet's translation may reap a few expired sessions before it looks (naptd reaps every
 * second), so an expired session counts until it is gone. */
static void check_model(unsigned stepno, bool fragments)
{
	uint32_t pairs;

	if (fragments)
		napt_expire(n, now);
	pairs = brute_pairs();
	check_ports(stepno);

	if (nat_table_peer_pairs(n->table) != pairs)
		ck_abort_msg("step %u: %u pairs counted, %u live", stepno,
			     nat_table_peer_pairs(n->table), pairs);
	for (unsigned e = 0; e < n->cfg.n_external; e++)
		for (unsigned r = 0; r < N_REMOTES + 2; r++) {
			/* The remotes, and the two hairpin peers (external addresses). */
			uint32_t rem = r < N_REMOTES ? remotes[r] : ext_addr(r - N_REMOTES);
			bool known = brute_count(e, rem) != 0;

			if (nat_table_peer_known(n->table, e, rem) != known)
				ck_abort_msg("step %u: ext %u remote %u known %d, %u sessions",
					     stepno, e, r, !known, brute_count(e, rem));
			if (fragments && r < N_REMOTES)
				check_fragment(e, rem, known, stepno);
		}
}

static void model_run(const char *conf_text, uint32_t seed, unsigned steps)
{
	struct napt_config cfg;
	uint32_t peak = 0;
	char err[256];

	napt_config_defaults(&cfg);
	ck_assert_msg(napt_config_parse_text(&cfg, conf_text, "model", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, seed, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	now = 1000000u;
	rs = seed;
	for (unsigned e = 0; e < n->cfg.n_external; e++)
		ext_orig[e] = ext_addr(e);
	for (unsigned i = 0; i < N_PORTS; i++)
		ext_ports[i] = (uint16_t)(1000 + i % 6);
	for (unsigned i = 0; i < N_REMOTES; i++)
		remotes[i] = htonl(0xc0000201u + i); /* 192.0.2.1 + i */
	watch_start();
	for (unsigned i = 0; i < steps; i++) {
		step();
		check_model(i, false);
		if (rnd(&rs, 4) == 0)
			check_model(i, true);
		if (napt_get_counters(n)->sessions_current > peak)
			peak = (uint32_t)napt_get_counters(n)->sessions_current;
	}
	/* Not vacuous: sessions made and ended in numbers, the table full at times. */
	printf("seed %u: %" PRIu64 " sessions made, at most %u at once of %u\n", seed,
	       napt_get_counters(n)->sessions_created, peak, n->cfg.max_sessions);
	ck_assert_uint_gt(napt_get_counters(n)->sessions_created, steps / 50);
	napt_destroy(n);
}

#define BASE                                                                                       \
	"inside 192.168.0.0/16\nexternal 203.0.113.1\nexternal 203.0.113.2\n"                      \
	"external 203.0.113.3\nmax-sessions 24\ntimeout udp 6\ntimeout icmp 4\n"                   \
	"timeout tcp-transitory 5\ntimeout tcp-established 30\n"

static const char *const configs[] = {
    BASE "filtering address-dependent\n",
    BASE "port-range 5000-5063\nport-block-size 4\n",
    BASE "max-sessions-per-host 5\nports-per-host 3\nfiltering address-dependent\n",
    BASE "unsolicited-syn rst\nfiltering address-dependent\n",
    BASE "mode dynamic\n",
    BASE "mode dynamic\ndynamic-fallback napt\nport-range 1000-1003\n",
    "inside 192.168.0.0/16\nexternal 203.0.113.1\nmax-sessions 40\ntimeout udp 6\n"
    "port-range 2000-2999\ndeterministic 192.168.1.0/28 203.0.113.0/30\n",
};

START_TEST(peer_pairs_are_the_live_sessions_pairs)
{
	for (unsigned c = 0; c < sizeof(configs) / sizeof(configs[0]); c++)
		for (uint32_t seed = 1; seed <= 6; seed++)
			model_run(configs[c], seed * 131u + c, 5000);
}
END_TEST

/* ---- the share limits a spoofer meets (docs/security.md, Limits) ---- */

/* A UDP later fragment (or, first, the first fragment) from 198.51.100.1 + r:53 to the
 * external address port 5000 + r, IP ID id: its verdict, and in *released how many held
 * fragments its translation let go. */
static enum napt_verdict fragment_from(unsigned r, uint16_t id, bool first, unsigned *released)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s = {.proto = IPPROTO_UDP,
			    .src = htonl(0xc6336401u + r),
			    .dst = htonl(0xcb007101u), /* 203.0.113.1 */
			    .sport = 53,
			    .dport = (uint16_t)(5000 + r),
			    .ip_id = id,
			    .frag = first ? 0x2000 : 3,
			    .payload_len = 32};
	struct napt_packet p = {.data = buf};
	enum napt_verdict v;

	p.len = pb_build(buf, &s);
	if (!first) {
		buf[9] = IPPROTO_UDP;
		pb_fix_ip_csum(buf);
	}
	v = napt_translate(n, &p, now).verdict;
	for (*released = 0; napt_next_released(n, buf, sizeof(buf)); ++*released)
		;
	return v;
}

/* Remote 0 (the peer) sends a later fragment before its first; then `spoofed` later
 * fragments come from remotes 1..sources in turn, which hold sessions too (a WAN host can
 * forge their address). Whether the peer's fragment is still there when its first comes. */
static bool peer_fragment_survives(unsigned sources, unsigned spoofed)
{
	struct napt_config cfg;
	unsigned released;
	char err[256];

	napt_config_defaults(&cfg);
	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 192.168.0.0/16\nexternal 203.0.113.1\n",
						"share", err, sizeof(err)),
			 0);
	n = napt_create(&cfg, 5, err, sizeof(err));
	ck_assert_ptr_nonnull(n);
	now = 1000000u;
	for (unsigned r = 0; r <= sources; r++) {
		struct pb_spec s =
		    pb_flow(IPPROTO_UDP, "192.168.1.10", (uint16_t)(5000 + r), "198.51.100.1", 53);

		s.dst = htonl(0xc6336401u + r);
		send_spec(&s);
	}
	ck_assert_int_eq(fragment_from(0, 7777, false, &released), NAPT_HELD);
	for (unsigned i = 0; i < spoofed; i++)
		ck_assert_int_eq(
		    fragment_from(1 + i % sources, (uint16_t)(10000 + i), false, &released),
		    NAPT_HELD);
	ck_assert_int_eq(fragment_from(0, 7777, true, &released), NAPT_FORWARD);
	napt_destroy(n);
	return released == 1;
}

/* Measured figures, not a wish: three forged peers (48 of the 64 slots) never push a real
 * peer's held fragment out, four do with 64 fragments. */
START_TEST(spoofed_peers_meet_the_pool_share)
{
	ck_assert(peer_fragment_survives(3, 2000));
	ck_assert(peer_fragment_survives(4, 63));
	ck_assert(!peer_fragment_survives(4, 64));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("peer_model");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, peer_counts_match_a_plain_count);
	tcase_add_test(tc, peer_pairs_are_the_live_sessions_pairs);
	tcase_add_test(tc, spoofed_peers_meet_the_pool_share);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
