/* SPDX-License-Identifier: BSD-2-Clause */
/* test_frag_peer_guess.c - attack on "an inbound later fragment is held only when its source
 * has a session" (docs/behaviour.md 10).
 *
 * The check asks whether the bucket of (external address, source, protocol) in a table of
 * counts is non-zero, not whether that source has a session. Buckets are as many as
 * max-sessions, so on a busy gateway most buckets are non-zero and a WAN host that never
 * talked to anyone inside gets its unsolicited fragments held (and, with enough of them,
 * pushes other hosts' held fragments out of the 64-slot pool). The rule says these make no
 * state: every one must be dropped as fragment-no-first.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>

#include "napt.h"
#include "packet_builder.h"
#include "unit_run.h"

#define EXT   "203.0.113.1"
#define HOST1 PB_INSIDE_HOST
#define T0    1000000u
#define PEERS 200 /* sessions, each with its own remote address: 200 of 256 buckets */

static struct napt *n;

static void conf(struct napt_config *cfg, const char *line)
{
	char err[256];

	ck_assert_msg(napt_config_parse_line(cfg, line, err, sizeof(err)) == 0, "%s: %s", line,
		      err);
}

static void start(void)
{
	struct napt_config cfg;
	char err[256];

	napt_config_defaults(&cfg);
	conf(&cfg, "inside 192.168.0.0/16");
	conf(&cfg, "external " EXT);
	conf(&cfg, "max-sessions 256");
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
}

/* Address number i of 198.18.0.0/15 (RFC 2544 benchmarking), network order. */
static uint32_t bench_addr(uint32_t i)
{
	return htonl(0xc6120000u + i);
}

static enum napt_verdict send_flow(struct pb_spec *s)
{
	uint8_t buf[PB_MAX];
	struct napt_packet p = {.data = buf};

	p.len = pb_build(buf, s);
	return napt_translate(n, &p, T0).verdict;
}

/* A UDP later fragment (offset 24) of datagram id from src to the external address. */
static enum napt_verdict later_fragment(uint32_t src, uint16_t id)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s = {.proto = 0,
			    .src = src,
			    .dst = pb_addr(EXT),
			    .ip_id = id,
			    .frag = 3,
			    .payload_len = 24,
			    .payload_seed = 9};
	struct napt_packet p = {.data = buf};

	p.len = pb_build(buf, &s);
	buf[9] = IPPROTO_UDP;
	pb_fix_ip_csum(buf);
	return napt_translate(n, &p, T0).verdict;
}

START_TEST(fragment_from_stranger_is_not_held)
{
	unsigned held = 0;

	start();
	for (uint32_t i = 0; i < PEERS; i++) {
		struct pb_spec s = pb_flow(IPPROTO_UDP, HOST1, 5000, "198.51.100.7", 53);

		s.dst = bench_addr(1 + i);
		ck_assert_int_eq(send_flow(&s), NAPT_FORWARD);
	}
	/* Strangers: addresses from the other half of 198.18.0.0/15, none with a session. */
	for (uint32_t i = 0; i < PEERS; i++)
		held += later_fragment(bench_addr(0x10000 + i), (uint16_t)i) == NAPT_HELD;
	ck_assert_msg(held == 0, "%u of %u strangers' fragments held", held, PEERS);
	ck_assert_uint_eq(napt_get_counters(n)->dropped[NAPT_DROP_FRAG_NO_FIRST], PEERS);
	napt_destroy(n);
}
END_TEST

int main(void)
{
	return unit_run_one("frag_peer_guess", fragment_from_stranger_is_not_held, 10);
}
