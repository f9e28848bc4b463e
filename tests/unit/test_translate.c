/* SPDX-License-Identifier: BSD-2-Clause */
/* test_translate.c - the engine through napt.h. Every translated packet is compared byte
 * for byte with one built from docs/behaviour.md by packet_builder.c, whose checksums are
 * full recomputations by the tests' own code: over thousands of random flows, and in
 * targeted cases (mapping, filtering, ports, forwards, DMZ, hairpin, timeouts, drops). */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ipv4_packet.h"
#include "napt.h"
#include "packet_builder.h"
#include "prng.h"
#include "unit_run.h"

#define EXT    "203.0.113.1"
#define EXT2   "203.0.113.2"
#define HOST1  PB_INSIDE_HOST /* 192.168.1.10: paired with EXT (even address) */
#define HOST2  "192.168.1.11"
#define SERVER "192.168.1.20"
#define DMZ    "192.168.1.30"
#define REM1   PB_REMOTE_HOST
#define REM2   "198.51.100.8"
#define ROUTER "198.51.100.254"
#define T0     1000000u

static struct napt_config cfg;
static struct napt *n;
static uint8_t pkt[PB_MAX], want[PB_MAX];
static size_t pkt_len;
static uint64_t now;
static char err[256];

static void conf(const char *line)
{
	ck_assert_msg(napt_config_parse_line(&cfg, line, err, sizeof(err)) == 0, "%s: %s", line,
		      err);
}

static void setup(void)
{
	napt_config_defaults(&cfg);
	conf("inside 192.168.0.0/16");
	conf("external " EXT);
	conf("max-sessions 256");
	n = NULL;
	now = T0;
}

static void teardown(void)
{
	napt_destroy(n);
}

static void start(void)
{
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
}

static const struct napt_counters *ctr(void)
{
	return napt_get_counters(n);
}

/* ---- packets ---- */

/* The answer of s's destination, sent to addr:port (SYN-ACK, echo reply). */
static struct pb_spec reply_to(const struct pb_spec *s, uint32_t addr, uint16_t port)
{
	struct pb_spec r = *s;

	r.src = s->dst;
	r.dst = addr;
	r.tcp_flags = TCP_SYN | TCP_ACK;
	if (s->proto == IPPROTO_ICMP) {
		r.icmp_type = ICMP_ECHO_REPLY;
		r.sport = port;
	} else {
		r.sport = s->dport;
		r.dport = port;
	}
	return r;
}

static struct pb_spec icmp_error(uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
				 const uint8_t *quote, size_t quote_len)
{
	return (struct pb_spec){.proto = IPPROTO_ICMP,
				.src = src,
				.dst = dst,
				.icmp_type = type,
				.icmp_code = code,
				.mtu = type == ICMP_UNREACH && code == 4 ? 1400 : 0,
				.quote = quote,
				.quote_len = quote_len};
}

static struct napt_result translate(const struct pb_spec *s)
{
	struct napt_packet p = {.data = pkt};

	p.len = pkt_len = pb_build(pkt, s);
	return napt_translate(n, &p, now);
}

/* ---- expectations ---- */

static void expect_forwarded(struct napt_result r, enum napt_dir d)
{
	ck_assert_msg(r.verdict == NAPT_FORWARD, "dropped (%s), expected forwarded %s",
		      napt_drop_reason_name(r.reason), napt_dir_name(d));
	ck_assert_str_eq(napt_dir_name(r.dir), napt_dir_name(d));
}

/* The packet in pkt must be w, byte for byte, and its checksums right. */
static void expect_packet(const struct pb_spec *w)
{
	const char *wrong = pb_checksums_wrong(pkt, pkt_len);
	size_t i = 0;

	ck_assert_msg(wrong == NULL, "translated packet: wrong %s", wrong);
	ck_assert_uint_eq(pb_build(want, w), pkt_len);
	while (i < pkt_len && pkt[i] == want[i])
		i++;
	ck_assert_msg(i == pkt_len, "byte %zu is 0x%02x, expected 0x%02x", i, pkt[i], want[i]);
}

static void expect_translated(const struct pb_spec *s, enum napt_dir d, const struct pb_spec *w)
{
	expect_forwarded(translate(s), d);
	expect_packet(w);
}

static void expect_drop(const struct pb_spec *s, enum napt_drop_reason why)
{
	struct napt_result r = translate(s);

	ck_assert_msg(r.verdict == NAPT_DROP && r.reason == why,
		      "verdict %d reason %s, expected a drop for %s", r.verdict,
		      napt_drop_reason_name(r.reason), napt_drop_reason_name(why));
}

/* The source port (ICMP: identifier) of the packet in pkt. */
static uint16_t pkt_sport(void)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	return get16(pkt + ihl + (pkt[9] == IPPROTO_ICMP ? ICMP_OFF_ID : L4_OFF_SPORT));
}

/* Send s outbound: it must leave from ext with nothing else changed but its source port,
 * which is returned. */
static uint16_t out_via(const struct pb_spec *s, const char *ext)
{
	struct pb_spec w = *s;

	expect_forwarded(translate(s), NAPT_DIR_OUT);
	w.src = pb_addr(ext);
	w.sport = pkt_sport();
	expect_packet(&w);
	return w.sport;
}

static uint16_t out(const struct pb_spec *s)
{
	return out_via(s, EXT);
}

/* The reply to s arriving at EXT:ext_port must reach s's source, unchanged otherwise. */
static void expect_reply_passes(const struct pb_spec *s, uint16_t ext_port)
{
	struct pb_spec r = reply_to(s, pb_addr(EXT), ext_port);
	struct pb_spec w = reply_to(s, s->src, s->sport);

	expect_translated(&r, NAPT_DIR_IN, &w);
}

static void expect_reply_dropped(const struct pb_spec *s, uint16_t ext_port,
				 enum napt_drop_reason why)
{
	struct pb_spec r = reply_to(s, pb_addr(EXT), ext_port);

	expect_drop(&r, why);
}

/* ---- sessions as napt_walk_sessions shows them ---- */

