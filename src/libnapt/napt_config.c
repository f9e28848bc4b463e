/* SPDX-License-Identifier: BSD-2-Clause */
/* napt_config.c - the config file parser: "keyword value..." lines into struct napt_config.
 *
 * Pure: no I/O and no syscalls (inet_pton/inet_ntop are plain libc), so the engine library,
 * the daemon, napt-replay and the unit tests all share it. Every error says what was wrong
 * and, where one exists, the rule it breaks.
 */
#include "napt_config.h"

#include "det_nat.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_LINE           1024
#define MAX_TOKENS         8
#define MAX_SESSIONS_LIMIT 16777216u

/* One config line split on blanks, the comment removed. */
struct config_tokens {
	char buf[MAX_LINE];
	char *tok[MAX_TOKENS];
	unsigned n;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *const behaviour_names[] = {
    [NAPT_ENDPOINT_INDEPENDENT] = "endpoint-independent",
    [NAPT_ADDRESS_DEPENDENT] = "address-dependent",
    [NAPT_ADDRESS_AND_PORT_DEPENDENT] = "address-and-port-dependent",
};

static const char *const timeout_names[NAPT_TIMEOUT_CLASSES] = {
    [NAPT_TIMEOUT_UDP] = "udp",
    [NAPT_TIMEOUT_TCP_ESTABLISHED] = "tcp-established",
    [NAPT_TIMEOUT_TCP_TRANSITORY] = "tcp-transitory",
    [NAPT_TIMEOUT_ICMP] = "icmp",
};

const char *napt_behaviour_name(enum napt_behaviour b)
{
	if ((unsigned)b >= sizeof(behaviour_names) / sizeof(behaviour_names[0]))
		return "?";
	return behaviour_names[b];
}

const char *napt_timeout_class_name(enum napt_timeout_class c)
{
	if ((unsigned)c >= NAPT_TIMEOUT_CLASSES)
		return "?";
	return timeout_names[c];
}

int napt_timeout_class_parse(const char *name)
{
	for (int c = 0; c < NAPT_TIMEOUT_CLASSES; c++)
		if (strcmp(name, timeout_names[c]) == 0)
			return c;
	return -1;
}

void napt_config_defaults(struct napt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port_lo = 1024;
	cfg->port_hi = 65535;
	cfg->mapping = NAPT_ENDPOINT_INDEPENDENT;
	cfg->filtering = NAPT_ADDRESS_AND_PORT_DEPENDENT;
	cfg->port_preservation = true;
	/* RFC 4787 REQ-5, RFC 5382 REQ-5, RFC 7857 2.3, RFC 5508 REQ-2. */
	cfg->timeout_s[NAPT_TIMEOUT_UDP] = 300;
	cfg->timeout_s[NAPT_TIMEOUT_TCP_ESTABLISHED] = 7440;
	cfg->timeout_s[NAPT_TIMEOUT_TCP_TRANSITORY] = 240;
	cfg->timeout_s[NAPT_TIMEOUT_ICMP] = 60;
	cfg->max_sessions = 1048576;
	cfg->port_rest_s = 120; /* RFC 6888 REQ-8 */
	strcpy(cfg->daemon.tun, "napt0");
	strcpy(cfg->daemon.control, "/run/naptd.sock");
	cfg->daemon.manage_routes = true;
	cfg->daemon.offload = true;
	cfg->daemon.coalesce = true;
	cfg->daemon.mtu = 1500;
}

/* ---- values ---------------------------------------------------------------------------- */

/* Strict decimal: digits only, no sign, no blanks, no trailing garbage. */
static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_number(const char *what, const char *s, uint32_t lo, uint32_t hi, uint32_t *out,
			char *err, size_t errlen)
{
	if (parse_u32(s, out) < 0)
		return fail(err, errlen, "'%s' needs a number, not '%s'", what, s);
	if (*out < lo || *out > hi)
		return fail(err, errlen, "'%s' value %s is out of range %u..%u", what, s, lo, hi);
	return 0;
}

static int parse_port(const char *s, uint16_t *out, char *err, size_t errlen)
{
	uint32_t v;

	if (parse_u32(s, &v) < 0)
		return fail(err, errlen, "bad port '%s'", s);
	if (v == 0)
		return fail(err, errlen, "port 0 is not allowed");
	if (v > 65535)
		return fail(err, errlen, "port %s is out of range 1..65535", s);
	*out = (uint16_t)v;
	return 0;
}

/* "LO-HI" or a single port "P" (then LO = HI = P). */
static int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen)
{
	char buf[32];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "bad port range '%s'", s);
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return parse_port(buf, lo, err, errlen) < 0 ? -1 : (*hi = *lo, 0);
	*dash = '\0';
	if (parse_port(buf, lo, err, errlen) < 0 || parse_port(dash + 1, hi, err, errlen) < 0)
		return -1;
	if (*lo > *hi)
		return fail(err, errlen, "port range %s is reversed", s);
	return 0;
}

static int parse_addr(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = a.s_addr;
	return 0;
}

static const char *addr_text(uint32_t addr, char *buf)
{
	struct in_addr a = {.s_addr = addr};

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static uint32_t prefix_mask(unsigned len)
{
	return len == 0 ? 0 : htonl(0xffffffffu << (32 - len));
}

/* what: the keyword, for the messages. */
static int parse_prefix(const char *what, const char *s, struct napt_prefix *p, char *err,
			size_t errlen)
{
	char buf[64];
	char *slash;
	uint32_t len, addr;

	if (strlen(s) >= sizeof(buf) || !(slash = strchr(strcpy(buf, s), '/')))
		return fail(err, errlen, "'%s' needs a prefix like 192.168.1.0/24", what);
	*slash = '\0';
	if (parse_addr(buf, &addr) < 0)
		return fail(err, errlen, "bad address '%s' in prefix %s", buf, s);
	if (parse_u32(slash + 1, &len) < 0)
		return fail(err, errlen, "bad prefix length '%s'", slash + 1);
	if (len > 32)
		return fail(err, errlen, "bad prefix length %u", len);
	p->len = (uint8_t)len;
	p->mask = prefix_mask(len);
	p->addr = addr & p->mask;
	if (p->addr != addr) {
		char net[INET_ADDRSTRLEN];

		return fail(err, errlen, "%s prefix %s has host bits set (the network is %s/%u)",
			    what, s, addr_text(p->addr, net), len);
	}
	return 0;
}

static int parse_yes_no(const char *what, const char *s, bool *out, char *err, size_t errlen)
{
	if (strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "no") == 0)
		*out = false;
	else
		return fail(err, errlen, "'%s' takes yes or no, not '%s'", what, s);
	return 0;
}

