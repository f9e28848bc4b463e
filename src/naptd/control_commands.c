/* SPDX-License-Identifier: BSD-2-Clause */
/* control_commands.c - parse one control request, run it, write the answer.
 *
 * Rule changes follow one order so that an "ok" is never a lie and a crash never loses an
 * answered change: check that the new run-time state would be accepted at the next start,
 * save it to the state file, then change the engine; if the engine refuses, the old state is
 * saved back. Removing a forward or the DMZ ends the sessions that came in through it (the
 * engine does that), so the door also closes for connections already open.
 */
#include "control_commands.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control_protocol.h"
#include "det_nat.h"
#include "event_monitor.h"
#include "ipfix_export.h"
#include "mapping_log.h"
#include "nat_event.h"

#define MAX_WORDS 8
#define ERR_LEN   512
#define ADDR_LEN  INET_ADDRSTRLEN
#define EP_LEN    (INET_ADDRSTRLEN + 6) /* "a.b.c.d:port" */
#define FWD_LEN   96

/* One request being run. */
struct command_ctx {
	struct naptd *d;
	struct control_answer *a;
	bool json;
	int argc; /* words after the command's own words */
	char **argv;
	bool not_kept; /* a rule changed, but the config names no state file */
	char err[ERR_LEN];
};

typedef int (*command_fn)(struct command_ctx *c);

struct command {
	const char *name; /* its words, e.g. "show sessions" */
	int min_args, max_args;
	command_fn run;
	const char *usage; /* arguments, for help and errors */
	const char *help;
};

/* ---- the answer buffer ---- */

void control_answer_init(struct control_answer *a)
{
	memset(a, 0, sizeof(*a));
}

void control_answer_free(struct control_answer *a)
{
	free(a->text);
	control_answer_init(a);
}

static bool answer_reserve(struct control_answer *a, size_t more)
{
	if (a->len + more < a->cap)
		return true;
	size_t cap = a->cap ? a->cap : 4096;
	while (cap <= a->len + more)
		cap *= 2;
	char *t = realloc(a->text, cap);
	if (!t) {
		a->out_of_memory = true;
		return false;
	}
	a->text = t;
	a->cap = cap;
	return true;
}

void control_answer_printf(struct control_answer *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n =
	    vsnprintf(a->text ? a->text + a->len : NULL, a->text ? a->cap - a->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0 || a->out_of_memory)
		return;
	if (a->len + (size_t)n >= a->cap) {
		if (!answer_reserve(a, (size_t)n + 1))
			return;
		va_start(ap, fmt);
		vsnprintf(a->text + a->len, a->cap - a->len, fmt, ap);
		va_end(ap);
	}
	a->len += (size_t)n;
}

/* A JSON string: quotes and escapes what RFC 8259 section 7 requires. */
static void json_string(struct control_answer *a, const char *s)
{
	control_answer_printf(a, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			control_answer_printf(a, "\\%c", ch);
		else if (ch < 0x20)
			control_answer_printf(a, "\\u%04x", ch);
		else
			control_answer_printf(a, "%c", ch);
	}
	control_answer_printf(a, "\"");
}

/* ---- small formatters and parsers ---- */

static const char *fmt_addr(uint32_t addr, char buf[ADDR_LEN])
{
	return inet_ntop(AF_INET, &addr, buf, ADDR_LEN);
}

static const char *fmt_endpoint(uint32_t addr, uint16_t port, char buf[EP_LEN])
{
	char a[ADDR_LEN];
	snprintf(buf, EP_LEN, "%s:%u", fmt_addr(addr, a), port);
	return buf;
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case 0: /* a dynamic NAT binding: every protocol */
		return "ip";
	default:
		return "?";
	}
}

