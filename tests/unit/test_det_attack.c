/* SPDX-License-Identifier: BSD-2-Clause */
/* test_det_attack.c - attacks on issue 16 (docs/behaviour.md sections 15-17): the RFC 7422
 * formula checked to be a bijection port by port, deterministic ranges that a WAN host or a
 * rule could take over, mid-stream pickup on the wrong segments, port blocks that leak or
 * come back before their rest, and hostile config values. Expected values come from the
 * formula as docs/scale-out.md states it, not from what the code printed. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_nat.h"
#include "napt.h"
#include "napt_config.h"
#include "napt_instance.h"
#include "packet_builder.h"
#include "unit_run.h"

#define REMOTE "198.51.100.7"

static struct napt_config cfg;
static struct napt *n;
static uint8_t pkt[PB_MAX];
static uint64_t now;
static char err[256];

static void parse(const char *text)
{
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
}

static void start(const char *text)
{
	parse(text);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	now = 1000;
}

static void teardown(void)
{
	napt_destroy(n);
	n = NULL;
}

static const struct napt_counters *ctr(void)
{
	return napt_get_counters(n);
}

static struct napt_result send_pkt(const struct pb_spec *s)
{
	struct napt_packet p = {.data = pkt};

	p.len = pb_build(pkt, s);
	return napt_translate(n, &p, now);
}

/* The source address and port the packet in pkt now carries (after translation). */
static uint32_t pkt_src(void)
{
	uint32_t a;

	memcpy(&a, pkt + 12, 4);
	return a;
}

static uint16_t pkt_sport(void)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	return (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]);
}

static uint16_t out_port(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			 uint16_t dport)
{
	struct pb_spec s = pb_flow(proto, src, sport, dst, dport);
	struct napt_result r = send_pkt(&s);

	ck_assert_msg(r.verdict == NAPT_FORWARD, "%s:%u dropped: %s", src, sport,
		      napt_drop_reason_name(r.reason));
	return pkt_sport();
}

static enum napt_drop_reason drop_of(const struct pb_spec *s)
{
	struct napt_result r = send_pkt(s);

	return r.verdict == NAPT_DROP ? r.reason : NAPT_DROP_NONE;
}

/* ---- (a) the formula, port by port ---- */

static uint8_t owner_set[16][65536 / 8];

/* Every host of the prefix gets P ports inside port-range on an address of the external
 * prefix, no port goes to two hosts, and every external endpoint reverses to exactly the
 * host that holds it (or to none). */
static void check_bijection(const char *text)
{
	struct det_layout d;
	struct det_range r, back;
	uint64_t held = 0;

	parse(text);
	ck_assert_int_eq(det_layout_make(&cfg, &d, err, sizeof(err)), 0);
	memset(owner_set, 0, sizeof(owner_set));
	for (uint64_t k = 0; k < d.in_count; k++) {
		uint32_t in = htonl(d.in_base + (uint32_t)k), j;

		ck_assert_loop(det_forward(&d, in, &r), "%s: host %llu has no range", text,
			       (unsigned long long)k);
		j = ntohl(r.ext_addr) - d.ext_base;
		ck_assert_loop(j < d.ext_count, "%s: host %llu: address %u of %u", text,
			       (unsigned long long)k, j, d.ext_count);
		ck_assert_loop(r.lo >= cfg.port_lo && r.hi <= cfg.port_hi &&
				   (uint32_t)r.hi - r.lo + 1 == d.ports,
			       "%s: host %llu: ports %u-%u, port-range %u-%u, %u ports a host",
			       text, (unsigned long long)k, r.lo, r.hi, cfg.port_lo, cfg.port_hi,
			       d.ports);
		for (uint32_t p = r.lo; p <= r.hi; p++) {
			ck_assert_loop(!(owner_set[j][p / 8] >> (p % 8) & 1),
				       "%s: port %u of address %u given twice", text, p, j);
			owner_set[j][p / 8] |= (uint8_t)(1u << (p % 8));
			held++;
		}
		ck_assert_loop(
		    det_port(&r, 0) == r.lo && det_port(&r, 65535) == r.lo + 65535 % d.ports,
		    "%s: host %llu: inside ports 0 and 65535 on %u and %u, range %u-%u", text,
		    (unsigned long long)k, det_port(&r, 0), det_port(&r, 65535), r.lo, r.hi);
	}
	for (uint32_t j = 0; j < d.ext_count; j++)
		for (uint32_t p = 0; p < 65536; p++) {
			bool owned = owner_set[j][p / 8] >> (p % 8) & 1;
			bool found = det_reverse(&d, htonl(d.ext_base + j), (uint16_t)p, &back);

			ck_assert_loop(owned == found, "%s: address %u port %u reverse %d, held %d",
				       text, j, p, found, owned);
			if (!found)
				continue;
			ck_assert_loop(
			    p >= back.lo && p <= back.hi && ntohl(back.ext_addr) - d.ext_base == j,
			    "%s: address %u port %u reverses to address %u ports %u-%u", text, j, p,
			    ntohl(back.ext_addr) - d.ext_base, back.lo, back.hi);
		}
	ck_assert_uint_eq(held, d.in_count * d.ports);
}

