/* SPDX-License-Identifier: BSD-2-Clause */
/* upnp_actions.c - WANIPConnection's actions: arguments checked, calls run on the leases. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "naptd.h"
#include "pcp_server.h"
#include "upnp_actions.h"

/* The answer's arguments per action (WANIPConnection:2 section 2.4). */
static const char *const out_none[] = {NULL};
static const char *const out_ext_ip[] = {"NewExternalIPAddress", NULL};
static const char *const out_status[] = {"NewConnectionStatus", "NewLastConnectionError",
					 "NewUptime", NULL};
static const char *const out_reserved[] = {"NewReservedPort", NULL};
static const char *const out_generic[] = {"NewRemoteHost",
					  "NewExternalPort",
					  "NewProtocol",
					  "NewInternalPort",
					  "NewInternalClient",
					  "NewEnabled",
					  "NewPortMappingDescription",
					  "NewLeaseDuration",
					  NULL};
static const char *const out_specific[] = {"NewInternalPort",  "NewInternalClient",
					   "NewEnabled",       "NewPortMappingDescription",
					   "NewLeaseDuration", NULL};

static const struct action_def {
	const char *name;
	enum upnp_action action;
	const char *const *out;
} actions[] = {
    {"GetExternalIPAddress", UPNP_GET_EXTERNAL_IP, out_ext_ip},
    {"GetStatusInfo", UPNP_GET_STATUS, out_status},
    {"AddPortMapping", UPNP_ADD, out_none},
    {"AddAnyPortMapping", UPNP_ADD_ANY, out_reserved},
    {"DeletePortMapping", UPNP_DELETE, out_none},
    {"GetGenericPortMappingEntry", UPNP_GET_GENERIC, out_generic},
    {"GetSpecificPortMappingEntry", UPNP_GET_SPECIFIC, out_specific},
};

/* ---- arguments ---- */

