/* SPDX-License-Identifier: BSD-2-Clause */
/* test_home.c - the home router's engine features: MSS clamping (mss-clamp, tcp_mss.h) and
 * ICMP 3/13 for refused new flows (refused-flows, RFC 5508 REQ-8), dynamic NAT's address
 * pool (mode dynamic, addr_pool.h) and the keys that do not go with it, with the attacks of
 * break12 (two MSS options, run-time forward and DMZ in mode dynamic, the address rest).
 * SYNs are built here byte by byte with their options, checksums by packet_builder.c's own
 * code; the clamped packet is compared with the same SYN built with the clamped MSS. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_pool.h"
#include "ipv4_packet.h"
#include "napt.h"
#include "packet_builder.h"
#include "tcp_mss.h"
#include "unit_run.h"

#define EXT  "203.0.113.1"
#define HOST PB_INSIDE_HOST
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

/* ---- SYNs with options ---- */

struct syn {
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t flags;
	const uint8_t *opts; /* a multiple of 4 bytes */
	size_t opt_len;
};

static size_t build_syn(uint8_t *b, const struct syn *s)
{
	size_t tcp_len = TCP_MIN_HDR + s->opt_len, len = IPV4_MIN_HDR + tcp_len;
	uint32_t a;

	memset(b, 0, len);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)len);
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	a = pb_addr(s->src);
	memcpy(b + IP_OFF_SRC, &a, 4);
	a = pb_addr(s->dst);
	memcpy(b + IP_OFF_DST, &a, 4);
	put16(b + IPV4_MIN_HDR, s->sport);
	put16(b + IPV4_MIN_HDR + 2, s->dport);
	put32(b + IPV4_MIN_HDR + 4, 1000);
	b[IPV4_MIN_HDR + 12] = (uint8_t)(tcp_len / 4) << 4;
	b[IPV4_MIN_HDR + 13] = s->flags;
	put16(b + IPV4_MIN_HDR + 14, 65535);
	memcpy(b + IPV4_MIN_HDR + TCP_MIN_HDR, s->opts, s->opt_len);
	pb_fix_ip_csum(b);
	pb_fix_l4_csum(b);
	return len;
}

/* Options as a Linux SYN carries them (MSS first, even offset) and as some stacks write
 * them (a NOP first: the MSS value at an odd offset). */
static const uint8_t linux_opts[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				     0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
static const uint8_t odd_opts[] = {1, 2, 4, 0x05, 0xb4, 1, 1, 0};

/* The MSS value of a built SYN: its offset in the options. */
static size_t mss_at(const uint8_t *opts)
{
	return opts[0] == 2 ? 2 : 3;
}

/* Clamping a SYN with MSS 1460 to `mss` gives the SYN built with `want` in its place. */
static void check_clamp(const uint8_t *opts, size_t opt_len, uint16_t mss, uint16_t want)
{
	uint8_t o[40], b[PB_MAX], w[PB_MAX];
	struct syn s = {HOST, REM, 40000, 80, TCP_SYN, o, opt_len};
	size_t len;

	memcpy(o, opts, opt_len);
	len = build_syn(b, &s);
	ck_assert_int_eq(tcp_mss_clamp(b + IPV4_MIN_HDR, len - IPV4_MIN_HDR, mss, false),
			 want != 1460);
	put16(o + mss_at(opts), want);
	build_syn(w, &s);
	ck_assert_mem_eq(b, w, len);
	ck_assert_ptr_null(pb_checksums_wrong(b, len));
}

START_TEST(lowers_a_larger_mss)
{
	check_clamp(linux_opts, sizeof(linux_opts), 1452, 1452);
	check_clamp(odd_opts, sizeof(odd_opts), 1452, 1452);
	check_clamp(odd_opts, sizeof(odd_opts), 536, 536);
}
END_TEST

START_TEST(leaves_a_smaller_mss)
{
	check_clamp(linux_opts, sizeof(linux_opts), 1460, 1460);
	check_clamp(odd_opts, sizeof(odd_opts), 9000, 1460);
}
END_TEST

/* No MSS option, or options that end or break before it: nothing changes. */
START_TEST(no_option_or_malformed_left_alone)
{
	static const uint8_t none[] = {1, 1, 4, 2};
	static const uint8_t end_first[] = {0, 0, 0, 0, 2, 4, 5, 0xb4};
	static const uint8_t zero_len[] = {8, 0, 2, 4, 5, 0xb4, 0, 0};
	static const uint8_t past_end[] = {1, 1, 1, 8, 12, 2, 4, 5};
	static const uint8_t bad_mss_len[] = {2, 3, 5, 0xb4};
	const struct {
		const uint8_t *o;
		size_t len;
	} cases[] = {{none, 4}, {end_first, 8}, {zero_len, 8}, {past_end, 8}, {bad_mss_len, 4}};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[PB_MAX], copy[PB_MAX];
		struct syn s = {HOST, REM, 40000, 80, TCP_SYN, cases[i].o, cases[i].len};
		size_t len = build_syn(b, &s);

		memcpy(copy, b, len);
		ck_assert(!tcp_mss_clamp(b + IPV4_MIN_HDR, len - IPV4_MIN_HDR, 100, false));
		ck_assert_mem_eq(b, copy, len);
	}
}
END_TEST