static const char *const layouts[] = {
    /* a /20 on 16 addresses: 256 hosts an address, 252 ports, no tail */
    "inside 10.0.0.0/8\ndeterministic 10.0.0.0/20 203.0.113.16/28\n",
    /* a range that does not divide: 63976 ports / 256 = 249, 232 left over */
    "inside 10.0.0.0/8\nport-range 1025-65000\ndeterministic 10.0.0.0/20 "
    "203.0.113.16/28\n",
    /* 8 addresses, 512 hosts each, ending at 65535 */
    "inside 10.0.0.0/8\ndeterministic 10.0.0.0/20 203.0.113.16/29\n",
    /* set ports that leave hosts' slots and ports empty: S = 645, 645 * 16 > 256 */
    "inside 10.0.0.0/8\ndeterministic 10.0.0.0/24 203.0.113.16/28\n"
    "deterministic-ports 100\n",
    /* one host, one address, the last port only */
    "inside 10.0.0.0/8\nport-range 65535-65535\ndeterministic 10.0.0.5/32 "
    "203.0.113.1/32\n",
    /* the most hosts one port each fits: 524288 hosts on 9 of 16 addresses */
    "inside 10.0.0.0/8\ndeterministic 10.0.0.0/13 203.0.113.16/28\ndeterministic-ports "
    "1\n",
    /* other externals listed first: the prefix's addresses are not at index 0 */
    "inside 10.0.0.0/8\nexternal 203.0.113.100\nport-range 1024-60000\n"
    "deterministic 10.0.0.0/21 203.0.113.8/29\n",
};

START_TEST(formula_is_a_bijection)
{
	check_bijection(layouts[_i]);
}
END_TEST

/* The engine keeps every flow of a host inside its range, also when 260 inside ports fall
 * on the same formula port (p mod 252 equal) and the range fills up. */
START_TEST(engine_never_leaves_the_range)
{
	struct det_range r;
	static uint8_t seen[65536];
	const char *hosts[] = {"10.0.0.0", "10.0.15.255", "10.0.7.129"};

	start("inside 10.0.0.0/8\ndeterministic 10.0.0.0/20 203.0.113.16/28\nmax-sessions 4096\n");
	for (unsigned h = 0; h < 3; h++) {
		uint32_t in = pb_addr(hosts[h]);
		unsigned ok = 0;

		ck_assert(det_forward(&n->det, in, &r));
		memset(seen, 0, sizeof(seen));
		for (unsigned i = 0; i < 260; i++) {
			struct pb_spec s =
			    pb_flow(IPPROTO_UDP, hosts[h], (uint16_t)(7 + 252 * i), REMOTE, 53);
			struct napt_result res = send_pkt(&s);

			if (res.verdict != NAPT_FORWARD) {
				ck_assert_str_eq(napt_drop_reason_name(res.reason),
						 napt_drop_reason_name(NAPT_DROP_PORTS_EXHAUSTED));
				continue;
			}
			ok++;
			ck_assert_uint_eq(pkt_src(), r.ext_addr);
			ck_assert_uint_ge(pkt_sport(), r.lo);
			ck_assert_uint_le(pkt_sport(), r.hi);
			ck_assert(!seen[pkt_sport()]);
			seen[pkt_sport()] = 1;
			if (i == 0)
				ck_assert_uint_eq(pkt_sport(), r.lo + 7);
		}
		ck_assert_uint_eq(ok, 252);
	}
	ck_assert_uint_eq(ctr()->det_collisions, 3 * 251);
}
END_TEST

