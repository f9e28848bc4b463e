/* SPDX-License-Identifier: BSD-2-Clause */
/* test_frag_peer_guess.c - "an inbound later fragment is held only when its source has a
 * session" (docs/behaviour.md 10), attacked and followed through every way a session ends.
 *
 * Until 2026-12-07 the check asked whether the bucket of (external address, source,
 * protocol) in a table of counts was non-zero, not whether that source had a session.
 * Buckets were as many as max-sessions, so on a busy gateway most were non-zero and a WAN
 * host that never talked to anyone inside got its unsolicited fragments held (and, with
 * enough of them, pushed other hosts' held fragments out of the 64-slot pool): 106 of 200
 * strangers at 200 sessions of 256, 45 % at 40 000 of 65 536. The rule says these make no
 * state: every one must be dropped as fragment-no-first. The count per (external address,
 * remote address) that replaced it must also come back to nothing whichever way a session
 * ends, or the remote host would stay "known" for good.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>

#include "ipv4_packet.h"
#include "napt.h"
#include "napt_instance.h"
#include "packet_builder.h"
#include "unit_run.h"

#define EXT    "203.0.113.1"
#define EXT2   "203.0.113.2"
#define HOST1  PB_INSIDE_HOST
#define REMOTE "198.51.100.9"
#define T0     1000000u
#define SECOND 1000u

static struct napt *n;
static uint32_t now;
static uint16_t next_id;

static void conf(struct napt_config *cfg, const char *line)
{
	char err[256];

	ck_assert_msg(napt_config_parse_line(cfg, line, err, sizeof(err)) == 0, "%s: %s", line,
		      err);
}

static void start(const char *max_sessions)
{
	struct napt_config cfg;
	char err[256];

	napt_config_defaults(&cfg);
	conf(&cfg, "inside 192.168.0.0/16");
	conf(&cfg, "external " EXT);
	conf(&cfg, max_sessions);
	conf(&cfg, "timeout udp 5");
	conf(&cfg, "timeout tcp-transitory 5");
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	now = T0;
}

/* Address number i of 198.18.0.0/15 (RFC 2544 benchmarking), network order. */
static uint32_t bench_addr(uint32_t i)
{
	return htonl(0xc6120000u + i);
}

/* Translates s at the current time; the packet, translated, is left in buf. */
static enum napt_verdict send_spec(const struct pb_spec *s, uint8_t *buf)
{
	struct napt_packet p = {.data = buf};

	p.len = pb_build(buf, s);
	return napt_translate(n, &p, now).verdict;
}

static enum napt_verdict send_flow(const struct pb_spec *s)
{
	uint8_t buf[PB_MAX];

	return send_spec(s, buf);
}

/* A later fragment (offset 24) of protocol proto from src to dst, a new IP ID each time. */
static enum napt_verdict later_fragment(uint8_t proto, uint32_t src, uint32_t dst)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s = {.proto = 0,
			    .src = src,
			    .dst = dst,
			    .ip_id = ++next_id,
			    .frag = 3,
			    .payload_len = 24,
			    .payload_seed = 9};
	struct napt_packet p = {.data = buf};

	p.len = pb_build(buf, &s);
	buf[9] = proto;
	pb_fix_ip_csum(buf);
	return napt_translate(n, &p, now).verdict;
}

/* PEERS sessions of HOST1, each with its own remote address, then as many later fragments
 * from strangers (the other half of 198.18.0.0/15): returns how many were held. */
static unsigned strangers_held(uint32_t peers)
{
	unsigned held = 0;

	for (uint32_t i = 0; i < peers; i++) {
		struct pb_spec s = pb_flow(IPPROTO_UDP, HOST1, 5000, "198.51.100.7", 53);

		s.dst = bench_addr(1 + i);
		ck_assert_int_eq(send_flow(&s), NAPT_FORWARD);
	}
	for (uint32_t i = 0; i < peers; i++)
		held +=
		    later_fragment(IPPROTO_UDP, bench_addr(0x10000 + i), pb_addr(EXT)) == NAPT_HELD;
	printf("%u of %u strangers' fragments held at %u sessions\n", held, peers,
	       (unsigned)napt_get_counters(n)->sessions_current);
	return held;
}

START_TEST(fragment_from_stranger_is_not_held)
{
	start("max-sessions 256");
	ck_assert_uint_eq(strangers_held(200), 0); /* 200 of 256 buckets were in use */
	ck_assert_uint_eq(napt_get_counters(n)->dropped[NAPT_DROP_FRAG_NO_FIRST], 200);
	napt_destroy(n);
}
END_TEST

START_TEST(fragment_from_stranger_is_not_held_at_40k)
{
	start("max-sessions 65536");
	ck_assert_uint_eq(strangers_held(40000), 0);
	napt_destroy(n);
}
END_TEST

/* ---- the count of each way a session ends ---- */

/* Whether REMOTE's later fragment to ext is held: ICMP, which no forward admits by itself,
 * so only a session of REMOTE's (or the DMZ) does. */
