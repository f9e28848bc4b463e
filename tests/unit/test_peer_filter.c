/* SPDX-License-Identifier: BSD-2-Clause */
/* test_peer_filter.c - a forward's remote peer filters (PCP FILTER, RFC 6887 section 13.3) in
 * the engine: what opens a session through a filtered forward, what is dropped and counted
 * peer-filtered, what a change of filters does to the sessions already open, and the text form
 * the state file and "show forwards" use. Then attacks (break13b): the leased host's own
 * connections, hairpins, the DMZ behind a lease, TCP, many sessions, fragments.
 *
 * Expected: from the option's definition (a remote peer prefix and port, port 0 any port; no
 * filter admits every remote), not from what the engine printed.
 */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "napt.h"
#include "packet_builder.h"
#include "unit_run.h"

static struct napt *n;
static uint64_t now = 1000;

static void setup(void)
{
	struct napt_config cfg;
	char err[256];

	ck_assert_msg(napt_config_parse_text(&cfg,
					     "inside 192.168.1.0/24\n"
					     "external 203.0.113.10\n"
					     "max-sessions 256\n"
					     "dmz 192.168.1.99\n"
					     "forward udp 5000 192.168.1.10:5000\n"
					     "forward tcp 8080 192.168.1.10:80\n",
					     "test.conf", err, sizeof(err)) == 0,
		      "%s", err);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
}

static void teardown(void)
{
	napt_destroy(n);
}

static struct napt_peer_filter filt(const char *addr, uint8_t len, uint16_t port)
{
	return (struct napt_peer_filter){.addr = pb_addr(addr), .port = port, .len = len};
}

static struct napt_result send_pkt(struct pb_spec *sp, uint8_t *buf)
{
	struct napt_packet pkt = {.data = buf, .len = pb_build(buf, sp), .cap = PB_MAX};

	return napt_translate(n, &pkt, now);
}

static struct napt_result flow(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			       uint16_t dport, uint8_t tcp_flags)
{
	uint8_t buf[PB_MAX];
	struct pb_spec sp = pb_flow(proto, src, sport, dst, dport);

	if (tcp_flags)
		sp.tcp_flags = tcp_flags;
	return send_pkt(&sp, buf);
}

/* A packet from rem:rem_port to the external address's port: translated inwards? */
static bool reaches(uint8_t proto, const char *rem, uint16_t rem_port, uint16_t ext_port)
{
	struct napt_result r = flow(proto, rem, rem_port, "203.0.113.10", ext_port, 0);

	if (r.verdict == NAPT_DROP)
		ck_assert_uint_eq(r.reason, NAPT_DROP_PEER_FILTERED);
	return r.verdict == NAPT_FORWARD && r.dir == NAPT_DIR_IN;
}

static uint64_t peer_filtered(void)
{
	return napt_get_counters(n)->dropped[NAPT_DROP_PEER_FILTERED];
}

START_TEST(no_filter_admits_all)
{
	ck_assert(reaches(IPPROTO_UDP, "198.51.100.7", 4000, 5000));
	ck_assert(reaches(IPPROTO_UDP, "192.0.2.1", 4000, 5000));
	ck_assert_uint_eq(peer_filtered(), 0);
}
END_TEST

START_TEST(filter_admits_the_named_remote_only)
{
	struct napt_peer_filter f = filt("198.51.100.7", 32, 0);

	ck_assert_int_eq(napt_forward_filter(n, NAPT_FWD_UDP, 5000, &f, 1), 0);
	ck_assert(reaches(IPPROTO_UDP, "198.51.100.7", 4000, 5000));
	ck_assert(reaches(IPPROTO_UDP, "198.51.100.7", 4001, 5000)); /* port 0: any */
	ck_assert(!reaches(IPPROTO_UDP, "198.51.100.8", 4000, 5000));
	ck_assert(!reaches(IPPROTO_UDP, "192.0.2.1", 4000, 5000));
	ck_assert_uint_eq(peer_filtered(), 2);
	/* The other forward has no filter. */
	ck_assert(reaches(IPPROTO_TCP, "192.0.2.1", 4000, 8080));
}
END_TEST

