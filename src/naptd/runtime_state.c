/* SPDX-License-Identifier: BSD-2-Clause */
/* runtime_state.c - the state file: forwards and DMZ changed through naptctl.
 *
 * The file uses config syntax so an administrator can read it, but naptd alone writes it:
 * always whole, through a temporary file that is fsync'ed and renamed over the old one, then
 * an fsync of the directory so the rename itself survives a power loss. A crash at any point
 * leaves either the old file or the new one, never a mix.
 */
#include "runtime_state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Room for one line of the state file (a forward is at most ~50 characters). */
#define STATE_LINE_MAX 128

static char *trim(char *s)
{
	char *hash = strchr(s, '#');
	if (hash)
		*hash = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int load_dmz(struct runtime_state *st, const char *arg, char *err, size_t errlen)
{
	struct in_addr a;
	if (strcmp(arg, "none") == 0) {
		st->dmz_mode = RUNTIME_DMZ_CLEARED;
		st->dmz = 0;
		return 0;
	}
	if (inet_pton(AF_INET, arg, &a) != 1) {
		snprintf(err, errlen, "bad DMZ address '%s'", arg);
		return -1;
	}
	st->dmz_mode = RUNTIME_DMZ_SET;
	st->dmz = a.s_addr;
	return 0;
}

static int load_forward(struct runtime_state *st, const char *arg, char *err, size_t errlen)
{
	struct napt_forward fwd;
	if (napt_forward_parse(&fwd, arg, err, errlen) < 0)
		return -1;
	if (st->n_forwards >= NAPT_MAX_FORWARDS) {
		snprintf(err, errlen, "more than %d forwards", NAPT_MAX_FORWARDS);
		return -1;
	}
	for (unsigned i = 0; i < st->n_forwards; i++) {
		if (napt_forward_overlaps(&st->forwards[i], &fwd)) {
			snprintf(err, errlen, "forward overlaps an earlier one");
			return -1;
		}
	}
	st->forwards[st->n_forwards++] = fwd;
	return 0;
}

/* "... nonce HEX" at the end of a lease line: cuts it off and fills nonce. */
static int load_nonce(char *arg, uint8_t nonce[RUNTIME_NONCE_LEN], char *err, size_t errlen)
{
	char *at = strstr(arg, " nonce ");

	memset(nonce, 0, RUNTIME_NONCE_LEN);
	if (!at)
		return 0;
	*at = '\0';
	at += strlen(" nonce ");
	bool ok = strlen(at) == 2 * RUNTIME_NONCE_LEN;

	for (unsigned i = 0; ok && i < RUNTIME_NONCE_LEN; i++)
		ok = sscanf(at + 2 * i, "%2hhx", &nonce[i]) == 1;
	if (!ok)
		snprintf(err, errlen, "bad nonce '%s'", at);
	return ok ? 0 : -1;
}

/* "forward ... expires UNIX_TIME [nonce HEX]": a NAT-PMP or PCP mapping. */
static int load_lease(struct runtime_state *st, char *arg, char *at, char *err, size_t errlen)
{
	struct runtime_lease *l = &st->leases[st->n_leases];
	long long expires;
	char end;

	if (st->n_leases >= RUNTIME_MAX_LEASES) {
		snprintf(err, errlen, "more than %d forwards with a lifetime", RUNTIME_MAX_LEASES);
		return -1;
	}
	if (load_nonce(at, l->nonce, err, errlen) < 0)
		return -1;
	if (sscanf(at, " expires %lld%c", &expires, &end) != 1 || expires <= 0) {
		snprintf(err, errlen, "bad lifetime '%s'", at);
		return -1;
	}
	*at = '\0';
	if (napt_forward_parse(&l->fwd, arg, err, errlen) < 0)
		return -1;
	l->expires = expires;
	/* A lease that ended while naptd was down is gone (RFC 6886 section 3.6: mappings
	 * live for their lifetime only); its line is still checked. */
	if (expires > (long long)time(NULL))
		st->n_leases++;
	return 0;
}

static int load_epoch(struct runtime_state *st, const char *arg, char *err, size_t errlen)
{
	long long t;
	char end;

	if (sscanf(arg, "%lld%c", &t, &end) != 1 || t <= 0) {
		snprintf(err, errlen, "bad pcp-epoch '%s'", arg);
		return -1;
	}
	st->epoch_start = t;
	return 0;
}

/* One line of the state file: "forward ...", "dmz ADDR", "dmz none" or "pcp-epoch T". */
static int load_line(struct runtime_state *st, char *line, char *err, size_t errlen)
{
	char *s = trim(line);
	if (*s == '\0')
		return 0;
	size_t kw = strcspn(s, " \t");
	char *arg = s + kw;
	arg += strspn(arg, " \t");
	if (kw == 7 && strncmp(s, "forward", kw) == 0 && strstr(arg, " expires "))
		return load_lease(st, arg, strstr(arg, " expires "), err, errlen);
	if (kw == 7 && strncmp(s, "forward", kw) == 0)
		return load_forward(st, arg, err, errlen);
	if (kw == 9 && strncmp(s, "pcp-epoch", kw) == 0)
		return load_epoch(st, arg, err, errlen);
	if (kw == 3 && strncmp(s, "dmz", kw) == 0)
		return load_dmz(st, arg, err, errlen);
	snprintf(err, errlen, "unknown keyword '%.*s' (a state file holds forward and dmz lines)",
		 (int)kw, s);
	return -1;
}

int runtime_state_load(const char *path, struct runtime_state *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	char why[256];
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		if (load_line(st, line, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc < 0)
		memset(st, 0, sizeof(*st));
	return rc;
}

static size_t format_lease(const struct runtime_lease *l, char *buf, size_t cap)
{
	static const uint8_t zero[RUNTIME_NONCE_LEN];
	char fwd[STATE_LINE_MAX];
	size_t n;

	napt_forward_format(&l->fwd, fwd, sizeof(fwd));
	n = (size_t)snprintf(buf, cap, "forward %s expires %lld", fwd, (long long)l->expires);
	if (memcmp(l->nonce, zero, sizeof(zero)) != 0) {
		n += (size_t)snprintf(buf + n, cap - n, " nonce ");
		for (unsigned i = 0; i < RUNTIME_NONCE_LEN; i++)
			n += (size_t)snprintf(buf + n, cap - n, "%02x", l->nonce[i]);
	}
	return n + (size_t)snprintf(buf + n, cap - n, "\n");
}

/* The whole file as text; the caller frees it. */
static char *format_state(const struct runtime_state *st, size_t *len)
{
	size_t cap = (size_t)(st->n_forwards + st->n_leases + 5) * STATE_LINE_MAX;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	size_t n = (size_t)snprintf(buf, cap,
				    "# naptd run-time state: forwards and DMZ set with naptctl.\n"
				    "# Written by naptd; do not edit while it runs.\n");
	for (unsigned i = 0; i < st->n_forwards; i++) {
		char fwd[STATE_LINE_MAX];
		napt_forward_format(&st->forwards[i], fwd, sizeof(fwd));
		n += (size_t)snprintf(buf + n, cap - n, "forward %s\n", fwd);
	}
	for (unsigned i = 0; i < st->n_leases; i++)
		n += format_lease(&st->leases[i], buf + n, cap - n);
	if (st->epoch_start)
		n += (size_t)snprintf(buf + n, cap - n, "pcp-epoch %lld\n",
				      (long long)st->epoch_start);
	if (st->dmz_mode == RUNTIME_DMZ_SET) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &st->dmz, a, sizeof(a));
		n += (size_t)snprintf(buf + n, cap - n, "dmz %s\n", a);
	} else if (st->dmz_mode == RUNTIME_DMZ_CLEARED) {
		n += (size_t)snprintf(buf + n, cap - n, "dmz none\n");
	}
	*len = n;
	return buf;
}

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
	char copy[NAPT_PATH_LEN + 8];
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

