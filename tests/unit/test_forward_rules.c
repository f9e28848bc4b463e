/* SPDX-License-Identifier: BSD-2-Clause */
/* test_forward_rules.c - the forward table: lookups over a port range, protocols,
 * overlaps, removal by any port of a rule, limits. */
#include <check.h>
#include <arpa/inet.h>
#include <string.h>

#include "forward_rules.h"
#include "unit_run.h"

static struct forward_rules fr;
static char err[256];

static void setup(void)
{
	forward_rules_clear(&fr);
	err[0] = '\0';
}

static struct napt_forward rule(uint8_t protos, uint16_t lo, uint16_t hi, uint8_t host,
				uint16_t in_lo)
{
	return (struct napt_forward){.protos = protos,
				     .ext_lo = lo,
				     .ext_hi = hi,
				     .in_addr = htonl(0xc0a80100u | host),
				     .in_lo = in_lo};
}

static void add(struct napt_forward f)
{
	ck_assert_msg(forward_rules_add(&fr, &f, err, sizeof(err)) == 0, "%s", err);
}

static bool claimed(uint8_t proto_bit, uint16_t port)
{
	return port_bit(forward_rules_claimed(&fr, proto_bit), port);
}

START_TEST(range_lookup)
{
	add(rule(NAPT_FWD_TCP, 8080, 8089, 10, 80));
	for (uint16_t p = 8080; p <= 8089; p++) {
		const struct napt_forward *f = forward_rules_lookup(&fr, NAPT_FWD_TCP, p);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->in_lo, 80);
		ck_assert_uint_eq(f->in_addr, htonl(0xc0a8010a));
		ck_assert(claimed(NAPT_FWD_TCP, p));
		ck_assert(!claimed(NAPT_FWD_UDP, p));
		ck_assert_ptr_null(forward_rules_lookup(&fr, NAPT_FWD_UDP, p));
	}
	ck_assert_ptr_null(forward_rules_lookup(&fr, NAPT_FWD_TCP, 8079));
	ck_assert_ptr_null(forward_rules_lookup(&fr, NAPT_FWD_TCP, 8090));
	ck_assert(!claimed(NAPT_FWD_TCP, 8079));
	ck_assert(!claimed(NAPT_FWD_TCP, 8090));
}
END_TEST

START_TEST(both_protocols)
{
	add(rule(NAPT_FWD_TCP | NAPT_FWD_UDP, 53, 53, 2, 53));
	ck_assert_ptr_nonnull(forward_rules_lookup(&fr, NAPT_FWD_TCP, 53));
	ck_assert_ptr_nonnull(forward_rules_lookup(&fr, NAPT_FWD_UDP, 53));
	ck_assert(claimed(NAPT_FWD_UDP, 53));
}
END_TEST

START_TEST(overlap_refused)
{
	struct napt_forward f = rule(NAPT_FWD_TCP, 8085, 8095, 11, 1);

	add(rule(NAPT_FWD_TCP, 8080, 8089, 10, 80));
	ck_assert_int_eq(forward_rules_add(&fr, &f, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "overlaps"));
	ck_assert_uint_eq(fr.n, 1);
	ck_assert_uint_eq(forward_rules_lookup(&fr, NAPT_FWD_TCP, 8085)->in_lo, 80);
	/* The same ports on the other protocol are free. */
	add(rule(NAPT_FWD_UDP, 8085, 8095, 11, 1));
	f = rule(NAPT_FWD_TCP | NAPT_FWD_UDP, 9000, 9000, 3, 1);
	add(f);
	f.ext_lo = f.ext_hi = 8095; /* "both" overlaps the UDP rule */
	ck_assert_int_eq(forward_rules_add(&fr, &f, err, sizeof(err)), -1);
}
END_TEST

START_TEST(delete_by_any_port_of_the_rule)
{
	struct napt_forward gone;

	add(rule(NAPT_FWD_TCP, 8080, 8089, 10, 80));
	ck_assert_int_eq(forward_rules_del(&fr, NAPT_FWD_UDP, 8087, &gone), -1);
	ck_assert_int_eq(forward_rules_del(&fr, NAPT_FWD_TCP, 8087, &gone), 0);
	ck_assert_uint_eq(gone.ext_lo, 8080);
	ck_assert_uint_eq(gone.ext_hi, 8089);
	ck_assert_uint_eq(gone.in_lo, 80);
	ck_assert_uint_eq(fr.n, 0);
	for (uint16_t p = 8080; p <= 8089; p++) {
		ck_assert_ptr_null(forward_rules_lookup(&fr, NAPT_FWD_TCP, p));
		ck_assert(!claimed(NAPT_FWD_TCP, p));
	}
	ck_assert_int_eq(forward_rules_del(&fr, NAPT_FWD_TCP, 8087, &gone), -1);
}
END_TEST

START_TEST(delete_keeps_the_other_rules)
{
	struct napt_forward gone;

	add(rule(NAPT_FWD_TCP, 1000, 1000, 1, 10));
	add(rule(NAPT_FWD_TCP, 2000, 2001, 2, 20));
	add(rule(NAPT_FWD_UDP, 3000, 3002, 3, 30));
	/* Removing the first moves the last into its place. */
	ck_assert_int_eq(forward_rules_del(&fr, NAPT_FWD_TCP, 1000, &gone), 0);
	ck_assert_ptr_null(forward_rules_lookup(&fr, NAPT_FWD_TCP, 1000));
	ck_assert_uint_eq(forward_rules_lookup(&fr, NAPT_FWD_TCP, 2001)->in_lo, 20);
	ck_assert_uint_eq(forward_rules_lookup(&fr, NAPT_FWD_UDP, 3002)->in_lo, 30);
	ck_assert_int_eq(forward_rules_del(&fr, NAPT_FWD_UDP, 3001, &gone), 0);
	ck_assert_uint_eq(forward_rules_lookup(&fr, NAPT_FWD_TCP, 2000)->in_lo, 20);
	ck_assert_ptr_null(forward_rules_lookup(&fr, NAPT_FWD_UDP, 3000));
	add(rule(NAPT_FWD_UDP, 1000, 1000, 4, 40));
	ck_assert_uint_eq(forward_rules_lookup(&fr, NAPT_FWD_UDP, 1000)->in_lo, 40);
	ck_assert_uint_eq(forward_rules_lookup(&fr, NAPT_FWD_TCP, 2000)->in_lo, 20);
}
END_TEST

START_TEST(table_limit)
{
	struct napt_forward f;

	for (unsigned i = 0; i < NAPT_MAX_FORWARDS; i++)
		add(rule(NAPT_FWD_TCP, (uint16_t)(10000 + i), (uint16_t)(10000 + i), 5, 1));
	f = rule(NAPT_FWD_UDP, 1, 1, 5, 1);
	ck_assert_int_eq(forward_rules_add(&fr, &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "too many forwards (at most 1024)");
	ck_assert_uint_eq(forward_rules_lookup(&fr, NAPT_FWD_TCP, 11023)->ext_lo, 11023);
	forward_rules_clear(&fr);
	ck_assert_ptr_null(forward_rules_lookup(&fr, NAPT_FWD_TCP, 10000));
	ck_assert(!claimed(NAPT_FWD_TCP, 10000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("forward_rules");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, range_lookup);
	tcase_add_test(tc, both_protocols);
	tcase_add_test(tc, overlap_refused);
	tcase_add_test(tc, delete_by_any_port_of_the_rule);
	tcase_add_test(tc, delete_keeps_the_other_rules);
	tcase_add_test(tc, table_limit);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
