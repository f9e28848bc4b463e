/* SPDX-License-Identifier: BSD-2-Clause */
/* ipfix_export.h - `ipfix-collector ADDR:PORT`: NAT events as IPFIX (RFC 7011) over UDP, in
 * the information elements of RFC 8158, written by libfixbuf.
 *
 * Exported: NAT44 session create and delete (natEvent 4 and 5: inside, external and remote
 * endpoints, protocol, time), from the engine's event ring (nat_event.h) after each loop
 * iteration; and once a second at most each, when new flows were refused since the last
 * second: ports exhausted (natEvent 12), quota exceeded (natEvent 13) with
 * natQuotaExceededEvent 1 (maxSessionEntries: max-sessions reached) or 3 (maxEntriesPerUser:
 * a per-host limit, with the host that hit it last), NAT addresses exhausted (natEvent 3,
 * mode dynamic's pool). Port blocks given and taken back (natEvent 16 and 17, with
 * portRangeStart/End/StepSize/NumPorts) come from the ring like sessions. Templates are sent
 * again every IPFIX_TEMPLATE_S seconds, as RFC 7011 section 8.4 asks over UDP.
 *
 * Sending never waits: libfixbuf builds each message in memory and naptd sends it on its own
 * non-blocking UDP socket; a message the socket buffer cannot take is dropped and counted.
 */
#ifndef IPFIX_EXPORT_H
#define IPFIX_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "naptd.h"

#define IPFIX_TEMPLATE_S 60

struct ipfix_export;

/* Export to d's ipfix-collector. Returns NULL with the reason in err. */
struct ipfix_export *ipfix_export_open(struct naptd *d, char *err, size_t errlen);
void ipfix_export_close(struct ipfix_export *x);
/* The session events recorded since the last call. */
void ipfix_export_feed(struct ipfix_export *x, const struct napt *n);
/* Once a second: limit events, templates when due, and send what is buffered. */
void ipfix_export_tick(struct ipfix_export *x, const struct napt *n, uint64_t wall_ms);
uint64_t ipfix_export_records(const struct ipfix_export *x); /* records sent; 0 for NULL */
/* Records in messages the socket could not take (full, or the collector unreachable). */
uint64_t ipfix_export_records_dropped(const struct ipfix_export *x);

#endif
