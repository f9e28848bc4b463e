/* SPDX-License-Identifier: BSD-2-Clause */
/* sysctl_record.c - the file of the sysctls' values from before naptd (sysctl_record.h). It
 * is an input like any other: only the known keys, values of the expected form, a bounded
 * size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_log.h"
#include "file_replace.h"
#include "sysctl_record.h"
#include "sysctl_setting.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* Linux 5.14 */
#endif

/* More than the file naptd writes can hold: a longer one is not naptd's. */
#define RECORD_MAX 256

static const struct {
	const char *key, *proc;
} keys[SYSCTL_RECORD_KEYS] = {
    [SYSCTL_IP_FORWARD] = {"ip_forward", "/proc/sys/net/ipv4/ip_forward"},
    [SYSCTL_LOCAL_PORTS] = {"ip_local_port_range", "/proc/sys/net/ipv4/ip_local_port_range"},
    [SYSCTL_TCP_DEMUX] = {"tcp_early_demux", "/proc/sys/net/ipv4/tcp_early_demux"},
    [SYSCTL_UDP_DEMUX] = {"udp_early_demux", "/proc/sys/net/ipv4/udp_early_demux"},
};

const char *sysctl_record_proc(enum sysctl_record_key key)
{
	return keys[key].proc;
}

/* A decimal number of 1 to 5 digits up to 65535 at *s; *s moves past it. */
static bool take_port(const char **s)
{
	unsigned long v = 0;
	size_t n = strspn(*s, "0123456789");

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)((*s)[i] - '0');
	*s += n;
	return v <= 65535;
}

static bool valid_value(enum sysctl_record_key key, const char *v)
{
	if (key != SYSCTL_LOCAL_PORTS)
		return strcmp(v, "0") == 0 || strcmp(v, "1") == 0;
	return take_port(&v) && *v++ == '\t' && take_port(&v) && *v == '\0';
}

static int parse_line(struct sysctl_record *r, char *line, uint64_t netns, unsigned *seen,
		      char *err, size_t errlen)
{
	char *v = strchr(line, ' '), *end;

	if (!v) {
		snprintf(err, errlen, "a line without a value");
		return -1;
	}
	*v++ = '\0';
	if (strcmp(line, "netns") == 0) {
		errno = 0;
		if (strspn(v, "0123456789") != strlen(v) || !*v || strtoull(v, &end, 10) != netns ||
		    errno) {
			snprintf(err, errlen, "written for another network namespace");
			return -1;
		}
		*seen |= 1u << SYSCTL_RECORD_KEYS;
		return 0;
	}
	for (unsigned k = 0; k < SYSCTL_RECORD_KEYS; k++) {
		if (strcmp(line, keys[k].key) != 0)
			continue;
		if ((*seen & 1u << k) || !valid_value(k, v)) {
			snprintf(err, errlen, "%s: %s", keys[k].key,
				 *seen & 1u << k ? "twice" : "not a value naptd writes");
			return -1;
		}
		snprintf(r->value[k], sizeof(r->value[k]), "%s", v);
		*seen |= 1u << k;
		return 0;
	}
	snprintf(err, errlen, "unknown key");
	return -1;
}

int sysctl_record_parse(struct sysctl_record *r, const char *text, uint64_t netns, char *err,
			size_t errlen)
{
	char buf[RECORD_MAX], *line = buf, *nl;
	unsigned seen = 0;

	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return -1;
	}
	for (; *line; line = nl + 1) {
		if (!(nl = strchr(line, '\n'))) {
			snprintf(err, errlen, "an unfinished line");
			return -1;
		}
		*nl = '\0';
		if (parse_line(r, line, netns, &seen, err, errlen) != 0)
			return -1;
	}
	if (seen != (2u << SYSCTL_RECORD_KEYS) - 1) {
		snprintf(err, errlen, "a key is missing");
		return -1;
	}
	return 0;
}

/* The file's name and the cookie of naptd's network namespace. */
static int find_namespace(struct sysctl_record *r, char *err, size_t errlen)
{
	struct stat st;
	socklen_t len = sizeof(r->netns);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &r->netns, &len) != 0)
		r->netns = 0;
	if (fd >= 0)
		close(fd);
	if (stat("/proc/self/ns/net", &st) != 0) {
		snprintf(err, errlen, "/proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	snprintf(r->path, sizeof(r->path), SYSCTL_RECORD_DIR "/sysctls.%llu",
		 (unsigned long long)st.st_ino);
	return 0;
}

/* Whether the file holds a valid record; a file that is there but does not is logged. */
static bool load(struct sysctl_record *r)
{
	char text[RECORD_MAX + 1], err[128];
	int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	ssize_t n = -1;

	if (fd < 0 && errno == ENOENT)
		return false;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, text, sizeof(text) - 1);
	snprintf(err, sizeof(err), "%s", fd < 0 || n < 0 ? strerror(errno) : "not a file");
	if (fd >= 0)
		close(fd);
	if (n >= 0) {
		text[n] = '\0';
		if (memchr(text, '\0', (size_t)n))
			snprintf(err, sizeof(err), "a NUL byte");
		else if (sysctl_record_parse(r, text, r->netns, err, sizeof(err)) == 0)
			return true;
	}
	daemon_log(LOG_WARNING,
		   "%s: %s: ignored, the sysctls' values now taken as naptd's "
		   "starting point",
		   r->path, err);
	return false;
}

/* The values now, to the file. */
static int save(struct sysctl_record *r, char *err, size_t errlen)
{
	char text[RECORD_MAX];
	size_t len =
	    (size_t)snprintf(text, sizeof(text), "netns %llu\n", (unsigned long long)r->netns);

	for (unsigned k = 0; k < SYSCTL_RECORD_KEYS; k++) {
		if (sysctl_read(keys[k].proc, r->value[k], sizeof(r->value[k]), err, errlen) != 0)
			return -1;
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %s\n", keys[k].key,
					r->value[k]);
	}
	if (mkdir(SYSCTL_RECORD_DIR, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", SYSCTL_RECORD_DIR, strerror(errno));
		return -1;
	}
	/* A failed fsync of the directory (1) loses the file only with the power, and the
	 * sysctls with it. */
	return file_replace(r->path, text, len, err, errlen) < 0 ? -1 : 0;
}

int sysctl_record_open(struct sysctl_record *r, char *err, size_t errlen)
{
	if (find_namespace(r, err, errlen) != 0)
		return -1;
	r->loaded = load(r);
	if (r->loaded) {
		daemon_log(LOG_NOTICE,
			   "%s: left by a naptd that did not exit: its values are put "
			   "back at exit",
			   r->path);
		return 0;
	}
	if (save(r, err, errlen) != 0)
		return -1;
	r->owned = true;
	return 0;
}

void sysctl_record_remove(struct sysctl_record *r)
{
	if (r->owned && unlink(r->path) != 0 && errno != ENOENT)
		daemon_log(LOG_WARNING, "%s: %s", r->path, strerror(errno));
	r->owned = false;
}
