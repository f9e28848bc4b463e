/* SPDX-License-Identifier: BSD-2-Clause */
/* test_features.c - the engine's newer features through napt.h and napt_config.h: static
 * one-to-one NAT, per-host limits (RFC 6888 REQ-4), port parity (RFC 4787 REQ-4), answers
 * to unsolicited SYNs (RFC 5382 REQ-4, RFC 793 3.4, RFC 792) and napt_external_replace.
 * Expected packets are built by packet_builder.c from the rules, with its own checksums;
 * config errors are checked with their file:line. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ipv4_packet.h"
#include "napt.h"
#include "packet_builder.h"
#include "unit_run.h"

#define EXT     "203.0.113.1"
#define EXT2    "203.0.113.2"
#define NEW_EXT "203.0.113.9"
#define S_IN    "192.168.1.30" /* a static pair */
#define S_EXT   "203.0.113.30"
#define HOST1   PB_INSIDE_HOST /* 192.168.1.10: even, paired with EXT */
#define HOST2   "192.168.1.11"
#define REM     PB_REMOTE_HOST
#define REM2    "198.51.100.8"
#define T0      5000000u

static struct napt_config cfg;
static struct napt *n;
static uint8_t buf[PB_MAX], want[PB_MAX];
static size_t buf_len;
static uint64_t now, seed;
static char err[512];

static void setup(void)
{
	n = NULL;
	now = T0;
	seed = 11;
}

static void teardown(void)
{
	napt_destroy(n);
}

/* An instance from a config file: the base lines (a small table), then `lines`. */
static void start(const char *lines)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\nexternal " EXT "\nmax-sessions 512\n%s", lines);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, seed, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
}

static const struct napt_counters *counters(void)
{
	return napt_get_counters(n);
}

/* ---- packets ---- */

static struct pb_spec udp(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	return pb_flow(IPPROTO_UDP, src, sport, dst, dport);
}

/* s with other addresses (NULL keeps one) and source port. */
static struct pb_spec moved(struct pb_spec s, const char *src, const char *dst, uint16_t sport)
{
	if (src)
		s.src = pb_addr(src);
	if (dst)
		s.dst = pb_addr(dst);
	s.sport = sport;
	return s;
}

/* Hand s to the engine, with room for an answer of any size. */
static struct napt_result feed(const struct pb_spec *s)
{
	struct napt_packet p = {.data = buf, .cap = sizeof(buf)};
	struct napt_result r;

	p.len = pb_build(buf, s);
	r = napt_translate(n, &p, now);
	buf_len = p.len;
	return r;
}

/* buf must hold exactly want[0..len), with every checksum right. */
static void holds(size_t len)
{
	const char *wrong = pb_checksums_wrong(buf, buf_len);
	size_t i = 0;

	ck_assert_msg(wrong == NULL, "wrong %s", wrong);
	ck_assert_uint_eq(buf_len, len);
	while (i < len && buf[i] == want[i])
		i++;
	ck_assert_msg(i == len, "byte %zu is 0x%02x, expected 0x%02x", i, buf[i], want[i]);
}

/* s must be forwarded in direction d as exactly w. */
static void passes(const struct pb_spec *s, enum napt_dir d, const struct pb_spec *w)
{
	struct napt_result r = feed(s);

	ck_assert_msg(r.verdict == NAPT_FORWARD, "dropped (%s)", napt_drop_reason_name(r.reason));
	ck_assert_str_eq(napt_dir_name(r.dir), napt_dir_name(d));
	holds(pb_build(want, w));
}

static void refused(const struct pb_spec *s, enum napt_drop_reason why)
{
	struct napt_result r = feed(s);

	ck_assert_msg(r.verdict == NAPT_DROP && r.reason == why, "verdict %d (%s), expected %s",
		      r.verdict, napt_drop_reason_name(r.reason), napt_drop_reason_name(why));
}

/* s leaves from ext:port. */
static void leaves_as(const struct pb_spec *s, const char *ext, uint16_t port)
{
	struct pb_spec w = moved(*s, ext, NULL, port);

	passes(s, NAPT_DIR_OUT, &w);
}

/* s leaves from ext with its port (preserved: the tests use free ports in range). */
static void leaves_from(const struct pb_spec *s, const char *ext)
{
	leaves_as(s, ext, s->sport);
}

/* The answer from s's destination back to s's source, to ext:port, reaches s's source. */
static void reply_via(const struct pb_spec *s, const char *ext, uint16_t port)
{
	struct pb_spec r = *s, w;

	r.src = s->dst;
	r.dst = pb_addr(ext);
	r.sport = s->dport;
	r.dport = port;
	w = r;
	w.dst = s->src;
	w.dport = s->sport;
	passes(&r, NAPT_DIR_IN, &w);
}

static void reply_passes(const struct pb_spec *s, const char *ext)
{
	reply_via(s, ext, s->sport);
}

/* The source port of the translated packet in buf. */
static uint16_t buf_sport(void)
{
	return get16(buf + (buf[0] & 0x0f) * 4 + L4_OFF_SPORT);
}

/* ---- static one-to-one NAT ---- */

START_TEST(static_out_every_protocol_ports_kept)
{
	struct pb_spec s[3] = {udp(S_IN, 5000, REM, 53), pb_flow(IPPROTO_TCP, S_IN, 40000, REM, 80),
			       pb_flow(IPPROTO_ICMP, S_IN, 777, REM, 0)};
	struct pb_spec other = udp(HOST1, 5000, REM, 53);

	s[0].opt_len = 8;
	s[1].tcp_flags = TCP_ACK; /* no session needed: the mapping is static */
	start("port-range 50000-50000\nstatic " S_IN " " S_EXT "\n");
	for (unsigned i = 0; i < 3; i++) {
		struct pb_spec w = moved(s[i], S_EXT, NULL, s[i].sport);

		passes(&s[i], NAPT_DIR_OUT, &w);
	}
	ck_assert_uint_eq(counters()->sessions_current, 0);
	ck_assert_uint_eq(counters()->mappings_current, 0);
	/* Other inside hosts still share the pool. */
	feed(&other);
	ck_assert_uint_eq(buf_sport(), 50000);
	ck_assert_uint_eq(counters()->sessions_current, 1);
}
END_TEST

START_TEST(static_in_everything_reaches_the_host)
{
	struct pb_spec s[4] = {
	    udp(REM, 9999, S_EXT, 7777), pb_flow(IPPROTO_TCP, REM2, 4444, S_EXT, 22),
	    pb_flow(IPPROTO_TCP, REM2, 4445, S_EXT, 23), pb_flow(IPPROTO_ICMP, REM, 99, S_EXT, 0)};

	s[2].tcp_flags = TCP_ACK;
	/* a static host's SYN is not unsolicited */
	start("static " S_IN " " S_EXT "\nunsolicited-syn rst\n");
	for (unsigned i = 0; i < 4; i++) {
		struct pb_spec w = moved(s[i], NULL, S_IN, s[i].sport);

		passes(&s[i], NAPT_DIR_IN, &w);
	}
	ck_assert_uint_eq(counters()->sessions_current, 0);
	ck_assert_uint_eq(counters()->replies_sent, 0);
}
END_TEST

/* An ICMP error from src to dst quoting q (len bytes of it). */
static struct pb_spec error_about(const char *src, const char *dst, uint8_t type, const uint8_t *q,
				  size_t len)
{
	return (struct pb_spec){.proto = IPPROTO_ICMP,
				.src = pb_addr(src),
				.dst = pb_addr(dst),
				.icmp_type = type,
				.icmp_code = type == ICMP_UNREACH ? 3 : 0,
				.quote = q,
				.quote_len = len};
}

