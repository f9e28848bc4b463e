/* SPDX-License-Identifier: BSD-2-Clause */
/* ipfix_export.c - RFC 8158 NAT events to an IPFIX collector with libfixbuf
 * (ipfix_export.h). */
#include "ipfix_export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fixbuf/public.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nat_event.h"

/* RFC 8158 section 2, natEvent values (IANA "natEvent" registry). */
#define NAT_EVENT_ADDRESSES_EXHAUSTED 3
#define NAT_EVENT_SESSION_CREATE      4
#define NAT_EVENT_SESSION_DELETE      5
#define NAT_EVENT_PORTS_EXHAUSTED     12
#define NAT_EVENT_QUOTA_EXCEEDED      13
#define NAT_EVENT_BLOCK_ALLOCATE      16
#define NAT_EVENT_BLOCK_RELEASE       17
/* natPoolId of the one pool naptd has: its external addresses. */
#define NAT_POOL_ID 1
/* natQuotaExceededEvent (IE 466) values, as RFC 8158 registers them with IANA: 1 maximum
 * session entries, 2 maximum BIB entries, 3 maximum entries per user, 4 maximum active
 * hosts, 5 maximum fragments pending reassembly. Each has its own limit element:
 * maxSessionEntries (471) with 1, maxEntriesPerUser (473) and the user's address with 3. */
#define QUOTA_MAX_SESSIONS 1
#define QUOTA_PER_USER     3
/* The drop counters that stand for a limit hit, one record each (limit_event). */
#define LIMITS 4

#define TID_SESSION 256
#define TID_LIMIT   257
#define TID_BLOCK   258
#define TID_POOL    259

/* One IPFIX message per datagram, below the usual path MTU (RFC 7011 section 10.3.3). */
#define MESSAGE_MAX 1400

/* In the templates' order, no padding: libfixbuf copies by the elements' lengths. Only
 * libfixbuf reads the members (as bytes), which cppcheck cannot see. */
struct __attribute__((packed)) session_record {
	// cppcheck-suppress unusedStructMember
	uint64_t time_ms;
	// cppcheck-suppress unusedStructMember
	uint32_t src, post_src, dst, post_dst; /* host order, as libfixbuf takes them */
	// cppcheck-suppress unusedStructMember
	uint16_t sport, post_sport, dport, post_dport;
	// cppcheck-suppress unusedStructMember
	uint8_t proto, nat_event;
};

struct __attribute__((packed)) limit_record {
	// cppcheck-suppress unusedStructMember
	uint64_t time_ms;
	uint32_t src; /* the inside host, for a per-host quota */
	uint32_t max_per_user, max_sessions, quota_event;
	uint8_t nat_event;
};

/* RFC 8158's port block allocation and de-allocation template. */
struct __attribute__((packed)) block_record {
	// cppcheck-suppress unusedStructMember
	uint64_t time_ms;
	// cppcheck-suppress unusedStructMember
	uint32_t src, post_src;
	// cppcheck-suppress unusedStructMember
	uint16_t start, end, step, num;
	// cppcheck-suppress unusedStructMember
	uint8_t nat_event;
};

/* RFC 8158's addresses exhausted template: the time, the event and the pool. */
struct __attribute__((packed)) pool_record {
	// cppcheck-suppress unusedStructMember
	uint64_t time_ms;
	// cppcheck-suppress unusedStructMember
	uint32_t pool_id;
	// cppcheck-suppress unusedStructMember
	uint8_t nat_event;
};

/* Each length given: libfixbuf refuses an internal template with a defaulted one. */
static fbInfoElementSpec_t session_spec[] = {{"observationTimeMilliseconds", 8, 0},
					     {"sourceIPv4Address", 4, 0},
					     {"postNATSourceIPv4Address", 4, 0},
					     {"destinationIPv4Address", 4, 0},
					     {"postNATDestinationIPv4Address", 4, 0},
					     {"sourceTransportPort", 2, 0},
					     {"postNAPTSourceTransportPort", 2, 0},
					     {"destinationTransportPort", 2, 0},
					     {"postNAPTDestinationTransportPort", 2, 0},
					     {"protocolIdentifier", 1, 0},
					     {"natEvent", 1, 0},
					     FB_IESPEC_NULL};

