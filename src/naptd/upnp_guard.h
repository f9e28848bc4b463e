/* SPDX-License-Identifier: BSD-2-Clause */
/* upnp_guard.h - pupnp's sockets held to lan-interface, its HTTP requests checked before the
 * library serves them (upnp_igd.h).
 *
 * pupnp 1.8.4 (Debian 12's libupnp-dev) has no host-validation callback (later versions
 * add UpnpSetHostValidateCallback) and hands an action request to the application without
 * its HTTP headers. Its HTTP server dispatches each request through three callbacks, set
 * with SetSoapCallback, SetGenaCallback and SetHTTPGetCallback; those and the header lookup
 * (httpmsg_find_hdr) are in the static library, libupnp.a, which naptd links for that
 * reason (configure.ac checks they link). naptd puts its check in front of each callback.
 */
#ifndef UPNP_GUARD_H
#define UPNP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Whether naptd serves host (IPv4, network order: pcp-allow, pcp-deny), asked in the
 * library's thread before a SUBSCRIBE makes a subscription. */
typedef bool upnp_served_fn(void *cookie, uint32_t host);

/* After UpnpInit2: binds the library's SSDP and HTTP sockets to lan (SO_BINDTODEVICE) and
 * puts the header checks in front of its HTTP callbacks, and served (with cookie) in front
 * of a new subscription; each refusal adds one to *refused. Returns 0, or -1 with the
 * reason. */
int upnp_guard_install(const char *lan, _Atomic uint64_t *refused, upnp_served_fn *served,
		       void *cookie, char *err, size_t errlen);

/* The checks themselves, on the headers' texts (NULL: no such header). */
/* Host must be exactly the address and port the connection came to (local), as a browser
 * sends for http://ADDR:PORT/: a DNS-rebinding page's Host is its own name. */
bool upnp_host_ok(const char *host, size_t len, const struct sockaddr_storage *local);
/* GENA's CALLBACK (UDA 1.1 section 4.1.2): one "<http://ADDR[:PORT]/...>" whose ADDR is the
 * subscriber's own (peer): events go to no third party. */
bool upnp_callback_ok(const char *callback, size_t len, const struct sockaddr_storage *peer);

#endif
