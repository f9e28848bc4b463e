/* SPDX-License-Identifier: BSD-2-Clause */
/* test_log_truth.c - "who had E:P at time T?" answered from the mapping events alone,
 * checked against the translated packets themselves (h-break15).
 *
 * Random traffic goes through the engine: UDP and TCP flows from several inside hosts, TCP
 * RSTs, replies, idle timeouts, flushes, a forward added and removed, the external address
 * renumbered. After every step the events recorded so far are replayed into a log model
 * (open mappings by protocol and external endpoint, or with port blocks open blocks by
 * external address and port range). Each translated packet is the truth: its external
 * endpoint E:P belonged at that moment to the inside endpoint it came from (outbound) or went
 * to (inbound), and the log must say so. The model also checks that every mapping (block)
 * is opened once and ended once: no second open on a held key, no end of one not open, and
 * after the last flush nothing is left open. No event may be lost (the ring is big enough).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_log.h"
#include "napt.h"
#include "nat_event.h"
#include "packet_builder.h"
#include "unit_run.h"

#define EXT_A    "203.0.113.1"
#define EXT_B    "203.0.113.2"
#define STEPS    20000
#define OPEN_MAX 8192

/* A mapping (or block: ext_port..ext_last, proto 0) the log says is open. */
struct open_entry {
	uint8_t proto;
	uint32_t ext_addr, rem_addr, in_addr;
	uint16_t ext_port, ext_last, in_port;
};

static struct napt *n;
static uint64_t now;
static uint64_t step;
static uint32_t rng = 12345;
static struct open_entry open_set[OPEN_MAX];
static unsigned n_open;
static char err[512];
static bool blocks; /* the log is of blocks, not mappings */
static unsigned checked_packets, replayed_events;

static uint32_t rnd(uint32_t below)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % below;
}

static void start(const char *extra, bool with_blocks)
{
	struct napt_config cfg;
	char text[512];

	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\nexternal " EXT_A "\nmax-sessions 512\nport-rest 0\n"
		 "timeout udp 30\ntimeout tcp-transitory 20\ntimeout tcp-established 60\n%s",
		 extra);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	ck_assert_int_eq(napt_events_enable(n, 1u << 20, false), 0);
	blocks = with_blocks;
	napt_events_select(n, mapping_log_kinds(blocks)); /* what log-mappings reads */
	now = 1000000;
	step = 0;
	n_open = 0;
	checked_packets = replayed_events = 0;
}

static void teardown(void)
{
	napt_destroy(n);
	n = NULL;
}

static bool same_key(const struct open_entry *o, const struct napt_event *e)
{
	return o->proto == e->proto && o->ext_addr == e->ext_addr && o->ext_port == e->ext_port &&
	       o->rem_addr == e->rem_addr; /* a block's proto and remote are 0 */
}

/* One event, as the log would write it (or not). */
static void replay_one(const struct napt_event *e)
{
	bool is_new = e->type == NAPT_EV_MAPPING_NEW || e->type == NAPT_EV_BLOCK_NEW;
	unsigned i;

	if (!mapping_log_takes(blocks, e))
		return;
	replayed_events++;
	for (i = 0; i < n_open && !same_key(&open_set[i], e); i++)
		;
	if (is_new) {
		ck_assert_msg(i == n_open, "step %llu: %s for %u:%u opened twice",
			      (unsigned long long)step,
			      napt_event_type_name((enum napt_event_type)e->type),
			      ntohl(e->ext_addr), e->ext_port);
		ck_assert_uint_lt(n_open, OPEN_MAX);
		open_set[n_open++] =
		    (struct open_entry){.proto = e->proto,
					.ext_addr = e->ext_addr,
					.rem_addr = e->rem_addr,
					.in_addr = e->in_addr,
					.ext_port = e->ext_port,
					.ext_last = e->proto ? e->ext_port : e->ext_port_last,
					.in_port = e->in_port};
		return;
	}
	ck_assert_msg(i < n_open, "step %llu: %s for %u:%u that the log never opened",
		      (unsigned long long)step, napt_event_type_name((enum napt_event_type)e->type),
		      ntohl(e->ext_addr), e->ext_port);
	ck_assert_uint_eq(open_set[i].in_addr, e->in_addr);
	ck_assert_uint_eq(open_set[i].in_port, e->in_port);
	open_set[i] = open_set[--n_open];
}