/* ---- deterministic addresses are the prefix's hosts' alone ---- */

/* 512 hosts on each of 8 addresses, 126 ports each: 10.0.0.1 leaves from 203.0.113.16,
 * ports 1150-1275, and a flow from inside port p from 1150 + p % 126. */
#define DET_CONF                                                                                   \
	"inside 10.0.0.0/8\nexternal 203.0.113.99\ndeterministic 10.0.0.0/20 203.0.113.16/29\n"    \
	"max-sessions 1024\n"
#define DET_PORT(p) (1150 + (p) % 126)

/* A WAN host sends to the port the formula will give 10.0.0.1's next flow: with a DMZ,
 * naptd made a DMZ mapping there, inbound traffic to a deterministic endpoint went to the
 * DMZ host (whom the reverse formula does not name), and the host's own flow was pushed to
 * another port (two nodes no longer agree). */
/* The packet to 10.0.0.1's next deterministic endpoint is refused, the host's flow gets
 * that endpoint, and the same packet to the address outside the prefix is taken in (by the
 * DMZ or the forward under test). */
static void expect_det_endpoint_kept(void)
{
	struct pb_spec in = pb_flow(IPPROTO_UDP, REMOTE, 53, "203.0.113.16", DET_PORT(40000));

	ck_assert_str_eq(napt_drop_reason_name(drop_of(&in)),
			 napt_drop_reason_name(NAPT_DROP_NO_MAPPING));
	ck_assert_uint_eq(out_port(IPPROTO_UDP, "10.0.0.1", 40000, REMOTE, 53), DET_PORT(40000));
	ck_assert_uint_eq(ctr()->det_collisions, 0);
	in.dst = pb_addr("203.0.113.99");
	ck_assert_int_eq(drop_of(&in), NAPT_DROP_NONE);
}

START_TEST(dmz_takes_no_deterministic_port)
{
	start(DET_CONF "dmz 10.1.0.1\n");
	expect_det_endpoint_kept();
}
END_TEST

/* A forward (a config line, or a NAT-PMP/PCP lease a LAN host asks for) on a port of a
 * deterministic range: it took that port on the prefix's addresses too. */
START_TEST(forward_takes_no_deterministic_port)
{
	struct napt_forward f = {.protos = NAPT_FWD_UDP | NAPT_FWD_TCP,
				 .ext_lo = DET_PORT(40000),
				 .ext_hi = DET_PORT(40000),
				 .in_addr = pb_addr("10.1.0.2"),
				 .in_lo = 9999};

	start(DET_CONF);
	ck_assert_int_eq(napt_forward_add(n, &f, err, sizeof(err)), 0);
	expect_det_endpoint_kept();
}
END_TEST

/* ---- (b) mid-stream pickup ---- */

static struct pb_spec seg(const char *src, uint16_t sport, uint8_t flags)
{
	struct pb_spec s = pb_flow(IPPROTO_TCP, src, sport, REMOTE, 443);

	s.tcp_flags = flags;
	return s;
}

struct one_session {
	unsigned count;
	char state[32];
	uint32_t expires_in_ms;
};

static int note(const struct napt_session_info *s, void *ctx)
{
	struct one_session *o = ctx;

	o->count++;
	snprintf(o->state, sizeof(o->state), "%s", s->state);
	o->expires_in_ms = s->expires_in_ms;
	return 0;
}

static struct one_session sessions(void)
{
	struct one_session o = {0};

	napt_walk_sessions(n, now, 0, UINT32_MAX, note, &o);
	return o;
}

