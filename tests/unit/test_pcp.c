/* SPDX-License-Identifier: BSD-2-Clause */
/* test_pcp.c - PCP requests (RFC 6887) against a real engine, without sockets: the options
 * of section 7.3 and 13 (malformed, unknown, in the wrong opcode, THIRD_PARTY, PREFER_FAILURE,
 * FILTER and its enforcement by the engine) and the PEER opcode of section 12. The server's file is
 * included, as the fuzz target does, so answer() is reached as serve() reaches it for a datagram
 * from the LAN.
 *
 * Requests and the results expected are written from the RFC's figures and result codes
 * (section 7.4), not from what the server printed.
 */
#include "../../src/naptd/pcp_server.c"

#include <check.h>

#include "packet_builder.h"
#include "unit_run.h"

static struct naptd d;
static struct pcp_server srv;
static uint64_t fake_now = 1000000;
static uint8_t rsp[PCP_MSG_MAX + 4];
static size_t rsp_len;

uint64_t naptd_now_ms(void)
{
	return fake_now;
}

void daemon_log(int priority, const char *fmt, ...)
{
	(void)priority;
	(void)fmt;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void setup(void)
{
	char err[512];

	memset(&d, 0, sizeof(d));
	ck_assert_msg(napt_config_parse_text(&d.file_cfg,
					     "inside 192.168.1.0/24\n"
					     "external 203.0.113.10\n"
					     "max-sessions 64\n"
					     "port-range 1024-9999\n"
					     "pcp-deny 192.168.1.0/24 2000-2999\n"
					     "pcp-allow 192.168.1.0/25 1024-65535\n",
					     "test.conf", err, sizeof(err)) == 0,
		      "%s", err);
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	ck_assert_msg(d.nat != NULL, "%s", err);
	memset(&srv, 0, sizeof(srv));
	srv.d = &d;
	srv.epfd = srv.timerfd = srv.announce_timerfd = -1;
	d.runtime.epoch_start = wall_now();
}

static void teardown(void)
{
	while (d.runtime.n_leases)
		lease_remove(&srv, d.runtime.n_leases - 1);
	napt_destroy(d.nat);
}

/* ---- requests, from RFC 6887 figures 2, 9, 10, 11 and 4 ---- */

struct req {
	uint8_t b[PCP_MSG_MAX];
	size_t len;
};

static void mapped(uint8_t *p, const char *addr)
{
	memset(p, 0, 10);
	p[10] = p[11] = 0xff;
	memcpy(p + 12, (uint32_t[]){ip(addr)}, 4);
}

static struct req header(uint8_t opcode, uint32_t lifetime, const char *client)
{
	struct req q = {.len = 24};

	q.b[0] = 2;
	q.b[1] = opcode;
	put32(q.b + 4, lifetime);
	mapped(q.b + 8, client);
	return q;
}

static struct req map_req(const char *client, uint8_t proto, uint16_t in, uint16_t want,
			  uint32_t lifetime)
{
	struct req q = header(PCP_OP_MAP, lifetime, client);

	memset(q.b + 24, 0x5a, 12); /* nonce */
	q.b[36] = proto;
	put16(q.b + 40, in);
	put16(q.b + 42, want);
	q.len = 60;
	return q;
}

static struct req peer_req(const char *client, uint8_t proto, uint16_t in, const char *rem,
			   uint16_t rem_port, uint32_t lifetime)
{
	struct req q = header(PCP_OP_PEER, lifetime, client);

	memset(q.b + 24, 0xa5, 12); /* nonce */
	q.b[36] = proto;
	put16(q.b + 40, in);
	put16(q.b + 60, rem_port);
	mapped(q.b + 64, rem);
	q.len = 80;
	return q;
}

/* An option: code, reserved, length, data (len bytes of fill), padded to 4. */
static void add_option(struct req *q, uint8_t code, uint16_t len, uint8_t fill)
{
	q->b[q->len] = code;
	put16(q->b + q->len + 2, len);
	memset(q->b + q->len + 4, fill, len);
	q->len += 4 + ((len + 3u) & ~3u);
}

static void add_third_party(struct req *q, const char *addr)
{
	add_option(q, PCP_OPT_THIRD_PARTY, 16, 0);
	mapped(q->b + q->len - 16, addr);
}

/* Sends q from client; returns the result code. */
static uint8_t ask(const char *client, const struct req *q)
{
	fake_now += 1000; /* a second apart: the per-host budget is not what is tested */
	rsp_len = answer(&srv, ip(client), q->b, q->len, rsp);
	ck_assert_uint_ge(rsp_len, 24);
	ck_assert_uint_eq(rsp[0], 2);
	ck_assert_uint_eq(rsp[1], 0x80 | q->b[1]);
	return rsp[3];
}

static uint16_t rsp_port(void)
{
	return get16(rsp + 42);
}

static uint32_t rsp_lifetime(void)
{
	return get32(rsp + 4);
}

/* ---- options (section 7.3) ---- */

START_TEST(option_past_the_end)
{
	struct req q = map_req("192.168.1.10", IPPROTO_TCP, 80, 8080, 600);

	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	put16(q.b + 62, 4); /* says 4 data bytes, none follow */
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
}
END_TEST

START_TEST(option_unknown_mandatory)
{
	struct req q = map_req("192.168.1.10", IPPROTO_TCP, 80, 8080, 600);

	add_option(&q, 99, 6, 0x11);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_UNSUPP_OPTION);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
}
END_TEST

