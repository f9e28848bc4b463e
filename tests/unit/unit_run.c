/* SPDX-License-Identifier: BSD-2-Clause */
/* unit_run.c - run a Check suite and turn its result into an exit status. */
#include "unit_run.h"

int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

int unit_run_one(const char *name, const TTest *test, double timeout_s)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout_s);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