static int parse_behaviour(const char *what, const char *s, enum napt_behaviour *out, char *err,
			   size_t errlen)
{
	for (unsigned b = 0; b < sizeof(behaviour_names) / sizeof(behaviour_names[0]); b++) {
		if (strcmp(s, behaviour_names[b]) == 0) {
			*out = (enum napt_behaviour)b;
			return 0;
		}
	}
	return fail(err, errlen,
		    "'%s' takes endpoint-independent, address-dependent or "
		    "address-and-port-dependent, not '%s'",
		    what, s);
}

static int copy_name(const char *what, const char *s, char *dst, size_t cap, char *err,
		     size_t errlen)
{
	if (strlen(s) >= cap)
		return fail(err, errlen, "'%s' value '%s' is longer than %zu characters", what, s,
			    cap - 1);
	strcpy(dst, s);
	return 0;
}

/* ---- forwards -------------------------------------------------------------------------- */

static const char *forward_proto_name(uint8_t protos)
{
	if (protos == (NAPT_FWD_TCP | NAPT_FWD_UDP))
		return "both";
	return protos == NAPT_FWD_TCP ? "tcp" : "udp";
}

static int parse_forward_proto(const char *s, uint8_t *protos, char *err, size_t errlen)
{
	if (strcmp(s, "tcp") == 0)
		*protos = NAPT_FWD_TCP;
	else if (strcmp(s, "udp") == 0)
		*protos = NAPT_FWD_UDP;
	else if (strcmp(s, "both") == 0)
		*protos = NAPT_FWD_TCP | NAPT_FWD_UDP;
	else
		return fail(err, errlen, "forward: protocol '%s' is not tcp, udp or both", s);
	return 0;
}

/* "ADDR:PORT[-PORT]" of the inside end; the external range [ext_lo, ext_hi] sets its
 * length: a single inside port starts a range as long as the external one. */
static int parse_forward_target(const char *s, struct napt_forward *fwd, char *err, size_t errlen)
{
	char buf[64];
	char *colon;
	uint16_t lo, hi;
	unsigned n_ext = (unsigned)fwd->ext_hi - fwd->ext_lo + 1;

	if (strlen(s) >= sizeof(buf) || !(colon = strchr(strcpy(buf, s), ':')))
		return fail(err, errlen, "forward: inside end '%s' is not ADDR:PORT", s);
	*colon = '\0';
	if (parse_addr(buf, &fwd->in_addr) < 0)
		return fail(err, errlen, "forward: bad inside address '%s'", buf);
	if (parse_port_range(colon + 1, &lo, &hi, err, errlen) < 0)
		return -1;
	if (lo != hi && (unsigned)hi - lo + 1 != n_ext)
		return fail(err, errlen,
			    "forward: external range %u-%u (%u ports) and inside range %u-%u (%u "
			    "ports) differ in length",
			    fwd->ext_lo, fwd->ext_hi, n_ext, lo, hi, (unsigned)hi - lo + 1);
	if ((unsigned)lo + n_ext - 1 > 65535)
		return fail(err, errlen, "forward: inside range from port %u runs past 65535", lo);
	fwd->in_lo = lo;
	return 0;
}

/* v: protocol, external port(s), inside end. */
static int forward_from_words(struct napt_forward *fwd, char **v, char *err, size_t errlen)
{
	memset(fwd, 0, sizeof(*fwd));
	if (parse_forward_proto(v[0], &fwd->protos, err, errlen) < 0 ||
	    parse_port_range(v[1], &fwd->ext_lo, &fwd->ext_hi, err, errlen) < 0)
		return -1;
	return parse_forward_target(v[2], fwd, err, errlen);
}

/* "tcp 8000-8100": the part of a forward that decides overlaps. */
static void forward_key_text(const struct napt_forward *fwd, char *buf, size_t len)
{
	if (fwd->ext_lo == fwd->ext_hi)
		snprintf(buf, len, "%s %u", forward_proto_name(fwd->protos), fwd->ext_lo);
	else
		snprintf(buf, len, "%s %u-%u", forward_proto_name(fwd->protos), fwd->ext_lo,
			 fwd->ext_hi);
}

