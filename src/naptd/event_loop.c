/* SPDX-License-Identifier: BSD-2-Clause */
/* event_loop.c - the daemon's main loop: packets (in bursts), control requests, signals,
 * expiry. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "control_server.h"
#include "daemon_log.h"
#include "event_loop.h"
#include "event_monitor.h"
#include "event_pump.h"
#include "metrics_http.h"
#include "pcp_server.h"
#include "upnp_igd.h"
#include "service_notify.h"
#include "wan_address.h"

/* Frames read per wake-up. Bounded, so a busy TUN never starves the control socket or the
 * signals: epoll is level-triggered, so what is left in the queue wakes the loop again at
 * once, after the other ready sources have had their turn. */
#define TUN_BATCH 64

enum event_source {
	EV_TUN,
	EV_SIGNAL,
	EV_TIMER,
	EV_CONTROL,
	EV_WAN,
	EV_PCP,
	EV_UPNP,
	EV_MONITOR,
	EV_METRICS
};

struct event_loop {
	int epfd, sigfd, timerfd;
	bool stop;
	int wait_ms; /* epoll_wait's timeout: event_pump_run() says */
};

/* One wake-up's frames as read and the engine's view of them: pkts[i] lies in frames[i]. */
struct tun_batch {
	uint8_t frames[TUN_BATCH][TUN_FRAME_MAX];
	struct napt_packet pkts[TUN_BATCH];
	struct napt_result res[TUN_BATCH];
};

static struct tun_batch batch;
/* Where released fragments are copied, behind room for their virtio_net_hdr. */
static uint8_t released[TUN_FRAME_MAX];

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

/* A translated packet goes back with the header it came with (the engine never changes its
 * length); an answer of the engine (NAPT_REPLY) is a new packet, its header cleared. The
 * burst is written in order, coalesced where the device allows (tun_device.h). A full
 * queue (EAGAIN, ENOBUFS) drops the frame, as a router's full interface queue would; TCP
 * and the applications recover. */
static void write_burst(struct naptd *d, unsigned n)
{
	const size_t hdr = sizeof(struct virtio_net_hdr);
	struct tun_frame out[TUN_BATCH];
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++) {
		if (batch.res[i].verdict == NAPT_REPLY)
			memset(batch.frames[i], 0, hdr);
		else if (batch.res[i].verdict != NAPT_FORWARD &&
			 !wan_address_hands_back(d->wan, napt_get_config(d->nat), &batch.pkts[i],
						 &batch.res[i]))
			continue;
		out[m].buf = batch.frames[i];
		out[m++].len = hdr + batch.pkts[i].len;
	}
	d->tun_write_errors += tun_device_write_burst(&d->tun, out, m);
}

static void release_held(struct naptd *d)
{
	const size_t hdr = sizeof(struct virtio_net_hdr);
	size_t len;

	while ((len = napt_next_released(d->nat, released + hdr, TUN_PACKET_MAX)) > 0)
		if (tun_device_write_new(&d->tun, released, len) != 0)
			d->tun_write_errors++;
}

/* Read until the queue is empty or the batch full. A refused frame (tun_device.h) leaves
 * its slot to the next read. Returns the number of packets, or -1 when the device failed. */
static int batch_read(struct naptd *d, char *err, size_t errlen)
{
	unsigned n = 0;

	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t len = tun_device_read(&d->tun, batch.frames[n], TUN_FRAME_MAX);

		if (len == 0)
			break;
		if (len < 0) {
			snprintf(err, errlen, "%s: read: %s", d->tun.name, strerror(errno));
			return -1;
		}
		if (tun_device_frame_packet(&d->tun, batch.frames[n], (size_t)len, &batch.pkts[n]))
			n++;
	}
	return (int)n;
}

/* One burst through the engine (which prefetches table entries a few packets ahead), the
 * forwarded frames and the answers written back in order, then the fragments any first
 * fragment of the burst released. */