START_TEST(option_unknown_optional_skipped)
{
	struct req q = map_req("192.168.1.10", IPPROTO_TCP, 80, 8080, 600);

	add_option(&q, 200, 7, 0x11); /* 7 bytes, padded to 8 */
	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_port(), 8080);
	ck_assert_uint_eq(rsp_lifetime(), 600);
}
END_TEST

START_TEST(prefer_failure_bad_length)
{
	struct req q = map_req("192.168.1.10", IPPROTO_TCP, 80, 8080, 600);

	add_option(&q, PCP_OPT_PREFER_FAILURE, 4, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
}
END_TEST

START_TEST(prefer_failure_twice)
{
	struct req q = map_req("192.168.1.10", IPPROTO_TCP, 80, 8080, 600);

	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
}
END_TEST

/* Section 13.2: the suggested port exactly, or CANNOT_PROVIDE_EXTERNAL; without the option
 * another port is given. 2500 is refused by the pcp-deny line. */
START_TEST(prefer_failure_exact_or_fail)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 2500, 600);

	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_CANNOT_PROVIDE_EXTERNAL);
	ck_assert_uint_eq(rsp_port(), 0);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 2500, 600);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_ne(rsp_port(), 2500);
	ck_assert_uint_eq(d.runtime.n_leases, 1);
}
END_TEST

/* Section 13.1: not supported (UNSUPP_OPTION), naming oneself MALFORMED_REQUEST, 16 bytes
 * or MALFORMED_OPTION; nothing is mapped for anyone. */
START_TEST(third_party_refused)
{
	struct req q = map_req("192.168.1.10", IPPROTO_TCP, 22, 2222, 600);

	add_third_party(&q, "192.168.1.20");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_UNSUPP_OPTION);
	q = map_req("192.168.1.10", IPPROTO_TCP, 22, 2222, 600);
	add_third_party(&q, "192.168.1.10");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	q = map_req("192.168.1.10", IPPROTO_TCP, 22, 2222, 600);
	add_option(&q, PCP_OPT_THIRD_PARTY, 4, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 600);
	add_third_party(&q, "192.168.1.20");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_UNSUPP_OPTION);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 0);
}
END_TEST

/* Options in an opcode they are not valid for (section 13; 12.1 for PREFER_FAILURE). */
START_TEST(option_wrong_opcode)
{
	struct req q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 600);

	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 600);
	add_option(&q, PCP_OPT_FILTER, 20, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 0);
	q = header(PCP_OP_ANNOUNCE, 0, "192.168.1.10");
	add_third_party(&q, "192.168.1.20");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	q = header(PCP_OP_ANNOUNCE, 0, "192.168.1.10");
	add_option(&q, 77, 0, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_UNSUPP_OPTION);
	q = header(PCP_OP_ANNOUNCE, 0, "192.168.1.10");
	add_option(&q, 177, 0, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
}
END_TEST