START_TEST(static_icmp_errors_both_ways)
{
	struct pb_spec seen = udp(S_EXT, 5000, REM, 53), orig = udp(S_IN, 5000, REM, 53);
	struct pb_spec tseen = pb_flow(IPPROTO_TCP, S_EXT, 40000, REM, 80);
	struct pb_spec torig = moved(tseen, S_IN, NULL, 40000);
	struct pb_spec to_host = udp(REM, 3333, S_IN, 7000), to_ext = udp(REM, 3333, S_EXT, 7000);
	uint8_t q_ext[PB_MAX], q_in[PB_MAX];
	size_t ql;
	struct pb_spec e, w;

	start("static " S_IN " " S_EXT "\n");
	/* Inbound, the whole datagram quoted: outer destination and quoted source change. */
	ql = pb_build(q_ext, &seen);
	pb_build(q_in, &orig);
	e = error_about(REM, S_EXT, ICMP_UNREACH, q_ext, ql);
	w = error_about(REM, S_IN, ICMP_UNREACH, q_in, ql);
	passes(&e, NAPT_DIR_IN, &w);
	/* Inbound time exceeded quoting IP header + 8 bytes of a TCP segment. */
	pb_build(q_ext, &tseen);
	pb_build(q_in, &torig);
	e = error_about(REM2, S_EXT, ICMP_TIME_EXCEED, q_ext, IPV4_MIN_HDR + 8);
	w = error_about(REM2, S_IN, ICMP_TIME_EXCEED, q_in, IPV4_MIN_HDR + 8);
	passes(&e, NAPT_DIR_IN, &w);
	/* Outbound: outer source and quoted destination change. */
	ql = pb_build(q_in, &to_host);
	pb_build(q_ext, &to_ext);
	e = error_about(S_IN, REM, ICMP_UNREACH, q_in, ql);
	w = error_about(S_EXT, REM, ICMP_UNREACH, q_ext, ql);
	passes(&e, NAPT_DIR_OUT, &w);
	ck_assert_uint_eq(counters()->icmp_errors_translated, 3);
}
END_TEST

START_TEST(static_external_as_source_is_spoofed)
{
	const char *dsts[] = {REM, EXT, S_IN, S_EXT};

	start("static " S_IN " " S_EXT "\n");
	for (unsigned i = 0; i < 4; i++) {
		struct pb_spec s = udp(S_EXT, 5000, dsts[i], 53);

		refused(&s, NAPT_DROP_SPOOFED);
	}
	ck_assert_uint_eq(counters()->dropped[NAPT_DROP_SPOOFED], 4);
}
END_TEST

/* ---- config ---- */

START_TEST(config_new_keys)
{
	napt_config_defaults(&cfg);
	ck_assert_uint_eq(cfg.max_sessions_per_host, 0);
	ck_assert_uint_eq(cfg.ports_per_host, 0);
	ck_assert(!cfg.port_parity);
	ck_assert_int_eq(cfg.unsolicited_syn, NAPT_UNSOLICITED_DROP);
	ck_assert_uint_eq(cfg.n_statics, 0);
	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal 203.0.113.10\n"
						"max-sessions-per-host 100\nports-per-host 0\n"
						"ports-per-host 50\nport-parity yes\n"
						"unsolicited-syn icmp\nstatic " S_IN " " S_EXT "\n"
						"static 192.168.1.31 203.0.113.31\n",
						"t.conf", err, sizeof(err)),
			 0);
	ck_assert_uint_eq(cfg.max_sessions_per_host, 100);
	ck_assert_uint_eq(cfg.ports_per_host, 50);
	ck_assert(cfg.port_parity);
	ck_assert_int_eq(cfg.unsolicited_syn, NAPT_UNSOLICITED_ICMP);
	ck_assert_uint_eq(cfg.n_statics, 2);
	ck_assert_uint_eq(cfg.statics[1].in_addr, pb_addr("192.168.1.31"));
	ck_assert_uint_eq(cfg.statics[1].ext_addr, pb_addr("203.0.113.31"));
	ck_assert_int_eq(napt_config_parse_line(&cfg, "unsolicited-syn rst", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.unsolicited_syn, NAPT_UNSOLICITED_RST);
	ck_assert_int_eq(napt_config_parse_line(&cfg, "unsolicited-syn drop", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.unsolicited_syn, NAPT_UNSOLICITED_DROP);
}
END_TEST

/* Lines from line 3 on, after "inside 192.168.1.0/24" and "external 203.0.113.10". */
static const struct config_error {
	const char *lines, *want;
} config_errors[] = {
    {"static 10.0.0.5 " S_EXT,
     "t.conf:3: static 10.0.0.5 203.0.113.30: 10.0.0.5 is in no 'inside' prefix"},
    {"static " S_IN " 192.168.1.31",
     "t.conf:3: static 192.168.1.30 192.168.1.31: "
     "192.168.1.31 lies inside an 'inside' prefix (RFC 4787 REQ-7)"},
    {"static " S_IN " 203.0.113.10", "t.conf:3: static 192.168.1.30 203.0.113.10: "
				     "203.0.113.10 is also an 'external' address of the pool"},
    {"static " S_IN " " S_EXT "\n# same inside host\nstatic " S_IN " 203.0.113.31",
     "t.conf:5: static 192.168.1.30 203.0.113.31: address used by another 'static'"},
    {"static " S_IN " " S_EXT "\nstatic 192.168.1.31 " S_EXT,
     "t.conf:4: static 192.168.1.31 203.0.113.30: address used by another 'static'"},
    {"static 192.168.1.300 " S_EXT,
     "t.conf:3: 'static' needs INSIDE-ADDRESS EXTERNAL-ADDRESS, not '192.168.1.300 "
     "203.0.113.30'"},
    {"static " S_IN, "t.conf:3: 'static' needs INSIDE-ADDRESS EXTERNAL-ADDRESS"},
    {"max-sessions-per-host many", "t.conf:3: 'max-sessions-per-host' needs a number, not 'many'"},
    {"ports-per-host 65536", "t.conf:3: 'ports-per-host' value 65536 is out of range 0..65535"},
    {"port-parity even", "t.conf:3: 'port-parity' takes yes or no, not 'even'"},
    {"unsolicited-syn reset", "t.conf:3: 'unsolicited-syn' takes drop, rst or icmp, not 'reset'"},
    {"port-range 1024-1100\ndeterministic 192.168.1.0/24 198.51.100.0/32",
     "t.conf: deterministic: 256 inside addresses do not fit on 1 external addresses with "
     "1 port(s) each in port-range 1024-1100"},
    {"deterministic 192.168.1.0/28 198.51.100.0/30\ndeterministic-ports 20000",
     "t.conf: deterministic: 16 inside addresses do not fit on 4 external addresses with "
     "20000 port(s) each in port-range 1024-65535"},
    {"deterministic 10.0.0.0/28 198.51.100.0/30",
     "t.conf: the deterministic inside prefix is not within an 'inside' prefix"},
    {"deterministic 192.168.1.0/28 198.51.100.0/24",
     "t.conf:3: deterministic external prefix /24 is larger than 16 addresses"},
    {"deterministic-ports 100", "t.conf: 'deterministic-ports' without 'deterministic'"},
    {"port-rest 3601", "t.conf:3: 'port-rest' value 3601 is out of range 0..3600"},
};

START_TEST(config_errors_name_their_line)
{
	const struct config_error *c = &config_errors[_i];
	char text[512];

	snprintf(text, sizeof(text), "inside 192.168.1.0/24\nexternal 203.0.113.10\n%s\n",
		 c->lines);
	ck_assert_int_eq(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)), -1);
	ck_assert_str_eq(err, c->want);
}
END_TEST

