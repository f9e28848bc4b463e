/* SPDX-License-Identifier: BSD-2-Clause */
/* nat_event.h - mapping and session events: what the table created and ended, in order.
 *
 * RFC 6888 REQ-12 and RFC 7422 section 5 ask a carrier NAT to log each mapping, so an abuse
 * report ("who had E:port at T?") has an answer. The engine does no I/O: it records each
 * event in a bounded ring in the instance, and the daemon reads the ring after each loop
 * iteration (logs, the monitor stream). Nothing is recorded until napt_events_enable().
 *
 * The ring is read by sequence numbers: napt_events_peek() copies events from any number
 * between the oldest kept (napt_events_tail()) and the next to be written
 * (napt_events_head()), so several readers can each keep their place; napt_events_release()
 * frees the events every reader has taken. A full ring records nothing more and counts the
 * events it could not keep (napt_events_lost()).
 */
#ifndef NAT_EVENT_H
#define NAT_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "napt.h"

#ifdef __cplusplus
extern "C" {
#endif

enum napt_event_type {
	NAPT_EV_MAPPING_NEW = 0,
	NAPT_EV_MAPPING_END,
	NAPT_EV_SESSION_NEW,
	NAPT_EV_SESSION_END,
	NAPT_EV_BLOCK_NEW, /* a port block (port-block-size) given to an inside host */
	NAPT_EV_BLOCK_END, /* ... and given back: its last mapping ended */
	NAPT_EV_TYPES
};

/* 32 bytes. Addresses network order, ports host order (ICMP: the echo identifiers). A block
 * event names its owner (in_addr), external address and ports ext_port..ext_port_last, with
 * no protocol (a block serves all three), no inside port and no remote. */
struct napt_event {
	uint64_t time_ms; /* as napt_events_stamp() gave it; 0 before */
	uint32_t in_addr, ext_addr;
	uint32_t rem_addr; /* mappings: the remote they are keyed by (address-dependent
			    * mapping), 0 for an endpoint-independent one; sessions: the peer */
	uint16_t in_port, ext_port, rem_port;
	uint8_t type;           /* enum napt_event_type */
	uint8_t proto;          /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	uint8_t origin;         /* enum napt_origin */
	uint8_t expired;        /* *_END: 1 when the idle timeout ended it, 0 when removed */
	uint16_t ext_port_last; /* block events: the block's last port; otherwise 0 */
};

/* Record from now on, in a ring of `capacity` events; sessions too when `sessions`, mappings only
 * otherwise. capacity 0 stops recording and frees the ring. A new capacity drops what the old ring
 * held. Returns 0, or -1 when out of memory (recording then stays off). */
int napt_events_enable(struct napt *n, uint32_t capacity, bool sessions);
/* Which kinds of events are recorded from now on (enable records mappings and blocks):
 * changes nothing else, so a reader that comes and goes costs the ring nothing while it is
 * away. */
enum napt_event_kind {
	NAPT_EVK_MAPPINGS = 1, /* NAPT_EV_MAPPING_* */
	NAPT_EVK_SESSIONS = 2, /* NAPT_EV_SESSION_* */
	NAPT_EVK_BLOCKS = 4,   /* NAPT_EV_BLOCK_* */
};
void napt_events_select(struct napt *n, unsigned kinds);

uint64_t napt_events_head(const struct napt *n); /* sequence number of the next event */
uint64_t napt_events_tail(const struct napt *n); /* the oldest event still kept */
uint64_t napt_events_lost(const struct napt *n); /* events not recorded: ring full */
/* Copy up to max events from sequence number seq (clamped to the tail) into out; returns
 * how many, and in *next the sequence number after the last copied. */
unsigned napt_events_peek(const struct napt *n, uint64_t seq, struct napt_event *out, unsigned max,
			  uint64_t *next);
/* Give the events recorded since the last call the time `time_ms` (the caller's clock, such
 * as the wall clock in milliseconds: the engine keeps no clock of its own). A reader that
 * falls behind still prints when each event happened. */
void napt_events_stamp(struct napt *n, uint64_t time_ms);
/* Every reader has taken the events before seq: they may be overwritten. */
void napt_events_release(struct napt *n, uint64_t seq);

const char *napt_event_type_name(enum napt_event_type t); /* "mapping-new", ... */

/* ---- for the engine's own files ---- */

struct nat_events {
	struct napt_event *ring;
	uint64_t capacity;
	uint64_t head, tail;
	uint64_t stamped; /* events before it have their time */
	uint64_t lost;
	bool mappings, sessions, blocks;
};

struct nat_mapping;
struct nat_session;
/* ev may be NULL (recording off). ext_addr: the entry's external address now. */
void nat_event_mapping(struct nat_events *ev, enum napt_event_type type,
		       const struct nat_mapping *m, uint32_t ext_addr, bool expired);
/* Block lo..hi on ext_addr given to or taken back from owner. */
void nat_event_block(struct nat_events *ev, enum napt_event_type type, uint32_t owner,
		     uint32_t ext_addr, uint16_t lo, uint16_t hi, bool expired);
void nat_event_session(struct nat_events *ev, enum napt_event_type type,
		       const struct nat_session *s, uint32_t ext_addr, bool expired);
void nat_events_destroy(struct nat_events *ev);

#ifdef __cplusplus
}
#endif

#endif
