/* SPDX-License-Identifier: BSD-2-Clause */
/* runtime_state.c - the state file: forwards and DMZ changed through naptctl.
 *
 * The file uses config syntax so an administrator can read it, but naptd alone writes it:
 * always whole, through a temporary file that is fsync'ed and renamed over the old one, then
 * an fsync of the directory so the rename itself survives a power loss. A crash at any point
 * leaves either the old file or the new one, never a mix.
 */
#include "runtime_state.h"

#include "file_replace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "regular_file.h"

/* Room for one line of the state file (a forward is at most ~50 characters, a lease's
 * lifetime, four filters, nonce, origin and description about 270 more). */
#define STATE_LINE_MAX 400

/* The longest line read, newline included, plus its NUL: what naptd writes is under 200
 * bytes, an administrator's comment line may be longer. */
#define STATE_READ_MAX 1024

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

void runtime_desc_set(char dst[RUNTIME_DESC_MAX + 1], const char *src)
{
	size_t n = 0, start = 0;

	while (src && src[n] && n < RUNTIME_DESC_MAX) {
		unsigned char c = (unsigned char)src[n];

		dst[n++] =
		    c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '#' ? '?' : (char)c;
	}
	while (n && dst[n - 1] == ' ')
		n--;
	while (start < n && dst[start] == ' ')
		start++;
	memmove(dst, dst + start, n - start);
	dst[n - start] = '\0';
}

/* "... desc TEXT" at the end of a lease line: cuts it off and keeps TEXT, which must be as
 * runtime_desc_set leaves it. */
static int load_desc(char *at, char desc[RUNTIME_DESC_MAX + 1], char *err, size_t errlen)
{
	char *p = strstr(at, " desc ");

	desc[0] = '\0';
	if (!p)
		return 0;
	*p = '\0';
	p += strlen(" desc ");
	runtime_desc_set(desc, p);
	if (strcmp(desc, p) == 0 && desc[0])
		return 0;
	snprintf(err, errlen, "bad description '%.80s' (at most %d printable characters)", p,
		 RUNTIME_DESC_MAX);
	return -1;
}

/* "... upnp" at the end of a lease line: cuts it off; whether it was there. */
static bool load_upnp(char *arg)
{
	size_t n = strlen(arg), k = strlen(" upnp");

	if (n < k || strcmp(arg + n - k, " upnp") != 0)
		return false;
	arg[n - k] = '\0';
	return true;
}

/* "... filter ADDR/LEN:PORT ..." after the lifetime (PCP FILTER, RFC 6887 section 13.3): cuts
 * them off and fills f (at most NAPT_FWD_MAX_FILTERS, nothing else among them). */