START_TEST(config_at_most_16_statics)
{
	char text[2048];
	size_t len = (size_t)snprintf(text, sizeof(text), "inside 192.168.1.0/24\n");

	for (unsigned i = 1; i <= NAPT_MAX_STATIC + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"static 192.168.1.%u 203.0.113.%u\n", 100 + i, 100 + i);
	ck_assert_int_eq(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.conf:18: too many 'static' entries (at most 16)");
}
END_TEST

/* A config made line by line is validated by napt_create and napt_reconfigure too. */
START_TEST(bad_static_refused_by_create_and_reconfigure)
{
	struct napt_config bad;

	start("");
	bad = cfg;
	bad.statics[bad.n_statics++] = (struct napt_static){pb_addr("10.0.0.5"), pb_addr(S_EXT)};
	ck_assert_ptr_null(napt_create(&bad, 1, err, sizeof(err)));
	ck_assert_str_eq(err, "static 10.0.0.5 203.0.113.30: 10.0.0.5 is in no 'inside' prefix");
	ck_assert_int_eq(napt_reconfigure(n, &bad, now, err, sizeof(err)), -1);
	ck_assert_uint_eq(napt_get_config(n)->n_statics, 0);
}
END_TEST

/* ---- per-host limits (RFC 6888 REQ-4) ---- */

START_TEST(session_limit_refuses_new_outbound_flows)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), b = udp(HOST1, 5001, REM, 53);
	struct pb_spec more[4] = {udp(HOST1, 5002, REM, 53), udp(HOST1, 5000, REM2, 53),
				  pb_flow(IPPROTO_TCP, HOST1, 40000, REM, 80),
				  pb_flow(IPPROTO_ICMP, HOST1, 77, REM, 0)};
	struct pb_spec other = udp(HOST2, 6000, REM, 53);

	start("max-sessions-per-host 2\n");
	leaves_from(&a, EXT);
	leaves_from(&b, EXT);
	/* A new mapping, a new remote on the existing EIM mapping, TCP, ICMP: all new flows. */
	for (unsigned i = 0; i < 4; i++)
		refused(&more[i], NAPT_DROP_HOST_SESSIONS);
	ck_assert_uint_eq(counters()->last_limited_host, pb_addr(HOST1));
	leaves_from(&a, EXT);
	reply_passes(&b, EXT);
	leaves_from(&other, EXT);
	ck_assert_uint_eq(counters()->dropped[NAPT_DROP_HOST_SESSIONS], 4);
	ck_assert_uint_eq(counters()->last_limited_host, pb_addr(HOST1));
	ck_assert_uint_eq(counters()->sessions_current, 3);
}
END_TEST

START_TEST(port_limit_refuses_new_ports_only)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), b = udp(HOST1, 5001, REM, 53);
	struct pb_spec c = udp(HOST1, 5002, REM, 53),
		       t = pb_flow(IPPROTO_TCP, HOST1, 40000, REM, 80);
	struct pb_spec same_port = udp(HOST1, 5000, REM2, 53), other = udp(HOST2, 6000, REM, 53);

	start("ports-per-host 2\n");
	leaves_from(&a, EXT);
	leaves_from(&b, EXT);
	refused(&c, NAPT_DROP_HOST_PORTS);
	refused(&t, NAPT_DROP_HOST_PORTS); /* ports of every protocol count */
	ck_assert_uint_eq(counters()->last_limited_host, pb_addr(HOST1));
	leaves_from(&same_port, EXT); /* the EIM mapping needs no new port */
	leaves_from(&other, EXT);
	ck_assert_uint_eq(counters()->dropped[NAPT_DROP_HOST_PORTS], 2);
	ck_assert_uint_eq(counters()->mappings_current, 3);
}
END_TEST

START_TEST(limit_frees_up_on_expiry_and_flush)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), b = udp(HOST1, 5001, REM, 53);
	struct pb_spec c = udp(HOST1, 5002, REM, 53);

	start("max-sessions-per-host 1\nports-per-host 1\n");
	leaves_from(&a, EXT);
	refused(&b, NAPT_DROP_HOST_SESSIONS);
	now += 301 * 1000; /* past the UDP timeout of 300 s */
	napt_expire(n, now);
	leaves_from(&b, EXT);
	refused(&a, NAPT_DROP_HOST_SESSIONS);
	napt_flush(n);
	/* A new port (5000 and 5001 rest after their mappings' ends, behaviour.md 15). */
	leaves_from(&c, EXT);
}
END_TEST

/* Sessions of every origin count; only outbound flows are refused. */
START_TEST(inbound_sessions_count_but_pass)
{
	struct pb_spec f1 = udp(REM, 3333, EXT, 6000), f2 = udp(REM2, 3334, EXT, 6000);
	struct pb_spec d1 = udp(REM, 4000, EXT, 8000), d2 = udp(REM2, 4001, EXT, 8001);
	struct pb_spec w;

	start("max-sessions-per-host 1\nforward udp 6000 " HOST1 ":7000\ndmz " HOST2 "\n");
	w = moved(f1, NULL, HOST1, 3333);
	w.dport = 7000;
	passes(&f1, NAPT_DIR_IN, &w);
	w = moved(f2, NULL, HOST1, 3334);
	w.dport = 7000;
	passes(&f2, NAPT_DIR_IN, &w);
	w = moved(d1, NULL, HOST2, 4000);
	passes(&d1, NAPT_DIR_IN, &w);
	w = moved(d2, NULL, HOST2, 4001);
	passes(&d2, NAPT_DIR_IN, &w);
	w = udp(HOST1, 5000, REM, 53);
	refused(&w, NAPT_DROP_HOST_SESSIONS);
	w = udp(HOST2, 5000, REM, 53);
	refused(&w, NAPT_DROP_HOST_SESSIONS);
	/* The forwarded flow still answers. */
	w = udp(HOST1, 7000, REM, 3333);
	feed(&w);
	ck_assert_uint_eq(buf_sport(), 6000);
	ck_assert_uint_eq(counters()->sessions_current, 4);
}
END_TEST