static const char *origin_name(enum napt_origin o)
{
	static const char *const names[] = {"outbound", "forward", "dmz", "dynamic"};
	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

/* Strict decimal: all digits, 1..max. */
static int parse_number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_addr(struct command_ctx *c, const char *s, uint32_t *addr)
{
	struct in_addr in;
	if (inet_pton(AF_INET, s, &in) != 1) {
		snprintf(c->err, sizeof(c->err), "bad IPv4 address '%s'", s);
		return -1;
	}
	*addr = in.s_addr;
	return 0;
}

/* A non-show command's answer: one line, or {"message": ...}. */
static void reply_message(struct command_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reply_message(struct command_ctx *c, const char *fmt, ...)
{
	char msg[ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->json) {
		control_answer_printf(c->a, "%s\n", msg);
		return;
	}
	control_answer_printf(c->a, "{\"message\": ");
	json_string(c->a, msg);
	control_answer_printf(c->a, "}\n");
}

/* Said after a rule change that will not survive a restart. */
static const char *kept_note(const struct command_ctx *c)
{
	return c->not_kept ? " (not kept across a restart: the config sets no state file)" : "";
}

/* ---- show sessions, show mappings: listings made a piece at a time ---- */

/* Longest row of a listing (a JSON session row is about 270 bytes) or count line: a piece
 * takes rows while room for two is left, so the count line always fits after the last row
 * and the buffer never grows past CONTROL_ANSWER_PIECE. */
#define ROW_MAX 512

static bool room_for_rows(const struct control_answer *a)
{
	return a->len + 2 * ROW_MAX < CONTROL_ANSWER_PIECE;
}

static const char *listing_name(enum control_listing_kind kind)
{
	return kind == CONTROL_LIST_SESSIONS ? "sessions" : "mappings";
}

static bool listed(const struct control_listing *l, uint8_t proto, uint32_t in_addr)
{
	return (!l->proto || proto == l->proto) && (!l->by_inside || in_addr == l->inside);
}

/* The columns a session and a mapping share: protocol, inside and external endpoint. */
static void row_endpoints(struct control_answer *a, uint8_t proto, uint32_t in_addr,
			  uint16_t in_port, uint32_t ext_addr, uint16_t ext_port)
{
	char in[EP_LEN], ext[EP_LEN];
	if (!a->listing.json) {
		control_answer_printf(a, "%-5s %-21s %-21s ", proto_name(proto),
				      fmt_endpoint(in_addr, in_port, in),
				      fmt_endpoint(ext_addr, ext_port, ext));
		return;
	}
	control_answer_printf(a,
			      "%s\n  {\"proto\": \"%s\", \"inside_addr\": \"%s\", "
			      "\"inside_port\": %u, ",
			      a->listing.count ? "," : "", proto_name(proto), fmt_addr(in_addr, in),
			      in_port);
	control_answer_printf(a, "\"external_addr\": \"%s\", \"external_port\": %u, ",
			      fmt_addr(ext_addr, ext), ext_port);
}

static void session_rest(struct control_answer *a, const struct napt_session_info *s)
{
	char rem[EP_LEN];
	if (!a->listing.json) {
		control_answer_printf(
		    a, "%-21s %-12s %-8s %8u %8u\n", fmt_endpoint(s->rem_addr, s->rem_port, rem),
		    s->state, origin_name(s->origin), s->idle_ms / 1000, s->expires_in_ms / 1000);
		return;
	}
	control_answer_printf(a, "\"remote_addr\": \"%s\", \"remote_port\": %u, \"state\": ",
			      fmt_addr(s->rem_addr, rem), s->rem_port);
	json_string(a, s->state);
	control_answer_printf(a, ", \"origin\": \"%s\", \"idle_ms\": %u, \"expires_in_ms\": %u}",
			      origin_name(s->origin), s->idle_ms, s->expires_in_ms);
}

/* One row; returns non-zero, ending the piece, once the buffer is nearly full. */
static int show_session(const struct napt_session_info *s, void *ctx)
{
	struct control_answer *a = ctx;
	if (!listed(&a->listing, s->proto, s->in_addr))
		return 0;
	row_endpoints(a, s->proto, s->in_addr, s->in_port, s->ext_addr, s->ext_port);
	session_rest(a, s);
	a->listing.count++;
	return !room_for_rows(a);
}

static int show_mapping(const struct napt_mapping_info *m, void *ctx)
{
	struct control_answer *a = ctx;
	if (!listed(&a->listing, m->proto, m->in_addr))
		return 0;
	row_endpoints(a, m->proto, m->in_addr, m->in_port, m->ext_addr, m->ext_port);
	if (a->listing.json)
		control_answer_printf(a, "\"origin\": \"%s\", \"sessions\": %u}",
				      origin_name(m->origin), m->sessions);
	else
		control_answer_printf(a, "%-8s %8u\n", origin_name(m->origin), m->sessions);
	a->listing.count++;
	a->listing.steps += m->sessions;
	return !room_for_rows(a) || a->listing.steps >= CONTROL_SESSION_STEPS_PER_PIECE;
}

/* [tcp|udp|icmp] [inside|host ADDR], in any order. */
static int parse_listing_filter(struct command_ctx *c, struct control_listing *l)
{
	for (int i = 0; i < c->argc; i++) {
		const char *w = c->argv[i];
		if (strcmp(w, "tcp") == 0 || strcmp(w, "udp") == 0 || strcmp(w, "icmp") == 0) {
			l->proto = w[0] == 't'   ? IPPROTO_TCP
				   : w[0] == 'u' ? IPPROTO_UDP
						 : IPPROTO_ICMP;
		} else if ((strcmp(w, "inside") == 0 || strcmp(w, "host") == 0) &&
			   i + 1 < c->argc) {
			if (parse_addr(c, c->argv[++i], &l->inside) < 0)
				return -1;
			l->by_inside = true;
		} else {
			snprintf(
			    c->err, sizeof(c->err),
			    "unexpected '%s' (usage: show %s [tcp|udp|icmp] [inside|host ADDR])", w,
			    listing_name(l->kind));
			return -1;
		}
	}
	return 0;
}

/* The answer's first piece, its header; the rows follow from control_answer_more(). The
 * whole piece is allocated now, so a listing never fails half-way for want of memory. */
static int listing_begin(struct command_ctx *c, enum control_listing_kind kind)
{
	struct control_listing *l = &c->a->listing;
	*l = (struct control_listing){.kind = kind, .json = c->json};
	if (parse_listing_filter(c, l) < 0)
		return -1;
	answer_reserve(c->a, CONTROL_ANSWER_PIECE - 1 - c->a->len);
	if (c->json)
		control_answer_printf(c->a, "{\"%s\": [", listing_name(kind));
	else if (kind == CONTROL_LIST_SESSIONS)
		control_answer_printf(c->a, "%-5s %-21s %-21s %-21s %-12s %-8s %8s %8s\n", "PROTO",
				      "INSIDE", "EXTERNAL", "REMOTE", "STATE", "ORIGIN", "IDLE-S",
				      "EXPIRE-S");
	else
		control_answer_printf(c->a, "%-5s %-21s %-21s %-8s %8s\n", "PROTO", "INSIDE",
				      "EXTERNAL", "ORIGIN", "SESSIONS");
	return 0;
}

static void listing_end(struct control_answer *a)
{
	if (a->listing.json)
		control_answer_printf(a, "\n], \"count\": %lu}\n", a->listing.count);
	else
		control_answer_printf(a, "%lu %s\n", a->listing.count,
				      listing_name(a->listing.kind));
	a->listing.kind = CONTROL_LIST_NONE;
}

bool control_answer_more(struct naptd *d, struct control_answer *a)
{
	struct control_listing *l = &a->listing;
	a->len = 0;
	l->steps = 0;
	if (l->kind == CONTROL_LIST_SESSIONS)
		l->cursor = napt_walk_sessions(d->nat, naptd_now_ms(), l->cursor,
					       CONTROL_POSITIONS_PER_PIECE, show_session, a);
	else if (l->kind == CONTROL_LIST_MAPPINGS)
		l->cursor = napt_walk_mappings(d->nat, l->cursor, CONTROL_POSITIONS_PER_PIECE,
					       show_mapping, a);
	if (l->kind != CONTROL_LIST_NONE && l->cursor == 0)
		listing_end(a);
	return l->kind != CONTROL_LIST_NONE;
}

static int cmd_show_sessions(struct command_ctx *c)
{
	return listing_begin(c, CONTROL_LIST_SESSIONS);
}

static int cmd_show_mappings(struct command_ctx *c)
{
	return listing_begin(c, CONTROL_LIST_MAPPINGS);
}

/* ---- show forwards ---- */

static bool same_forward(const struct napt_forward *x, const struct napt_forward *y)
{
	return x->protos == y->protos && x->ext_lo == y->ext_lo && x->ext_hi == y->ext_hi &&
	       x->in_addr == y->in_addr && x->in_lo == y->in_lo;
}

/* The NAT-PMP/PCP lease that made f, or NULL. */
static const struct runtime_lease *lease_of(const struct naptd *d, const struct napt_forward *f)
{
	for (unsigned i = 0; i < d->runtime.n_leases; i++) {
		if (same_forward(&d->runtime.leases[i].fwd, f))
			return &d->runtime.leases[i];
	}
	return NULL;
}

/* "runtime" for a forward added through naptctl, "pcp" for one a NAT-PMP or PCP client
 * made, "upnp" for one a UPnP IGD client made, "config" for one of the config file. */
static const char *forward_origin(const struct naptd *d, const struct napt_forward *f)
{
	for (unsigned i = 0; i < d->runtime.n_forwards; i++) {
		if (same_forward(&d->runtime.forwards[i], f))
			return "runtime";
	}
	const struct runtime_lease *l = lease_of(d, f);

	if (!l)
		return "config";
	return l->upnp ? "upnp" : "pcp";
}

/* Seconds a lease has left (0 when due), -1 for a forward without a lifetime. */
static long long forward_lifetime(const struct naptd *d, const struct napt_forward *f)
{
	const struct runtime_lease *l = lease_of(d, f);
	long long left = l ? (long long)(l->expires - (int64_t)time(NULL)) : -1;

	return l && left < 0 ? 0 : left;
}

/* The remote peers a PCP lease admits (FILTER, RFC 6887 section 13.3): " from A/L:P,..." or
 * JSON's ", \"filters\": [...]"; nothing for a forward open to all. */
static void show_filters(struct command_ctx *c, const struct napt_forward *f)
{
	for (unsigned i = 0; i < f->n_filters; i++) {
		char text[64];

		napt_peer_filter_format(&f->filters[i], text, sizeof(text));
		control_answer_printf(c->a, c->json ? "%s\"%s\"" : "%s%s",
				      i         ? ","
				      : c->json ? ", \"filters\": ["
						: " from ",
				      text);
	}
	if (c->json && f->n_filters)
		control_answer_printf(c->a, "]");
}

/* A UPnP lease's description (runtime_desc_set: no character to escape), quoted. */
static void show_desc(struct command_ctx *c, const struct napt_forward *f)
{
	const struct runtime_lease *l = lease_of(c->d, f);

	if (l && l->desc[0])
		control_answer_printf(c->a, c->json ? ", \"description\": \"%s\"" : " \"%s\"",
				      l->desc);
}

static void show_forward(struct command_ctx *c, const struct napt_forward *f, bool first)
{
	char text[FWD_LEN], proto[8] = "", ext[16] = "", in[40] = "";
	napt_forward_format(f, text, sizeof(text));
	/* The config syntax "PROTO EXT[-EXT] ADDR:PORT[-PORT]" split into the table's columns. */
	sscanf(text, "%7s %15s %39s", proto, ext, in);
	long long left = forward_lifetime(c->d, f);
	if (!c->json) {
		control_answer_printf(c->a, "%-5s %-11s %-27s %s", proto, ext, in,
				      forward_origin(c->d, f));
		if (left >= 0)
			control_answer_printf(c->a, " %llds left", left);
		show_filters(c, f);
		show_desc(c, f);
		control_answer_printf(c->a, "\n");
		return;
	}
	control_answer_printf(c->a,
			      "%s\n  {\"proto\": \"%s\", \"external_ports\": \"%s\", "
			      "\"inside\": \"%s\", \"origin\": \"%s\", \"rule\": \"%s\"",
			      first ? "" : ",", proto, ext, in, forward_origin(c->d, f), text);
	if (left >= 0)
		control_answer_printf(c->a, ", \"expires_in\": %lld", left);
	show_filters(c, f);
	show_desc(c, f);
	control_answer_printf(c->a, "}");
}

static int cmd_show_forwards(struct command_ctx *c)
{
	const struct napt_config *cfg = napt_get_config(c->d->nat);
	if (c->json)
		control_answer_printf(c->a, "{\"forwards\": [");
	else
		control_answer_printf(c->a, "%-5s %-11s %-27s %s\n", "PROTO", "EXTERNAL", "INSIDE",
				      "ORIGIN");
	for (unsigned i = 0; i < cfg->n_forwards; i++)
		show_forward(c, &cfg->forwards[i], i == 0);
	if (c->json)
		control_answer_printf(c->a, "\n], \"count\": %u}\n", cfg->n_forwards);
	else
		control_answer_printf(c->a, "%u forwards\n", cfg->n_forwards);
	return 0;
}

/* ---- show stats ---- */

/* One counter: a table row, or a JSON member. */
static void stat_line(struct command_ctx *c, const char *name, uint64_t v, bool *first)
{
	if (c->json)
		control_answer_printf(c->a, "%s\n  \"%s\": %llu", *first ? "" : ",", name,
				      (unsigned long long)v);
	else
		control_answer_printf(c->a, "%-32s %20llu\n", name, (unsigned long long)v);
	*first = false;
}

static void stats_translated(struct command_ctx *c, const struct napt_counters *k, bool *first)
{
	static const char *const protos[NAPT_PROTOS] = {"tcp", "udp", "icmp"};
	char name[64];
	for (int p = 0; p < NAPT_PROTOS; p++) {
		snprintf(name, sizeof(name), "translated-%s-out", protos[p]);
		stat_line(c, name, k->translated[p][0], first);
		snprintf(name, sizeof(name), "translated-%s-in", protos[p]);
		stat_line(c, name, k->translated[p][1], first);
	}
}

static int cmd_show_stats(struct command_ctx *c)
{
	const struct napt_counters *k = napt_get_counters(c->d->nat);
	bool first = true;
	char name[64];
	if (c->json)
		control_answer_printf(c->a, "{");
	else
		control_answer_printf(c->a, "%-32s %20s\n", "COUNTER", "VALUE");
	stats_translated(c, k, &first);
	stat_line(c, "hairpinned", k->hairpinned, &first);
	stat_line(c, "icmp-errors-translated", k->icmp_errors_translated, &first);
	stat_line(c, "replies-sent", k->replies_sent, &first);
	stat_line(c, "replies-limited", k->replies_limited, &first);
	stat_line(c, "replies-cancelled", k->replies_cancelled, &first);
	stat_line(c, "sessions-created", k->sessions_created, &first);
	stat_line(c, "sessions-expired", k->sessions_expired, &first);
	stat_line(c, "sessions-removed", k->sessions_removed, &first);
	stat_line(c, "sessions-current", k->sessions_current, &first);
	stat_line(c, "mappings-current", k->mappings_current, &first);
	stat_line(c, "fragments-held", k->fragments_held, &first);
	stat_line(c, "port-blocks-allocated", k->port_blocks_allocated, &first);
	stat_line(c, "port-blocks-released", k->port_blocks_released, &first);
	stat_line(c, "pool-fallbacks", k->pool_fallbacks, &first);
	stat_line(c, "deterministic-collisions", k->det_collisions, &first);
	stat_line(c, "deterministic-pickups", k->det_pickups, &first);
	stat_line(c, "memory-bytes", napt_memory_bytes(c->d->nat), &first);
	stat_line(c, "tun-write-errors", c->d->tun_write_errors, &first);
	stat_line(c, "tun-frames-refused", c->d->tun.frames_refused, &first);
	/* Easy IP: 1 while the flood filter runs (tun_filter.h), and what it dropped. */
	stat_line(c, "tun-filter-on", c->d->filter.map != NULL, &first);
	stat_line(c, "tun-filter-dropped", tun_filter_dropped(&c->d->filter), &first);
	stat_line(c, "loop-longest-us", c->d->loop.longest_us, &first);
	stat_line(c, "loop-longest-5s-us", loop_times_recent(&c->d->loop, naptd_now_ms() / 1000),
		  &first);
	stat_line(c, "pcp-requests-not-lan", c->d->pcp_not_lan, &first);
	/* UPnP HTTP requests refused for their Host or CALLBACK header, or a SUBSCRIBE from a host
	 * not served (upnp_guard.h). */
	stat_line(c, "upnp-requests-refused", atomic_load(&c->d->upnp_refused), &first);
	stat_line(c, "pcp-requests-limited", c->d->pcp_limited, &first);
	stat_line(c, "pcp-state-writes", c->d->pcp_state_writes, &first);
	stat_line(c, "state-lines-rejected", c->d->state_rejected, &first);
	for (int r = NAPT_RESTORED; r < NAPT_RESTORE_RESULTS; r++) {
		snprintf(name, sizeof(name), "sessions-restore-%s", napt_restore_result_name(r));
		stat_line(c, name, c->d->restored.result[r], &first);
	}
	stat_line(c, "sessions-file-rejected", (uint64_t)c->d->restored.file_rejected, &first);
	stat_line(c, "events-lost", napt_events_lost(c->d->nat), &first);
	stat_line(c, "monitors", event_monitor_count(c->d->monitor), &first);
	stat_line(c, "monitor-events-lost", event_monitor_lost(c->d->monitor), &first);
	stat_line(c, "mapping-log-lines", mapping_log_lines(c->d->mapping_log), &first);
	stat_line(c, "ipfix-records", ipfix_export_records(c->d->ipfix), &first);
	stat_line(c, "ipfix-records-dropped", ipfix_export_records_dropped(c->d->ipfix), &first);
	stat_line(c, "tun-frames-merged", c->d->tun.frames_merged, &first);
	stat_line(c, "uptime-s", (naptd_now_ms() - c->d->started_ms) / 1000, &first);
	for (int r = NAPT_DROP_NONE + 1; r < NAPT_DROP_REASONS; r++) {
		snprintf(name, sizeof(name), "dropped-%s", napt_drop_reason_name(r));
		stat_line(c, name, k->dropped[r], &first);
	}
	if (c->json)
		control_answer_printf(c->a, "\n}\n");
	return 0;
}

/* ---- show config ---- */

/* One setting: a config line "key value", or a JSON member "key": "value". */
static void config_line(struct command_ctx *c, const char *key, const char *value, bool *first)
{
	if (!c->json) {
		control_answer_printf(c->a, "%s %s\n", key, value);
	} else {
		control_answer_printf(c->a, "%s\n  \"%s\": ", *first ? "" : ",", key);
		json_string(c->a, value);
	}
	*first = false;
}

/* A repeatable setting: one line each, or a JSON array. */
static void config_list_begin(struct command_ctx *c, const char *key, bool *first)
{
	if (c->json)
		control_answer_printf(c->a, "%s\n  \"%s\": [", *first ? "" : ",", key);
	*first = false;
}

static void config_list_item(struct command_ctx *c, const char *key, const char *value, int i)
{
	if (!c->json) {
		control_answer_printf(c->a, "%s %s\n", key, value);
		return;
	}
	control_answer_printf(c->a, "%s", i ? ", " : "");
	json_string(c->a, value);
}

static void config_list_end(struct command_ctx *c)
{
	if (c->json)
		control_answer_printf(c->a, "]");
}

static void config_addresses(struct command_ctx *c, const struct napt_config *cfg, bool *first)
{
	char a[ADDR_LEN], v[ADDR_LEN + 4];
	config_list_begin(c, "inside", first);
	for (unsigned i = 0; i < cfg->n_inside; i++) {
		snprintf(v, sizeof(v), "%s/%u", fmt_addr(cfg->inside[i].addr, a),
			 cfg->inside[i].len);
		config_list_item(c, "inside", v, (int)i);
	}
	config_list_end(c);
	config_list_begin(c, "external", first);
	for (unsigned i = 0; i < cfg->n_external; i++)
		config_list_item(c, "external", fmt_addr(cfg->external[i], a), (int)i);
	config_list_end(c);
}

static void config_behaviour(struct command_ctx *c, const struct napt_config *cfg, bool *first)
{
	char v[64];
	snprintf(v, sizeof(v), "%u-%u", cfg->port_lo, cfg->port_hi);
	config_line(c, "port-range", v, first);
	config_line(c, "mapping", napt_behaviour_name(cfg->mapping), first);
	config_line(c, "filtering", napt_behaviour_name(cfg->filtering), first);
	config_line(c, "port-preservation", cfg->port_preservation ? "yes" : "no", first);
	config_list_begin(c, "timeout", first);
	for (int t = 0; t < NAPT_TIMEOUT_CLASSES; t++) {
		snprintf(v, sizeof(v), "%s %u", napt_timeout_class_name(t), cfg->timeout_s[t]);
		config_list_item(c, "timeout", v, t);
	}
	config_list_end(c);
	snprintf(v, sizeof(v), "%u", cfg->max_sessions);
	config_line(c, "max-sessions", v, first);
	snprintf(v, sizeof(v), "%u", cfg->max_sessions_per_host);
	config_line(c, "max-sessions-per-host", v, first);
	snprintf(v, sizeof(v), "%u", cfg->ports_per_host);
	config_line(c, "ports-per-host", v, first);
	config_line(c, "port-parity", cfg->port_parity ? "yes" : "no", first);
	config_line(c, "unsolicited-syn",
		    cfg->unsolicited_syn == NAPT_UNSOLICITED_RST    ? "rst"
		    : cfg->unsolicited_syn == NAPT_UNSOLICITED_ICMP ? "icmp"
								    : "drop",
		    first);
	config_line(c, "mode", cfg->mode == NAPT_MODE_DYNAMIC ? "dynamic" : "napt", first);
	config_line(c, "dynamic-fallback", cfg->dynamic_fallback_napt ? "napt" : "refuse", first);
	config_line(c, "refused-flows", cfg->refused_flows_icmp ? "icmp" : "drop", first);
	/* The clamp in force ("auto" shows the number it gave); none: no line. */
	if (cfg->mss_clamp) {
		snprintf(v, sizeof(v), "%u", cfg->mss_clamp);
		config_line(c, "mss-clamp", v, first);
	}
}

static void config_rules(struct command_ctx *c, const struct napt_config *cfg, bool *first)
{
	char v[FWD_LEN + 16], a[ADDR_LEN];
	config_list_begin(c, "forward", first);
	for (unsigned i = 0; i < cfg->n_forwards; i++) {
		napt_forward_format(&cfg->forwards[i], v, FWD_LEN);
		/* Say where each rule comes from; a comment keeps the line valid config. */
		if (!c->json && strcmp(forward_origin(c->d, &cfg->forwards[i]), "runtime") == 0)
			strcat(v, "  # run-time");
		config_list_item(c, "forward", v, (int)i);
	}
	config_list_end(c);
	config_line(c, "dmz", cfg->has_dmz ? fmt_addr(cfg->dmz, a) : "none", first);
	config_list_begin(c, "static", first);
	for (unsigned i = 0; i < cfg->n_statics; i++) {
		char b[ADDR_LEN];

		snprintf(v, sizeof(v), "%s %s", fmt_addr(cfg->statics[i].in_addr, a),
			 fmt_addr(cfg->statics[i].ext_addr, b));
		config_list_item(c, "static", v, (int)i);
	}
	config_list_end(c);
}

static void config_daemon(struct command_ctx *c, const struct napt_daemon_settings *s, bool *first)
{
	char v[32];
	const char *keys[] = {"tun",     "lan-interface", "wan-interface",
			      "control", "control-group", "state"};
	const char *values[] = {s->tun,     s->lan_interface, s->wan_interface,
				s->control, s->control_group, s->state};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (values[i][0])
			config_line(c, keys[i], values[i], first);
	}
	config_line(c, "manage-routes", s->manage_routes ? "yes" : "no", first);
	config_line(c, "offload", s->offload ? "yes" : "no", first);
	config_line(c, "coalesce", s->coalesce ? "yes" : "no", first);
	snprintf(v, sizeof(v), "%u", s->mtu);
	config_line(c, "mtu", v, first);
}

/* The NAT-PMP/PCP access rules in order (the first holding a request decides): config lines,
 * or one JSON list "pcp-rules" whose items keep their keyword. */
static void config_pcp_rules(struct command_ctx *c, const struct napt_daemon_settings *s,
			     bool *first)
{
	char v[64], a[ADDR_LEN];
	config_list_begin(c, "pcp-rules", first);
	for (unsigned i = 0; i < s->n_pcp_rules; i++) {
		const struct napt_pcp_rule *r = &s->pcp_rules[i];
		const char *kw = r->allow ? "pcp-allow" : "pcp-deny";
		snprintf(v, sizeof(v), "%s%s%s/%u %u-%u", c->json ? kw : "", c->json ? " " : "",
			 fmt_addr(r->hosts.addr, a), r->hosts.len, r->lo, r->hi);
		config_list_item(c, kw, v, (int)i);
	}
	config_list_end(c);
}

static int cmd_show_config(struct command_ctx *c)
{
	const struct napt_config *cfg = napt_get_config(c->d->nat);
	bool first = true;
	if (c->json)
		control_answer_printf(c->a, "{");
	else
		control_answer_printf(c->a, "# running config of naptd (%s)\n",
				      c->d->config_path ? c->d->config_path : "-");
	config_addresses(c, cfg, &first);
	config_behaviour(c, cfg, &first);
	config_rules(c, cfg, &first);
	/* The engine ignores the daemon's own settings: the file's are the ones in force. */
	config_daemon(c, &c->d->file_cfg.daemon, &first);
	config_pcp_rules(c, &c->d->file_cfg.daemon, &first);
	if (c->json)
		control_answer_printf(c->a, "\n}\n");
	return 0;
}

/* ---- rule changes ---- */

/* Would the next start accept this run-time state on top of the config file? */
static int check_restartable(struct command_ctx *c)
{
	struct napt_config *cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		return -1;
	}
	*cfg = c->d->file_cfg;
	int rc = runtime_state_apply(&c->d->runtime, cfg, c->err, sizeof(c->err));
	free(cfg);
	return rc;
}