int napt_forward_format(const struct napt_forward *fwd, char *buf, size_t len)
{
	char key[32], addr[INET_ADDRSTRLEN];
	int n;

	forward_key_text(fwd, key, sizeof(key));
	addr_text(fwd->in_addr, addr);
	if (fwd->ext_lo == fwd->ext_hi)
		n = snprintf(buf, len, "%s %s:%u", key, addr, fwd->in_lo);
	else
		n = snprintf(buf, len, "%s %s:%u-%u", key, addr, fwd->in_lo,
			     (unsigned)fwd->in_lo + fwd->ext_hi - fwd->ext_lo);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool napt_forward_overlaps(const struct napt_forward *a, const struct napt_forward *b)
{
	return (a->protos & b->protos) && a->ext_lo <= b->ext_hi && b->ext_lo <= a->ext_hi;
}

bool napt_forward_admits(const struct napt_forward *f, uint32_t rem_addr, uint16_t rem_port)
{
	for (unsigned i = 0; i < f->n_filters; i++) {
		const struct napt_peer_filter *p = &f->filters[i];

		if ((rem_addr & prefix_mask(p->len)) == p->addr &&
		    (!p->port || p->port == rem_port))
			return true;
	}
	return f->n_filters == 0;
}

int napt_peer_filter_format(const struct napt_peer_filter *f, char *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];
	int n = snprintf(buf, len, "%s/%u:%u", addr_text(f->addr, addr), f->len, f->port);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int napt_peer_filter_parse(struct napt_peer_filter *f, const char *text, char *err, size_t errlen)
{
	char buf[64];
	char *colon;
	struct napt_prefix p;
	uint32_t port;

	if (strlen(text) >= sizeof(buf) || !(colon = strrchr(strcpy(buf, text), ':')))
		return fail(err, errlen, "a filter is ADDR/LEN:PORT, not '%s'", text);
	*colon = '\0';
	if (parse_prefix("filter", buf, &p, err, errlen) < 0 ||
	    parse_number("filter port", colon + 1, 0, 65535, &port, err, errlen) < 0)
		return -1;
	*f = (struct napt_peer_filter){.addr = p.addr, .port = (uint16_t)port, .len = p.len};
	return 0;
}

/* ---- lines ----------------------------------------------------------------------------- */

#define FORWARD_USAGE "'tcp|udp|both EXT[-EXT] ADDR:PORT[-PORT]'"

static int split_tokens(const char *line, struct config_tokens *t, char *err, size_t errlen)
{
	char *p, *save = NULL;

	if (strlen(line) >= sizeof(t->buf))
		return fail(err, errlen, "line longer than %d characters", MAX_LINE - 1);
	strcpy(t->buf, line);
	p = strchr(t->buf, '#');
	if (p)
		*p = '\0';
	t->n = 0;
	for (p = strtok_r(t->buf, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
		if (t->n == MAX_TOKENS)
			return fail(err, errlen, "too many words on one line");
		t->tok[t->n++] = p;
	}
	return 0;
}

int napt_forward_parse(struct napt_forward *fwd, const char *text, char *err, size_t errlen)
{
	struct config_tokens t;

	if (split_tokens(text, &t, err, errlen) < 0)
		return -1;
	if (t.n < 3)
		return fail(err, errlen, "forward needs " FORWARD_USAGE);
	if (t.n > 3)
		return fail(err, errlen, "trailing garbage '%s' after 'forward'", t.tok[3]);
	return forward_from_words(fwd, t.tok, err, errlen);
}

/* A keyword, how many values it takes, and what to do with them. */
struct config_keyword {
	const char *name;
	unsigned n_values;
	const char *usage; /* shown when the count is wrong */
	int (*apply)(struct napt_config *cfg, char **v, char *err, size_t errlen);
};

static int kw_inside(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	struct napt_prefix p;

	if (parse_prefix("inside", v[0], &p, err, errlen) < 0)
		return -1;
	if (cfg->n_inside == NAPT_MAX_INSIDE)
		return fail(err, errlen, "too many 'inside' prefixes (at most %d)",
			    NAPT_MAX_INSIDE);
	cfg->inside[cfg->n_inside++] = p;
	return 0;
}

/* Append a to the pool; one already there is an error unless `listed_ok`. */
static int add_external(struct napt_config *cfg, uint32_t a, bool listed_ok, char *err,
			size_t errlen)
{
	char text[INET_ADDRSTRLEN];

	/* Also the addresses a deterministic external prefix brings. */
	if (a == 0 || a == INADDR_BROADCAST)
		return fail(err, errlen, "external address %s cannot be used", addr_text(a, text));
	for (unsigned i = 0; i < cfg->n_external; i++)
		if (cfg->external[i] == a)
			return listed_ok ? 0
					 : fail(err, errlen, "external address %s is listed twice",
						addr_text(a, text));
	if (cfg->n_external == NAPT_MAX_EXTERNAL)
		return fail(err, errlen, "too many 'external' addresses (at most %d)",
			    NAPT_MAX_EXTERNAL);
	cfg->external[cfg->n_external++] = a;
	return 0;
}

static int kw_external(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	uint32_t a;

	if (parse_addr(v[0], &a) < 0)
		return fail(err, errlen, "'external' needs an IPv4 address, not '%s'", v[0]);
	return add_external(cfg, a, false, err, errlen);
}

/* Easy IP: "external interface NAME". The router's own services keep their ports, so the
 * default port range shrinks to the dynamic ports of RFC 6335 section 6, but for 65535: the
 * ip rules that steer the range into the TUN cannot match it (the kernel refuses dport
 * ranges that end at 65535). An explicit port-range line, before or after, wins unless it
 * names the default range. */
static int kw_external_interface(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	if (strcmp(v[0], "interface") != 0)
		return fail(err, errlen, "'external' needs an IPv4 address or 'interface NAME'");
	if (cfg->port_lo == 1024 && cfg->port_hi == 65535) {
		cfg->port_lo = 49152;
		cfg->port_hi = 65534;
	}
	/* The router's own connections take their ports below naptd's (local-ports). */
	if (!cfg->local_ports_lo) {
		cfg->local_ports_lo = 32768;
		cfg->local_ports_hi = 49151;
	}
	return copy_name("external interface", v[1], cfg->daemon.external_interface,
			 sizeof(cfg->daemon.external_interface), err, errlen);
}

static int kw_port_range(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	if (!strchr(v[0], '-'))
		return fail(err, errlen, "'port-range' needs LOW-HIGH, like 1024-65535");
	return parse_port_range(v[0], &cfg->port_lo, &cfg->port_hi, err, errlen);
}

static int kw_mapping(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_behaviour("mapping", v[0], &cfg->mapping, err, errlen);
}

static int kw_filtering(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_behaviour("filtering", v[0], &cfg->filtering, err, errlen);
}

/* The classic NAT names of RFC 3489 section 5 as RFC 4787 mapping (4.1) and filtering (5)
 * behaviours. A symmetric NAT makes a new mapping per destination address and port and
 * admits only that destination, hence the strictest pair. */
struct nat_type_name {
	const char *name;
	enum napt_behaviour mapping, filtering;
};

static const struct nat_type_name nat_types[] = {
    {"full-cone", NAPT_ENDPOINT_INDEPENDENT, NAPT_ENDPOINT_INDEPENDENT},
    {"restricted-cone", NAPT_ENDPOINT_INDEPENDENT, NAPT_ADDRESS_DEPENDENT},
    {"port-restricted-cone", NAPT_ENDPOINT_INDEPENDENT, NAPT_ADDRESS_AND_PORT_DEPENDENT},
    {"symmetric", NAPT_ADDRESS_AND_PORT_DEPENDENT, NAPT_ADDRESS_AND_PORT_DEPENDENT},
};

static int kw_nat_type(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(nat_types) / sizeof(nat_types[0]); i++) {
		if (strcmp(v[0], nat_types[i].name) == 0) {
			cfg->mapping = nat_types[i].mapping;
			cfg->filtering = nat_types[i].filtering;
			return 0;
		}
	}
	return fail(err, errlen,
		    "'nat-type' takes full-cone, restricted-cone, port-restricted-cone or "
		    "symmetric, not '%s'",
		    v[0]);
}

static int kw_port_preservation(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_yes_no("port-preservation", v[0], &cfg->port_preservation, err, errlen);
}

static int kw_timeout(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	int c = napt_timeout_class_parse(v[0]);

	if (c < 0)
		return fail(err, errlen,
			    "unknown timeout class '%s' (udp, tcp-established, tcp-transitory, "
			    "icmp)",
			    v[0]);
	return parse_number("timeout", v[1], 1, NAPT_MAX_TIMEOUT_S, &cfg->timeout_s[c], err,
			    errlen);
}

static int kw_forward(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	if (cfg->n_forwards == NAPT_MAX_FORWARDS)
		return fail(err, errlen, "too many forwards (at most %d)", NAPT_MAX_FORWARDS);
	if (forward_from_words(&cfg->forwards[cfg->n_forwards], v, err, errlen) < 0)
		return -1;
	cfg->n_forwards++;
	return 0;
}

static int kw_dmz(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	/* "dmz none" lets the daemon's state file undo a DMZ set in the config file. */
	if (strcmp(v[0], "none") == 0) {
		cfg->has_dmz = false;
		cfg->dmz = 0;
		return 0;
	}
	if (parse_addr(v[0], &cfg->dmz) < 0)
		return fail(err, errlen, "'dmz' needs an IPv4 address or none, not '%s'", v[0]);
	cfg->has_dmz = true;
	return 0;
}

static int kw_max_sessions(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_number("max-sessions", v[0], 1, MAX_SESSIONS_LIMIT, &cfg->max_sessions, err,
			    errlen);
}

static int kw_sessions_per_host(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_number("max-sessions-per-host", v[0], 0, MAX_SESSIONS_LIMIT,
			    &cfg->max_sessions_per_host, err, errlen);
}

static int kw_ports_per_host(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_number("ports-per-host", v[0], 0, 65535, &cfg->ports_per_host, err, errlen);
}

static int kw_port_rest(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_number("port-rest", v[0], 0, 3600, &cfg->port_rest_s, err, errlen);
}

/* The external prefix's addresses join the external addresses (those already listed stay
 * where they are), so inbound packets to them are ours. */
static int add_det_externals(struct napt_config *cfg, const struct napt_prefix *p, char *err,
			     size_t errlen)
{
	uint32_t base = ntohl(p->addr);

	if (p->len < 28)
		return fail(err, errlen,
			    "deterministic external prefix /%u is larger than %d addresses", p->len,
			    NAPT_MAX_EXTERNAL);
	for (uint32_t i = 0; i < (1u << (32 - p->len)); i++)
		if (add_external(cfg, htonl(base + i), true, err, errlen) < 0)
			return -1;
	return 0;
}

static int kw_deterministic(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	struct napt_deterministic *d = &cfg->det;

	if (d->on)
		return fail(err, errlen, "'deterministic' is given twice");
	if (parse_prefix("deterministic", v[0], &d->in, err, errlen) < 0 ||
	    parse_prefix("deterministic", v[1], &d->ext, err, errlen) < 0)
		return -1;
	d->on = true;
	return add_det_externals(cfg, &d->ext, err, errlen);
}

static int kw_port_block_size(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_number("port-block-size", v[0], 0, 32768, &cfg->port_block_size, err, errlen);
}

static int kw_deterministic_ports(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_number("deterministic-ports", v[0], 1, 65535, &cfg->det.ports, err, errlen);
}

static int kw_port_parity(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_yes_no("port-parity", v[0], &cfg->port_parity, err, errlen);
}

static int kw_unsolicited_syn(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	static const char *const names[] = {"drop", "rst", "icmp"};

	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(v[0], names[i]) == 0) {
			cfg->unsolicited_syn = (enum napt_unsolicited)i;
			return 0;
		}
	}
	return fail(err, errlen, "'unsolicited-syn' takes drop, rst or icmp, not '%s'", v[0]);
}

