/* SPDX-License-Identifier: BSD-2-Clause */
/* sysctl_setting.c - read, change and restore /proc/sys values (rp_filter, ip_forward, the
 * local port range, early demux). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysctl_setting.h"

int sysctl_read(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, len - 1);
	if (n < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The value is written with a newline, as echo would: an empty value (an empty list) then
 * still clears the setting, where writing 0 bytes would leave it as it was. */
static int sysctl_write(const char *path, const char *value, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	char line[sizeof(((struct sysctl_setting *)0)->old) + 1];
	size_t len = (size_t)snprintf(line, sizeof(line), "%s\n", value);
	ssize_t n;

	if (len >= sizeof(line)) {
		snprintf(err, errlen, "%s: value too long", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = write(fd, line, len);
	if (n != (ssize_t)len)
		snprintf(err, errlen, "%s: cannot write %s: %s", path, value,
			 n < 0 ? strerror(errno) : "short write");
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

int sysctl_change(struct sysctl_setting *s, const char *path, const char *value, char *err,
		  size_t errlen)
{
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->changed = false;
	if (sysctl_read(path, s->old, sizeof(s->old), err, errlen) != 0)
		return -1;
	if (strcmp(s->old, value) == 0)
		return 0;
	if (sysctl_write(path, value, err, errlen) != 0)
		return -1;
	s->changed = true;
	return 0;
}

int sysctl_restore(struct sysctl_setting *s, char *err, size_t errlen)
{
	if (!s->changed)
		return 0;
	s->changed = false;
	return sysctl_write(s->path, s->old, err, errlen);
}

void sysctl_set_original(struct sysctl_setting *s, const char *path, const char *original)
{
	if (!s->path[0]) /* s left it alone: the change before stays in force until exit */
		snprintf(s->path, sizeof(s->path), "%s", path);
	else if (strcmp(s->old, original) == 0)
		return; /* as found, or put back by s's own restore */
	snprintf(s->old, sizeof(s->old), "%s", original);
	s->changed = true;
}

void sysctl_inherit(struct sysctl_setting *s, const struct sysctl_setting *before)
{
	if (before->changed)
		sysctl_set_original(s, before->path, before->old);
}
