/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics_http.c - the Prometheus scrape endpoint (metrics_http.h). */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_commands.h"
#include "event_monitor.h"
#include "ipfix_export.h"
#include "mapping_log.h"
#include "nat_event.h"

/* Scrapers at once, and how long an idle one is kept. One address may hold only a few of the
 * connections, so a host trickling slow requests (slowloris) cannot keep every scraper out. */
#define METRICS_CLIENTS          8
#define METRICS_CLIENTS_PER_ADDR 2
#define METRICS_TIMEOUT_S        5

struct metrics_http {
	struct naptd *d;
	struct MHD_Daemon *mhd;
	int epfd;
};

static const char *const proto_names[NAPT_PROTOS] = {"tcp", "udp", "icmp"};

/* ---- the page ---- */

static void family(struct control_answer *a, const char *name, const char *type, const char *help)
{
	control_answer_printf(a, "# HELP napt_%s %s\n# TYPE napt_%s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void single(struct control_answer *a, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	family(a, name, type, help);
	control_answer_printf(a, "napt_%s %llu\n", name, (unsigned long long)v);
}

static void traffic(struct control_answer *a, const struct napt_counters *k)
{
	family(a, "translated_packets_total", "counter", "Packets translated.");
	for (int p = 0; p < NAPT_PROTOS; p++)
		for (int dir = 0; dir < 2; dir++)
			control_answer_printf(
			    a,
			    "napt_translated_packets_total{proto=\"%s\",direction=\"%s\"} %llu\n",
			    proto_names[p], dir ? "in" : "out",
			    (unsigned long long)k->translated[p][dir]);
	single(a, "hairpinned_packets_total", "counter", "Packets hairpinned.", k->hairpinned);
	family(a, "dropped_packets_total", "counter", "Packets dropped, by reason.");
	for (int r = NAPT_DROP_NONE + 1; r < NAPT_DROP_REASONS; r++)
		control_answer_printf(a, "napt_dropped_packets_total{reason=\"%s\"} %llu\n",
				      napt_drop_reason_name((enum napt_drop_reason)r),
				      (unsigned long long)k->dropped[r]);
	family(a, "host_limit_hits_total", "counter",
	       "New flows refused by a per-host limit (RFC 6888 REQ-4).");
	control_answer_printf(a, "napt_host_limit_hits_total{limit=\"sessions\"} %llu\n",
			      (unsigned long long)k->dropped[NAPT_DROP_HOST_SESSIONS]);
	control_answer_printf(a, "napt_host_limit_hits_total{limit=\"ports\"} %llu\n",
			      (unsigned long long)k->dropped[NAPT_DROP_HOST_PORTS]);
}

static void by_proto(struct control_answer *a, const char *name, const char *help,
		     const uint64_t *v)
{
	family(a, name, "gauge", help);
	for (int p = 0; p < NAPT_PROTOS; p++)
		control_answer_printf(a, "napt_%s{proto=\"%s\"} %llu\n", name, proto_names[p],
				      (unsigned long long)v[p]);
}

static void table(struct control_answer *a, const struct naptd *d, const struct napt_counters *k)
{
	const struct napt_config *cfg = napt_get_config(d->nat);
	char ext[INET_ADDRSTRLEN];

	by_proto(a, "sessions", "Sessions in the table.", k->sessions_proto);
	by_proto(a, "mappings", "Mappings in the table.", k->mappings_proto);
	family(a, "ports_in_use", "gauge", "External ports held, by address and protocol.");
	for (unsigned e = 0; e < cfg->n_external; e++)
		for (int p = 0; p < NAPT_PROTOS; p++)
			control_answer_printf(
			    a, "napt_ports_in_use{external=\"%s\",proto=\"%s\"} %u\n",
			    inet_ntop(AF_INET, &cfg->external[e], ext, sizeof(ext)), proto_names[p],
			    napt_ports_in_use(d->nat, (enum napt_proto_index)p, e));
	single(a, "sessions_created_total", "counter", "Sessions created.", k->sessions_created);
	single(a, "sessions_expired_total", "counter", "Sessions ended by their timeout.",
	       k->sessions_expired);
	single(a, "sessions_removed_total", "counter", "Sessions removed (flush, rules).",
	       k->sessions_removed);
	single(a, "leases", "gauge", "NAT-PMP/PCP mappings leased.", d->runtime.n_leases);
	single(a, "memory_bytes", "gauge", "Bytes the tables take.", napt_memory_bytes(d->nat));
}

static void daemon_side(struct control_answer *a, const struct naptd *d)
{
	single(a, "tun_write_errors_total", "counter", "Translated packets the TUN refused.",
	       d->tun_write_errors);
	single(a, "tun_frames_refused_total", "counter",
	       "Frames read from the TUN with a layout the engine cannot take.",
	       d->tun.frames_refused);
	single(a, "tun_filter_dropped_total", "counter",
	       "Easy IP: TCP/UDP packets for the WAN address that nothing takes, dropped before "
	       "the TUN's queue.",
	       tun_filter_dropped(&d->filter));
	family(a, "loop_longest_iteration_seconds", "gauge",
	       "The event loop's longest iteration since start.");
	control_answer_printf(a, "napt_loop_longest_iteration_seconds %.6f\n",
			      (double)d->loop.longest_us / 1e6);
	single(a, "events_lost_total", "counter", "Mapping and session events the ring lost.",
	       napt_events_lost(d->nat));
	single(a, "monitor_events_lost_total", "counter", "Events monitor readers had no room for.",
	       event_monitor_lost(d->monitor));
	single(a, "mapping_log_lines_total", "counter", "Mapping log lines written.",
	       mapping_log_lines(d->mapping_log));
	single(a, "ipfix_records_total", "counter", "IPFIX NAT event records exported.",
	       ipfix_export_records(d->ipfix));
	single(a, "ipfix_records_dropped_total", "counter",
	       "IPFIX records dropped: the socket buffer was full or the collector unreachable.",
	       ipfix_export_records_dropped(d->ipfix));
	single(a, "uptime_seconds", "gauge", "Seconds since naptd started.",
	       (naptd_now_ms() - d->started_ms) / 1000);
}

int metrics_http_page(const struct naptd *d, struct control_answer *a)
{
	const struct napt_counters *k = napt_get_counters(d->nat);

	a->len = 0;
	traffic(a, k);
	table(a, d, k);
	daemon_side(a, d);
	return a->out_of_memory ? -1 : 0;
}

/* ---- HTTP ---- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* GET /metrics; anything else is 404 or 405. */
static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **req)
{
	static const char text[] = "text/plain; charset=utf-8";
	const struct metrics_http *m = cls;
	struct control_answer a;
	enum MHD_Result rc;

	(void)version, (void)upload, (void)upload_size, (void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, text, "try /metrics\n", 13);
	control_answer_init(&a);
	if (metrics_http_page(m->d, &a) < 0)
		rc = reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "out of memory\n", 14);
	else
		rc = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", a.text,
			   a.len);
	control_answer_free(&a);
	return rc;
}