/* The smallest clamp: 68-byte MTU (RFC 791) less 40 bytes of headers; the largest: the
 * largest IPv4 packet less the same. */
#define MSS_CLAMP_MIN 28
#define MSS_CLAMP_MAX 65495

static int kw_mss_clamp(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	uint32_t mss;

	cfg->daemon.mss_clamp_auto = strcmp(v[0], "auto") == 0;
	if (cfg->daemon.mss_clamp_auto)
		return 0;
	if (parse_number("mss-clamp", v[0], MSS_CLAMP_MIN, MSS_CLAMP_MAX, &mss, err, errlen) < 0)
		return -1;
	cfg->mss_clamp = (uint16_t)mss;
	return 0;
}

static int kw_mode(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	if (strcmp(v[0], "napt") != 0 && strcmp(v[0], "dynamic") != 0)
		return fail(err, errlen, "'mode' takes napt or dynamic, not '%s'", v[0]);
	cfg->mode = strcmp(v[0], "dynamic") == 0 ? NAPT_MODE_DYNAMIC : NAPT_MODE_NAPT;
	return 0;
}

/* "dynamic-fallback napt|refuse": what mode dynamic does for a host that finds the pool
 * empty (behaviour.md section 20). */
static int kw_dynamic_fallback(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	if (strcmp(v[0], "napt") != 0 && strcmp(v[0], "refuse") != 0)
		return fail(err, errlen, "'dynamic-fallback' takes napt or refuse, not '%s'", v[0]);
	cfg->dynamic_fallback_napt = strcmp(v[0], "napt") == 0;
	return 0;
}

static int kw_refused_flows(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	if (strcmp(v[0], "drop") != 0 && strcmp(v[0], "icmp") != 0)
		return fail(err, errlen, "'refused-flows' takes drop or icmp, not '%s'", v[0]);
	cfg->refused_flows_icmp = strcmp(v[0], "icmp") == 0;
	return 0;
}

static int kw_static(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	struct napt_static st;

	if (parse_addr(v[0], &st.in_addr) < 0 || parse_addr(v[1], &st.ext_addr) < 0)
		return fail(err, errlen,
			    "'static' needs INSIDE-ADDRESS EXTERNAL-ADDRESS, not '%s %s'", v[0],
			    v[1]);
	if (cfg->n_statics == NAPT_MAX_STATIC)
		return fail(err, errlen, "too many 'static' entries (at most %d)", NAPT_MAX_STATIC);
	cfg->statics[cfg->n_statics++] = st;
	return 0;
}

/* "local-service tcp|udp LO[-HI]": a service of the router's own on its WAN address (Easy
 * IP). Port 65535 cannot be named: the kernel refuses ip rules whose dport range ends there. */
static int kw_local_service(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	struct napt_local_service ls;

	if (strcmp(v[0], "tcp") != 0 && strcmp(v[0], "udp") != 0)
		return fail(err, errlen, "'local-service' takes tcp or udp, not '%s'", v[0]);
	ls.protos = v[0][0] == 't' ? NAPT_FWD_TCP : NAPT_FWD_UDP;
	if (parse_port_range(v[1], &ls.lo, &ls.hi, err, errlen) < 0)
		return -1;
	if (ls.hi == 65535)
		return fail(err, errlen, "local-service: port 65535 cannot be steered by ip rules");
	if (cfg->n_local_services == NAPT_MAX_LOCAL)
		return fail(err, errlen, "too many 'local-service' lines (at most %d)",
			    NAPT_MAX_LOCAL);
	cfg->local_services[cfg->n_local_services++] = ls;
	return 0;
}