static fbInfoElementSpec_t limit_spec[] = {{"observationTimeMilliseconds", 8, 0},
					   {"sourceIPv4Address", 4, 0},
					   {"maxEntriesPerUser", 4, 0},
					   {"maxSessionEntries", 4, 0},
					   {"natQuotaExceededEvent", 4, 0},
					   {"natEvent", 1, 0},
					   FB_IESPEC_NULL};

static fbInfoElementSpec_t block_spec[] = {{"observationTimeMilliseconds", 8, 0},
					   {"sourceIPv4Address", 4, 0},
					   {"postNATSourceIPv4Address", 4, 0},
					   {"portRangeStart", 2, 0},
					   {"portRangeEnd", 2, 0},
					   {"portRangeStepSize", 2, 0},
					   {"portRangeNumPorts", 2, 0},
					   {"natEvent", 1, 0},
					   FB_IESPEC_NULL};

static fbInfoElementSpec_t pool_spec[] = {
    {"observationTimeMilliseconds", 8, 0}, {"natPoolId", 4, 0}, {"natEvent", 1, 0}, FB_IESPEC_NULL};

struct ipfix_export {
	const struct naptd *d;
	fbInfoModel_t *model;
	fbSession_t *session;
	fbExporter_t *exporter;
	fBuf_t *buf;
	int fd;                   /* our own UDP socket, connected to the collector, non-blocking */
	uint8_t msg[MESSAGE_MAX]; /* where libfixbuf writes each message */
	uint64_t cursor;          /* the next event to export */
	uint64_t drops[LIMITS + 1]; /* the drop counters below at the last tick */
	uint64_t templates_at_ms;   /* when the templates were last sent */
	unsigned in_msg;            /* records in the message being built */
	uint64_t records, records_dropped;
};

static int add_template(struct ipfix_export *x, fbInfoElementSpec_t *spec, uint16_t tid,
			GError **gerr)
{
	fbTemplate_t *t = fbTemplateAlloc(x->model);

	if (!fbTemplateAppendSpecArray(t, spec, UINT32_MAX, gerr)) {
		fbTemplateFreeUnused(t);
		return -1;
	}
	/* The same template inside (our record's layout) and on the wire. */
	if (!fbSessionAddTemplate(x->session, TRUE, tid, t, gerr) ||
	    !fbSessionAddTemplate(x->session, FALSE, tid, t, gerr))
		return -1;
	return 0;
}

/* libfixbuf's own UDP export writes with a blocking send(): a socket buffer that fills (a
 * collector's path that stalls) would stop the loop. So libfixbuf writes each message into
 * x->msg and naptd sends it on its own non-blocking socket; a message the socket cannot take
 * is dropped and counted (records-dropped in show stats), never waited for. */
static int open_socket(struct ipfix_export *x)
{
	const struct napt_endpoint *ep = &x->d->file_cfg.daemon.ipfix_collector;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(ep->port)};

	sa.sin_addr.s_addr = ep->addr;
	x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return x->fd < 0 || connect(x->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -1 : 0;
}

/* Emit the message being built (if any) and send it without waiting. */
static void flush(struct ipfix_export *x)
{
	x->msg[0] = x->msg[1] = 0; /* a message written starts with version 10 */
	fBufEmit(x->buf, NULL);
	if (!x->msg[1])
		return;
	if (send(x->fd, x->msg, fbExporterGetMsgLen(fBufGetExporter(x->buf)), MSG_DONTWAIT) < 0) {
		/* A full buffer (EAGAIN) or the collector's port unreachable (ECONNREFUSED). */
		x->records_dropped += x->in_msg;
	} else {
		x->records += x->in_msg;
	}
	x->in_msg = 0;
}

/* Templates in a message of their own, sent at once. In manual mode libfixbuf answers the
 * first try after data with FB_ERROR_EOM ("start a new message"): flush, then once more. */
