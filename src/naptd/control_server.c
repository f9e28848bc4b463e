/* SPDX-License-Identifier: BSD-2-Clause */
/* control_server.c - the control socket: accept, read one request line, answer, close.
 *
 * Every client is non-blocking and served a piece at a time from the daemon's loop, so a slow,
 * silent or vanished client never stalls packet forwarding: its request has CONTROL_CLIENT_
 * TIMEOUT_MS to arrive, its answer is written as the socket drains with the deadline renewed
 * on each progress, and at most CONTROL_MAX_CLIENTS are served at once. A listing (a session
 * table can be tens of megabytes) is made a piece at a time, the next piece once the last is
 * sent and only PIECES_PER_TURN pieces per turn of the loop: a client holds at most one piece
 * of memory (CONTROL_ANSWER_PIECE), however much it asked for and however slowly it reads,
 * and packets wait at most a few pieces' time.
 */
#include "control_server.h"

#include <errno.h>
#include <grp.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_commands.h"
#include "control_protocol.h"
#include "daemon_log.h"

/* epoll tags beside the client slots 0..CONTROL_MAX_CLIENTS-1 */
#define TAG_LISTEN       CONTROL_MAX_CLIENTS
#define TAG_TIMER        (CONTROL_MAX_CLIENTS + 1)
#define EVENTS_PER_CALL  32
#define ACCEPTS_PER_CALL 16
/* Listing pieces made per turn of the daemon's loop, all clients together: at most
 * 4 x CONTROL_ANSWER_PIECE bytes formatted between two packet bursts. */
#define PIECES_PER_TURN 4

/* What a listing cost the loop, for its log line. */
struct listing_cost {
	uint64_t start_ms;
	uint64_t bytes;
	unsigned pieces; /* made by control_answer_more(): 0 for an answer made whole */
	unsigned turns;
	uint64_t longest_turn_us; /* CPU time */
};

struct control_client {
	int fd; /* -1: free slot */
	char req[CONTROL_REQUEST_MAX];
	size_t req_len;
	bool answering; /* the request was run; answer.text[sent..len) and more may be left */
	struct control_answer answer;
	size_t sent;
	uint64_t deadline_ms;
	struct listing_cost cost;
};

struct control_server {
	struct naptd *d;
	int epfd;
	int listen_fd;
	int timer_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct control_client clients[CONTROL_MAX_CLIENTS];
	unsigned pieces_left; /* listing pieces still to make in this turn */
};

static int watch(struct control_server *cs, int op, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	return epoll_ctl(cs->epfd, op, fd, &ev);
}

static void client_close(struct control_server *cs, struct control_client *cl)
{
	epoll_ctl(cs->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	control_answer_free(&cl->answer);
	cl->fd = -1;
}

/* Send the answer's current text as far as the socket takes it. Returns 1 when all is
 * sent, 0 when the socket is full, -1 when the client is gone. */
static int client_send(struct control_client *cl)
{
	while (cl->sent < cl->answer.len) {
		ssize_t w = send(cl->fd, cl->answer.text + cl->sent, cl->answer.len - cl->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0)
			return -1;
		cl->sent += (size_t)w;
		cl->deadline_ms = naptd_now_ms() + CONTROL_CLIENT_TIMEOUT_MS;
	}
	return 1;
}

/* CPU time of the daemon's thread: what making pieces costs the loop, without the time
 * other processes held the CPU. */
static uint64_t cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A listing that took more than one turn says what it cost, so a heavy or frequent one is
 * visible to the administrator (and the tests check the longest turn). */
static void log_listing(const struct control_client *cl)
{
	const struct listing_cost *c = &cl->cost;
	const char *nl = memchr(cl->req, '\n', cl->req_len);
	int len = nl ? (int)(nl - cl->req) : (int)cl->req_len;
	if (c->pieces == 0 || c->turns < 2)
		return;
	daemon_log(LOG_INFO,
		   "control: %.*s: %lu rows, %llu bytes in %llu ms over %u turns, longest turn "
		   "%llu us of CPU",
		   len < 64 ? len : 64, cl->req, cl->answer.listing.count,
		   (unsigned long long)(c->bytes + cl->answer.len),
		   (unsigned long long)(naptd_now_ms() - c->start_ms), c->turns,
		   (unsigned long long)c->longest_turn_us);
}

/* Write what the socket takes now, making the next piece of a listing each time the last
 * one is sent, as long as this turn's budget of pieces lasts (the socket stays watched, so
 * the next turn of the daemon's loop goes on); close once all is sent or the client is
 * gone. */
static void client_write(struct control_server *cs, struct control_client *cl)
{
	uint64_t t0 = cpu_us();
	int rc;
	while ((rc = client_send(cl)) == 1 && cl->answer.listing.kind != CONTROL_LIST_NONE &&
	       cs->pieces_left > 0) {
		cs->pieces_left--;
		cl->cost.pieces++;
		cl->cost.bytes += cl->answer.len;
		control_answer_more(cs->d, &cl->answer);
		cl->sent = 0;
	}
	uint64_t turn = cpu_us() - t0;
	cl->cost.turns++;
	if (turn > cl->cost.longest_turn_us)
		cl->cost.longest_turn_us = turn;
	bool done = rc == 1 && cl->answer.listing.kind == CONTROL_LIST_NONE;
	if (done)
		log_listing(cl);
	if (rc < 0 || done)
		client_close(cs, cl);
}

/* Rule changes go to the log, so the administrator can trace who changed what; a request is
 * logged with its non-printable bytes as '?', cut at a NUL or at 200 characters. */
static void log_change(const struct control_client *cl, size_t len)
{
	static const char *const quiet[] = {"show ", "json show ", "help", "json help"};
	char req[201];
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		if (len >= strlen(quiet[i]) && memcmp(cl->req, quiet[i], strlen(quiet[i])) == 0)
			return;
	}
	snprintf(req, sizeof(req), "%.*s", (int)len, cl->req);
	for (char *p = req; *p; p++) {
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	}
	const char *nl = memchr(cl->answer.text, '\n', cl->answer.len);
	int alen = nl ? (int)(nl - cl->answer.text) : 0;
	daemon_log(LOG_NOTICE, "control: %s: %.*s", req, alen, cl->answer.text);
}