struct session_view {
	unsigned count;
	struct napt_session_info last;
};

static int note_session(const struct napt_session_info *s, void *ctx)
{
	struct session_view *v = ctx;

	v->count++;
	v->last = *s;
	return 0;
}

static struct session_view sessions(void)
{
	struct session_view v = {0};

	ck_assert_uint_eq(napt_walk_sessions(n, now, 0, UINT32_MAX, note_session, &v), 0);
	return v;
}

/* ---- random flows: the checksums of thousands of packets ---- */

/* The mappings the engine must have made (docs/behaviour.md section 3), kept apart from
 * the engine's own tables. */
struct model_mapping {
	uint8_t proto;
	uint32_t in_addr;
	uint16_t in_port;
	uint32_t ext_addr;
	uint16_t ext_port;
};

#define ROUNDS 3000

static struct model_mapping model[ROUNDS];
static unsigned n_model;
static uint8_t model_used[256][2][65536 / 8]; /* [proto][external index][port bit] */

static bool model_port_used(uint8_t proto, unsigned ext, uint16_t port)
{
	return model_used[proto][ext][port / 8] >> (port % 8) & 1;
}

/* Check the engine's choice of (ext_addr, ext_port) for s against the model, and record
 * it: EIM reuses a mapping; a new one takes the paired address and the inside port when
 * free and in range (port preservation), else a free port of the range. */
static void check_mapping(const struct pb_spec *s, uint32_t ext_addr, uint16_t ext_port)
{
	unsigned ext = ext_addr == pb_addr(EXT2);

	for (unsigned i = 0; i < n_model; i++) {
		const struct model_mapping *m = &model[i];

		if (m->proto == s->proto && m->in_addr == s->src && m->in_port == s->sport) {
			ck_assert_uint_eq(ext_addr, m->ext_addr);
			ck_assert_uint_eq(ext_port, m->ext_port);
			return;
		}
	}
	ck_assert_uint_eq(ext, ntohl(s->src) % 2);
	ck_assert(!model_port_used(s->proto, ext, ext_port));
	if (s->sport >= 1024 && !model_port_used(s->proto, ext, s->sport))
		ck_assert_uint_eq(ext_port, s->sport);
	else
		ck_assert_uint_ge(ext_port, 1024);
	model_used[s->proto][ext][ext_port / 8] |= (uint8_t)(1 << (ext_port % 8));
	model[n_model++] = (struct model_mapping){s->proto, s->src, s->sport, ext_addr, ext_port};
}

static const uint8_t random_protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};

/* Random header options, payload, IP ID, TTL, and UDP checksum 0 one time in four. */
static void randomize(struct prng *r, struct pb_spec *s)
{
	s->opt_len = prng_next(r) % 3 ? 0 : (uint8_t)(4 * (1 + prng_next(r) % 10));
	s->payload_len = (uint16_t)(prng_next(r) % 300);
	s->payload_seed = (uint8_t)prng_next(r);
	s->ip_id = (uint16_t)prng_next(r);
	s->ttl = (uint8_t)(1 + prng_next(r) % 255);
	s->udp_no_csum = prng_next(r) % 4 == 0;
}

static struct pb_spec random_flow(struct prng *r)
{
	char in[32], rem[32];
	struct pb_spec s;

	snprintf(in, sizeof(in), "192.168.%u.%u", (unsigned)(prng_next(r) % 4),
		 (unsigned)(1 + prng_next(r) % 250));
	snprintf(rem, sizeof(rem), "198.51.100.%u", (unsigned)(1 + prng_next(r) % 250));
	s = pb_flow(random_protos[prng_next(r) % 3], in, (uint16_t)(1 + prng_next(r) % 65535), rem,
		    (uint16_t)(1 + prng_next(r) % 65535));
	randomize(r, &s);
	return s;
}

/* An ICMP error (RFC 5508 section 4) quoting `quoted`, whole or its first IHL+8 bytes. */
static struct pb_spec random_error(struct prng *r, uint32_t src, uint32_t dst,
				   const uint8_t *quoted, size_t len)
{
	static const uint8_t kinds[][2] = {
	    {ICMP_UNREACH, 3}, {ICMP_UNREACH, 4}, {ICMP_TIME_EXCEED, 0}, {ICMP_PARAM_PROB, 0}};
	unsigned k = (unsigned)(prng_next(r) % 4);
	size_t cut = (size_t)(quoted[0] & 0x0f) * 4 + 8;
	struct pb_spec e =
	    icmp_error(src, dst, kinds[k][0], kinds[k][1], quoted, prng_next(r) % 2 ? len : cut);

	e.opt_len = prng_next(r) % 4 ? 0 : 8;
	e.ttl = (uint8_t)(1 + prng_next(r) % 255);
	return e;
}

/* One flow: out, the reply in, and sometimes ICMP errors about each. */
static void random_round(struct prng *r, unsigned round)
{
	static uint8_t orig_out[PB_MAX], sent_out[PB_MAX], orig_in[PB_MAX], sent_in[PB_MAX];
	struct pb_spec s = random_flow(r), rep, w;
	size_t out_len = pb_build(orig_out, &s), in_len;
	uint32_t ext_addr;
	uint16_t ext_port;

	expect_forwarded(translate(&s), NAPT_DIR_OUT);
	memcpy(&ext_addr, pkt + IP_OFF_SRC, 4);
	ext_port = pkt_sport();
	check_mapping(&s, ext_addr, ext_port);
	w = s;
	w.src = ext_addr;
	w.sport = ext_port;
	expect_packet(&w);
	memcpy(sent_out, pkt, pkt_len);

	rep = reply_to(&s, ext_addr, ext_port);
	randomize(r, &rep);
	in_len = pb_build(orig_in, &rep);
	w = rep;
	w.dst = s.src;
	if (s.proto == IPPROTO_ICMP)
		w.sport = s.sport;
	else
		w.dport = s.sport;
	expect_translated(&rep, NAPT_DIR_IN, &w);
	memcpy(sent_in, pkt, pkt_len);

	if (round % 4 == 1) {
		/* Inbound error about the packet that left: it must reach the inside host
		 * quoting the packet as the host sent it. */
		struct pb_spec e = random_error(r, pb_addr(ROUTER), ext_addr, sent_out, out_len);
		struct pb_spec we = e;

		we.dst = s.src;
		we.quote = orig_out;
		expect_translated(&e, NAPT_DIR_IN, &we);
	}
	if (round % 4 == 3) {
		/* Outbound error from the inside host about the reply it got. */
		struct pb_spec e = random_error(r, s.src, s.dst, sent_in, in_len);
		struct pb_spec we = e;

		we.src = ext_addr;
		we.quote = orig_in;
		expect_translated(&e, NAPT_DIR_OUT, &we);
	}
}

