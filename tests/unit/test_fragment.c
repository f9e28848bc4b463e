/* SPDX-License-Identifier: BSD-2-Clause */
/* test_fragment.c - remembered first-fragment translations and the held-fragment pool
 * (docs/behaviour.md section 10, RFC 4787 REQ-14). */
#include <check.h>
#include <string.h>

#include "fragment.h"
#include "unit_run.h"

static struct frag_table ft;
static const struct siphash_key frag_key_secret = {7, 8};

static void setup(void)
{
	frag_table_init(&ft, &frag_key_secret);
}

#define HOST_A 0x0a01a8c0u /* 192.168.1.10 */

static struct frag_key key_from(uint32_t src, uint16_t id)
{
	return (struct frag_key){.src = src, .dst = 0x076433c6, .id = id, .proto = 17};
}

static struct frag_key key(uint16_t id)
{
	return key_from(HOST_A, id);
}

/* Hold a fragment of datagram id from src, filled with tag; whether one was evicted. */
static bool hold_from(uint32_t src, uint16_t id, uint8_t tag, size_t len, uint32_t now)
{
	struct frag_key k = key_from(src, id);
	uint8_t data[FRAG_HELD_MAX];
	bool evicted;

	memset(data, tag, len);
	ck_assert(frag_hold(&ft, &k, data, len, now, &evicted));
	return evicted;
}

static void hold(uint16_t id, uint8_t tag, size_t len, uint32_t now)
{
	ck_assert(!hold_from(HOST_A, id, tag, len, now));
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

	frag_remember(&ft, &k, &rw, 1000);
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

	frag_remember(&ft, &k, &rw, 1000);
	ck_assert(frag_lookup(&ft, &k, 1000 + FRAG_TIMEOUT_MS, &got));
	ck_assert(!frag_lookup(&ft, &k, 1000 + FRAG_TIMEOUT_MS + 1, &got));
	/* The millisecond clock wraps in 32 bits. */
	frag_remember(&ft, &k, &rw, 0xfffff000u);
	ck_assert(frag_lookup(&ft, &k, 0x100, &got));
}
END_TEST

/* Issue 11 item 6: one host sending first fragments as fast as it likes keeps at most its
 * share of the remembered translations, its own oldest giving way: another host's entry made
 * before the flood is still there after it, and so is one made during it. */
START_TEST(one_host_cannot_fill_the_ring)
{
	const uint32_t other = 0x0b01a8c0u; /* 192.168.1.11 */
	struct frag_rewrite rw = {1, 2}, got;
	struct frag_key victim = key_from(other, 1), late = key_from(other, 2), k;

	frag_remember(&ft, &victim, &rw, 0);
	for (unsigned i = 0; i < 4 * FRAG_ENTRIES; i++) {
		k = key((uint16_t)i);
		frag_remember(&ft, &k, &rw, 1 + i / 8);
		if (i == 2 * FRAG_ENTRIES)
			frag_remember(&ft, &late, &rw, 1 + i / 8);
	}
	ck_assert(frag_lookup(&ft, &victim, 1000, &got));
	ck_assert(frag_lookup(&ft, &late, 1000, &got));
	/* The flood's newest FRAG_PER_SOURCE entries remain, the one before them is gone. */
	k = key(4 * FRAG_ENTRIES - 1);
	ck_assert(frag_lookup(&ft, &k, 1000, &got));
	k = key(4 * FRAG_ENTRIES - FRAG_PER_SOURCE);
	ck_assert(frag_lookup(&ft, &k, 1000, &got));
	k = key(4 * FRAG_ENTRIES - FRAG_PER_SOURCE - 1);
	ck_assert(!frag_lookup(&ft, &k, 1000, &got));
}
END_TEST

/* Expired entries do not count against a source's share: after ten seconds a host's next
 * FRAG_PER_SOURCE datagrams are all remembered, none taking another's place. */
START_TEST(expired_entries_leave_the_share)
{
	const uint32_t later = FRAG_TIMEOUT_MS + 1;
	struct frag_rewrite rw = {1, 2}, got;
	struct frag_key k;

	for (uint16_t i = 0; i < 2 * FRAG_PER_SOURCE; i++) {
		k = key(i);
		frag_remember(&ft, &k, &rw, i < FRAG_PER_SOURCE ? 0 : later);
	}
	for (uint16_t i = FRAG_PER_SOURCE; i < 2 * FRAG_PER_SOURCE; i++) {
		k = key(i);
		ck_assert(frag_lookup(&ft, &k, later, &got));
	}
	k = key(0);
	ck_assert(!frag_lookup(&ft, &k, later, &got));
}
END_TEST

