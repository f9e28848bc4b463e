/* SPDX-License-Identifier: BSD-2-Clause */
/* upnp_igd.h - UPnP IGD (InternetGatewayDevice:2, WANIPConnection:2, whose actions include
 * IGD:1's) on lan-interface with pupnp (libupnp): "upnp yes". Its mappings are NAT-PMP/PCP
 * leases (pcp_server.h) with origin "upnp"; the actions are upnp_actions.h's.
 *
 * The library runs its own threads (SSDP, HTTP, its pool); they never touch the engine or
 * the state. An action request is checked in the library's thread (upnp_call_parse), then
 * queued for the event loop: the thread writes an eventfd and waits, at most a few seconds,
 * for the loop to run it (upnp_igd_dispatch) and post the answer's semaphore; the loop
 * never waits for the queue's lock. The queue is short: a
 * full queue answers 501 at once, so a flood costs the loop a bounded amount per turn.
 *
 * At the edge (docs/security.md):
 *  - the library's sockets (SSDP on port 1900, its HTTP server) are bound to lan-interface
 *    (SO_BINDTODEVICE): a datagram or connection that arrived on another interface is not
 *    theirs, whatever its addresses;
 *  - an HTTP request whose Host header is not the router's LAN address and port (DNS
 *    rebinding) is answered 403, as is a SUBSCRIBE whose CALLBACK is not the subscriber's own
 *    address (events sent to third parties, "CallStranger");
 *  - the loop serves only inside hosts that a pcp-allow line names, each for itself.
 * The library is started from a thread that drops every capability and sets niceness 10:
 * its threads inherit both.
 */
#ifndef UPNP_IGD_H
#define UPNP_IGD_H

#include <stddef.h>

struct naptd;
struct upnp_igd;

/* With upnp yes (d->pcp open): starts the library on lan-interface and announces the
 * device; *out NULL with upnp no. Returns 0, or -1 with the reason in err. */
int upnp_igd_open(struct naptd *d, struct upnp_igd **out, char *err, size_t errlen);
/* The eventfd the loop watches: readable when action requests wait. */
int upnp_igd_fd(const struct upnp_igd *u);
/* Runs the requests waiting (a bounded number per call). */
void upnp_igd_dispatch(struct upnp_igd *u);
/* The external address changed (wan_address.h): a GENA event on ExternalIPAddress to the
 * subscribers. u may be NULL. */
void upnp_igd_address_changed(struct upnp_igd *u);
/* Called after whatever may add or end a lease (NAT-PMP, PCP, UPnP, naptctl, a reload): when
 * their number changed, a GENA event on PortMappingNumberOfEntries (IGD:2 events it) to the
 * subscribers. One comparison otherwise. u may be NULL. */
void upnp_igd_leases_changed(struct upnp_igd *u);
/* Says goodbye (ssdp:byebye), stops the library's threads. u may be NULL. */
void upnp_igd_close(struct upnp_igd *u);

#endif