/* napt_reconfigure turns limits on (counting what the table already holds) and off. */
static void set_limits(uint32_t sessions, uint32_t ports)
{
	struct napt_config c = *napt_get_config(n);

	c.max_sessions_per_host = sessions;
	c.ports_per_host = ports;
	ck_assert_msg(napt_reconfigure(n, &c, now, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(reconfigure_switches_limits_with_flows_present)
{
	struct pb_spec s;

	start("");
	for (uint16_t p = 5000; p < 5003; p++) {
		s = udp(HOST1, p, REM, 53);
		leaves_from(&s, EXT);
	}
	s = udp(HOST2, 6000, REM, 53);
	leaves_from(&s, EXT);
	set_limits(3, 0);
	s = udp(HOST1, 5003, REM, 53);
	refused(&s, NAPT_DROP_HOST_SESSIONS);
	s = udp(HOST2, 6001, REM, 53);
	leaves_from(&s, EXT);
	set_limits(0, 0);
	s = udp(HOST1, 5003, REM, 53);
	leaves_from(&s, EXT);
	set_limits(5, 0);
	s = udp(HOST1, 5004, REM, 53);
	leaves_from(&s, EXT);
	s = udp(HOST1, 5005, REM, 53);
	refused(&s, NAPT_DROP_HOST_SESSIONS);
	/* HOST1 now holds 5 ports (5000-5004). */
	set_limits(0, 5);
	refused(&s, NAPT_DROP_HOST_PORTS);
	s = udp(HOST1, 5000, REM2, 53);
	leaves_from(&s, EXT);
	s = udp(HOST2, 6002, REM, 53);
	leaves_from(&s, EXT);
}
END_TEST

/* ---- port parity (RFC 4787 REQ-4) ---- */

START_TEST(parity_follows_the_inside_port)
{
	struct pb_spec s = udp(HOST1, 50011, REM, 53);

	seed = (uint64_t)_i;
	start("port-range 50000-50099\nport-parity yes\n");
	leaves_from(&s, EXT); /* preserved when free and in range */
	for (uint16_t i = 0; i < 60; i++) {
		uint16_t ext;

		s = udp(HOST1, (uint16_t)(2000 + 7 * i), REM, 53);
		ck_assert_int_eq(feed(&s).verdict, NAPT_FORWARD);
		ext = buf_sport();
		ck_assert_uint_ge(ext, 50000);
		ck_assert_uint_le(ext, 50099);
		ck_assert_msg(ext % 2 == s.sport % 2, "inside port %u got %u", s.sport, ext);
	}
}
END_TEST

START_TEST(no_port_of_its_parity_left_drops)
{
	struct pb_spec odd = udp(HOST1, 5001, REM, 53), odd2 = udp(HOST1, 5003, REM, 53);
	struct pb_spec even = udp(HOST1, 5002, REM, 53);

	start(_i ? "port-range 50000-50001\nport-parity yes\n" : "port-range 50000-50001\n");
	ck_assert_int_eq(feed(&odd).verdict, NAPT_FORWARD);
	if (!_i) {
		/* Without parity (the control) the other port serves any inside port. */
		ck_assert_int_eq(feed(&odd2).verdict, NAPT_FORWARD);
		return;
	}
	ck_assert_uint_eq(buf_sport(), 50001);
	refused(&odd2, NAPT_DROP_PORTS_EXHAUSTED);
	ck_assert_int_eq(feed(&even).verdict, NAPT_FORWARD);
	ck_assert_uint_eq(buf_sport(), 50000);
}
END_TEST

/* ---- answers to unsolicited SYNs ---- */

/* The reset RFC 793 section 3.4 gives for a segment without ACK, from the NAT itself (TTL 64,
 * DF, ID 0): <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, window 0. */
static size_t expected_rst(const struct pb_spec *syn, const uint8_t *sent)
{
	size_t ihl = (size_t)(sent[0] & 0x0f) * 4;
	uint32_t ack = get32(sent + ihl + 4) + 1 + syn->payload_len;
	struct pb_spec r = {.proto = IPPROTO_TCP,
			    .src = syn->dst,
			    .dst = syn->src,
			    .sport = syn->dport,
			    .dport = syn->sport,
			    .tcp_flags = TCP_RST | TCP_ACK,
			    .frag = 0x4000,
			    .ttl = 64};
	size_t len = pb_build(want, &r);

	memset(want + IPV4_MIN_HDR + 4, 0, 4);
	put16(want + IPV4_MIN_HDR + 8, (uint16_t)(ack >> 16));
	put16(want + IPV4_MIN_HDR + 10, (uint16_t)ack);
	put16(want + IPV4_MIN_HDR + 14, 0);
	pb_fix_l4_csum(want);
	return len;
}

/* RFC 792 port unreachable quoting the SYN's IP header and first 64 data bits. */
static size_t expected_unreachable(const struct pb_spec *syn, const uint8_t *sent)
{
	struct pb_spec e = error_about(REM, REM, ICMP_UNREACH, sent, (sent[0] & 0x0f) * 4u + 8);

	e.src = syn->dst;
	e.dst = syn->src;
	e.frag = 0x4000;
	e.ttl = 64;
	return pb_build(want, &e);
}

/* The answers that came due by `at` (napt_expire), taken into buf one by one: how many. */
static unsigned answers_due(uint64_t at, size_t cap)
{
	unsigned count = 0;

	napt_expire(n, at);
	while ((buf_len = napt_next_released(n, buf, cap)) > 0)
		count++;
	return count;
}

/* s is dropped (reason why) and answered no sooner than 6 s later (RFC 5382 REQ-4), with
 * what `expected` builds into want. */
static void answered(const struct pb_spec *s, enum napt_drop_reason why,
		     size_t (*expected)(const struct pb_spec *, const uint8_t *))
{
	uint8_t sent[PB_MAX];
	uint64_t before = counters()->dropped[why];
	struct napt_result r;

	pb_build(sent, s);
	r = feed(s);
	ck_assert_msg(r.verdict == NAPT_DROP, "verdict %d (%s)", r.verdict,
		      napt_drop_reason_name(r.reason));
	ck_assert_int_eq(r.reason, why);
	ck_assert_int_eq(r.dir, NAPT_DIR_IN);
	ck_assert_uint_eq(counters()->dropped[why], before + 1);
	ck_assert_uint_eq(answers_due(now + 5999, sizeof(buf)), 0);
	napt_expire(n, now + 6000);
	buf_len = napt_next_released(n, buf, sizeof(buf));
	holds(expected(s, sent));
	ck_assert_uint_eq(napt_next_released(n, buf, sizeof(buf)), 0);
}

/* _i: bit 0 picks a SYN with IP options and data, bit 1 the ICMP answer over the RST. */
START_TEST(unsolicited_syn_answered)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 4444, EXT, 80);

	syn.payload_len = _i & 1 ? 20 : 0;
	syn.opt_len = _i & 1 ? 8 : 0;
	start(_i & 2 ? "unsolicited-syn icmp\n" : "unsolicited-syn rst\n");
	answered(&syn, NAPT_DROP_NO_MAPPING, _i & 2 ? expected_unreachable : expected_rst);
	ck_assert_uint_eq(counters()->replies_sent, 1);
	ck_assert_uint_eq(counters()->sessions_current, 0);
	ck_assert_uint_eq(counters()->mappings_current, 0);
}
END_TEST

/* The ICMP answer (56 bytes) waits until it is taken into a buffer that holds it. */
START_TEST(icmp_answer_needs_room)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 4444, EXT, 80);
	size_t need = IPV4_MIN_HDR + ICMP_HDR + IPV4_MIN_HDR + 8;

	syn.payload_len = 0;
	start("unsolicited-syn icmp\n");
	refused(&syn, NAPT_DROP_NO_MAPPING);
	ck_assert_uint_eq(answers_due(now + 6000, need - 1), 0);
	ck_assert_uint_eq(answers_due(now + 6000, need), 1);
	ck_assert_uint_eq(counters()->replies_sent, 1);
}
END_TEST

START_TEST(filtered_syn_answered_session_kept)
{
	struct pb_spec out = pb_flow(IPPROTO_TCP, HOST1, 40000, REM, 80);
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM2, 5555, EXT, 40000);

	start("unsolicited-syn rst\n");
	leaves_from(&out, EXT);
	answered(&syn, NAPT_DROP_FILTERED, expected_rst);
	ck_assert_uint_eq(counters()->sessions_current, 1);
	reply_passes(&out, EXT);
}
END_TEST