/* Many sources, each under its share: the ring takes new entries over the oldest live ones
 * instead of refusing them for ten seconds. */
START_TEST(full_ring_replaces_its_oldest)
{
	struct frag_rewrite rw = {1, 2}, got;
	struct frag_key k;

	for (uint32_t i = 0; i <= FRAG_ENTRIES; i++) {
		k = key_from(HOST_A + (i << 16), (uint16_t)i);
		frag_remember(&ft, &k, &rw, i);
	}
	ck_assert(frag_lookup(&ft, &k, FRAG_ENTRIES, &got));
	k = key_from(HOST_A, 0);
	ck_assert(!frag_lookup(&ft, &k, FRAG_ENTRIES, &got));
	k = key_from(HOST_A + (1u << 16), 1);
	ck_assert(frag_lookup(&ft, &k, FRAG_ENTRIES, &got));
}
END_TEST

/* The same for the held pool: a host holding its share trades its own oldest waiting
 * fragment for a new one, and the pool keeps room for another host's. */
START_TEST(one_host_cannot_fill_the_pool)
{
	const uint32_t other = 0x0b01a8c0u;
	uint8_t buf[FRAG_HELD_MAX];
	struct frag_rewrite rw = {1, 2}, got;
	struct frag_key k = key_from(other, 5);
	bool inbound;

	for (unsigned i = 0; i < FRAG_HELD_PER_SOURCE; i++)
		ck_assert(!hold_from(HOST_A, (uint16_t)i, (uint8_t)i, 60, i));
	for (unsigned i = FRAG_HELD_PER_SOURCE; i < 4 * FRAG_HELD; i++)
		ck_assert(hold_from(HOST_A, (uint16_t)i, (uint8_t)i, 60, i));
	ck_assert_uint_eq(ft.n_held, FRAG_HELD_PER_SOURCE);
	ck_assert(!hold_from(other, 5, 'o', 60, 1000));
	frag_release(&ft, &k, &rw, true);
	ck_assert_uint_eq(frag_take_ready(&ft, buf, sizeof(buf), &got, &inbound), 60);
	ck_assert_int_eq(buf[0], 'o');
	/* The flooding host kept its newest. */
	ck_assert_int_eq(take(4 * FRAG_HELD - 1), (uint8_t)(4 * FRAG_HELD - 1));
	ck_assert_int_eq(take(4 * FRAG_HELD - FRAG_HELD_PER_SOURCE - 1), -1);
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
	struct frag_rewrite rw = {1, 2}, got;
	bool inbound, evicted;

	ck_assert(!frag_hold(&ft, &k, data, FRAG_HELD_MAX + 1, 0, &evicted));
	/* A full pool of many sources: a newcomer takes the oldest waiting fragment's slot. */
	for (unsigned i = 0; i < FRAG_HELD; i++)
		ck_assert(!hold_from(HOST_A + (i << 16), 9, (uint8_t)i, FRAG_HELD_MAX, i));
	ck_assert(hold_from(HOST_A + (200u << 16), 9, 'n', 20, 100));
	ck_assert_uint_eq(ft.n_held, FRAG_HELD);
	/* Released fragments are the caller's: a pool full of them takes nothing. */
	for (unsigned i = 0; i < FRAG_HELD; i++) {
		struct frag_key r = key_from(HOST_A + (i << 16), 9);

		frag_release(&ft, &r, &rw, false);
	}
	k = key_from(HOST_A + (200u << 16), 9);
	frag_release(&ft, &k, &rw, false);
	ck_assert(!frag_hold(&ft, &k, data, 20, 0, &evicted));
	/* A buffer too small leaves the fragment held. */
	ck_assert_uint_eq(frag_take_ready(&ft, small, sizeof(small), &got, &inbound), 0);
	ck_assert_uint_eq(ft.n_held, FRAG_HELD);
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
	tcase_add_test(tc, one_host_cannot_fill_the_ring);
	tcase_add_test(tc, expired_entries_leave_the_share);
	tcase_add_test(tc, full_ring_replaces_its_oldest);
	tcase_add_test(tc, one_host_cannot_fill_the_pool);
	tcase_add_test(tc, held_released_in_arrival_order);
	tcase_add_test(tc, held_pool_limits);
	tcase_add_test(tc, held_expire_after_ten_seconds);
	tcase_add_test(tc, ready_fragments_wait_for_the_caller);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