/* ---- PEER (section 12) ---- */

/* A packet from the remote peer to the external endpoint: translated to the inside host? */
static bool reply_reaches(uint16_t ext_port, const char *rem, uint16_t rem_port, const char *host,
			  uint16_t in_port)
{
	uint8_t buf[PB_MAX];
	struct pb_spec sp = pb_flow(IPPROTO_UDP, rem, rem_port, "203.0.113.10", ext_port);
	struct napt_packet pkt = {.data = buf, .len = pb_build(buf, &sp), .cap = sizeof(buf)};
	struct napt_result r = napt_translate(d.nat, &pkt, fake_now);
	struct ipv4_view v;

	if (r.verdict != NAPT_FORWARD)
		return false;
	ck_assert_int_eq(ipv4_parse(buf, pkt.len, &v), NAPT_DROP_NONE);
	return v.dst == ip(host) && v.dport == in_port;
}

START_TEST(peer_makes_the_mapping)
{
	struct req q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 100);
	uint16_t port;

	ck_assert(!reply_reaches(5000, "198.51.100.7", 3478, "192.168.1.10", 5000));
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_len, 80);
	port = rsp_port();
	ck_assert_uint_ge(port, 1024);
	ck_assert_uint_le(port, 9999);
	ck_assert_mem_eq(
	    rsp + 44, ((uint8_t[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 10}), 16);
	ck_assert_mem_eq(rsp + 24, q.b + 24, 12); /* the nonce */
	ck_assert_mem_eq(rsp + 60, q.b + 60, 20); /* the remote peer */
	ck_assert_uint_eq(rsp_lifetime(), 100);   /* under the UDP idle timeout (300 s) */
	ck_assert(reply_reaches(port, "198.51.100.7", 3478, "192.168.1.10", 5000));
	/* Asking again keeps the mapping; a longer lifetime than the session lives is cut to
	 * it, lifetime 0 deletes nothing (section 12.1). */
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 86400);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_port(), port);
	ck_assert_uint_eq(rsp_lifetime(), 300);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_lifetime(), 300);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 1);
}
END_TEST

/* The suggested external port is kept or the request fails, changing nothing (12.3, 7.3). */
START_TEST(peer_suggested_port)
{
	struct req q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 100);
	uint16_t port;

	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	port = rsp_port();
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 100);
	put16(q.b + 42, port);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	put16(q.b + 42, port == 9999 ? 1024 : port + 1);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_CANNOT_PROVIDE_EXTERNAL);
	ck_assert_uint_eq(rsp_port(), 0);
	/* A new flow whose suggestion cannot be had leaves no session behind. */
	q = peer_req("192.168.1.10", IPPROTO_UDP, 6000, "198.51.100.7", 3478, 100);
	put16(q.b + 42, port);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_CANNOT_PROVIDE_EXTERNAL);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 1);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 6000, "198.51.100.7", 3478, 100);
	mapped(q.b + 44, "203.0.113.99");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_CANNOT_PROVIDE_EXTERNAL);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 1);
}
END_TEST

START_TEST(peer_bad_fields)
{
	struct req q = peer_req("192.168.1.10", 0, 5000, "198.51.100.7", 3478, 100);

	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	q = peer_req("192.168.1.10", IPPROTO_ICMP, 5000, "198.51.100.7", 3478, 100);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_UNSUPP_PROTOCOL);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 0, "198.51.100.7", 3478, 100);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 0, 100);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "192.168.1.20", 3478, 100);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST); /* inside */
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "203.0.113.10", 3478, 100);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST); /* ourselves */
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 100);
	q.b[64] = 0x20; /* an IPv6 remote peer */
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 100);
	q.len = 76; /* PEER data cut short */
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_REQUEST);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 0);
}
END_TEST

/* The MAP rules: a host no pcp-allow line names is refused; a host only for itself. */
START_TEST(peer_same_rules_as_map)
{
	struct req q = peer_req("192.168.1.200", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 100);

	ck_assert_uint_eq(ask("192.168.1.200", &q), PCP_NOT_AUTHORIZED);
	q = peer_req("192.168.1.20", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 100);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_ADDRESS_MISMATCH);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 0);
}
END_TEST

