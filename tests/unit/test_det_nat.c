/* SPDX-License-Identifier: BSD-2-Clause */
/* test_det_nat.c - the RFC 7422 formula of det_nat.h, both ways, against values worked out
 * by hand from docs/scale-out.md, and the round trip over every host of a prefix. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>

#include "det_nat.h"
#include "unit_run.h"

static struct napt_config cfg;
static struct det_layout d;
static char err[256];

static uint32_t addr(const char *text)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, text, &a), 1);
	return a.s_addr;
}

static void layout(const char *lines)
{
	char text[512];

	snprintf(text, sizeof(text), "inside 100.64.0.0/10\n%s", lines);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(det_layout_make(&cfg, &d, err, sizeof(err)), 0);
}

/* 256 hosts on 16 addresses: 16 hosts per address, (65535 - 1024 + 1) / 16 = 4032 ports. */
START_TEST(sizes_give_the_ports)
{
	struct det_range r;

	layout("deterministic 100.64.0.0/24 198.51.100.0/28\n");
	ck_assert_uint_eq(d.per_ext, 16);
	ck_assert_uint_eq(d.ports, 4032);
	ck_assert(det_forward(&d, addr("100.64.0.0"), &r));
	ck_assert_uint_eq(r.ext_addr, addr("198.51.100.0"));
	ck_assert_uint_eq(r.lo, 1024);
	ck_assert_uint_eq(r.hi, 5055);
	ck_assert(det_forward(&d, addr("100.64.0.17"), &r)); /* second address, second slot */
	ck_assert_uint_eq(r.ext_addr, addr("198.51.100.1"));
	ck_assert_uint_eq(r.lo, 5056);
	ck_assert_uint_eq(r.hi, 9087);
	ck_assert_uint_eq(det_port(&r, 40000), 5056 + 40000 % 4032);
	ck_assert(det_forward(&d, addr("100.64.0.255"), &r));
	ck_assert_uint_eq(r.ext_addr, addr("198.51.100.15"));
	ck_assert_uint_eq(r.hi, 65535);
	ck_assert(!det_forward(&d, addr("100.64.1.0"), &r));
}
END_TEST

START_TEST(reverse_names_the_host)
{
	struct det_range r;

	layout("deterministic 100.64.0.0/24 198.51.100.0/28\n");
	ck_assert(det_reverse(&d, addr("198.51.100.1"), 9087, &r));
	ck_assert_uint_eq(r.in_addr, addr("100.64.0.17"));
	ck_assert(det_reverse(&d, addr("198.51.100.1"), 9088, &r));
	ck_assert_uint_eq(r.in_addr, addr("100.64.0.18"));
	ck_assert(!det_reverse(&d, addr("198.51.100.1"), 1023, &r));  /* below port-range */
	ck_assert(!det_reverse(&d, addr("198.51.100.16"), 2000, &r)); /* past the prefix */
	ck_assert(!det_reverse(&d, addr("198.51.99.255"), 2000, &r));
}
END_TEST

/* deterministic-ports sets P: ports past the last whole range and addresses past the last
 * host belong to nobody. */
START_TEST(set_ports_leave_a_tail)
{
	struct det_range r;

	layout("port-range 2000-2999\ndeterministic 100.64.0.0/29 198.51.100.0/30\n"
	       "deterministic-ports 300\n");
	ck_assert_uint_eq(d.per_ext, 3);
	ck_assert(det_forward(&d, addr("100.64.0.7"), &r)); /* k 7: address 7 / 3, slot 7 % 3 */
	ck_assert_uint_eq(r.ext_addr, addr("198.51.100.2"));
	ck_assert_uint_eq(r.lo, 2300);
	ck_assert_uint_eq(r.hi, 2599);
	ck_assert(!det_reverse(&d, addr("198.51.100.3"), 2000, &r)); /* k 9: no such host */
	ck_assert(!det_reverse(&d, addr("198.51.100.0"), 2900, &r)); /* tail 2900-2999 */
	ck_assert(det_reverse(&d, addr("198.51.100.0"), 2899, &r));
	ck_assert_uint_eq(r.in_addr, addr("100.64.0.2"));
}
END_TEST

/* Every host of a /20 on a /28: ranges inside port-range, disjoint, and reverse(forward)
 * gives the host back from every port of its range. */
START_TEST(round_trip_every_host)
{
	uint32_t base = ntohl(addr("100.64.0.0"));
	uint64_t covered = 0;

	layout("deterministic 100.64.0.0/20 198.51.100.0/28\n");
	for (uint32_t k = 0; k < 4096; k++) {
		struct det_range r, back;

		ck_assert(det_forward(&d, htonl(base + k), &r));
		ck_assert_uint_ge(r.lo, 1024);
		ck_assert_uint_ge(r.hi, r.lo);
		covered += (uint32_t)r.hi - r.lo + 1;
		for (uint32_t p = r.lo; p <= r.hi; p += 7) {
			ck_assert(det_reverse(&d, r.ext_addr, (uint16_t)p, &back));
			ck_assert_uint_eq(back.in_addr, r.in_addr);
		}
	}
	/* Disjoint and within range: no more ports than 16 addresses hold. */
	ck_assert_uint_le(covered, 16ull * (65535 - 1024 + 1));
	ck_assert_uint_eq(covered, 4096ull * d.ports);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("det_nat");
	TCase *tc = tcase_create("formula");

	tcase_add_test(tc, sizes_give_the_ports);
	tcase_add_test(tc, reverse_names_the_host);
	tcase_add_test(tc, set_ports_leave_a_tail);
	tcase_add_test(tc, round_trip_every_host);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
