/* SPDX-License-Identifier: BSD-2-Clause */
/* test_siphash.c - SipHash against vectors from outside this project: the paper's
 * SipHash-2-4 vectors (key 00..0f, message 00 01 02 ..., appendix A and the reference
 * vectors), run through the same round, compression and finalization functions as the
 * engine's hash; and SipHash-1-3 of 16-byte messages as OpenSSL 3 computes it:
 *   echo -n MSG | xxd -r -p | openssl mac -macopt hexkey:KEY -macopt size:8 \
 *       -macopt c-rounds:1 -macopt d-rounds:3 SIPHASH
 * (its output is the hash's bytes, least significant first); and the key parser of the tools
 * (hex_key.h) against the same notation. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "hex_key.h"
#include "siphash.h"
#include "unit_run.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void from_hex(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned b;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* SipHash-c-d of any message, as the paper describes it: 8-byte words, then the last
 * bytes with the length in the top byte. */
static uint64_t siphash_bytes(const struct siphash_key *k, const uint8_t *m, size_t len, int c,
			      int d)
{
	struct siphash_state s = siphash_init(k);
	uint8_t last[8] = {0};
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8)
		siphash_compress(&s, le64(m + i), c);
	memcpy(last, m + full, len - full);
	last[7] = (uint8_t)len;
	siphash_compress(&s, le64(last), c);
	return siphash_finish(&s, d);
}

static struct siphash_key key_of(const char *hex)
{
	uint8_t b[16];

	from_hex(hex, b, 16);
	return (struct siphash_key){le64(b), le64(b + 8)};
}

START_TEST(siphash24_paper_vectors)
{
	struct siphash_key k = key_of("000102030405060708090a0b0c0d0e0f");
	uint8_t m[16];

	for (int i = 0; i < 16; i++)
		m[i] = (uint8_t)i;
	/* Reference vectors 0, 15 (the paper's appendix A example) and 16. */
	ck_assert_uint_eq(siphash_bytes(&k, m, 0, 2, 4), 0x726fdb47dd0e0e31ull);
	ck_assert_uint_eq(siphash_bytes(&k, m, 15, 2, 4), 0xa129ca6149be45e5ull);
	ck_assert_uint_eq(siphash_bytes(&k, m, 16, 2, 4), 0x3f2acc7f57c29bdbull);
}
END_TEST

/* The engine's fixed-length SipHash-1-3 against OpenSSL's output, and against the
 * byte-wise function above with c = 1, d = 3. */
START_TEST(siphash13_16_matches_openssl)
{
	static const char *const cases[][3] = {
	    {"000102030405060708090a0b0c0d0e0f", "000102030405060708090a0b0c0d0e0f",
	     "668B907D1ADD4FCC"},
	    {"00000000000000000000000000000000", "00000000000000000000000000000000",
	     "A0B2253E9E99BE76"},
	    {"0f0e0d0c0b0a09080706050403020100", "c0a8010a0a000001d204bb0111000000",
	     "AA94EA326484B981"},
	    {"ffffffffffffffffffffffffffffffff", "0123456789abcdeffedcba9876543210",
	     "DAD8F79F50B0C460"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct siphash_key k = key_of(cases[i][0]);
		uint8_t m[16], out[8];
		uint64_t h;

		from_hex(cases[i][1], m, 16);
		from_hex(cases[i][2], out, 8);
		h = siphash13_16(&k, le64(m), le64(m + 8));
		ck_assert_uint_eq(h, le64(out));
		ck_assert_uint_eq(h, siphash_bytes(&k, m, 16, 1, 3));
	}
}
END_TEST

/* The 32-digit key of napt-replay -k and hash-flood-gen (hex_key.h) is written as OpenSSL's
 * hexkey: key byte 0 first. The first case above, keyed through the parser, in either case. */
START_TEST(hex_key_reads_openssl_hexkeys)
{
	static const char *const bad[] = {
	    "",
	    "000102030405060708090a0b0c0d0e0",   /* 31 digits */
	    "000102030405060708090a0b0c0d0e0f0", /* 33 */
	    "000102030405060708090a0b0c0d0e0f ", /* a space after */
	    "0x0102030405060708090a0b0c0d0e0f",  /* a prefix */
	    "+f0102030405060708090a0b0c0d0e0f",  /* a sign, which sscanf's %2x takes */
	    " f0102030405060708090a0b0c0d0e0f",  /* a space, likewise */
	    "000102030405060708090a0b0c0d0e0g",
	};
	uint8_t m[16], out[8];
	uint64_t k[2];

	ck_assert(hex_key_parse("000102030405060708090a0b0c0d0e0f", k));
	ck_assert_uint_eq(k[0], 0x0706050403020100ull);
	ck_assert_uint_eq(k[1], 0x0f0e0d0c0b0a0908ull);
	ck_assert(hex_key_parse("000102030405060708090A0B0C0D0E0F", k));
	from_hex("000102030405060708090a0b0c0d0e0f", m, 16);
	from_hex("668B907D1ADD4FCC", out, 8);
	ck_assert_uint_eq(siphash13_16(&(struct siphash_key){k[0], k[1]}, le64(m), le64(m + 8)),
			  le64(out));
	ck_assert(hex_key_parse("ffffffffffffffffffffffffffffffff", k));
	ck_assert(k[0] == ~0ull && k[1] == ~0ull);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!hex_key_parse(bad[i], k), "\"%s\" accepted", bad[i]);
		ck_assert(k[0] == 0 && k[1] == 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("siphash");
	TCase *tc = tcase_create("vectors");

	tcase_add_test(tc, siphash24_paper_vectors);
	tcase_add_test(tc, siphash13_16_matches_openssl);
	tcase_add_test(tc, hex_key_reads_openssl_hexkeys);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
