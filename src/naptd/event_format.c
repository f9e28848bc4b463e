/* SPDX-License-Identifier: BSD-2-Clause */
/* event_format.c - mapping and session events as key=value or JSON lines. */
#include "event_format.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <time.h>

static const char *proto_text(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "icmp";
}

static const char *origin_text(uint8_t origin)
{
	static const char *const names[] = {"outbound", "forward", "dmz"};

	return origin < 3 ? names[origin] : "?";
}

/* RFC 3339 in UTC with milliseconds: sorts as text, and says which zone it is in. */
static void time_text(uint64_t time_ms, char buf[32])
{
	time_t s = (time_t)(time_ms / 1000);
	struct tm tm;
	char day[24];

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 32, "%s.%03uZ", day, (unsigned)(time_ms % 1000));
}

static const char *addr_text(uint32_t addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

/* A mapping's remote is its key under an address-dependent mapping (the port too under an
 * address-and-port-dependent one), none ("-") under an endpoint-independent one. */
static void remote_text(const struct napt_event *e, char buf[24])
{
	char a[INET_ADDRSTRLEN];
	bool session = e->type == NAPT_EV_SESSION_NEW || e->type == NAPT_EV_SESSION_END;

	if (!e->rem_addr)
		snprintf(buf, 24, "-");
	else if (session || e->rem_port)
		snprintf(buf, 24, "%s:%u", addr_text(e->rem_addr, a), e->rem_port);
	else
		snprintf(buf, 24, "%s", addr_text(e->rem_addr, a));
}

static bool is_end(const struct napt_event *e)
{
	return e->type == NAPT_EV_MAPPING_END || e->type == NAPT_EV_SESSION_END ||
	       e->type == NAPT_EV_BLOCK_END;
}

static bool is_block(const struct napt_event *e)
{
	return e->type == NAPT_EV_BLOCK_NEW || e->type == NAPT_EV_BLOCK_END;
}

static const char *reason_text(const struct napt_event *e)
{
	return e->expired ? "timeout" : "removed";
}

/* A block: its owner and its ports, the whole range on one line, so the "who had E:P at T"
 * question is a range test (docs/logging.md). */
static size_t block_line(const struct napt_event *e, const char *when, bool json, char *buf)
{
	char in[INET_ADDRSTRLEN], ext[INET_ADDRSTRLEN];
	const char *type = napt_event_type_name((enum napt_event_type)e->type);

	addr_text(e->in_addr, in);
	addr_text(e->ext_addr, ext);
	if (json)
		return (size_t)snprintf(
		    buf, EVENT_LINE_MAX,
		    "{\"event\": \"%s\", \"time\": \"%s\", \"inside_addr\": \"%s\", "
		    "\"external_addr\": \"%s\", \"port_first\": %u, \"port_last\": %u%s%s%s}\n",
		    type, when, in, ext, e->ext_port, e->ext_port_last,
		    is_end(e) ? ", \"reason\": \"" : "", is_end(e) ? reason_text(e) : "",
		    is_end(e) ? "\"" : "");
	return (size_t)snprintf(buf, EVENT_LINE_MAX,
				"event=%s time=%s inside=%s external=%s:%u-%u%s%s\n", type, when,
				in, ext, e->ext_port, e->ext_port_last, is_end(e) ? " reason=" : "",
				is_end(e) ? reason_text(e) : "");
}

static size_t text_line(const struct napt_event *e, const char *when, char *buf)
{
	char in[INET_ADDRSTRLEN], ext[INET_ADDRSTRLEN], rem[24];
	int n;

	remote_text(e, rem);
	n = snprintf(buf, EVENT_LINE_MAX,
		     "event=%s time=%s proto=%s inside=%s:%u external=%s:%u remote=%s "
		     "origin=%s%s%s\n",
		     napt_event_type_name((enum napt_event_type)e->type), when,
		     proto_text(e->proto), addr_text(e->in_addr, in), e->in_port,
		     addr_text(e->ext_addr, ext), e->ext_port, rem, origin_text(e->origin),
		     is_end(e) ? " reason=" : "", is_end(e) ? reason_text(e) : "");
	return (size_t)n;
}

static size_t json_line(const struct napt_event *e, const char *when, char *buf)
{
	char in[INET_ADDRSTRLEN], ext[INET_ADDRSTRLEN];
	char rem[INET_ADDRSTRLEN + 2] = "null";
	int n;

	if (e->rem_addr) {
		char ra[INET_ADDRSTRLEN];

		snprintf(rem, sizeof(rem), "\"%s\"", addr_text(e->rem_addr, ra));
	}
	n = snprintf(
	    buf, EVENT_LINE_MAX,
	    "{\"event\": \"%s\", \"time\": \"%s\", \"proto\": \"%s\", \"inside_addr\": "
	    "\"%s\", \"inside_port\": %u, \"external_addr\": \"%s\", \"external_port\": %u, "
	    "\"remote_addr\": %s, \"remote_port\": %u, \"origin\": \"%s\"%s%s%s}\n",
	    napt_event_type_name((enum napt_event_type)e->type), when, proto_text(e->proto),
	    addr_text(e->in_addr, in), e->in_port, addr_text(e->ext_addr, ext), e->ext_port, rem,
	    e->rem_port, origin_text(e->origin), is_end(e) ? ", \"reason\": \"" : "",
	    is_end(e) ? reason_text(e) : "", is_end(e) ? "\"" : "");
	return (size_t)n;
}

size_t event_format(const struct napt_event *e, bool json, char buf[EVENT_LINE_MAX])
{
	char t[32];

	time_text(e->time_ms, t);
	if (is_block(e))
		return block_line(e, t, json, buf);
	return json ? json_line(e, t, buf) : text_line(e, t, buf);
}

size_t event_format_lost(uint64_t count, uint64_t time_ms, bool json, char buf[EVENT_LINE_MAX])
{
	char t[32];

	time_text(time_ms, t);
	return (size_t)snprintf(buf, EVENT_LINE_MAX,
				json ? "{\"event\": \"lost\", \"time\": \"%s\", \"count\": %llu}\n"
				     : "event=lost time=%s count=%llu\n",
				t, (unsigned long long)count);
}