START_TEST(prefix_and_port)
{
	struct napt_peer_filter f[2] = {filt("198.51.100.0", 24, 3478), filt("192.0.2.64", 26, 0)};

	ck_assert_int_eq(napt_forward_filter(n, NAPT_FWD_TCP, 8080, f, 2), 0);
	ck_assert(reaches(IPPROTO_TCP, "198.51.100.200", 3478, 8080));
	ck_assert(!reaches(IPPROTO_TCP, "198.51.100.200", 3479, 8080));
	ck_assert(reaches(IPPROTO_TCP, "192.0.2.127", 1, 8080));
	ck_assert(!reaches(IPPROTO_TCP, "192.0.2.128", 1, 8080));
	ck_assert(!reaches(IPPROTO_TCP, "192.0.2.63", 1, 8080));
	ck_assert_uint_eq(peer_filtered(), 3);
}
END_TEST

/* A session open before the filters keeps its packets only if the new set admits its remote;
 * an admitted remote's established session is untouched. */
START_TEST(new_filters_end_refused_sessions)
{
	struct napt_peer_filter f = filt("198.51.100.7", 32, 0);

	ck_assert(reaches(IPPROTO_UDP, "198.51.100.7", 4000, 5000));
	ck_assert(reaches(IPPROTO_UDP, "198.51.100.8", 4000, 5000));
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 2);
	ck_assert_int_eq(napt_forward_filter(n, NAPT_FWD_UDP, 5000, &f, 1), 0);
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 1);
	ck_assert(reaches(IPPROTO_UDP, "198.51.100.7", 4000, 5000));
	ck_assert(!reaches(IPPROTO_UDP, "198.51.100.8", 4000, 5000));
	/* No filter again: every remote. */
	ck_assert_int_eq(napt_forward_filter(n, NAPT_FWD_UDP, 5000, NULL, 0), 0);
	ck_assert(reaches(IPPROTO_UDP, "198.51.100.8", 4000, 5000));
}
END_TEST

START_TEST(bounds)
{
	struct napt_peer_filter f[NAPT_FWD_MAX_FILTERS + 1] = {0};

	ck_assert_int_eq(napt_forward_filter(n, NAPT_FWD_UDP, 5000, f, NAPT_FWD_MAX_FILTERS + 1),
			 -1);
	ck_assert_int_eq(napt_forward_filter(n, NAPT_FWD_UDP, 5001, f, 1), -1); /* no forward */
	ck_assert(reaches(IPPROTO_UDP, "192.0.2.1", 4000, 5000));
	/* The config the engine reports carries the filters ("show forwards"). */
	f[0] = filt("192.0.2.0", 24, 53);
	ck_assert_int_eq(napt_forward_filter(n, NAPT_FWD_UDP, 5000, f, 1), 0);
	ck_assert_uint_eq(napt_get_config(n)->forwards[0].n_filters, 1);
	ck_assert_uint_eq(napt_get_config(n)->forwards[0].filters[0].port, 53);
}
END_TEST

