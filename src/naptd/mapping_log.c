/* SPDX-License-Identifier: BSD-2-Clause */
/* mapping_log.c - mapping events to syslog in batches, without blocking (mapping_log.h). */
#include "mapping_log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "event_format.h"
#include "nat_event.h"

#define BATCH 64
/* "<190>Dec  7 14:02:11 naptd[4294967295]: " */
#define HEADER_MAX 48

struct mapping_log {
	int fd; /* the syslog socket; -1: stderr */
	struct sockaddr_un addr;
	uint64_t cursor;    /* next event to write */
	uint64_t lost_seen; /* napt_events_lost() already reported */
	uint64_t lines;
	unsigned count;  /* messages in the batch */
	bool lost_first; /* message 0 is a lost line, for lost_at */
	uint64_t lost_at;
	uint64_t after[BATCH]; /* the cursor once message i is out */
	char text[BATCH][HEADER_MAX + EVENT_LINE_MAX];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
};

/* Syslog's header (RFC 3164 section 4.1: priority, local time, tag): journald and rsyslog
 * both take the tag "naptd" from it, as for the daemon's other lines. */
static size_t header(const struct mapping_log *ml, char *buf)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[20];

	if (ml->fd < 0)
		return (size_t)snprintf(buf, HEADER_MAX, "naptd: ");
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	return (size_t)snprintf(buf, HEADER_MAX, "<%d>%s naptd[%d]: ", LOG_DAEMON | LOG_INFO, stamp,
				(int)getpid());
}

static int connect_syslog(struct mapping_log *ml)
{
	return connect(ml->fd, (const struct sockaddr *)&ml->addr, sizeof(ml->addr));
}

struct mapping_log *mapping_log_open(const struct napt *n, const char *syslog_path, char *err,
				     size_t errlen)
{
	struct mapping_log *ml = calloc(1, sizeof(*ml));

	if (!ml) {
		snprintf(err, errlen, "log-mappings: out of memory");
		return NULL;
	}
	ml->fd = -1;
	ml->cursor = napt_events_head(n);
	ml->lost_seen = napt_events_lost(n);
	if (!syslog_path)
		return ml;
	ml->addr.sun_family = AF_UNIX;
	snprintf(ml->addr.sun_path, sizeof(ml->addr.sun_path), "%s", syslog_path);
	ml->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Not there yet (syslog starts after us): the first write connects again. */
	if (ml->fd < 0 || (connect_syslog(ml) < 0 && errno != ENOENT && errno != ECONNREFUSED)) {
		snprintf(err, errlen, "log-mappings: %s: %s", syslog_path, strerror(errno));
		mapping_log_close(ml);
		return NULL;
	}
	return ml;
}

void mapping_log_close(struct mapping_log *ml)
{
	if (!ml)
		return;
	if (ml->fd >= 0)
		close(ml->fd);
	free(ml);
}

static void add_line(struct mapping_log *ml, size_t len, uint64_t after)
{
	unsigned i = ml->count++;

	ml->iov[i] = (struct iovec){ml->text[i], len};
	ml->msg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &ml->iov[i], .msg_iovlen = 1}};
	ml->after[i] = after;
}

/* Lines for the events from the cursor on, mappings only; *skipped_to: the event after the
 * last one looked at (sessions are passed over). */
static void fill_batch(struct mapping_log *ml, const struct napt *n, uint64_t now_ms,
		       uint64_t *skipped_to)
{
	struct napt_event ev[BATCH];
	uint64_t seq = ml->cursor, next;
	unsigned got, looked = 0;
	size_t h;

	ml->count = 0;
	ml->lost_first = napt_events_lost(n) > ml->lost_seen;
	if (ml->lost_first) {
		ml->lost_at = napt_events_lost(n);
		h = header(ml, ml->text[0]);
		add_line(ml,
			 h + event_format_lost(ml->lost_at - ml->lost_seen, now_ms, false,
					       ml->text[0] + h),
			 seq);
	}
	/* Bounded: a ring of session events costs a few looks per call, not a whole ring. */
	while (ml->count < BATCH && looked < 8 * BATCH &&
	       (got = napt_events_peek(n, seq, ev, BATCH - ml->count, &next))) {
		looked += got;
		for (unsigned i = 0; i < got; i++) {
			if (ev[i].type != NAPT_EV_MAPPING_NEW && ev[i].type != NAPT_EV_MAPPING_END)
				continue;
			h = header(ml, ml->text[ml->count]);
			add_line(ml, h + event_format(&ev[i], false, ml->text[ml->count] + h),
				 next - got + i + 1);
		}
		seq = next;
	}
	*skipped_to = seq;
}

/* Send the batch; returns how many messages went out. */
static unsigned send_batch(struct mapping_log *ml)
{
	int sent;

	if (ml->fd < 0) {
		/* The foreground: the administrator's terminal or file, written as it comes. */
		for (unsigned i = 0; i < ml->count; i++)
			fwrite(ml->text[i], 1, ml->iov[i].iov_len, stderr);
		fflush(stderr);
		return ml->count;
	}
	sent = sendmmsg(ml->fd, ml->msg, ml->count, MSG_DONTWAIT);
	if (sent < 0 && (errno == ENOTCONN || errno == ECONNREFUSED || errno == ENOENT))
		connect_syslog(ml); /* syslog restarted: try its new socket next time */
	return sent < 0 ? 0 : (unsigned)sent;
}

static bool write_batch(struct mapping_log *ml, const struct napt *n, uint64_t now_ms)
{
	uint64_t skipped_to;
	unsigned sent;

	fill_batch(ml, n, now_ms, &skipped_to);
	sent = ml->count ? send_batch(ml) : 0;
	ml->lines += sent;
	if (sent && ml->lost_first)
		ml->lost_seen = ml->lost_at;
	if (sent == ml->count) {
		ml->cursor = skipped_to;
		return true;
	}
	if (sent)
		ml->cursor = ml->after[sent - 1];
	return false;
}

enum mapping_log_state mapping_log_write(struct mapping_log *ml, struct napt *n, uint64_t now_ms)
{
	for (unsigned lines = 0; lines < MAPPING_LOG_BUDGET; lines += BATCH) {
		if (!write_batch(ml, n, now_ms))
			return MAPPING_LOG_BLOCKED;
		if (ml->cursor == napt_events_head(n) && napt_events_lost(n) == ml->lost_seen)
			return MAPPING_LOG_IDLE;
	}
	return MAPPING_LOG_MORE;
}

uint64_t mapping_log_cursor(const struct mapping_log *ml)
{
	return ml->cursor;
}

uint64_t mapping_log_lines(const struct mapping_log *ml)
{
	return ml ? ml->lines : 0;
}