START_TEST(only_bare_syns_are_answered)
{
	const uint8_t flags[] = {TCP_ACK, TCP_SYN | TCP_ACK, TCP_RST, TCP_SYN | TCP_RST, TCP_FIN};
	struct pb_spec s;

	start("unsolicited-syn rst\nforward tcp 8080 " HOST2 ":80\n");
	for (unsigned i = 0; i < sizeof(flags); i++) {
		s = pb_flow(IPPROTO_TCP, REM, (uint16_t)(4000 + i), EXT, 80);
		s.tcp_flags = flags[i];
		refused(&s, NAPT_DROP_NO_MAPPING);
	}
	s = udp(REM, 4000, EXT, 80);
	refused(&s, NAPT_DROP_NO_MAPPING);
	s = pb_flow(IPPROTO_ICMP, REM, 9, EXT, 0);
	refused(&s, NAPT_DROP_NO_MAPPING);
	/* A SYN that a forward takes is translated, not answered. */
	s = pb_flow(IPPROTO_TCP, REM, 4100, EXT, 8080);
	ck_assert_int_eq(feed(&s).verdict, NAPT_FORWARD);
	ck_assert_uint_eq(counters()->replies_sent, 0);
}
END_TEST

START_TEST(drop_mode_answers_nothing)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM, 4444, EXT, 80);

	start("");
	refused(&syn, NAPT_DROP_NO_MAPPING);
	ck_assert_uint_eq(counters()->replies_sent, 0);
}
END_TEST

/* At most 100 answers a second: of 101 SYNs (from as many sources) within 0.9 s, whose
 * answers come due together 6 s later, the 101st is dropped and counted. */
START_TEST(answers_rate_limited)
{
	struct pb_spec syn;
	char rem[32];

	start("unsolicited-syn rst\n");
	for (unsigned i = 0; i < 101; i++) {
		snprintf(rem, sizeof(rem), "198.51.100.%u", 100 + i);
		syn = pb_flow(IPPROTO_TCP, rem, (uint16_t)(10000 + i), EXT, 80);
		now = T0 + i * 9; /* 0 .. 900 ms */
		refused(&syn, NAPT_DROP_NO_MAPPING);
	}
	ck_assert_uint_eq(answers_due(T0 + 6900, sizeof(buf)), 100);
	ck_assert_uint_eq(counters()->replies_sent, 100);
	ck_assert_uint_eq(counters()->replies_limited, 1);
	ck_assert_uint_eq(counters()->dropped[NAPT_DROP_NO_MAPPING], 101);
	now = T0 + 8000;
	answered(&syn, NAPT_DROP_NO_MAPPING, expected_rst);
	ck_assert_uint_eq(counters()->replies_sent, 101);
}
END_TEST

/* RFC 5382 REQ-4: an outbound SYN of the same pair translated within the 6 s (the crossed
 * SYNs of a hole punch) cancels the answer: the inbound SYN was dropped silently, and made
 * no session. An outbound SYN to another port of the same remote host cancels nothing. */
START_TEST(outbound_syn_cancels_the_answer)
{
	struct pb_spec early = pb_flow(IPPROTO_TCP, REM, 5555, EXT, 40000);
	struct pb_spec other = pb_flow(IPPROTO_TCP, REM, 5556, EXT, 40001);
	struct pb_spec out = pb_flow(IPPROTO_TCP, HOST1, 40000, REM, 5555);
	struct pb_spec out2 = pb_flow(IPPROTO_TCP, HOST1, 40001, REM, 6000);

	start("unsolicited-syn rst\n");
	refused(&early, NAPT_DROP_NO_MAPPING);
	refused(&other, NAPT_DROP_NO_MAPPING);
	ck_assert_uint_eq(counters()->sessions_current, 0);
	now += 3000;
	leaves_from(&out, EXT);
	leaves_from(&out2, EXT);
	ck_assert_uint_eq(counters()->replies_cancelled, 1);
	ck_assert_uint_eq(answers_due(now + 3000, sizeof(buf)), 1); /* other's RST */
	ck_assert_uint_eq(counters()->replies_sent, 1);
	ck_assert_uint_eq(counters()->sessions_current, 2);
	/* The remote's SYN, retransmitted, now meets the session: simultaneous open. */
	early.payload_len = 0;
	ck_assert_int_eq(feed(&early).verdict, NAPT_FORWARD);
}
END_TEST

/* The queue is bounded and fair: one source holds at most 4 places (its fifth SYN gets no
 * answer, counted limited) while another still gets one; 128 places in all. */
START_TEST(answer_queue_fair_and_bounded)
{
	struct pb_spec syn;
	char rem[32];
	unsigned queued = 0;

	start("unsolicited-syn rst\n");
	for (unsigned i = 0; i < 5; i++) {
		syn = pb_flow(IPPROTO_TCP, REM, (uint16_t)(1000 + i), EXT, 80);
		refused(&syn, NAPT_DROP_NO_MAPPING);
	}
	ck_assert_uint_eq(counters()->replies_limited, 1);
	for (unsigned i = 0; i < 130; i++) {
		snprintf(rem, sizeof(rem), "198.51.%u.%u", 101 + i / 100, 1 + i % 100);
		syn = pb_flow(IPPROTO_TCP, rem, 2000, EXT, 80);
		refused(&syn, NAPT_DROP_NO_MAPPING);
	}
	ck_assert_uint_eq(counters()->replies_limited, 1 + 4 + 130 - 128);
	/* 128 due within a second: the rate limit lets 100 go. */
	queued = answers_due(now + 6000, sizeof(buf));
	ck_assert_uint_eq(queued, 100);
}
END_TEST

/* An inside host's SYN to an unused port of the external address is hairpinned: its inbound
 * half finds nothing. An answer, if any, must reach the sender (RST from EXT:80 to
 * HOST1:40000), not the NAT's own address, which the next pass would drop as spoofed. */
/* An inside host's SYN to an unused port of the external address is hairpinned: an answer
 * built from its inbound half would go to our own external address, so none is sent
 * (behaviour.md section 11); the SYN is dropped like any unsolicited one. */
START_TEST(hairpinned_syn_is_not_answered)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, HOST1, 40000, EXT, 80);
	struct napt_result r;

	start("unsolicited-syn rst\n");
	r = feed(&syn);
	ck_assert_int_eq(r.verdict, NAPT_DROP);
	ck_assert_int_eq(r.reason, NAPT_DROP_NO_MAPPING);
	ck_assert_uint_eq(counters()->replies_sent, 0);
	ck_assert_uint_eq(counters()->dropped[NAPT_DROP_NO_MAPPING], 1);
}
END_TEST

/* ---- napt_external_replace ---- */

START_TEST(replace_moves_new_flows_to_the_new_address)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), r;

	start("");
	leaves_from(&a, EXT);
	ck_assert_int_eq(napt_external_replace(n, pb_addr(EXT), pb_addr(NEW_EXT)), 0);
	ck_assert_uint_eq(napt_get_config(n)->external[0], pb_addr(NEW_EXT));
	ck_assert_uint_eq(counters()->mappings_current, 0);
	ck_assert_uint_eq(counters()->sessions_current, 0);
	/* The old address is no longer ours; the old mapping did not move. */
	r = udp(REM, 53, EXT, 5000);
	refused(&r, NAPT_DROP_NOT_NAT);
	r = udp(REM, 53, NEW_EXT, 5000);
	refused(&r, NAPT_DROP_NO_MAPPING);
	leaves_from(&a, NEW_EXT);
	reply_passes(&a, NEW_EXT);
	r = udp(NEW_EXT, 53, REM, 5000);
	refused(&r, NAPT_DROP_SPOOFED);
}
END_TEST