static int save_state(struct command_ctx *c)
{
	const char *path = c->d->file_cfg.daemon.state;
	char why[ERR_LEN - 64];
	if (!path[0]) {
		/* The administrator chose not to keep run-time changes; the answer says so. */
		c->not_kept = true;
		return 0;
	}
	if (runtime_state_save(path, &c->d->runtime, why, sizeof(why)) < 0) {
		snprintf(c->err, sizeof(c->err), "cannot save the state file: %s", why);
		return -1;
	}
	return 0;
}

/* Check, then save the already changed c->d->runtime; on failure put back *old. */
static int commit_state(struct command_ctx *c, const struct runtime_state *old)
{
	if (check_restartable(c) == 0 && save_state(c) == 0)
		return 0;
	c->d->runtime = *old;
	return -1;
}

/* The engine refused a change already saved: save the old state back. */
static int engine_refused(struct command_ctx *c, const struct runtime_state *old, const char *why)
{
	c->d->runtime = *old;
	if (save_state(c) < 0) {
		char restore[ERR_LEN];
		snprintf(restore, sizeof(restore), "%s", c->err);
		snprintf(c->err, sizeof(c->err), "%.200s; restoring the state file failed: %.200s",
			 why, restore);
	} else {
		snprintf(c->err, sizeof(c->err), "%s", why);
	}
	return -1;
}

