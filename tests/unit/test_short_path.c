/* SPDX-License-Identifier: BSD-2-Clause */
/* test_short_path - the short path for established flows (translate.c) must give every
 * packet exactly what the full path gives it: same verdicts, reasons, directions, bytes and
 * counters. A static NAT entry turns the short path off (translate.c leaves static NAT to
 * the full path), so two instances that differ only by one static entry that no packet
 * here touches are the short path and the full path side by side. Both get the same
 * packets of established TCP and UDP flows, each packet bent in one of the ways the short
 * path must notice and hand over: flags that move TCP state, IP options, fragments, bad
 * checksums and lengths, spoofed and hairpinned addresses, partial checksums, UDP without
 * a checksum, and idle time that expires the flows.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "napt.h"
#include "packet_builder.h"
#include "unit_run.h"

#define FLOWS   2000
#define PACKETS 200000

static struct napt *fast, *full;
static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t now = 1000;

/* What the test knows of a flow: its inside and remote endpoints, and the external
 * endpoint both instances gave it (read off the first translated packet). */
struct flow {
	uint8_t proto;
	uint32_t in_addr, rem_addr, ext_addr;
	uint16_t in_port, rem_port, ext_port;
};
static struct flow flows[FLOWS];

static uint32_t next_random(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33);
}

static struct napt *make(bool with_static)
{
	static const char base[] = "inside 10.0.0.0/8\n"
				   "external 203.0.113.1\nexternal 203.0.113.2\n"
				   "forward tcp 8080 10.0.0.9:80\n"
				   "timeout udp 300\n"
				   "max-sessions 65536\n";
	char text[512];
	struct napt_config cfg;
	char err[256];
	struct napt *n;

	snprintf(text, sizeof(text), "%s%s", base,
		 with_static ? "static 10.250.0.1 203.0.113.77\n" : "");
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, 11, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	return n;
}

/* One packet through both instances: everything must agree. Returns the verdict. */
static enum napt_verdict both(uint8_t *buf, size_t len, bool partial)
{
	uint8_t copy[PB_MAX];
	struct napt_packet a = {.data = buf, .len = len, .cap = PB_MAX, .csum_partial = partial};
	struct napt_packet b = {.data = copy, .len = len, .cap = PB_MAX, .csum_partial = partial};
	struct napt_result ra, rb;

	memcpy(copy, buf, len);
	ra = napt_translate(fast, &a, now);
	rb = napt_translate(full, &b, now);
	ck_assert_int_eq(ra.verdict, rb.verdict);
	ck_assert_int_eq(ra.reason, rb.reason);
	ck_assert_int_eq(ra.dir, rb.dir);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert(memcmp(buf, copy, a.len) == 0);
	return ra.verdict;
}

static struct pb_spec spec_of(const struct flow *f, bool outbound, uint8_t tcp_flags)
{
	struct pb_spec s = {.proto = f->proto, .tcp_flags = tcp_flags, .payload_len = 24};

	s.src = outbound ? f->in_addr : f->rem_addr;
	s.dst = outbound ? f->rem_addr : f->ext_addr;
	s.sport = outbound ? f->in_port : f->rem_port;
	s.dport = outbound ? f->rem_port : f->ext_port;
	s.ip_id = (uint16_t)next_random();
	return s;
}

/* Open flow i: a SYN or a first datagram out, the answer in, the ACK out. */
static void open_flow(unsigned i)
{
	struct flow *f = &flows[i];
	uint8_t buf[PB_MAX];
	struct pb_spec s;
	size_t len;

	f->proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP;
	f->in_addr = htonl(0x0a000000u | (1 + i % 500));
	f->rem_addr = htonl(0xc6336400u | (1 + i % 200)); /* 198.51.100.x */
	f->in_port = (uint16_t)(20000 + i);
	f->rem_port = i % 3 ? 443 : 53;
	s = spec_of(f, true, 0x02);
	len = pb_build(buf, &s);
	ck_assert_int_eq(both(buf, len, false), NAPT_FORWARD);
	memcpy(&f->ext_addr, buf + 12, 4);
	f->ext_port = (uint16_t)(buf[20] << 8 | buf[21]);
	s = spec_of(f, false, 0x12);
	ck_assert_int_eq(both(buf, pb_build(buf, &s), false), NAPT_FORWARD);
	s = spec_of(f, true, 0x10);
	ck_assert_int_eq(both(buf, pb_build(buf, &s), false), NAPT_FORWARD);
}