START_TEST(pickup_only_where_allowed)
{
	struct pb_spec s;
	struct one_session o;

	start(DET_CONF "max-sessions 64\n");
	/* A host outside the prefix: SYN-only rule (case 18). */
	s = seg("10.1.0.5", 5000, 0x10);
	ck_assert_int_eq(drop_of(&s), NAPT_DROP_TCP_NO_SESSION);
	/* RST, and SYN+RST, open nothing. */
	s = seg("10.0.0.1", 5000, 0x04);
	ck_assert_int_ne(drop_of(&s), NAPT_DROP_NONE);
	s = seg("10.0.0.1", 5000, 0x14);
	ck_assert_int_ne(drop_of(&s), NAPT_DROP_NONE);
	s = seg("10.0.0.1", 5000, 0x06);
	ck_assert_int_ne(drop_of(&s), NAPT_DROP_NONE);
	ck_assert_uint_eq(ctr()->sessions_current, 0);
	/* Inbound to the endpoint the formula gives, before any session: refused. */
	s = pb_flow(IPPROTO_TCP, REMOTE, 443, "203.0.113.16", DET_PORT(5000));
	s.tcp_flags = 0x10;
	ck_assert_int_ne(drop_of(&s), NAPT_DROP_NONE);
	s.tcp_flags = 0x02;
	ck_assert_int_ne(drop_of(&s), NAPT_DROP_NONE);
	ck_assert_uint_eq(ctr()->sessions_current, 0);
	/* A FIN picks up a closing session, not an established one. */
	s = seg("10.0.0.1", 5000, 0x11);
	ck_assert_int_eq(drop_of(&s), NAPT_DROP_NONE);
	ck_assert_uint_eq(pkt_sport(), DET_PORT(5000));
	o = sessions();
	ck_assert_uint_eq(o.count, 1);
	ck_assert_str_ne(o.state, "established");
	/* A plain ACK: established, its long timeout (documented). */
	s = seg("10.0.0.2", 5000, 0x10);
	ck_assert_int_eq(drop_of(&s), NAPT_DROP_NONE);
	ck_assert_uint_eq(ctr()->det_pickups, 2);
}
END_TEST

/* ---- (c) port blocks ---- */

/* Blocks' bookkeeping agrees with the mappings: a block has an owner exactly while
 * mappings are on it, and the counters balance. */
static void check_blocks_at(int line)
{
	const struct port_blocks *pb = n->blocks;
	uint64_t owned = 0, on_blocks = 0;

	for (uint32_t i = 0; i < pb->per_ext * pb->n_ext; i++) {
		ck_assert_msg(!pb->b[i].owner == !pb->b[i].mappings,
			      "line %d: block %u owner %x mappings %u", line, i, pb->b[i].owner,
			      pb->b[i].mappings);
		owned += pb->b[i].owner != 0;
		on_blocks += pb->b[i].mappings;
	}
	ck_assert_msg(ctr()->port_blocks_allocated - ctr()->port_blocks_released == owned,
		      "line %d: %llu blocks allocated, %llu released, %llu held", line,
		      (unsigned long long)ctr()->port_blocks_allocated,
		      (unsigned long long)ctr()->port_blocks_released, (unsigned long long)owned);
	ck_assert_msg(on_blocks == ctr()->mappings_current,
		      "line %d: %llu mappings on blocks of %llu", line,
		      (unsigned long long)on_blocks, (unsigned long long)ctr()->mappings_current);
}

#define check_blocks() check_blocks_at(__LINE__)

/* Every way a mapping ends gives its block back: expiry, a session that does not fit
 * (the mapping made for it is taken back), renumbering the external address. */