START_TEST(replace_leaves_other_addresses_alone)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), b = udp(HOST2, 5000, REM, 53);

	start("external " EXT2 "\n");
	leaves_from(&a, EXT);
	leaves_from(&b, EXT2);
	ck_assert_int_eq(napt_external_replace(n, pb_addr(EXT2), pb_addr(NEW_EXT)), 0);
	reply_passes(&a, EXT);
	ck_assert_uint_eq(counters()->mappings_current, 1);
	leaves_from(&b, NEW_EXT);
}
END_TEST

START_TEST(replace_refusals_change_nothing)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53);
	const struct {
		const char *old_addr, *new_addr;
	} bad[] = {
	    {EXT, "192.168.1.99"},     /* inside */
	    {EXT, EXT2},               /* already external */
	    {EXT, EXT},                /* the same: already external */
	    {EXT, S_EXT},              /* a static's external address */
	    {NEW_EXT, "203.0.113.50"}, /* old is not external */
	    {EXT, "0.0.0.0"},
	};

	start("external " EXT2 "\nstatic " S_IN " " S_EXT "\n");
	leaves_from(&a, EXT);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(napt_external_replace(n, pb_addr(bad[i].old_addr),
						    pb_addr(bad[i].new_addr)) == -1,
			      "%s -> %s accepted", bad[i].old_addr, bad[i].new_addr);
		ck_assert_uint_eq(napt_get_config(n)->external[0], pb_addr(EXT));
		ck_assert_uint_eq(napt_get_config(n)->external[1], pb_addr(EXT2));
	}
	reply_passes(&a, EXT);
	ck_assert_uint_eq(counters()->mappings_current, 1);
}
END_TEST

/* The ports of removed mappings no longer count against their host. */
START_TEST(replace_releases_host_ports)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), b = udp(HOST1, 5001, REM, 53);

	start("ports-per-host 1\n");
	leaves_from(&a, EXT);
	refused(&b, NAPT_DROP_HOST_PORTS);
	ck_assert_int_eq(napt_external_replace(n, pb_addr(EXT), pb_addr(NEW_EXT)), 0);
	leaves_from(&b, NEW_EXT);
}
END_TEST

/* napt_port_mapped finds a mapping by its external port, as NAT-PMP/PCP probe ports with it
 * (a lookup per external address, not a walk), and a forward on a dynamic mapping's port ends
 * that mapping (rfc-checklist F.53), found by lookup too for a narrow forward. */
START_TEST(port_mapped_and_forward_takes_the_port)
{
	struct pb_spec s = udp(HOST1, 40000, REM, 53),
		       t = pb_flow(IPPROTO_TCP, HOST1, 40001, REM, 80);
	struct napt_forward f = {.protos = NAPT_FWD_UDP,
				 .ext_lo = 40000,
				 .ext_hi = 40000,
				 .in_addr = pb_addr(HOST2),
				 .in_lo = 53};
	start("external " EXT2 "\n");
	ck_assert(!napt_port_mapped(n, IPPROTO_UDP, 40000));
	leaves_from(&s, EXT);
	leaves_from(&t, EXT);
	ck_assert(napt_port_mapped(n, IPPROTO_UDP, 40000));
	ck_assert(!napt_port_mapped(n, IPPROTO_TCP, 40000));
	ck_assert(!napt_port_mapped(n, IPPROTO_UDP, 40001));
	ck_assert(napt_port_mapped(n, IPPROTO_TCP, 40001));
	ck_assert_uint_eq(counters()->mappings_current, 2);
	ck_assert_int_eq(napt_forward_add(n, &f, err, sizeof(err)), 0);
	ck_assert(!napt_port_mapped(n, IPPROTO_UDP, 40000));
	ck_assert(napt_port_mapped(n, IPPROTO_TCP, 40001));
	ck_assert_uint_eq(counters()->mappings_current, 1);
}
END_TEST

/* ---- port rest (RFC 6888 REQ-8) ---- */

/* The only port of the range is released by expiry at `released`; a new mapping may take
 * it no sooner than port-rest seconds later (and, with picks coming, before twice that). */
START_TEST(released_port_rests_before_reuse)
{
	struct pb_spec a = udp(HOST1, 50000, REM, 53), b = udp(HOST2, 50000, REM, 53);
	uint64_t released;

	start("port-range 50000-50000\n");
	leaves_from(&a, EXT);
	now += 301 * 1000; /* past the UDP timeout */
	napt_expire(n, now);
	ck_assert_uint_eq(counters()->mappings_current, 0);
	released = now;
	refused(&b, NAPT_DROP_PORTS_EXHAUSTED);
	now = released + 119 * 1000;
	refused(&b, NAPT_DROP_PORTS_EXHAUSTED);
	refused(&a, NAPT_DROP_PORTS_EXHAUSTED); /* the same host too: a new mapping */
	now = released + 241 * 1000;
	leaves_from(&b, EXT);
}
END_TEST

START_TEST(port_rest_zero_reuses_at_once)
{
	struct pb_spec a = udp(HOST1, 50000, REM, 53), b = udp(HOST2, 50000, REM, 53);

	start("port-range 50000-50000\nport-rest 0\n");
	leaves_from(&a, EXT);
	now += 301 * 1000;
	napt_expire(n, now);
	leaves_from(&b, EXT);
}
END_TEST

/* A PCP PEER request (RFC 6887 section 12) whose new mapping is not on the suggested port is
 * refused and changes nothing (section 7.3): the session and mapping made for it go as any
 * removal does (counted), and the port, which no packet and no answer ever showed outside,
 * does not rest: refused requests cannot rest ports beyond the host's own port limit. A
 * mapping that carried a packet still rests when its last session goes. */
START_TEST(refused_peer_leaves_no_resting_port)
{
	struct napt_peer_request q = {.proto = IPPROTO_UDP,
				      .in_addr = pb_addr(HOST1),
				      .in_port = 50000,
				      .rem_addr = pb_addr(REM),
				      .rem_port = 3478,
				      .want_port = 50001};
	struct napt_peer_grant g;
	struct pb_spec b = udp(HOST2, 50000, REM, 53);

	start("port-range 50000-50000\n");
	ck_assert_int_eq(napt_peer(n, &q, now, &g), 1);
	ck_assert_uint_eq(counters()->sessions_created, 1);
	ck_assert_uint_eq(counters()->sessions_removed, 1);
	ck_assert_uint_eq(counters()->mappings_current, 0);
	leaves_from(&b, EXT); /* the only port, at once */
	now += 301 * 1000;
	napt_expire(n, now);
	q.want_port = 0;
	ck_assert_int_eq(napt_peer(n, &q, now, &g), -1); /* b's port rests */
	ck_assert_str_eq(napt_drop_reason_name(g.why), "ports-exhausted");
}
END_TEST

/* A resting port of one address does not hold back the others, nor other protocols. */
START_TEST(rest_is_per_address_and_protocol)
{
	struct pb_spec a = udp(HOST1, 50000, REM, 53),
		       t = pb_flow(IPPROTO_TCP, HOST1, 50000, REM, 80);
	struct pb_spec b = udp(HOST2, 50000, REM, 53);

	t.tcp_flags = TCP_SYN;
	start("port-range 50000-50000\nexternal " EXT2 "\n");
	leaves_from(&a, EXT);
	now += 301 * 1000;
	napt_expire(n, now);
	leaves_from(&t, EXT);  /* TCP's port 50000 never rested */
	leaves_from(&b, EXT2); /* HOST2's own address */
	refused(&a, NAPT_DROP_PORTS_EXHAUSTED);
}
END_TEST

/* ---- deterministic NAT (RFC 7422) ---- */

