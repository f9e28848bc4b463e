/* SPDX-License-Identifier: BSD-2-Clause */
/* fragment.h - following IP fragments through the NAT (RFC 4787 REQ-14).
 *
 * Only the first fragment carries the ports, so its translation is remembered under
 * (source, destination, protocol, IP ID) and applied to the later fragments. A later
 * fragment that comes first is held in a small fixed pool until its first fragment is
 * translated. All state is bounded and expires after FRAG_TIMEOUT_MS.
 *
 * Both are shared fairly by source address (docs/behaviour.md section 10): a source holds
 * at most FRAG_PER_SOURCE remembered translations and FRAG_HELD_PER_SOURCE held fragments,
 * and past that its own oldest give way to its new ones, so one host's flood cannot take
 * the room of the others' fragments.
 */
#ifndef FRAGMENT_H
#define FRAGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define FRAG_ENTRIES         1024
#define FRAG_PER_SOURCE      (FRAG_ENTRIES / 16)
#define FRAG_HELD            64
#define FRAG_HELD_PER_SOURCE (FRAG_HELD / 4)
#define FRAG_HELD_MAX        1600
#define FRAG_TIMEOUT_MS      10000u

struct frag_key {
	uint32_t src, dst; /* network order, as the datagram arrived */
	uint16_t id;
	uint8_t proto;
};

/* How later fragments of a datagram are rewritten. */
struct frag_rewrite {
	uint32_t src, dst; /* network order */
};

struct frag_entry {
	struct frag_key key;
	struct frag_rewrite rw;
	uint32_t born_ms;
	uint32_t next; /* hash chain (by source), index + 1 */
	bool live;
};

struct frag_held {
	struct frag_key key;
	uint32_t born_ms;
	uint16_t len;
	bool live;
	bool ready;   /* its first fragment came: hand it out with rw */
	bool inbound; /* direction of the first fragment, for counters */
	struct frag_rewrite rw;
	uint8_t data[FRAG_HELD_MAX];
};

/* New entries take the ring's next slot, whatever it holds: all have the same lifetime, so
 * the slot the ring comes back to holds the oldest. A source at its share reuses its own
 * oldest entry in place instead, and does not move the ring. The chains are by source
 * alone (keyed hash), so counting a source's entries walks one chain. */
struct frag_table {
	struct siphash_key key;
	struct frag_entry entries[FRAG_ENTRIES];
	uint32_t buckets[FRAG_ENTRIES]; /* index + 1 */
	uint32_t ring_next;
	struct frag_held held[FRAG_HELD];
	uint32_t held_seq; /* arrival counter for release order */
	uint32_t held_order[FRAG_HELD];
	unsigned n_held;
};

/* key: the secret of the chains' hash (the engine's table key). */
void frag_table_init(struct frag_table *ft, const struct siphash_key *key);
/* Remember a first fragment's translation, in place of the source's oldest when it is at
 * its share, else of the ring's oldest entry. */
void frag_remember(struct frag_table *ft, const struct frag_key *k, const struct frag_rewrite *rw,
		   uint32_t now);
bool frag_lookup(const struct frag_table *ft, const struct frag_key *k, uint32_t now,
		 struct frag_rewrite *rw);
/* Hold a later fragment that came before its first. A source at its share gives up its own
 * oldest waiting fragment for it, else a full pool its oldest waiting one (*evicted says so).
 * False when it is too long or every slot holds a released fragment not yet taken. */
bool frag_hold(struct frag_table *ft, const struct frag_key *k, const uint8_t *data, size_t len,
	       uint32_t now, bool *evicted);
/* The first fragment of datagram k was translated with rw: its held fragments are ready to
 * go. They stay in the pool until taken, so a caller that translates several packets
 * before draining (a burst) loses none. */
void frag_release(struct frag_table *ft, const struct frag_key *k, const struct frag_rewrite *rw,
		  bool inbound);
/* The oldest ready fragment: copies it into buf, frees its slot, fills rw and inbound;
 * returns its length, 0 when none is ready (or when cap is too small: then it stays). */
size_t frag_take_ready(struct frag_table *ft, uint8_t *buf, size_t cap, struct frag_rewrite *rw,
		       bool *inbound);
/* Drop held fragments older than the timeout; returns how many were dropped. */
unsigned frag_expire(struct frag_table *ft, uint32_t now);

#endif
