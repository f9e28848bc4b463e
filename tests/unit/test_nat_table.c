/* SPDX-License-Identifier: BSD-2-Clause */
/* test_nat_table.c - mappings and sessions: hash lookups from both sides, buckets under
 * collisions and overflow, LRU expiry order, removal, a full table and flush. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "nat_table.h"
#include "unit_run.h"

/* The table compares addresses and never reads them: any values do. */
#define EXT_ADDR 0x010071cbu
#define REMOTE   0x076433c6u
#define UDP_MS   100
#define MAX      64

static struct napt_counters ctr;
static struct nat_table *t;
static const uint32_t ext_addr = EXT_ADDR;
static const struct siphash_key table_key = {42, 43};

static void make_table(uint32_t max)
{
	memset(&ctr, 0, sizeof(ctr));
	t = nat_table_create(max, &table_key, &ctr, &ext_addr, 1);
	ck_assert_ptr_nonnull(t);
	nat_table_set_timeout(t, NAPT_TIMEOUT_UDP, UDP_MS);
	nat_table_set_timeout(t, NAPT_TIMEOUT_ICMP, 500);
	nat_table_set_timeout(t, NAPT_TIMEOUT_TCP_ESTABLISHED, 5000);
	nat_table_set_timeout(t, NAPT_TIMEOUT_TCP_TRANSITORY, 2000);
}

static void setup(void)
{
	make_table(MAX);
}

static void teardown(void)
{
	nat_table_destroy(t);
}

static uint32_t inside(uint32_t i)
{
	return htonl(0x0a000000u | i); /* 10.0.0.0/8 */
}

/* A UDP mapping of inside host i (port 5000 + i % 1000) on external port 1024 + i,
 * keyed endpoint-independently (RFC 4787 REQ-1), without sessions yet. */
static uint32_t add_mapping(uint32_t i)
{
	struct nat_mapping m = {
	    .in_addr = inside(i),
	    .in_port = (uint16_t)(5000 + i % 1000),
	    .ext_index = 0,
	    .ext_port = (uint16_t)(1024 + i),
	    .proto = IPPROTO_UDP,
	    .flags = MAPF_IN_INDEXED | MAPF_POOL_PORT,
	};
	struct nat_key k = {m.in_addr, 0, m.in_port, 0, m.proto};

	return nat_mapping_new(t, &m, &k);
}

static uint32_t add_flow(uint32_t i, uint32_t now)
{
	uint32_t m = add_mapping(i);

	ck_assert_uint_ne(m, 0);
	return nat_session_new(t, m, REMOTE, 53, NAPT_TIMEOUT_UDP, now);
}

static struct nat_key in_key(uint32_t i)
{
	return (struct nat_key){inside(i), REMOTE, (uint16_t)(5000 + i % 1000), 53, IPPROTO_UDP};
}

static struct nat_key out_key(uint32_t i)
{
	return (struct nat_key){EXT_ADDR, REMOTE, (uint16_t)(1024 + i), 53, IPPROTO_UDP};
}

static uint32_t find_in(uint32_t i, uint32_t now)
{
	struct nat_key k = in_key(i);

	return nat_session_find_in(t, &k, now);
}

static uint32_t find_out(uint32_t i, uint32_t now)
{
	struct nat_key k = out_key(i);

	return nat_session_find_out(t, &k, now);
}

static bool port_held(uint32_t i)
{
	return port_bit(nat_table_ports(t)->used[NAPT_P_UDP][0], (uint16_t)(1024 + i));
}

static bool live(uint32_t sidx)
{
	return nat_session_at(t, sidx)->proto != 0;
}

