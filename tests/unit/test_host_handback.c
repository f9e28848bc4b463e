/* SPDX-License-Identifier: BSD-2-Clause */
/* test_host_handback.c - Easy IP's hand-back (host_handback.h): real packets through a real
 * engine with an Easy IP config, built by packet_builder.c from the rules of
 * docs/home-router.md ("What reaches what"), then the decision. And an adversarial loop:
 * whatever bytes come in, a packet handed back is the one that came in, unchanged, for the
 * WAN address. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_handback.h"
#include "napt.h"
#include "packet_builder.h"
#include "unit_run.h"

#define W   "203.0.113.1" /* the WAN interface's address */
#define REM PB_REMOTE_HOST
#define T0  5000000u

static struct napt_config cfg;
static struct napt *n;
static uint8_t buf[PB_MAX], orig[PB_MAX];
static size_t len;
static char err[512];

/* The destination address of the IPv4 packet at ip, network order. */
static uint32_t get_dst(const uint8_t *ip)
{
	uint32_t a;

	memcpy(&a, ip + 16, sizeof(a));
	return a;
}

static void start(const char *lines)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\nexternal " W "\nexternal interface wan0\n"
		 "max-sessions 512\n%s",
		 lines);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
}

static void teardown(void)
{
	napt_destroy(n);
	n = NULL;
}

/* Translate s; return whether naptd would hand it back, and check that then it is unchanged. */
static bool handed(const struct pb_spec *s)
{
	struct napt_packet p;
	struct napt_result r;
	bool back;

	len = pb_build(buf, s);
	memcpy(orig, buf, len);
	p = (struct napt_packet){.data = buf, .len = len};
	r = napt_translate(n, &p, T0);
	back = host_handback_takes(pb_addr(W), &cfg, &p, &r);
	if (back)
		ck_assert_mem_eq(buf, orig, len);
	return back;
}

/* TCP and UDP are never handed back: the router's services are reached through
 * local-service (steered to the local table before the TUN), and what the WAN sends to a
 * port no rule names is the engine's to refuse (counted no-mapping), so
 * that it never reaches the router past an input firewall on the WAN interface. */
START_TEST(unnamed_service_without_dmz)
{
	static const uint16_t ports[] = {22, 8000, 49151, 50000, 65534};

	start("");
	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 40000, W, ports[i]);
		struct pb_spec udp = pb_flow(IPPROTO_UDP, REM, 40000, W, ports[i]);

		ck_assert(!handed(&syn));
		ck_assert(!handed(&udp));
		syn.tcp_flags = 0x10; /* the handshake's ACK: no session */
		ck_assert(!handed(&syn));
	}
	ck_assert_uint_eq(napt_get_counters(n)->dropped[NAPT_DROP_NO_MAPPING], 15);
}
END_TEST

START_TEST(echo_request_and_reply)
{
	struct pb_spec req = pb_flow(IPPROTO_ICMP, REM, 77, W, 0);
	struct pb_spec rep = pb_flow(IPPROTO_ICMP, REM, 77, W, 0);

	rep.icmp_type = 0;
	start("");
	ck_assert(handed(&req)); /* no DMZ: the router answers */
	ck_assert(handed(&rep)); /* the router's own ping */
}
END_TEST

/* The echo identifiers outside port-range are the router's: a remote's echo request with
 * 41000 gives the DMZ host an echo session on W:41000, yet the same remote's echo reply with
 * 41000 (to the router's ping) goes to the router; with 50000, naptd's, it stays the DMZ's. */
START_TEST(echo_ids_outside_port_range_are_the_routers)
{
	static const uint16_t ids[2] = {41000, 50000};

	start("dmz 192.168.1.50\n");
	for (unsigned i = 0; i < 2; i++) {
		struct pb_spec req = pb_flow(IPPROTO_ICMP, REM, ids[i], W, 0);
		struct pb_spec rep = pb_flow(IPPROTO_ICMP, REM, ids[i], W, 0);

		ck_assert(!handed(&req)); /* the DMZ host's */
		ck_assert_uint_eq(get_dst(buf), pb_addr("192.168.1.50"));
		rep.icmp_type = 0;
		ck_assert(handed(&rep) == (i == 0));
	}
}
END_TEST