static int send_templates(struct ipfix_export *x, GError **gerr)
{
	GError *eom = NULL;

	flush(x);
	if (!fbSessionExportTemplates(x->session, &eom)) {
		if (!g_error_matches(eom, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
			g_propagate_error(gerr, eom);
			return -1;
		}
		g_clear_error(&eom);
		flush(x);
		if (!fbSessionExportTemplates(x->session, gerr))
			return -1;
	}
	flush(x);
	return 0;
}

static int start(struct ipfix_export *x, GError **gerr)
{
	x->model = fbInfoModelAlloc();
	x->session = fbSessionAlloc(x->model);
	if (add_template(x, session_spec, TID_SESSION, gerr) < 0 ||
	    add_template(x, limit_spec, TID_LIMIT, gerr) < 0 ||
	    add_template(x, block_spec, TID_BLOCK, gerr) < 0 ||
	    add_template(x, pool_spec, TID_POOL, gerr) < 0)
		return -1;
	x->exporter = fbExporterAllocBuffer(x->msg, sizeof(x->msg));
	x->buf = fBufAllocForExport(x->session, x->exporter);
	fBufSetAutomaticMode(x->buf, FALSE); /* a full message comes back to us: flush() */
	return send_templates(x, gerr);
}

struct ipfix_export *ipfix_export_open(struct naptd *d, char *err, size_t errlen)
{
	struct ipfix_export *x = calloc(1, sizeof(*x));
	GError *gerr = NULL;

	if (!x) {
		snprintf(err, errlen, "ipfix-collector: out of memory");
		return NULL;
	}
	x->d = d;
	x->fd = -1;
	x->cursor = napt_events_head(d->nat);
	if (open_socket(x) < 0) {
		snprintf(err, errlen, "ipfix-collector: %s", strerror(errno));
		ipfix_export_close(x);
		return NULL;
	}
	if (start(x, &gerr) < 0) {
		snprintf(err, errlen, "ipfix-collector: %s", gerr ? gerr->message : "libfixbuf");
		g_clear_error(&gerr);
		ipfix_export_close(x);
		return NULL;
	}
	return x;
}

void ipfix_export_close(struct ipfix_export *x)
{
	if (!x)
		return;
	if (x->buf) {
		flush(x);
		fBufFree(x->buf); /* frees the session and the exporter too */
	} else if (x->session) {
		fbSessionFree(x->session);
	}
	if (x->model)
		fbInfoModelFree(x->model);
	if (x->fd >= 0)
		close(x->fd);
	free(x);
}

/* One record; a full message is sent first (manual mode: libfixbuf says FB_ERROR_EOM). */
static void append(struct ipfix_export *x, uint16_t tid, void *rec, size_t len)
{
	GError *gerr = NULL;

	if (!fBufSetInternalTemplate(x->buf, tid, &gerr) ||
	    !fBufSetExportTemplate(x->buf, tid, &gerr)) {
		g_clear_error(&gerr);
		return;
	}
	if (!fBufAppend(x->buf, rec, len, &gerr) &&
	    g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
		g_clear_error(&gerr);
		flush(x);
		fBufSetExportTemplate(x->buf, tid, NULL);
		if (!fBufAppend(x->buf, rec, len, &gerr)) {
			g_clear_error(&gerr);
			return;
		}
	} else if (gerr) {
		g_clear_error(&gerr);
		return;
	}
	x->in_msg++;
}

static void session_event(struct ipfix_export *x, const struct napt_event *e)
{
	struct session_record r = {
	    .time_ms = e->time_ms,
	    .src = ntohl(e->in_addr),
	    .post_src = ntohl(e->ext_addr),
	    .dst = ntohl(e->rem_addr),
	    .post_dst = ntohl(e->rem_addr),
	    .sport = e->in_port,
	    .post_sport = e->ext_port,
	    .dport = e->rem_port,
	    .post_dport = e->rem_port,
	    .proto = e->proto,
	    .nat_event = e->type == NAPT_EV_SESSION_NEW ? NAT_EVENT_SESSION_CREATE
							: NAT_EVENT_SESSION_DELETE,
	};

	append(x, TID_SESSION, &r, sizeof(r));
}

static void block_event(struct ipfix_export *x, const struct napt_event *e)
{
	struct block_record r = {
	    .time_ms = e->time_ms,
	    .src = ntohl(e->in_addr),
	    .post_src = ntohl(e->ext_addr),
	    .start = e->ext_port,
	    .end = e->ext_port_last,
	    .step = 1, /* consecutive ports */
	    .num = (uint16_t)(e->ext_port_last - e->ext_port + 1),
	    .nat_event =
		e->type == NAPT_EV_BLOCK_NEW ? NAT_EVENT_BLOCK_ALLOCATE : NAT_EVENT_BLOCK_RELEASE,
	};

	append(x, TID_BLOCK, &r, sizeof(r));
}

void ipfix_export_feed(struct ipfix_export *x, const struct napt *n)
{
	struct napt_event ev[64];
	unsigned got;

	while ((got = napt_events_peek(n, x->cursor, ev, 64, &x->cursor)))
		for (unsigned i = 0; i < got; i++)
			if (ev[i].type == NAPT_EV_SESSION_NEW || ev[i].type == NAPT_EV_SESSION_END)
				session_event(x, &ev[i]);
			else if (ev[i].type == NAPT_EV_BLOCK_NEW || ev[i].type == NAPT_EV_BLOCK_END)
				block_event(x, &ev[i]);
}

/* Whether drop counter `which` rose since the last tick (and remember it). */
static bool rose(struct ipfix_export *x, unsigned which, uint64_t now)
{
	if (now == x->drops[which])
		return false;
	x->drops[which] = now;
	return true;
}

/* One limit event when counter `which` rose since the last tick. The two per-host limits
 * are both "maximum entries per user" (a host's sessions, a host's ports), each with its own
 * maxEntriesPerUser: the limit that was hit, so that a collector sees which. */
static void limit_event(struct ipfix_export *x, const struct napt *n, unsigned which,
			uint64_t wall_ms)
{
	static const enum napt_drop_reason reasons[LIMITS] = {
	    NAPT_DROP_PORTS_EXHAUSTED, NAPT_DROP_TABLE_FULL, NAPT_DROP_HOST_SESSIONS,
	    NAPT_DROP_HOST_PORTS};
	const struct napt_counters *k = napt_get_counters(n);
	const struct napt_config *cfg = napt_get_config(n);
	struct limit_record r = {.time_ms = wall_ms};

	if (!rose(x, which, k->dropped[reasons[which]]))
		return;
	if (which == 0) {
		r.nat_event = NAT_EVENT_PORTS_EXHAUSTED;
	} else if (which == 1) {
		r.nat_event = NAT_EVENT_QUOTA_EXCEEDED;
		r.quota_event = QUOTA_MAX_SESSIONS;
		r.max_sessions = cfg->max_sessions;
	} else {
		r.nat_event = NAT_EVENT_QUOTA_EXCEEDED;
		r.quota_event = QUOTA_PER_USER;
		r.src = ntohl(k->last_limited_host);
		r.max_per_user = reasons[which] == NAPT_DROP_HOST_SESSIONS
				     ? cfg->max_sessions_per_host
				     : cfg->ports_per_host;
	}
	append(x, TID_LIMIT, &r, sizeof(r));
}

/* NAT addresses exhausted (natEvent 3): mode dynamic found no address of the pool free
 * (pool-exhausted drops); under NAPT an address is never used up, its ports are (12). */
static void pool_event(struct ipfix_export *x, const struct napt *n, uint64_t wall_ms)
{
	struct pool_record r = {
	    .time_ms = wall_ms, .pool_id = NAT_POOL_ID, .nat_event = NAT_EVENT_ADDRESSES_EXHAUSTED};

	if (rose(x, LIMITS, napt_get_counters(n)->dropped[NAPT_DROP_POOL_EXHAUSTED]))
		append(x, TID_POOL, &r, sizeof(r));
}

void ipfix_export_tick(struct ipfix_export *x, const struct napt *n, uint64_t wall_ms)
{
	if (!x)
		return;
	for (unsigned which = 0; which < LIMITS; which++)
		limit_event(x, n, which, wall_ms);
	pool_event(x, n, wall_ms);
	if (wall_ms - x->templates_at_ms >= IPFIX_TEMPLATE_S * 1000u) {
		send_templates(x, NULL);
		x->templates_at_ms = wall_ms;
	}
	flush(x);
}

uint64_t ipfix_export_records(const struct ipfix_export *x)
{
	return x ? x->records : 0;
}

uint64_t ipfix_export_records_dropped(const struct ipfix_export *x)
{
	return x ? x->records_dropped : 0;
}