/* ---- FILTER (section 13.3) ---- */

/* A FILTER option (figure 15): reserved, prefix length, remote peer port, remote peer. */
static void add_filter(struct req *q, uint8_t plen, uint16_t port, const char *addr)
{
	add_option(q, PCP_OPT_FILTER, 20, 0);
	q->b[q->len - 19] = plen;
	put16(q->b + q->len - 18, port);
	mapped(q->b + q->len - 16, addr);
}

static uint64_t peer_filtered(void)
{
	return napt_get_counters(d.nat)->dropped[NAPT_DROP_PEER_FILTERED];
}

/* A MAP with FILTER admits the named remote (port 0: any port) and no other; the answer
 * carries the option back (section 13.3: "May appear in response"). */
START_TEST(filter_admits_the_named_remote)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_len, q.len);
	ck_assert_mem_eq(rsp + 60, q.b + 60, 24);
	ck_assert_uint_eq(rsp_port(), 5000);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 1);
	ck_assert(reply_reaches(5000, "198.51.100.7", 3478, "192.168.1.10", 5000));
	ck_assert(!reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	ck_assert_uint_eq(peer_filtered(), 1);
}
END_TEST

/* Prefixes are IPv4-mapped: 96 + the IPv4 prefix length; the remote's port when not 0. */
START_TEST(filter_prefix_and_port)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 96 + 24, 3478, "198.51.100.0");
	add_filter(&q, 96 + 32, 0, "192.0.2.1");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert(reply_reaches(5000, "198.51.100.99", 3478, "192.168.1.10", 5000));
	ck_assert(!reply_reaches(5000, "198.51.100.99", 3479, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "192.0.2.1", 9, "192.168.1.10", 5000));
	ck_assert(!reply_reaches(5000, "192.0.2.2", 9, "192.168.1.10", 5000));
}
END_TEST

/* A lease may take any port the pcp-allow rules give, not only port-range (1024-9999 here):
 * every port of the external address reaches naptd (issue 12 item 1). */
START_TEST(lease_outside_port_range)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 20000, 600);

	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_port(), 20000);
	ck_assert(reply_reaches(20000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	/* The deny rule still holds outside port-range's mappings: 2500 is not given. */
	q = map_req("192.168.1.10", IPPROTO_UDP, 5001, 2500, 600);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_ne(rsp_port(), 2500);
}
END_TEST

/* break12c: a lease outside port-range, then a reload whose rules no longer give its port:
 * the host's renewal does not keep it there (before: renewed on 20000 for ever). */
START_TEST(renewal_after_rules_take_the_port)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 20000, 600);

	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_port(), 20000);
	q = map_req("192.168.1.11", IPPROTO_UDP, 5000, 20000, 600); /* another host: not its */
	ck_assert_uint_eq(ask("192.168.1.11", &q), PCP_SUCCESS);
	ck_assert_uint_ne(rsp_port(), 20000);
	lease_remove(&srv, 1);
	d.file_cfg.daemon.pcp_rules[0].lo = 15000;
	d.file_cfg.daemon.pcp_rules[0].hi = 30000;
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 20000, 600);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_port(), 5000); /* the internal port, as for a new request */
	ck_assert_uint_eq(d.runtime.n_leases, 1);
	ck_assert(!reply_reaches(20000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
}
END_TEST

/* A renewal's filters are added to the lease's (RFC 6887 section 13.3: "There is no
 * mechanism to remove a specific filter"); a renewal without FILTER keeps them; prefix length
 * 0 removes them all, and a session from a remote the new set refuses ends. */
START_TEST(filter_added_by_renewal)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert(reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.n_leases, 1);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 0);
	ck_assert(!reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "198.51.100.7", 3478, "192.168.1.10", 5000));
	/* Another remote: added, the first stays. The same one again: no second copy. */
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 128, 0, "198.51.100.9");
	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 2);
	ck_assert(reply_reaches(5000, "198.51.100.9", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "198.51.100.7", 3479, "192.168.1.10", 5000));
	/* None: the set stands. */
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 2);
	ck_assert(!reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	/* Prefix length 0: all removed, every remote again. */
	add_filter(&q, 0, 0, "0.0.0.0");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 0);
	ck_assert(reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
}
END_TEST

