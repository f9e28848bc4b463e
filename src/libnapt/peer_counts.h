/* SPDX-License-Identifier: BSD-2-Clause */
/* peer_counts.h - how many sessions each remote address holds on each external address.
 *
 * An inbound later fragment is held only when its source has a session on the external
 * address it was sent to (docs/behaviour.md 10). This table answers that exactly: one entry
 * per (external address number, remote address) pair holding at least one session, counted
 * up and down by the flow table as its sessions come and go (nat_table.c), in an
 * open-addressing table whose slots a keyed hash picks, so remote hosts cannot aim at one
 * probe run. There are never more pairs than sessions: with one and a half slots per
 * session of max-sessions the table is at most two thirds full and never fills. 8 bytes a
 * slot, 12 bytes per session of max-sessions.
 */
#ifndef PEER_COUNTS_H
#define PEER_COUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

struct peer_counts;

/* Room for the pairs of max_sessions sessions. NULL when out of memory. */
struct peer_counts *peer_counts_create(uint32_t max_sessions, const struct siphash_key *key);
void peer_counts_destroy(struct peer_counts *pc);
size_t peer_counts_bytes(const struct peer_counts *pc);
/* Forget every pair (the flow table was flushed). */
void peer_counts_clear(struct peer_counts *pc);

/* Whether rem_addr (network order) holds a session on external address ext_index. */
bool peer_counts_known(const struct peer_counts *pc, unsigned ext_index, uint32_t rem_addr);
/* How many pairs hold a session: 0 once every session is gone, whichever way it went. */
uint32_t peer_counts_pairs(const struct peer_counts *pc);
/* One session more (up) or one fewer (!up) between the two; a pair left with none leaves the
 * table. */
void peer_counts_add(struct peer_counts *pc, unsigned ext_index, uint32_t rem_addr, bool up);

#endif