/* "local-ports LO-HI": net.ipv4.ip_local_port_range while naptd runs in Easy IP mode. */
static int kw_local_ports(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	uint16_t lo, hi;

	if (!strchr(v[0], '-'))
		return fail(err, errlen, "'local-ports' needs LOW-HIGH, like 32768-49151");
	if (parse_port_range(v[0], &lo, &hi, err, errlen) < 0)
		return -1;
	/* The kernel wants at least two ports (ip_local_port_range). */
	if (lo < 1024 || lo >= hi || hi == 65535)
		return fail(err, errlen,
			    "local-ports %s: needs LOW < HIGH within 1024-65534 (the kernel's "
			    "ephemeral range; ip rules cannot match 65535)",
			    v[0]);
	cfg->local_ports_lo = lo;
	cfg->local_ports_hi = hi;
	return 0;
}

/* "pcp-allow|pcp-deny PREFIX LO[-HI]": who may map which external ports through naptd's
 * NAT-PMP/PCP server (src/naptd/pcp_server.c), kept in file order. */
static int add_pcp_rule(struct napt_config *cfg, bool allow, char **v, char *err, size_t errlen)
{
	struct napt_pcp_rule r = {.allow = allow};

	if (parse_prefix(allow ? "pcp-allow" : "pcp-deny", v[0], &r.hosts, err, errlen) < 0 ||
	    parse_port_range(v[1], &r.lo, &r.hi, err, errlen) < 0)
		return -1;
	if (cfg->daemon.n_pcp_rules == NAPT_MAX_PCP_RULES)
		return fail(err, errlen, "too many pcp-allow/pcp-deny lines (at most %d)",
			    NAPT_MAX_PCP_RULES);
	cfg->daemon.pcp_rules[cfg->daemon.n_pcp_rules++] = r;
	return 0;
}

static int kw_pcp_allow(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return add_pcp_rule(cfg, true, v, err, errlen);
}

static int kw_pcp_deny(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return add_pcp_rule(cfg, false, v, err, errlen);
}

static int kw_tun(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return copy_name("tun", v[0], cfg->daemon.tun, sizeof(cfg->daemon.tun), err, errlen);
}

static int kw_lan(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return copy_name("lan-interface", v[0], cfg->daemon.lan_interface,
			 sizeof(cfg->daemon.lan_interface), err, errlen);
}

static int kw_wan(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return copy_name("wan-interface", v[0], cfg->daemon.wan_interface,
			 sizeof(cfg->daemon.wan_interface), err, errlen);
}

static int kw_control(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return copy_name("control", v[0], cfg->daemon.control, sizeof(cfg->daemon.control), err,
			 errlen);
}

static int kw_control_group(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return copy_name("control-group", v[0], cfg->daemon.control_group,
			 sizeof(cfg->daemon.control_group), err, errlen);
}

static int kw_state(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return copy_name("state", v[0], cfg->daemon.state, sizeof(cfg->daemon.state), err, errlen);
}

static int kw_manage_routes(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_yes_no("manage-routes", v[0], &cfg->daemon.manage_routes, err, errlen);
}

static int kw_offload(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_yes_no("offload", v[0], &cfg->daemon.offload, err, errlen);
}

static int kw_coalesce(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_yes_no("coalesce", v[0], &cfg->daemon.coalesce, err, errlen);
}

static int kw_upnp(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_yes_no("upnp", v[0], &cfg->daemon.upnp, err, errlen);
}

static int kw_mtu(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	/* 68: the smallest MTU every IPv4 link must carry (RFC 791). */
	return parse_number("mtu", v[0], 68, 65535, &cfg->daemon.mtu, err, errlen);
}

static int kw_log_mappings(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_yes_no("log-mappings", v[0], &cfg->daemon.log_mappings, err, errlen);
}

/* "ADDR:PORT" of a service naptd offers or talks to: one address, one port. */
static int parse_service(const char *what, const char *s, struct napt_endpoint *ep, char *err,
			 size_t errlen)
{
	char buf[32];
	char *colon;

	if (strlen(s) >= sizeof(buf) || !(colon = strchr(strcpy(buf, s), ':')))
		return fail(err, errlen, "'%s' takes ADDR:PORT, not '%s'", what, s);
	*colon = '\0';
	if (parse_addr(buf, &ep->addr) < 0 || !ep->addr)
		return fail(err, errlen, "%s: bad address '%s'", what, buf);
	return parse_port(colon + 1, &ep->port, err, errlen);
}

static int kw_metrics_listen(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_service("metrics-listen", v[0], &cfg->daemon.metrics_listen, err, errlen);
}

static int kw_ipfix_collector(struct napt_config *cfg, char **v, char *err, size_t errlen)
{
	return parse_service("ipfix-collector", v[0], &cfg->daemon.ipfix_collector, err, errlen);
}

static const struct config_keyword keywords[] = {
    {"inside", 1, "a prefix like 192.168.1.0/24", kw_inside},
    {"external", 1, "an IPv4 address", kw_external},
    {"external", 2, "an IPv4 address or 'interface NAME'", kw_external_interface},
    {"port-range", 1, "LOW-HIGH, like 1024-65535", kw_port_range},
    {"mapping", 1, "a behaviour", kw_mapping},
    {"filtering", 1, "a behaviour", kw_filtering},
    {"nat-type", 1, "a NAT type", kw_nat_type},
    {"port-preservation", 1, "yes or no", kw_port_preservation},
    {"timeout", 2, "a class and seconds, like 'timeout udp 300'", kw_timeout},
    {"forward", 3, FORWARD_USAGE, kw_forward},
    {"dmz", 1, "an IPv4 address or none", kw_dmz},
    {"max-sessions", 1, "a number", kw_max_sessions},
    {"max-sessions-per-host", 1, "a number (0: no limit)", kw_sessions_per_host},
    {"ports-per-host", 1, "a number (0: no limit)", kw_ports_per_host},
    {"port-parity", 1, "yes or no", kw_port_parity},
    {"port-rest", 1, "seconds (0: no rest)", kw_port_rest},
    {"port-block-size", 1, "a number of ports (0: no blocks)", kw_port_block_size},
    {"deterministic", 2, "INSIDE-PREFIX EXTERNAL-PREFIX", kw_deterministic},
    {"deterministic-ports", 1, "a number", kw_deterministic_ports},
    {"unsolicited-syn", 1, "drop, rst or icmp", kw_unsolicited_syn},
    {"mode", 1, "napt or dynamic", kw_mode},
    {"dynamic-fallback", 1, "napt or refuse", kw_dynamic_fallback},
    {"refused-flows", 1, "drop or icmp", kw_refused_flows},
    {"mss-clamp", 1, "auto or a number of bytes, like 1452", kw_mss_clamp},
    {"static", 2, "INSIDE-ADDRESS EXTERNAL-ADDRESS", kw_static},
    {"local-service", 2, "tcp or udp and ports, like 'local-service tcp 22'", kw_local_service},
    {"local-ports", 1, "LOW-HIGH, like 32768-49151", kw_local_ports},
    {"pcp-allow", 2, "a prefix and ports, like 192.168.1.0/24 1024-65535", kw_pcp_allow},
    {"pcp-deny", 2, "a prefix and ports, like 192.168.1.0/24 1-1023", kw_pcp_deny},
    {"tun", 1, "an interface name", kw_tun},
    {"lan-interface", 1, "an interface name", kw_lan},
    {"wan-interface", 1, "an interface name", kw_wan},
    {"control", 1, "a socket path", kw_control},
    {"control-group", 1, "a group name", kw_control_group},
    {"state", 1, "a file path", kw_state},
    {"manage-routes", 1, "yes or no", kw_manage_routes},
    {"offload", 1, "yes or no", kw_offload},
    {"coalesce", 1, "yes or no", kw_coalesce},
    {"upnp", 1, "yes or no", kw_upnp},
    {"mtu", 1, "a number", kw_mtu},
    {"log-mappings", 1, "yes or no", kw_log_mappings},
    {"metrics-listen", 1, "ADDR:PORT, like 192.168.1.1:9108", kw_metrics_listen},
    {"ipfix-collector", 1, "ADDR:PORT, like 192.0.2.5:4739", kw_ipfix_collector},
};