/* Renewals that together would pass the limit: EXCESSIVE_REMOTE_PEERS (section 7.4), the
 * lease's filters unchanged; after a prefix length 0 option the same set fits. */
START_TEST(filter_excessive_by_renewal)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 128, 0, "198.51.100.1");
	add_filter(&q, 128, 0, "198.51.100.2");
	add_filter(&q, 128, 0, "198.51.100.3");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 128, 0, "198.51.100.4");
	add_filter(&q, 128, 0, "198.51.100.5");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_EXCESSIVE_REMOTE_PEERS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 3);
	ck_assert(!reply_reaches(5000, "198.51.100.4", 3478, "192.168.1.10", 5000));
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 0, 0, "0.0.0.0");
	add_filter(&q, 128, 0, "198.51.100.4");
	add_filter(&q, 128, 0, "198.51.100.5");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 2);
	ck_assert(!reply_reaches(5000, "198.51.100.1", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "198.51.100.5", 3478, "192.168.1.10", 5000));
}
END_TEST

/* break12c: the additive set at its edges. Four held and one of them again: SUCCESS, still
 * four; four held and a fifth: EXCESSIVE_REMOTE_PEERS, the set and the lease's end as they
 * were; a prefix length 0 option between two filters keeps only the one after it; five
 * copies of one held remote in one request are one filter, not more than naptd keeps. */
START_TEST(filter_renewal_edges)
{
	static const char *const four[4] = {"198.51.100.1", "198.51.100.2", "198.51.100.3",
					    "198.51.100.4"};
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	int64_t expires;

	for (unsigned i = 0; i < 4; i++)
		add_filter(&q, 128, 0, four[i]);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 128, 0, "198.51.100.3");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 4);
	expires = d.runtime.leases[0].expires;
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 7200);
	add_filter(&q, 128, 0, "198.51.100.5");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_EXCESSIVE_REMOTE_PEERS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 4);
	ck_assert_int_eq(d.runtime.leases[0].expires, expires);
	ck_assert(!reply_reaches(5000, "198.51.100.5", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "198.51.100.4", 3478, "192.168.1.10", 5000));
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 128, 0, "198.51.100.6");
	add_filter(&q, 0, 0, "0.0.0.0");
	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 1); /* .4's */
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 1);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 0);
	ck_assert(!reply_reaches(5000, "198.51.100.4", 3478, "192.168.1.10", 5000));
	ck_assert(!reply_reaches(5000, "198.51.100.6", 3478, "192.168.1.10", 5000));
	ck_assert(!reply_reaches(5000, "198.51.100.1", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "198.51.100.7", 3478, "192.168.1.10", 5000));
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	for (unsigned i = 0; i < 5; i++)
		add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 1);
}
END_TEST

/* Prefix length 0: "no filter", removing the filters before it. */
START_TEST(filter_prefix_zero_removes)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 128, 0, "198.51.100.7");
	add_filter(&q, 0, 0, "0.0.0.0");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 0);
	ck_assert(reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
}
END_TEST

/* More filters than naptd keeps: EXCESSIVE_REMOTE_PEERS (7.4), nothing mapped or changed. */
START_TEST(filter_excessive)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	for (unsigned i = 0; i < NAPT_FWD_MAX_FILTERS; i++)
		add_filter(&q, 128, (uint16_t)(i + 1), "192.0.2.1");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_EXCESSIVE_REMOTE_PEERS);
	ck_assert_uint_eq(rsp_lifetime(), 1800);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 1);
	q = map_req("192.168.1.10", IPPROTO_UDP, 6000, 6000, 600);
	for (unsigned i = 0; i <= NAPT_FWD_MAX_FILTERS; i++)
		add_filter(&q, 128, (uint16_t)(i + 1), "192.0.2.1");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_EXCESSIVE_REMOTE_PEERS);
	ck_assert_uint_eq(d.runtime.n_leases, 1);
}
END_TEST

/* A prefix length outside 96-128 for an IPv4-mapped remote, over 128, an IPv6 remote or a
 * wrong option length: MALFORMED_OPTION; nothing mapped. */