START_TEST(text_form)
{
	struct napt_peer_filter f;
	char buf[64], err[128];

	ck_assert_int_eq(napt_peer_filter_parse(&f, "198.51.100.0/24:3478", err, sizeof(err)), 0);
	ck_assert_uint_eq(f.addr, pb_addr("198.51.100.0"));
	ck_assert_uint_eq(f.len, 24);
	ck_assert_uint_eq(f.port, 3478);
	ck_assert_int_eq(napt_peer_filter_format(&f, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "198.51.100.0/24:3478");
	ck_assert_int_eq(napt_peer_filter_parse(&f, "0.0.0.0/0:0", err, sizeof(err)), 0);
	ck_assert_uint_eq(f.len, 0);
	static const char *const bad[] = {
	    "198.51.100.7/24:1",  "198.51.100.7/33:1", "198.51.100.7/32", "198.51.100.7/32:65536",
	    "198.51.100.7/32:-1", "198.51.100.7:80",   "x/32:1",          "198.51.100.7/32:1 "};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(napt_peer_filter_parse(&f, bad[i], err, sizeof(err)) < 0, "%s",
			      bad[i]);
}
END_TEST

/* ---- attacks (break13b) ---- */

static void filter_only(const char *addr, uint8_t protos, uint16_t port)
{
	struct napt_peer_filter f = filt(addr, 32, 0);

	ck_assert_int_eq(napt_forward_filter(n, protos, port, &f, 1), 0);
}

/* Dropped as a remote the filters refuse? */
static bool refused(uint8_t proto, const char *src, uint16_t sport, uint16_t dport,
		    uint8_t tcp_flags)
{
	struct napt_result r = flow(proto, src, sport, "203.0.113.10", dport, tcp_flags);

	return r.verdict == NAPT_DROP && r.reason == NAPT_DROP_PEER_FILTERED;
}

/* Filters are about packets coming in (13.3: "filtering incoming packets"): the leased host's
 * own connection out to a remote the filters do not name is not theirs to end. A renewal with
 * the same filters must leave it open. */
START_TEST(own_outbound_session_survives_refilter)
{
	uint8_t buf[PB_MAX];
	struct pb_spec sp = pb_flow(IPPROTO_TCP, "192.168.1.10", 80, "192.0.2.99", 443);
	uint16_t ext_port;

	filter_only("198.51.100.7", NAPT_FWD_TCP, 8080);
	/* The admitted remote connects first: the forward's mapping exists. */
	ck_assert_int_eq(flow(IPPROTO_TCP, "198.51.100.7", 3000, "203.0.113.10", 8080, 0).verdict,
			 NAPT_FORWARD);
	ck_assert_int_eq(send_pkt(&sp, buf).verdict, NAPT_FORWARD);
	memcpy(&ext_port, buf + 20, 2);
	ck_assert_int_eq(
	    flow(IPPROTO_TCP, "192.0.2.99", 443, "203.0.113.10", ntohs(ext_port), TH_SYN | TH_ACK)
		.verdict,
	    NAPT_FORWARD);
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 2);
	filter_only("198.51.100.7", NAPT_FWD_TCP, 8080); /* the renewal */
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 2);
	ck_assert_int_eq(flow(IPPROTO_TCP, "192.168.1.10", 80, "192.0.2.99", 443, TH_ACK).verdict,
			 NAPT_FORWARD);
}
END_TEST

/* A LAN host hairpinning to a filtered lease comes from the external address (RFC 4787
 * REQ-9): a filter that does not name it refuses it, as it refuses any remote. */
START_TEST(hairpin_is_filtered)
{
	filter_only("198.51.100.7", NAPT_FWD_UDP, 5000);
	ck_assert(refused(IPPROTO_UDP, "192.168.1.20", 4000, 5000, 0));
	/* A filter naming the external address admits the hairpin, as it would that remote. */
	filter_only("203.0.113.10", NAPT_FWD_UDP, 5000);
	ck_assert_int_eq(flow(IPPROTO_UDP, "192.168.1.20", 4000, "203.0.113.10", 5000, 0).verdict,
			 NAPT_FORWARD);
}
END_TEST

/* An admitted remote's TCP connection through the lease, then filters that refuse it: the
 * session ends and the remote's next segment is refused, not taken as the old connection's. */
START_TEST(tcp_connection_ended_by_new_filters)
{
	filter_only("198.51.100.7", NAPT_FWD_TCP, 8080);
	ck_assert_int_eq(flow(IPPROTO_TCP, "198.51.100.7", 3000, "203.0.113.10", 8080, 0).verdict,
			 NAPT_FORWARD);
	ck_assert_int_eq(
	    flow(IPPROTO_TCP, "198.51.100.7", 3000, "203.0.113.10", 8080, TH_ACK).verdict,
	    NAPT_FORWARD);
	filter_only("198.51.100.8", NAPT_FWD_TCP, 8080);
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 0);
	ck_assert(refused(IPPROTO_TCP, "198.51.100.7", 3000, 8080, TH_ACK));
	ck_assert(refused(IPPROTO_TCP, "198.51.100.7", 3000, 8080, 0));
}
END_TEST

/* A refused remote does not fall through to the DMZ host: the port is the lease's. */
START_TEST(refused_remote_not_given_to_dmz)
{
	filter_only("198.51.100.7", NAPT_FWD_UDP, 5000);
	ck_assert(refused(IPPROTO_UDP, "192.0.2.1", 4000, 5000, 0));
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 0);
	/* Another port still reaches the DMZ host. */
	ck_assert_int_eq(flow(IPPROTO_UDP, "192.0.2.1", 4000, "203.0.113.10", 5001, 0).verdict,
			 NAPT_FORWARD);
}
END_TEST

/* Many sessions of one forward, every other one refused by new filters: the walk that ends
 * them removes sessions (and at the end the mapping) under its feet. */
