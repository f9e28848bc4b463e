/* SPDX-License-Identifier: BSD-2-Clause */
/* nat_table.h - the translation table: mappings, sessions, their hash indexes and expiry.
 *
 * Everything is allocated once, sized by max-sessions; entries are addressed by 32-bit
 * index (0 means none) so links cost 4 bytes. Each session is found through two indexes
 * (from the inside and from the outside), each mapping through one or two; an index is an
 * array of one-cache-line buckets of short hash tags and entry indexes (docs/design.md),
 * a key in one of its two buckets. An entry does not keep where its keys sit (8 bytes an
 * entry): removing it hashes its keys again. Each session is also in one LRU list per
 * timeout class: every entry of a class has the same timeout, so the least recently used
 * entry is also the first to expire, and expiry reads only the cold ends of the lists (no
 * scans).
 */
#ifndef NAT_TABLE_H
#define NAT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host_limits.h"
#include "napt.h"
#include "port_alloc.h"
#include "siphash.h"

/* A lookup key: protocol, local endpoint (inside or external), remote endpoint. */
struct nat_key {
	uint32_t addr, rem_addr; /* network order */
	uint16_t port, rem_port; /* host order */
	uint8_t proto;
};

#define MAPF_IN_INDEXED 0x01 /* found by inside endpoint (outbound mappings) */
#define MAPF_POOL_PORT  0x02 /* holds its port in the port pool */
#define MAPF_DET        0x04 /* a deterministic port (det_nat.h): no rest on release */
#define MAPF_BLOCK      0x08 /* its port is in a port block of its inside host */

/* 24 bytes. The external address is kept as an index into the configured addresses
 * (which cannot change at run time), to keep entries small (docs/design.md). */
struct nat_mapping {
	uint32_t in_addr, rem_addr; /* rem_addr, rem_port: key part under ADM/APDM */
	uint16_t in_port, ext_port, rem_port;
	uint8_t proto, origin, flags, ext_index;
	uint32_t sessions; /* head of this mapping's session list, newest first; free: free list */
};

/* 40 bytes. The owning mapping is stored once per mapping, in the sibling link of the
 * newest session (SIB_MAPPING). What a packet reads and writes comes first: the fields a
 * lookup compares (both keys: bytes 0-15), then the refresh's (bytes 16-23). A 40-byte
 * entry starts at offsets 0, 40, 16, 56, 32, 8, 48, 24 of a cache line, one position in
 * eight each: at 56 the compare reads two lines (the addresses in one, the ports, proto
 * and ext_index in the next); at 48 it reads one and the refresh writes the next; at the
 * other six both are in one line. */
struct nat_session {
	uint32_t in_addr, rem_addr;
	uint16_t in_port, ext_port, rem_port;
	uint8_t proto;
	uint8_t ext_index;
	uint16_t moved_s;   /* (clock >> 10) when last moved to its LRU tail */
	uint8_t tcp_seen;   /* TCPF_* bits (tcp_state.h) */
	uint8_t tclass : 4; /* enum napt_timeout_class */
	uint8_t origin : 4; /* enum napt_origin */
	uint32_t last_ms;   /* clock at the last packet, wrapping */
	uint32_t lru_prev, lru_next;
	/* The owner's session list. The head's sib_prev holds its mapping's index, tagged
	 * with SIB_MAPPING: removing a session finds its mapping without a lookup. */
	uint32_t sib_prev, sib_next;
};
#define SIB_MAPPING 0x80000000u /* indexes stay below it: max-sessions is 2^24 at most */

/* An index bucket: one cache line of slots, each an entry's index in the low bits and its
 * key's hash tag in the bits above the largest index (7 bits at 2^24 entries, 11 at 1M,
 * the lowest always set), 0 when free; and how many keys whose home bucket is this one or
 * an earlier one sit in a later bucket, having found both their buckets full (a lookup
 * goes on past its two buckets only when some did). */
#define NAT_BUCKET_SLOTS 15
struct nat_bucket {
	uint32_t slot[NAT_BUCKET_SLOTS];
	uint32_t overflow;
} __attribute__((aligned(64)));

struct nat_table;

/* external: the configured external addresses (network order), n_external of them; key: the
 * secret of the indexes' hash (from getrandom(2) in the daemon). */
struct nat_table *nat_table_create(uint32_t max_sessions, const struct siphash_key *key,
				   struct napt_counters *counters, const uint32_t *external,
				   unsigned n_external);
void nat_table_destroy(struct nat_table *t);
size_t nat_table_bytes(const struct nat_table *t);
struct port_pool *nat_table_ports(struct nat_table *t);

