/* SPDX-License-Identifier: BSD-2-Clause */
/* test_restore_hostile.c - records a sessions file could hold that napt_save_sessions()
 * would never write (a file edited, from another config, or reordered), put back with
 * napt_restore_session(): each is skipped with its reason or restored without breaking a
 * rule the engine keeps for the sessions it makes itself (per-host limits, one external
 * endpoint per inside endpoint, sessions gone at their timeout). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>

#include "napt.h"
#include "napt_instance.h"
#include "packet_builder.h"
#include "session_save.h"
#include "unit_run.h"

#define EXT   "203.0.113.1"
#define T_NEW 20u

static struct napt *n, *fresh;

static struct napt *make(const char *extra)
{
	struct napt_config cfg;
	char text[512], err[256];
	struct napt *r;

	snprintf(text, sizeof(text),
		 "inside 192.168.0.0/16\nexternal " EXT
		 "\nmax-sessions 64\nport-range 1024-65535\n%s",
		 extra);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "test", err, sizeof(err)) == 0, "%s", err);
	r = napt_create(&cfg, 5, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	return r;
}

static void teardown(void)
{
	napt_destroy(n);
	napt_destroy(fresh);
	n = fresh = NULL;
}

/* A UDP session of host .0.(host) from port 4000+host to remote 198.51.100.(rem):53 on
 * external port ext, idle ms at the save. */
static struct napt_saved_session udp(unsigned host, unsigned rem, uint16_t ext, uint32_t idle)
{
	struct napt_saved_session s = {
	    .proto = IPPROTO_UDP,
	    .origin = NAPT_ORIGIN_OUTBOUND,
	    .in_addr = htonl(0xc0a80000u | host),
	    .ext_addr = inet_addr(EXT),
	    .rem_addr = htonl(0xc6336400u | rem),
	    .in_port = (uint16_t)(4000 + host),
	    .ext_port = ext,
	    .rem_port = 53,
	    .idle_ms = idle,
	};
	return s;
}

static enum napt_restore_result put(const struct napt_saved_session *s)
{
	return napt_restore_session(n, s, 0, T_NEW);
}

/* Records out of the save's order (youngest first): the older one must still go at its
 * own timeout, not when the younger one ahead of it in the expiry list does. */
START_TEST(reordered_expire_on_time)
{
	uint32_t timeout_ms;
	struct napt_saved_session young, old;

	n = make("timeout udp 300\n");
	timeout_ms = 300 * 1000;
	young = udp(1, 1, 20000, 0);
	old = udp(2, 2, 20001, timeout_ms - 10000);
	ck_assert_int_eq(put(&young), NAPT_RESTORED);
	/* Either skipped (counted) or restored: restored, it must expire on time. */
	if (put(&old) != NAPT_RESTORED)
		return;
	napt_expire(n, T_NEW + 20000);
	ck_assert_msg(napt_get_counters(n)->sessions_current == 1,
		      "%llu sessions 10 s past the old one's timeout (want 1)",
		      (unsigned long long)napt_get_counters(n)->sessions_current);
}
END_TEST

/* max-sessions-per-host 2: a file (or an older config) with four of one host's sessions. */
START_TEST(host_session_limit_kept)
{
	unsigned restored = 0;

	n = make("max-sessions-per-host 2\n");
	for (unsigned i = 0; i < 4; i++) {
		struct napt_saved_session s = udp(1, 1 + i, 20000, 0);

		restored += put(&s) == NAPT_RESTORED;
	}
	ck_assert_msg(restored <= 2, "%u sessions of one host restored, max-sessions-per-host 2",
		      restored);
}
END_TEST

/* ports-per-host 64 with blocks of 64: one host's sessions in three blocks. */
START_TEST(host_port_limit_kept)
{
	unsigned restored = 0;
	static const uint16_t ports[] = {1024, 1100, 1200};

	n = make("port-block-size 64\nports-per-host 64\n");
	for (unsigned i = 0; i < 3; i++) {
		struct napt_saved_session s = udp(1, 1, ports[i], 0);

		s.in_port = (uint16_t)(5000 + i);
		restored += put(&s) == NAPT_RESTORED;
	}
	ck_assert_msg(napt_get_counters(n)->port_blocks_allocated <= 1,
		      "%u restored, the host holds %llu blocks, ports-per-host 64 (one block)",
		      restored, (unsigned long long)napt_get_counters(n)->port_blocks_allocated);
}
END_TEST

/* One external endpoint, two inside endpoints: the second is a conflict, whatever the
 * mapping behaviour keys the mapping on. */
START_TEST(external_endpoint_not_shared)
{
	static const char *const beh[] = {"endpoint-independent", "address-dependent",
					  "address-and-port-dependent"};

	for (unsigned i = 0; i < 3; i++) {
		char extra[64];
		struct napt_saved_session a = udp(1, 1, 20000, 0), b = udp(2, 2, 20000, 0),
					  c = udp(1, 3, 20000, 0);

		snprintf(extra, sizeof(extra), "mapping %s\n", beh[i]);
		n = make(extra);
		c.in_port = 4999; /* the same host, another inside port */
		ck_assert_int_eq(put(&a), NAPT_RESTORED);
		ck_assert_int_eq(put(&b), NAPT_RESTORE_CONFLICT);
		ck_assert_int_eq(put(&c), NAPT_RESTORE_CONFLICT);
		ck_assert_int_eq(napt_get_counters(n)->mappings_current, 1);
		teardown();
	}
}
END_TEST