/* Snapshot of the run-time state, for rolling back; the caller frees it. */
static struct runtime_state *state_snapshot(struct command_ctx *c)
{
	struct runtime_state *old = malloc(sizeof(*old));
	if (!old)
		snprintf(c->err, sizeof(c->err), "out of memory");
	else
		*old = c->d->runtime;
	return old;
}

static int forward_add(struct command_ctx *c, const struct napt_forward *fwd,
		       const struct runtime_state *old)
{
	struct runtime_state *st = &c->d->runtime;
	char why[ERR_LEN];
	if (st->n_forwards >= NAPT_MAX_FORWARDS) {
		snprintf(c->err, sizeof(c->err), "already %d run-time forwards", NAPT_MAX_FORWARDS);
		return -1;
	}
	st->forwards[st->n_forwards++] = *fwd;
	if (commit_state(c, old) < 0)
		return -1;
	if (napt_forward_add(c->d->nat, fwd, why, sizeof(why)) < 0)
		return engine_refused(c, old, why);
	return 0;
}

static int cmd_forward_add(struct command_ctx *c)
{
	char text[CONTROL_REQUEST_MAX] = "", canon[FWD_LEN];
	struct napt_forward fwd;
	for (int i = 0; i < c->argc; i++) {
		strcat(text, i ? " " : "");
		strcat(text, c->argv[i]);
	}
	if (napt_forward_parse(&fwd, text, c->err, sizeof(c->err)) < 0)
		return -1;
	struct runtime_state *old = state_snapshot(c);
	if (!old)
		return -1;
	int rc = forward_add(c, &fwd, old);
	free(old);
	if (rc < 0)
		return -1;
	napt_forward_format(&fwd, canon, sizeof(canon));
	reply_message(c, "forward %s added%s", canon, kept_note(c));
	return 0;
}

