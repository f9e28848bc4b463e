/* SPDX-License-Identifier: BSD-2-Clause */
/* unit_run.h - the one main() body every Check program shares. */
#ifndef UNIT_RUN_H
#define UNIT_RUN_H

#include <check.h>

/* Run every test of s; returns the exit status for automake (0 pass, 1 fail). */
int unit_run(Suite *s);

/* A program of one long test: its suite named name, a timeout of timeout_s seconds. */
int unit_run_one(const char *name, const TTest *test, double timeout_s);

/* ck_assert_msg for loops of millions: Check's assertions record a mark point for each one
 * that passes (a write to the parent process), which made test_det_attack's port-by-port
 * loops take most of its time; this one calls Check only when expr is false. */
#define ck_assert_loop(expr, ...)                                                                  \
	do {                                                                                       \
		if (!(expr))                                                                       \
			ck_assert_msg(expr, __VA_ARGS__);                                          \
	} while (0)

#endif