/* A short message, best effort: the socket is new or idle, so it takes it at once. */
static void say(int fd, const char *msg)
{
	if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		daemon_log(LOG_WARNING, "control: answering a client: %s", strerror(errno));
}

static void client_answer(struct control_server *cs, struct control_client *cl, size_t len)
{
	control_command_run(cs->d, cl->req, len, &cl->answer);
	if (!cl->answer.len) {
		/* Not even the error line found memory. */
		say(cl->fd, CONTROL_ANSWER_ERROR "out of memory\n");
		client_close(cs, cl);
		return;
	}
	log_change(cl, len);
	cl->answering = true;
	cl->sent = 0;
	cl->cost = (struct listing_cost){.start_ms = naptd_now_ms()};
	cl->deadline_ms = naptd_now_ms() + CONTROL_CLIENT_TIMEOUT_MS;
	if (watch(cs, EPOLL_CTL_MOD, cl->fd, EPOLLOUT, (uint64_t)(cl - cs->clients)) < 0) {
		client_close(cs, cl);
		return;
	}
	client_write(cs, cl);
}

/* Read until the request's "\n", its end of file, or CONTROL_REQUEST_MAX bytes (which the
 * command layer then refuses as too long). */
static void client_read(struct control_server *cs, struct control_client *cl)
{
	for (;;) {
		ssize_t r = recv(cl->fd, cl->req + cl->req_len, sizeof(cl->req) - cl->req_len,
				 MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r < 0 || (r == 0 && cl->req_len == 0)) {
			/* Gone, or a mere connect-and-close (another naptd probing the socket). */
			client_close(cs, cl);
			return;
		}
		if (r == 0) {
			/* Half-closed without "\n": what came is the request. */
			client_answer(cs, cl, cl->req_len);
			return;
		}
		const char *nl = memchr(cl->req + cl->req_len, '\n', (size_t)r);
		cl->req_len += (size_t)r;
		if (nl) {
			client_answer(cs, cl, (size_t)(nl - cl->req));
			return;
		}
		if (cl->req_len == sizeof(cl->req)) {
			client_answer(cs, cl, cl->req_len);
			return;
		}
	}
}

/* More clients than slots: say so and hang up. */
static void refuse(int fd)
{
	say(fd, CONTROL_ANSWER_ERROR "too many clients; try again\n");
	close(fd);
}

static struct control_client *free_slot(struct control_server *cs)
{
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (cs->clients[i].fd < 0)
			return &cs->clients[i];
	}
	return NULL;
}

static void accept_clients(struct control_server *cs)
{
	for (int i = 0; i < ACCEPTS_PER_CALL; i++) {
		int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				daemon_log(LOG_WARNING, "control: accept: %s", strerror(errno));
			return;
		}
		struct control_client *cl = free_slot(cs);
		if (!cl) {
			refuse(fd);
			continue;
		}
		cl->fd = fd;
		cl->req_len = 0;
		cl->answering = false;
		control_answer_init(&cl->answer);
		cl->deadline_ms = naptd_now_ms() + CONTROL_CLIENT_TIMEOUT_MS;
		if (watch(cs, EPOLL_CTL_ADD, fd, EPOLLIN, (uint64_t)(cl - cs->clients)) < 0) {
			close(fd);
			cl->fd = -1;
		}
	}
}

static void expire_clients(struct control_server *cs)
{
	uint64_t now = naptd_now_ms();
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = &cs->clients[i];
		if (cl->fd >= 0 && now >= cl->deadline_ms)
			client_close(cs, cl);
	}
}