START_TEST(insert_find_remove)
{
	uint32_t s = add_flow(7, 0);
	const struct nat_session *e = nat_session_at(t, s);
	struct nat_key mk = {inside(7), 0, 5007, 0, IPPROTO_UDP};
	struct nat_key mo = {EXT_ADDR, 0, 1031, 0, IPPROTO_UDP};

	ck_assert_uint_ne(s, 0);
	ck_assert_uint_eq(find_in(7, 0), s);
	ck_assert_uint_eq(find_out(7, 0), s);
	ck_assert_uint_eq(e->in_port, 5007);
	ck_assert_uint_eq(e->ext_port, 1031);
	ck_assert_uint_eq(e->rem_addr, REMOTE);
	ck_assert_uint_eq(nat_mapping_find_in(t, &mk), nat_session_mapping(t, s));
	ck_assert_uint_eq(nat_mapping_find_out(t, &mo), nat_session_mapping(t, s));
	ck_assert(port_held(7));
	ck_assert_uint_eq(ctr.sessions_current, 1);
	ck_assert_uint_eq(ctr.mappings_current, 1);
	/* Another remote port is another session. */
	mk = in_key(7);
	mk.rem_port = 54;
	ck_assert_uint_eq(nat_session_find_in(t, &mk, 0), 0);
	nat_session_remove(t, s, false);
	ck_assert_uint_eq(find_in(7, 0), 0);
	ck_assert_uint_eq(find_out(7, 0), 0);
	mk = (struct nat_key){inside(7), 0, 5007, 0, IPPROTO_UDP};
	ck_assert_uint_eq(nat_mapping_find_in(t, &mk), 0);
	ck_assert_uint_eq(nat_mapping_find_out(t, &mo), 0);
	ck_assert(!port_held(7));
	ck_assert_uint_eq(ctr.sessions_current, 0);
	ck_assert_uint_eq(ctr.mappings_current, 0);
	ck_assert_uint_eq(ctr.sessions_removed, 1);
	ck_assert_uint_eq(ctr.sessions_expired, 0);
}
END_TEST

START_TEST(chains_under_collisions)
{
	/* A full table: many buckets hold 14 or 15 entries and some overflow, and removals
	 * from anywhere must leave the rest reachable. */
	enum { N = 4096 };
	static uint32_t idx[N];

	teardown();
	make_table(N);
	for (uint32_t i = 0; i < N; i++)
		idx[i] = add_flow(i, 0);
	for (uint32_t i = 0; i < N; i++) {
		ck_assert_uint_eq(find_in(i, 0), idx[i]);
		ck_assert_uint_eq(find_out(i, 0), idx[i]);
	}
	for (uint32_t i = 0; i < N; i += 3)
		nat_session_remove(t, idx[i], false);
	for (uint32_t i = 0; i < N; i++) {
		ck_assert_uint_eq(find_in(i, 0), i % 3 ? idx[i] : 0);
		ck_assert_uint_eq(find_out(i, 0), i % 3 ? idx[i] : 0);
	}
	for (uint32_t i = 0; i < N; i += 3)
		idx[i] = add_flow(i, 0);
	for (uint32_t i = 0; i < N; i++)
		ck_assert_uint_eq(find_out(i, 0), idx[i]);
	ck_assert_uint_eq(ctr.sessions_current, N);
}
END_TEST

/* The sum of the overflow counts of the index of sessions by inside key. */
static uint64_t overflow_total(void)
{
	uint64_t n = 0;

	for (uint32_t b = 0; b < nat_table_buckets(t); b++)
		n += nat_table_session_bucket(t, b)->overflow;
	return n;
}

/* Flows numbered from `first` on whose inside keys have flow first's two buckets: n of
 * them, in got[]. */
static void same_buckets(uint32_t first, uint32_t *got, unsigned n)
{
	struct nat_key k = in_key(first);
	uint32_t alt, want_alt, home = nat_key_home(t, &k, &want_alt);
	unsigned found = 0;

	for (uint32_t i = first; found < n && i < 60000; i++) {
		k = in_key(i);
		if (nat_key_home(t, &k, &alt) == home && alt == want_alt)
			got[found++] = i;
	}
	ck_assert_uint_eq(found, n);
}

