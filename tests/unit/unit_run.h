/* unit_run.h - the one main() body every Check program shares. */
#ifndef UNIT_RUN_H
#define UNIT_RUN_H

#include <check.h>

/* Run every test of s; returns the exit status for automake (0 pass, 1 fail). */
int unit_run(Suite *s);

#endif
