/* SPDX-License-Identifier: BSD-2-Clause */
/* test_tun_filter.c - Easy IP's TUN filter program (src/naptd/tun_filter.c), run by the
 * kernel on packets through BPF_PROG_TEST_RUN, against what docs/design.md ("The TUN
 * filter") says it passes: named cases first, then 200 000 random and mutated packets
 * (cut short to 20 bytes or more, bytes flipped, options, fragments, other versions) under
 * random map states,
 * each verdict compared with a model written from that description, and the drop counter
 * with the model's drops. Needs root (the kernel loads the program for CAP_BPF only): skipped
 * (77) otherwise.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipv4_packet.h"
#include "packet_builder.h"
#include "tun_filter.h"
#include "unit_run.h"

#define W     "203.0.113.5"
#define OTHER "198.51.100.9"
#define ETH   14 /* the test run's skb starts with an Ethernet header it pulls */

static struct tun_flood_filter tf;
static int prog = -1;

static void setup(void)
{
	prog = tun_filter_load(&tf);
	ck_assert_msg(prog >= 0, "%s", tf.why_off);
	tf.map->wan = ntohl(pb_addr(W));
}

static void teardown(void)
{
	if (prog >= 0)
		close(prog);
	tun_filter_close(&tf, NULL);
}

/* The program's answer for an IPv4 packet (or any bytes) of len bytes: the length kept. */
static uint32_t run(const uint8_t *ip, size_t len)
{
	uint8_t frame[PB_MAX + ETH] = {0};
	struct bpf_test_run_opts o = {.sz = sizeof(o), .data_in = frame, .data_size_in = len + ETH};

	frame[12] = 0x08; /* ethertype IPv4 */
	memcpy(frame + ETH, ip, len);
	ck_assert_msg(bpf_prog_test_run_opts(prog, &o) == 0, "test run of %zu bytes refused", len);
	return o.retval;
}

static size_t build(uint8_t *buf, uint8_t proto, const char *dst, uint16_t dport, uint8_t flags)
{
	struct pb_spec s = pb_flow(proto, "192.0.2.7", 40000, dst, dport);

	s.tcp_flags = flags;
	return pb_build(buf, &s);
}

static bool passes(uint8_t proto, const char *dst, uint16_t dport, uint8_t flags)
{
	uint8_t buf[PB_MAX];
	size_t len = build(buf, proto, dst, dport, flags);
	uint32_t kept = run(buf, len);

	ck_assert_msg(kept == 0 || kept == len, "kept %u of %zu", kept, len);
	return kept != 0;
}

START_TEST(open_ports_pass_the_rest_is_dropped_and_counted)
{
	tun_filter_port(tf.map, IPPROTO_TCP, 0, 8080, true);
	tun_filter_port(tf.map, IPPROTO_UDP, 0, 5000, true);
	tun_filter_port(tf.map, IPPROTO_UDP, 0, 5001, true);
	tun_filter_port(tf.map, IPPROTO_UDP, 0, 5001, false);
	ck_assert(passes(IPPROTO_TCP, W, 8080, TCP_ACK));
	ck_assert(passes(IPPROTO_UDP, W, 5000, 0));
	ck_assert(!passes(IPPROTO_UDP, W, 5001, 0));
	ck_assert(!passes(IPPROTO_UDP, W, 8080, 0)); /* the TCP port is not the UDP one */
	ck_assert(!passes(IPPROTO_TCP, W, 5000, TCP_ACK));
	ck_assert(!passes(IPPROTO_TCP, W, 8081, TCP_SYN)); /* no unsolicited-syn: dropped too */
	ck_assert(passes(IPPROTO_TCP, W, 0, TCP_ACK) == false);
	ck_assert_uint_eq(tf.map->dropped, 5);
	/* Not for W, ICMP: never looked at. */
	ck_assert(passes(IPPROTO_UDP, OTHER, 5001, 0));
	ck_assert(passes(IPPROTO_ICMP, W, 0, 0));
	ck_assert_uint_eq(tf.map->dropped, 5);
	/* W follows the config (renumbering): the old address is not filtered any more. */
	tf.map->wan = ntohl(pb_addr(OTHER));
	ck_assert(passes(IPPROTO_UDP, W, 5001, 0));
	ck_assert(!passes(IPPROTO_UDP, OTHER, 5001, 0));
	ck_assert(passes(IPPROTO_UDP, OTHER, 5000, 0));
}
END_TEST

START_TEST(dmz_passes_all_syn_flag_passes_bare_syns)
{
	tf.map->flags = TUN_FILTER_ALL;
	ck_assert(passes(IPPROTO_UDP, W, 6000, 0));
	ck_assert(passes(IPPROTO_TCP, W, 6000, TCP_ACK));
	tf.map->flags = TUN_FILTER_SYN;
	ck_assert(passes(IPPROTO_TCP, W, 6000, TCP_SYN));
	ck_assert(passes(IPPROTO_TCP, W, 6000, TCP_SYN | TCP_FIN));
	ck_assert(!passes(IPPROTO_TCP, W, 6000, TCP_SYN | TCP_ACK));
	ck_assert(!passes(IPPROTO_TCP, W, 6000, TCP_ACK));
	ck_assert(!passes(IPPROTO_UDP, W, 6000, 0));
	ck_assert_uint_eq(tf.map->dropped, 3);
}
END_TEST