START_TEST(random_flows_match_full_recomputation)
{
	struct prng r;

	conf("external " EXT2);
	conf("max-sessions 4096");
	start();
	prng_seed(&r, 20240601);
	for (unsigned i = 0; i < ROUNDS; i++) {
		random_round(&r, i);
		now++;
	}
	ck_assert_uint_eq(ctr()->mappings_current, n_model);
	ck_assert_uint_eq(ctr()->icmp_errors_translated, ROUNDS / 2);
}
END_TEST

/* The remote port that makes the translated packet's transport checksum `value`. */
static uint16_t port_giving_checksum(struct pb_spec w, uint16_t value)
{
	size_t csum = w.proto == IPPROTO_TCP ? TCP_OFF_CSUM : UDP_OFF_CSUM;

	for (uint32_t p = 1; p <= 65535; p++) {
		w.dport = (uint16_t)p;
		pb_build(want, &w);
		if (get16(want + IPV4_MIN_HDR + csum) == value)
			return (uint16_t)p;
	}
	ck_abort_msg("no port gives checksum 0x%04x", value);
	return 0;
}

START_TEST(checksum_zero_edges)
{
	/* RFC 768: a UDP checksum computing to 0 is sent as 0xFFFF. A TCP checksum of 0 is
	 * what a full computation gives, never 0xFFFF (RFC 1624 section 3). */
	struct pb_spec u = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 0);
	struct pb_spec t = pb_flow(IPPROTO_TCP, HOST1, 5001, REM1, 0);
	struct pb_spec w;

	start();
	w = u;
	w.src = pb_addr(EXT);
	u.dport = port_giving_checksum(w, 0xffff);
	ck_assert_uint_eq(out(&u), 5000);
	w = t;
	w.src = pb_addr(EXT);
	t.dport = port_giving_checksum(w, 0x0000);
	ck_assert_uint_eq(out(&t), 5001);
}
END_TEST

/* ---- mapping and filtering (RFC 4787 sections 4 and 5) ---- */

START_TEST(eim_same_port_to_two_remotes)
{
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	struct pb_spec b = pb_flow(IPPROTO_UDP, HOST1, 5000, REM2, 53);

	start();
	ck_assert_uint_eq(out(&a), 5000);
	ck_assert_uint_eq(out(&b), 5000);
	ck_assert_uint_eq(ctr()->mappings_current, 1);
	ck_assert_uint_eq(ctr()->sessions_current, 2);
	expect_reply_passes(&a, 5000);
	expect_reply_passes(&b, 5000);
}
END_TEST

START_TEST(dependent_mappings_differ_per_remote)
{
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	struct pb_spec a2 = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 54);
	struct pb_spec b = pb_flow(IPPROTO_UDP, HOST1, 5000, REM2, 53);

	conf("mapping address-dependent");
	start();
	ck_assert_uint_eq(out(&a), 5000);
	ck_assert_uint_eq(out(&a2), 5000);
	ck_assert_uint_ne(out(&b), 5000);
	napt_destroy(n);
	conf("mapping address-and-port-dependent");
	start();
	ck_assert_uint_eq(out(&a), 5000);
	ck_assert_uint_ne(out(&a2), 5000);
}
END_TEST

static const char *const filterings[] = {"endpoint-independent", "address-dependent",
					 "address-and-port-dependent"};

START_TEST(filtering_matrix)
{
	/* Mapping from HOST1:5000 to REM1:1000. Who else may send to it? */
	struct pb_spec s = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 1000);
	struct pb_spec other_port = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 2000);
	struct pb_spec other_host = pb_flow(IPPROTO_UDP, HOST1, 5000, REM2, 1000);
	bool port_ok = _i != NAPT_ADDRESS_AND_PORT_DEPENDENT,
	     host_ok = _i == NAPT_ENDPOINT_INDEPENDENT;
	uint64_t before;

	snprintf(err, sizeof(err), "filtering %s", filterings[_i]);
	conf(err);
	start();
	ck_assert_uint_eq(out(&s), 5000);
	expect_reply_passes(&s, 5000);
	before = ctr()->sessions_current;
	if (port_ok)
		expect_reply_passes(&other_port, 5000);
	else
		expect_reply_dropped(&other_port, 5000, NAPT_DROP_FILTERED);
	if (host_ok)
		expect_reply_passes(&other_host, 5000);
	else
		expect_reply_dropped(&other_host, 5000, NAPT_DROP_FILTERED);
	/* An admitted packet makes a session of the mapping; a refused one nothing. */
	ck_assert_uint_eq(ctr()->sessions_current, before + port_ok + host_ok);
	ck_assert_uint_eq(ctr()->mappings_current, 1);
}
END_TEST

/* Eight UDP sessions that expire first, so that the few reaped per packet do not reach the
 * ones a test looks at: expired entries must count as gone before they are reaped. */
static void expired_backlog(void)
{
	struct pb_spec old;

	for (uint16_t i = 0; i < 8; i++) {
		old = pb_flow(IPPROTO_UDP, HOST2, (uint16_t)(7000 + i), REM2, 53);
		out(&old);
	}
	now++;
}