int napt_config_parse_line(struct napt_config *cfg, const char *line, char *err, size_t errlen)
{
	struct config_tokens t;
	const struct config_keyword *kw = NULL;

	if (split_tokens(line, &t, err, errlen) < 0)
		return -1;
	if (t.n == 0)
		return 0;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		/* A keyword with two forms ("external ADDR", "external interface NAME"):
		 * the form with as many values as the line has, else the longest, so the
		 * errors name the words really missing or extra. */
		if (strcmp(t.tok[0], keywords[i].name) == 0 &&
		    (!kw || (kw->n_values != t.n - 1 && keywords[i].n_values > kw->n_values)))
			kw = &keywords[i];
	if (!kw)
		return fail(err, errlen, "unknown keyword '%s'", t.tok[0]);
	if (t.n - 1 < kw->n_values)
		return fail(err, errlen, "'%s' needs %s", kw->name, kw->usage);
	if (t.n - 1 > kw->n_values)
		return fail(err, errlen, "trailing garbage '%s' after '%s'",
			    t.tok[kw->n_values + 1], kw->name);
	return kw->apply(cfg, &t.tok[1], err, errlen);
}

/* ---- whole-file checks ----------------------------------------------------------------- */

/* Which entries a validation error is about, so parse_text can name their lines. */
enum config_item { ITEM_NONE = 0, ITEM_INSIDE, ITEM_EXTERNAL, ITEM_FORWARD, ITEM_DMZ, ITEM_STATIC };

struct config_fault {
	enum config_item item[2];
	unsigned index[2];
};

static void blame(struct config_fault *f, enum config_item a, unsigned ia, enum config_item b,
		  unsigned ib)
{
	if (!f)
		return;
	f->item[0] = a;
	f->index[0] = ia;
	f->item[1] = b;
	f->index[1] = ib;
}

static int inside_index(const struct napt_config *cfg, uint32_t addr)
{
	for (unsigned i = 0; i < cfg->n_inside; i++)
		if ((addr & cfg->inside[i].mask) == cfg->inside[i].addr)
			return (int)i;
	return -1;
}

bool napt_config_inside(const struct napt_config *cfg, uint32_t addr)
{
	return inside_index(cfg, addr) >= 0;
}

bool napt_config_det_external(const struct napt_config *cfg, uint32_t addr)
{
	return cfg->det.on && (addr & cfg->det.ext.mask) == cfg->det.ext.addr;
}

static int prefix_text(const struct napt_prefix *p, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	return snprintf(buf, len, "%s/%u", addr_text(p->addr, a), p->len);
}

/* RFC 4787 REQ-7: the inside and external address spaces must not overlap, or the NAT
 * cannot tell inbound from outbound. */
static int check_external(const struct napt_config *cfg, struct config_fault *f, char *err,
			  size_t errlen)
{
	char a[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN + 4];

	for (unsigned e = 0; e < cfg->n_external; e++) {
		int i = inside_index(cfg, cfg->external[e]);

		if (i < 0)
			continue;
		blame(f, ITEM_EXTERNAL, e, ITEM_INSIDE, (unsigned)i);
		prefix_text(&cfg->inside[i], p, sizeof(p));
		return fail(err, errlen, "external address %s lies inside %s (RFC 4787 REQ-7)",
			    addr_text(cfg->external[e], a), p);
	}
	return 0;
}

static int check_forwards(const struct napt_config *cfg, struct config_fault *f, char *err,
			  size_t errlen)
{
	char a[INET_ADDRSTRLEN], k1[32], k2[32];

	for (unsigned i = 0; i < cfg->n_forwards; i++) {
		const struct napt_forward *fwd = &cfg->forwards[i];

		if (inside_index(cfg, fwd->in_addr) < 0) {
			blame(f, ITEM_FORWARD, i, ITEM_NONE, 0);
			forward_key_text(fwd, k1, sizeof(k1));
			return fail(err, errlen,
				    "forward %s goes to %s, which is in no 'inside' prefix", k1,
				    addr_text(fwd->in_addr, a));
		}
		for (unsigned j = 0; j < i; j++) {
			if (!napt_forward_overlaps(fwd, &cfg->forwards[j]))
				continue;
			blame(f, ITEM_FORWARD, i, ITEM_FORWARD, j);
			forward_key_text(fwd, k1, sizeof(k1));
			forward_key_text(&cfg->forwards[j], k2, sizeof(k2));
			return fail(err, errlen, "forward %s overlaps forward %s", k1, k2);
		}
	}
	return 0;
}

static bool spans_meet(uint16_t a_lo, uint16_t a_hi, uint16_t b_lo, uint16_t b_hi)
{
	return a_lo <= b_hi && b_lo <= a_hi;
}

/* "2222" or "2000-2999". */
static const char *span_text(uint16_t lo, uint16_t hi, char *buf, size_t len)
{
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
	return buf;
}

