/* SPDX-License-Identifier: BSD-2-Clause */
/* event_monitor.c - the live event stream of `naptctl monitor` (event_monitor.h). */
#include "event_monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_protocol.h"
#include "event_format.h"
#include "nat_event.h"

struct monitor_client {
	int fd; /* -1: free */
	bool json;
	bool want_out;         /* watched for EPOLLOUT: lines wait in buf */
	uint64_t lost_pending; /* events dropped for this reader, not yet told */
	char *buf;
	size_t len;
};

struct event_monitor {
	int epfd;
	uint64_t cursor;    /* the next event to send */
	uint64_t ring_lost; /* napt_events_lost() already passed on to the readers */
	uint64_t now_ms;    /* the wall clock at the last feed, for lost lines */
	uint64_t lost;
	unsigned count;
	struct monitor_client cl[EVENT_MONITOR_MAX];
};

struct event_monitor *event_monitor_create(char *err, size_t errlen)
{
	struct event_monitor *m = calloc(1, sizeof(*m));

	if (!m || (m->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, errlen, "monitor: %s", m ? strerror(errno) : "out of memory");
		free(m);
		return NULL;
	}
	for (unsigned i = 0; i < EVENT_MONITOR_MAX; i++)
		m->cl[i].fd = -1;
	return m;
}

static void client_close(struct event_monitor *m, struct monitor_client *c)
{
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	*c = (struct monitor_client){.fd = -1};
	m->count--;
}

void event_monitor_destroy(struct event_monitor *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < EVENT_MONITOR_MAX; i++)
		if (m->cl[i].fd >= 0) {
			close(m->cl[i].fd);
			free(m->cl[i].buf);
		}
	close(m->epfd);
	free(m);
}

int event_monitor_fd(const struct event_monitor *m)
{
	return m->epfd;
}

static void watch(struct event_monitor *m, struct monitor_client *c, bool out)
{
	struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
				.data.u32 = (uint32_t)(c - m->cl)};

	if (out != c->want_out)
		epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &e);
	c->want_out = out;
}

/* The reader learns how many events it lost as soon as its buffer has room, even when no
 * event follows. Returns whether the line was added. */
static bool tell_lost(struct event_monitor *m, struct monitor_client *c)
{
	char lost[EVENT_LINE_MAX];
	size_t len = event_format_lost(c->lost_pending, m->now_ms, c->json, lost);

	if (c->len + len > EVENT_MONITOR_BUFFER)
		return false;
	memcpy(c->buf + c->len, lost, len);
	c->len += len;
	c->lost_pending = 0;
	return true;
}

