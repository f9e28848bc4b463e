/* SPDX-License-Identifier: BSD-2-Clause */
/* daemonize.c - fork into the background, report the set-up result to the parent. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemonize.h"

static int report_fd = -1; /* the child's end of the pipe to the waiting parent */

/* The parent: the child writes "0" on success, "1" and its error message otherwise; a
 * child that dies first writes nothing. */
static void parent_wait(int fd)
{
	char msg[1024];
	ssize_t n, got = 0;

	while ((n = read(fd, msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
		got += n;
	msg[got] = '\0';
	if (msg[0] == '0')
		_exit(0);
	fprintf(stderr, "naptd: %s\n", msg[0] == '1' ? msg + 1 : "died during set-up");
	_exit(1);
}

int daemonize_start(char *err, size_t errlen)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(err, errlen, "cannot detach: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		parent_wait(p[0]);
	}
	close(p[0]);
	report_fd = p[1];
	if (setsid() < 0 || chdir("/") != 0) {
		snprintf(err, errlen, "cannot detach: %s", strerror(errno));
		return -1;
	}
	return 0;
}

bool daemonize_ready(const char *error)
{
	char msg[1024];
	int null;

	if (report_fd < 0)
		return false;
	snprintf(msg, sizeof(msg), "%c%s", error ? '1' : '0', error ? error : "");
	/* If the parent is gone there is nobody left to tell: the result is not needed. */
	(void)!write(report_fd, msg, strlen(msg));
	close(report_fd);
	report_fd = -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (error || null < 0)
		return true;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
	return true;
}

int pidfile_write(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "we");
	bool bad;

	if (!f) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	bad = fprintf(f, "%d\n", (int)getpid()) < 0;
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void pidfile_remove(const char *path)
{
	unlink(path);
}