/* A header cut short by the buffer: an odd-aligned value whose second word is missing,
 * and an option past the end, are left alone. */
START_TEST(cut_header_left_alone)
{
	uint8_t b[PB_MAX], copy[PB_MAX];
	struct syn s = {HOST, REM, 40000, 80, TCP_SYN, odd_opts, sizeof(odd_opts)};
	size_t len = build_syn(b, &s);

	memcpy(copy, b, len);
	ck_assert(!tcp_mss_clamp(b + IPV4_MIN_HDR, TCP_MIN_HDR + 5, 100, false));
	ck_assert(!tcp_mss_clamp(b + IPV4_MIN_HDR, TCP_MIN_HDR + 3, 100, false));
	ck_assert(!tcp_mss_clamp(b + IPV4_MIN_HDR, TCP_MIN_HDR - 1, 100, false));
	ck_assert_mem_eq(b, copy, len);
}
END_TEST

/* A partial checksum (offload) holds the pseudo-header sum only: options are not in it. */
START_TEST(partial_checksum_untouched)
{
	uint8_t b[PB_MAX];
	struct syn s = {HOST, REM, 40000, 80, TCP_SYN, linux_opts, sizeof(linux_opts)};
	size_t len = build_syn(b, &s);
	uint16_t before = get16(b + IPV4_MIN_HDR + TCP_OFF_CSUM);

	ck_assert(tcp_mss_clamp(b + IPV4_MIN_HDR, len - IPV4_MIN_HDR, 1400, true));
	ck_assert_uint_eq(get16(b + IPV4_MIN_HDR + 22), 1400);
	ck_assert_uint_eq(get16(b + IPV4_MIN_HDR + TCP_OFF_CSUM), before);
}
END_TEST

/* Through the engine: the SYN out and the SYN-ACK in (the short path: its session exists)
 * are clamped, the ACK and data are not looked at; without mss-clamp nothing changes. */
static uint16_t mss_through(const struct syn *s)
{
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b};
	struct napt_result r;

	p.len = build_syn(b, s);
	r = napt_translate(n, &p, T0);
	ck_assert_int_eq(r.verdict, NAPT_FORWARD);
	ck_assert_ptr_null(pb_checksums_wrong(b, p.len));
	return get16(b + IPV4_MIN_HDR + TCP_MIN_HDR + 2);
}

START_TEST(engine_clamps_both_directions)
{
	struct syn out = {HOST, REM, 40000, 80, TCP_SYN, linux_opts, sizeof(linux_opts)};
	struct syn back = {REM, EXT, 80, 40000, TCP_SYN | TCP_ACK, linux_opts, sizeof(linux_opts)};

	start(_i ? "mss-clamp 1452\n" : "");
	ck_assert_uint_eq(mss_through(&out), _i ? 1452 : 1460);
	ck_assert_uint_eq(mss_through(&back), _i ? 1452 : 1460);
}
END_TEST

START_TEST(config_values)
{
	struct napt_config cfg;
	static const char *const bad[] = {
	    "mss-clamp 27\n", "mss-clamp 65496\n", "mss-clamp x\n",
	    "mss-clamp auto\n", /* no interface to read the MTU of */
	};

	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 10.0.0.0/8\nexternal 203.0.113.1\n"
						"mss-clamp 1452\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert_uint_eq(cfg.mss_clamp, 1452);
	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 10.0.0.0/8\nexternal 203.0.113.1\n"
						"wan-interface ppp0\nmss-clamp auto\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert(cfg.daemon.mss_clamp_auto);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "inside 10.0.0.0/8\nexternal 203.0.113.1\n%s", bad[i]);
		ck_assert_msg(napt_config_parse_text(&cfg, text, "t", err, sizeof(err)) < 0, "%s",
			      bad[i]);
	}
}
END_TEST

