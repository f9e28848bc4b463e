/* SPDX-License-Identifier: BSD-2-Clause */
/* session_save.h - the sessions of an instance written out and read back, so a restart of
 * the program that runs the engine does not cut the flows through it (naptd: on SIGTERM,
 * docs/design.md "Sessions across a restart").
 *
 * The engine does no I/O: napt_save_sessions() hands each live session to the caller as a
 * record, and napt_restore_session() takes one record back into a new instance, after
 * checking it against that instance's config and table. A record holds the session's
 * endpoints, what TCP has seen on it and how long it has been idle; the mapping it belongs
 * to is made again from the endpoints (the same external address and port), and the
 * timeout class from the TCP state. The caller stores the time it saved at (a wall clock:
 * the engine's clock restarts with the program) and passes the time it was away.
 */
#ifndef SESSION_SAVE_H
#define SESSION_SAVE_H

#include <stdint.h>

#include "napt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Addresses network order, ports host order (ICMP: the echo identifiers). */
struct napt_saved_session {
	uint8_t proto;    /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	uint8_t origin;   /* enum napt_origin: outbound, forward or DMZ */
	uint8_t tcp_seen; /* what TCP has seen (the engine's bits); 0 for UDP and ICMP */
	uint32_t in_addr, ext_addr, rem_addr;
	uint16_t in_port, ext_port, rem_port;
	uint32_t idle_ms; /* since the session's last packet, at the save */
};

/* Call fn for each live session at now_ms, oldest first within each timeout class (so that
 * restoring in the same order rebuilds the expiry lists in order); stop early when fn
 * returns non-zero. */
typedef int (*napt_saved_fn)(const struct napt_saved_session *s, void *ctx);
void napt_save_sessions(const struct napt *n, uint64_t now_ms, napt_saved_fn fn, void *ctx);

enum napt_restore_result {
	NAPT_RESTORED = 0,
	NAPT_RESTORE_INVALID,     /* a field out of range, or older than the last record of its
				   * timeout class (by more than a second): not a record or an
				   * order this engine writes */
	NAPT_RESTORE_STALE,       /* idle (with the time away) past its timeout */
	NAPT_RESTORE_DUPLICATE,   /* the table holds this session already */
	NAPT_RESTORE_CONFLICT,    /* the config or the table now gives its endpoints to another:
				   * an address no longer external, a forward, a port taken, a
				   * port outside the range, block or deterministic range, a
				   * block beyond the host's ports-per-host */
	NAPT_RESTORE_UNSUPPORTED, /* mode dynamic (the address bindings are not kept) */
	NAPT_RESTORE_FULL,        /* max-sessions, or the host's max-sessions-per-host or
				   * ports-per-host, reached */
	NAPT_RESTORE_RESULTS
};

/* Put the saved session s back at now_ms, away_ms after it was saved: its mapping is made
 * (or found, for a second session of it) on the saved external endpoint, and its idle time
 * is s->idle_ms + away_ms, so it expires when it would have without the restart. Records go
 * back in the order napt_save_sessions() gave them, into an instance no packet has been
 * through yet: the expiry lists only take sessions in time order. */
enum napt_restore_result napt_restore_session(struct napt *n, const struct napt_saved_session *s,
					      uint64_t away_ms, uint64_t now_ms);
/* "restored", "invalid", "stale", "duplicate", "conflict", "unsupported", "full". */
const char *napt_restore_result_name(enum napt_restore_result r);

#ifdef __cplusplus
}
#endif

#endif