static int parse_protos(struct command_ctx *c, const char *s, uint8_t *protos)
{
	if (strcmp(s, "tcp") == 0)
		*protos = NAPT_FWD_TCP;
	else if (strcmp(s, "udp") == 0)
		*protos = NAPT_FWD_UDP;
	else if (strcmp(s, "both") == 0)
		*protos = NAPT_FWD_TCP | NAPT_FWD_UDP;
	else {
		snprintf(c->err, sizeof(c->err), "bad protocol '%s' (tcp, udp or both)", s);
		return -1;
	}
	return 0;
}

static bool forward_holds(const struct napt_forward *f, uint8_t protos, unsigned port)
{
	return (f->protos & protos) && f->ext_lo <= port && port <= f->ext_hi;
}

/* Index of the forward of list[0..n) that holds (protos, port), or -1. */
static int find_forward(const struct napt_forward *list, unsigned n, uint8_t protos, unsigned port)
{
	for (unsigned i = 0; i < n; i++) {
		if (forward_holds(&list[i], protos, port))
			return (int)i;
	}
	return -1;
}

/* Index of the NAT-PMP/PCP lease that holds (protos, port), or -1. */
static int find_lease(const struct runtime_state *st, uint8_t protos, unsigned port)
{
	for (unsigned i = 0; i < st->n_leases; i++) {
		if (forward_holds(&st->leases[i].fwd, protos, port))
			return (int)i;
	}
	return -1;
}