void control_server_dispatch(struct control_server *cs)
{
	struct epoll_event ev[EVENTS_PER_CALL];
	int n = epoll_wait(cs->epfd, ev, EVENTS_PER_CALL, 0);
	cs->pieces_left = PIECES_PER_TURN;
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		if (tag == TAG_LISTEN) {
			accept_clients(cs);
		} else if (tag == TAG_TIMER) {
			uint64_t ticks;
			if (read(cs->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				daemon_log(LOG_WARNING, "control: timer: %s", strerror(errno));
		} else {
			struct control_client *cl = &cs->clients[tag];
			/* An earlier event of this batch may have closed it. */
			if (cl->fd < 0)
				continue;
			if (cl->answering)
				client_write(cs, cl);
			else
				client_read(cs, cl);
		}
	}
	expire_clients(cs);
}

int control_server_fd(const struct control_server *cs)
{
	return cs->epfd;
}

/* A socket file left by a naptd that died is removed; one that answers belongs to a live
 * daemon and is left alone. */
static int remove_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(sa->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", sa->sun_path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN) {
		snprintf(err, errlen, "%s: another process answers on it (naptd already running?)",
			 sa->sun_path);
		return -1;
	}
	if (e != ECONNREFUSED || unlink(sa->sun_path) < 0) {
		snprintf(err, errlen, "stale socket %s: %s", sa->sun_path,
			 strerror(e != ECONNREFUSED ? e : errno));
		return -1;
	}
	return 0;
}

/* control-group: that group may use the socket too (0660), the daemon still runs as
 * root here; without it the socket stays 0600, root only. */
static int open_to_group(const char *path, const char *group, char *err, size_t errlen)
{
	struct group *g;

	if (!group[0])
		return 0;
	g = getgrnam(group);
	if (!g) {
		snprintf(err, errlen, "control-group %s: no such group", group);
		return -1;
	}
	if (chown(path, (uid_t)-1, g->gr_gid) < 0 || chmod(path, 0660) < 0) {
		snprintf(err, errlen, "control socket %s: group %s: %s", path, group,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Bind with mode 0600 from the start: a umask, not a chmod after the fact, so there is no
 * moment when others could connect. */
static int listen_on(struct control_server *cs, const struct sockaddr_un *sa, char *err,
		     size_t errlen)
{
	cs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cs->listen_fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0177);
	int rc = bind(cs->listen_fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	umask(old);
	if (rc < 0) {
		snprintf(err, errlen, "bind %s: %s", sa->sun_path, strerror(e));
		return -1;
	}
	snprintf(cs->path, sizeof(cs->path), "%s", sa->sun_path);
	if (open_to_group(sa->sun_path, cs->d->file_cfg.daemon.control_group, err, errlen) < 0)
		return -1;
	if (listen(cs->listen_fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "listen %s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The inner epoll and the 1-s timer that enforces client deadlines. */
static int make_poller(struct control_server *cs, char *err, size_t errlen)
{
	struct itimerspec every_second = {.it_interval = {1, 0}, .it_value = {1, 0}};
	cs->epfd = epoll_create1(EPOLL_CLOEXEC);
	cs->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (cs->epfd < 0 || cs->timer_fd < 0 ||
	    timerfd_settime(cs->timer_fd, 0, &every_second, NULL) < 0 ||
	    watch(cs, EPOLL_CTL_ADD, cs->listen_fd, EPOLLIN, TAG_LISTEN) < 0 ||
	    watch(cs, EPOLL_CTL_ADD, cs->timer_fd, EPOLLIN, TAG_TIMER) < 0) {
		snprintf(err, errlen, "control socket poller: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct control_server *control_server_open(struct naptd *d, const char *path, char *err,
					   size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long (at most %zu bytes): %s",
			 sizeof(sa.sun_path) - 1, path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	struct control_server *cs = calloc(1, sizeof(*cs));
	if (!cs) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cs->d = d;
	cs->epfd = cs->listen_fd = cs->timer_fd = -1;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		cs->clients[i].fd = -1;
	if (remove_stale(&sa, err, errlen) < 0 || listen_on(cs, &sa, err, errlen) < 0 ||
	    make_poller(cs, err, errlen) < 0) {
		control_server_close(cs);
		return NULL;
	}
	return cs;
}

void control_server_close(struct control_server *cs)
{
	if (!cs)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (cs->clients[i].fd >= 0)
			client_close(cs, &cs->clients[i]);
	}
	if (cs->path[0])
		unlink(cs->path);
	if (cs->listen_fd >= 0)
		close(cs->listen_fd);
	if (cs->timer_fd >= 0)
		close(cs->timer_fd);
	if (cs->epfd >= 0)
		close(cs->epfd);
	free(cs);
}