/* A packet of flow f, bent one way or another (or not at all, most of the time). A first
 * fragment sets *rest to the fragment that completes it, to be sent next. */
static size_t bent_packet(uint8_t *buf, const struct flow *f, bool *partial, struct pb_spec *rest)
{
	static const uint8_t data_flags[] = {0x10, 0x18, 0x10, 0x18, 0x10, 0x11, 0x14, 0x02, 0x12};
	bool outbound = next_random() & 1;
	struct pb_spec s = spec_of(f, outbound, data_flags[next_random() % sizeof(data_flags)]);
	unsigned how = next_random() % 32;
	size_t len;

	*partial = false;
	rest->proto = 0;
	switch (how) {
	case 0:
		s.opt_len = 4; /* an IP option: IHL 6 */
		break;
	case 1:
		s.frag = 0x2000; /* a first fragment */
		*rest = s;
		rest->frag = 0x0004; /* 32 bytes on: after the TCP header and 12 bytes */
		break;
	case 2:
		s.frag = 0x0010; /* a later one */
		break;
	case 3:
		s.udp_no_csum = true;
		break;
	case 4:
		s.src = outbound ? htonl(0xcb007101u) : s.src; /* from our own address: spoofed */
		break;
	case 5:
		s.src = outbound ? s.src : htonl(0x0a000063u); /* inside to external: a hairpin */
		break;
	case 6:
		s.frag = 0x4000; /* DF: no fragment, the short path's */
		break;
	default:
		break;
	}
	len = pb_build(buf, &s);
	switch (how) {
	case 7:
		buf[10] ^= 0x40; /* IP header checksum */
		break;
	case 8:
		len -= 3; /* total length beyond the buffer */
		break;
	case 9:
		memset(buf + len, 0xee, 9); /* trailing bytes behind the total length */
		len += 9;
		break;
	case 10:
		if (f->proto == IPPROTO_TCP)
			buf[32] = 0x40; /* data offset 4 */
		else
			buf[25] = 0xff; /* UDP length beyond the packet */
		pb_fix_l4_csum(buf);
		break;
	case 11:
		*partial = true;
		break;
	case 12:
		buf[0] = 0x46; /* IHL 6 claimed, no option there */
		pb_fix_ip_csum(buf);
		break;
	default:
		break;
	}
	return len;
}

START_TEST(short_path_equals_full_path)
{
	const struct napt_counters *a, *b;
	unsigned forwarded = 0;

	fast = make(false);
	full = make(true);
	for (unsigned i = 0; i < FLOWS; i++)
		open_flow(i);
	for (unsigned p = 0; p < PACKETS; p++) {
		struct flow *f = &flows[next_random() % FLOWS];
		uint8_t buf[PB_MAX];
		bool partial;
		struct pb_spec rest;
		size_t len = bent_packet(buf, f, &partial, &rest);

		forwarded += both(buf, len, partial) == NAPT_FORWARD;
		if (rest.proto)
			both(buf, pb_build(buf, &rest), false);
		now += next_random() % 4;
		if (p % 50000 == 49999)
			now += 301 * 1000; /* every UDP flow (and its mapping) expires */
	}
	ck_assert_uint_gt(forwarded, PACKETS / 4);
	a = napt_get_counters(fast);
	b = napt_get_counters(full);
	ck_assert(!memcmp(a, b, sizeof(*a)));
	napt_destroy(fast);
	napt_destroy(full);
}
END_TEST

int main(void)
{
	return unit_run_one("short_path", short_path_equals_full_path, 60);
}