/* Whether ports lo..hi of protos meet the local service ls; if so err says so, with why. */
static bool hides_service(const struct napt_local_service *ls, uint8_t protos, uint16_t lo,
			  uint16_t hi, const char *why, char *err, size_t errlen)
{
	char a[16], b[16];

	if (!(ls->protos & protos) || !spans_meet(lo, hi, ls->lo, ls->hi))
		return false;
	fail(err, errlen, "port %s would hide local-service %s %s%s",
	     span_text(lo, hi, a, sizeof(a)), ls->protos == NAPT_FWD_TCP ? "tcp" : "udp",
	     span_text(ls->lo, ls->hi, b, sizeof(b)), why);
	return true;
}

bool napt_config_hides_local(const struct napt_config *cfg, uint8_t protos, uint16_t lo,
			     uint16_t hi, char *err, size_t errlen)
{
	static const struct napt_local_service dhcp = {NAPT_FWD_UDP, NAPT_DHCP_CLIENT_PORT,
						       NAPT_DHCP_CLIENT_PORT};
	for (unsigned i = 0; i < cfg->n_local_services; i++)
		if (hides_service(&cfg->local_services[i], protos, lo, hi, "", err, errlen))
			return true;
	if (cfg->daemon.external_interface[0] &&
	    hides_service(&dhcp, protos, lo, hi, " (the router's DHCP client)", err, errlen))
		return true;
	if (cfg->local_ports_lo && spans_meet(lo, hi, cfg->local_ports_lo, cfg->local_ports_hi)) {
		char a[16];

		fail(err, errlen,
		     "port %s overlaps local-ports %u-%u (the router's own connections)",
		     span_text(lo, hi, a, sizeof(a)), cfg->local_ports_lo, cfg->local_ports_hi);
		return true;
	}
	return false;
}

/* Easy IP's own ports: only with "external interface", never in naptd's port-range (its
 * mappings would take them), never behind a forward (forward a port that no local-service
 * names, or drop the local-service). */
static int check_local(const struct napt_config *cfg, struct config_fault *f, char *err,
		       size_t errlen)
{
	char why[160], k[32];

	if (!cfg->daemon.external_interface[0] && (cfg->n_local_services || cfg->local_ports_lo))
		return fail(err, errlen,
			    "local-service and local-ports need 'external interface': other "
			    "external addresses are naptd's alone");
	if (napt_config_hides_local(cfg, NAPT_FWD_TCP | NAPT_FWD_UDP, cfg->port_lo, cfg->port_hi,
				    why, sizeof(why)))
		return fail(err, errlen, "port-range: %s", why);
	for (unsigned i = 0; i < cfg->n_forwards; i++) {
		const struct napt_forward *fwd = &cfg->forwards[i];

		if (!napt_config_hides_local(cfg, fwd->protos, fwd->ext_lo, fwd->ext_hi, why,
					     sizeof(why)))
			continue;
		blame(f, ITEM_FORWARD, i, ITEM_NONE, 0);
		forward_key_text(fwd, k, sizeof(k));
		return fail(err, errlen, "forward %s refused: %s", k, why);
	}
	return 0;
}

static bool is_external(const struct napt_config *cfg, uint32_t addr)
{
	for (unsigned e = 0; e < cfg->n_external; e++)
		if (cfg->external[e] == addr)
			return true;
	return false;
}

/* One-to-one NAT: the inside host must be inside, its external address outside (REQ-7
 * again) and its own: shared with the NAPT pool or another static host, inbound packets
 * could not be told apart. */
static int check_statics(const struct napt_config *cfg, struct config_fault *f, char *err,
			 size_t errlen)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	for (unsigned i = 0; i < cfg->n_statics; i++) {
		const struct napt_static *st = &cfg->statics[i];

		blame(f, ITEM_STATIC, i, ITEM_NONE, 0);
		addr_text(st->in_addr, a);
		addr_text(st->ext_addr, b);
		if (inside_index(cfg, st->in_addr) < 0)
			return fail(err, errlen, "static %s %s: %s is in no 'inside' prefix", a, b,
				    a);
		if (inside_index(cfg, st->ext_addr) >= 0)
			return fail(
			    err, errlen,
			    "static %s %s: %s lies inside an 'inside' prefix (RFC 4787 REQ-7)", a,
			    b, b);
		if (is_external(cfg, st->ext_addr))
			return fail(err, errlen,
				    "static %s %s: %s is also an 'external' address of the pool", a,
				    b, b);
		for (unsigned j = 0; j < i; j++) {
			if (cfg->statics[j].in_addr != st->in_addr &&
			    cfg->statics[j].ext_addr != st->ext_addr)
				continue;
			blame(f, ITEM_STATIC, i, ITEM_STATIC, j);
			return fail(err, errlen, "static %s %s: address used by another 'static'",
				    a, b);
		}
	}
	blame(f, ITEM_NONE, 0, ITEM_NONE, 0);
	return 0;
}

/* The deterministic inside prefix lies within one inside prefix, and its hosts fit. */
static int check_deterministic(const struct napt_config *cfg, char *err, size_t errlen)
{
	const struct napt_deterministic *d = &cfg->det;
	struct det_layout layout;
	int i;

	if (!d->on)
		return d->ports ? fail(err, errlen, "'deterministic-ports' without 'deterministic'")
				: 0;
	i = inside_index(cfg, d->in.addr);
	if (i < 0 || cfg->inside[i].len > d->in.len)
		return fail(err, errlen,
			    "the deterministic inside prefix is not within an 'inside' "
			    "prefix");
	return det_layout_make(cfg, &layout, err, errlen);
}

/* Dynamic NAT binds whole addresses and translates no port: the keys that need a shared
 * address or port translation do not work with it (docs/config.md, Keys that do not go
 * together). */
static int check_mode(const struct napt_config *cfg, char *err, size_t errlen)
{
	const char *what = NULL;

	if (cfg->mode != NAPT_MODE_DYNAMIC)
		return cfg->dynamic_fallback_napt
			   ? fail(err, errlen,
				  "'dynamic-fallback napt' needs 'mode dynamic' (NAPT shares the "
				  "pool already)")
			   : 0;
	if (cfg->mapping != NAPT_ENDPOINT_INDEPENDENT)
		what = "'mapping' other than endpoint-independent (a host's address is the same "
		       "towards every remote endpoint)";
	else if (cfg->n_forwards)
		what = "'forward' (the addresses belong to the hosts that hold them)";
	else if (cfg->has_dmz)
		what = "'dmz' (the addresses belong to the hosts that hold them)";
	else if (cfg->daemon.external_interface[0])
		what = "'external interface' (Easy IP shares one address by port translation)";
	else if (cfg->port_block_size || cfg->det.on)
		what = "'port-block-size' or 'deterministic' (dynamic NAT translates no port)";
	else if (cfg->daemon.n_pcp_rules)
		what = "'pcp-allow' or 'pcp-deny' (NAT-PMP/PCP map external ports of a shared "
		       "address)";
	if (!what)
		return 0;
	return fail(err, errlen, "'mode dynamic' does not go with %s", what);
}