/* Outside `inside`, a forward's port, outside port-range, a TCP bit TCP has not: skipped. */
START_TEST(out_of_config_skipped)
{
	struct napt_saved_session s;

	n = make("forward udp 20000 192.168.0.9:20000\n");
	s = udp(1, 1, 20000, 0);
	ck_assert_int_eq(put(&s), NAPT_RESTORE_CONFLICT);
	s = udp(1, 1, 80, 0);
	ck_assert_int_eq(put(&s), NAPT_RESTORE_CONFLICT);
	s = udp(1, 1, 30000, 0);
	s.in_addr = inet_addr("10.0.0.1");
	ck_assert_int_eq(put(&s), NAPT_RESTORE_INVALID);
	s = udp(1, 1, 30000, 0);
	s.tcp_seen = 1;
	ck_assert_int_eq(put(&s), NAPT_RESTORE_INVALID);
	s = udp(1, 1, 30000, UINT32_MAX);
	ck_assert_int_eq(put(&s), NAPT_RESTORE_STALE);
	ck_assert_int_eq(napt_get_counters(n)->sessions_current, 0);
}
END_TEST

static struct napt_saved_session kept[16];
static unsigned n_kept;

static int keep(const struct napt_saved_session *s, void *ctx)
{
	(void)ctx;
	ck_assert_uint_lt(n_kept, 16);
	kept[n_kept++] = *s;
	return 0;
}

/* The per-host, per-peer and per-block counts of x and y agree. */
static void same_books(struct napt *x, struct napt *y)
{
	const struct napt_counters *cx = napt_get_counters(x), *cy = napt_get_counters(y);

	ck_assert_uint_eq(cx->sessions_current, cy->sessions_current);
	ck_assert_uint_eq(cx->mappings_current, cy->mappings_current);
	ck_assert_uint_eq(cx->port_blocks_allocated - cx->port_blocks_released,
			  cy->port_blocks_allocated - cy->port_blocks_released);
	ck_assert_uint_eq(nat_table_peer_pairs(x->table), nat_table_peer_pairs(y->table));
	ck_assert_uint_eq(napt_ports_in_use(x, NAPT_P_UDP, 0), napt_ports_in_use(y, NAPT_P_UDP, 0));
	for (unsigned h = 1; h <= 3; h++) {
		struct host_count a = host_limits_get(x->hosts, htonl(0xc0a80000u | h));
		struct host_count b = host_limits_get(y->hosts, htonl(0xc0a80000u | h));

		ck_assert_uint_eq(a.sessions, b.sessions);
		ck_assert_uint_eq(a.ports, b.ports);
		ck_assert_uint_eq(a.blocks, b.blocks);
	}
}

/* Three hosts' flows to two peers in port blocks, saved and restored: the new instance's
 * books are those of the one that made the flows, and are empty once all have expired. */
START_TEST(books_match_a_fresh_run)
{
	const uint64_t t0 = 5000000;
	uint8_t pkt[PB_MAX];

	fresh = make("port-block-size 64\nmax-sessions-per-host 10\ntimeout udp 300\n");
	n = make("port-block-size 64\nmax-sessions-per-host 10\ntimeout udp 300\n");
	for (unsigned h = 1; h <= 3; h++)
		for (unsigned f = 0; f < 4; f++) {
			char src[32], dst[32];
			struct pb_spec sp;
			struct napt_packet p = {.data = pkt};

			snprintf(src, sizeof(src), "192.168.0.%u", h);
			snprintf(dst, sizeof(dst), "198.51.100.%u", 1 + f % 2);
			sp = pb_flow(IPPROTO_UDP, src, (uint16_t)(5000 + f), dst, 53);
			p.len = pb_build(pkt, &sp);
			ck_assert_int_eq(napt_translate(fresh, &p, t0 + h * 10 + f).verdict,
					 NAPT_FORWARD);
		}
	napt_save_sessions(fresh, t0 + 1000, keep, NULL);
	ck_assert_uint_eq(n_kept, 12);
	for (unsigned i = 0; i < n_kept; i++)
		ck_assert_int_eq(put(&kept[i]), NAPT_RESTORED);
	same_books(fresh, n);
	napt_expire(fresh, t0 + 1000 + 301000);
	napt_expire(n, T_NEW + 301000);
	same_books(fresh, n);
	ck_assert_uint_eq(napt_get_counters(n)->sessions_current, 0);
	ck_assert_uint_eq(nat_table_peer_pairs(n->table), 0);
	ck_assert_uint_eq(napt_get_counters(n)->port_blocks_allocated,
			  napt_get_counters(n)->port_blocks_released);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("restore_hostile");
	TCase *tc = tcase_create("records");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, reordered_expire_on_time);
	tcase_add_test(tc, host_session_limit_kept);
	tcase_add_test(tc, host_port_limit_kept);
	tcase_add_test(tc, external_endpoint_not_shared);
	tcase_add_test(tc, out_of_config_skipped);
	tcase_add_test(tc, books_match_a_fresh_run);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
