/* SPDX-License-Identifier: BSD-2-Clause */
/* test_port_alloc.c - the port bitmaps and the choice of RFC 6056 algorithm 1 with port
 * preservation (docs/behaviour.md section 3). */
#include <check.h>
#include <string.h>

#include "port_alloc.h"
#include "unit_run.h"

static struct port_pool pool;
static uint64_t reserved[PORT_BITMAP_WORDS];

static void setup(void)
{
	memset(&pool, 0, sizeof(pool));
	memset(reserved, 0, sizeof(reserved));
}

static void reserve(uint16_t port)
{
	reserved[port / 64] |= 1ull << (port % 64);
}

START_TEST(take_and_release_one_bit)
{
	port_pool_take(&pool, NAPT_P_UDP, 3, 5000);
	ck_assert(port_bit(pool.used[NAPT_P_UDP][3], 5000));
	/* Protocols and external addresses have separate bitmaps. */
	ck_assert(!port_bit(pool.used[NAPT_P_TCP][3], 5000));
	ck_assert(!port_bit(pool.used[NAPT_P_UDP][2], 5000));
	ck_assert(!port_bit(pool.used[NAPT_P_UDP][3], 5001));
	port_pool_release(&pool, NAPT_P_UDP, 3, 5000, true);
	ck_assert(!port_bit(pool.used[NAPT_P_UDP][3], 5000));
}
END_TEST

START_TEST(preferred_port_kept_when_free)
{
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 1024, 65535, 40000, -1, 7, NULL),
			 40000);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 1024, 65535, 65535, -1, 7, NULL),
			 65535);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 1024, 65535, 1024, -1, 7, NULL),
			 1024);
}
END_TEST

START_TEST(preferred_port_out_of_range_or_taken)
{
	/* Random start lo + random % n, then the next free port upwards. */
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 1024, 2047, 80, -1, 5, NULL), 1029);
	port_pool_take(&pool, NAPT_P_TCP, 0, 40000);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 30000, 49999, 40000, -1, 0, NULL),
			 30000);
	reserve(1500);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 1024, 2047, 1500, -1, 0, reserved),
			 1024);
	/* 0 is "no preference", even with 0 inside the range. */
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 0, 99, 0, -1, 42, NULL), 42);
}
END_TEST

START_TEST(next_free_upwards_skips_used_and_reserved)
{
	for (uint16_t p = 2000; p < 2200; p++)
		port_pool_take(&pool, NAPT_P_UDP, 1, p);
	reserve(2200);
	reserve(2201);
	/* start = 1024 + 976 = 2000: 2000..2199 used, 2200..2201 claimed by a forward. */
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_UDP, 1, 1024, 65535, 0, -1, 976, reserved),
			 2202);
	/* Another address's bitmap is free there. */
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_UDP, 2, 1024, 65535, 0, -1, 976, reserved),
			 2000);
}
END_TEST

START_TEST(wraps_to_the_bottom_of_the_range)
{
	for (uint32_t p = 60000; p <= 65535; p++)
		port_pool_take(&pool, NAPT_P_TCP, 0, (uint16_t)p);
	port_pool_take(&pool, NAPT_P_TCP, 0, 1024);
	ck_assert_int_eq(
	    port_pool_pick(&pool, NAPT_P_TCP, 0, 1024, 65535, 0, -1, 60000 - 1024, NULL), 1025);
}
END_TEST

START_TEST(range_edges_and_exhaustion)
{
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_ICMP, 0, 7000, 7000, 0, -1, 12345, NULL),
			 7000);
	port_pool_take(&pool, NAPT_P_ICMP, 0, 7000);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_ICMP, 0, 7000, 7000, 7000, -1, 1, NULL), -1);
	for (uint16_t p = 100; p <= 163; p++)
		port_pool_take(&pool, NAPT_P_TCP, 0, p);
	reserve(164);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 100, 164, 120, -1, 9, reserved), -1);
	/* The port just past hi is free but outside the range. */
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 0, 100, 163, 0, -1, 63, NULL), -1);
}
END_TEST

START_TEST(every_port_of_a_range_is_reached)
{
	/* Picking and taking n times fills the whole range exactly once. */
	for (uint32_t i = 0; i < 300; i++) {
		int p = port_pool_pick(&pool, NAPT_P_UDP, 0, 5000, 5299, 0, -1, i * 7919u, NULL);

		ck_assert_int_ge(p, 5000);
		ck_assert_int_le(p, 5299);
		ck_assert(!port_bit(pool.used[NAPT_P_UDP][0], (uint16_t)p));
		port_pool_take(&pool, NAPT_P_UDP, 0, (uint16_t)p);
	}
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_UDP, 0, 5000, 5299, 0, -1, 1, NULL), -1);
}
END_TEST

/* RFC 4787 REQ-4: with parity asked, the port chosen has the inside port's parity, also
 * when the random start lands on the other parity or the free ports run out. */
START_TEST(parity_is_kept)
{
	for (uint64_t r = 0; r < 200; r++) {
		int even = port_pool_pick(&pool, NAPT_P_UDP, 0, 1024, 2047, 0, 0, r, NULL);
		int odd = port_pool_pick(&pool, NAPT_P_UDP, 0, 1024, 2047, 0, 1, r, NULL);

		ck_assert(even >= 1024 && even <= 2047 && even % 2 == 0);
		ck_assert(odd >= 1024 && odd <= 2047 && odd % 2 == 1);
	}
	/* Only odd ports free: an even port cannot be had. */
	for (uint32_t p = 1024; p <= 1100; p += 2)
		port_pool_take(&pool, NAPT_P_UDP, 0, (uint16_t)p);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_UDP, 0, 1024, 1100, 0, 0, 3, NULL), -1);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_UDP, 0, 1024, 1100, 0, 1, 3, NULL) % 2, 1);
}
END_TEST