/* Two MSS options: RFC 9293 does not say which one counts, and Linux's tcp_parse_options
 * keeps the last it reads. Each must come out at most the clamp, the checksum right. */
START_TEST(every_mss_option_clamped)
{
	static const uint8_t two[] = {2, 4, 0x05, 0xb4, 1, 2, 4, 0x23, 0x28, 1, 1, 0};
	uint8_t b[PB_MAX];
	struct syn s = {HOST, REM, 40000, 80, TCP_SYN, two, sizeof(two)};
	size_t len = build_syn(b, &s);
	const uint8_t *o = b + IPV4_MIN_HDR + TCP_MIN_HDR;

	tcp_mss_clamp(b + IPV4_MIN_HDR, len - IPV4_MIN_HDR, 1452, false);
	ck_assert_ptr_null(pb_checksums_wrong(b, len));
	ck_assert_uint_le(get16(o + 2), 1452);
	ck_assert_msg(get16(o + 7) <= 1452, "second MSS option left at %u past a clamp of 1452",
		      get16(o + 7));
}
END_TEST

/* ---- refused-flows (RFC 5508 REQ-8) ---- */

/* Host at its session limit: its second flow is refused, with ICMP 3/13 from the external
 * address quoting the datagram's IP header and 8 bytes, or silently (the default). */
START_TEST(refused_flow_answered)
{
	struct pb_spec first = pb_flow(IPPROTO_UDP, HOST, 5000, REM, 53);
	struct pb_spec second = pb_flow(IPPROTO_UDP, HOST, 5001, REM, 53);
	uint8_t b[PB_MAX], sent[PB_MAX];
	struct napt_packet p = {.data = b, .cap = sizeof(b)};
	struct napt_result r;
	uint32_t a;

	start(_i ? "max-sessions-per-host 1\nrefused-flows icmp\n" : "max-sessions-per-host 1\n");
	p.len = pb_build(b, &first);
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_FORWARD);
	p.len = pb_build(b, &second);
	memcpy(sent, b, p.len);
	r = napt_translate(n, &p, T0);
	ck_assert_int_eq(r.reason, NAPT_DROP_HOST_SESSIONS);
	ck_assert_uint_eq(napt_get_counters(n)->dropped[NAPT_DROP_HOST_SESSIONS], 1);
	if (!_i) {
		ck_assert_int_eq(r.verdict, NAPT_DROP);
		return;
	}
	ck_assert_int_eq(r.verdict, NAPT_REPLY);
	ck_assert_uint_eq(p.len, IPV4_MIN_HDR + ICMP_HDR + IPV4_MIN_HDR + 8);
	memcpy(&a, b + IP_OFF_SRC, 4);
	ck_assert_uint_eq(a, pb_addr(EXT));
	memcpy(&a, b + IP_OFF_DST, 4);
	ck_assert_uint_eq(a, pb_addr(HOST));
	ck_assert_uint_eq(b[9], IPPROTO_ICMP);
	ck_assert_uint_eq(b[IPV4_MIN_HDR], 3);
	ck_assert_uint_eq(b[IPV4_MIN_HDR + 1], 13);
	ck_assert_mem_eq(b + IPV4_MIN_HDR + ICMP_HDR, sent, IPV4_MIN_HDR + 8);
	ck_assert_ptr_null(pb_checksums_wrong(b, p.len));
	ck_assert_uint_eq(napt_get_counters(n)->replies_sent, 1);
}
END_TEST

/* No answer to a datagram for a multicast group, nor for a flow refused for another reason
 * (an ACK without session), nor without room in the buffer. */
START_TEST(refused_flow_not_answered)
{
	struct pb_spec first = pb_flow(IPPROTO_UDP, HOST, 5000, REM, 53);
	struct pb_spec group = pb_flow(IPPROTO_UDP, HOST, 5001, "224.0.0.251", 5353);
	struct pb_spec ack = pb_flow(IPPROTO_TCP, HOST, 5002, REM, 80);
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b, .cap = sizeof(b)};

	ack.tcp_flags = TCP_ACK;
	start("max-sessions-per-host 1\nrefused-flows icmp\n");
	p.len = pb_build(b, &first);
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_FORWARD);
	p.len = pb_build(b, &group);
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_DROP);
	p.len = pb_build(b, &ack);
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_DROP);
	first.sport = 5003;
	first.payload_len = 0;
	p.len = pb_build(b, &first);
	p.cap = p.len; /* 28 bytes: no room for the 56-byte answer */
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_DROP);
	ck_assert_uint_eq(napt_get_counters(n)->replies_sent, 0);
}
END_TEST