/* The interface that holds addr, into name (IF_NAMESIZE). */
static int interface_of(uint32_t addr, char *name, char *err, size_t errlen)
{
	struct ifaddrs *all, *i;

	if (getifaddrs(&all) < 0) {
		snprintf(err, errlen, "metrics-listen: getifaddrs: %s", strerror(errno));
		return -1;
	}
	for (i = all; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == addr)
			break;
	if (i) {
		snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
	} else {
		char text[INET_ADDRSTRLEN];

		snprintf(err, errlen, "metrics-listen: no interface has the address %s",
			 inet_ntop(AF_INET, &addr, text, sizeof(text)));
	}
	freeifaddrs(all);
	return i ? 0 : -1;
}

/* The listening socket, on the address and only on its interface. */
static int listen_socket(const struct napt_endpoint *ep, char *err, size_t errlen)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_addr.s_addr = ep->addr, .sin_port = htons(ep->port)};
	char dev[IF_NAMESIZE];
	int one = 1, fd;

	if (interface_of(ep->addr, dev, err, errlen) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "metrics-listen on %s: %s", dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct metrics_http *metrics_http_open(struct naptd *d, char *err, size_t errlen)
{
	struct metrics_http *m = calloc(1, sizeof(*m));
	int fd;
	const union MHD_DaemonInfo *info;

	if (!m) {
		snprintf(err, errlen, "metrics-listen: out of memory");
		return NULL;
	}
	m->d = d;
	fd = listen_socket(&d->file_cfg.daemon.metrics_listen, err, errlen);
	if (fd < 0) {
		free(m);
		return NULL;
	}
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, serve, m, MHD_OPTION_LISTEN_SOCKET,
				  fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CLIENTS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned)METRICS_CLIENTS_PER_ADDR, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)METRICS_TIMEOUT_S, MHD_OPTION_END);
	info = m->mhd ? MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		snprintf(err, errlen, "metrics-listen: libmicrohttpd did not start");
		if (!m->mhd)
			close(fd);
		metrics_http_close(m);
		return NULL;
	}
	m->epfd = info->epoll_fd;
	return m;
}

void metrics_http_close(struct metrics_http *m)
{
	if (!m)
		return;
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	free(m);
}

int metrics_http_fd(const struct metrics_http *m)
{
	return m->epfd;
}

void metrics_http_dispatch(struct metrics_http *m)
{
	if (m)
		MHD_run(m->mhd);
}
