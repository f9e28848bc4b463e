/* SPDX-License-Identifier: BSD-2-Clause */
/* test_break12.c - attacks on the home case's engine features (issue 12, helper break12):
 * MSS clamping against SYNs whose options a sender wrote to slip past it, and the keys that
 * config refuses with mode dynamic (forward, dmz) set at run time as naptctl and NAT-PMP/PCP
 * do, which would open a held pool address to the world or share its endpoints. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ipv4_packet.h"
#include "napt.h"
#include "packet_builder.h"
#include "tcp_mss.h"
#include "unit_run.h"

#define EXT  "203.0.113.1"
#define EXT2 "203.0.113.2"
#define H1   "192.168.1.10"
#define H2   "192.168.1.11"
#define REM  PB_REMOTE_HOST
#define T0   5000000u

static struct napt *n;
static char err[512];

static void teardown(void)
{
	napt_destroy(n);
	n = NULL;
}

static void start(const char *lines)
{
	struct napt_config cfg;
	char text[1024];

	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\nexternal " EXT "\nmax-sessions 512\n%s", lines);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
}

/* A SYN from H1 to REM:80 with these options (a multiple of 4 bytes). */
static size_t syn_with(uint8_t *b, const uint8_t *opts, size_t opt_len)
{
	size_t tcp_len = TCP_MIN_HDR + opt_len, len = IPV4_MIN_HDR + tcp_len;
	uint32_t a;

	memset(b, 0, len);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)len);
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	a = pb_addr(H1);
	memcpy(b + IP_OFF_SRC, &a, 4);
	a = pb_addr(REM);
	memcpy(b + IP_OFF_DST, &a, 4);
	put16(b + IPV4_MIN_HDR, 40000);
	put16(b + IPV4_MIN_HDR + 2, 80);
	b[IPV4_MIN_HDR + 12] = (uint8_t)(tcp_len / 4) << 4;
	b[IPV4_MIN_HDR + 13] = TCP_SYN;
	put16(b + IPV4_MIN_HDR + 14, 65535);
	memcpy(b + IPV4_MIN_HDR + TCP_MIN_HDR, opts, opt_len);
	pb_fix_ip_csum(b);
	pb_fix_l4_csum(b);
	return len;
}

/* Two MSS options: RFC 9293 does not say which one counts, and Linux's tcp_parse_options
 * keeps the last it reads. Each must come out at most the clamp, the checksum right. */
START_TEST(every_mss_option_clamped)
{
	static const uint8_t two[] = {2, 4, 0x05, 0xb4, 1, 2, 4, 0x23, 0x28, 1, 1, 0};
	uint8_t b[PB_MAX];
	size_t len = syn_with(b, two, sizeof(two));
	const uint8_t *o = b + IPV4_MIN_HDR + TCP_MIN_HDR;

	tcp_mss_clamp(b + IPV4_MIN_HDR, len - IPV4_MIN_HDR, 1452, false);
	ck_assert_ptr_null(pb_checksums_wrong(b, len));
	ck_assert_uint_le(get16(o + 2), 1452);
	ck_assert_msg(get16(o + 7) <= 1452, "second MSS option left at %u past a clamp of 1452",
		      get16(o + 7));
}
END_TEST

/* Config refuses 'forward' with mode dynamic: a run-time forward (naptctl forward add, a
 * NAT-PMP/PCP lease) must be refused too. Else H1, bound to EXT, leaves from its own port
 * 6000, while a remote that opens EXT:6000 is taken to H2: EXT:6000 stands for two inside
 * endpoints. */
START_TEST(dynamic_refuses_runtime_forward)
{
	struct napt_forward f = {.protos = NAPT_FWD_UDP,
				 .ext_lo = 6000,
				 .ext_hi = 6000,
				 .in_addr = pb_addr(H2),
				 .in_lo = 6000};
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b};
	struct pb_spec s = pb_flow(IPPROTO_UDP, REM, 53, EXT, 6000);
	uint32_t dst;

	start("external " EXT2 "\nmode dynamic\n");
	if (napt_forward_add(n, &f, err, sizeof(err)) < 0)
		return;
	p.len = pb_build(b, &s);
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_FORWARD);
	memcpy(&dst, b + IP_OFF_DST, 4);
	ck_assert_msg(0, "forward taken in mode dynamic: a remote reaches %s through " EXT ":6000",
		      dst == pb_addr(H2) ? H2 : "?");
}
END_TEST

