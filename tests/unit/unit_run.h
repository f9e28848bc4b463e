/* SPDX-License-Identifier: BSD-2-Clause */
/* unit_run.h - the one main() body every Check program shares. */
#ifndef UNIT_RUN_H
#define UNIT_RUN_H

#include <check.h>

/* Run every test of s; returns the exit status for automake (0 pass, 1 fail). */
int unit_run(Suite *s);

/* A program of one long test: its suite named name, a timeout of timeout_s seconds. */
int unit_run_one(const char *name, const TTest *test, double timeout_s);

#endif