START_TEST(adf_ignores_expired_sessions)
{
	/* Sections 4 and 5: a session idle longer than its timeout is gone, so it cannot
	 * admit its remote address any more. */
	struct pb_spec s = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 1000);
	struct pb_spec keep = pb_flow(IPPROTO_UDP, HOST1, 5000, REM2, 53);
	struct pb_spec other_port = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 2000);

	conf("filtering address-dependent");
	conf("timeout udp 30");
	start();
	expired_backlog();
	out(&s);
	now += 20000;
	out(&keep); /* the mapping lives on through this session */
	now += 10001;
	expect_reply_dropped(&other_port, 5000, NAPT_DROP_FILTERED);
}
END_TEST

START_TEST(eif_mapping_gone_with_its_sessions)
{
	/* Section 5: a mapping lives as long as it has a session. */
	struct pb_spec s = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 1000);
	struct pb_spec other = pb_flow(IPPROTO_UDP, HOST1, 5000, REM2, 1000);

	conf("filtering endpoint-independent");
	conf("timeout udp 30");
	start();
	expired_backlog();
	out(&s);
	now += 30001;
	expect_reply_dropped(&other, 5000, NAPT_DROP_NO_MAPPING);
}
END_TEST

/* ---- ports (RFC 4787 REQ-3, RFC 6056) ---- */

START_TEST(port_preservation)
{
	struct pb_spec a = pb_flow(IPPROTO_TCP, HOST1, 40000, REM1, 80);
	struct pb_spec low = pb_flow(IPPROTO_TCP, HOST1, 80, REM1, 80);
	struct pb_spec ping = pb_flow(IPPROTO_ICMP, HOST1, 0x4242, REM1, 0);
	uint16_t p;

	start();
	ck_assert_uint_eq(out(&a), 40000);
	ck_assert_uint_eq(out(&ping), 0x4242);
	p = out(&low); /* below the port range: a port of the range */
	ck_assert_uint_ge(p, 1024);
	expect_reply_passes(&low, p);
	expect_reply_passes(&ping, 0x4242);
}
END_TEST

START_TEST(collision_gets_another_port_in_range)
{
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 20005, REM1, 53);
	struct pb_spec b = pb_flow(IPPROTO_UDP, HOST2, 20005, REM1, 53);
	uint16_t p;

	conf("port-range 20000-20010");
	start();
	ck_assert_uint_eq(out(&a), 20005);
	p = out(&b);
	ck_assert_uint_ne(p, 20005);
	ck_assert_uint_ge(p, 20000);
	ck_assert_uint_le(p, 20010);
	expect_reply_passes(&a, 20005);
	expect_reply_passes(&b, p);
}
END_TEST

START_TEST(exhaustion_drops)
{
	uint16_t seen[10];
	struct pb_spec s;

	conf("port-range 20000-20009");
	start();
	for (unsigned i = 0; i < 10; i++) {
		s = pb_flow(IPPROTO_UDP, HOST1, (uint16_t)(30000 + i), REM1, 53);
		seen[i] = out(&s);
		ck_assert_uint_ge(seen[i], 20000);
		ck_assert_uint_le(seen[i], 20009);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(seen[i], seen[j]);
	}
	s = pb_flow(IPPROTO_UDP, HOST1, 30010, REM1, 53);
	expect_drop(&s, NAPT_DROP_PORTS_EXHAUSTED);
	ck_assert_uint_eq(ctr()->dropped[NAPT_DROP_PORTS_EXHAUSTED], 1);
	ck_assert_uint_eq(ctr()->sessions_current, 10);
	/* Each protocol has its own ports. */
	s = pb_flow(IPPROTO_TCP, HOST1, 30010, REM1, 53);
	ck_assert_uint_ge(out(&s), 20000);
}
END_TEST

START_TEST(paired_address_full_moves_to_the_next)
{
	/* RFC 4787 REQ-2: HOST1 is paired with EXT; when EXT has no port left it gets EXT2. */
	struct pb_spec s;

	conf("external " EXT2);
	conf("port-range 20000-20001");
	start();
	for (uint16_t i = 0; i < 2; i++) {
		s = pb_flow(IPPROTO_UDP, HOST1, (uint16_t)(20000 + i), REM1, 53);
		ck_assert_uint_eq(out_via(&s, EXT), 20000 + i);
	}
	s = pb_flow(IPPROTO_UDP, HOST1, 20000, REM2, 53); /* EIM: the same mapping */
	out_via(&s, EXT);
	s = pb_flow(IPPROTO_UDP, HOST1, 30000, REM1, 53);
	out_via(&s, EXT2);
	s = pb_flow(IPPROTO_UDP, HOST2, 30000, REM1, 53); /* HOST2 is paired with EXT2 */
	out_via(&s, EXT2);
	s = pb_flow(IPPROTO_UDP, HOST2, 30001, REM1, 53);
	expect_drop(&s, NAPT_DROP_PORTS_EXHAUSTED);
}
END_TEST

START_TEST(successive_ports_not_sequential)
{
	/* RFC 6056 algorithm 1: each new mapping starts at a fresh random point. */
	uint16_t p[20];
	unsigned sequential = 0;
	struct pb_spec s;

	conf("port-preservation no");
	start();
	for (unsigned i = 0; i < 20; i++) {
		s = pb_flow(IPPROTO_UDP, HOST1, (uint16_t)(5000 + i), REM1, 53);
		p[i] = out(&s);
		if (i && p[i] == p[i - 1] + 1)
			sequential++;
	}
	ck_assert_uint_le(sequential, 2);
	ck_assert_uint_ne(p[0], 5000);
}
END_TEST

/* ---- forwards, DMZ, hairpin ---- */