/* Write what the socket takes; false when the reader is gone. */
static bool client_flush(struct event_monitor *m, struct monitor_client *c)
{
	size_t off = 0;

	while (off < c->len) {
		ssize_t w = send(c->fd, c->buf + off, c->len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return false;
		off += (size_t)w;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	if (c->lost_pending && tell_lost(m, c))
		return client_flush(m, c);
	watch(m, c, c->len > 0);
	return true;
}

/* Best effort: the reader learns why, then the connection closes. */
static int refuse(int fd, const char *why)
{
	char line[256];
	int len = snprintf(line, sizeof(line), "%s%s\n", CONTROL_ANSWER_ERROR, why);

	send(fd, line, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
	return -1;
}

int event_monitor_adopt(struct event_monitor *m, struct napt *n, int fd, bool json, char *err,
			size_t errlen)
{
	struct monitor_client *c = NULL;
	struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP};

	for (unsigned i = 0; i < EVENT_MONITOR_MAX && !c; i++)
		if (m->cl[i].fd < 0)
			c = &m->cl[i];
	if (!c || !(c->buf = malloc(EVENT_MONITOR_BUFFER))) {
		snprintf(err, errlen, c ? "out of memory" : "already %d monitors",
			 EVENT_MONITOR_MAX);
		return refuse(fd, err);
	}
	e.data.u32 = (uint32_t)(c - m->cl);
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
		snprintf(err, errlen, "monitor: %s", strerror(errno));
		free(c->buf);
		c->buf = NULL;
		return refuse(fd, err);
	}
	c->fd = fd;
	c->json = json;
	c->len = (size_t)snprintf(c->buf, EVENT_MONITOR_BUFFER, "%s\n", CONTROL_ANSWER_OK);
	if (m->count++ == 0) {
		m->cursor = napt_events_head(n);
		m->ring_lost = napt_events_lost(n);
	}
	if (!client_flush(m, c))
		client_close(m, c);
	return 0;
}

/* One event to one reader, after the lost line it is owed: both fit, or the event is lost. */
static void offer(struct event_monitor *m, struct monitor_client *c, const char *line, size_t len)
{
	/* Full: the socket may take some now (a flush of the table comes in one go). */
	if (c->len + len + EVENT_LINE_MAX > EVENT_MONITOR_BUFFER && !c->want_out)
		client_flush(m, c);
	if ((c->lost_pending && !tell_lost(m, c)) || c->len + len > EVENT_MONITOR_BUFFER) {
		c->lost_pending++;
		m->lost++;
		return;
	}
	memcpy(c->buf + c->len, line, len);
	c->len += len;
}

static void offer_all(struct event_monitor *m, const struct napt_event *e)
{
	char line[2][EVENT_LINE_MAX];
	size_t len[2] = {event_format(e, false, line[0]), event_format(e, true, line[1])};

	for (unsigned i = 0; i < EVENT_MONITOR_MAX; i++)
		if (m->cl[i].fd >= 0)
			offer(m, &m->cl[i], line[m->cl[i].json], len[m->cl[i].json]);
}

/* Events the engine's ring could not keep while readers watched (every kind is recorded
 * then, event_pump.c): each reader lost them too, after the ones the ring kept. They are
 * the engine's count (events-lost), not this one's. */
static void ring_losses(struct event_monitor *m, uint64_t lost)
{
	for (unsigned i = 0; i < EVENT_MONITOR_MAX; i++)
		if (m->cl[i].fd >= 0)
			m->cl[i].lost_pending += lost - m->ring_lost;
	m->ring_lost = lost;
}

void event_monitor_feed(struct event_monitor *m, const struct napt *n, uint64_t now_ms)
{
	struct napt_event ev[64];
	unsigned got;

	m->now_ms = now_ms;
	if (!m->count) {
		m->cursor = napt_events_head(n);
		m->ring_lost = napt_events_lost(n);
		return;
	}
	while ((got = napt_events_peek(n, m->cursor, ev, 64, &m->cursor)))
		for (unsigned i = 0; i < got; i++)
			offer_all(m, &ev[i]);
	ring_losses(m, napt_events_lost(n));
	for (unsigned i = 0; i < EVENT_MONITOR_MAX; i++)
		if (m->cl[i].fd >= 0 && (m->cl[i].len || m->cl[i].lost_pending) &&
		    !m->cl[i].want_out)
			client_flush(m, &m->cl[i]);
}

/* Readable: the reader closed (anything it sends is ignored). Writable: room again. */
void event_monitor_dispatch(struct event_monitor *m)
{
	struct epoll_event ev[EVENT_MONITOR_MAX];
	int k = epoll_wait(m->epfd, ev, EVENT_MONITOR_MAX, 0);

	for (int i = 0; i < k; i++) {
		struct monitor_client *c = &m->cl[ev[i].data.u32];
		bool gone = false;

		if (c->fd < 0)
			continue;
		if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			char scratch[256];
			ssize_t r = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

			gone = r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
		}
		if (!gone && (ev[i].events & EPOLLOUT))
			gone = !client_flush(m, c);
		if (gone)
			client_close(m, c);
	}
}

uint64_t event_monitor_lost(const struct event_monitor *m)
{
	return m ? m->lost : 0;
}

unsigned event_monitor_count(const struct event_monitor *m)
{
	return m ? m->count : 0;
}