static int validate(const struct napt_config *cfg, struct config_fault *f, char *err, size_t errlen)
{
	blame(f, ITEM_NONE, 0, ITEM_NONE, 0);
	if (cfg->n_inside == 0)
		return fail(err, errlen, "no 'inside' prefix: at least one is needed");
	/* With "external interface" the daemon adds the interface's address at start. */
	if (cfg->n_external == 0 && !cfg->daemon.external_interface[0])
		return fail(err, errlen, "no 'external' address: at least one is needed");
	if (cfg->daemon.external_interface[0] && cfg->port_hi == 65535)
		return fail(err, errlen,
			    "with 'external interface' the port-range ends at 65534 at most: ip "
			    "rules cannot match port 65535");
	if (cfg->daemon.mss_clamp_auto && !cfg->daemon.wan_interface[0] &&
	    !cfg->daemon.external_interface[0])
		return fail(err, errlen,
			    "'mss-clamp auto' reads the WAN link's MTU: it needs 'wan-interface' "
			    "or 'external interface'");
	if (cfg->daemon.upnp && !cfg->daemon.n_pcp_rules)
		return fail(err, errlen,
			    "'upnp yes' serves the hosts a 'pcp-allow' line names: there is none");
	if (check_mode(cfg, err, errlen) < 0 || check_external(cfg, f, err, errlen) < 0 ||
	    check_forwards(cfg, f, err, errlen) < 0 || check_statics(cfg, f, err, errlen) < 0 ||
	    check_local(cfg, f, err, errlen) < 0 || check_deterministic(cfg, err, errlen) < 0)
		return -1;
	if (cfg->port_block_size > (uint32_t)cfg->port_hi - cfg->port_lo + 1)
		return fail(err, errlen, "port-block-size %u is larger than the port-range",
			    cfg->port_block_size);
	if (cfg->has_dmz && inside_index(cfg, cfg->dmz) < 0) {
		char a[INET_ADDRSTRLEN];

		blame(f, ITEM_DMZ, 0, ITEM_NONE, 0);
		return fail(err, errlen, "dmz host %s is in no 'inside' prefix",
			    addr_text(cfg->dmz, a));
	}
	return 0;
}

int napt_config_validate(const struct napt_config *cfg, char *err, size_t errlen)
{
	return validate(cfg, NULL, err, errlen);
}

/* ---- whole text ------------------------------------------------------------------------ */

/* The line each list entry came from, for messages about whole-file checks. */
struct config_lines {
	unsigned inside[NAPT_MAX_INSIDE];
	unsigned external[NAPT_MAX_EXTERNAL];
	unsigned forwards[NAPT_MAX_FORWARDS];
	unsigned statics[NAPT_MAX_STATIC];
	unsigned dmz;
};

/* What a line may add to the lists, taken before it is applied. */
struct config_counts {
	unsigned n_inside, n_external, n_forwards, n_statics;
	bool has_dmz;
	uint32_t dmz;
};

static struct config_counts counts_of(const struct napt_config *cfg)
{
	return (struct config_counts){cfg->n_inside,  cfg->n_external, cfg->n_forwards,
				      cfg->n_statics, cfg->has_dmz,    cfg->dmz};
}

static void note_lines(const struct config_counts *before, const struct napt_config *cfg,
		       struct config_lines *lines, unsigned lineno)
{
	if (cfg->n_inside != before->n_inside)
		lines->inside[cfg->n_inside - 1] = lineno;
	if (cfg->n_external != before->n_external)
		lines->external[cfg->n_external - 1] = lineno;
	if (cfg->n_forwards != before->n_forwards)
		lines->forwards[cfg->n_forwards - 1] = lineno;
	if (cfg->n_statics != before->n_statics)
		lines->statics[cfg->n_statics - 1] = lineno;
	if (cfg->has_dmz != before->has_dmz || cfg->dmz != before->dmz)
		lines->dmz = lineno;
}

static unsigned item_line(const struct config_lines *lines, enum config_item item, unsigned i)
{
	switch (item) {
	case ITEM_INSIDE:
		return lines->inside[i];
	case ITEM_EXTERNAL:
		return lines->external[i];
	case ITEM_FORWARD:
		return lines->forwards[i];
	case ITEM_DMZ:
		return lines->dmz;
	case ITEM_STATIC:
		return lines->statics[i];
	default:
		return 0;
	}
}

static unsigned fault_line(const struct config_lines *lines, const struct config_fault *f)
{
	unsigned a = item_line(lines, f->item[0], f->index[0]);
	unsigned b = item_line(lines, f->item[1], f->index[1]);

	return a > b ? a : b;
}

/* Copies the next line of text into buf; returns a pointer past it, or NULL at the end. */
static const char *next_line(const char *text, char *buf, size_t cap, bool *too_long)
{
	size_t n = strcspn(text, "\n");

	if (*text == '\0')
		return NULL;
	*too_long = n >= cap;
	if (!*too_long) {
		memcpy(buf, text, n);
		buf[n] = '\0';
	}
	return text[n] == '\n' ? text + n + 1 : text + n;
}

static int parse_lines(struct napt_config *cfg, const char *text, const char *name,
		       struct config_lines *lines, char *err, size_t errlen)
{
	struct config_counts before;
	char line[MAX_LINE], why[256];
	unsigned lineno = 0;
	bool too_long;

	while ((text = next_line(text, line, sizeof(line), &too_long)) != NULL) {
		lineno++;
		if (too_long)
			return fail(err, errlen, "%s:%u: line longer than %d characters", name,
				    lineno, MAX_LINE - 1);
		before = counts_of(cfg);
		if (napt_config_parse_line(cfg, line, why, sizeof(why)) < 0)
			return fail(err, errlen, "%s:%u: %s", name, lineno, why);
		note_lines(&before, cfg, lines, lineno);
	}
	return 0;
}

int napt_config_parse_text(struct napt_config *cfg, const char *text, const char *name, char *err,
			   size_t errlen)
{
	struct config_lines lines;
	struct config_fault f;
	char why[256];
	unsigned lineno;

	napt_config_defaults(cfg);
	memset(&lines, 0, sizeof(lines));
	if (parse_lines(cfg, text, name, &lines, err, errlen) < 0)
		return -1;
	if (validate(cfg, &f, why, sizeof(why)) == 0)
		return 0;
	lineno = fault_line(&lines, &f);
	if (lineno == 0)
		return fail(err, errlen, "%s: %s", name, why);
	return fail(err, errlen, "%s:%u: %s", name, lineno, why);
}