/* ---- answers to unsolicited SYNs under Easy IP ---- */

/* naptd hands no TCP back to the router (host_handback.h): an unsolicited SYN to any port of
 * the WAN address that no rule takes, below the port-range or in it, is refused by the
 * engine, and answered as unsolicited-syn says. */
START_TEST(easy_ip_answers_unnamed_ports)
{
	static const uint16_t ports[2] = {22, 50000};
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b, .cap = sizeof(b)};
	unsigned answers = 0;

	start("external interface wan0\nunsolicited-syn rst\n");
	for (unsigned i = 0; i < 2; i++) {
		struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 4444, EXT, ports[i]);

		p.len = pb_build(b, &syn);
		ck_assert_int_eq(napt_translate(n, &p, T0).reason, NAPT_DROP_NO_MAPPING);
	}
	napt_expire(n, T0 + 6000);
	while (napt_next_released(n, b, sizeof(b))) {
		ck_assert_uint_eq(get16(b + IPV4_MIN_HDR), ports[answers]); /* the RST's source */
		answers++;
	}
	ck_assert_uint_eq(answers, 2);
}
END_TEST

/* ---- break12c: the router's own fragmented answers under Easy IP ---- */

/* A fragment of src -> EXT:dport (frag: the flags and offset field), through the engine;
 * whether it came back unchanged (to the router). */
static struct napt_result frag_in(uint8_t proto, const char *src, uint16_t dport, uint16_t frag,
				  bool *unchanged)
{
	struct pb_spec s = pb_flow(proto, src, 53, EXT, dport);
	uint8_t b[PB_MAX], sent[PB_MAX];
	struct napt_packet p = {.data = b, .cap = sizeof(b)};
	struct napt_result r;

	s.frag = frag;
	s.payload_len = 64;
	p.len = pb_build(b, &s);
	memcpy(sent, b, p.len);
	r = napt_translate(n, &p, T0);
	*unchanged = r.verdict == NAPT_FORWARD && memcmp(sent, b, p.len) == 0;
	return r;
}

/* Easy IP: a first fragment (MF, offset 0) to the router's own ports (local-ports, UDP 68)
 * is not passed on to the kernel and the TUN filter does not count those ports open: ip
 * rules see no port in a fragment, so every WAN fragment to W enters the TUN, and passing
 * these let a flood of spoofed first fragments to local-ports past the filter (review
 * break12c: the LAN kept 0.00-0.03 of its rate, against 0.46-0.50 filtered) and through the
 * fragment ring the LAN shares (test_break12c_frag_ring). The router's fragmented answers
 * need conntrack's reassembly before routing (home-router.md Limits). */
START_TEST(easy_ip_router_fragments)
{
	bool same;

	start("external interface wan0\nlocal-service udp 5000\n");
	ck_assert_int_eq(frag_in(IPPROTO_UDP, REM, 40000, 0x2000, &same).reason,
			 NAPT_DROP_NO_MAPPING);
	ck_assert_int_eq(frag_in(IPPROTO_UDP, "198.51.100.10", 68, 0x2000, &same).reason,
			 NAPT_DROP_NO_MAPPING);
	ck_assert(!napt_port_open(n, IPPROTO_UDP, 0, 49151));
	ck_assert(!napt_port_open(n, IPPROTO_UDP, 0, 68));
	ck_assert(!napt_port_open(n, IPPROTO_UDP, 0, 5000));
	/* With a DMZ host the first fragment to a port nothing holds is the DMZ host's. */
	ck_assert_int_eq(napt_dmz_set(n, pb_addr(HOST), err, sizeof(err)), 0);
	ck_assert_int_eq(frag_in(IPPROTO_UDP, "198.51.100.17", 50000, 0x2000, &same).verdict,
			 NAPT_FORWARD);
	ck_assert(!same);
}
END_TEST

/* The engine refuses a run-time forward (a NAT-PMP, PCP or UPnP lease, now on any port) on
 * the router's own ports: local-ports, UDP 68, a local-service; TCP 68 and the port below
 * local-ports are the LAN's to have. */