static bool remote_known(const char *ext)
{
	return later_fragment(IPPROTO_ICMP, pb_addr(REMOTE), pb_addr(ext)) == NAPT_HELD;
}

/* Nothing left to count: no session, no pair, and REMOTE's fragments are dropped. */
static void assert_forgotten(const char *ext)
{
	uint64_t dropped = napt_get_counters(n)->dropped[NAPT_DROP_FRAG_NO_FIRST];

	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 0);
	ck_assert_uint_eq(nat_table_peer_pairs(n->table), 0);
	ck_assert(!remote_known(ext));
	ck_assert_uint_eq(napt_get_counters(n)->dropped[NAPT_DROP_FRAG_NO_FIRST], dropped + 1);
}

/* HOST1 sends to REMOTE:rport; returns the external port it got. */
static uint16_t out_flow(uint8_t proto, uint16_t sport, uint16_t rport)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s = pb_flow(proto, HOST1, sport, REMOTE, rport);

	ck_assert_int_eq(send_spec(&s, buf), NAPT_FORWARD);
	ck_assert(remote_known(EXT));
	return (uint16_t)(buf[20] << 8 | buf[21]);
}

/* REMOTE sends a TCP segment with flags from rport to the external port. */
static enum napt_verdict in_tcp(uint16_t rport, uint16_t ext_port, uint8_t flags)
{
	struct pb_spec s = pb_flow(IPPROTO_TCP, REMOTE, rport, EXT, ext_port);

	s.tcp_flags = flags;
	return send_flow(&s);
}

START_TEST(peer_forgotten_on_every_free_path)
{
	struct napt_forward fwd = {.protos = NAPT_FWD_TCP,
				   .ext_lo = 8080,
				   .ext_hi = 8080,
				   .in_addr = pb_addr(HOST1),
				   .in_lo = 80};
	struct pb_spec s;
	uint16_t port;
	char err[256];

	start("max-sessions 256");
	ck_assert(!remote_known(EXT));
	/* UDP expiry (timeout udp 5). */
	out_flow(IPPROTO_UDP, 5000, 53);
	now += 6 * SECOND;
	napt_expire(n, now);
	assert_forgotten(EXT);
	/* A RST from the remote end, then the transitory timeout. */
	port = out_flow(IPPROTO_TCP, 40000, 443);
	ck_assert_int_eq(in_tcp(443, port, TCP_SYN | TCP_ACK), NAPT_FORWARD);
	ck_assert_int_eq(in_tcp(443, port, TCP_RST | TCP_ACK), NAPT_FORWARD);
	now += 6 * SECOND;
	napt_expire(n, now);
	assert_forgotten(EXT);
	/* "flush sessions". */
	out_flow(IPPROTO_UDP, 5001, 53);
	out_flow(IPPROTO_ICMP, 77, 0);
	napt_flush(n);
	assert_forgotten(EXT);
	/* A forward's session ends with the forward. */
	ck_assert_int_eq(napt_forward_add(n, &fwd, err, sizeof(err)), 0);
	ck_assert_int_eq(in_tcp(1234, 8080, TCP_SYN), NAPT_FORWARD);
	ck_assert(remote_known(EXT));
	ck_assert_int_eq(napt_forward_del(n, NAPT_FWD_TCP, 8080), 0);
	assert_forgotten(EXT);
	/* A new forward takes the ports of dynamic mappings. */
	port = out_flow(IPPROTO_TCP, 40001, 443);
	fwd = (struct napt_forward){.protos = NAPT_FWD_TCP,
				    .ext_lo = port,
				    .ext_hi = port,
				    .in_addr = pb_addr(HOST1),
				    .in_lo = 80};
	ck_assert_int_eq(napt_forward_add(n, &fwd, err, sizeof(err)), 0);
	assert_forgotten(EXT);
	ck_assert_int_eq(napt_forward_del(n, NAPT_FWD_TCP, port), 0);
	/* The DMZ's sessions end when it is cleared. */
	ck_assert_int_eq(napt_dmz_set(n, pb_addr(HOST1), err, sizeof(err)), 0);
	s = pb_flow(IPPROTO_UDP, REMOTE, 9, EXT, 9999);
	ck_assert_int_eq(send_flow(&s), NAPT_FORWARD);
	ck_assert_uint_eq(nat_table_peer_pairs(n->table), 1);
	napt_dmz_clear(n);
	assert_forgotten(EXT);
	/* Renumbering the external address ends its sessions. */
	out_flow(IPPROTO_UDP, 5002, 53);
	ck_assert_int_eq(napt_external_replace(n, pb_addr(EXT), pb_addr(EXT2)), 0);
	assert_forgotten(EXT2);
	napt_destroy(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frag_peer_guess");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fragment_from_stranger_is_not_held);
	tcase_add_test(tc, fragment_from_stranger_is_not_held_at_40k);
	tcase_add_test(tc, peer_forgotten_on_every_free_path);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
