/* SPDX-License-Identifier: BSD-2-Clause */
/* test_session_save.c - sessions saved from one instance and restored into a new one
 * (session_save.h), as across a restart of naptd: the flows carry on through the new
 * instance on the same external endpoints (a TCP segment in mid-stream is not refused for
 * want of a session), their expiry stays where it was, and what the new config or table
 * gives to another is skipped with its reason. Packets come from packet_builder.c. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ipv4_packet.h"
#include "napt.h"
#include "packet_builder.h"
#include "session_save.h"
#include "unit_run.h"

#define EXT   "203.0.113.1"
#define HOST  PB_INSIDE_HOST
#define REM   PB_REMOTE_HOST
#define T_OLD 5000000u /* the first instance's clock */
#define T_NEW 20u      /* the second's: it starts again near 0 */

static struct napt *a, *b;
static uint8_t pkt[PB_MAX];
static struct napt_saved_session saved[8];
static unsigned n_saved;

static struct napt *make(const char *extra)
{
	struct napt_config cfg;
	char text[512], err[256];
	struct napt *n;

	snprintf(text, sizeof(text), "inside 192.168.0.0/16\nexternal " EXT "\nmax-sessions 64\n%s",
		 extra);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "test", err, sizeof(err)) == 0, "%s", err);
	n = napt_create(&cfg, 5, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	return n;
}

static void setup(void)
{
	a = b = NULL;
	n_saved = 0;
}

static void teardown(void)
{
	napt_destroy(a);
	napt_destroy(b);
}

static struct napt_result send_to(struct napt *n, const struct pb_spec *s, uint64_t now)
{
	struct napt_packet p = {.data = pkt};

	p.len = pb_build(pkt, s);
	return napt_translate(n, &p, now);
}

/* The packet's source port (ICMP: identifier) after translation. */
static uint16_t pkt_sport(void)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	return (uint16_t)(pkt[ihl + (pkt[9] == IPPROTO_ICMP ? 4 : 0)] << 8 |
			  pkt[ihl + (pkt[9] == IPPROTO_ICMP ? 5 : 1)]);
}

static uint16_t out_port(struct napt *n, const struct pb_spec *s, uint64_t now)
{
	struct napt_result r = send_to(n, s, now);

	ck_assert_msg(r.verdict == NAPT_FORWARD && r.dir == NAPT_DIR_OUT, "outbound: %s",
		      napt_drop_reason_name(r.reason));
	return pkt_sport();
}

/* The answer of REM to EXT:port for s (an echo reply, for an echo). */
static struct pb_spec answer(const struct pb_spec *s, uint16_t port, uint8_t tcp_flags)
{
	bool echo = s->proto == IPPROTO_ICMP;
	struct pb_spec r = pb_flow(s->proto, REM, echo ? port : s->dport, EXT, echo ? 0 : port);

	r.tcp_flags = tcp_flags;
	r.icmp_type = echo ? ICMP_ECHO_REPLY : 0;
	return r;
}

static int keep(const struct napt_saved_session *s, void *ctx)
{
	(void)ctx;
	ck_assert_uint_lt(n_saved, 8);
	saved[n_saved++] = *s;
	return 0;
}

static void save(uint64_t now)
{
	napt_save_sessions(a, now, keep, NULL);
}

static void expect_restore(unsigned i, uint64_t away, enum napt_restore_result want)
{
	enum napt_restore_result r = napt_restore_session(b, &saved[i], away, T_NEW);

	ck_assert_msg(r == want, "record %u: %s, expected %s", i, napt_restore_result_name(r),
		      napt_restore_result_name(want));
}