/* gone is out of the saved state: end it in the engine, which ends the sessions that came in
 * through it (the door closes for open flows), and answer. */
static int forward_removed(struct command_ctx *c, const struct napt_forward *gone,
			   const char *origin)
{
	napt_forward_del(c->d->nat, gone->protos, gone->ext_lo);
	char text[FWD_LEN];
	napt_forward_format(gone, text, sizeof(text));
	reply_message(c, "forward %s%s removed%s", text, origin, kept_note(c));
	return 0;
}

/* "forward del" of a mapping a NAT-PMP, PCP or UPnP client made (origin pcp or upnp): the
 * lease ends now, as if its lifetime had run out; the client learns it when it renews. */
static int lease_del(struct command_ctx *c, unsigned i)
{
	struct runtime_state *old = state_snapshot(c);
	if (!old)
		return -1;
	struct napt_forward gone = c->d->runtime.leases[i].fwd;
	bool upnp = c->d->runtime.leases[i].upnp;
	runtime_state_drop_lease(&c->d->runtime, i);
	int rc = save_state(c);
	if (rc < 0)
		c->d->runtime = *old;
	free(old);
	return rc < 0 ? -1 : forward_removed(c, &gone, upnp ? " (origin upnp)" : " (origin pcp)");
}

/* The run-time forward that "forward del" names, or -1 with the reason. */
static int forward_to_delete(struct command_ctx *c, uint8_t protos, unsigned long port)
{
	const struct runtime_state *st = &c->d->runtime;
	const struct napt_config *file = &c->d->file_cfg;
	int i = find_forward(st->forwards, st->n_forwards, protos, port);
	if (i < 0) {
		if (find_forward(file->forwards, file->n_forwards, protos, port) >= 0)
			snprintf(c->err, sizeof(c->err),
				 "forward %s %lu comes from the config file; edit it and reload",
				 c->argv[0], port);
		else
			snprintf(c->err, sizeof(c->err), "no forward for %s port %lu", c->argv[0],
				 port);
		return -1;
	}
	if (st->forwards[i].protos != protos) {
		/* Removing half a rule would leave the state file and the engine to disagree. */
		char text[FWD_LEN];
		napt_forward_format(&st->forwards[i], text, sizeof(text));
		snprintf(c->err, sizeof(c->err),
			 "port %lu belongs to forward %s: name its protocol", port, text);
		return -1;
	}
	return i;
}

static int cmd_forward_del(struct command_ctx *c)
{
	struct runtime_state *st = &c->d->runtime;
	unsigned long port;
	uint8_t protos;
	if (parse_protos(c, c->argv[0], &protos) < 0)
		return -1;
	if (parse_number(c->argv[1], 65535, &port) < 0) {
		snprintf(c->err, sizeof(c->err), "bad port '%s'", c->argv[1]);
		return -1;
	}
	int lease = find_lease(st, protos, port);
	if (lease >= 0)
		return lease_del(c, (unsigned)lease);
	int i = forward_to_delete(c, protos, port);
	if (i < 0)
		return -1;
	struct napt_forward gone = st->forwards[i];
	memmove(&st->forwards[i], &st->forwards[i + 1],
		(st->n_forwards - (unsigned)i - 1) * sizeof(st->forwards[0]));
	st->n_forwards--;
	if (save_state(c) < 0) {
		memmove(&st->forwards[i + 1], &st->forwards[i],
			(st->n_forwards - (unsigned)i) * sizeof(st->forwards[0]));
		st->forwards[i] = gone;
		st->n_forwards++;
		return -1;
	}
	return forward_removed(c, &gone, "");
}

static int cmd_dmz_set(struct command_ctx *c)
{
	uint32_t addr;
	char a[ADDR_LEN];
	if (parse_addr(c, c->argv[0], &addr) < 0)
		return -1;
	struct runtime_state *old = state_snapshot(c);
	if (!old)
		return -1;
	c->d->runtime.dmz_mode = RUNTIME_DMZ_SET;
	c->d->runtime.dmz = addr;
	char why[ERR_LEN];
	int rc = commit_state(c, old);
	if (rc == 0 && napt_dmz_set(c->d->nat, addr, why, sizeof(why)) < 0)
		rc = engine_refused(c, old, why);
	free(old);
	if (rc < 0)
		return -1;
	reply_message(c, "dmz %s%s", fmt_addr(addr, a), kept_note(c));
	return 0;
}

static int cmd_dmz_clear(struct command_ctx *c)
{
	struct runtime_state *st = &c->d->runtime;
	enum runtime_dmz mode = st->dmz_mode;
	uint32_t addr = st->dmz;
	st->dmz_mode = RUNTIME_DMZ_CLEARED;
	st->dmz = 0;
	if (save_state(c) < 0) {
		st->dmz_mode = mode;
		st->dmz = addr;
		return -1;
	}
	/* Ends the sessions the DMZ host received. */
	napt_dmz_clear(c->d->nat);
	reply_message(c, "dmz cleared%s", kept_note(c));
	return 0;
}

static int cmd_timeout_set(struct command_ctx *c)
{
	int cls = napt_timeout_class_parse(c->argv[0]);
	unsigned long s;
	if (cls < 0) {
		snprintf(c->err, sizeof(c->err),
			 "bad timeout class '%s' (udp, tcp-established, tcp-transitory, icmp)",
			 c->argv[0]);
		return -1;
	}
	if (parse_number(c->argv[1], NAPT_MAX_TIMEOUT_S, &s) < 0) {
		snprintf(c->err, sizeof(c->err), "bad timeout '%s' (1 to %u seconds)", c->argv[1],
			 NAPT_MAX_TIMEOUT_S);
		return -1;
	}
	if (napt_timeout_set(c->d->nat, (enum napt_timeout_class)cls, (uint32_t)s) < 0) {
		snprintf(c->err, sizeof(c->err), "the engine refused timeout %s %lu", c->argv[0],
			 s);
		return -1;
	}
	reply_message(c, "timeout %s %lu (until the next reload or restart)",
		      napt_timeout_class_name(cls), s);
	return 0;
}

