/* SPDX-License-Identifier: BSD-2-Clause */
/* file_replace.c - atomic replacement of a file (file_replace.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file_replace.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Make the rename durable: without this a power loss can bring back the old name. */
static int sync_directory(const char *path)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write text to tmp and flush it to disk. */
static int write_temp(const char *tmp, const char *text, size_t len)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int file_replace(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (write_temp(tmp, text, len) < 0) {
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* Until this rename succeeds the old file stays in force, whole. */
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "renaming %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (sync_directory(path) < 0) {
		snprintf(err, errlen,
			 "%s written, but the fsync of its directory failed (%s): a power loss may "
			 "bring back the previous file",
			 path, strerror(errno));
		return 1;
	}
	return 0;
}