START_TEST(blocks_do_not_leak)
{
	char host[32];

	start("inside 10.0.0.0/8\nexternal 203.0.113.1\nexternal 203.0.113.2\n"
	      "port-block-size 64\nport-rest 0\nmax-sessions 40\n");
	/* The table's room in sessions from one port of 10.0.0.1: one mapping, one block. */
	for (uint16_t i = 0; i < 100; i++) {
		struct pb_spec s =
		    pb_flow(IPPROTO_UDP, "10.0.0.1", 5000, REMOTE, (uint16_t)(1000 + i));

		if (drop_of(&s) == NAPT_DROP_TABLE_FULL)
			break;
		ck_assert_uint_lt(i, 99);
	}
	ck_assert_uint_eq(ctr()->mappings_current, 1);
	check_blocks();
	/* Others find no session free: their new mappings and blocks are taken back. */
	for (unsigned h = 2; h < 20; h++) {
		struct pb_spec s;

		snprintf(host, sizeof(host), "10.0.0.%u", h);
		s = pb_flow(IPPROTO_UDP, host, 5000, REMOTE, 53);
		ck_assert_int_eq(drop_of(&s), NAPT_DROP_TABLE_FULL);
		check_blocks();
	}
	now += 301 * 1000; /* UDP timeout 300 s */
	napt_expire(n, now);
	check_blocks();
	ck_assert_uint_eq(ctr()->mappings_current, 0);
	/* A block on each address, then the second address renumbered (Easy IP). */
	out_port(IPPROTO_UDP, "10.0.0.2", 5000, REMOTE, 53);
	out_port(IPPROTO_UDP, "10.0.0.3", 5000, REMOTE, 53);
	check_blocks();
	ck_assert_int_eq(napt_external_replace(n, pb_addr("203.0.113.2"), pb_addr("203.0.113.3")),
			 0);
	check_blocks();
	napt_flush(n);
	check_blocks();
}
END_TEST

/* RFC 6888 REQ-8 with blocks: two blocks only. A's block goes back when its mapping
 * expires; C may not have it (nor its ports) until port-rest has passed. */
START_TEST(block_rests_before_reuse)
{
	struct pb_spec c = pb_flow(IPPROTO_UDP, "10.0.0.3", 5000, REMOTE, 53);
	uint16_t a;

	start("inside 10.0.0.0/8\nexternal 203.0.113.1\nport-range 1024-1151\n"
	      "port-block-size 64\nport-rest 120\nmax-sessions 64\n");
	a = out_port(IPPROTO_UDP, "10.0.0.1", 5000, REMOTE, 53);
	out_port(IPPROTO_UDP, "10.0.0.2", 5000, REMOTE, 53);
	now += 301 * 1000;
	napt_expire(n, now);
	ck_assert_uint_eq(ctr()->port_blocks_released, 2);
	ck_assert_int_eq(drop_of(&c), NAPT_DROP_PORTS_EXHAUSTED);
	now += 100 * 1000;
	ck_assert_int_eq(drop_of(&c), NAPT_DROP_PORTS_EXHAUSTED);
	now += 21 * 1000;
	ck_assert_int_eq(drop_of(&c), NAPT_DROP_NONE);
	(void)a;
}
END_TEST

/* Seconds from now until s gets through, trying every 10 s (each try moves the rest's
 * generations on, as new flows do); fails past 300 s. */
static unsigned seconds_until_through(const struct pb_spec *s)
{
	for (unsigned waited = 0; waited <= 300; waited += 10, now += 10 * 1000)
		if (drop_of(s) == NAPT_DROP_NONE)
			return waited;
	ck_abort_msg("still refused after 300 s");
	return 0;
}

/* RFC 6888 REQ-8 across "flush sessions": the ports of the flushed mappings were tied to
 * their hosts a moment ago. With one port in the range, B got A's port at once. The rest
 * is port-rest (120 s) to twice that (behaviour.md section 15). */
START_TEST(flush_keeps_the_rest)
{
	struct pb_spec b = pb_flow(IPPROTO_UDP, "10.0.0.2", 5000, REMOTE, 53);
	unsigned waited;

	start("inside 10.0.0.0/8\nexternal 203.0.113.1\nport-range 2000-2000\nport-rest 120\n"
	      "max-sessions 64\n");
	ck_assert_uint_eq(out_port(IPPROTO_UDP, "10.0.0.1", 5000, REMOTE, 53), 2000);
	napt_flush(n);
	waited = seconds_until_through(&b);
	ck_assert_uint_ge(waited, 120);
	ck_assert_uint_le(waited, 250);
}
END_TEST