START_TEST(full_bucket_overflows_and_drains)
{
	/* 40 flows with the same two buckets: 30 fill them, the rest overflow past the home.
	 * Each is found from both sides; the flows placed first expire first (LRU walk) and
	 * those left stay reachable; when all are gone no overflow count is left over. */
	enum { N = 40 };
	uint32_t flow[N + 1], s[N], home, alt;
	struct nat_key k = in_key(0);

	home = nat_key_home(t, &k, &alt);
	same_buckets(0, flow, N + 1);
	for (unsigned i = 0; i < N; i++)
		s[i] = add_flow(flow[i], i < N / 2 ? 0 : 50);
	ck_assert_uint_ge(nat_table_session_bucket(t, home)->overflow,
			  N - (home == alt ? 1 : 2) * NAT_BUCKET_SLOTS);
	for (unsigned i = 0; i < N; i++) {
		ck_assert_uint_eq(find_in(flow[i], 50), s[i]);
		ck_assert_uint_eq(find_out(flow[i], 50), s[i]);
	}
	/* A key of that bucket that is not there: the walk ends, with nothing. */
	ck_assert_uint_eq(find_in(flow[N], 50), 0);
	ck_assert_uint_eq(nat_table_expire(t, UDP_MS + 1, 1000), N / 2);
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(find_in(flow[i], UDP_MS + 1), i < N / 2 ? 0 : s[i]);
	ck_assert_uint_gt(overflow_total(), 0);
	/* A new flow of that home takes a slot freed in the home bucket. */
	ck_assert_uint_ne(add_flow(flow[N], UDP_MS + 1), 0);
	ck_assert_uint_ne(find_out(flow[N], UDP_MS + 1), 0);
	ck_assert_uint_eq(nat_table_expire(t, 1000, 1000), N / 2 + 1);
	ck_assert_uint_eq(ctr.sessions_current, 0);
	ck_assert_uint_eq(overflow_total(), 0);
}
END_TEST

/* An entry keeps no record of where its keys sit: removing it hashes them again and finds
 * its slot. Two flows whose inside keys share the home bucket and the tag: removing the one
 * in the later slot leaves the other (a removal that took the first slot with the tag would
 * take the other flow's), and the other way round. The pair is found by the hash: the tag
 * is the high half's bits above the index bits (7 at MAX), so equal bits 7-31 give equal
 * tags; the bucket's slots confirm it. */
static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void same_home_and_tag(uint32_t *a, uint32_t *b)
{
	enum { KEYS = 64000 };      /* external ports 1024 + i stay apart */
	static uint64_t seen[KEYS]; /* home and tag bits above, the flow below */

	for (uint32_t i = 0; i < KEYS; i++) {
		struct nat_key k = in_key(i);
		uint32_t alt, home = nat_key_home(t, &k, &alt);

		seen[i] = ((uint64_t)home << 25 | nat_key_hash(t, &k) >> 39) << 32 | i;
	}
	qsort(seen, KEYS, sizeof(seen[0]), by_value);
	for (uint32_t i = 1; i < KEYS; i++) {
		if (seen[i] >> 32 == seen[i - 1] >> 32) {
			*a = (uint32_t)seen[i - 1];
			*b = (uint32_t)seen[i];
			return;
		}
	}
	ck_abort_msg("no two keys with one home and tag");
}

/* The tags (the slot's bits above the entry's index) of sessions sa and sb in bucket b. */
static void tags_in(uint32_t b, uint32_t sa, uint32_t sb, uint32_t *ta, uint32_t *tb)
{
	const struct nat_bucket *bk = nat_table_session_bucket(t, b);

	*ta = *tb = 0;
	for (unsigned j = 0; j < NAT_BUCKET_SLOTS; j++) {
		if ((bk->slot[j] & (MAX * 2 - 1)) == sa)
			*ta = bk->slot[j] ^ sa;
		if ((bk->slot[j] & (MAX * 2 - 1)) == sb)
			*tb = bk->slot[j] ^ sb;
	}
}

START_TEST(removal_takes_its_own_slot_among_equal_tags)
{
	uint32_t a, b, sa, sb, ta, tb, alt, home;
	struct nat_key k;

	same_home_and_tag(&a, &b);
	k = in_key(a);
	home = nat_key_home(t, &k, &alt);
	sa = add_flow(a, 0);
	sb = add_flow(b, 0);
	tags_in(home, sa, sb, &ta, &tb);
	ck_assert_uint_ne(ta, 0);
	ck_assert_uint_eq(ta, tb);
	nat_session_remove(t, sb, false);
	ck_assert_uint_eq(find_in(a, 0), sa);
	ck_assert_uint_eq(find_out(a, 0), sa);
	ck_assert_uint_eq(find_in(b, 0), 0);
	sb = add_flow(b, 0);
	nat_session_remove(t, sa, false);
	ck_assert_uint_eq(find_in(b, 0), sb);
	ck_assert_uint_eq(find_in(a, 0), 0);
	nat_session_remove(t, sb, false);
	ck_assert_uint_eq(ctr.sessions_current, 0);
	for (unsigned j = 0; j < NAT_BUCKET_SLOTS; j++)
		ck_assert_uint_eq(nat_table_session_bucket(t, home)->slot[j], 0);
}
END_TEST