static int tun_readable(struct naptd *d, char *err, size_t errlen)
{
	int n = batch_read(d, err, errlen);

	if (n <= 0)
		return n;
	napt_translate_burst(d->nat, batch.pkts, batch.res, (unsigned)n, naptd_now_ms());
	write_burst(d, (unsigned)n);
	release_held(d);
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

/* RFC 6888 REQ-4 asks that a host hitting its limit be visible to the operator: one line a
 * second at most, naming the host that hit it last, however fast the drops come. */
static void log_host_limits(struct naptd *d)
{
	static const enum napt_drop_reason limits[] = {NAPT_DROP_HOST_SESSIONS,
						       NAPT_DROP_HOST_PORTS};
	const struct napt_counters *c = napt_get_counters(d->nat);
	char host[INET_ADDRSTRLEN];

	for (unsigned i = 0; i < 2; i++) {
		uint64_t now = c->dropped[limits[i]];

		if (now == d->host_limit_drops[i])
			continue;
		inet_ntop(AF_INET, &c->last_limited_host, host, sizeof(host));
		daemon_log(LOG_WARNING,
			   "%s hit the per-host %s limit (%" PRIu64 " drops in the last second)",
			   host, i == 0 ? "session" : "port", now - d->host_limit_drops[i]);
		d->host_limit_drops[i] = now;
	}
}

static void timer_readable(struct naptd *d, struct event_loop *ev)
{
	uint64_t ticks;

	if (read(ev->timerfd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
		return;
	napt_expire(d->nat, naptd_now_ms());
	release_held(d); /* answers to unsolicited SYNs whose 6 s passed (RFC 5382 REQ-4) */
	log_host_limits(d);
	metrics_http_dispatch(d->metrics); /* scrapers past their timeout */
	event_pump_tick(d);
	service_notify_alive();
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
	ev->wait_ms = -1;
	if (ev->epfd < 0 || ev->sigfd < 0 || ev->timerfd < 0 ||
	    timerfd_settime(ev->timerfd, 0, &every_second, NULL) != 0 ||
	    watch(ev, d->tun.fd, EV_TUN) != 0 || watch(ev, ev->sigfd, EV_SIGNAL) != 0 ||
	    watch(ev, ev->timerfd, EV_TIMER) != 0 ||
	    watch(ev, control_server_fd(d->control), EV_CONTROL) != 0 ||
	    watch(ev, event_monitor_fd(d->monitor), EV_MONITOR) != 0 ||
	    (d->wan && watch(ev, wan_address_fd(d->wan), EV_WAN) != 0) ||
	    (d->pcp && watch(ev, pcp_server_fd(d->pcp), EV_PCP) != 0) ||
	    (d->upnp && watch(ev, upnp_igd_fd(d->upnp), EV_UPNP) != 0) ||
	    (d->metrics && watch(ev, metrics_http_fd(d->metrics), EV_METRICS) != 0)) {
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
	case EV_WAN:
		wan_address_dispatch(d->wan);
		break;
	case EV_PCP:
		pcp_server_dispatch(d->pcp);
		break;
	case EV_UPNP:
		upnp_igd_dispatch(d->upnp);
		break;
	case EV_MONITOR:
		event_monitor_dispatch(d->monitor);
		break;
	case EV_METRICS:
		metrics_http_dispatch(d->metrics);
		break;
	}
	upnp_igd_leases_changed(d->upnp); /* requests, expiry, forward del, a reload */
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* How long the loop may keep packets waiting: the longest iteration shows in "show stats"
 * (a control request, a NAT-PMP/PCP burst or a state file write that stalls forwarding). */
static void note_iteration(struct loop_times *t, uint64_t began_us)
{
	uint64_t end = now_us(), took = end - began_us, second = end / 1000000u;
	unsigned slot = (unsigned)(second % LOOP_WINDOW_S);

	if (t->second[slot] != second) {
		t->second[slot] = second;
		t->slot_us[slot] = 0;
	}
	if (took > t->slot_us[slot])
		t->slot_us[slot] = took;
	if (took > t->longest_us)
		t->longest_us = took;
}

static int loop_wait(struct naptd *d, struct event_loop *ev, char *err, size_t errlen)
{
	struct epoll_event events[8];
	int n = epoll_wait(ev->epfd, events, 8, ev->wait_ms);
	uint64_t began = now_us();

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0) {
		snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n && !ev->stop; i++)
		if (dispatch(d, ev, &events[i], err, errlen) != 0)
			return -1;
	/* A DMZ, unsolicited-syn or WAN address the iteration changed, in the TUN filter
	 * before the next packet is read (the ports follow the engine as they change). */
	if (d->filter.map)
		tun_filter_sync(d->filter.map, napt_get_config(d->nat));
	/* The iteration's events go out with it (their cost counts in its time). */
	ev->wait_ms = event_pump_run(d);
	note_iteration(&d->loop, began);
	return 0;
}

int event_loop_run(struct naptd *d, char *err, size_t errlen)
{
	struct event_loop ev;
	int rc = loop_open(&ev, d, err, errlen);

	if (rc == 0) {
		char offloads[64];

		tun_device_set_coalesce(&d->tun, d->file_cfg.daemon.coalesce);
		daemon_log(
		    LOG_INFO, "ready: %s up, offloads %s, napi %s, coalescing %s, translating",
		    d->tun.name, tun_device_offload_names(&d->tun, offloads, sizeof(offloads)),
		    d->tun.napi_threaded ? "threaded" : "in softirq",
		    tun_device_coalesce_names(&d->tun));
		service_notify_ready();
	}
	while (rc == 0 && !ev.stop)
		rc = loop_wait(d, &ev, err, errlen);
	loop_close(&ev);
	return rc;
}
