/* SPDX-License-Identifier: BSD-2-Clause */
/* test_fragment.c - remembered first-fragment translations and the held-fragment pool
 * (docs/behaviour.md section 10, RFC 4787 REQ-14). */
#include <check.h>
#include <string.h>

#include "fragment.h"
#include "unit_run.h"

static struct frag_table ft;

static void setup(void)
{
	frag_table_init(&ft);
}

static struct frag_key key(uint16_t id)
{
	return (struct frag_key){.src = 0x0a01a8c0, .dst = 0x076433c6, .id = id, .proto = 17};
}

static void hold(uint16_t id, uint8_t tag, size_t len, uint32_t now)
{
	struct frag_key k = key(id);
	uint8_t data[FRAG_HELD_MAX];

	memset(data, tag, len);
	ck_assert(frag_hold(&ft, &k, data, len, now));
}

/* Datagram id's first fragment came: the tag byte of the oldest ready fragment, or -1. */
static int take(uint16_t id)
{
	struct frag_key k = key(id);
	struct frag_rewrite rw = {1, 2}, got;
	uint8_t buf[FRAG_HELD_MAX];
	bool inbound;

	frag_release(&ft, &k, &rw, true);
	if (!frag_take_ready(&ft, buf, sizeof(buf), &got, &inbound))
		return -1;
	return buf[0];
}

START_TEST(remember_and_lookup)
{
	struct frag_key k = key(7), other;
	struct frag_rewrite rw = {0x01710ccb, 0x076433c6}, got;

	ck_assert(frag_remember(&ft, &k, &rw, 1000));
	ck_assert(frag_lookup(&ft, &k, 1000, &got));
	ck_assert_uint_eq(got.src, rw.src);
	ck_assert_uint_eq(got.dst, rw.dst);
	/* Every part of the key counts. */
	other = k;
	other.id = 8;
	ck_assert(!frag_lookup(&ft, &other, 1000, &got));
	other = k;
	other.proto = 6;
	ck_assert(!frag_lookup(&ft, &other, 1000, &got));
	other = k;
	other.src ^= 1;
	ck_assert(!frag_lookup(&ft, &other, 1000, &got));
	other = k;
	other.dst ^= 1;
	ck_assert(!frag_lookup(&ft, &other, 1000, &got));
}
END_TEST

START_TEST(remembered_for_ten_seconds)
{
	struct frag_key k = key(7);
	struct frag_rewrite rw = {1, 2}, got;

	ck_assert(frag_remember(&ft, &k, &rw, 1000));
	ck_assert(frag_lookup(&ft, &k, 1000 + FRAG_TIMEOUT_MS, &got));
	ck_assert(!frag_lookup(&ft, &k, 1000 + FRAG_TIMEOUT_MS + 1, &got));
	/* The millisecond clock wraps in 32 bits. */
	ck_assert(frag_remember(&ft, &k, &rw, 0xfffff000u));
	ck_assert(frag_lookup(&ft, &k, 0x100, &got));
}
END_TEST

START_TEST(full_ring_refuses_until_the_oldest_expires)
{
	struct frag_rewrite rw = {1, 2}, got;
	struct frag_key k;

	for (uint16_t i = 0; i < FRAG_ENTRIES; i++) {
		k = key(i);
		ck_assert(frag_remember(&ft, &k, &rw, i));
	}
	k = key(FRAG_ENTRIES);
	ck_assert(!frag_remember(&ft, &k, &rw, 5000));
	/* At 10001 ms only entry 0 is older than the timeout: it makes room. */
	ck_assert(frag_remember(&ft, &k, &rw, FRAG_TIMEOUT_MS + 1));
	ck_assert(frag_lookup(&ft, &k, FRAG_TIMEOUT_MS + 1, &got));
	k = key(0);
	ck_assert(!frag_lookup(&ft, &k, FRAG_TIMEOUT_MS + 1, &got));
	k = key(1);
	ck_assert(frag_lookup(&ft, &k, FRAG_TIMEOUT_MS + 1, &got));
	k = key(FRAG_ENTRIES + 1);
	ck_assert(!frag_remember(&ft, &k, &rw, FRAG_TIMEOUT_MS + 1));
}
END_TEST

