/* SPDX-License-Identifier: BSD-2-Clause */
/* daemon_log.h - naptd's log: stderr in the foreground (-f), syslog once detached. */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* to_stderr: -f. Otherwise opens syslog (facility daemon) under the name "naptd". */
void daemon_log_init(bool to_stderr);

/* priority is a syslog level (LOG_ERR, LOG_WARNING, LOG_INFO...). */
void daemon_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
