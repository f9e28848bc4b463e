/* SPDX-License-Identifier: BSD-2-Clause */
/* upnp_actions.h - the UPnP IGD WANIPConnection actions (IGD:1 and IGD:2): their SOAP
 * arguments checked and turned into a call (upnp_call_parse, in the library's thread, no
 * state touched), and the call run against the NAT-PMP/PCP lease store (upnp_call_run, in
 * the event loop only).
 *
 * Rules (docs/home-router.md, "UPnP IGD"): a host maps only to itself (NewInternalClient
 * must be the requester, else 606 "Action not authorized"); NewRemoteHost must be empty
 * (726: forwards do not filter by peer); NewLeaseDuration 0 (IGD:1's "infinite") and any
 * duration above a day are granted a day, as PCP's lifetimes are (RFC 6887 section 15):
 * clients renew. NewPortMappingDescription is kept with the lease (runtime_desc_set: at
 * most 64 printable characters) and answered by the Get*PortMappingEntry actions. The
 * pcp-allow/pcp-deny rules and the per-host rate of pcp_server.c apply.
 */
#ifndef UPNP_ACTIONS_H
#define UPNP_ACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime_state.h"

struct naptd;

enum upnp_action {
	UPNP_GET_EXTERNAL_IP,
	UPNP_GET_STATUS,
	UPNP_ADD,
	UPNP_ADD_ANY,
	UPNP_DELETE,
	UPNP_GET_GENERIC,
	UPNP_GET_SPECIFIC,
};

/* UPnP error codes (UPnP Device Architecture 1.1 section 3.2.2, WANIPConnection:2 section
 * 2.5) this server answers. */
enum upnp_error {
	UPNP_ERR_NONE = 0,
	UPNP_ERR_INVALID_ACTION = 401,
	UPNP_ERR_INVALID_ARGS = 402,
	UPNP_ERR_ACTION_FAILED = 501,
	UPNP_ERR_NOT_AUTHORIZED = 606,
	UPNP_ERR_ARRAY_INDEX_INVALID = 713,
	UPNP_ERR_NO_SUCH_ENTRY = 714,
	UPNP_ERR_WILDCARD_EXT_PORT = 716,
	UPNP_ERR_CONFLICT = 718,
	UPNP_ERR_REMOTE_HOST_WILDCARD = 726,
	UPNP_ERR_NO_PORT_MAPS = 728,
};

/* One request, checked. */
struct upnp_call {
	enum upnp_action action;
	uint32_t client; /* network order: the requester */
	uint8_t protos;  /* NAPT_FWD_TCP or NAPT_FWD_UDP */
	uint16_t ext_port, in_port;
	uint32_t lifetime;               /* seconds, 0 never (IGD:1's 0 is granted the maximum) */
	uint32_t index;                  /* GetGenericPortMappingEntry */
	char desc[RUNTIME_DESC_MAX + 1]; /* NewPortMappingDescription, as a lease keeps it */
};

/* Its answer's values. */
struct upnp_answer {
	enum upnp_error error;
	uint32_t ext_addr, in_addr; /* network order */
	uint8_t protos;
	uint16_t ext_port, in_port;
	uint32_t lifetime; /* seconds left */
	uint64_t uptime_s;
	char desc[RUNTIME_DESC_MAX + 1];
};

/* An argument's text by name, NULL when the request has none. */
typedef const char *upnp_arg_fn(void *ctx, const char *name);

/* Checks action's arguments (read through arg) and fills c. Returns UPNP_ERR_NONE, or the
 * error to answer. Touches no state: called in the library's thread. */
enum upnp_error upnp_call_parse(const char *action, upnp_arg_fn *arg, void *ctx, uint32_t client,
				struct upnp_call *c);

/* Runs c in the event loop against d's leases (d->pcp is never NULL with upnp yes). */
void upnp_call_run(struct naptd *d, const struct upnp_call *c, struct upnp_answer *a);

/* The answer's arguments, in the order the action's description lists them: name i and
 * its text in val (cap bytes). Returns the name, NULL past the last. */
const char *upnp_answer_arg(const struct upnp_call *c, const struct upnp_answer *a, unsigned i,
			    char *val, size_t cap);

#endif