START_TEST(held_released_in_arrival_order)
{
	hold(1, 'a', 100, 0);
	hold(2, 'x', 100, 1);
	hold(1, 'b', 100, 2);
	hold(1, 'c', 100, 3);
	ck_assert_uint_eq(ft.n_held, 4);
	ck_assert_int_eq(take(1), 'a');
	ck_assert_int_eq(take(1), 'b');
	hold(1, 'd', 100, 4); /* lands in a freed slot, still after c */
	ck_assert_int_eq(take(1), 'c');
	ck_assert_int_eq(take(1), 'd');
	ck_assert_int_eq(take(1), -1);
	ck_assert_int_eq(take(2), 'x');
	ck_assert_uint_eq(ft.n_held, 0);
}
END_TEST

START_TEST(held_pool_limits)
{
	struct frag_key k = key(9);
	uint8_t data[FRAG_HELD_MAX + 1] = {0}, small[10];

	ck_assert(!frag_hold(&ft, &k, data, FRAG_HELD_MAX + 1, 0));
	for (unsigned i = 0; i < FRAG_HELD; i++)
		hold(9, (uint8_t)i, FRAG_HELD_MAX, 0);
	ck_assert(!frag_hold(&ft, &k, data, 20, 0));
	/* A buffer too small leaves the fragment held. */
	struct frag_rewrite rw = {1, 2}, got;
	bool inbound;

	frag_release(&ft, &k, &rw, false);
	ck_assert_uint_eq(frag_take_ready(&ft, small, sizeof(small), &got, &inbound), 0);
	ck_assert_uint_eq(ft.n_held, FRAG_HELD);
	ck_assert_int_eq(take(9), 0);
	ck_assert(frag_hold(&ft, &k, data, 20, 0));
}
END_TEST

START_TEST(held_expire_after_ten_seconds)
{
	hold(1, 'a', 60, 0);
	hold(2, 'b', 60, 5000);
	ck_assert_uint_eq(frag_expire(&ft, FRAG_TIMEOUT_MS), 0);
	ck_assert_uint_eq(frag_expire(&ft, FRAG_TIMEOUT_MS + 1), 1);
	ck_assert_int_eq(take(1), -1);
	ck_assert_uint_eq(frag_expire(&ft, 5000 + FRAG_TIMEOUT_MS + 1), 1);
	ck_assert_uint_eq(ft.n_held, 0);
}
END_TEST

START_TEST(ready_fragments_wait_for_the_caller)
{
	struct frag_key k = key(3);
	struct frag_rewrite rw = {5, 6}, got;
	uint8_t buf[FRAG_HELD_MAX];
	bool inbound = true;

	hold(3, 'r', 60, 0);
	hold(4, 'q', 60, 0);
	frag_release(&ft, &k, &rw, false);
	/* Released before the timeout, it is no longer the reaper's to drop. */
	ck_assert_uint_eq(frag_expire(&ft, 10 * FRAG_TIMEOUT_MS), 1);
	ck_assert_uint_eq(frag_take_ready(&ft, buf, sizeof(buf), &got, &inbound), 60);
	ck_assert(buf[0] == 'r' && got.src == 5 && got.dst == 6 && !inbound);
	ck_assert_uint_eq(frag_take_ready(&ft, buf, sizeof(buf), &got, &inbound), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fragment");
	TCase *tc = tcase_create("fragments");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, remember_and_lookup);
	tcase_add_test(tc, remembered_for_ten_seconds);
	tcase_add_test(tc, full_ring_refuses_until_the_oldest_expires);
	tcase_add_test(tc, held_released_in_arrival_order);
	tcase_add_test(tc, held_pool_limits);
	tcase_add_test(tc, held_expire_after_ten_seconds);
	tcase_add_test(tc, ready_fragments_wait_for_the_caller);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