START_TEST(easy_ip_leases_refused_on_router_ports)
{
	static const struct {
		uint8_t protos;
		uint16_t port;
		bool ok;
	} cases[] = {{NAPT_FWD_UDP, 32768, false}, {NAPT_FWD_TCP, 49151, false},
		     {NAPT_FWD_UDP, 68, false},    {NAPT_FWD_TCP, 22, false},
		     {NAPT_FWD_TCP, 68, true},     {NAPT_FWD_UDP, 32767, true},
		     {NAPT_FWD_UDP, 22, true}};

	start("external interface wan0\nlocal-service tcp 22\n");
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct napt_forward f = {.protos = cases[i].protos,
					 .ext_lo = cases[i].port,
					 .ext_hi = cases[i].port,
					 .in_addr = pb_addr(HOST),
					 .in_lo = 5000};

		ck_assert_msg((napt_forward_add(n, &f, err, sizeof(err)) == 0) == cases[i].ok,
			      "port %u: %s", cases[i].port, err);
	}
}
END_TEST

/* Pool mode (no Easy IP): nothing of the above; a first fragment to 40000 or 68 is a
 * datagram without a mapping, and the port is not open. */
START_TEST(pool_no_router_fragments)
{
	bool same;

	start("");
	ck_assert_int_eq(frag_in(IPPROTO_UDP, REM, 40000, 0x2000, &same).reason,
			 NAPT_DROP_NO_MAPPING);
	ck_assert_int_eq(frag_in(IPPROTO_UDP, REM, 68, 0x2000, &same).reason, NAPT_DROP_NO_MAPPING);
	ck_assert(!napt_port_open(n, IPPROTO_UDP, 0, 40000));
	ck_assert(!napt_port_open(n, IPPROTO_UDP, 0, 68));
}
END_TEST

/* The hairpin direction: a LAN host's first fragment to W's local port is not the router's
 * WAN answer; it is not passed on unchanged. */
START_TEST(easy_ip_hairpin_fragment_not_passed)
{
	struct pb_spec s = pb_flow(IPPROTO_UDP, HOST, 5000, EXT, 40000);
	uint8_t b[PB_MAX], sent[PB_MAX];
	struct napt_packet p = {.data = b, .cap = sizeof(b)};
	struct napt_result r;

	start("external interface wan0\n");
	s.frag = 0x2000;
	s.payload_len = 64;
	p.len = pb_build(b, &s);
	memcpy(sent, b, p.len);
	r = napt_translate(n, &p, T0);
	ck_assert(r.verdict != NAPT_FORWARD || memcmp(sent, b, p.len) != 0);
}
END_TEST

/* ---- dynamic NAT: the pool ---- */

#define H1 0x0a000001u
#define H2 0x0a000002u
#define H3 0x0a000003u

static bool busy_hosts[4]; /* by the last byte of H1..H3 */

static bool host_busy(void *ctx, uint32_t host)
{
	(void)ctx;
	return busy_hosts[host & 3];
}

/* Each host its own address while busy; a third finds none; an idle host's address rests
 * 120 s for others but comes back at once to it. */
START_TEST(pool_binds_rests_and_returns)
{
	struct addr_pool p;

	memset(busy_hosts, 0, sizeof(busy_hosts));
	addr_pool_init(&p, 2);
	busy_hosts[1] = busy_hosts[2] = busy_hosts[3] = true;
	ck_assert_int_eq(addr_pool_bind(&p, H1, 0, host_busy, NULL), 0);
	ck_assert_int_eq(addr_pool_bind(&p, H2, 0, host_busy, NULL), 1);
	ck_assert_int_eq(addr_pool_bind(&p, H1, 5, host_busy, NULL), 0);
	ck_assert_int_eq(addr_pool_bind(&p, H3, 10, host_busy, NULL), -1);
	busy_hosts[1] = false;
	ck_assert_uint_eq(addr_pool_release_idle(&p, 1000, host_busy, NULL), 1);
	ck_assert_int_eq(addr_pool_bind(&p, H3, 1000 + ADDR_REST_MS - 1, host_busy, NULL), -1);
	ck_assert_int_eq(addr_pool_bind(&p, H3, 1000 + ADDR_REST_MS, host_busy, NULL), 0);
	/* H2 goes idle; H1 is back before the rest is over: its own last address is not E2's
	 * former holder's, so it waits; H2 back gets E2 at once. */
	busy_hosts[2] = false;
	ck_assert_uint_eq(addr_pool_release_idle(&p, 200000, host_busy, NULL), 1);
	ck_assert_int_eq(addr_pool_bind(&p, H1, 200001, host_busy, NULL), -1);
	ck_assert_int_eq(addr_pool_bind(&p, H2, 200002, host_busy, NULL), 1);
}
END_TEST