/* "Fragmentation needed" about the router's own TCP connection W:40000 -> REM:443. */
START_TEST(icmp_error_for_the_router)
{
	uint8_t quote[PB_MAX];
	struct pb_spec q = pb_flow(IPPROTO_TCP, W, 40000, REM, 443);
	struct pb_spec e = pb_flow(IPPROTO_ICMP, REM, 0, W, 0);

	q.payload_len = 0;
	e.quote_len = pb_build(quote, &q);
	e.quote = quote;
	e.icmp_type = 3;
	e.icmp_code = 4;
	e.mtu = 1280;
	start("");
	ck_assert(handed(&e));
}
END_TEST

START_TEST(dmz_and_forward_take_theirs)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 40000, W, 8000);
	struct pb_spec req = pb_flow(IPPROTO_ICMP, REM, 77, W, 0);
	struct pb_spec fwd = pb_flow(IPPROTO_TCP, REM, 40001, W, 8080);

	start("dmz 192.168.1.50\nforward tcp 8080 192.168.1.10:80\n");
	ck_assert(!handed(&syn));
	ck_assert_uint_eq(get_dst(buf), pb_addr("192.168.1.50"));
	ck_assert(!handed(&req));
	ck_assert(!handed(&fwd));
	ck_assert_uint_eq(get_dst(buf), pb_addr("192.168.1.10"));
}
END_TEST

START_TEST(never_from_inside_spoofed_or_fragment)
{
	struct pb_spec hairpin = pb_flow(IPPROTO_TCP, PB_INSIDE_HOST, 40000, W, 8000);
	struct pb_spec spoofed = pb_flow(IPPROTO_TCP, W, 40000, W, 8000);
	struct pb_spec frag = pb_flow(IPPROTO_UDP, REM, 40000, W, 8000);
	struct pb_spec other = pb_flow(IPPROTO_TCP, REM, 40000, "203.0.113.2", 8000);

	start("external 203.0.113.2\n"); /* a pool address beside W: naptd's alone */
	ck_assert(!handed(&hairpin));    /* rewritten on its way out before it was dropped */
	hairpin.sport = 40001; /* an ACK of no session: dropped unchanged on its way out */
	hairpin.tcp_flags = 0x10;
	ck_assert(!handed(&hairpin));
	ck_assert(!handed(&spoofed));
	frag.frag = 0x2000; /* a first fragment: the rest would never follow it */
	ck_assert(!handed(&frag));
	ck_assert(!handed(&other));
}
END_TEST

/* Adversarial: random bytes, and valid packets with random bytes changed, through the
 * engine; whatever is handed back is what came in, for W. */
START_TEST(mutated_packets)
{
	struct pb_spec flows[] = {pb_flow(IPPROTO_TCP, REM, 40000, W, 8000),
				  pb_flow(IPPROTO_UDP, REM, 40000, W, 22),
				  pb_flow(IPPROTO_ICMP, REM, 9, W, 0)};
	unsigned taken = 0;

	start("");
	srand(12);
	for (unsigned i = 0; i < 60000; i++) {
		struct napt_packet p;
		struct napt_result r;

		len = pb_build(buf, &flows[i % 3]);
		for (unsigned k = 0, m = (unsigned)rand() % 4; k < m; k++)
			buf[(unsigned)rand() % len] = (uint8_t)rand();
		if (i % 7 == 0) /* a shorter packet than it says */
			len = (size_t)rand() % (len + 1);
		memcpy(orig, buf, len);
		p = (struct napt_packet){.data = buf, .len = len};
		r = napt_translate(n, &p, T0 + i);
		if (!host_handback_takes(pb_addr(W), &cfg, &p, &r))
			continue;
		taken++;
		ck_assert_mem_eq(buf, orig, len);
		ck_assert_uint_eq(get_dst(buf), pb_addr(W));
		ck_assert_uint_eq(buf[9], IPPROTO_ICMP);
	}
	ck_assert_uint_gt(taken, 1000); /* the unchanged ones at least */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("host_handback");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, unnamed_service_without_dmz);
	tcase_add_test(tc, echo_request_and_reply);
	tcase_add_test(tc, echo_ids_outside_port_range_are_the_routers);
	tcase_add_test(tc, icmp_error_for_the_router);
	tcase_add_test(tc, dmz_and_forward_take_theirs);
	tcase_add_test(tc, never_from_inside_spoofed_or_fragment);
	tcase_add_test(tc, mutated_packets);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