/* A flow that overflowed, removed while the others of its buckets stay: it is found past
 * its two buckets, it alone goes, the counts of the buckets it passed go down by one, and
 * the flows left (in the home, the alternative and overflowed) are all still found. */
START_TEST(overflowed_flow_removed_from_a_later_bucket)
{
	enum { N = 40 };
	uint32_t flow[N], s[N], before;

	same_buckets(0, flow, N);
	for (unsigned i = 0; i < N; i++)
		s[i] = add_flow(flow[i], 0);
	before = (uint32_t)overflow_total();
	ck_assert_uint_gt(before, 0);
	nat_session_remove(t, s[N - 3], false); /* placed after both buckets were full */
	ck_assert_uint_lt(overflow_total(), before);
	nat_session_remove(t, s[1], false); /* in the home */
	for (unsigned i = 0; i < N; i++) {
		bool gone = i == N - 3 || i == 1;

		ck_assert_uint_eq(find_in(flow[i], 0), gone ? 0 : s[i]);
		ck_assert_uint_eq(find_out(flow[i], 0), gone ? 0 : s[i]);
	}
	for (unsigned i = N; i-- > 0;)
		if (i != N - 3 && i != 1)
			nat_session_remove(t, s[i], false);
	ck_assert_uint_eq(ctr.sessions_current, 0);
	ck_assert_uint_eq(overflow_total(), 0);
}
END_TEST

START_TEST(full_table_churn_keeps_keys_in_their_buckets)
{
	/* A table full to its last slot whose flows are all replaced three times over, each
	 * new flow taking the place of the oldest. A key whose two buckets are both full makes
	 * room by moving a key of one to its other bucket, so hardly a key overflows: without
	 * the move a quarter of the buckets held overflow counts after such churn at 12 of 15,
	 * nearly all at 14 of 15 (docs/design.md). The flows are all still found. */
	enum { N = 10000, TURNS = 3 };
	static uint32_t s[N * (TURNS + 1)];

	teardown();
	make_table(N);
	for (uint32_t i = 0; i < N * (TURNS + 1); i++) {
		if (i >= N)
			nat_session_remove(t, s[i - N], false);
		s[i] = add_flow(i, 0);
	}
	ck_assert_uint_eq(ctr.sessions_current, N);
	ck_assert_uint_le(overflow_total(), N / 1000);
	for (uint32_t i = N * TURNS; i < N * (TURNS + 1); i++) {
		ck_assert_uint_eq(find_in(i, 0), s[i]);
		ck_assert_uint_eq(find_out(i, 0), s[i]);
	}
}
END_TEST

/* Removes every mapping it visits, and counts them. */
static int remove_visited(struct nat_table *tab, uint32_t idx, void *ctx)
{
	nat_mapping_remove(tab, idx);
	++*(unsigned *)ctx;
	return 0;
}

START_TEST(removal_during_endpoint_walk)
{
	/* 20 mappings on one external endpoint (one key, one home bucket, overflowing), each
	 * with a session: a walk that removes each mapping it visits visits all 20. */
	struct nat_mapping m = {.ext_port = 3000, .proto = IPPROTO_UDP, .flags = MAPF_IN_INDEXED};
	unsigned visited = 0;

	for (uint32_t i = 0; i < 20; i++) {
		struct nat_key k = {inside(i), 0, 4000, 0, IPPROTO_UDP};
		uint32_t idx;

		m.in_addr = k.addr;
		m.in_port = k.port;
		idx = nat_mapping_new(t, &m, &k);
		ck_assert_uint_ne(nat_session_new(t, idx, REMOTE, 53, NAPT_TIMEOUT_UDP, 0), 0);
	}
	nat_table_each_mapping_on(t, IPPROTO_UDP, 0, 3000, remove_visited, &visited);
	ck_assert_uint_eq(visited, 20);
	ck_assert_uint_eq(ctr.mappings_current, 0);
	ck_assert_uint_eq(ctr.sessions_current, 0);
	ck_assert_uint_eq(overflow_total(), 0);
}
END_TEST