/* The clock wraps: a rest that began just below 2^32 ends 120 s later. */
START_TEST(pool_rest_across_the_clock_wrap)
{
	struct addr_pool p;
	uint32_t t = UINT32_MAX - 1000;

	memset(busy_hosts, 0, sizeof(busy_hosts));
	addr_pool_init(&p, 1);
	busy_hosts[1] = true;
	ck_assert_int_eq(addr_pool_bind(&p, H1, t, host_busy, NULL), 0);
	busy_hosts[1] = false;
	busy_hosts[2] = true;
	ck_assert_int_eq(addr_pool_bind(&p, H2, t + 1, host_busy, NULL), -1);
	ck_assert_int_eq(addr_pool_bind(&p, H2, t + ADDR_REST_MS, host_busy, NULL), -1);
	ck_assert_int_eq(addr_pool_bind(&p, H2, t + 1 + ADDR_REST_MS, host_busy, NULL), 0);
}
END_TEST

/* Through the engine: the host keeps its port, other hosts get other addresses, the pool
 * runs out (counted), and show mappings' walk begins with the bindings. */
static int count_bindings(const struct napt_mapping_info *m, void *ctx)
{
	unsigned *count = ctx;

	if (m->origin == NAPT_ORIGIN_DYNAMIC) {
		ck_assert_uint_eq(m->proto, 0);
		ck_assert_uint_eq(m->sessions, 1);
		(*count)++;
	}
	return 0;
}

START_TEST(engine_binds_hosts_to_addresses)
{
	static const char *const hosts[] = {"192.168.1.10", "192.168.1.11", "192.168.1.12"};
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b};
	unsigned bindings = 0;

	start("external 203.0.113.2\nmode dynamic\n");
	for (unsigned i = 0; i < 3; i++) {
		struct pb_spec s = pb_flow(IPPROTO_UDP, hosts[i], 5000, REM, 53);
		struct napt_result r;
		uint32_t src;

		p.len = pb_build(b, &s);
		r = napt_translate(n, &p, T0);
		if (i == 2) {
			ck_assert_int_eq(r.verdict, NAPT_DROP);
			ck_assert_int_eq(r.reason, NAPT_DROP_POOL_EXHAUSTED);
			break;
		}
		ck_assert_int_eq(r.verdict, NAPT_FORWARD);
		memcpy(&src, b + IP_OFF_SRC, 4);
		ck_assert_uint_eq(src, pb_addr(i ? "203.0.113.2" : EXT));
		ck_assert_uint_eq(get16(b + IPV4_MIN_HDR), 5000);
		ck_assert_ptr_null(pb_checksums_wrong(b, p.len));
	}
	ck_assert_uint_eq(napt_get_counters(n)->dropped[NAPT_DROP_POOL_EXHAUSTED], 1);
	napt_foreach_mapping(n, count_bindings, &bindings);
	ck_assert_uint_eq(bindings, 2);
}
END_TEST

/* docs/config.md, keys that do not go together: each refused with the reason. */
START_TEST(dynamic_refuses_what_needs_port_translation)
{
	static const char *const bad[] = {
	    "mapping address-dependent\n",
	    "forward tcp 80 192.168.1.10:80\n",
	    "dmz 192.168.1.10\n",
	    "pcp-allow 192.168.1.0/24 1024-65535\n",
	};
	struct napt_config cfg;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text),
			 "inside 192.168.1.0/24\nexternal 203.0.113.1\nmode dynamic\n%s", bad[i]);
		ck_assert_msg(napt_config_parse_text(&cfg, text, "t", err, sizeof(err)) < 0, "%s",
			      bad[i]);
		ck_assert_msg(strstr(err, "'mode dynamic' does not go with") != NULL, "%s", err);
	}
	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal 203.0.113.1\n"
						"mode dynamic\nmapping endpoint-independent\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert_int_eq(cfg.mode, NAPT_MODE_DYNAMIC);
	ck_assert_int_lt(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal 203.0.113.1\n"
						"mode basic\n",
						"t", err, sizeof(err)),
			 0);
}
END_TEST

/* Adversarial, dynamic-fallback napt: 12 hosts, 2 addresses, port-range 5000-5007 and
 * inside ports 4998-5010 drawn at random, so holders keep ports inside the range that shared
 * mappings would pick. No external endpoint may ever stand for two inside endpoints (nothing
 * expires here), and a reply to it reaches the endpoint that left from it. */