/* An unsigned decimal of at most 10 digits and no more than max; nothing else. */
static bool parse_uint(const char *t, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	if (!t || !t[0])
		return false;
	for (; t[n]; n++) {
		if (t[n] < '0' || t[n] > '9' || n == 10)
			return false;
		v = v * 10 + (uint64_t)(t[n] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static enum upnp_error parse_port(upnp_arg_fn *arg, void *ctx, const char *name, uint16_t *port)
{
	uint32_t v;

	if (!parse_uint(arg(ctx, name), 65535, &v))
		return UPNP_ERR_INVALID_ARGS;
	*port = (uint16_t)v;
	return UPNP_ERR_NONE;
}

/* NewProtocol is "TCP" or "UDP" (WANIPConnection:2 section 2.2.17). */
static enum upnp_error parse_protocol(upnp_arg_fn *arg, void *ctx, uint8_t *protos)
{
	const char *t = arg(ctx, "NewProtocol");

	if (t && strcmp(t, "TCP") == 0)
		*protos = NAPT_FWD_TCP;
	else if (t && strcmp(t, "UDP") == 0)
		*protos = NAPT_FWD_UDP;
	else
		return UPNP_ERR_INVALID_ARGS;
	return UPNP_ERR_NONE;
}

/* The empty NewRemoteHost is the wildcard; a forward cannot be limited to one peer. */
static enum upnp_error parse_remote_host(upnp_arg_fn *arg, void *ctx)
{
	const char *t = arg(ctx, "NewRemoteHost");

	return t && t[0] ? UPNP_ERR_REMOTE_HOST_WILDCARD : UPNP_ERR_NONE;
}

/* The entry's key: NewRemoteHost, NewExternalPort, NewProtocol. */
static enum upnp_error parse_entry(upnp_arg_fn *arg, void *ctx, struct upnp_call *c)
{
	enum upnp_error e = parse_remote_host(arg, ctx);

	if (e == UPNP_ERR_NONE)
		e = parse_port(arg, ctx, "NewExternalPort", &c->ext_port);
	if (e == UPNP_ERR_NONE)
		e = parse_protocol(arg, ctx, &c->protos);
	return e;
}

/* A host maps only to itself: NewInternalClient must be the requester's own address. */
static enum upnp_error parse_client(upnp_arg_fn *arg, void *ctx, uint32_t client)
{
	const char *t = arg(ctx, "NewInternalClient");
	struct in_addr a;

	if (!t || inet_pton(AF_INET, t, &a) != 1)
		return UPNP_ERR_INVALID_ARGS;
	return a.s_addr == client ? UPNP_ERR_NONE : UPNP_ERR_NOT_AUTHORIZED;
}

/* NewEnabled: a boolean (UDA 1.1 section 2.5); a disabled mapping is not kept. */
static enum upnp_error parse_enabled(upnp_arg_fn *arg, void *ctx)
{
	const char *t = arg(ctx, "NewEnabled");

	if (t && (strcmp(t, "1") == 0 || strcmp(t, "true") == 0 || strcmp(t, "yes") == 0))
		return UPNP_ERR_NONE;
	return UPNP_ERR_INVALID_ARGS;
}

/* AddPortMapping and AddAnyPortMapping: the same arguments. */
static enum upnp_error parse_add(upnp_arg_fn *arg, void *ctx, struct upnp_call *c)
{
	enum upnp_error e = parse_entry(arg, ctx, c);
	uint32_t lifetime;

	if (e == UPNP_ERR_NONE)
		e = parse_port(arg, ctx, "NewInternalPort", &c->in_port);
	if (e == UPNP_ERR_NONE && c->in_port == 0)
		e = UPNP_ERR_INVALID_ARGS;
	if (e == UPNP_ERR_NONE)
		e = parse_client(arg, ctx, c->client);
	if (e == UPNP_ERR_NONE)
		e = parse_enabled(arg, ctx);
	if (e == UPNP_ERR_NONE && !parse_uint(arg(ctx, "NewLeaseDuration"), UINT32_MAX, &lifetime))
		e = UPNP_ERR_INVALID_ARGS;
	/* IGD:2 section 2.3.18: port 0 is no wildcard for AddPortMapping (716). */
	if (e == UPNP_ERR_NONE && c->action == UPNP_ADD && c->ext_port == 0)
		e = UPNP_ERR_WILDCARD_EXT_PORT;
	/* IGD:1's 0 ("infinite") gets the longest lifetime pcp_server grants, as any long ask. */
	c->lifetime = lifetime ? lifetime : UINT32_MAX;
	runtime_desc_set(c->desc, arg(ctx, "NewPortMappingDescription"));
	return e;
}

static const struct action_def *find_action(const char *name)
{
	for (size_t i = 0; name && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

enum upnp_error upnp_call_parse(const char *action, upnp_arg_fn *arg, void *ctx, uint32_t client,
				struct upnp_call *c)
{
	const struct action_def *def = find_action(action);
	uint32_t index;

	*c = (struct upnp_call){.client = client};
	if (!def)
		return UPNP_ERR_INVALID_ACTION;
	c->action = def->action;
	switch (def->action) {
	case UPNP_ADD:
	case UPNP_ADD_ANY:
		return parse_add(arg, ctx, c);
	case UPNP_DELETE:
	case UPNP_GET_SPECIFIC:
		return parse_entry(arg, ctx, c);
	case UPNP_GET_GENERIC:
		if (!parse_uint(arg(ctx, "NewPortMappingIndex"), 65535, &index))
			return UPNP_ERR_INVALID_ARGS;
		c->index = index;
		return UPNP_ERR_NONE;
	default:
		return UPNP_ERR_NONE;
	}
}

/* ---- running a call (event loop) ---- */

/* The lease on (protos, ext_port), -1 for none. */
static int lease_on(const struct runtime_state *st, uint8_t protos, uint16_t ext_port)
{
	for (unsigned i = 0; i < st->n_leases; i++)
		if (st->leases[i].fwd.protos == protos && st->leases[i].fwd.ext_lo == ext_port)
			return (int)i;
	return -1;
}

static void describe_lease(const struct runtime_lease *l, struct upnp_answer *a)
{
	int64_t left = l->expires - (int64_t)time(NULL);

	a->protos = l->fwd.protos;
	a->ext_port = l->fwd.ext_lo;
	a->in_addr = l->fwd.in_addr;
	a->in_port = l->fwd.in_lo;
	a->lifetime = left > 0 ? (uint32_t)left : 0;
	memcpy(a->desc, l->desc, sizeof(a->desc));
}

static enum upnp_error outcome_error(enum map_outcome o)
{
	static const enum upnp_error errors[] = {
	    [MAP_OK] = UPNP_ERR_NONE,
	    [MAP_DENIED] = UPNP_ERR_NOT_AUTHORIZED,
	    [MAP_NONCE_MISMATCH] = UPNP_ERR_NOT_AUTHORIZED, /* a PCP client's mapping */
	    [MAP_NO_RESOURCES] = UPNP_ERR_NO_PORT_MAPS,
	    [MAP_CANNOT_PROVIDE] = UPNP_ERR_CONFLICT,
	    [MAP_MALFORMED] = UPNP_ERR_INVALID_ARGS,
	    [MAP_LIMITED] = UPNP_ERR_ACTION_FAILED,
	    [MAP_EXCESSIVE] = UPNP_ERR_ACTION_FAILED, /* never: UPnP carries no filters */
	};
	return errors[o];
}

/* AddPortMapping (the port asked or 718) and AddAnyPortMapping (a port near it). A host's
 * second ask for the same internal port renews its lease (RFC 6886 section 3.3). */
static enum upnp_error run_add(struct naptd *d, const struct upnp_call *c, struct upnp_answer *a)
{
	const struct runtime_state *st = &d->runtime;
	int i = lease_on(st, c->protos, c->ext_port);
	struct map_request q = {.client = c->client,
				.protos = c->protos,
				.in_port = c->in_port,
				.want_port = c->ext_port,
				.lifetime = c->lifetime,
				.prefer_failure = c->action == UPNP_ADD,
				.upnp = true,
				.desc = c->desc};
	struct map_grant g;
	enum map_outcome o;

	if (c->action == UPNP_ADD && i >= 0 &&
	    (st->leases[i].fwd.in_addr != c->client || st->leases[i].fwd.in_lo != c->in_port))
		return UPNP_ERR_CONFLICT;
	o = pcp_server_map(d->pcp, &q, &g);
	if (o != MAP_OK)
		return outcome_error(o);
	/* The host's lease of this internal port is on another external port. */
	if (c->action == UPNP_ADD && g.ext_port != c->ext_port)
		return UPNP_ERR_CONFLICT;
	a->ext_port = g.ext_port;
	return UPNP_ERR_NONE;
}

/* Only the host a mapping forwards to may delete it. */
static enum upnp_error run_delete(struct naptd *d, const struct upnp_call *c)
{
	int i = lease_on(&d->runtime, c->protos, c->ext_port);
	struct map_request q = {.client = c->client, .protos = c->protos, .upnp = true};
	struct map_grant g;

	if (i < 0)
		return UPNP_ERR_NO_SUCH_ENTRY;
	if (d->runtime.leases[i].fwd.in_addr != c->client)
		return UPNP_ERR_NOT_AUTHORIZED;
	q.in_port = d->runtime.leases[i].fwd.in_lo;
	return outcome_error(pcp_server_map(d->pcp, &q, &g));
}

static enum upnp_error run_get(struct naptd *d, const struct upnp_call *c, struct upnp_answer *a)
{
	int i = c->action == UPNP_GET_GENERIC
		    ? (c->index < d->runtime.n_leases ? (int)c->index : -1)
		    : lease_on(&d->runtime, c->protos, c->ext_port);

	if (i < 0)
		return c->action == UPNP_GET_GENERIC ? UPNP_ERR_ARRAY_INDEX_INVALID
						     : UPNP_ERR_NO_SUCH_ENTRY;
	describe_lease(&d->runtime.leases[i], a);
	return UPNP_ERR_NONE;
}

void upnp_call_run(struct naptd *d, const struct upnp_call *c, struct upnp_answer *a)
{
	*a = (struct upnp_answer){.ext_addr = pcp_server_external_of(d->pcp, c->client),
				  .uptime_s = (naptd_now_ms() - d->started_ms) / 1000};
	/* The loop reads the config and the rules (a reload changes them): only inside hosts
	 * that a pcp-allow line names are served. */
	if (!napt_config_inside(napt_get_config(d->nat), c->client) ||
	    !pcp_server_serves(d->pcp, c->client)) {
		a->error = UPNP_ERR_NOT_AUTHORIZED;
		return;
	}
	switch (c->action) {
	case UPNP_ADD:
	case UPNP_ADD_ANY:
		a->error = run_add(d, c, a);
		break;
	case UPNP_DELETE:
		a->error = run_delete(d, c);
		break;
	case UPNP_GET_GENERIC:
	case UPNP_GET_SPECIFIC:
		a->error = run_get(d, c, a);
		break;
	default:
		break;
	}
}

/* ---- the answer ---- */

static void format_addr(uint32_t addr, char *val, size_t cap)
{
	struct in_addr in = {.s_addr = addr};

	if (!inet_ntop(AF_INET, &in, val, (socklen_t)cap))
		val[0] = '\0';
}

/* name's value, by its name (the names are WANIPConnection:2's, section 2.2). */
static void answer_value(const char *name, const struct upnp_answer *a, char *val, size_t cap)
{
	if (strcmp(name, "NewExternalIPAddress") == 0)
		format_addr(a->ext_addr, val, cap);
	else if (strcmp(name, "NewInternalClient") == 0)
		format_addr(a->in_addr, val, cap);
	else if (strcmp(name, "NewConnectionStatus") == 0)
		snprintf(val, cap, "Connected");
	else if (strcmp(name, "NewLastConnectionError") == 0)
		snprintf(val, cap, "ERROR_NONE");
	else if (strcmp(name, "NewUptime") == 0)
		snprintf(val, cap, "%llu", (unsigned long long)a->uptime_s);
	else if (strcmp(name, "NewReservedPort") == 0 || strcmp(name, "NewExternalPort") == 0)
		snprintf(val, cap, "%u", a->ext_port);
	else if (strcmp(name, "NewInternalPort") == 0)
		snprintf(val, cap, "%u", a->in_port);
	else if (strcmp(name, "NewProtocol") == 0)
		snprintf(val, cap, "%s", a->protos == NAPT_FWD_TCP ? "TCP" : "UDP");
	else if (strcmp(name, "NewEnabled") == 0)
		snprintf(val, cap, "1");
	else if (strcmp(name, "NewLeaseDuration") == 0)
		snprintf(val, cap, "%u", a->lifetime);
	else if (strcmp(name, "NewPortMappingDescription") == 0)
		snprintf(val, cap, "%s", a->desc);
	else /* NewRemoteHost: the wildcard */
		val[0] = '\0';
}

const char *upnp_answer_arg(const struct upnp_call *c, const struct upnp_answer *a, unsigned i,
			    char *val, size_t cap)
{
	const char *const *out = out_none;

	for (size_t k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
		if (actions[k].action == c->action)
			out = actions[k].out;
	for (unsigned k = 0; k < i; k++)
		if (!out[k])
			return NULL;
	if (out[i])
		answer_value(out[i], a, val, cap);
	return out[i];
}