/* UDP, TCP in mid-stream and an echo keep their external endpoints in the new instance. */
START_TEST(flows_carry_on)
{
	struct pb_spec udp = pb_flow(IPPROTO_UDP, HOST, 5000, REM, 53);
	struct pb_spec tcp = pb_flow(IPPROTO_TCP, HOST, 6000, REM, 443);
	struct pb_spec echo = pb_flow(IPPROTO_ICMP, HOST, 77, REM, 0);
	struct pb_spec r;
	uint16_t p_udp, p_tcp, p_echo;

	a = make("port-preservation no\n");
	b = make("port-preservation no\n");
	p_udp = out_port(a, &udp, T_OLD);
	tcp.tcp_flags = TCP_SYN;
	p_tcp = out_port(a, &tcp, T_OLD);
	r = answer(&tcp, p_tcp, TCP_SYN | TCP_ACK);
	ck_assert_int_eq(send_to(a, &r, T_OLD + 10).verdict, NAPT_FORWARD);
	tcp.tcp_flags = TCP_ACK;
	ck_assert_uint_eq(out_port(a, &tcp, T_OLD + 20), p_tcp);
	echo.icmp_type = ICMP_ECHO;
	p_echo = out_port(a, &echo, T_OLD);
	save(T_OLD + 1000);
	ck_assert_uint_eq(n_saved, 3);

	/* Before the restore the new instance refuses the TCP segment in mid-stream. */
	ck_assert_int_eq(send_to(b, &tcp, T_NEW).reason, NAPT_DROP_TCP_NO_SESSION);
	for (unsigned i = 0; i < n_saved; i++)
		expect_restore(i, 2000, NAPT_RESTORED);
	ck_assert_uint_eq(napt_get_counters(b)->sessions_current, 3);
	ck_assert_uint_eq(out_port(b, &tcp, T_NEW + 10), p_tcp);
	ck_assert_uint_eq(out_port(b, &udp, T_NEW + 10), p_udp);
	r = answer(&udp, p_udp, 0);
	ck_assert_int_eq(send_to(b, &r, T_NEW + 20).dir, NAPT_DIR_IN);
	r = answer(&echo, p_echo, 0);
	ck_assert_int_eq(send_to(b, &r, T_NEW + 20).dir, NAPT_DIR_IN);
}
END_TEST

static int note_expiry(const struct napt_session_info *s, void *ctx)
{
	*(uint32_t *)ctx = s->expires_in_ms;
	return 0;
}

/* The idle time and the time away add up: a UDP session (300 s) 299 s idle is restored and
 * expires 1 s later, and a packet after that finds no session; one 300 s
 * idle is stale. */
START_TEST(expiry_kept)
{
	struct pb_spec udp = pb_flow(IPPROTO_UDP, HOST, 5000, REM, 53);
	struct pb_spec r;
	uint32_t left = 0;
	uint16_t p;

	a = make("");
	b = make("");
	p = out_port(a, &udp, T_OLD);
	save(T_OLD + 199000);
	expect_restore(0, 100000, NAPT_RESTORED);
	napt_walk_sessions(b, T_NEW, 0, UINT32_MAX, note_expiry, &left);
	ck_assert_uint_eq(left, 1000);
	r = answer(&udp, p, 0);
	ck_assert_int_eq(send_to(b, &r, T_NEW + 1100).verdict, NAPT_DROP);
	napt_destroy(b);
	b = make("");
	expect_restore(0, 101000, NAPT_RESTORE_STALE);
}
END_TEST

/* What the new config or table gives to another, or what no engine writes, is skipped. */
START_TEST(skipped_with_reason)
{
	struct pb_spec udp = pb_flow(IPPROTO_UDP, HOST, 5000, REM, 53);
	char fwd[64];
	uint16_t p;

	a = make("port-preservation no\n");
	p = out_port(a, &udp, T_OLD);
	save(T_OLD);
	b = make("");
	expect_restore(0, 0, NAPT_RESTORED);
	expect_restore(0, 0, NAPT_RESTORE_DUPLICATE);
	saved[1] = saved[0];
	saved[1].rem_port = 54; /* a second session of the mapping */
	expect_restore(1, 0, NAPT_RESTORED);
	saved[1].in_port = 5001; /* another inside endpoint on the same external port */
	saved[1].rem_port = 55;
	expect_restore(1, 0, NAPT_RESTORE_CONFLICT);

	snprintf(fwd, sizeof(fwd), "forward udp %u 192.168.1.20:%u\n", p, p);
	napt_destroy(b);
	b = make(fwd);
	expect_restore(0, 0, NAPT_RESTORE_CONFLICT);
	napt_destroy(b);
	b = make(p > 30000 ? "port-range 1024-30000\n" : "port-range 30001-65535\n");
	expect_restore(0, 0, NAPT_RESTORE_CONFLICT);
	napt_destroy(b);
	b = make("mode dynamic\n");
	expect_restore(0, 0, NAPT_RESTORE_UNSUPPORTED);

	napt_destroy(b);
	b = make("");
	saved[1] = saved[0];
	saved[1].ext_addr = pb_addr("203.0.113.2"); /* no longer external */
	expect_restore(1, 0, NAPT_RESTORE_CONFLICT);
	saved[1] = saved[0];
	saved[1].proto = 47;
	expect_restore(1, 0, NAPT_RESTORE_INVALID);
	saved[1] = saved[0];
	saved[1].tcp_seen = 1; /* TCP bits on UDP */
	expect_restore(1, 0, NAPT_RESTORE_INVALID);
	saved[1] = saved[0];
	saved[1].in_addr = pb_addr("10.0.0.1"); /* not inside */
	expect_restore(1, 0, NAPT_RESTORE_INVALID);
	ck_assert_uint_eq(napt_get_counters(b)->sessions_current, 0);
}
END_TEST

