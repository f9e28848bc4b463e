/* SPDX-License-Identifier: BSD-2-Clause */
/* test_burst - napt_translate_burst() must do exactly what napt_translate() does packet by
 * packet: same verdicts, reasons, directions and bytes, in the same order. Two instances
 * with the same config and seed get the same traffic, one in bursts of 32, one packet by
 * packet: new flows, their replies, inbound packets to unmapped ports and garbage. The
 * prefetch pipeline runs only once the live sessions outgrow the core's cache, which on a
 * machine with a large L2 this table never does: the burst instance is told a small cache
 * (nat_table_set_cache_bytes()), so its first bursts go packet by packet and the rest
 * through the pipeline, and the test asserts that both happened.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "napt.h"
#include "napt_instance.h"
#include "packet_builder.h"
#include "unit_run.h"

#define BURST  32
#define FLOWS  40000
#define ROUNDS (FLOWS / BURST)
/* The cache the burst instance is told it has: the pipeline starts at 1366 sessions. */
#define SMALL_CACHE (64u << 10)

static struct napt *single, *burst;
static uint8_t a_buf[BURST][PB_MAX], b_buf[BURST][PB_MAX];
static size_t a_len[BURST], b_len[BURST];
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned pipelined, one_by_one; /* bursts that took either way */

static uint32_t next_random(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33);
}

static struct napt *make(void)
{
	static const char text[] = "inside 10.0.0.0/8\n"
				   "external 203.0.113.1\nexternal 203.0.113.2\n"
				   "external 203.0.113.3\nexternal 203.0.113.4\n"
				   "filtering address-dependent\n"
				   "forward tcp 8080 10.0.0.9:80\n"
				   "max-sessions 131072\n";
	struct napt_config cfg;
	char err[256];
	struct napt *n;

	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	return n;
}

/* One packet of round r, slot i: mostly new flows out, some unsolicited in, some garbage. */
static size_t make_packet(uint8_t *buf, unsigned r, unsigned i)
{
	uint32_t x = next_random();
	char src[32], dst[32];
	struct pb_spec s;

	if (x % 16 == 0) { /* garbage: random bytes, sometimes a plausible header */
		size_t len = 20 + next_random() % 80;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)next_random();
		if (x & 0x100)
			buf[0] = 0x45;
		return len;
	}
	snprintf(dst, sizeof(dst), "198.51.100.%u", 1 + x % 200);
	if (x % 16 == 1) { /* unsolicited inbound: to a random port of an external address */
		snprintf(src, sizeof(src), "203.0.113.%u", 1 + (x >> 8) % 4);
		s = pb_flow(x & 0x200 ? IPPROTO_TCP : IPPROTO_UDP, dst, 53, src,
			    (uint16_t)(1024 + next_random() % 60000));
		return pb_build(buf, &s);
	}
	snprintf(src, sizeof(src), "10.%u.%u.%u", (r * BURST + i) % 7, (x >> 8) & 0xff,
		 1 + (x >> 16) % 250);
	s = pb_flow((uint8_t[]){IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP}[x % 3], src,
		    (uint16_t)(1024 + (x >> 4) % 60000), dst, 443);
	return pb_build(buf, &s);
}

/* The reply a remote host would send to a translated outbound packet: addresses and ports
 * (or the echo) turned around, checksums made anew. */
static size_t make_reply(uint8_t *buf, const uint8_t *out, size_t len)
{
	size_t ihl = (size_t)(out[0] & 0x0f) * 4;
	uint8_t tmp[4];

	memcpy(buf, out, len);
	memcpy(tmp, buf + 12, 4);
	memcpy(buf + 12, buf + 16, 4);
	memcpy(buf + 16, tmp, 4);
	if (buf[9] == IPPROTO_ICMP) {
		buf[ihl] = 0; /* echo reply */
	} else {
		memcpy(tmp, buf + ihl, 2);
		memcpy(buf + ihl, buf + ihl + 2, 2);
		memcpy(buf + ihl + 2, tmp, 2);
		if (buf[9] == IPPROTO_TCP)
			buf[ihl + 13] = 0x12; /* SYN-ACK */
	}
	pb_fix_ip_csum(buf);
	pb_fix_l4_csum(buf);
	return len;
}

/* Run one burst's worth through both instances and compare everything. */
static void run_and_compare(uint64_t now, unsigned count)
{
	struct napt_packet pk[BURST];
	struct napt_result rb[BURST];

	for (unsigned i = 0; i < count; i++)
		pk[i] = (struct napt_packet){.data = b_buf[i], .len = b_len[i], .cap = PB_MAX};
	if (nat_table_worth_prefetching(burst->table))
		pipelined++;
	else
		one_by_one++;
	napt_translate_burst(burst, pk, rb, count, now);
	for (unsigned i = 0; i < count; i++) {
		struct napt_packet p = {.data = a_buf[i], .len = a_len[i], .cap = PB_MAX};
		struct napt_result ra = napt_translate(single, &p, now);

		ck_assert_int_eq(ra.verdict, rb[i].verdict);
		ck_assert_int_eq(ra.reason, rb[i].reason);
		ck_assert_int_eq(ra.dir, rb[i].dir);
		ck_assert_uint_eq(p.len, pk[i].len);
		ck_assert(memcmp(a_buf[i], b_buf[i], p.len) == 0);
		a_len[i] = b_len[i] = ra.verdict == NAPT_FORWARD ? p.len : 0;
	}
}

START_TEST(burst_equals_single_calls)
{
	uint64_t now = 1000;

	single = make();
	burst = make();
	nat_table_set_cache_bytes(burst->table, SMALL_CACHE);
	for (unsigned r = 0; r < ROUNDS; r++, now += 3) {
		for (unsigned i = 0; i < BURST; i++) {
			a_len[i] = b_len[i] = make_packet(a_buf[i], r, i);
			memcpy(b_buf[i], a_buf[i], a_len[i]);
		}
		run_and_compare(now, BURST);
		/* The replies to what went out, as one more burst; a truncated packet (dropped
		 * by both) where nothing went out to a remote host. */
		for (unsigned i = 0; i < BURST; i++) {
			if (a_len[i] && a_buf[i][16] == 198) {
				uint8_t out[PB_MAX];

				memcpy(out, a_buf[i], a_len[i]);
				a_len[i] = make_reply(a_buf[i], out, a_len[i]);
			} else {
				a_len[i] = 19;
			}
			b_len[i] = a_len[i];
			memcpy(b_buf[i], a_buf[i], a_len[i]);
		}
		run_and_compare(now + 1, BURST);
	}
	ck_assert_uint_gt(napt_get_counters(burst)->sessions_current, 20000);
	/* Both ways were compared: a few bursts before the table outgrew SMALL_CACHE, most
	 * after. */
	ck_assert_uint_gt(one_by_one, 0);
	ck_assert_uint_gt(pipelined, 2 * ROUNDS * 9 / 10);
	ck_assert(!memcmp(napt_get_counters(single), napt_get_counters(burst),
			  sizeof(struct napt_counters)));
	napt_destroy(single);
	napt_destroy(burst);
}
END_TEST

int main(void)
{
	return unit_run_one("burst", burst_equals_single_calls, 60);
}