/* Config refuses 'dmz' with mode dynamic (the pool's addresses keep the configured
 * filtering): one set at run time (naptctl dmz set) must not open H1's address. */
START_TEST(dynamic_refuses_runtime_dmz)
{
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b};
	struct pb_spec out = pb_flow(IPPROTO_UDP, H1, 5000, REM, 53);
	struct pb_spec in = pb_flow(IPPROTO_UDP, "192.0.2.66", 999, EXT, 7777);
	struct napt_result r;

	start("external " EXT2 "\nmode dynamic\n");
	p.len = pb_build(b, &out);
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_FORWARD);
	if (napt_dmz_set(n, pb_addr(H2), err, sizeof(err)) < 0)
		return;
	p.len = pb_build(b, &in);
	r = napt_translate(n, &p, T0);
	ck_assert_msg(r.verdict == NAPT_DROP,
		      "an unsolicited datagram to H1's address " EXT ":7777 was translated "
		      "(verdict %d) with a DMZ set at run time in mode dynamic",
		      (int)r.verdict);
}
END_TEST

/* Each of H1, H2, H3: one UDP datagram from its port 5000 to REM:53; returns the external
 * endpoint it left from (address << 16 | port is not wide enough: two values). */
static void send_out(const char *host, uint32_t now, uint32_t *ext, uint16_t *port)
{
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b};
	struct pb_spec s = pb_flow(IPPROTO_UDP, host, 5000, REM, 53);

	p.len = pb_build(b, &s);
	ck_assert_int_eq(napt_translate(n, &p, now).verdict, NAPT_FORWARD);
	memcpy(ext, b + IP_OFF_SRC, 4);
	*port = get16(b + IPV4_MIN_HDR);
}

/* dynamic-fallback napt against the address rest (behaviour.md section 20: a released
 * address "rests 120 s: no other host gets it before"). H2 held EXT2 and left from
 * EXT2:5000; its last session expires and EXT2 rests. H3, which finds the pool empty, must
 * not get EXT2:5000 during the rest: REM, which knew H2 there, would reach H3. */
START_TEST(fallback_respects_the_address_rest)
{
	uint32_t ext;
	uint16_t port;
	uint32_t t = T0;

	start("external " EXT2 "\nmode dynamic\ndynamic-fallback napt\nport-range 5000-5007\n"
	      "timeout udp 30\n");
	send_out(H1, t, &ext, &port);
	ck_assert_uint_eq(ext, pb_addr(EXT));
	send_out(H2, t, &ext, &port);
	ck_assert_uint_eq(ext, pb_addr(EXT2));
	ck_assert_uint_eq(port, 5000);
	for (t = T0 + 1000; t < T0 + 40000; t += 1000) {
		send_out(H1, t, &ext, &port); /* H1 keeps EXT */
		napt_expire(n, t);
	}
	send_out("192.168.1.13", t, &ext, &port);
	ck_assert_msg(!(ext == pb_addr(EXT2) && port == 5000),
		      "H3 got H2's endpoint " EXT2 ":5000 %u s after H2 released it (rest 120 s)",
		      (t - T0) / 1000 - 30);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("break12");
	TCase *mss = tcase_create("mss");
	TCase *dn = tcase_create("dynamic");

	tcase_add_test(mss, every_mss_option_clamped);
	suite_add_tcase(s, mss);
	tcase_add_checked_fixture(dn, NULL, teardown);
	tcase_add_test(dn, dynamic_refuses_runtime_forward);
	tcase_add_test(dn, dynamic_refuses_runtime_dmz);
	tcase_add_test(dn, fallback_respects_the_address_rest);
	suite_add_tcase(s, dn);
	return unit_run(s);
}