static int cmd_flush_sessions(struct command_ctx *c)
{
	uint64_t before = napt_get_counters(c->d->nat)->sessions_current;
	napt_flush(c->d->nat);
	reply_message(c, "%llu sessions flushed", (unsigned long long)before);
	return 0;
}

/* ---- lookup, monitor ---- */

/* One mapping on the external endpoint asked for, with its remote: who holds that endpoint
 * (RFC 6888 REQ-12 asks that it can be found). */
static int lookup_row(const struct napt_mapping_info *m, void *ctx)
{
	struct control_answer *a = ctx;
	char rem[EP_LEN] = "-";

	row_endpoints(a, m->proto, m->in_addr, m->in_port, m->ext_addr, m->ext_port);
	if (m->rem_addr && m->rem_port)
		fmt_endpoint(m->rem_addr, m->rem_port, rem);
	else if (m->rem_addr)
		fmt_addr(m->rem_addr, rem);
	if (a->listing.json)
		control_answer_printf(a,
				      "\"remote\": %s%s%s, \"origin\": \"%s\", \"sessions\": %u}",
				      m->rem_addr ? "\"" : "", m->rem_addr ? rem : "null",
				      m->rem_addr ? "\"" : "", origin_name(m->origin), m->sessions);
	else
		control_answer_printf(a, "%-21s %-8s %8u\n", rem, origin_name(m->origin),
				      m->sessions);
	a->listing.count++;
	return a->out_of_memory;
}

/* Under deterministic NAT the formula names the endpoint's host whether or not a mapping is
 * live (RFC 7422: no log needed), so the answer says it too, marked as the formula's. */
static void lookup_formula(struct command_ctx *c, uint32_t addr, uint16_t port)
{
	const struct napt_config *cfg = napt_get_config(c->d->nat);
	struct det_layout d;
	struct det_range r;
	char in[EP_LEN], ext[EP_LEN];
	bool found = cfg->det.on && det_layout_make(cfg, &d, NULL, 0) == 0 &&
		     det_reverse(&d, addr, port, &r);

	if (!found) {
		if (c->json)
			control_answer_printf(c->a, ", \"deterministic\": null");
		return;
	}
	fmt_addr(r.in_addr, in);
	fmt_addr(r.ext_addr, ext);
	if (c->json)
		control_answer_printf(c->a,
				      ", \"deterministic\": {\"inside_addr\": \"%s\", "
				      "\"external_addr\": \"%s\", \"port_first\": %u, "
				      "\"port_last\": %u, \"live\": %s}",
				      in, ext, r.lo, r.hi, c->a->listing.count ? "true" : "false");
	else
		control_answer_printf(c->a,
				      "deterministic: %s ports %u-%u belong to inside %s (from the "
				      "formula%s)\n",
				      ext, r.lo, r.hi, in,
				      c->a->listing.count ? "" : "; no live mapping");
}

/* With port blocks, the host whose block spans the endpoint holds it, a live mapping on the
 * port or not (its block's lines are the log's answer, docs/logging.md). */
static void lookup_block(struct command_ctx *c, uint32_t addr, uint16_t port)
{
	uint16_t lo, hi;
	uint32_t owner = napt_block_holder(c->d->nat, addr, port, &lo, &hi);
	char in[EP_LEN], ext[EP_LEN];

	if (!napt_get_config(c->d->nat)->port_block_size)
		return;
	if (!owner) {
		if (c->json)
			control_answer_printf(c->a, ", \"block\": null");
		return;
	}
	fmt_addr(owner, in);
	fmt_addr(addr, ext);
	if (c->json)
		control_answer_printf(c->a,
				      ", \"block\": {\"inside_addr\": \"%s\", \"external_addr\": "
				      "\"%s\", \"port_first\": %u, \"port_last\": %u}",
				      in, ext, lo, hi);
	else
		control_answer_printf(c->a, "block: %s ports %u-%u held by inside %s\n", ext, lo,
				      hi, in);
}

/* "EXT-ADDR:PORT PROTO": one index bucket, so answered at once whatever the table's size. */
static int lookup_external(struct command_ctx *c, char *colon)
{
	unsigned long port;
	uint32_t addr;
	uint8_t proto;

	*colon = '\0';
	if (parse_addr(c, c->argv[0], &addr) < 0)
		return -1;
	if (parse_number(colon + 1, 65535, &port) < 0) {
		snprintf(c->err, sizeof(c->err), "bad port '%s'", colon + 1);
		return -1;
	}
	proto = strcmp(c->argv[1], "tcp") == 0    ? IPPROTO_TCP
		: strcmp(c->argv[1], "udp") == 0  ? IPPROTO_UDP
		: strcmp(c->argv[1], "icmp") == 0 ? IPPROTO_ICMP
						  : 0;
	if (!proto) {
		snprintf(c->err, sizeof(c->err), "protocol '%s': tcp, udp or icmp", c->argv[1]);
		return -1;
	}
	c->a->listing = (struct control_listing){.json = c->json};
	if (c->json)
		control_answer_printf(c->a, "{\"mappings\": [");
	else
		control_answer_printf(c->a, "%-5s %-21s %-21s %-21s %-8s %8s\n", "PROTO", "INSIDE",
				      "EXTERNAL", "REMOTE", "ORIGIN", "SESSIONS");
	napt_foreach_mapping_on(c->d->nat, proto, addr, (uint16_t)port, lookup_row, c->a);
	if (c->json)
		control_answer_printf(c->a, "\n], \"count\": %lu", c->a->listing.count);
	else
		control_answer_printf(c->a, "%lu mappings\n", c->a->listing.count);
	lookup_formula(c, addr, (uint16_t)port);
	lookup_block(c, addr, (uint16_t)port);
	if (c->json)
		control_answer_printf(c->a, "}\n");
	return 0;
}

/* "INSIDE-ADDR": that host's mappings, as `show mappings host ADDR` lists them (a walk over
 * the table, made a piece at a time). */
static int cmd_lookup(struct command_ctx *c)
{
	char *colon = strchr(c->argv[0], ':');
	char host[] = "host";
	char *words[2] = {host, c->argv[0]};

	if (c->argc != (colon ? 2 : 1)) {
		snprintf(c->err, sizeof(c->err),
			 "usage: lookup EXT-ADDR:PORT tcp|udp|icmp, or lookup INSIDE-ADDR");
		return -1;
	}
	if (colon)
		return lookup_external(c, colon);
	c->argv = words;
	c->argc = 2;
	return listing_begin(c, CONTROL_LIST_MAPPINGS);
}

/* The answer is "ok" alone: the control server hands the client to the event monitor
 * (event_monitor.h), which says it and streams from then on. */
static int cmd_monitor(struct command_ctx *c)
{
	c->a->monitor = true;
	c->a->monitor_json = c->json;
	return 0;
}