START_TEST(dynamic_fallback_never_shares_an_endpoint)
{
	static uint32_t owner[2][16]; /* inside address << 16 | port, by address and port - 5000 */
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b};
	unsigned forwarded = 0;

	memset(owner, 0, sizeof(owner));
	start("external 203.0.113.2\nmode dynamic\ndynamic-fallback napt\nport-range "
	      "5000-5007\n");
	srand(3);
	for (unsigned i = 0; i < 3000; i++) {
		char host[16];
		uint16_t port = (uint16_t)(4998 + rand() % 13), ext_port;
		struct pb_spec s;
		uint32_t src, who;
		unsigned e;

		snprintf(host, sizeof(host), "192.168.1.%d", 1 + rand() % 12);
		s = pb_flow(IPPROTO_UDP, host, port, REM, 53);
		p.len = pb_build(b, &s);
		if (napt_translate(n, &p, T0 + i).verdict != NAPT_FORWARD)
			continue;
		forwarded++;
		ck_assert_ptr_null(pb_checksums_wrong(b, p.len));
		memcpy(&src, b + IP_OFF_SRC, 4);
		ext_port = get16(b + IPV4_MIN_HDR);
		e = src == pb_addr(EXT) ? 0 : 1;
		who = (ntohl(s.src) & 0xff) << 16 | port;
		if (ext_port >= 5000 && ext_port < 5016) {
			ck_assert(owner[e][ext_port - 5000] == 0 ||
				  owner[e][ext_port - 5000] == who);
			owner[e][ext_port - 5000] = who;
		}
		s = pb_flow(IPPROTO_UDP, REM, 53, e ? "203.0.113.2" : EXT, ext_port);
		s.dst = src;
		p.len = pb_build(b, &s);
		ck_assert_int_eq(napt_translate(n, &p, T0 + i).verdict, NAPT_FORWARD);
		ck_assert_uint_eq(get16(b + IPV4_MIN_HDR + 2), port);
		memcpy(&src, b + IP_OFF_DST, 4);
		ck_assert_uint_eq(ntohl(src) & 0xff, who >> 16);
	}
	ck_assert_uint_gt(forwarded, 100);
	ck_assert_uint_gt(napt_get_counters(n)->pool_fallbacks, 0);
}
END_TEST

/* dynamic-fallback: refuse by default, napt only with mode dynamic, nothing else taken. */
START_TEST(dynamic_fallback_key)
{
	struct napt_config cfg;

	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal 203.0.113.1\n"
						"mode dynamic\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert(!cfg.dynamic_fallback_napt);
	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal 203.0.113.1\n"
						"dynamic-fallback napt\nmode dynamic\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert(cfg.dynamic_fallback_napt);
	ck_assert_int_lt(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal 203.0.113.1\n"
						"dynamic-fallback napt\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert_str_eq(err, "t: 'dynamic-fallback napt' needs 'mode dynamic' (NAPT shares the "
			      "pool already)");
	ck_assert_int_lt(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal 203.0.113.1\n"
						"mode dynamic\ndynamic-fallback share\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert_str_eq(err, "t:4: 'dynamic-fallback' takes napt or refuse, not 'share'");
}
END_TEST

/* The mode is fixed for the instance's life: a reload that changes it is refused. */
START_TEST(mode_change_needs_a_restart)
{
	struct napt_config cfg;

	start("");
	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal " EXT
						"\nmax-sessions 512\nmode dynamic\n",
						"t", err, sizeof(err)),
			 0);
	ck_assert_int_lt(napt_reconfigure(n, &cfg, T0, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "changing mode needs a restart");
}
END_TEST

/* ---- attacks on dynamic NAT (break12) ---- */

#define EXT2  "203.0.113.2"
#define HOST2 "192.168.1.11"

/* Config refuses 'forward' with mode dynamic: a run-time forward (naptctl forward add, a
 * NAT-PMP/PCP lease) must be refused too. Else HOST, bound to EXT, leaves from its own port
 * 6000, while a remote that opens EXT:6000 is taken to HOST2: EXT:6000 stands for two inside
 * endpoints. */
START_TEST(dynamic_refuses_runtime_forward)
{
	struct napt_forward f = {.protos = NAPT_FWD_UDP,
				 .ext_lo = 6000,
				 .ext_hi = 6000,
				 .in_addr = pb_addr(HOST2),
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
		      dst == pb_addr(HOST2) ? HOST2 : "?");
}
END_TEST

/* Config refuses 'dmz' with mode dynamic (the pool's addresses keep the configured
 * filtering): one set at run time (naptctl dmz set) must not open HOST's address. */
START_TEST(dynamic_refuses_runtime_dmz)
{
	uint8_t b[PB_MAX];
	struct napt_packet p = {.data = b};
	struct pb_spec out = pb_flow(IPPROTO_UDP, HOST, 5000, REM, 53);
	struct pb_spec in = pb_flow(IPPROTO_UDP, "192.0.2.66", 999, EXT, 7777);
	struct napt_result r;

	start("external " EXT2 "\nmode dynamic\n");
	p.len = pb_build(b, &out);
	ck_assert_int_eq(napt_translate(n, &p, T0).verdict, NAPT_FORWARD);
	if (napt_dmz_set(n, pb_addr(HOST2), err, sizeof(err)) < 0)
		return;
	p.len = pb_build(b, &in);
	r = napt_translate(n, &p, T0);
	ck_assert_msg(r.verdict == NAPT_DROP,
		      "an unsolicited datagram to HOST's address " EXT ":7777 was translated "
		      "(verdict %d) with a DMZ set at run time in mode dynamic",
		      (int)r.verdict);
}
END_TEST

/* One UDP datagram from host's port 5000 to REM:53, translated: the external endpoint it left
 * from. */
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
 * address "rests 120 s: no other host gets it before"). HOST2 held EXT2 and left from
 * EXT2:5000; its last session expires and EXT2 rests. A third host, which finds the pool empty,
 * must not get EXT2:5000 during the rest: REM, which knew HOST2 there, would reach it. */