static int load_filters(char *at, struct napt_peer_filter *f, unsigned *n, char *err, size_t errlen)
{
	char *p = strstr(at, " filter "), *save = NULL, *word;

	*n = 0;
	if (!p)
		return 0;
	*p++ = '\0';
	for (word = strtok_r(p, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		char *value = strtok_r(NULL, " ", &save);

		if (strcmp(word, "filter") != 0 || !value) {
			snprintf(err, errlen,
				 "'%s' among the filters (each is 'filter ADDR/LEN:PORT')", word);
			return -1;
		}
		if (*n == NAPT_FWD_MAX_FILTERS) {
			snprintf(err, errlen, "more than %d filters", NAPT_FWD_MAX_FILTERS);
			return -1;
		}
		if (napt_peer_filter_parse(&f[(*n)++], value, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* "forward ... expires UNIX_TIME [filter F ...] [nonce HEX] [upnp] [desc TEXT]": a NAT-PMP,
 * PCP or UPnP mapping. */
static int load_lease(struct runtime_state *st, char *arg, char *at, char *err, size_t errlen)
{
	struct runtime_lease *l = &st->leases[st->n_leases];
	struct napt_peer_filter filters[NAPT_FWD_MAX_FILTERS];
	unsigned n_filters;
	long long expires;
	char end;

	if (st->n_leases >= RUNTIME_MAX_LEASES) {
		snprintf(err, errlen, "more than %d forwards with a lifetime", RUNTIME_MAX_LEASES);
		return -1;
	}
	if (load_desc(at, l->desc, err, errlen) < 0)
		return -1;
	l->upnp = load_upnp(at);
	if (load_nonce(at, l->nonce, err, errlen) < 0 ||
	    load_filters(at, filters, &n_filters, err, errlen) < 0)
		return -1;
	if (sscanf(at, " expires %lld%c", &expires, &end) != 1 || expires <= 0) {
		snprintf(err, errlen, "bad lifetime '%s'", at);
		return -1;
	}
	*at = '\0';
	if (napt_forward_parse(&l->fwd, arg, err, errlen) < 0)
		return -1;
	memcpy(l->fwd.filters, filters, n_filters * sizeof(filters[0]));
	l->fwd.n_filters = (uint8_t)n_filters;
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

/* Where the lines that cannot be loaded go at start (runtime_state_salvage); NULL when the
 * first such line fails the load. */
struct salvage {
	char path[NAPT_PATH_LEN + 16]; /* STATE.rejected */
	runtime_state_reject_fn *report;
	const char *state; /* the state file's path */
	unsigned count;
	bool all_kept;    /* every line set aside is in path */
	FILE *f;          /* path, opened at the first line set aside, once per salvage */
	bool open_failed; /* ... and not tried again for each line */
};

/* Append "# where: why" and the line as it was to the rejected file (flushed, so the report
 * says what is written). */
static void set_aside(struct salvage *sv, const char *line, const char *why)
{
	size_t n = strlen(line);
	bool kept;

	if (!sv->f && !sv->open_failed) {
		sv->f = fopen(sv->path, "ae");
		sv->open_failed = !sv->f;
	}
	kept = sv->f &&
	       fprintf(sv->f, "# %s\n%s%s", why, line, n && line[n - 1] == '\n' ? "" : "\n") >= 0 &&
	       fflush(sv->f) == 0;
	sv->all_kept = sv->all_kept && kept;
	sv->count++;
	if (sv->report)
		sv->report(why, kept ? sv->path : NULL);
}

/* One line, as read: loaded, set aside (sv) or the load's failure (-1, reason in err). */
static int take_line(struct runtime_state *st, char *line, const char *where, struct salvage *sv,
		     char *err, size_t errlen)
{
	char why[256];
	char *copy = sv ? strdup(line) : NULL; /* load_line cuts the line up */
	int rc = 0;

	if (sv && !copy) {
		snprintf(err, errlen, "%s: out of memory", where);
		return -1;
	}
	if (load_line(st, line, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", where, why);
		if (sv)
			set_aside(sv, copy, err);
		else
			rc = -1;
	}
	free(copy);
	return rc;
}

/* One line into line[STATE_READ_MAX]. The last byte is set first: fgets() ends the text
 * there with a NUL only when the line filled the buffer, which filled() then sees even
 * when the line holds NUL bytes. */
static bool read_line(char *line, FILE *f)
{
	line[STATE_READ_MAX - 1] = 1;
	return fgets(line, STATE_READ_MAX, f) != NULL;
}

/* Whether read_line() filled the buffer before the line's end. */
static bool filled(const char *line, FILE *f)
{
	return line[STATE_READ_MAX - 1] == '\0' && line[STATE_READ_MAX - 2] != '\n' && !feof(f);
}

/* A line longer than the buffer: no line naptd writes is that long, and reading it whole
 * (getline) would take memory without bound from a file without a newline (a sparse or
 * damaged file). The strict load fails there; the start sets its first part aside and
 * reads past the rest a buffer at a time. */
static int long_line(char *line, FILE *f, const char *where, struct salvage *sv, char *err,
		     size_t errlen)
{
	snprintf(err, errlen, "%s: line longer than %d bytes", where, STATE_READ_MAX - 2);
	if (!sv)
		return -1;
	set_aside(sv, line, err);
	while (read_line(line, f) && filled(line, f))
		;
	return 0;
}

static int load_file(const char *path, struct runtime_state *st, struct salvage *sv, char *err,
		     size_t errlen)
{
	memset(st, 0, sizeof(*st));
	const char *why;
	FILE *f = regular_file_open(path, &why);
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, why);
		return RUNTIME_STATE_UNREADABLE;
	}
	char line[STATE_READ_MAX], where[NAPT_PATH_LEN + 16];
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && read_line(line, f)) {
		snprintf(where, sizeof(where), "%s:%u", path, ++lineno);
		rc = filled(line, f) ? long_line(line, f, where, sv, err, errlen)
				     : take_line(st, line, where, sv, err, errlen);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = RUNTIME_STATE_UNREADABLE;
	}
	fclose(f);
	if (rc < 0)
		memset(st, 0, sizeof(*st));
	return rc;
}

int runtime_state_load(const char *path, struct runtime_state *st, char *err, size_t errlen)
{
	return load_file(path, st, NULL, err, errlen);
}

static size_t format_forward(const struct napt_forward *f, char *buf, size_t cap)
{
	char fwd[STATE_LINE_MAX];
	napt_forward_format(f, fwd, sizeof(fwd));
	return (size_t)snprintf(buf, cap, "forward %s\n", fwd);
}

/* The DMZ line, or nothing when the config file's DMZ applies. */
static size_t format_dmz(const struct runtime_state *st, char *buf, size_t cap)
{
	char a[INET_ADDRSTRLEN];
	if (st->dmz_mode == RUNTIME_DMZ_CLEARED)
		return (size_t)snprintf(buf, cap, "dmz none\n");
	if (st->dmz_mode != RUNTIME_DMZ_SET) {
		buf[0] = '\0';
		return 0;
	}
	inet_ntop(AF_INET, &st->dmz, a, sizeof(a));
	return (size_t)snprintf(buf, cap, "dmz %s\n", a);
}

static size_t format_lease(const struct runtime_lease *l, char *buf, size_t cap)
{
	static const uint8_t zero[RUNTIME_NONCE_LEN];
	char fwd[STATE_LINE_MAX];
	size_t n;

	napt_forward_format(&l->fwd, fwd, sizeof(fwd));
	n = (size_t)snprintf(buf, cap, "forward %s expires %lld", fwd, (long long)l->expires);
	for (unsigned i = 0; i < l->fwd.n_filters; i++) {
		char f[64];

		napt_peer_filter_format(&l->fwd.filters[i], f, sizeof(f));
		n += (size_t)snprintf(buf + n, cap - n, " filter %s", f);
	}
	if (memcmp(l->nonce, zero, sizeof(zero)) != 0) {
		n += (size_t)snprintf(buf + n, cap - n, " nonce ");
		for (unsigned i = 0; i < RUNTIME_NONCE_LEN; i++)
			n += (size_t)snprintf(buf + n, cap - n, "%02x", l->nonce[i]);
	}
	if (l->upnp)
		n += (size_t)snprintf(buf + n, cap - n, " upnp");
	if (l->desc[0])
		n += (size_t)snprintf(buf + n, cap - n, " desc %s", l->desc);
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
	for (unsigned i = 0; i < st->n_forwards; i++)
		n += format_forward(&st->forwards[i], buf + n, cap - n);
	for (unsigned i = 0; i < st->n_leases; i++)
		n += format_lease(&st->leases[i], buf + n, cap - n);
	if (st->epoch_start)
		n += (size_t)snprintf(buf + n, cap - n, "pcp-epoch %lld\n",
				      (long long)st->epoch_start);
	n += format_dmz(st, buf + n, cap - n);
	*len = n;
	return buf;
}

/* ---- the start: lines that cannot be loaded are set aside ---- */

/* Whether the config file with st on top would start (runtime_state_apply). */
static bool starts(const struct runtime_state *st, const struct napt_config *cfg,
		   struct napt_config *run, char *why, size_t len)
{
	*run = *cfg;
	return runtime_state_apply(st, run, why, len) == 0;
}

/* The last entry added to kept, text its line: kept unless the config refuses it. */
static bool admitted(struct salvage *sv, const struct runtime_state *kept,
		     const struct napt_config *cfg, struct napt_config *run, const char *text)
{
	char why[300];
	size_t n = (size_t)snprintf(why, sizeof(why), "%s: ", sv->state);

	if (starts(kept, cfg, run, why + n, sizeof(why) - n))
		return true;
	set_aside(sv, text, why);
	return false;
}

/* Entries that load but that the config file refuses (a forward overlapping one of its
 * forwards, a host no longer inside: the config changed since they were saved) are set aside
 * as well, one by one in the file's order, as runtime_state_apply would refuse them. */
static int admit(struct salvage *sv, struct runtime_state *st, const struct napt_config *cfg)
{
	struct runtime_state *kept = calloc(1, sizeof(*kept));
	struct napt_config *run = malloc(sizeof(*run));
	char text[STATE_LINE_MAX + 64];

	if (!kept || !run) {
		free(kept);
		free(run);
		return -1;
	}
	kept->epoch_start = st->epoch_start;
	for (unsigned i = 0; i < st->n_forwards; i++) {
		kept->forwards[kept->n_forwards++] = st->forwards[i];
		format_forward(&st->forwards[i], text, sizeof(text));
		kept->n_forwards -= !admitted(sv, kept, cfg, run, text);
	}
	for (unsigned i = 0; i < st->n_leases; i++) {
		kept->leases[kept->n_leases++] = st->leases[i];
		format_lease(&st->leases[i], text, sizeof(text));
		kept->n_leases -= !admitted(sv, kept, cfg, run, text);
	}
	kept->dmz_mode = st->dmz_mode;
	kept->dmz = st->dmz;
	format_dmz(st, text, sizeof(text));
	if (!admitted(sv, kept, cfg, run, text)) {
		kept->dmz_mode = RUNTIME_DMZ_FROM_CONFIG;
		kept->dmz = 0;
	}
	*st = *kept;
	free(kept);
	free(run);
	return 0;
}

int runtime_state_salvage(const char *path, struct runtime_state *st, const struct napt_config *cfg,
			  runtime_state_reject_fn *report, char *err, size_t errlen)
{
	struct salvage sv = {.report = report, .all_kept = true, .state = path};
	int rc = 0;

	if (snprintf(sv.path, sizeof(sv.path), "%s.rejected", path) >= (int)sizeof(sv.path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (load_file(path, st, &sv, err, errlen) < 0) {
		rc = -1;
	} else if (admit(&sv, st, cfg) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	if (sv.f && fclose(sv.f) != 0)
		sv.all_kept = false;
	if (rc < 0)
		return -1;
	/* Written again without them, the file loads whole next time; a line that could not
	 * be kept aside stays where it is rather than be lost. */
	if (sv.count && sv.all_kept && runtime_state_save(path, st, err, errlen) < 0)
		return -1;
	return (int)sv.count;
}

/* Writes of the file, from the event loop (naptctl) and from the lease writer's thread, take
 * turns; a text formatted earlier than the one already written is not written over it (a
 * naptctl change saved at once must not be undone by older leases written after it). */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t formatted_seq; /* the event loop's, which formats every text */
static uint64_t written_seq;   /* under file_lock */

/* The text of state number seq to path: atomic replace, see runtime_state_save. */
static int write_text(const char *path, const char *text, size_t len, uint64_t seq, char *err,
		      size_t errlen)
{
	if (seq < written_seq)
		return 0; /* a newer state is on disk */
	int rc = file_replace(path, text, len, err, errlen);
	/* From the rename on the file holds the new state (rc 1: only the directory's fsync
	 * failed): the caller keeps it too, or the two would differ (a change the daemon undid
	 * would come back at the next start). The next save syncs the directory again. */
	if (rc >= 0)
		written_seq = seq;
	return rc;
}

static int write_locked(const char *path, const char *text, size_t len, uint64_t seq, char *err,
			size_t errlen)
{
	pthread_mutex_lock(&file_lock);
	int rc = write_text(path, text, len, seq, err, errlen);
	pthread_mutex_unlock(&file_lock);
	return rc;
}

int runtime_state_save(const char *path, const struct runtime_state *st, char *err, size_t errlen)
{
	size_t len;
	char *text = format_state(st, &len);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	int rc = write_locked(path, text, len, ++formatted_seq, err, errlen);
	free(text);
	return rc;
}

/* ---- the lease writer ---- */

struct runtime_state_writer {
	pthread_t thread;
	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t wake;
	char *text; /* the newest text not yet written, or NULL */
	size_t len;
	uint64_t seq;
	bool stop;
	int last_rc; /* of the last write: runtime_state_save's */
	char last_err[256];
	uint64_t writes;
	char path[NAPT_PATH_LEN];
};

/* Take the pending text (the caller holds w->lock and frees it), or NULL to end. */
static char *next_text(struct runtime_state_writer *w, size_t *len, uint64_t *seq)
{
	char *text;
	while (!w->text && !w->stop)
		pthread_cond_wait(&w->wake, &w->lock);
	text = w->text; /* pending text is written before a stop */
	*len = w->len;
	*seq = w->seq;
	w->text = NULL;
	return text;
}

static void *writer_main(void *arg)
{
	struct runtime_state_writer *w = arg;
	char *text, err[sizeof(w->last_err)];
	size_t len;
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	while ((text = next_text(w, &len, &seq)) != NULL) {
		pthread_mutex_unlock(&w->lock);
		int rc = write_locked(w->path, text, len, seq, err, sizeof(err));
		free(text);
		pthread_mutex_lock(&w->lock);
		w->last_rc = rc;
		w->writes += rc >= 0;
		if (rc != 0)
			snprintf(w->last_err, sizeof(w->last_err), "%s", err);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct runtime_state_writer *runtime_state_writer_start(const char *path, char *err, size_t errlen)
{
	struct runtime_state_writer *w = calloc(1, sizeof(*w));
	int e = ENOMEM;

	if (w) {
		snprintf(w->path, sizeof(w->path), "%s", path);
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->wake, NULL);
		e = pthread_create(&w->thread, NULL, writer_main, w);
	}
	if (e == 0)
		return w;
	snprintf(err, errlen, "state file writer: %s", strerror(e));
	free(w);
	return NULL;
}

int runtime_state_writer_submit(struct runtime_state_writer *w, const struct runtime_state *st)
{
	size_t len;
	char *text = format_state(st, &len);
	if (!text)
		return -1;
	pthread_mutex_lock(&w->lock);
	free(w->text); /* older and not yet written: the new text holds it all */
	w->text = text;
	w->len = len;
	w->seq = ++formatted_seq;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int runtime_state_writer_status(struct runtime_state_writer *w, uint64_t *writes, char *err,
				size_t errlen)
{
	pthread_mutex_lock(&w->lock);
	int rc = w->last_rc;
	*writes = w->writes;
	snprintf(err, errlen, "%s", rc ? w->last_err : "");
	w->last_rc = 0; /* each outcome and write is told once */
	w->writes = 0;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int runtime_state_writer_stop(struct runtime_state_writer *w, char *err, size_t errlen)
{
	uint64_t writes;

	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	int rc = runtime_state_writer_status(w, &writes, err, errlen);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return rc;
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