/* Everything recorded since the last call, in order. */
static void replay(void)
{
	struct napt_event ev[256];
	uint64_t next;
	unsigned got;

	napt_events_stamp(n, step);
	while ((got = napt_events_peek(n, napt_events_tail(n), ev, 256, &next))) {
		for (unsigned i = 0; i < got; i++)
			replay_one(&ev[i]);
		napt_events_release(n, next);
	}
	ck_assert_uint_eq(napt_events_lost(n), 0);
}

/* How many open entries hold E:P for a packet with remote rem: mappings (proto set) or
 * blocks (proto 0); each must name inside. */
static unsigned holders(bool of_blocks, uint8_t proto, uint32_t ext_addr, uint16_t ext_port,
			uint32_t rem, uint32_t in_addr, uint16_t in_port)
{
	unsigned found = 0;

	for (unsigned i = 0; i < n_open; i++) {
		const struct open_entry *o = &open_set[i];

		if (o->ext_addr != ext_addr || ext_port < o->ext_port || ext_port > o->ext_last ||
		    o->proto != (of_blocks ? 0 : proto) || (o->rem_addr && o->rem_addr != rem))
			continue;
		ck_assert_msg(o->in_addr == in_addr && (of_blocks || o->in_port == in_port),
			      "step %llu: %s .%u:%u is .%u:%u's (packet), the log gives it to "
			      ".%u:%u (%s %u-%u)",
			      (unsigned long long)step, proto == IPPROTO_TCP ? "tcp" : "udp",
			      ntohl(ext_addr) & 255, ext_port, ntohl(in_addr) & 255, in_port,
			      ntohl(o->in_addr) & 255, o->in_port, of_blocks ? "block" : "mapping",
			      o->ext_port, o->ext_last);
		found++;
	}
	return found;
}

/* The truth of one translated packet: E:P (with remote rem) was inside's at this step. A
 * mapping line answers for its port before a block whose range spans it. */