START_TEST(many_sessions_ended)
{
	char rem[32];

	for (unsigned i = 1; i <= 100; i++) {
		snprintf(rem, sizeof(rem), "198.51.100.%u", i);
		ck_assert_int_eq(flow(IPPROTO_UDP, rem, 4000, "203.0.113.10", 5000, 0).verdict,
				 NAPT_FORWARD);
	}
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 100);
	filter_only("198.51.100.50", NAPT_FWD_UDP, 5000);
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 1);
	filter_only("198.51.100.51", NAPT_FWD_UDP, 5000);
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 0);
	ck_assert_uint_eq(napt_get_counters(n)->mappings_current, 0);
	ck_assert_int_eq(flow(IPPROTO_UDP, "198.51.100.51", 4000, "203.0.113.10", 5000, 0).verdict,
			 NAPT_FORWARD);
}
END_TEST

/* A refused remote that holds a session of its own (the host's connection out to it) sends a
 * fragmented datagram to the filtered lease, the later fragment first: held (its source has a
 * session, RFC 5508 section 10), then the first fragment is refused, so neither reaches the host;
 * its later fragment alone, after the refusal, is not let through either. */
START_TEST(fragments_of_refused_remote)
{
	uint8_t buf[PB_MAX];
	struct pb_spec sp = pb_flow(IPPROTO_UDP, "192.0.2.1", 4000, "203.0.113.10", 5000);
	filter_only("198.51.100.7", NAPT_FWD_UDP, 5000);
	ck_assert_int_eq(flow(IPPROTO_UDP, "192.168.1.10", 5000, "192.0.2.1", 53, 0).verdict,
			 NAPT_FORWARD);
	sp.payload_len = 64;
	sp.ip_id = 0x77;
	sp.frag = 3; /* offset 24 bytes, last */
	ck_assert_int_eq(send_pkt(&sp, buf).verdict, NAPT_HELD);
	sp.frag = 0x2000; /* first, more fragments */
	ck_assert_uint_eq(send_pkt(&sp, buf).reason, NAPT_DROP_PEER_FILTERED);
	ck_assert_uint_eq(napt_next_released(n, buf, sizeof(buf)), 0);
	sp.frag = 3;
	ck_assert_int_ne(send_pkt(&sp, buf).verdict, NAPT_FORWARD);
	ck_assert_uint_eq(napt_next_released(n, buf, sizeof(buf)), 0);
}
END_TEST

/* Port unreachable from src about a datagram of the lease's port to quoted_dst:4000. */
static enum napt_verdict icmp_error_from(const char *src, const char *quoted_dst)
{
	uint8_t quote[PB_MAX], buf[PB_MAX];
	struct pb_spec q = pb_flow(IPPROTO_UDP, "203.0.113.10", 5000, quoted_dst, 4000);
	struct pb_spec e = pb_flow(IPPROTO_ICMP, src, 0, "203.0.113.10", 0);

	e.icmp_type = 3;
	e.icmp_code = 3;
	e.quote = quote;
	e.quote_len = pb_build(quote, &q);
	return send_pkt(&e, buf).verdict;
}

/* An ICMP error (RFC 5508) to the lease's port: one from a refused remote quoting a datagram
 * the lease never sent it finds no session and is dropped; one from a router on the path of
 * an admitted remote's session goes in. */
START_TEST(icmp_errors_to_filtered_port)
{
	filter_only("198.51.100.7", NAPT_FWD_UDP, 5000);
	ck_assert_int_eq(icmp_error_from("192.0.2.1", "192.0.2.1"), NAPT_DROP);
	ck_assert(reaches(IPPROTO_UDP, "198.51.100.7", 4000, 5000));
	ck_assert_int_eq(icmp_error_from("192.0.2.254", "198.51.100.7"), NAPT_FORWARD);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("peer_filter");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_filter_admits_all);
	tcase_add_test(tc, filter_admits_the_named_remote_only);
	tcase_add_test(tc, prefix_and_port);
	tcase_add_test(tc, new_filters_end_refused_sessions);
	tcase_add_test(tc, bounds);
	tcase_add_test(tc, text_form);
	tcase_add_test(tc, own_outbound_session_survives_refilter);
	tcase_add_test(tc, hairpin_is_filtered);
	tcase_add_test(tc, tcp_connection_ended_by_new_filters);
	tcase_add_test(tc, refused_remote_not_given_to_dmz);
	tcase_add_test(tc, many_sessions_ended);
	tcase_add_test(tc, fragments_of_refused_remote);
	tcase_add_test(tc, icmp_errors_to_filtered_port);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
