/* SPDX-License-Identifier: BSD-2-Clause */
/* session_file.c - the sessions file (session_file.h).
 *
 * Layout, every number big-endian:
 *   header (32 bytes): "naptsess", version (2 bytes, 1), record size (2, 32), record count
 *     (4), the wall-clock time of the save in ms (8), FNV-1a of the 24 bytes before (4), 0 (4)
 *   record (32 bytes): protocol, origin, TCP bits seen, 0; inside, external and remote
 *     address (4 each, as on the wire); inside, external and remote port (2 each), 0 (2);
 *     idle ms at the save (4); FNV-1a of the 28 bytes before (4)
 */
#include "session_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_replace.h"
#include "ipv4_packet.h"
#include "napt_config.h"
#include "regular_file.h"

#define FILE_VERSION 1
#define RECORD_DATA  28 /* a record without its check */
static const char magic[8] = {'n', 'a', 'p', 't', 's', 'e', 's', 's'};

/* FNV-1a (32 bits): catches a torn or edited record, not an attacker (whoever can write
 * the state folder can write the config too). */
static uint32_t fnv1a(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* ---- writing ---- */

struct save_buffer {
	uint8_t *at, *end;
	long count;
};

static int put_record(const struct napt_saved_session *s, void *ctx)
{
	struct save_buffer *b = ctx;
	uint8_t *r = b->at;

	if (b->end - b->at < SESSION_FILE_RECORD)
		return 1;
	memset(r, 0, SESSION_FILE_RECORD);
	r[0] = s->proto;
	r[1] = s->origin;
	r[2] = s->tcp_seen;
	memcpy(r + 4, &s->in_addr, 4);
	memcpy(r + 8, &s->ext_addr, 4);
	memcpy(r + 12, &s->rem_addr, 4);
	put16(r + 16, s->in_port);
	put16(r + 18, s->ext_port);
	put16(r + 20, s->rem_port);
	put32(r + 24, s->idle_ms);
	put32(r + RECORD_DATA, fnv1a(r, RECORD_DATA));
	b->at += SESSION_FILE_RECORD;
	b->count++;
	return 0;
}

static void put_header(uint8_t *h, long count, uint64_t wall_ms)
{
	memset(h, 0, SESSION_FILE_HEADER);
	memcpy(h, magic, sizeof(magic));
	put16(h + 8, FILE_VERSION);
	put16(h + 10, SESSION_FILE_RECORD);
	put32(h + 12, (uint32_t)count);
	put32(h + 16, (uint32_t)(wall_ms >> 32));
	put32(h + 20, (uint32_t)wall_ms);
	put32(h + 24, fnv1a(h, 24));
}

long session_file_save(const char *path, const struct napt *n, uint64_t now_ms, uint64_t wall_ms,
		       char *err, size_t errlen)
{
	size_t cap = (size_t)napt_get_counters(n)->sessions_current;
	size_t len = SESSION_FILE_HEADER + cap * SESSION_FILE_RECORD;
	uint8_t *buf = malloc(len);
	struct save_buffer b;
	int rc;

	if (!buf) {
		snprintf(err, errlen, "%s: out of memory for %zu sessions", path, cap);
		return -1;
	}
	b = (struct save_buffer){buf + SESSION_FILE_HEADER, buf + len, 0};
	napt_save_sessions(n, now_ms, put_record, &b);
	put_header(buf, b.count, wall_ms);
	rc = file_replace(path, (const char *)buf, (size_t)(b.at - buf), err, errlen);
	free(buf);
	return rc < 0 ? -1 : b.count;
}

/* ---- reading ---- */

/* NULL when the header and the length agree and the records fit max-sessions, else why not. */
static const char *header_problem(const uint8_t *data, size_t len, uint32_t max_sessions)
{
	if (len < SESSION_FILE_HEADER)
		return "shorter than its header";
	if (memcmp(data, magic, sizeof(magic)) != 0)
		return "not a sessions file";
	if (get16(data + 8) != FILE_VERSION || get16(data + 10) != SESSION_FILE_RECORD)
		return "a version this naptd does not read";
	if (get32(data + 24) != fnv1a(data, 24) || get32(data + 28) != 0)
		return "header check failed";
	if (get32(data + 12) > max_sessions)
		return "more records than max-sessions";
	if (len - SESSION_FILE_HEADER != (size_t)get32(data + 12) * SESSION_FILE_RECORD)
		return "length does not match its record count";
	return NULL;
}

/* The record's session, or false when its check or its zero bytes are wrong. */
static bool get_record(const uint8_t *r, struct napt_saved_session *s)
{
	if (get32(r + RECORD_DATA) != fnv1a(r, RECORD_DATA) || r[3] || r[22] || r[23])
		return false;
	*s = (struct napt_saved_session){
	    .proto = r[0],
	    .origin = r[1],
	    .tcp_seen = r[2],
	    .in_port = get16(r + 16),
	    .ext_port = get16(r + 18),
	    .rem_port = get16(r + 20),
	    .idle_ms = get32(r + 24),
	};
	memcpy(&s->in_addr, r + 4, 4);
	memcpy(&s->ext_addr, r + 8, 4);
	memcpy(&s->rem_addr, r + 12, 4);
	return true;
}

void session_file_restore(struct napt *n, const uint8_t *data, size_t len, uint64_t wall_ms,
			  uint64_t now_ms, struct session_restore *out)
{
	const char *why = header_problem(data, len, napt_get_config(n)->max_sessions);
	uint64_t saved, away;

	memset(out, 0, sizeof(*out));
	if (why) {
		out->file_rejected = 1;
		snprintf(out->why, sizeof(out->why), "%s", why);
		return;
	}
	/* A clock set back since the save: the time away is unknown, taken as none. */
	saved = (uint64_t)get32(data + 16) << 32 | get32(data + 20);
	away = wall_ms > saved ? wall_ms - saved : 0;
	for (size_t off = SESSION_FILE_HEADER; off < len; off += SESSION_FILE_RECORD) {
		struct napt_saved_session s;

		if (!get_record(data + off, &s)) {
			out->bad_checks++;
			out->result[NAPT_RESTORE_INVALID]++;
			continue;
		}
		out->result[napt_restore_session(n, &s, away, now_ms)]++;
	}
}

/* The file's bytes, at most limit of them: NULL with *len 0 and why set when it is larger or
 * unreadable. */
static uint8_t *read_bounded(const char *path, size_t limit, size_t *len, const char **why)
{
	FILE *f = regular_file_open(path, why);
	struct stat st;
	uint8_t *data = NULL;

	*len = 0;
	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) != 0)
		*why = strerror(errno);
	else if ((uint64_t)st.st_size > limit)
		*why = "more records than max-sessions";
	else if (!(data = malloc(st.st_size ? (size_t)st.st_size : 1)))
		*why = "out of memory";
	else if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		*why = "short read";
		free(data);
		data = NULL;
	} else
		*len = (size_t)st.st_size;
	fclose(f);
	return data;
}

int session_file_load(const char *path, struct napt *n, uint64_t wall_ms, uint64_t now_ms,
		      struct session_restore *out, char *err, size_t errlen)
{
	size_t limit =
	    SESSION_FILE_HEADER + (size_t)napt_get_config(n)->max_sessions * SESSION_FILE_RECORD;
	const char *why = NULL;
	size_t len;
	uint8_t *data;

	memset(out, 0, sizeof(*out));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0; /* no clean stop before this start */
	data = read_bounded(path, limit, &len, &why);
	if (data)
		session_file_restore(n, data, len, wall_ms, now_ms, out);
	else {
		out->file_rejected = 1;
		snprintf(out->why, sizeof(out->why), "%s", why);
	}
	free(data);
	if (unlink(path) != 0) {
		snprintf(err, errlen, "%s: cannot remove it: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