/* 192.168.1.0/28: 16 hosts on 198.51.100.0/30 (4 addresses), 100 ports each in 2000-2999,
 * so 10 hosts per address: host k gets 198.51.100.(k / 10), ports 2000 + (k % 10) * 100 ..
 * + 99, and inside port p starts at 2000 + (k % 10) * 100 + p % 100. */
#define DET                                                                                        \
	"port-range 2000-2999\ndeterministic 192.168.1.0/28 198.51.100.0/30\n"                     \
	"deterministic-ports 100\n"

START_TEST(det_flows_get_the_formula_endpoint)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), b = udp(HOST1, 5042, REM, 53);
	struct pb_spec c = udp(HOST2, 5000, REM, 53), d = udp("192.168.1.3", 7, REM, 53);

	start(DET);
	leaves_as(&a, "198.51.100.1", 2000); /* k = 10 */
	leaves_as(&b, "198.51.100.1", 2042);
	leaves_as(&c, "198.51.100.1", 2100); /* k = 11 */
	leaves_as(&d, "198.51.100.0", 2307); /* k = 3 */
	reply_via(&c, "198.51.100.1", 2100);
	reply_via(&d, "198.51.100.0", 2307);
	ck_assert_uint_eq(counters()->det_collisions, 0);
}
END_TEST

/* Two inside ports with the same formula port: the second takes the next free port of the
 * range, counted; the range wraps at its end and never reaches the next host's. */
START_TEST(det_collision_takes_next_free_port)
{
	struct pb_spec a = udp(HOST1, 5000, REM, 53), b = udp(HOST1, 5100, REM, 53);
	struct pb_spec c = udp(HOST1, 5001, REM, 53), e = udp(HOST1, 5099, REM, 53);
	struct pb_spec f = udp(HOST1, 5199, REM, 53);

	start(DET);
	leaves_as(&a, "198.51.100.1", 2000);
	leaves_as(&b, "198.51.100.1", 2001);
	leaves_as(&c, "198.51.100.1", 2002);
	leaves_as(&e, "198.51.100.1", 2099);
	leaves_as(&f, "198.51.100.1", 2003); /* 2099 held: wraps to the range's start */
	ck_assert_uint_eq(counters()->det_collisions, 3);
	reply_via(&b, "198.51.100.1", 2001);
}
END_TEST

/* Two nodes (different seeds, so different random choices) give the same flows the same
 * external endpoints. */
START_TEST(det_two_nodes_agree)
{
	struct pb_spec s[3] = {udp(HOST1, 5000, REM, 53), udp(HOST2, 6000, REM, 53),
			       pb_flow(IPPROTO_TCP, "192.168.1.15", 40000, REM, 80)};
	uint16_t first[3];

	s[2].tcp_flags = TCP_SYN;
	for (int node = 0; node < 2; node++) {
		seed = node ? 99 : 11;
		start(DET);
		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(feed(&s[i]).verdict, NAPT_FORWARD);
			if (node)
				ck_assert_uint_eq(buf_sport(), first[i]);
			first[i] = buf_sport();
		}
		napt_destroy(n);
		n = NULL;
	}
	ck_assert_uint_eq(first[2], 2000 + 5 * 100 + 40000 % 100);
}
END_TEST

/* Hosts outside the prefix keep the pool's other addresses; deterministic ports do not
 * rest (the range is the host's alone, RFC 6888 REQ-8 exception). */
START_TEST(det_and_dynamic_hosts_apart)
{
	struct pb_spec a = udp("192.168.1.20", 2500, REM, 53), d = udp(HOST1, 5000, REM, 53);
	struct pb_spec d2 = udp(HOST1, 6000, REM, 53);

	start(DET);
	leaves_from(&a, EXT);
	leaves_as(&d, "198.51.100.1", 2000);
	now += 301 * 1000;
	napt_expire(n, now);
	leaves_as(&d2, "198.51.100.1", 2000);
	ck_assert_uint_eq(counters()->det_collisions, 0);
}
END_TEST

static int first_state(const struct napt_session_info *si, void *ctx)
{
	*(const char **)ctx = si->state;
	return 1;
}

/* The state of the only session. */
static const char *session_state(void)
{
	const char *state = NULL;

	napt_walk_sessions(n, now, 0, UINT32_MAX, first_state, &state);
	return state;
}

/* A deterministic host's mid-stream segment opens an established session (as conntrack
 * picks flows up), on the formula's endpoint, so the flow goes on after a failover; the
 * answer passes. */
START_TEST(det_mid_stream_ack_picked_up)
{
	struct pb_spec a = pb_flow(IPPROTO_TCP, HOST1, 40000, REM, 443);

	a.tcp_flags = TCP_ACK;
	start(DET);
	leaves_as(&a, "198.51.100.1", 2000);
	ck_assert_str_eq(session_state(), "established");
	ck_assert_uint_eq(counters()->det_pickups, 1);
	reply_via(&a, "198.51.100.1", 2000);
	now += 7000 * 1000; /* within tcp-established (7440 s), past tcp-transitory */
	leaves_as(&a, "198.51.100.1", 2000);
	ck_assert_uint_eq(counters()->det_pickups, 1);
}
END_TEST

/* Until the remote answers, a picked-up session has the transitory timeout (RFC 5382 REQ-5,
 * 240 s; conntrack keeps an unanswered loose pickup short too): a stray or forged ACK holds
 * its port 4 minutes, not 2 hours. The first answer makes it established (7440 s). */
START_TEST(det_pickup_transitory_until_answered)
{
	struct pb_spec a = pb_flow(IPPROTO_TCP, HOST1, 40000, REM, 443);
	struct pb_spec back = pb_flow(IPPROTO_TCP, REM, 443, "198.51.100.1", 2000);

	a.tcp_flags = TCP_ACK;
	back.tcp_flags = TCP_ACK;
	start(DET);
	leaves_as(&a, "198.51.100.1", 2000);
	now += 241 * 1000; /* past tcp-transitory, nothing came back */
	refused(&back, NAPT_DROP_NO_MAPPING);
	ck_assert_uint_eq(counters()->sessions_current, 0);
	leaves_as(&a, "198.51.100.1", 2000); /* picked up again */
	now += 239 * 1000;
	reply_via(&a, "198.51.100.1", 2000);
	now += 7000 * 1000; /* within tcp-established, answered */
	leaves_as(&a, "198.51.100.1", 2000);
	ck_assert_uint_eq(counters()->det_pickups, 2);
}
END_TEST

/* A FIN picks up a closing flow; a RST, an inbound segment and any other host's segment
 * create nothing (the rule of case 18-tcp-no-session stands for them). */
START_TEST(det_pickup_limits)
{
	struct pb_spec fin = pb_flow(IPPROTO_TCP, HOST2, 40000, REM, 443);
	struct pb_spec rst = pb_flow(IPPROTO_TCP, HOST1, 40001, REM, 443);
	struct pb_spec other = pb_flow(IPPROTO_TCP, "192.168.1.20", 40000, REM, 443);
	struct pb_spec in = pb_flow(IPPROTO_TCP, REM, 443, "198.51.100.1", 2002);

	fin.tcp_flags = TCP_FIN | TCP_ACK;
	rst.tcp_flags = TCP_RST;
	other.tcp_flags = TCP_ACK;
	in.tcp_flags = TCP_ACK;
	start(DET);
	refused(&rst, NAPT_DROP_TCP_NO_SESSION);
	refused(&other, NAPT_DROP_TCP_NO_SESSION);
	refused(&in, NAPT_DROP_NO_MAPPING);
	ck_assert_uint_eq(counters()->sessions_created, 0);
	leaves_as(&fin, "198.51.100.1", 2100);
	ck_assert_str_eq(session_state(), "fin-wait");
}
END_TEST

