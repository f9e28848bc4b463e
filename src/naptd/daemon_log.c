/* SPDX-License-Identifier: BSD-2-Clause */
/* daemon_log.c - one log call for the daemon, whether it runs in the foreground or not. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon_log.h"

static bool log_to_stderr = true;

void daemon_log_init(bool to_stderr)
{
	log_to_stderr = to_stderr;
	if (!to_stderr)
		openlog("naptd", LOG_PID, LOG_DAEMON);
}

void daemon_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_to_stderr) {
		fputs("naptd: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(priority, fmt, ap);
	}
	va_end(ap);
}