START_TEST(max_sessions_fill_every_index)
{
	/* At max-sessions every index is filled to 14 slots of 15 on average: all entries
	 * are found, and once they all expire every bucket is empty again. */
	enum { N = 50000 };

	teardown();
	make_table(N);
	for (uint32_t i = 0; i < N; i++)
		ck_assert_uint_ne(add_flow(i, 0), 0);
	ck_assert_uint_eq(add_mapping(N), 0);
	for (uint32_t i = 0; i < N; i += 7) {
		ck_assert_uint_ne(find_in(i, 0), 0);
		ck_assert_uint_ne(find_out(i, 0), 0);
	}
	ck_assert_uint_eq(nat_table_expire(t, UDP_MS + 1, N), N);
	ck_assert_uint_eq(overflow_total(), 0);
	for (uint32_t b = 0; b < nat_table_buckets(t); b++)
		for (unsigned j = 0; j < NAT_BUCKET_SLOTS; j++)
			ck_assert_uint_eq(nat_table_session_bucket(t, b)->slot[j], 0);
}
END_TEST

static uint32_t order[MAX];
static unsigned n_order;

static int record(const struct nat_table *tab, uint32_t idx, void *ctx)
{
	(void)tab;
	(void)ctx;
	order[n_order++] = idx;
	return 0;
}

START_TEST(lru_expiry_oldest_first)
{
	uint32_t s[10];

	/* Created at T0+i, all in one 1024-ms slot; s[0] is touched in the next slot, so it
	 * moves to the tail (a touch within the slot of its last move would not move it). */
	const uint32_t T0 = 1014;

	for (uint32_t i = 0; i < 10; i++)
		s[i] = add_flow(i, T0 + i);
	nat_session_touch(t, s[0], NAPT_TIMEOUT_UDP, T0 + 50);
	/* At T0+105 sessions 1..4 are idle longer than 100 ms; 5 exactly 100 ms (kept). */
	ck_assert_uint_eq(nat_table_expire(t, T0 + 105, 2), 2);
	ck_assert(!live(s[1]) && !live(s[2]) && live(s[3]));
	ck_assert_uint_eq(nat_table_expire(t, T0 + 105, 100), 2);
	ck_assert(!live(s[3]) && !live(s[4]) && live(s[5]) && live(s[0]));
	ck_assert_uint_eq(ctr.sessions_expired, 4);
	ck_assert_uint_eq(ctr.mappings_current, 6);
	ck_assert(!port_held(1));
	n_order = 0;
	nat_table_each_session(t, record, NULL);
	ck_assert_uint_eq(n_order, 6);
	for (unsigned i = 0; i < 5; i++)
		ck_assert_uint_eq(order[i], s[5 + i]);
	ck_assert_uint_eq(order[5], s[0]);
}
END_TEST

START_TEST(expired_entries_not_returned)
{
	uint32_t s = add_flow(3, 1000);

	ck_assert_uint_eq(find_in(3, 1000 + UDP_MS), s); /* exactly the timeout: still there */
	ck_assert(!nat_session_expired(t, nat_session_at(t, s), 1000 + UDP_MS));
	ck_assert(nat_session_expired(t, nat_session_at(t, s), 1000 + UDP_MS + 1));
	ck_assert_uint_eq(find_out(3, 1000 + UDP_MS + 1), 0);
	ck_assert_uint_eq(ctr.sessions_expired, 1);
	ck_assert_uint_eq(ctr.mappings_current, 0);
	ck_assert_uint_eq(find_in(3, 1000), 0); /* removed, not merely hidden */
	/* The clock wraps in 32 bits. */
	s = add_flow(4, 0xfffffff0u);
	ck_assert_uint_eq(find_in(4, 0x50), s);
}
END_TEST

START_TEST(touch_changes_class)
{
	uint32_t s = add_flow(1, 0);

	nat_session_touch(t, s, NAPT_TIMEOUT_ICMP, 10);
	ck_assert_uint_eq(nat_session_at(t, s)->tclass, NAPT_TIMEOUT_ICMP);
	ck_assert_uint_eq(nat_table_expire(t, 10 + 500, 10), 0);
	ck_assert_uint_eq(find_in(1, 10 + 500), s);
	ck_assert_uint_eq(nat_table_expire(t, 10 + 501, 10), 1);
}
END_TEST