START_TEST(forward_to_another_port)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM1, 40000, EXT, 8085);
	struct pb_spec w = pb_flow(IPPROTO_TCP, REM1, 40000, SERVER, 85);
	struct pb_spec back = reply_to(&w, pb_addr(REM1), 40000);
	struct pb_spec back_w = reply_to(&syn, pb_addr(REM1), 40000);
	struct pb_spec s;

	conf("forward tcp 8080-8089 " SERVER ":80-89");
	start();
	expect_translated(&syn, NAPT_DIR_IN, &w);
	expect_translated(&back, NAPT_DIR_OUT, &back_w);
	s = pb_flow(IPPROTO_UDP, REM1, 40000, EXT, 8085);
	expect_drop(&s, NAPT_DROP_NO_MAPPING);
	s = pb_flow(IPPROTO_TCP, REM1, 40000, EXT, 8086);
	s.tcp_flags = TCP_ACK;
	expect_drop(&s, NAPT_DROP_TCP_NO_SESSION);
	/* A port claimed by a forward is never given to a dynamic mapping. */
	s = pb_flow(IPPROTO_TCP, HOST1, 8081, REM1, 80);
	ck_assert_uint_ne(out(&s), 8081);
	s = pb_flow(IPPROTO_UDP, HOST1, 8081, REM1, 80);
	ck_assert_uint_eq(out(&s), 8081);
}
END_TEST

START_TEST(dmz_takes_the_unsolicited)
{
	struct pb_spec u = pb_flow(IPPROTO_UDP, REM1, 999, EXT, 7777);
	struct pb_spec uw = pb_flow(IPPROTO_UDP, REM1, 999, DMZ, 7777);
	struct pb_spec ping = pb_flow(IPPROTO_ICMP, REM1, 0x4242, EXT, 0);
	struct pb_spec pw = pb_flow(IPPROTO_ICMP, REM1, 0x4242, DMZ, 0);
	struct pb_spec pong = reply_to(&pw, pb_addr(REM1), 0x4242);
	struct pb_spec pong_w = reply_to(&ping, pb_addr(REM1), 0x4242);
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM1, 40000, EXT, 22);
	struct pb_spec syn_w = pb_flow(IPPROTO_TCP, REM1, 40000, DMZ, 22);

	conf("dmz " DMZ);
	start();
	expect_translated(&u, NAPT_DIR_IN, &uw);
	expect_translated(&ping, NAPT_DIR_IN, &pw);
	expect_translated(&pong, NAPT_DIR_OUT, &pong_w);
	expect_translated(&syn, NAPT_DIR_IN, &syn_w);
	ck_assert_uint_eq(sessions().last.origin, NAPT_ORIGIN_DMZ);
}
END_TEST

START_TEST(hairpin)
{
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	struct pb_spec h = pb_flow(IPPROTO_UDP, HOST2, 6000, EXT, 5000);
	struct pb_spec hw = pb_flow(IPPROTO_UDP, EXT, 6000, HOST1, 5000);
	struct pb_spec back = pb_flow(IPPROTO_UDP, HOST1, 5000, EXT, 6000);
	struct pb_spec back_w = pb_flow(IPPROTO_UDP, EXT, 5000, HOST2, 6000);
	struct pb_spec f = pb_flow(IPPROTO_TCP, HOST2, 6001, EXT, 8080);
	struct pb_spec fw = pb_flow(IPPROTO_TCP, EXT, 6001, SERVER, 80);

	conf("filtering endpoint-independent");
	conf("forward tcp 8080 " SERVER ":80");
	start();
	ck_assert_uint_eq(out(&a), 5000);
	expect_translated(&h, NAPT_DIR_HAIRPIN, &hw);
	expect_translated(&back, NAPT_DIR_HAIRPIN, &back_w);
	expect_translated(&f, NAPT_DIR_HAIRPIN, &fw);
	ck_assert_uint_eq(ctr()->hairpinned, 3);
}
END_TEST

START_TEST(hairpin_filtered_under_apdf)
{
	/* Section 9: the hairpinned packet meets the filtering like any inbound one. */
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	struct pb_spec h = pb_flow(IPPROTO_UDP, HOST2, 6000, EXT, 5000);

	start();
	out(&a);
	expect_drop(&h, NAPT_DROP_FILTERED);
}
END_TEST

/* Section 9: UDP to the sender's own mapped endpoint comes back to it (the STUN hairpin
 * probe); an echo request to the external address lands on the sender's own echo mapping
 * and goes neither back to it nor to the DMZ host. */
START_TEST(hairpin_to_own_mapping)
{
	struct pb_spec u = pb_flow(IPPROTO_UDP, HOST1, 5000, EXT, 5000);
	struct pb_spec uw = pb_flow(IPPROTO_UDP, EXT, 5000, HOST1, 5000);
	struct pb_spec ping = pb_flow(IPPROTO_ICMP, HOST1, 0x7777, EXT, 0);

	conf("dmz " DMZ);
	start();
	expect_translated(&u, NAPT_DIR_HAIRPIN, &uw);
	expect_drop(&ping, NAPT_DROP_FILTERED);
	ck_assert_uint_eq(ctr()->hairpinned, 1);
}
END_TEST

/* Section 4: an echo request never comes in through an inside host's echo mapping or
 * session, whatever the filtering (RFC 5508 3.1: it is no reply). */
START_TEST(echo_request_refused_on_query_mapping)
{
	static const char *const modes[] = {"endpoint-independent", "address-dependent",
					    "address-and-port-dependent"};
	struct pb_spec ping = pb_flow(IPPROTO_ICMP, HOST1, 0x4242, REM1, 0);
	struct pb_spec from_rem1 = pb_flow(IPPROTO_ICMP, REM1, 0x4242, EXT, 0);
	struct pb_spec from_rem2 = pb_flow(IPPROTO_ICMP, REM2, 0x4242, EXT, 0);
	char line[64];

	snprintf(line, sizeof(line), "filtering %s", modes[_i]);
	conf(line);
	conf("dmz " DMZ);
	start();
	ck_assert_uint_eq(out(&ping), 0x4242);
	expect_reply_passes(&ping, 0x4242);
	expect_drop(&from_rem1, NAPT_DROP_FILTERED);
	expect_drop(&from_rem2, NAPT_DROP_FILTERED);
	ck_assert_uint_eq(sessions().count, 1);
}
END_TEST

/* ---- timeouts with the injected clock (section 5) ---- */