/* The same with blocks: a flushed host's block rests too, and its giving back is counted. */
START_TEST(flush_keeps_the_block_rest)
{
	struct pb_spec b = pb_flow(IPPROTO_UDP, "10.0.0.2", 5000, REMOTE, 53);
	unsigned waited;

	start("inside 10.0.0.0/8\nexternal 203.0.113.1\nport-range 1024-1087\n"
	      "port-block-size 64\nport-rest 120\nmax-sessions 64\n");
	out_port(IPPROTO_UDP, "10.0.0.1", 5000, REMOTE, 53);
	napt_flush(n);
	ck_assert_uint_eq(ctr()->port_blocks_released, 1);
	waited = seconds_until_through(&b);
	ck_assert_uint_ge(waited, 120);
	ck_assert_uint_le(waited, 250);
}
END_TEST

/* ports-per-host with blocks: a host holds at most P / N blocks; 2000 flows of one host
 * get 1024 ports (two blocks of 512) and the rest host-port-limit; another host is
 * unaffected. Without a limit, hosts with one flow each take a block each: 126 of 200
 * hosts get one on one address (64512 / 512), as docs/scale-out.md says. */
START_TEST(block_limits_hold)
{
	unsigned ok = 0, limited = 0, served = 0;
	char host[32];

	start("inside 10.0.0.0/8\nexternal 203.0.113.1\nport-block-size 512\nports-per-host 1024\n"
	      "max-sessions 4096\n");
	for (unsigned i = 0; i < 2000; i++) {
		struct pb_spec s =
		    pb_flow(IPPROTO_UDP, "10.0.0.1", (uint16_t)(10000 + i), REMOTE, 53);
		enum napt_drop_reason why = drop_of(&s);

		ok += why == NAPT_DROP_NONE;
		limited += why == NAPT_DROP_HOST_PORTS;
	}
	ck_assert_uint_eq(ok, 1024);
	ck_assert_uint_eq(limited, 2000 - 1024);
	out_port(IPPROTO_UDP, "10.0.0.2", 5000, REMOTE, 53);
	check_blocks();
	teardown();
	start("inside 10.0.0.0/8\nexternal 203.0.113.1\nport-block-size 512\nmax-sessions 4096\n");
	for (unsigned h = 0; h < 200; h++) {
		struct pb_spec s;

		snprintf(host, sizeof(host), "10.0.%u.%u", h / 250, 1 + h % 250);
		s = pb_flow(IPPROTO_UDP, host, 5000, REMOTE, 53);
		served += drop_of(&s) == NAPT_DROP_NONE;
	}
	ck_assert_uint_eq(served, 126);
	check_blocks();
}
END_TEST

/* A WAN host sends to a free port of a block 10.0.0.1 holds: the DMZ host got a mapping
 * there, so the block's one log line (10.0.0.1 had these ports) named the wrong host for
 * that port's traffic. Ports of no held block still go to the DMZ. */
START_TEST(dmz_stays_out_of_held_blocks)
{
	struct pb_spec in;
	uint16_t a;

	start("inside 10.0.0.0/8\nexternal 203.0.113.1\nport-block-size 64\ndmz 10.1.0.1\n"
	      "max-sessions 64\n");
	a = out_port(IPPROTO_UDP, "10.0.0.1", 5000, REMOTE, 53);
	in = pb_flow(IPPROTO_UDP, REMOTE, 53, "203.0.113.1",
		     (uint16_t)(a % 64 == 63 ? a - 1 : a + 1)); /* same block: 1024 + 64k.. */
	ck_assert_int_eq(drop_of(&in), NAPT_DROP_NO_MAPPING);
	in.dport = (uint16_t)(a >= 32768 ? a - 4096 : a + 4096);
	ck_assert_int_eq(drop_of(&in), NAPT_DROP_NONE);
	ck_assert_uint_eq(ctr()->port_blocks_allocated, 1);
}
END_TEST