static void check_truth(uint8_t proto, uint32_t ext_addr, uint16_t ext_port, uint32_t rem,
			uint32_t in_addr, uint16_t in_port)
{
	unsigned found;

	replay();
	found = holders(false, proto, ext_addr, ext_port, rem, in_addr, in_port);
	if (!found && blocks)
		found = holders(true, proto, ext_addr, ext_port, rem, in_addr, in_port);
	ck_assert_msg(found == 1,
		      "step %llu: the log has %u holders of %s .%u:%u, the packet .%u:%u",
		      (unsigned long long)step, found, proto == IPPROTO_TCP ? "tcp" : "udp",
		      ntohl(ext_addr) & 255, ext_port, ntohl(in_addr) & 255, in_port);
	checked_packets++;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Last outbound translation per (host, port): the replies go to these. */
struct seen {
	uint8_t proto;
	uint32_t rem, ext_addr;
	uint16_t rport, ext_port;
};
static struct seen seen[64];
static unsigned n_seen;

static void outbound(void)
{
	static const char *const rems[] = {"198.51.100.1", "198.51.100.2", "198.51.100.3"};
	uint8_t buf[PB_MAX];
	uint8_t proto = rnd(2) ? IPPROTO_UDP : IPPROTO_TCP;
	char in[16];
	uint16_t sport = (uint16_t)(2000 + rnd(6));
	struct pb_spec s;
	struct napt_packet p = {.data = buf, .cap = sizeof(buf)};

	snprintf(in, sizeof(in), "192.168.1.%u", 10 + rnd(6));
	s = pb_flow(proto, in, sport, rems[rnd(3)], (uint16_t)(53 + rnd(2)));
	if (proto == IPPROTO_TCP && rnd(4) == 0)
		s.tcp_flags = 0x04 | 0x10; /* RST|ACK: ends the session when one exists */
	p.len = pb_build(buf, &s);
	if (napt_translate(n, &p, now).verdict != NAPT_FORWARD)
		return;
	check_truth(proto, get32(buf + 12), get16(buf + 20), s.dst, s.src, sport);
	if (n_seen < 64)
		seen[n_seen++] =
		    (struct seen){proto, s.dst, get32(buf + 12), s.dport, get16(buf + 20)};
	else
		seen[rnd(64)] =
		    (struct seen){proto, s.dst, get32(buf + 12), s.dport, get16(buf + 20)};
}

static void inbound(void)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s;
	struct napt_packet p = {.data = buf, .cap = sizeof(buf)};
	const struct seen *w;
	char src[16], dst[16];

	if (!n_seen)
		return;
	w = &seen[rnd(n_seen)];
	inet_ntop(AF_INET, &w->rem, src, sizeof(src));
	inet_ntop(AF_INET, &w->ext_addr, dst, sizeof(dst));
	s = pb_flow(w->proto, src, w->rport, dst, w->ext_port);
	if (w->proto == IPPROTO_TCP)
		s.tcp_flags = 0x12; /* SYN|ACK */
	p.len = pb_build(buf, &s);
	if (napt_translate(n, &p, now).verdict != NAPT_FORWARD)
		return;
	check_truth(w->proto, w->ext_addr, w->ext_port, w->rem, get32(buf + 16), get16(buf + 22));
}

/* The rare events: a flush, a forward in and out, the external address renumbered. */
static void upheaval(void)
{
	struct napt_forward f = {.protos = NAPT_FWD_UDP | NAPT_FWD_TCP,
				 .ext_lo = 2003,
				 .ext_hi = 2003,
				 .in_addr = pb_addr("192.168.1.12"),
				 .in_lo = 2003};
	uint32_t a = pb_addr(EXT_A), b = pb_addr(EXT_B);
	const uint32_t *cur = napt_get_config(n)->external;

	switch (rnd(4)) {
	case 0:
		napt_flush(n);
		break;
	case 1:
		napt_forward_add(n, &f, err, sizeof(err));
		break;
	case 2:
		napt_forward_del(n, NAPT_FWD_UDP | NAPT_FWD_TCP, 2003);
		break;
	default:
		ck_assert_int_eq(napt_external_replace(n, cur[0], cur[0] == a ? b : a), 0);
		n_seen = 0;
		break;
	}
}

static void run(void)
{
	for (step = 1; step <= STEPS; step++) {
		unsigned r = rnd(1000);

		now += rnd(1500);
		if (r < 600)
			outbound();
		else if (r < 950)
			inbound();
		else if (r < 995)
			napt_expire(n, now);
		else
			upheaval();
		replay();
	}
	napt_flush(n);
	replay();
	ck_assert_msg(n_open == 0, "%u mappings never ended in the log", n_open);
	ck_assert_uint_gt(checked_packets, STEPS / 2);
	ck_assert_uint_gt(replayed_events, 500);
}

START_TEST(every_translated_packet_is_in_the_log)
{
	start("", false);
	run();
}
END_TEST

START_TEST(every_translated_packet_is_in_the_log_address_dependent)
{
	start("mapping address-dependent\n", false);
	run();
}
END_TEST

START_TEST(every_translated_packet_is_in_the_block_log)
{
	start("port-block-size 8\nports-per-host 64\n", true);
	run();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log_truth");
	TCase *tc = tcase_create("truth");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, every_translated_packet_is_in_the_log);
	tcase_add_test(tc, every_translated_packet_is_in_the_log_address_dependent);
	tcase_add_test(tc, every_translated_packet_is_in_the_block_log);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