START_TEST(udp_timeout_exact)
{
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);

	conf("timeout udp 30");
	start();
	out(&a);
	now += 30000; /* exactly the timeout: still there, and refreshed */
	expect_reply_passes(&a, 5000);
	now += 30001;
	expect_reply_dropped(&a, 5000, NAPT_DROP_NO_MAPPING);
	ck_assert_uint_eq(ctr()->sessions_expired, 1);
	ck_assert_uint_eq(ctr()->mappings_current, 0);
}
END_TEST

START_TEST(icmp_error_does_not_refresh)
{
	/* RFC 5508 REQ-6: an error about a session leaves its timer alone. */
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	uint8_t quote[PB_MAX];
	struct pb_spec e;

	conf("timeout udp 30");
	start();
	out(&a);
	memcpy(quote, pkt, pkt_len);
	e = icmp_error(pb_addr(ROUTER), pb_addr(EXT), ICMP_UNREACH, 3, quote, 28);
	now += 20000;
	expect_forwarded(translate(&e), NAPT_DIR_IN);
	now += 10001;
	expect_reply_dropped(&a, 5000, NAPT_DROP_NO_MAPPING);
}
END_TEST

/* Cut the IPv4 packet in buf down to its first fragment: `keep` payload bytes, MF set. */
static size_t first_fragment(uint8_t *buf, size_t keep)
{
	size_t len = (size_t)(buf[0] & 15) * 4 + keep;

	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[6] |= 0x20;
	pb_fix_ip_csum(buf);
	return len;
}

/* An ICMP error in fragments: the first holds only the start of the message its checksum
 * covers, so that checksum must follow the quote's rewrite, not be summed over the
 * fragment. The expected first fragment is cut from the whole translated error, built with
 * its checksum over the whole message. */
START_TEST(fragmented_icmp_error_checksum)
{
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	uint8_t quote[PB_MAX], quote_w[PB_MAX];
	struct pb_spec e, ew;
	struct napt_packet p = {.data = pkt};
	size_t qlen;

	a.payload_len = 200;
	start();
	qlen = pb_build(quote_w, &a);
	ck_assert_uint_eq(out(&a), 5000);
	memcpy(quote, pkt, pkt_len);
	e = icmp_error(pb_addr(ROUTER), pb_addr(EXT), ICMP_UNREACH, 3, quote, qlen);
	ew = icmp_error(pb_addr(ROUTER), a.src, ICMP_UNREACH, 3, quote_w, qlen);
	e.ip_id = ew.ip_id = 0x99;
	pb_build(pkt, &e);
	p.len = pkt_len = first_fragment(pkt, 64);
	expect_forwarded(napt_translate(n, &p, now), NAPT_DIR_IN);
	pb_build(want, &ew);
	ck_assert_uint_eq(first_fragment(want, 64), pkt_len);
	ck_assert_mem_eq(pkt, want, pkt_len);
}
END_TEST

/* Send a TCP segment of the flow HOST1:5000 <-> REM1:80 (mapped to EXT:5000). */
static void tcp_seg(bool outbound, uint8_t flags)
{
	struct pb_spec s = pb_flow(IPPROTO_TCP, HOST1, 5000, REM1, 80);
	struct pb_spec r = reply_to(&s, pb_addr(EXT), 5000);
	struct pb_spec rw = reply_to(&s, s.src, 5000);
	struct pb_spec w = s;

	s.tcp_flags = r.tcp_flags = rw.tcp_flags = w.tcp_flags = flags;
	w.src = pb_addr(EXT);
	if (outbound)
		expect_translated(&s, NAPT_DIR_OUT, &w);
	else
		expect_translated(&r, NAPT_DIR_IN, &rw);
}

static void expect_state(const char *state, uint32_t expires_in_ms)
{
	struct session_view v = sessions();

	ck_assert_uint_eq(v.count, 1);
	ck_assert_str_eq(v.last.state, state);
	ck_assert_uint_eq(v.last.expires_in_ms, expires_in_ms);
}

START_TEST(tcp_states_and_timeouts)
{
	struct pb_spec ack = pb_flow(IPPROTO_TCP, HOST1, 5000, REM1, 80);

	start();
	tcp_seg(true, TCP_SYN);
	expect_state("syn-sent", 240000);
	tcp_seg(false, TCP_SYN | TCP_ACK);
	tcp_seg(true, TCP_ACK);
	expect_state("established", 7440000);
	now += 7440000; /* exactly the established timeout */
	tcp_seg(false, TCP_ACK);
	tcp_seg(false, TCP_RST); /* RFC 7857 2.2: a RST makes the session transitory */
	expect_state("closed", 240000);
	now += 1000;
	tcp_seg(true, TCP_ACK); /* the RST was ignored: the connection goes on */
	expect_state("established", 7440000);
	tcp_seg(true, TCP_RST);
	expect_state("closed", 240000);
	now += 240001;
	ack.tcp_flags = TCP_ACK;
	expect_drop(&ack, NAPT_DROP_TCP_NO_SESSION);
	ck_assert_uint_eq(ctr()->sessions_current, 0);
}
END_TEST

START_TEST(tcp_new_syn_on_time_wait_restarts)
{
	start();
	tcp_seg(true, TCP_SYN);
	tcp_seg(false, TCP_SYN | TCP_ACK);
	tcp_seg(true, TCP_FIN | TCP_ACK);
	expect_state("fin-wait", 7440000); /* half-closed: RFC 6146 3.5.2.2 keeps TCP_EST */
	tcp_seg(false, TCP_FIN | TCP_ACK);
	expect_state("time-wait", 240000);
	now += 1000;
	tcp_seg(true, TCP_SYN);
	expect_state("syn-sent", 240000);
	tcp_seg(false, TCP_SYN | TCP_ACK);
	expect_state("established", 7440000);
	ck_assert_uint_eq(ctr()->sessions_created, 1);
}
END_TEST

/* ---- drops leave the tables as they were (section 2, 4) ---- */

struct table_state {
	uint64_t sessions, mappings, created;
};

static struct table_state table_state(void)
{
	return (struct table_state){ctr()->sessions_current, ctr()->mappings_current,
				    ctr()->sessions_created};
}

