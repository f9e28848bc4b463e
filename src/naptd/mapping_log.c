/* SPDX-License-Identifier: BSD-2-Clause */
/* mapping_log.c - mapping events to syslog in batches, without blocking (mapping_log.h). */
#include "mapping_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	int fd;      /* the syslog socket, or stderr's own non-blocking copy */
	bool stream; /* fd is stderr: lines are bytes, a line may go out in pieces */
	bool blocks; /* lines for port blocks, not for mappings */
	struct sockaddr_un addr;
	char pending[HEADER_MAX + EVENT_LINE_MAX]; /* stream: the rest of a line cut short */
	size_t pending_len;
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

	if (ml->stream)
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

/* stderr without blocking (naptd -f): a pipe or terminal is opened again as a file
 * description of its own with O_NONBLOCK, so a reader that stops reading never stops the
 * loop, and the daemon's other stderr users (and the shell sharing the terminal) keep theirs
 * as they were. A socket is written with MSG_DONTWAIT (send_stream); a file never waits for a
 * reader. */
static int stderr_nonblocking(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) < 0)
		return -1;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		return open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
}

static int open_syslog(struct mapping_log *ml, const char *syslog_path)
{
	ml->addr.sun_family = AF_UNIX;
	snprintf(ml->addr.sun_path, sizeof(ml->addr.sun_path), "%s", syslog_path);
	ml->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Not there yet (syslog starts after us): the first write connects again. */
	if (ml->fd < 0 || (connect_syslog(ml) < 0 && errno != ENOENT && errno != ECONNREFUSED))
		return -1;
	return 0;
}

struct mapping_log *mapping_log_open(const struct napt *n, const char *syslog_path, bool blocks,
				     char *err, size_t errlen)
{
	struct mapping_log *ml = calloc(1, sizeof(*ml));

	if (!ml) {
		snprintf(err, errlen, "log-mappings: out of memory");
		return NULL;
	}
	ml->blocks = blocks;
	ml->cursor = napt_events_head(n);
	ml->lost_seen = napt_events_lost(n);
	ml->stream = !syslog_path;
	if (ml->stream ? (ml->fd = stderr_nonblocking()) < 0 : open_syslog(ml, syslog_path) < 0) {
		snprintf(err, errlen, "log-mappings: %s: %s", ml->stream ? "stderr" : syslog_path,
			 strerror(errno));
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

unsigned mapping_log_kinds(bool blocks)
{
	return NAPT_EVK_MAPPINGS | (blocks ? NAPT_EVK_BLOCKS : 0);
}

/* Mappings, or with port blocks their blocks (docs/logging.md: a block stands for every
 * mapping on its ports, RFC 7422 section 5's small logs) and the mappings no block holds:
 * a forward's or the DMZ's port may lie within a host's block range, and without its own
 * lines the log would name the block's host for it. Outbound mappings are the blocks'. */
bool mapping_log_takes(bool blocks, const struct napt_event *e)
{
	bool mapping = e->type == NAPT_EV_MAPPING_NEW || e->type == NAPT_EV_MAPPING_END;

	if (!blocks)
		return mapping;
	return mapping ? e->origin != NAPT_ORIGIN_OUTBOUND
		       : e->type == NAPT_EV_BLOCK_NEW || e->type == NAPT_EV_BLOCK_END;
}

/* Lines for the events from the cursor on, logged kinds only; *skipped_to: the event after the
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
			if (!mapping_log_takes(ml->blocks, &ev[i]))
				continue;
			h = header(ml, ml->text[ml->count]);
			add_line(ml, h + event_format(&ev[i], false, ml->text[ml->count] + h),
				 next - got + i + 1);
		}
		seq = next;
	}
	*skipped_to = seq;
}

/* Write what the stream can take now, from buf; returns how much. */
static size_t write_some(int fd, const char *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, buf, len);
	return n < 0 ? 0 : (size_t)n;
}

/* The foreground's stderr: whole lines while it takes them. A line it takes in part counts
 * as written, its rest goes out first next time; a stream that takes nothing (a full pipe,
 * a reader gone) leaves the lines in the ring, where the loop's backlog waits. */
static unsigned send_stream(struct mapping_log *ml)
{
	unsigned i = 0;
	size_t n;

	if (ml->pending_len) {
		n = write_some(ml->fd, ml->pending, ml->pending_len);
		ml->pending_len -= n;
		memmove(ml->pending, ml->pending + n, ml->pending_len);
		if (ml->pending_len)
			return 0;
	}
	for (; i < ml->count; i++) {
		n = write_some(ml->fd, ml->text[i], ml->iov[i].iov_len);
		if (n == ml->iov[i].iov_len)
			continue;
		if (n) {
			ml->pending_len = ml->iov[i].iov_len - n;
			memcpy(ml->pending, ml->text[i] + n, ml->pending_len);
			i++;
		}
		break;
	}
	return i;
}

/* Send the batch; returns how many messages went out. */
static unsigned send_batch(struct mapping_log *ml)
{
	int sent;

	if (ml->stream)
		return send_stream(ml);
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