START_TEST(fallback_respects_the_address_rest)
{
	uint32_t ext;
	uint16_t port;
	uint32_t t = T0;

	start("external " EXT2 "\nmode dynamic\ndynamic-fallback napt\nport-range 5000-5007\n"
	      "timeout udp 30\n");
	send_out(HOST, t, &ext, &port);
	ck_assert_uint_eq(ext, pb_addr(EXT));
	send_out(HOST2, t, &ext, &port);
	ck_assert_uint_eq(ext, pb_addr(EXT2));
	ck_assert_uint_eq(port, 5000);
	for (t = T0 + 1000; t < T0 + 40000; t += 1000) {
		send_out(HOST, t, &ext, &port); /* HOST keeps EXT */
		napt_expire(n, t);
	}
	send_out("192.168.1.13", t, &ext, &port);
	ck_assert_msg(!(ext == pb_addr(EXT2) && port == 5000),
		      "a third host got HOST2's endpoint " EXT2
		      ":5000 %u s after HOST2 released it (rest 120 s)",
		      (t - T0) / 1000 - 30);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("home");
	TCase *mss = tcase_create("mss clamp");

	tcase_add_checked_fixture(mss, NULL, teardown);
	tcase_add_test(mss, lowers_a_larger_mss);
	tcase_add_test(mss, leaves_a_smaller_mss);
	tcase_add_test(mss, no_option_or_malformed_left_alone);
	tcase_add_test(mss, cut_header_left_alone);
	tcase_add_test(mss, partial_checksum_untouched);
	tcase_add_test(mss, every_mss_option_clamped);
	tcase_add_loop_test(mss, engine_clamps_both_directions, 0, 2);
	tcase_add_test(mss, config_values);
	suite_add_tcase(s, mss);
	TCase *rf = tcase_create("refused flows");
	tcase_add_checked_fixture(rf, NULL, teardown);
	tcase_add_loop_test(rf, refused_flow_answered, 0, 2);
	tcase_add_test(rf, refused_flow_not_answered);
	suite_add_tcase(s, rf);
	TCase *ez = tcase_create("easy ip answers");
	tcase_add_checked_fixture(ez, NULL, teardown);
	tcase_add_test(ez, easy_ip_answers_unnamed_ports);
	tcase_add_test(ez, easy_ip_router_fragments);
	tcase_add_test(ez, pool_no_router_fragments);
	tcase_add_test(ez, easy_ip_leases_refused_on_router_ports);
	tcase_add_test(ez, easy_ip_hairpin_fragment_not_passed);
	suite_add_tcase(s, ez);
	TCase *dn = tcase_create("dynamic nat");
	tcase_add_checked_fixture(dn, NULL, teardown);
	tcase_add_test(dn, pool_binds_rests_and_returns);
	tcase_add_test(dn, pool_rest_across_the_clock_wrap);
	tcase_add_test(dn, engine_binds_hosts_to_addresses);
	tcase_add_test(dn, dynamic_refuses_what_needs_port_translation);
	tcase_add_test(dn, mode_change_needs_a_restart);
	tcase_add_test(dn, dynamic_fallback_key);
	tcase_add_test(dn, dynamic_fallback_never_shares_an_endpoint);
	tcase_add_test(dn, dynamic_refuses_runtime_forward);
	tcase_add_test(dn, dynamic_refuses_runtime_dmz);
	tcase_add_test(dn, fallback_respects_the_address_rest);
	suite_add_tcase(s, dn);
	return unit_run(s);
}