START_TEST(filter_malformed)
{
	static const uint8_t plens[] = {1, 95, 129, 255};
	struct req q;

	for (unsigned i = 0; i < sizeof(plens); i++) {
		q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
		add_filter(&q, plens[i], 0, "198.51.100.7");
		ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	}
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 128, 0, "198.51.100.7");
	q.b[q.len - 16] = 0x20; /* 2001:... */
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_option(&q, PCP_OPT_FILTER, 16, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
}
END_TEST

/* ---- attacks on FILTER (break13b) ---- */

/* A delete (lifetime 0) with a FILTER option deletes the mapping; its filters go with it. */
START_TEST(filter_on_delete)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 0, 0);
	add_filter(&q, 128, 0, "198.51.100.8");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
	ck_assert(!reply_reaches(5000, "198.51.100.7", 3478, "192.168.1.10", 5000));
}
END_TEST

/* FILTER with PREFER_FAILURE and a THIRD_PARTY naming another host: refused (UNSUPP_OPTION),
 * nothing mapped whatever the order. */
START_TEST(filter_with_third_party)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 128, 0, "198.51.100.7");
	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	add_third_party(&q, "192.168.1.11");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_UNSUPP_OPTION);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_third_party(&q, "192.168.1.11");
	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_UNSUPP_OPTION);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
	/* Without THIRD_PARTY: mapped exactly, filtered. */
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 128, 0, "198.51.100.7");
	add_option(&q, PCP_OPT_PREFER_FAILURE, 0, 0);
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 1);
}
END_TEST

/* FILTER is for MAP only (section 13.3): in PEER the request is refused and nothing made. */
START_TEST(filter_in_peer)
{
	struct req q = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.7", 3478, 600);

	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_ne(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 0);
}
END_TEST

/* Five filters then prefix length 0 then one: the 0 clears the five, one is kept; the same
 * filter four times is four filters, a fifth copy too many; ::ffff:0.0.0.0/128 admits no
 * real remote; /96 admits every remote. */
START_TEST(filter_counts_and_edges)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	for (unsigned i = 0; i < 5; i++)
		add_filter(&q, 128, 0, "192.0.2.1");
	add_filter(&q, 0, 0, "0.0.0.0");
	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 1);
	ck_assert(!reply_reaches(5000, "192.0.2.1", 3478, "192.168.1.10", 5000));
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 0, 0, "0.0.0.0"); /* renewals add: the lease's filters go first */
	add_filter(&q, 128, 0, "0.0.0.0");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert(!reply_reaches(5000, "198.51.100.7", 3478, "192.168.1.10", 5000));
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_filter(&q, 96, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert(reply_reaches(5000, "192.0.2.9", 3478, "192.168.1.10", 5000));
}
END_TEST

/* A NAT-PMP request (RFC 6886 section 3.3) from the host renewing its PCP lease of the same
 * port carries no FILTER: the lease keeps its filters, in the engine too (a renewal by
 * another protocol must not open the port to every remote). */
START_TEST(natpmp_renewal_keeps_filters)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	uint8_t pmp[12] = {0, 1, 0, 0, 0x13, 0x88, 0x13, 0x88, 0, 0, 0x02, 0x58};

	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	fake_now += 1000;
	ck_assert_uint_ge(answer(&srv, ip("192.168.1.10"), pmp, sizeof(pmp), rsp), 16);
	ck_assert_uint_eq(get16(rsp + 2), 0);
	ck_assert_uint_eq(d.runtime.n_leases, 1);
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 1);
	ck_assert(!reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5000, "198.51.100.7", 3478, "192.168.1.10", 5000));
}
END_TEST

/* A host with a filtered MAP lease asks PEER (section 12) towards a remote its filters refuse:
 * the PEER mapping is its explicit ask and lets that remote's answers in on the port PEER
 * gave, but the lease's port stays closed to it, also after a renewal of the filters. */