int runtime_state_save(const char *path, const struct runtime_state *st, char *err, size_t errlen)
{
	char tmp[NAPT_PATH_LEN + 8];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	size_t len;
	char *text = format_state(st, &len);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	int rc = write_temp(tmp, text, len);
	free(text);
	if (rc < 0) {
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
		snprintf(err, errlen, "fsync of the directory of %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void runtime_state_drop_lease(struct runtime_state *st, unsigned i)
{
	memmove(&st->leases[i], &st->leases[i + 1], (st->n_leases - i - 1) * sizeof(st->leases[0]));
	st->n_leases--;
}

/* Append one run-time forward to cfg, whose first n_file forwards come from the config file. */
static int apply_forward(const struct napt_forward *fwd, struct napt_config *cfg, unsigned n_file,
			 char *err, size_t errlen)
{
	char text[STATE_LINE_MAX], other[STATE_LINE_MAX];
	napt_forward_format(fwd, text, sizeof(text));
	for (unsigned i = 0; i < cfg->n_forwards; i++) {
		if (napt_forward_overlaps(&cfg->forwards[i], fwd)) {
			napt_forward_format(&cfg->forwards[i], other, sizeof(other));
			snprintf(err, errlen, "forward %s overlaps forward %s %s", text, other,
				 i < n_file ? "of the config file" : "added at run time");
			return -1;
		}
	}
	if (cfg->n_forwards >= NAPT_MAX_FORWARDS) {
		snprintf(err, errlen, "forward %s: more than %d forwards in all", text,
			 NAPT_MAX_FORWARDS);
		return -1;
	}
	cfg->forwards[cfg->n_forwards++] = *fwd;
	return 0;
}

int runtime_state_apply(const struct runtime_state *st, struct napt_config *cfg, char *err,
			size_t errlen)
{
	unsigned n_file = cfg->n_forwards;
	for (unsigned i = 0; i < st->n_forwards; i++) {
		if (apply_forward(&st->forwards[i], cfg, n_file, err, errlen) < 0)
			return -1;
	}
	for (unsigned i = 0; i < st->n_leases; i++) {
		if (st->leases[i].expires > (int64_t)time(NULL) &&
		    apply_forward(&st->leases[i].fwd, cfg, n_file, err, errlen) < 0)
			return -1;
	}
	if (st->dmz_mode == RUNTIME_DMZ_SET) {
		cfg->has_dmz = true;
		cfg->dmz = st->dmz;
	} else if (st->dmz_mode == RUNTIME_DMZ_CLEARED) {
		cfg->has_dmz = false;
		cfg->dmz = 0;
	}
	/* A run-time forward or DMZ host must still lie inside after the config changed. */
	return napt_config_validate(cfg, err, errlen);
}
