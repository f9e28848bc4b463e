/* SPDX-License-Identifier: BSD-2-Clause */
/* test_checksum.c - checksum.c against the RFC examples and against the tests' own full
 * recomputation (packet_builder.c) over random buffers. */
#include <check.h>
#include <string.h>

#include "checksum.h"
#include "packet_builder.h"
#include "prng.h"
#include "unit_run.h"

/* A 16-bit word as it lies in memory, from its two bytes in wire order. */
static uint16_t stored(uint8_t hi, uint8_t lo)
{
	uint8_t b[2] = {hi, lo};
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

static uint16_t as_stored(uint16_t wire_order)
{
	return stored((uint8_t)(wire_order >> 8), (uint8_t)wire_order);
}

static uint16_t wire(uint16_t stored_word)
{
	uint8_t b[2];

	memcpy(b, &stored_word, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

START_TEST(rfc1071_example)
{
	/* RFC 1071 section 3: these bytes sum to 0xddf2, so the checksum is 0x220d. */
	static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	ck_assert_uint_eq(csum_fold(csum_add_bytes(0, data, sizeof(data))), 0xddf2);
	ck_assert_uint_eq(wire(csum_buffer(data, sizeof(data))), 0x220d);
}
END_TEST

START_TEST(odd_length_pads_with_zero)
{
	/* RFC 1071 section 4.1: a last lone byte is the high half of a word. */
	static const uint8_t data[] = {0x01, 0x02, 0x03};

	ck_assert_uint_eq(csum_fold(csum_add_bytes(0, data, 3)), 0x0402);
	ck_assert_uint_eq(wire(csum_buffer(data, 3)), 0xfbfd);
}
END_TEST

START_TEST(fold_carries_twice)
{
	ck_assert_uint_eq(csum_fold(0x1fffe), 0xffff);
	ck_assert_uint_eq(csum_fold(0xffffffff), 0xffff);
	ck_assert_uint_eq(csum_fold(0xffff0001), 0x0001);
	ck_assert_uint_eq(csum_fold(0), 0);
}
END_TEST

START_TEST(rfc1624_section4_example)
{
	/* HC = 0xDD2F, m = 0x5555 -> m' = 0x3285: eqn 3 gives 0x0000 (eqn 2 would give the
	 * -0 0xFFFF). The words are passed as they lie in memory (network order). */
	uint16_t hc = csum_update16(stored(0xdd, 0x2f), stored(0x55, 0x55), stored(0x32, 0x85));

	ck_assert_uint_eq(wire(hc), 0x0000);
}
END_TEST

static void random_bytes(struct prng *r, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)prng_next(r);
	p[0] |= 1; /* never all zero: then +0 and -0 would both be right */
}

START_TEST(buffer_matches_independent_sum)
{
	struct prng r;
	uint8_t buf[256];

	prng_seed(&r, 1071);
	for (int i = 0; i < 5000; i++) {
		size_t len = 1 + prng_next(&r) % sizeof(buf);

		random_bytes(&r, buf, len);
		ck_assert_uint_eq(wire(csum_buffer(buf, len)), pb_checksum(buf, len));
	}
}
END_TEST

START_TEST(update16_matches_full_recomputation)
{
	struct prng r;
	uint8_t buf[128];

	prng_seed(&r, 1624);
	for (int i = 0; i < 5000; i++) {
		size_t len = 2 + prng_next(&r) % (sizeof(buf) - 1);
		size_t at = (prng_next(&r) % (len / 2)) * 2;
		uint16_t check, old, new;

		random_bytes(&r, buf, len);
		check = as_stored(pb_checksum(buf, len));
		memcpy(&old, buf + at, 2);
		new = (uint16_t)prng_next(&r);
		memcpy(buf + at, &new, 2);
		ck_assert_uint_eq(wire(csum_update16(check, old, new)), pb_checksum(buf, len));
	}
}
END_TEST

START_TEST(update32_matches_full_recomputation)
{
	struct prng r;
	uint8_t buf[64];

	prng_seed(&r, 3022);
	for (int i = 0; i < 5000; i++) {
		size_t at = (prng_next(&r) % (sizeof(buf) / 4)) * 4;
		uint16_t check;
		uint32_t old, new = (uint32_t)prng_next(&r);

		random_bytes(&r, buf, sizeof(buf));
		check = as_stored(pb_checksum(buf, sizeof(buf)));
		memcpy(&old, buf + at, 4);
		memcpy(buf + at, &new, 4);
		ck_assert_uint_eq(wire(csum_update32(check, old, new)),
				  pb_checksum(buf, sizeof(buf)));
	}
}
END_TEST

START_TEST(update_of_unchanged_word_keeps_checksum)
{
	static const uint8_t data[] = {0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00};
	uint16_t check = csum_buffer(data, sizeof(data));

	ck_assert_uint_eq(csum_update16(check, stored(0x12, 0x34), stored(0x12, 0x34)), check);
}
END_TEST

/* The pseudo-header of RFC 793 section 3.1: addresses, zero, protocol, length. */
static size_t pseudo_header(uint8_t *p, uint32_t src, uint32_t dst, uint16_t len)
{
	memcpy(p, &src, 4);
	memcpy(p + 4, &dst, 4);
	p[8] = 0;
	p[9] = 6;
	p[10] = (uint8_t)(len >> 8);
	p[11] = (uint8_t)len;
	return 12;
}

START_TEST(partial_update_is_uncomplemented_pseudo_sum)
{
	/* A NEEDS_CSUM packet holds the folded pseudo-header sum, not complemented. */
	struct prng r;
	uint8_t ph[12];

	prng_seed(&r, 5);
	for (int i = 0; i < 2000; i++) {
		uint32_t src = (uint32_t)prng_next(&r), dst = (uint32_t)prng_next(&r);
		uint32_t new_src = (uint32_t)prng_next(&r);
		uint16_t len = (uint16_t)(20 + prng_next(&r) % 1400);
		uint16_t partial, want;

		pseudo_header(ph, src, dst, len);
		partial = as_stored((uint16_t)~pb_checksum(ph, sizeof(ph)));
		pseudo_header(ph, new_src, dst, len);
		want = (uint16_t)~pb_checksum(ph, sizeof(ph));
		ck_assert_uint_eq(wire(csum_partial_update32(partial, src, new_src)), want);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("checksum");
	TCase *tc = tcase_create("rfc1071_rfc1624");

	tcase_add_test(tc, rfc1071_example);
	tcase_add_test(tc, odd_length_pads_with_zero);
	tcase_add_test(tc, fold_carries_twice);
	tcase_add_test(tc, rfc1624_section4_example);
	tcase_add_test(tc, buffer_matches_independent_sum);
	tcase_add_test(tc, update16_matches_full_recomputation);
	tcase_add_test(tc, update32_matches_full_recomputation);
	tcase_add_test(tc, update_of_unchanged_word_keeps_checksum);
	tcase_add_test(tc, partial_update_is_uncomplemented_pseudo_sum);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