/* A forward's session comes back while the forward holds; not once it is gone. */
START_TEST(forward_session)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 40000, EXT, 8080);
	struct napt_result r;

	a = make("forward tcp 8080 192.168.1.20:80\n");
	syn.tcp_flags = TCP_SYN;
	ck_assert_int_eq(send_to(a, &syn, T_OLD).dir, NAPT_DIR_IN);
	save(T_OLD);
	ck_assert_uint_eq(n_saved, 1);
	ck_assert_uint_eq(saved[0].origin, NAPT_ORIGIN_FORWARD);
	b = make("");
	expect_restore(0, 0, NAPT_RESTORE_CONFLICT);
	napt_destroy(b);
	b = make("forward tcp 8080 192.168.1.20:80\n");
	expect_restore(0, 0, NAPT_RESTORED);
	syn.tcp_flags = TCP_ACK;
	r = send_to(b, &syn, T_NEW);
	ck_assert_msg(r.verdict == NAPT_FORWARD && r.dir == NAPT_DIR_IN, "%s",
		      napt_drop_reason_name(r.reason));
}
END_TEST

/* A lease's filters (PCP FILTER, RFC 6887 section 13.3) in the new instance refuse the saved
 * session's remote (the state file edited while naptd was down): the session is not restored,
 * as the engine would not have opened it; a filter that admits the remote restores it. */
START_TEST(forward_session_refused_by_filters)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 40000, EXT, 8080);
	struct napt_peer_filter f = {.addr = pb_addr("192.0.2.1"), .len = 32};

	a = make("forward tcp 8080 192.168.1.20:80\n");
	syn.tcp_flags = TCP_SYN;
	ck_assert_int_eq(send_to(a, &syn, T_OLD).dir, NAPT_DIR_IN);
	save(T_OLD);
	b = make("forward tcp 8080 192.168.1.20:80\n");
	ck_assert_int_eq(napt_forward_filter(b, NAPT_FWD_TCP, 8080, &f, 1), 0);
	expect_restore(0, 0, NAPT_RESTORE_CONFLICT);
	f.addr = pb_addr(REM);
	ck_assert_int_eq(napt_forward_filter(b, NAPT_FWD_TCP, 8080, &f, 1), 0);
	expect_restore(0, 0, NAPT_RESTORED);
}
END_TEST

/* A flow touched again within the second its session last moved in the expiry list stays
 * where it was (nat_session_touch): the save gives it ahead of a younger one, and the
 * restore takes both (only records out of order by more than that are refused). */
START_TEST(lazy_touch_order_kept)
{
	const uint64_t t0 = T_OLD & ~1023u; /* the start of a 1024 ms slot */
	struct pb_spec x = pb_flow(IPPROTO_UDP, HOST, 5000, REM, 53);
	struct pb_spec y = pb_flow(IPPROTO_UDP, HOST, 5001, REM, 53);

	a = make("");
	b = make("");
	out_port(a, &x, t0);
	out_port(a, &y, t0 + 100);
	out_port(a, &x, t0 + 900);
	save(t0 + 2000);
	ck_assert_uint_eq(n_saved, 2);
	ck_assert_uint_gt(saved[1].idle_ms, saved[0].idle_ms); /* the younger one behind */
	expect_restore(0, 0, NAPT_RESTORED);
	expect_restore(1, 0, NAPT_RESTORED);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("session_save");
	TCase *tc = tcase_create("restore");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, flows_carry_on);
	tcase_add_test(tc, expiry_kept);
	tcase_add_test(tc, skipped_with_reason);
	tcase_add_test(tc, forward_session);
	tcase_add_test(tc, forward_session_refused_by_filters);
	tcase_add_test(tc, lazy_touch_order_kept);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