START_TEST(filter_and_peer_same_port)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	struct req p = peer_req("192.168.1.10", IPPROTO_UDP, 5000, "198.51.100.8", 3478, 100);
	uint16_t port;

	add_filter(&q, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(ask("192.168.1.10", &p), PCP_SUCCESS);
	port = rsp_port();
	ck_assert(reply_reaches(port, "198.51.100.8", 3478, "192.168.1.10", 5000));
	if (port != 5000)
		ck_assert(!reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	ck_assert(!reply_reaches(5000, "198.51.100.8", 3479, "192.168.1.10", 5000));
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert(reply_reaches(port, "198.51.100.8", 3478, "192.168.1.10", 5000));
}
END_TEST

/* A FILTER option cut by the end of the request, or longer than 20 bytes: MALFORMED_OPTION,
 * nothing mapped (section 7.3). */
START_TEST(filter_truncated)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	add_filter(&q, 128, 0, "198.51.100.7");
	q.len -= 4;
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	add_option(&q, PCP_OPT_FILTER, 24, 0);
	q.b[q.len - 23] = 128;
	mapped(q.b + q.len - 20, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_MALFORMED_OPTION);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
}
END_TEST

/* A delete with more FILTER options than naptd keeps still deletes: it makes no filter, so
 * EXCESSIVE_REMOTE_PEERS ("not able to create the filters", 7.4) is not its answer. */
START_TEST(filter_excessive_on_delete)
{
	struct req q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);

	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	q = map_req("192.168.1.10", IPPROTO_UDP, 5000, 0, 0);
	for (unsigned i = 0; i <= NAPT_FWD_MAX_FILTERS; i++)
		add_filter(&q, 128, (uint16_t)(i + 1), "192.0.2.1");
	ck_assert_uint_eq(ask("192.168.1.10", &q), PCP_SUCCESS);
	ck_assert_uint_eq(d.runtime.n_leases, 0);
}
END_TEST

/* Two hosts' leases: one host's filters, and their renewal, touch neither the other's lease
 * nor its sessions. */
START_TEST(filter_two_hosts)
{
	struct req a = map_req("192.168.1.10", IPPROTO_UDP, 5000, 5000, 600);
	struct req b = map_req("192.168.1.11", IPPROTO_UDP, 5000, 5001, 600);

	ck_assert_uint_eq(ask("192.168.1.11", &b), PCP_SUCCESS);
	ck_assert_uint_eq(rsp_port(), 5001);
	ck_assert(reply_reaches(5001, "198.51.100.8", 3478, "192.168.1.11", 5000));
	ck_assert_uint_eq(ask("192.168.1.10", &a), PCP_SUCCESS);
	ck_assert(reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	add_filter(&a, 128, 0, "198.51.100.7");
	ck_assert_uint_eq(ask("192.168.1.10", &a), PCP_SUCCESS);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, 1);
	ck_assert(!reply_reaches(5000, "198.51.100.8", 3478, "192.168.1.10", 5000));
	ck_assert(reply_reaches(5001, "198.51.100.8", 3479, "192.168.1.11", 5000));
	ck_assert_uint_eq(d.runtime.leases[0].fwd.n_filters, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pcp");
	TCase *t = tcase_create("options and PEER");
	const TTest *tests[] = {option_past_the_end,
				option_unknown_mandatory,
				option_unknown_optional_skipped,
				prefer_failure_bad_length,
				prefer_failure_twice,
				prefer_failure_exact_or_fail,
				third_party_refused,
				option_wrong_opcode,
				peer_makes_the_mapping,
				peer_suggested_port,
				peer_bad_fields,
				peer_same_rules_as_map,
				filter_admits_the_named_remote,
				filter_prefix_and_port,
				lease_outside_port_range,
				filter_added_by_renewal,
				filter_excessive_by_renewal,
				filter_prefix_zero_removes,
				filter_excessive,
				filter_malformed,
				filter_on_delete,
				filter_with_third_party,
				filter_in_peer,
				filter_counts_and_edges,
				natpmp_renewal_keeps_filters,
				filter_and_peer_same_port,
				filter_truncated,
				filter_excessive_on_delete,
				filter_two_hosts,
				filter_renewal_edges,
				renewal_after_rules_take_the_port};

	tcase_add_checked_fixture(t, setup, teardown);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		tcase_add_test(t, tests[i]);
	suite_add_tcase(s, t);
	return unit_run(s);
}