static void expect_unchanged(struct table_state before, const char *what)
{
	struct table_state after = table_state();

	ck_assert_msg(after.sessions == before.sessions && after.mappings == before.mappings &&
			  after.created == before.created,
		      "%s changed the tables", what);
}

START_TEST(malformed_dropped_tables_unchanged)
{
	const struct pb_malformed *m = &pb_malformed_cases[_i];
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	struct napt_packet p = {.data = pkt};
	struct table_state before;
	struct napt_result r;

	start();
	out(&a);
	before = table_state();
	p.len = m->make(pkt);
	r = napt_translate(n, &p, now);
	ck_assert_msg(r.verdict == NAPT_DROP && r.reason == m->want, "%s: got %s, want %s", m->name,
		      napt_drop_reason_name(r.reason), napt_drop_reason_name(m->want));
	ck_assert_uint_eq(ctr()->dropped[m->want], 1);
	expect_unchanged(before, m->name);
}
END_TEST

START_TEST(unsolicited_and_foreign_leave_no_state)
{
	static const uint8_t junk[10] = {0x45};
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	struct pb_spec stranger = pb_flow(IPPROTO_UDP, EXT, 1234, REM1, 53);
	uint8_t unknown[PB_MAX];
	size_t unknown_len = pb_build(unknown, &stranger);
	struct pb_spec ack = pb_flow(IPPROTO_TCP, HOST1, 5001, REM1, 80);
	struct pb_spec cases[] = {
	    pb_flow(IPPROTO_UDP, EXT, 5000, REM1, 53),        /* spoofed */
	    pb_flow(IPPROTO_UDP, "10.0.0.1", 5000, REM1, 53), /* not-nat: not inside */
	    pb_flow(IPPROTO_UDP, HOST1, 5000, HOST2, 53),     /* not-nat: inside to inside */
	    pb_flow(IPPROTO_UDP, REM1, 53, EXT, 9999),        /* no-mapping */
	    pb_flow(IPPROTO_TCP, REM1, 53, EXT, 9999),        /* no-mapping: SYN */
	    pb_flow(IPPROTO_ICMP, REM1, 77, EXT, 0),          /* no-mapping: echo request */
	    ack,                                              /* tcp-no-session */
	    /* errors quoting a flow the NAT never saw, and too little to be a quote */
	    icmp_error(pb_addr(ROUTER), pb_addr(EXT), ICMP_UNREACH, 3, unknown, unknown_len),
	    icmp_error(pb_addr(ROUTER), pb_addr(EXT), ICMP_UNREACH, 3, junk, sizeof(junk)),
	};
	static const enum napt_drop_reason why[] = {
	    NAPT_DROP_SPOOFED,        NAPT_DROP_NOT_NAT,         NAPT_DROP_NOT_NAT,
	    NAPT_DROP_NO_MAPPING,     NAPT_DROP_NO_MAPPING,      NAPT_DROP_NO_MAPPING,
	    NAPT_DROP_TCP_NO_SESSION, NAPT_DROP_NO_SESSION_ICMP, NAPT_DROP_BAD_ICMP_QUOTE,
	};
	struct table_state before;

	start();
	out(&a);
	before = table_state();
	cases[6].tcp_flags = TCP_ACK;
	for (unsigned i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		expect_drop(&cases[i], why[i]);
		expect_unchanged(before, napt_drop_reason_name(why[i]));
	}
}
END_TEST

/* ---- rule changes, reconfiguration, flush, a full table ---- */

START_TEST(forward_del_ends_its_sessions)
{
	struct pb_spec syn = pb_flow(IPPROTO_TCP, REM1, 40000, EXT, 8080);
	struct pb_spec w = pb_flow(IPPROTO_TCP, REM1, 40000, SERVER, 80);
	struct pb_spec back = reply_to(&w, pb_addr(REM1), 40000);
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);

	conf("forward tcp 8080 " SERVER ":80");
	start();
	out(&a);
	expect_translated(&syn, NAPT_DIR_IN, &w);
	ck_assert_uint_eq(ctr()->sessions_current, 2);
	ck_assert_int_eq(napt_forward_del(n, NAPT_FWD_TCP, 8080), 0);
	ck_assert_uint_eq(ctr()->sessions_current, 1);
	expect_drop(&back, NAPT_DROP_TCP_NO_SESSION);
	expect_drop(&syn, NAPT_DROP_NO_MAPPING);
	ck_assert_int_eq(napt_forward_del(n, NAPT_FWD_TCP, 8080), -1);
	expect_reply_passes(&a, 5000);
}
END_TEST

START_TEST(dmz_clear_ends_its_sessions)
{
	struct pb_spec u = pb_flow(IPPROTO_UDP, REM1, 999, EXT, 7777);
	struct pb_spec uw = pb_flow(IPPROTO_UDP, REM1, 999, DMZ, 7777);
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);

	conf("dmz " DMZ);
	start();
	out(&a);
	expect_translated(&u, NAPT_DIR_IN, &uw);
	napt_dmz_clear(n);
	ck_assert_uint_eq(ctr()->sessions_current, 1);
	ck_assert_uint_eq(ctr()->mappings_current, 1);
	expect_drop(&u, NAPT_DROP_NO_MAPPING);
	expect_reply_passes(&a, 5000);
}
END_TEST

START_TEST(reconfigure_refuses_new_external)
{
	struct napt_config c2;
	struct pb_spec a = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);

	start();
	out(&a);
	c2 = cfg;
	c2.external[0] = pb_addr("203.0.113.9");
	ck_assert_int_eq(napt_reconfigure(n, &c2, now, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "external"));
	ck_assert_uint_eq(napt_get_config(n)->external[0], pb_addr(EXT));
	ck_assert_uint_eq(ctr()->sessions_current, 1);
	c2 = cfg;
	c2.timeout_s[NAPT_TIMEOUT_UDP] = 10;
	ck_assert_int_eq(napt_reconfigure(n, &c2, now, err, sizeof(err)), 0);
	ck_assert_uint_eq(napt_get_config(n)->timeout_s[NAPT_TIMEOUT_UDP], 10);
	now += 10001; /* the shorter timeout applies to the session already there */
	expect_reply_dropped(&a, 5000, NAPT_DROP_NO_MAPPING);
}
END_TEST