/* RFC 6888 REQ-8: with ticks before each pick, a released port is taken again no sooner
 * than rest_ms after its release and no later than twice that; the clock wraps. */
static void rest_cycle(uint32_t t0)
{
	port_pool_set_rest(&pool, 120000);
	port_pool_tick(&pool, t0);
	port_pool_take(&pool, NAPT_P_UDP, 0, 5000);
	port_pool_release(&pool, NAPT_P_UDP, 0, 5000, true);
	for (uint32_t t = t0; t - t0 < 240000; t += 1000) {
		port_pool_tick(&pool, t);
		if (t - t0 < 120000)
			ck_assert_int_eq(
			    port_pool_pick(&pool, NAPT_P_UDP, 0, 5000, 5000, 5000, -1, 0, NULL),
			    -1);
	}
	port_pool_tick(&pool, t0 + 240000);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_UDP, 0, 5000, 5000, 5000, -1, 0, NULL), 5000);
}

START_TEST(released_port_rests)
{
	rest_cycle(1000);
}
END_TEST

START_TEST(rest_across_clock_wrap)
{
	rest_cycle(0xffffffffu - 60000);
}
END_TEST

/* Without a rest (deterministic ports, port-rest 0) a port is free at once; a resting port
 * is taken, not just avoided, by neither the preferred nor the scan. */
START_TEST(no_rest_frees_at_once)
{
	port_pool_set_rest(&pool, 120000);
	port_pool_tick(&pool, 0);
	port_pool_take(&pool, NAPT_P_TCP, 1, 7000);
	port_pool_release(&pool, NAPT_P_TCP, 1, 7000, false);
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 1, 7000, 7001, 7000, -1, 0, NULL), 7000);
	port_pool_take(&pool, NAPT_P_TCP, 1, 7000);
	port_pool_release(&pool, NAPT_P_TCP, 1, 7000, true);
	ck_assert(port_pool_resting(&pool, NAPT_P_TCP, 1, 7000));
	ck_assert_int_eq(port_pool_pick(&pool, NAPT_P_TCP, 1, 7000, 7001, 7000, -1, 0, NULL), 7001);
}
END_TEST

/* Blocks of 10 in 1000-1034: three per address, the tail 1030-1034 in none. A block with
 * a port used or resting in any protocol is not free; the block of the preferred port comes
 * first. */
START_TEST(blocks_layout_and_free)
{
	struct port_blocks *pb = port_blocks_create(10, 1000, 1034, 2);
	unsigned ext;
	uint16_t lo, hi;

	ck_assert_ptr_nonnull(pb);
	ck_assert_uint_eq(pb->per_ext, 3);
	ck_assert_uint_eq(port_blocks_of(pb, 1, 1015), 3 + 1 + 1);
	ck_assert_uint_eq(port_blocks_of(pb, 0, 1030), 0);
	ck_assert_uint_eq(port_blocks_of(pb, 0, 999), 0);
	port_blocks_range(pb, 4, &ext, &lo, &hi);
	ck_assert_uint_eq(ext, 1);
	ck_assert_uint_eq(lo, 1010);
	ck_assert_uint_eq(hi, 1019);
	ck_assert_uint_eq(port_blocks_find_free(pb, &pool, 0, 1025, 0), 3);
	port_pool_take(&pool, NAPT_P_ICMP, 0, 1029);
	ck_assert_uint_ne(port_blocks_find_free(pb, &pool, 0, 1025, 0), 3);
	port_pool_set_rest(&pool, 1000);
	port_pool_release(&pool, NAPT_P_ICMP, 0, 1029, true); /* resting: still not free */
	ck_assert_uint_ne(port_blocks_find_free(pb, &pool, 0, 1025, 0), 3);
	pb->b[0].owner = 1;
	pb->b[1].owner = 1;
	ck_assert_uint_eq(port_blocks_find_free(pb, &pool, 0, 0, 7), 0);
	ck_assert_uint_eq(port_blocks_find_free(pb, &pool, 1, 0, 7), 3 + 1 + 1); /* 7 % 3 = 1 */
	port_blocks_destroy(pb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("port_alloc");
	TCase *tc = tcase_create("pick");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, take_and_release_one_bit);
	tcase_add_test(tc, preferred_port_kept_when_free);
	tcase_add_test(tc, preferred_port_out_of_range_or_taken);
	tcase_add_test(tc, next_free_upwards_skips_used_and_reserved);
	tcase_add_test(tc, wraps_to_the_bottom_of_the_range);
	tcase_add_test(tc, range_edges_and_exhaustion);
	tcase_add_test(tc, every_port_of_a_range_is_reached);
	tcase_add_test(tc, parity_is_kept);
	tcase_add_test(tc, released_port_rests);
	tcase_add_test(tc, rest_across_clock_wrap);
	tcase_add_test(tc, no_rest_frees_at_once);
	tcase_add_test(tc, blocks_layout_and_free);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