void nat_table_set_timeout(struct nat_table *t, enum napt_timeout_class c, uint32_t ms);
uint32_t nat_table_timeout(const struct nat_table *t, enum napt_timeout_class c);
/* Whether a session last seen at `last` would join class c's expiry list in its order (to
 * within the slot nat_session_touch allows): the reap looks at the list's head only, so a
 * session behind a younger one would outlive its timeout. */
bool nat_table_in_expiry_order(const struct nat_table *t, enum napt_timeout_class c, uint32_t last);

uint32_t nat_table_ext_addr(const struct nat_table *t, unsigned ext_index);
/* Renumber external address ext_index; its mappings must be gone already. Its resting
 * ports are free at once: they rested for the old address, not the new one. */
void nat_table_set_external(struct nat_table *t, unsigned ext_index, uint32_t addr);

struct nat_session *nat_session_at(const struct nat_table *t, uint32_t idx);
/* The mapping a session belongs to (walks to the head of its owner's list). */
uint32_t nat_session_mapping(struct nat_table *t, uint32_t idx);
unsigned nat_mapping_sessions(const struct nat_table *t, uint32_t idx);
struct nat_mapping *nat_mapping_at(const struct nat_table *t, uint32_t idx);

/* The key's keyed hash (SipHash-1-3, siphash.h). Its low 32 bits choose the key's two
 * buckets, its high bits give the tag: one hash per key serves all three. */
uint64_t nat_key_hash(const struct nat_table *t, const struct nat_key *k);
/* The home bucket of a key in t's indexes (all four have as many buckets), and in *alt
 * its alternative bucket. */
uint32_t nat_key_home(const struct nat_table *t, const struct nat_key *k, uint32_t *alt);
/* For tests: the number of buckets each index has, and the bucket b of the index of
 * sessions by inside key. */
uint32_t nat_table_buckets(const struct nat_table *t);
const struct nat_bucket *nat_table_session_bucket(const struct nat_table *t, uint32_t b);

/* Lookups. An entry found expired at `now` is removed and not returned. */
uint32_t nat_session_find_in(struct nat_table *t, const struct nat_key *k, uint32_t now);
uint32_t nat_session_find_out(struct nat_table *t, const struct nat_key *k, uint32_t now);
uint32_t nat_mapping_find_in(struct nat_table *t, const struct nat_key *k);
uint32_t nat_mapping_find_out(struct nat_table *t, const struct nat_key *k);

/* Whether rem_addr holds a session of any protocol on external address number ext_index:
 * exact, from the count of sessions per pair (peer_counts.h) that every session's creation
 * and removal keeps. */
bool nat_table_peer_known(const struct nat_table *t, unsigned ext_index, uint32_t rem_addr);
/* For tests: how many (external address, remote address) pairs hold a session. */
uint32_t nat_table_peer_pairs(const struct nat_table *t);

/* New entries; 0 when the table is full. A mapping with MAPF_POOL_PORT takes its port in
 * the pool; one with MAPF_IN_INDEXED is keyed by its inside endpoint and the rem fields
 * of `in_key` (as much of the remote as the mapping behaviour requires). A mapping without
 * sessions is removed when its last session goes, so create a session for it at once. */
uint32_t nat_mapping_new(struct nat_table *t, const struct nat_mapping *m,
			 const struct nat_key *in_key);
uint32_t nat_session_new(struct nat_table *t, uint32_t mapping, uint32_t rem_addr,
			 uint16_t rem_port, enum napt_timeout_class c, uint32_t now);

/* A packet matched the session: it is fresh again, in class c. To spare the cache lines of
 * its list neighbours, a session is moved to its list's tail at most once per 1024 ms in the
 * same class: the lists stay ordered to within that, which delays the reaping of an entry
 * behind it by as much, never the exact expiry check on lookup. */
void nat_session_touch(struct nat_table *t, uint32_t idx, enum napt_timeout_class c, uint32_t now);

/* Remove a session (and its mapping when it was the last one). */
void nat_session_remove(struct nat_table *t, uint32_t idx, bool expired);
void nat_mapping_remove(struct nat_table *t, uint32_t idx);

/* Whether a mapping still has a live session. Expired sessions met on the way are removed,
 * and the mapping with them when none is left (then it returns false): a mapping whose
 * sessions have all timed out must not admit or translate anything, even before the
 * reaper reaches it. Newest sessions are at the head, so this stops early. */
bool nat_mapping_live(struct nat_table *t, uint32_t idx, uint32_t now);

/* A session lookup in steps, for bursts of packets (VPP-style): the key's buckets and tag
 * are computed once (nat_lookup_hash(), which also starts fetching both buckets), and the
 * lookup itself (nat_lookup_session()) comes a few packets later. In between, two
 * prefetch stages, each finding the previous one's line in the cache: the session of the
 * first slot with the key's tag, then what the refresh will touch next: the LRU
 * neighbours when the session is due to move (nat_session_touch()). */