START_TEST(flush_empties)
{
	struct pb_spec s;

	start();
	for (uint16_t i = 0; i < 5; i++) {
		s = pb_flow(IPPROTO_UDP, HOST1, (uint16_t)(5000 + i), REM1, 53);
		out(&s);
	}
	napt_flush(n);
	ck_assert_uint_eq(ctr()->sessions_current, 0);
	ck_assert_uint_eq(ctr()->mappings_current, 0);
	ck_assert_uint_eq(sessions().count, 0);
	expect_reply_dropped(&s, 5004, NAPT_DROP_NO_MAPPING);
	/* The flow goes out again, but not from its old port: that one rests (behaviour.md
	 * 15, RFC 6888 REQ-8), as after any other end of its mapping. */
	ck_assert_uint_ne(out(&s), 5004);
}
END_TEST

START_TEST(table_full)
{
	struct pb_spec s;

	conf("max-sessions 64");
	start();
	for (uint16_t i = 0; i < 64; i++) {
		s = pb_flow(IPPROTO_UDP, HOST1, (uint16_t)(5000 + i), REM1, 53);
		out(&s);
	}
	s = pb_flow(IPPROTO_UDP, HOST1, 6000, REM1, 53);
	expect_drop(&s, NAPT_DROP_TABLE_FULL);
	s = pb_flow(IPPROTO_UDP, HOST1, 5000, REM2, 53); /* a new session of an old mapping */
	expect_drop(&s, NAPT_DROP_TABLE_FULL);
	ck_assert_uint_eq(ctr()->sessions_current, 64);
	ck_assert_uint_eq(ctr()->mappings_current, 64);
	s = pb_flow(IPPROTO_UDP, HOST1, 5063, REM1, 53); /* existing flows are not evicted */
	expect_reply_passes(&s, 5063);
}
END_TEST

/* ---- fragments (section 10) ---- */

/* A later fragment: raw data at offset `off` bytes of datagram `id`. */
static size_t later_fragment(uint8_t *buf, const char *src, const char *dst, uint16_t id,
			     uint16_t off)
{
	struct pb_spec s = {.proto = 0,
			    .src = pb_addr(src),
			    .dst = pb_addr(dst),
			    .ip_id = id,
			    .frag = (uint16_t)(off / 8),
			    .payload_len = 24,
			    .payload_seed = 9};
	size_t len = pb_build(buf, &s);

	buf[9] = IPPROTO_UDP;
	pb_fix_ip_csum(buf);
	return len;
}

START_TEST(fragment_before_its_first_is_held)
{
	struct pb_spec first = pb_flow(IPPROTO_UDP, HOST1, 5000, REM1, 53);
	struct napt_packet p = {.data = pkt};
	uint8_t got[PB_MAX];
	size_t len;

	first.ip_id = 0x77;
	first.frag = 0x2000;
	first.payload_len = 16;
	start();
	p.len = pkt_len = later_fragment(pkt, HOST1, REM1, 0x77, 24);
	ck_assert_int_eq(napt_translate(n, &p, now).verdict, NAPT_HELD);
	ck_assert_uint_eq(out(&first), 5000);
	len = napt_next_released(n, got, sizeof(got));
	ck_assert_uint_eq(len, later_fragment(want, EXT, REM1, 0x77, 24));
	ck_assert_mem_eq(got, want, len);
	ck_assert_uint_eq(napt_next_released(n, got, sizeof(got)), 0);
	/* Later fragments after the first get the same rewrite at once. */
	p.len = pkt_len = later_fragment(pkt, HOST1, REM1, 0x77, 48);
	expect_forwarded(napt_translate(n, &p, now), NAPT_DIR_OUT);
	later_fragment(want, EXT, REM1, 0x77, 48);
	ck_assert_mem_eq(pkt, want, pkt_len);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("translate");
	TCase *tc = tcase_create("translate");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, random_flows_match_full_recomputation);
	tcase_add_test(tc, checksum_zero_edges);
	tcase_add_test(tc, eim_same_port_to_two_remotes);
	tcase_add_test(tc, dependent_mappings_differ_per_remote);
	tcase_add_loop_test(tc, filtering_matrix, 0, 3);
	tcase_add_test(tc, adf_ignores_expired_sessions);
	tcase_add_test(tc, eif_mapping_gone_with_its_sessions);
	tcase_add_test(tc, port_preservation);
	tcase_add_test(tc, collision_gets_another_port_in_range);
	tcase_add_test(tc, exhaustion_drops);
	tcase_add_test(tc, paired_address_full_moves_to_the_next);
	tcase_add_test(tc, successive_ports_not_sequential);
	tcase_add_test(tc, forward_to_another_port);
	tcase_add_test(tc, dmz_takes_the_unsolicited);
	tcase_add_test(tc, hairpin);
	tcase_add_test(tc, hairpin_filtered_under_apdf);
	tcase_add_test(tc, hairpin_to_own_mapping);
	tcase_add_loop_test(tc, echo_request_refused_on_query_mapping, 0, 3);
	tcase_add_test(tc, udp_timeout_exact);
	tcase_add_test(tc, icmp_error_does_not_refresh);
	tcase_add_test(tc, fragmented_icmp_error_checksum);
	tcase_add_test(tc, tcp_states_and_timeouts);
	tcase_add_test(tc, tcp_new_syn_on_time_wait_restarts);
	tcase_add_loop_test(tc, malformed_dropped_tables_unchanged, 0, (int)pb_malformed_count);
	tcase_add_test(tc, unsolicited_and_foreign_leave_no_state);
	tcase_add_test(tc, forward_del_ends_its_sessions);
	tcase_add_test(tc, dmz_clear_ends_its_sessions);
	tcase_add_test(tc, reconfigure_refuses_new_external);
	tcase_add_test(tc, flush_empties);
	tcase_add_test(tc, table_full);
	tcase_add_test(tc, fragment_before_its_first_is_held);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
