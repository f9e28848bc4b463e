/* SPDX-License-Identifier: BSD-2-Clause */
/* pcp_server.h - NAT-PMP (RFC 6886) and PCP (RFC 6887: ANNOUNCE, MAP and PEER) on UDP port
 * 5351 of the lan-interface's IPv4 addresses: an inside host opens a forward to itself for a
 * lifetime (MAP), or has the session of one of its flows made or kept (PEER, napt_peer()).
 *
 * A mapping is a run-time forward with an end of life (struct runtime_lease): it shows in
 * "naptctl show forwards" with the seconds it has left, ends on time, and is kept in the
 * state file, so it survives a restart; the epoch goes on counting from the state's
 * "pcp-epoch" then (RFC 6887 section 8.5: it starts again only when the mappings are lost).
 * Who may map which external ports: the config file's "pcp-allow PREFIX LO-HI" and "pcp-deny
 * PREFIX LO-HI" lines (napt_daemon_settings.pcp_rules), as miniupnpd's allow/deny lists: the
 * first line whose prefix holds the host and whose range holds the port decides, none
 * refuses; a host no pcp-allow line names is refused outright. A reload applies new rules at
 * once. A host maps only to itself (RFC 6887 section 8.1: the client address
 * must be the request's source; THIRD_PARTY is not supported: refused). PCP FILTER options
 * (RFC 6887 section 13.3, at most NAPT_FWD_MAX_FILTERS a mapping) are kept with the lease and
 * enforced by the engine (napt_forward_filter): only the remotes they name open sessions.
 * Only datagrams that came in on lan-interface (IP_PKTINFO) from an inside address are
 * answered: Linux takes a datagram for the LAN address on any interface. A host gets 10
 * mapping requests a second; each costs a few hash lookups whatever the table's size, and
 * the leases reach the state file at most every 250 ms, through a writer thread
 * (runtime_state.h), so requests never hold up the packets.
 *
 * The sockets and two timers (lease expiry and writes, the announcement series) sit behind
 * one inner epoll fd, as with the control server.
 */
#ifndef PCP_SERVER_H
#define PCP_SERVER_H

#include <stddef.h>

#include "naptd.h"

#define PCP_SERVER_PORT 5351 /* RFC 6886 section 3, RFC 6887 section 19.1 */

struct pcp_server;

/* What the shared mapping logic decided, in terms every protocol can say (NAT-PMP, PCP, and
 * UPnP IGD, upnp_igd.h, which asks through pcp_server_map). */
enum map_outcome {
	MAP_OK = 0,
	MAP_DENIED,         /* the access rules refuse */
	MAP_NONCE_MISMATCH, /* PCP: another client's mapping (RFC 6887 section 11.3) */
	MAP_NO_RESOURCES,   /* no port free */
	MAP_CANNOT_PROVIDE, /* PREFER_FAILURE and the suggested port is not free */
	MAP_MALFORMED,      /* internal port 0 with a lifetime: only a deletion names port 0 */
	MAP_LIMITED,        /* over the host's HOST_MAPS_PER_S */
	MAP_EXCESSIVE,      /* a renewal's FILTER options would make more than the lease holds */
};

/* One mapping request, from any of the protocols. */
struct map_request {
	uint32_t client; /* network order: the request's source */
	uint8_t protos;  /* NAPT_FWD_TCP or NAPT_FWD_UDP */
	uint16_t in_port, want_port;
	uint32_t lifetime;    /* 0 deletes */
	const uint8_t *nonce; /* PCP; NULL for NAT-PMP and UPnP */
	bool prefer_failure;  /* want_port or nothing (PCP's option; UPnP's AddPortMapping) */
	bool upnp;            /* a new lease is shown with origin "upnp" */
	/* PCP's FILTER options (RFC 6887 section 13.3): remote peers the lease is to admit (all
	 * while it has none). A renewal's are added to the lease's ("There is no mechanism to
	 * remove a specific filter"); a prefix length 0 option ("remove all existing filters")
	 * sets clear_filters. NAT-PMP and UPnP carry none and keep the lease's. */
	const struct napt_peer_filter *filters;
	unsigned n_filters;
	bool clear_filters;
	const char *desc; /* UPnP's description (runtime_desc_set); NULL keeps the lease's */
};

struct map_grant {
	uint16_t ext_port;
	uint32_t lifetime;
};

/* Without a pcp-allow line in d->file_cfg: 0 and *out NULL (no server). Else binds the
 * sockets, drops leases that ended while naptd was down, and announces the (re)start: 10
 * times to 224.0.0.1:5350, 250 ms apart at first and each gap doubling (RFC 6886 section
 * 3.2.1; PCP's ANNOUNCE, RFC 6887 section 14.1.3, goes along with each).
 * Returns 0, or -1 with the reason in err. */
int pcp_server_open(struct naptd *d, struct pcp_server **out, char *err, size_t errlen);
int pcp_server_fd(const struct pcp_server *s);
/* Called when that fd is readable: answers requests, ends expired leases. */
void pcp_server_dispatch(struct pcp_server *s);
/* The external address changed (wan_address.h): tells the clients with a new series of
 * announcements (RFC 6886 section 3.2.1, RFC 6887 section 14.2). s may be NULL. */
void pcp_server_address_changed(struct pcp_server *s);
/* A mapping request from another protocol (UPnP IGD), in the event loop: the same rules,
 * rate and lease store as NAT-PMP and PCP. */
enum map_outcome pcp_server_map(struct pcp_server *s, const struct map_request *q,
				struct map_grant *g);
/* Whether a pcp-allow line names host (whatever its ports): UPnP serves only those. */
bool pcp_server_serves(const struct pcp_server *s, uint32_t host);
/* The external address host's mappings are reached on (paired pooling). */
uint32_t pcp_server_external_of(const struct pcp_server *s, uint32_t host);
/* Writes the leases not yet in the state file, then closes. */
void pcp_server_close(struct pcp_server *s);

#endif