/* ---- (d) hostile config ---- */

START_TEST(hostile_config_refused)
{
	static const char *const bad[] = {
	    "deterministic 10.0.0.0/24 203.0.113.0/27\n", /* 32 addresses */
	    "deterministic 10.0.0.0/24 203.0.113.0/28\ndeterministic-ports 0\n",
	    "deterministic 10.0.0.0/24 203.0.113.0/28\ndeterministic-ports 65535\n",
	    "deterministic 10.0.0.0/24 203.0.113.0/28\ndeterministic-ports 65536\n",
	    "deterministic 10.0.0.0/12 203.0.113.0/28\n", /* does not fit */
	    "deterministic 10.0.0.0/13 203.0.113.0/28\ndeterministic-ports 2\n",
	    "deterministic 11.0.0.0/24 203.0.113.0/28\n",     /* not inside */
	    "deterministic 10.0.0.0/7 203.0.113.0/28\n",      /* wider than inside */
	    "deterministic 10.0.0.0/24 10.1.0.0/28\n",        /* external inside */
	    "deterministic 10.0.0.0/24 0.0.0.0/28\n",         /* 0.0.0.0 external */
	    "deterministic 10.0.0.0/24 255.255.255.240/28\n", /* broadcast external */
	    "deterministic 10.0.0.0/24 203.0.113.0/28\nmode dynamic\n",
	    "deterministic-ports 10\nexternal 203.0.113.1\n", /* without deterministic */
	    "external 203.0.113.1\nport-block-size 65536\n",
	    "external 203.0.113.1\nport-range 2000-2009\nport-block-size 11\n",
	    "deterministic 10.0.0.0/24 203.0.113.0/28\ndeterministic 10.0.1.0/24 "
	    "203.0.113.16/28\n",
	};
	char text[512];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "inside 10.0.0.0/8\n%s", bad[i]);
		ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) < 0,
			      "accepted: %s", bad[i]);
	}
}
END_TEST

/* A reload may not change the formula while sessions live on it. */
START_TEST(reload_keeps_the_formula)
{
	struct napt_config next;

	start(DET_CONF);
	out_port(IPPROTO_UDP, "10.0.0.1", 40000, REMOTE, 53);
	ck_assert_int_eq(napt_config_parse_text(&next, DET_CONF "deterministic-ports 100\n", "t",
						err, sizeof(err)),
			 0);
	ck_assert_int_lt(napt_reconfigure(n, &next, now, err, sizeof(err)), 0);
	ck_assert_int_eq(napt_config_parse_text(&next, DET_CONF "port-range 1024-65000\n", "t", err,
						sizeof(err)),
			 0);
	ck_assert_int_lt(napt_reconfigure(n, &next, now, err, sizeof(err)), 0);
	ck_assert_int_lt(napt_external_replace(n, pb_addr("203.0.113.16"), pb_addr("192.0.2.1")),
			 0);
	ck_assert_uint_eq(out_port(IPPROTO_UDP, "10.0.0.1", 40000, REMOTE, 53), DET_PORT(40000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("det_attack");
	TCase *tc = tcase_create("attacks");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 120); /* the machine may be loaded: each layout is ~1 s alone */
	tcase_add_loop_test(tc, formula_is_a_bijection, 0,
			    (int)(sizeof(layouts) / sizeof(layouts[0])));
	tcase_add_test(tc, engine_never_leaves_the_range);
	tcase_add_test(tc, dmz_takes_no_deterministic_port);
	tcase_add_test(tc, forward_takes_no_deterministic_port);
	tcase_add_test(tc, pickup_only_where_allowed);
	tcase_add_test(tc, blocks_do_not_leak);
	tcase_add_test(tc, block_rests_before_reuse);
	tcase_add_test(tc, flush_keeps_the_rest);
	tcase_add_test(tc, flush_keeps_the_block_rest);
	tcase_add_test(tc, block_limits_hold);
	tcase_add_test(tc, dmz_stays_out_of_held_blocks);
	tcase_add_test(tc, hostile_config_refused);
	tcase_add_test(tc, reload_keeps_the_formula);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