START_TEST(mapping_goes_with_its_last_session)
{
	uint32_t m = add_mapping(9);
	uint32_t s1 = nat_session_new(t, m, REMOTE, 53, NAPT_TIMEOUT_UDP, 0);
	uint32_t s2 = nat_session_new(t, m, REMOTE + 1, 53, NAPT_TIMEOUT_UDP, 0);
	struct nat_key mo = {EXT_ADDR, 0, 1033, 0, IPPROTO_UDP};

	ck_assert_uint_eq(nat_mapping_sessions(t, m), 2);
	nat_session_remove(t, s1, false);
	ck_assert_uint_eq(nat_mapping_find_out(t, &mo), m);
	ck_assert_uint_eq(nat_mapping_sessions(t, m), 1);
	ck_assert(port_held(9));
	nat_session_remove(t, s2, true);
	ck_assert_uint_eq(nat_mapping_find_out(t, &mo), 0);
	ck_assert(!port_held(9));
	ck_assert_uint_eq(ctr.mappings_current, 0);
	/* Removing a mapping removes all its sessions. */
	m = add_mapping(9);
	for (uint32_t r = 0; r < 5; r++)
		ck_assert_uint_ne(nat_session_new(t, m, REMOTE + r, 53, NAPT_TIMEOUT_UDP, 0), 0);
	nat_mapping_remove(t, m);
	ck_assert_uint_eq(ctr.sessions_current, 0);
	ck_assert_uint_eq(ctr.mappings_current, 0);
	ck_assert_uint_eq(find_in(9, 0), 0);
}
END_TEST

START_TEST(full_table_returns_0)
{
	uint32_t s[8], m;

	teardown();
	make_table(8);
	for (uint32_t i = 0; i < 8; i++)
		s[i] = add_flow(i, 0);
	ck_assert_uint_eq(add_mapping(8), 0);
	m = nat_session_mapping(t, s[0]);
	ck_assert_uint_eq(nat_session_new(t, m, REMOTE + 1, 53, NAPT_TIMEOUT_UDP, 0), 0);
	ck_assert_uint_eq(ctr.sessions_current, 8);
	nat_session_remove(t, s[3], false);
	ck_assert_uint_ne(add_flow(8, 0), 0);
	for (uint32_t i = 0; i < 8; i++)
		ck_assert_uint_eq(find_out(i, 0) != 0, i != 3);
}
END_TEST

START_TEST(flush_empties)
{
	for (uint32_t i = 0; i < 10; i++)
		add_flow(i, 0);
	nat_table_flush(t);
	ck_assert_uint_eq(ctr.sessions_current, 0);
	ck_assert_uint_eq(ctr.mappings_current, 0);
	ck_assert_uint_eq(ctr.sessions_removed, 10);
	n_order = 0;
	nat_table_each_session(t, record, NULL);
	ck_assert_uint_eq(n_order, 0);
	for (uint32_t i = 0; i < 10; i++) {
		ck_assert_uint_eq(find_in(i, 0), 0);
		ck_assert(!port_held(i));
	}
	for (uint32_t i = 0; i < MAX; i++)
		ck_assert_uint_ne(add_flow(i, 0), 0);
	ck_assert_uint_eq(add_mapping(MAX), 0);
}
END_TEST

/* Issue 11 item 1: under the old hash, for fixed addresses, bucket(ports) = secret part ^
 * G(ports) with G public, so the xor of two port pairs' buckets was the same under every
 * seed and colliding pairs could be found offline. Under a keyed hash of the whole key it
 * changes with the key: of 64 pairs of flows, the xor differs between two keys for most. */
START_TEST(bucket_differences_depend_on_the_key)
{
	const struct siphash_key other = {0x1234, 0x5678};
	struct nat_table *t2 = nat_table_create(MAX, &other, &ctr, &ext_addr, 1);
	unsigned differ = 0;

	ck_assert_ptr_nonnull(t2);
	for (uint16_t i = 0; i < 64; i++) {
		struct nat_key a = {0x0a01a8c0, REMOTE, (uint16_t)(1024 + i), 53, IPPROTO_UDP};
		struct nat_key b = {0x0a01a8c0, REMOTE, (uint16_t)(2048 + i), 80, IPPROTO_UDP};
		uint64_t d1 = nat_key_hash(t, &a) ^ nat_key_hash(t, &b);
		uint64_t d2 = nat_key_hash(t2, &a) ^ nat_key_hash(t2, &b);

		differ += (d1 & (MAX - 1)) != (d2 & (MAX - 1));
	}
	nat_table_destroy(t2);
	ck_assert_uint_ge(differ, 48);
}
END_TEST

