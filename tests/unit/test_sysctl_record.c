/* SPDX-License-Identifier: BSD-2-Clause */
/* test_sysctl_record.c - the parser of naptd's record of the sysctls' values from before it
 * (sysctl_record.h): the file naptd writes is read back; any other text, a hostile one
 * included, is refused with a reason; and an adversarial loop of mutated files, where
 * whatever is accepted holds only values of the forms the kernel prints. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysctl_record.h"
#include "unit_run.h"

#define COOKIE 4099u
#define GOOD                                                                                       \
	"netns 4099\nip_forward 0\nip_local_port_range 32768\t60999\ntcp_early_demux 1\n"          \
	"udp_early_demux 1\n"

static struct sysctl_record r;
static char err[128];

static int parse(const char *text)
{
	memset(&r, 0, sizeof(r));
	err[0] = '\0';
	return sysctl_record_parse(&r, text, COOKIE, err, sizeof(err));
}

START_TEST(reads_what_naptd_writes)
{
	ck_assert_msg(parse(GOOD) == 0, "%s", err);
	ck_assert_str_eq(r.value[SYSCTL_IP_FORWARD], "0");
	ck_assert_str_eq(r.value[SYSCTL_LOCAL_PORTS], "32768\t60999");
	ck_assert_str_eq(r.value[SYSCTL_TCP_DEMUX], "1");
	ck_assert_str_eq(r.value[SYSCTL_UDP_DEMUX], "1");
	/* The order of the lines does not matter. */
	ck_assert_msg(parse("udp_early_demux 0\ntcp_early_demux 0\nip_forward 1\n"
			    "ip_local_port_range 1\t65535\nnetns 4099\n") == 0,
		      "%s", err);
	ck_assert_str_eq(r.value[SYSCTL_LOCAL_PORTS], "1\t65535");
}
END_TEST

struct bad_case {
	const char *text, *why; /* the file, and the reason it is refused */
};

static const struct bad_case bad[] = {
    {"", "a key is missing"},
    {"netns 4099\nip_forward 0\n", "a key is missing"},
    {"netns 4100\nip_forward 0\nip_local_port_range 1\t2\ntcp_early_demux 1\nudp_early_demux 1\n",
     "written for another network namespace"},
    {"netns 4099x\n", "written for another network namespace"},
    {"netns \n", "written for another network namespace"},
    {"netns 18446744073709555715\n", "written for another network namespace"},
    {GOOD "rp_filter 0\n", "unknown key"},
    {GOOD "ip_forward 0\n", "ip_forward: twice"},
    {GOOD "netns\n", "a line without a value"},
    {"netns 4099\nip_forward 2\n", "ip_forward: not a value naptd writes"},
    {"netns 4099\nip_forward 01\n", "ip_forward: not a value naptd writes"},
    {"netns 4099\nip_forward  0\n", "ip_forward: not a value naptd writes"},
    {"netns 4099\ntcp_early_demux 1 \n", "tcp_early_demux: not a value naptd writes"},
    {"netns 4099\nip_local_port_range 1 2\n", "ip_local_port_range: not a value naptd writes"},
    {"netns 4099\nip_local_port_range 70000\t1\n", "ip_local_port_range: not a value naptd writes"},
    {"netns 4099\nip_local_port_range 123456\t1\n",
     "ip_local_port_range: not a value naptd writes"},
    {"netns 4099\nip_local_port_range 1\t\n", "ip_local_port_range: not a value naptd writes"},
    {"netns 4099\nip_local_port_range \t1\n", "ip_local_port_range: not a value naptd writes"},
    {"netns 4099\nip_local_port_range 1\t2\t3\n", "ip_local_port_range: not a value naptd writes"},
    {"netns 4099\nip_local_port_range -1\t2\n", "ip_local_port_range: not a value naptd writes"},
    {"netns 4099\nip_forward 0", "an unfinished line"},
};

START_TEST(refuses_anything_else)
{
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i].text) == -1, "accepted: %s", bad[i].text);
		ck_assert_msg(strcmp(err, bad[i].why) == 0, "%s: %s, not %s", bad[i].text, err,
			      bad[i].why);
	}
}
END_TEST

START_TEST(refuses_a_long_file)
{
	char text[600];

	snprintf(text, sizeof(text), "%s", GOOD);
	memset(text + strlen(GOOD), '\n', sizeof(text) - strlen(GOOD) - 1);
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(parse(text), -1);
	ck_assert_str_eq(err, "too long");
}
END_TEST

/* Values of the forms the kernel prints, as the independent description of what may be
 * accepted. */
static bool kernel_form(enum sysctl_record_key k, const char *v)
{
	unsigned lo, hi;
	char tail;

	if (k != SYSCTL_LOCAL_PORTS)
		return strcmp(v, "0") == 0 || strcmp(v, "1") == 0;
	return strlen(v) <= 11 && strspn(v, "0123456789\t") == strlen(v) &&
	       sscanf(v, "%u\t%u%c", &lo, &hi, &tail) == 2 && lo <= 65535 && hi <= 65535;
}

START_TEST(mutated_files_yield_only_kernel_forms)
{
	static const char alphabet[] = "0123456789\t\n x-_aeinoprstuw";
	char text[160];
	unsigned accepted = 0;

	srand(12345);
	for (unsigned i = 0; i < 200000; i++) {
		size_t len = strlen(GOOD);

		memcpy(text, GOOD, len + 1);
		for (int m = 1 + rand() % 3; m > 0; m--) {
			size_t at = (size_t)rand() % len;

			if (rand() % 4 == 0 && len + 1 < sizeof(text)) { /* insert */
				memmove(text + at + 1, text + at, len - at + 1);
				len++;
			}
			text[at] = alphabet[rand() % (sizeof(alphabet) - 1)];
		}
		if (parse(text) != 0)
			continue;
		accepted++;
		for (unsigned k = 0; k < SYSCTL_RECORD_KEYS; k++)
			ck_assert_msg(kernel_form(k, r.value[k]), "accepted %s from:\n%s",
				      r.value[k], text);
	}
	ck_assert_uint_gt(accepted, 0); /* the loop does reach the accepting path */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sysctl_record");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reads_what_naptd_writes);
	tcase_add_test(tc, refuses_anything_else);
	tcase_add_test(tc, refuses_a_long_file);
	tcase_add_test(tc, mutated_files_yield_only_kernel_forms);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
