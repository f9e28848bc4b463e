/* SPDX-License-Identifier: BSD-2-Clause */
/* daemonize.h - detach from the terminal the way daemon(3) does, but let the parent wait
 * for the set-up, so a failure still reaches the administrator's stderr with exit status 1.
 * Also the pidfile. */
#ifndef DAEMONIZE_H
#define DAEMONIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Fork. The parent never returns: it exits 0 once the child calls daemonize_ready(NULL),
 * or prints the child's error to stderr and exits 1. The child returns 0 in a new session
 * with / as its working directory. -1 with the reason in err when fork fails. */
int daemonize_start(char *err, size_t errlen);

/* In the child: report the set-up result to the waiting parent (error NULL: success) and,
 * on success, point stdin, stdout and stderr at /dev/null. Returns false when there is no
 * parent waiting (-f, or the fork failed): the caller reports the error itself. */
bool daemonize_ready(const char *error);

/* Write our pid to path (O_CLOEXEC, mode 0644). 0 or -1 with the reason in err. */
int pidfile_write(const char *path, char *err, size_t errlen);
void pidfile_remove(const char *path);

#endif