struct nat_lookup {
	struct nat_key key;
	uint32_t bucket; /* home bucket; NAT_LOOKUP_NONE: no lookup to make */
	uint32_t alt;    /* alternative bucket */
	uint32_t tag;    /* the key's tag, in place in a slot */
	bool out;        /* by the external endpoint (an inbound packet) */
};
#define NAT_LOOKUP_NONE 0xffffffffu
void nat_lookup_hash(const struct nat_table *t, struct nat_lookup *l);
void nat_lookup_prefetch_session(const struct nat_table *t, const struct nat_lookup *l);
void nat_lookup_prefetch_next(const struct nat_table *t, const struct nat_lookup *l, uint32_t now);
/* nat_session_find_in() or nat_session_find_out(), with the bucket known. */
uint32_t nat_lookup_session(struct nat_table *t, const struct nat_lookup *l, uint32_t now);
/* Whether the live sessions outgrow the core's own cache (L2): below that, nothing misses
 * and the prefetch stages would only add instructions. */
bool nat_table_worth_prefetching(const struct nat_table *t);
/* For tests: the cache size that comparison uses instead of the core's, so that
 * tests/unit/test_burst.c runs the prefetch pipeline whatever the machine's L2. */
void nat_table_set_cache_bytes(struct nat_table *t, uint64_t bytes);

/* Remove expired sessions, oldest first, at most `budget` of them; returns how many. */
unsigned nat_table_expire(struct nat_table *t, uint32_t now, unsigned budget);
bool nat_session_expired(const struct nat_table *t, const struct nat_session *s, uint32_t now);

/* Walk every live mapping; fn returns non-zero to stop. fn may remove the mapping. */
typedef int (*nat_mapping_visit)(struct nat_table *t, uint32_t idx, void *ctx);
void nat_table_each_mapping(struct nat_table *t, nat_mapping_visit fn, void *ctx);
/* The same for the mappings on one external endpoint (proto, external address number
 * ext_index, ext_port) only: one bucket (and those it overflowed to), whatever the
 * table's size. */
void nat_table_each_mapping_on(struct nat_table *t, uint8_t proto, unsigned ext_index,
			       uint16_t ext_port, nat_mapping_visit fn, void *ctx);
/* The sessions of each timeout class, oldest first. */
typedef int (*nat_session_visit)(const struct nat_table *t, uint32_t idx, void *ctx);
void nat_table_each_session(const struct nat_table *t, nat_session_visit fn, void *ctx);
/* Resumable walks in index order, for listings made a piece at a time: fn for the live
 * entries at positions from, from+1, ... (from 0 means the start), no more than `positions`
 * positions looked at, stopping after an entry for which fn returns non-zero. Returns the
 * position to resume from, 0 at the end of the table. An entry keeps its index for its
 * whole life, so a walk resumed later neither repeats nor skips an entry that lived
 * throughout. */
uint32_t nat_table_walk_mappings(struct nat_table *t, uint32_t from, uint32_t positions,
				 nat_mapping_visit fn, void *ctx);
uint32_t nat_table_walk_sessions(const struct nat_table *t, uint32_t from, uint32_t positions,
				 nat_session_visit fn, void *ctx);

void nat_table_flush(struct nat_table *t);

/* Keep the port blocks in pb (NULL: none): a MAPF_BLOCK mapping made on a free block gives
 * it to the mapping's inside host, and the block goes back with its last mapping. Needs the
 * host table (nat_table_count_hosts()). The table does not own pb. */
void nat_table_use_blocks(struct nat_table *t, struct port_blocks *pb);

/* Count sessions and pool ports per inside host in hl from now on (NULL: stop counting).
 * The counts are rebuilt from the entries in the table; the table does not own hl. */
void nat_table_count_hosts(struct nat_table *t, struct host_limits *hl);

/* Record mapping and session events in ev from now on (NULL: stop); the table does not own
 * ev (nat_event.h). */
struct nat_events;
void nat_table_set_events(struct nat_table *t, struct nat_events *ev);

/* Call fn(ctx, m) whenever mapping m starts or stops holding its external endpoint (NULL:
 * stop): after it is linked in, after it is unlinked (m still readable, no longer found),
 * and for each mapping a flush ends, once the chains are empty. napt_port_watch() (napt.h)
 * is built on it. */
typedef void (*nat_port_watch)(void *ctx, const struct nat_mapping *m);
void nat_table_watch_ports(struct nat_table *t, nat_port_watch fn, void *ctx);

#endif
