/* SPDX-License-Identifier: BSD-2-Clause */
/* test_break12c_frag_ring.c - review break12c: when naptd passed a WAN host's unsolicited
 * first fragment to any port of local-ports on to the router (43e7b54, since taken back), it
 * was remembered in the fragment ring that the LAN's datagrams share, and spoofed sources
 * (each within its share of 64) turned the whole ring over: a LAN host's datagram whose
 * first fragment went out lost its later fragments. A first fragment to local-ports must
 * make no state, as one to a port nothing takes (port-range, no mapping) makes none. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "napt.h"
#include "packet_builder.h"
#include "unit_run.h"

#define EXT "203.0.113.1"
#define T0  5000000u

static struct napt *n; /* Easy IP on EXT, made per test, left to the test's process */

static void start(void)
{
	static const char text[] =
	    "inside 192.168.1.0/24\nexternal " EXT "\nexternal interface wan0\nmax-sessions 512\n";
	struct napt_config cfg;
	char err[512];

	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_ptr_nonnull(n = napt_create(&cfg, 7, err, sizeof(err)));
}

static struct napt_result send_frag(struct pb_spec *s, uint16_t frag, uint16_t id)
{
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b, .cap = sizeof(b)};

	s->frag = frag;
	s->ip_id = id;
	s->payload_len = 64;
	p.len = pb_build(b, s);
	return napt_translate(n, &p, T0);
}

/* The LAN host's first fragment out, then 32 spoofed sources x 64 first fragments to
 * dport, then the LAN host's later fragment: translated, not held. */
static void lan_datagram_survives(uint16_t dport)
{
	struct pb_spec lan = pb_flow(IPPROTO_UDP, PB_INSIDE_HOST, 5000, PB_REMOTE_HOST, 53);
	char src[32];

	start();
	ck_assert_int_eq(send_frag(&lan, 0x2000, 7).verdict, NAPT_FORWARD);
	for (unsigned h = 0; h < 32; h++) {
		snprintf(src, sizeof(src), "198.51.100.%u", 100 + h);
		for (unsigned i = 0; i < 64; i++) {
			struct pb_spec w = pb_flow(IPPROTO_UDP, src, 53, EXT, dport);

			send_frag(&w, 0x2000, (uint16_t)i);
		}
	}
	lan = pb_flow(IPPROTO_UDP, PB_INSIDE_HOST, 5000, PB_REMOTE_HOST, 53);
	ck_assert_int_eq(send_frag(&lan, 9, 7).verdict, NAPT_FORWARD);
}

START_TEST(flood_to_a_closed_port_costs_nothing)
{
	lan_datagram_survives(50000);
}
END_TEST

START_TEST(flood_to_a_local_port_costs_nothing)
{
	lan_datagram_survives(40000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("break12c_frag_ring");
	TCase *t = tcase_create("ring");

	tcase_add_test(t, flood_to_a_closed_port_costs_nothing);
	tcase_add_test(t, flood_to_a_local_port_costs_nothing);
	suite_add_tcase(s, t);
	return unit_run(s);
}
