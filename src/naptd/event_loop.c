/* event_loop.c - the daemon's main loop: packets, control requests, signals, expiry. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "control_server.h"
#include "daemon_log.h"
#include "event_loop.h"

/* Packets read per wake-up: the TUN never starves the control socket or the signals. */
#define TUN_BATCH 64
/* The largest IPv4 packet a TUN can hand over. */
#define PACKET_MAX 65535

enum event_source { EV_TUN, EV_SIGNAL, EV_TIMER, EV_CONTROL };

struct event_loop {
	int epfd, sigfd, timerfd;
	bool stop;
};

static uint8_t packet[PACKET_MAX];

static void blocked_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

int event_loop_block_signals(char *err, size_t errlen)
{
	sigset_t set;

	blocked_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		snprintf(err, errlen, "signals: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A full queue (EAGAIN, ENOBUFS) drops the packet, as a router's full interface queue
 * would; TCP and the applications recover. */
static void tun_write(struct naptd *d, const uint8_t *pkt, size_t len)
{
	if (write(d->tun.fd, pkt, len) != (ssize_t)len)
		d->tun_write_errors++;
}

static void release_held(struct naptd *d)
{
	size_t len;

	while ((len = napt_next_released(d->nat, packet, sizeof(packet))) > 0)
		tun_write(d, packet, len);
}

static int tun_readable(struct naptd *d, char *err, size_t errlen)
{
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(d->tun.fd, packet, sizeof(packet));
		struct napt_packet pkt = {.data = packet, .len = (size_t)n};
		struct napt_result res;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			snprintf(err, errlen, "%s: read: %s", d->tun.name,
				 n < 0 ? strerror(errno) : "device gone");
			return -1;
		}
		res = napt_translate(d->nat, &pkt, naptd_now_ms());
		if (res.verdict == NAPT_FORWARD)
			tun_write(d, packet, pkt.len);
		release_held(d);
	}
	return 0;
}

static void reload(struct naptd *d)
{
	char err[512];

	if (naptd_reload(d, err, sizeof(err)) == 0)
		daemon_log(LOG_NOTICE, "SIGHUP: %s reloaded", d->config_path);
	else
		daemon_log(LOG_ERR, "SIGHUP: reload refused, previous config stays: %s", err);
}

static void signal_readable(struct naptd *d, struct event_loop *ev)
{
	struct signalfd_siginfo si;

	while (read(ev->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
		} else {
			daemon_log(LOG_NOTICE, "%s: exiting", strsignal((int)si.ssi_signo));
			ev->stop = true;
		}
	}
}

static void timer_readable(struct naptd *d, struct event_loop *ev)
{
	uint64_t ticks;

	if (read(ev->timerfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		napt_expire(d->nat, naptd_now_ms());
}

static int watch(struct event_loop *ev, int fd, enum event_source src)
{
	struct epoll_event e = {.events = EPOLLIN, .data.u32 = src};

	return epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e);
}

static int loop_open(struct event_loop *ev, struct naptd *d, char *err, size_t errlen)
{
	/* napt_expire() each second: an idle gateway still ages its table. */
	struct itimerspec every_second = {.it_interval = {1, 0}, .it_value = {1, 0}};
	sigset_t set;

	blocked_signals(&set);
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ev->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev->stop = false;
	if (ev->epfd < 0 || ev->sigfd < 0 || ev->timerfd < 0 ||
	    timerfd_settime(ev->timerfd, 0, &every_second, NULL) != 0 ||
	    watch(ev, d->tun.fd, EV_TUN) != 0 || watch(ev, ev->sigfd, EV_SIGNAL) != 0 ||
	    watch(ev, ev->timerfd, EV_TIMER) != 0 ||
	    watch(ev, control_server_fd(d->control), EV_CONTROL) != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void loop_close(struct event_loop *ev)
{
	if (ev->timerfd >= 0)
		close(ev->timerfd);
	if (ev->sigfd >= 0)
		close(ev->sigfd);
	if (ev->epfd >= 0)
		close(ev->epfd);
}

static int dispatch(struct naptd *d, struct event_loop *ev, const struct epoll_event *e, char *err,
		    size_t errlen)
{
	switch ((enum event_source)e->data.u32) {
	case EV_TUN:
		return tun_readable(d, err, errlen);
	case EV_SIGNAL:
		signal_readable(d, ev);
		break;
	case EV_TIMER:
		timer_readable(d, ev);
		break;
	case EV_CONTROL:
		control_server_dispatch(d->control);
		break;
	}
	return 0;
}

static int loop_wait(struct naptd *d, struct event_loop *ev, char *err, size_t errlen)
{
	struct epoll_event events[8];
	int n = epoll_wait(ev->epfd, events, 8, -1);

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0) {
		snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n && !ev->stop; i++)
		if (dispatch(d, ev, &events[i], err, errlen) != 0)
			return -1;
	return 0;
}

int event_loop_run(struct naptd *d, char *err, size_t errlen)
{
	struct event_loop ev;
	int rc = loop_open(&ev, d, err, errlen);

	if (rc == 0)
		daemon_log(LOG_INFO, "ready: %s up, translating", d->tun.name);
	while (rc == 0 && !ev.stop)
		rc = loop_wait(d, &ev, err, errlen);
	loop_close(&ev);
	return rc;
}
