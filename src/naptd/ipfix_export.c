/* SPDX-License-Identifier: BSD-2-Clause */
/* ipfix_export.c - RFC 8158 NAT events to an IPFIX collector with libfixbuf
 * (ipfix_export.h). */
#include "ipfix_export.h"

#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat_event.h"

/* RFC 8158 section 2, natEvent values (IANA "natEvent" registry). */
#define NAT_EVENT_SESSION_CREATE  4
#define NAT_EVENT_SESSION_DELETE  5
#define NAT_EVENT_PORTS_EXHAUSTED 12
#define NAT_EVENT_QUOTA_EXCEEDED  13
/* natQuotaExceededEvent values (RFC 8158 section 2). */
#define QUOTA_MAX_SESSIONS 1
#define QUOTA_PER_USER     3

#define TID_SESSION 256
#define TID_LIMIT   257

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

struct ipfix_export {
	const struct naptd *d;
	fbInfoModel_t *model;
	fbSession_t *session;
	fbExporter_t *exporter;
	fBuf_t *buf;
	fbConnSpec_t conn;
	char host[INET_ADDRSTRLEN], port[8];
	uint64_t cursor;          /* the next event to export */
	uint64_t drops[3];        /* the drop counters below at the last tick */
	uint64_t templates_at_ms; /* when the templates were last sent */
	uint64_t records;
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

static int start(struct ipfix_export *x, GError **gerr)
{
	const struct napt_endpoint *ep = &x->d->file_cfg.daemon.ipfix_collector;

	inet_ntop(AF_INET, &ep->addr, x->host, sizeof(x->host));
	snprintf(x->port, sizeof(x->port), "%u", ep->port);
	x->conn = (fbConnSpec_t){.transport = FB_UDP, .host = x->host, .svc = x->port};
	x->model = fbInfoModelAlloc();
	x->session = fbSessionAlloc(x->model);
	if (add_template(x, session_spec, TID_SESSION, gerr) < 0 ||
	    add_template(x, limit_spec, TID_LIMIT, gerr) < 0)
		return -1;
	x->exporter = fbExporterAllocNet(&x->conn);
	x->buf = fBufAllocForExport(x->session, x->exporter);
	return fbSessionExportTemplates(x->session, gerr) ? 0 : -1;
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
	x->cursor = napt_events_head(d->nat);
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
		fBufEmit(x->buf, NULL);
		fBufFree(x->buf); /* frees the session and the exporter too */
	} else if (x->session) {
		fbSessionFree(x->session);
	}
	if (x->model)
		fbInfoModelFree(x->model);
	free(x);
}

static void append(struct ipfix_export *x, uint16_t tid, void *rec, size_t len)
{
	GError *gerr = NULL;

	if (fBufSetInternalTemplate(x->buf, tid, &gerr) &&
	    fBufSetExportTemplate(x->buf, tid, &gerr) && fBufAppend(x->buf, rec, len, &gerr))
		x->records++;
	g_clear_error(&gerr);
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

void ipfix_export_feed(struct ipfix_export *x, const struct napt *n)
{
	struct napt_event ev[64];
	unsigned got;

	while ((got = napt_events_peek(n, x->cursor, ev, 64, &x->cursor)))
		for (unsigned i = 0; i < got; i++)
			if (ev[i].type == NAPT_EV_SESSION_NEW || ev[i].type == NAPT_EV_SESSION_END)
				session_event(x, &ev[i]);
}

/* One limit event when counter `which` rose since the last tick. */
static void limit_event(struct ipfix_export *x, const struct napt *n, unsigned which,
			uint64_t wall_ms)
{
	static const enum napt_drop_reason reasons[3] = {
	    NAPT_DROP_PORTS_EXHAUSTED, NAPT_DROP_TABLE_FULL, NAPT_DROP_HOST_SESSIONS};
	const struct napt_counters *k = napt_get_counters(n);
	const struct napt_config *cfg = napt_get_config(n);
	uint64_t now =
	    k->dropped[reasons[which]] + (which == 2 ? k->dropped[NAPT_DROP_HOST_PORTS] : 0);
	struct limit_record r = {.time_ms = wall_ms};

	if (now == x->drops[which])
		return;
	x->drops[which] = now;
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
		r.max_per_user =
		    cfg->max_sessions_per_host ? cfg->max_sessions_per_host : cfg->ports_per_host;
	}
	append(x, TID_LIMIT, &r, sizeof(r));
}

void ipfix_export_tick(struct ipfix_export *x, const struct napt *n, uint64_t wall_ms)
{
	if (!x)
		return;
	for (unsigned which = 0; which < 3; which++)
		limit_event(x, n, which, wall_ms);
	if (wall_ms - x->templates_at_ms >= IPFIX_TEMPLATE_S * 1000u) {
		fbSessionExportTemplates(x->session, NULL);
		x->templates_at_ms = wall_ms;
	}
	fBufEmit(x->buf, NULL);
}

uint64_t ipfix_export_records(const struct ipfix_export *x)
{
	return x ? x->records : 0;
}