START_TEST(det_needs_a_restart)
{
	struct napt_config other;

	start(DET);
	other = cfg;
	other.det.ports = 50;
	ck_assert_int_eq(napt_reconfigure(n, &other, now, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "changing deterministic NAT needs a restart");
	/* Its addresses are named by the formula: Easy IP may not renumber them. */
	ck_assert_int_eq(napt_external_replace(n, pb_addr("198.51.100.1"), pb_addr(NEW_EXT)), -1);
	ck_assert_int_eq(napt_external_replace(n, pb_addr(EXT), pb_addr(NEW_EXT)), 0);
}
END_TEST

/* ---- port blocks ---- */

/* port-block-size 16 in 5000-5063 (four blocks): 20 flows of one host take two blocks,
 * every port in them; a second host's flows take ports of neither. */
START_TEST(blocks_hold_a_hosts_ports)
{
	uint16_t block_of[64] = {0};

	start("port-range 5000-5063\nport-block-size 16\nport-preservation no\n");
	for (uint16_t i = 0; i < 20; i++) {
		struct pb_spec s = udp(HOST1, (uint16_t)(30000 + i), REM, 53);

		ck_assert_int_eq(feed(&s).verdict, NAPT_FORWARD);
		block_of[(buf_sport() - 5000) / 16] = 1;
	}
	ck_assert_uint_eq(counters()->port_blocks_allocated, 2);
	for (uint16_t i = 0; i < 10; i++) {
		struct pb_spec s = udp(HOST2, (uint16_t)(30000 + i), REM, 53);

		ck_assert_int_eq(feed(&s).verdict, NAPT_FORWARD);
		ck_assert_uint_eq(block_of[(buf_sport() - 5000) / 16], 0);
	}
	ck_assert_uint_eq(counters()->port_blocks_allocated, 3);
	now += 301 * 1000;
	napt_expire(n, now);
	ck_assert_uint_eq(counters()->port_blocks_released, 3);
	ck_assert_uint_eq(counters()->mappings_current, 0);
}
END_TEST

/* TCP and UDP mappings of one host share its block; the block goes back with the last. */
START_TEST(block_shared_by_protocols)
{
	struct pb_spec u = udp(HOST1, 5001, REM, 53),
		       t = pb_flow(IPPROTO_TCP, HOST1, 5002, REM, 80);

	t.tcp_flags = TCP_SYN;
	start("port-range 5000-5007\nport-block-size 4\ntimeout tcp-transitory 100\n");
	leaves_from(&u, EXT);
	leaves_from(&t, EXT);
	ck_assert_uint_eq(counters()->port_blocks_allocated, 1);
	now += 101 * 1000; /* the TCP session (transitory) goes, the UDP one stays */
	napt_expire(n, now);
	ck_assert_uint_eq(counters()->port_blocks_released, 0);
	now += 200 * 1000;
	napt_expire(n, now);
	ck_assert_uint_eq(counters()->port_blocks_released, 1);
}
END_TEST

START_TEST(block_size_needs_a_restart)
{
	struct napt_config other;

	start("port-block-size 64\n");
	other = cfg;
	other.port_block_size = 128;
	ck_assert_int_eq(napt_reconfigure(n, &other, now, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "changing port-block-size needs a restart");
	ck_assert_int_eq(napt_config_parse_text(&cfg,
						"inside 192.168.1.0/24\nexternal " EXT "\n"
						"port-range 5000-5007\nport-block-size 9\n",
						"t.conf", err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "t.conf: port-block-size 9 is larger than the port-range");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("features");
	TCase *st = tcase_create("static"), *cf = tcase_create("config");
	TCase *hl = tcase_create("host limits"), *pp = tcase_create("port parity");
	TCase *us = tcase_create("unsolicited syn"), *er = tcase_create("external replace");
	TCase *pr = tcase_create("port rest"), *dt = tcase_create("deterministic");
	TCase *pbl = tcase_create("port blocks");
	TCase *all[] = {st, cf, hl, pp, us, er, pr, dt, pbl};

	for (unsigned i = 0; i < 9; i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		suite_add_tcase(s, all[i]);
	}
	tcase_add_test(st, static_out_every_protocol_ports_kept);
	tcase_add_test(st, static_in_everything_reaches_the_host);
	tcase_add_test(st, static_icmp_errors_both_ways);
	tcase_add_test(st, static_external_as_source_is_spoofed);
	tcase_add_test(cf, config_new_keys);
	tcase_add_loop_test(cf, config_errors_name_their_line, 0,
			    (int)(sizeof(config_errors) / sizeof(config_errors[0])));
	tcase_add_test(cf, config_at_most_16_statics);
	tcase_add_test(cf, bad_static_refused_by_create_and_reconfigure);
	tcase_add_test(hl, session_limit_refuses_new_outbound_flows);
	tcase_add_test(hl, port_limit_refuses_new_ports_only);
	tcase_add_test(hl, limit_frees_up_on_expiry_and_flush);
	tcase_add_test(hl, inbound_sessions_count_but_pass);
	tcase_add_test(hl, reconfigure_switches_limits_with_flows_present);
	tcase_add_loop_test(pp, parity_follows_the_inside_port, 1, 6);
	tcase_add_loop_test(pp, no_port_of_its_parity_left_drops, 0, 2);
	tcase_add_loop_test(us, unsolicited_syn_answered, 0, 4);
	tcase_add_test(us, icmp_answer_needs_room);
	tcase_add_test(us, filtered_syn_answered_session_kept);
	tcase_add_test(us, only_bare_syns_are_answered);
	tcase_add_test(us, drop_mode_answers_nothing);
	tcase_add_test(us, answers_rate_limited);
	tcase_add_test(us, hairpinned_syn_is_not_answered);
	tcase_add_test(us, outbound_syn_cancels_the_answer);
	tcase_add_test(us, answer_queue_fair_and_bounded);
	tcase_add_test(er, replace_moves_new_flows_to_the_new_address);
	tcase_add_test(er, replace_leaves_other_addresses_alone);
	tcase_add_test(er, replace_refusals_change_nothing);
	tcase_add_test(er, replace_releases_host_ports);
	TCase *pm = tcase_create("ports by lookup");
	tcase_add_checked_fixture(pm, setup, teardown);
	suite_add_tcase(s, pm);
	tcase_add_test(pm, port_mapped_and_forward_takes_the_port);
	tcase_add_test(pr, released_port_rests_before_reuse);
	tcase_add_test(pr, port_rest_zero_reuses_at_once);
	tcase_add_test(pr, refused_peer_leaves_no_resting_port);
	tcase_add_test(pr, rest_is_per_address_and_protocol);
	tcase_add_test(dt, det_flows_get_the_formula_endpoint);
	tcase_add_test(dt, det_collision_takes_next_free_port);
	tcase_add_test(dt, det_two_nodes_agree);
	tcase_add_test(dt, det_and_dynamic_hosts_apart);
	tcase_add_test(dt, det_mid_stream_ack_picked_up);
	tcase_add_test(dt, det_pickup_limits);
	tcase_add_test(dt, det_pickup_transitory_until_answered);
	tcase_add_test(dt, det_needs_a_restart);
	tcase_add_test(pbl, blocks_hold_a_hosts_ports);
	tcase_add_test(pbl, block_shared_by_protocols);
	tcase_add_test(pbl, block_size_needs_a_restart);
	return unit_run(s);
}