START_TEST(options_and_fragments)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s = pb_flow(IPPROTO_UDP, "192.0.2.7", 40000, W, 5000);
	size_t len;

	tun_filter_port(tf.map, IPPROTO_UDP, 0, 5000, true);
	s.opt_len = 12; /* the ports lie behind the options */
	len = pb_build(buf, &s);
	ck_assert_uint_eq(run(buf, len), len);
	s.dport = 5002;
	len = pb_build(buf, &s);
	ck_assert_uint_eq(run(buf, len), 0);
	s.opt_len = 0;
	s.frag = 0x2000; /* a first fragment: it has the ports */
	len = pb_build(buf, &s);
	ck_assert_uint_eq(run(buf, len), 0);
	s.frag = 0x2000 | 3; /* a later one: the engine's */
	len = pb_build(buf, &s);
	ck_assert_uint_eq(run(buf, len), len);
	/* A UDP header cut short: dropped (the engine would drop it as malformed). */
	s.frag = 0;
	len = pb_build(buf, &s);
	ck_assert_uint_eq(run(buf, 22), 0);
	/* Not IPv4: passed whole. */
	buf[0] = 0x60;
	ck_assert_uint_eq(run(buf, len), len);
}
END_TEST

/* ---- the model: design.md's list, byte by byte ---- */

/* 0 drops; otherwise the length. A TCP/UDP packet for W cut short drops (counted). */
static uint32_t model(const uint8_t *ip, size_t len, const struct tun_filter_map *m)
{
	size_t ihl;
	uint8_t proto;
	uint16_t port;

	if (len < 1)
		return 0;
	if (ip[0] >> 4 != 4)
		return (uint32_t)len;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (len < 20)
		return 0;
	if (((uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19]) !=
	    m->wan)
		return (uint32_t)len;
	if (((ip[6] << 8 | ip[7]) & 0x1fff) || (m->flags & TUN_FILTER_ALL))
		return (uint32_t)len;
	proto = ip[9];
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return (uint32_t)len;
	if (proto == IPPROTO_TCP && (m->flags & TUN_FILTER_SYN)) {
		if (len < ihl + 14)
			return 0;
		if ((ip[ihl + 13] & 0x12) == 0x02)
			return (uint32_t)len;
	}
	if (len < ihl + 4)
		return 0;
	port = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
	return tun_filter_port_marked(m, proto, port) ? (uint32_t)len : 0;
}

static uint32_t rnd(uint64_t *s, uint32_t bound)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33) % bound;
}

static size_t random_packet(uint8_t *buf, uint64_t *rs)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47};
	static const uint8_t flags[] = {TCP_SYN, TCP_ACK, TCP_SYN | TCP_ACK, TCP_RST, 0};
	struct pb_spec s = pb_flow(protos[rnd(rs, 4)], "192.0.2.7", 40000, rnd(rs, 4) ? W : OTHER,
				   (uint16_t)(5000 + rnd(rs, 16)));
	size_t len;

	s.tcp_flags = flags[rnd(rs, sizeof(flags))];
	s.opt_len = (uint8_t)(rnd(rs, 4) == 0 ? 4 * rnd(rs, 11) : 0);
	s.frag = (uint16_t)(rnd(rs, 4) == 0 ? rnd(rs, 0x4000) : 0);
	s.payload_len = (uint16_t)rnd(rs, 64);
	len = pb_build(buf, &s);
	for (unsigned k = rnd(rs, 3) ? 0 : 1 + rnd(rs, 4); k; k--)
		buf[rnd(rs, (uint32_t)len)] ^= (uint8_t)(1 + rnd(rs, 255));
	/* Cut anywhere past the 20 bytes every IPv4 packet routed has (ip_rcv drops shorter
	 * ones; the test run refuses them too). */
	return rnd(rs, 4) ? len : 20 + rnd(rs, (uint32_t)len - 19);
}

START_TEST(random_packets_match_the_model)
{
	uint64_t rs = 0x1234567, drops = 0;
	uint8_t buf[PB_MAX];

	for (unsigned i = 0; i < 200000; i++) {
		size_t len;
		uint32_t want, got;

		if (i % 1000 == 0) { /* a new map state */
			tf.map->flags = rnd(&rs, 4);
			for (uint16_t p = 5000; p < 5016; p++) {
				tun_filter_port(tf.map, IPPROTO_TCP, 0, p, rnd(&rs, 2));
				tun_filter_port(tf.map, IPPROTO_UDP, 0, p, rnd(&rs, 2));
			}
		}
		len = random_packet(buf, &rs);
		want = model(buf, len, tf.map);
		got = run(buf, len);
		drops += want == 0;
		if (got != want)
			ck_abort_msg("packet %u (%zu bytes, proto %u, flags %u): kept %u, model %u",
				     i, len, len > 9 ? buf[9] : 0, tf.map->flags, got, want);
	}
	ck_assert_uint_eq(tf.map->dropped, drops);
	ck_assert_uint_gt(drops, 10000); /* not vacuous: both verdicts in numbers */
	ck_assert_uint_lt(drops, 190000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tun_filter");
	TCase *tc = tcase_create("program");

	if (geteuid() != 0) {
		puts("SKIP: loading a BPF program needs root");
		return 77;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, open_ports_pass_the_rest_is_dropped_and_counted);
	tcase_add_test(tc, dmz_passes_all_syn_flag_passes_bare_syns);
	tcase_add_test(tc, options_and_fragments);
	tcase_add_test(tc, random_packets_match_the_model);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