/* Issue 11: the count of sessions per (external address, remote address) behind
 * nat_table_peer_known() follows every way a session ends. Each step makes sessions with
 * two remote addresses (one of them also on external address number 1), ends them one way,
 * and checks that no pair is left: a count that missed a removal would keep a stranger's
 * fragments held for good (docs/behaviour.md 10). */
static const uint16_t peer_ports[3] = {53, 54, 53};

static uint32_t peer_remote(unsigned k)
{
	return REMOTE + (k == 2);
}

/* Mapping i with sessions to REMOTE:53, REMOTE:54 and REMOTE+1:53, created at now. */
static void peers_flow(uint32_t i, uint32_t now)
{
	uint32_t m = add_mapping(i);

	for (unsigned k = 0; k < 3; k++)
		ck_assert_uint_ne(
		    nat_session_new(t, m, peer_remote(k), peer_ports[k], NAPT_TIMEOUT_UDP, now), 0);
}

/* Session k of peers_flow(i) looked up from the inside at now (0: none, or expired). */
static uint32_t peer_session(uint32_t i, unsigned k, uint32_t now)
{
	struct nat_key key = in_key(i);

	key.rem_addr = peer_remote(k);
	key.rem_port = peer_ports[k];
	return nat_session_find_in(t, &key, now);
}

/* A TCP session of inside host i to REMOTE on external address number 1: another pair. */
static void peers_flow_ext1(uint32_t i, uint32_t now)
{
	struct nat_mapping m = {.in_addr = inside(i),
				.in_port = 7000,
				.ext_index = 1,
				.ext_port = 7000,
				.proto = IPPROTO_TCP};
	uint32_t mi = nat_mapping_new(t, &m, NULL);

	ck_assert_uint_ne(mi, 0);
	ck_assert_uint_ne(nat_session_new(t, mi, REMOTE, 80, NAPT_TIMEOUT_TCP_TRANSITORY, now), 0);
}

static void assert_peers(bool known)
{
	ck_assert(nat_table_peer_known(t, 0, REMOTE) == known);
	ck_assert(nat_table_peer_known(t, 0, REMOTE + 1) == known);
	ck_assert(!nat_table_peer_known(t, 0, REMOTE + 2));
	ck_assert(!nat_table_peer_known(t, 1, REMOTE + 1));
	ck_assert_uint_eq(nat_table_peer_pairs(t), known ? 2 : 0);
}

START_TEST(peer_counts_follow_every_removal)
{
	uint32_t s;

	/* One session at a time, the last one taking its mapping with it. */
	peers_flow(1, 0);
	assert_peers(true);
	nat_session_remove(t, peer_session(1, 0, 0), false);
	assert_peers(true); /* REMOTE still has its session to port 54 */
	nat_session_remove(t, peer_session(1, 2, 0), false);
	ck_assert(nat_table_peer_known(t, 0, REMOTE) && !nat_table_peer_known(t, 0, REMOTE + 1));
	nat_session_remove(t, peer_session(1, 1, 0), false);
	ck_assert_uint_eq(ctr.mappings_current, 0);
	assert_peers(false);
	/* A mapping removed with its sessions (forward delete, renumbering, DMZ change). */
	peers_flow(2, 0);
	peers_flow_ext1(2, 0);
	ck_assert(nat_table_peer_known(t, 1, REMOTE));
	ck_assert_uint_eq(nat_table_peer_pairs(t), 3);
	nat_mapping_remove(t, nat_session_mapping(t, peer_session(2, 0, 0)));
	ck_assert(nat_table_peer_known(t, 1, REMOTE) && !nat_table_peer_known(t, 0, REMOTE));
	ck_assert_uint_eq(nat_table_peer_pairs(t), 1);
	/* Expiry by the reaper (the TCP session's transitory timeout, as after a RST, too). */
	peers_flow(3, 1000);
	ck_assert_uint_eq(nat_table_expire(t, 1000 + 2001, 100), 4);
	ck_assert(!nat_table_peer_known(t, 1, REMOTE));
	assert_peers(false);
	/* Expiry found by lookups, before the reaper comes. */
	peers_flow(4, 5000);
	ck_assert_uint_eq(peer_session(4, 0, 5000 + UDP_MS + 1), 0);
	ck_assert_uint_eq(peer_session(4, 2, 5000 + UDP_MS + 1), 0);
	ck_assert(nat_table_peer_known(t, 0, REMOTE) && !nat_table_peer_known(t, 0, REMOTE + 1));
	ck_assert_uint_eq(peer_session(4, 1, 5000 + UDP_MS + 1), 0);
	assert_peers(false);
	/* Expiry found by the liveness check of a mapping (address-dependent filtering). */
	peers_flow(5, 6000);
	s = peer_session(5, 0, 6000);
	ck_assert(!nat_mapping_live(t, nat_session_mapping(t, s), 6000 + UDP_MS + 1));
	assert_peers(false);
	/* Flush. */
	peers_flow(6, 7000);
	peers_flow_ext1(6, 7000);
	nat_table_flush(t);
	assert_peers(false);
	ck_assert(!nat_table_peer_known(t, 1, REMOTE));
	ck_assert_uint_eq(ctr.sessions_current, 0);
}
END_TEST