static int cmd_reload(struct command_ctx *c)
{
	if (naptd_reload(c->d, c->err, sizeof(c->err)) < 0)
		return -1;
	reply_message(c, "config reloaded from %s", c->d->config_path ? c->d->config_path : "-");
	return 0;
}

static int cmd_help(struct command_ctx *c);

static const struct command commands[] = {
    {"show sessions", 0, 3, cmd_show_sessions, "[tcp|udp|icmp] [inside|host ADDR]",
     "the session table, optionally filtered"},
    {"show mappings", 0, 3, cmd_show_mappings, "[tcp|udp|icmp] [inside|host ADDR]",
     "the mappings (inside to external), optionally filtered"},
    {"show forwards", 0, 0, cmd_show_forwards, "", "port forwards, from config or run time"},
    {"show stats", 0, 0, cmd_show_stats, "", "every counter, drops by reason"},
    {"show config", 0, 0, cmd_show_config, "", "the running config in config-file syntax"},
    {"forward add", 3, 3, cmd_forward_add, "tcp|udp|both EXT[-EXT] ADDR:PORT[-PORT]",
     "add a port forward (kept in the state file)"},
    {"forward del", 2, 2, cmd_forward_del, "tcp|udp|both EXTPORT",
     "remove a run-time forward and the sessions it let in"},
    {"dmz set", 1, 1, cmd_dmz_set, "ADDR", "send unsolicited inbound traffic to ADDR (kept)"},
    {"dmz clear", 0, 0, cmd_dmz_clear, "", "no DMZ host (kept)"},
    {"timeout set", 2, 2, cmd_timeout_set, "CLASS SECONDS",
     "change a timeout until the next reload (not kept)"},
    {"flush sessions", 0, 0, cmd_flush_sessions, "", "remove every session, keep the rules"},
    {"reload", 0, 0, cmd_reload, "", "re-read the config file (like SIGHUP)"},
    {"lookup", 1, 2, cmd_lookup, "EXT-ADDR:PORT tcp|udp|icmp | INSIDE-ADDR",
     "who holds an external endpoint now, or an inside host's mappings"},
    {"monitor", 0, 0, cmd_monitor, "", "stream mapping and session events, one line each"},
    {"help", 0, 0, cmd_help, "", "this list"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int cmd_help(struct command_ctx *c)
{
	char usage[128];
	if (c->json)
		control_answer_printf(c->a, "{\"commands\": [");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		snprintf(usage, sizeof(usage), "%s%s%s", commands[i].name,
			 commands[i].usage[0] ? " " : "", commands[i].usage);
		if (!c->json) {
			control_answer_printf(c->a, "%-56s %s\n", usage, commands[i].help);
			continue;
		}
		control_answer_printf(c->a, "%s\n  {\"usage\": \"%s\", \"help\": \"%s\"}",
				      i ? "," : "", usage, commands[i].help);
	}
	if (c->json)
		control_answer_printf(c->a, "\n]}\n");
	return 0;
}

/* ---- the request ---- */

/* Split line in place into words separated by spaces. Returns the count, or -1 if more
 * than max. */
static int split_words(char *line, char **words, int max)
{
	int n = 0;
	for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
		if (n == max)
			return -1;
		words[n++] = tok;
	}
	return n;
}

/* Does the command's name equal the first words of the request? */
static int command_words(const struct command *cmd, char **words, int n)
{
	char name[32];
	char *w[3];
	snprintf(name, sizeof(name), "%s", cmd->name);
	int k = split_words(name, w, 3);
	if (k > n)
		return -1;
	for (int i = 0; i < k; i++) {
		if (strcmp(w[i], words[i]) != 0)
			return -1;
	}
	return k;
}

static int run_words(struct command_ctx *c, char **words, int n)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		int k = command_words(&commands[i], words, n);
		if (k < 0)
			continue;
		c->argv = words + k;
		c->argc = n - k;
		if (c->argc < commands[i].min_args || c->argc > commands[i].max_args) {
			snprintf(c->err, sizeof(c->err), "usage: %s %s", commands[i].name,
				 commands[i].usage);
			return -1;
		}
		return commands[i].run(c);
	}
	snprintf(c->err, sizeof(c->err), "unknown command '%.64s%s%.64s' (try: help)", words[0],
		 n > 1 ? " " : "", n > 1 ? words[1] : "");
	return -1;
}

/* Length and bytes: one line of printable ASCII (a trailing CR from telnet-like clients is
 * dropped). Returns the usable length, or -1 with the reason. */
static long check_request(struct command_ctx *c, const char *req, size_t len)
{
	if (len > 0 && req[len - 1] == '\r')
		len--;
	if (len >= CONTROL_REQUEST_MAX) {
		snprintf(c->err, sizeof(c->err), "request longer than %d bytes",
			 CONTROL_REQUEST_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (req[i] < 0x20 || req[i] > 0x7e) {
			snprintf(c->err, sizeof(c->err),
				 "request holds a byte that is not printable ASCII "
				 "(0x%02x at offset %zu)",
				 (unsigned char)req[i], i);
			return -1;
		}
	}
	return (long)len;
}

static int run_request(struct command_ctx *c, const char *req, size_t len)
{
	char line[CONTROL_REQUEST_MAX];
	char *words[MAX_WORDS];
	long n = check_request(c, req, len);
	if (n < 0)
		return -1;
	memcpy(line, req, (size_t)n);
	line[n] = '\0';
	char *text = line;
	if (strncmp(text, CONTROL_JSON_PREFIX, strlen(CONTROL_JSON_PREFIX)) == 0) {
		c->json = true;
		text += strlen(CONTROL_JSON_PREFIX);
	}
	int nw = split_words(text, words, MAX_WORDS);
	if (nw < 0) {
		snprintf(c->err, sizeof(c->err), "more than %d words", MAX_WORDS);
		return -1;
	}
	if (nw == 0) {
		snprintf(c->err, sizeof(c->err), "empty request (try: help)");
		return -1;
	}
	return run_words(c, words, nw);
}

int control_command_run(struct naptd *d, const char *req, size_t len, struct control_answer *a)
{
	struct command_ctx c = {.d = d, .a = a};
	a->len = 0;
	a->out_of_memory = false;
	a->monitor = false;
	a->listing.kind = CONTROL_LIST_NONE;
	control_answer_printf(a, "%s\n", CONTROL_ANSWER_OK);
	int rc = run_request(&c, req, len);
	if (rc == 0 && a->out_of_memory) {
		snprintf(c.err, sizeof(c.err), "out of memory for the answer");
		rc = -1;
	}
	if (rc < 0) {
		a->len = 0;
		a->out_of_memory = false;
		a->monitor = false;
		a->listing.kind = CONTROL_LIST_NONE;
		control_answer_printf(a, "%s%s\n", CONTROL_ANSWER_ERROR, c.err);
	}
	return a->out_of_memory ? -1 : rc;
}