/* Removals from the middle of probe runs (backward shift) leave every other pair found: as
 * many pairs as sessions, a third of them removed, then the rest. */
START_TEST(peer_counts_exact_under_collisions)
{
	enum { N = 4096 };
	static uint32_t idx[N];

	teardown();
	make_table(N);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t m = add_mapping(i);

		idx[i] = nat_session_new(t, m, REMOTE + i, 53, NAPT_TIMEOUT_UDP, 0);
		ck_assert_uint_ne(idx[i], 0);
	}
	ck_assert_uint_eq(nat_table_peer_pairs(t), N);
	for (uint32_t i = 0; i < N; i += 3)
		nat_session_remove(t, idx[i], false);
	for (uint32_t i = 0; i < N + 16; i++)
		ck_assert(nat_table_peer_known(t, 0, REMOTE + i) == (i < N && i % 3));
	for (uint32_t i = 0; i < N; i++)
		if (i % 3)
			nat_session_remove(t, idx[i], true);
	ck_assert_uint_eq(nat_table_peer_pairs(t), 0);
	ck_assert_uint_eq(ctr.sessions_current, 0);
}
END_TEST

/* The same in full tables of 8 sessions (13 slots), 256 sets of remote addresses: probe runs
 * that wrap past the last slot, each pair removed in turn. */
START_TEST(peer_counts_exact_when_runs_wrap)
{
	enum { N = 8 };
	uint32_t idx[N];

	teardown();
	make_table(N);
	for (uint32_t set = 0; set < 256; set++) {
		uint32_t rem = REMOTE + set * N;

		for (uint32_t i = 0; i < N; i++)
			idx[i] =
			    nat_session_new(t, add_mapping(i), rem + i, 53, NAPT_TIMEOUT_UDP, 0);
		for (uint32_t k = 0; k < N; k++) {
			nat_session_remove(t, idx[k * 3 % N], false);
			for (uint32_t i = 0; i < N; i++)
				ck_assert(nat_table_peer_known(t, 0, rem + i) ==
					  (nat_session_at(t, idx[i])->proto != 0));
		}
		ck_assert_uint_eq(nat_table_peer_pairs(t), 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nat_table");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, insert_find_remove);
	tcase_add_test(tc, chains_under_collisions);
	tcase_add_test(tc, full_bucket_overflows_and_drains);
	tcase_add_test(tc, removal_takes_its_own_slot_among_equal_tags);
	tcase_add_test(tc, overflowed_flow_removed_from_a_later_bucket);
	tcase_add_test(tc, full_table_churn_keeps_keys_in_their_buckets);
	tcase_add_test(tc, removal_during_endpoint_walk);
	tcase_add_test(tc, max_sessions_fill_every_index);
	tcase_add_test(tc, lru_expiry_oldest_first);
	tcase_add_test(tc, expired_entries_not_returned);
	tcase_add_test(tc, touch_changes_class);
	tcase_add_test(tc, mapping_goes_with_its_last_session);
	tcase_add_test(tc, full_table_returns_0);
	tcase_add_test(tc, flush_empties);
	tcase_add_test(tc, bucket_differences_depend_on_the_key);
	tcase_add_test(tc, peer_counts_follow_every_removal);
	tcase_add_test(tc, peer_counts_exact_under_collisions);
	tcase_add_test(tc, peer_counts_exact_when_runs_wrap);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
