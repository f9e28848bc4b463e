/* SPDX-License-Identifier: BSD-2-Clause */
/* nat_table.c - mappings and sessions in fixed arrays, tagged bucket indexes and LRU expiry. */
#include "nat_table.h"

#include "nat_event.h"
#include "peer_counts.h"

#include <netinet/in.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The sizes the layout comments of nat_table.h and the memory figures of docs/design.md
 * count on. */
_Static_assert(sizeof(struct nat_session) == 40, "a session is 40 bytes");
_Static_assert(sizeof(struct nat_mapping) == 24, "a mapping is 24 bytes");

struct lru_list {
	uint32_t head, tail; /* head: least recently used */
};

/* Where a key goes in an index: its two buckets (the home and the alternative), and its
 * tag in place in a slot. */
struct place {
	uint32_t home, alt, tag;
};

/* A key a lookup did not find, and its place. A new flow's keys are hashed by the lookups
 * that miss and again when its entries go in: the second time costs a comparison. */
struct missed_key {
	struct nat_key key;
	struct place place;
	bool valid;
};

struct nat_table {
	uint32_t max;           /* entries per array, slot 0 unused */
	uint32_t buckets;       /* per index */
	uint32_t index_mask;    /* the index bits of a slot; the tag is above them */
	struct siphash_key key; /* buckets cannot be aimed at from outside (siphash.h) */
	struct nat_session *sessions;
	struct nat_mapping *mappings;
	struct nat_bucket *sess_in, *sess_out; /* the indexes */
	struct nat_bucket *map_in, *map_out;
	struct peer_counts *peers; /* sessions per (external address, remote address) */
	struct missed_key missed_session, missed_mapping;
	uint32_t free_sessions, free_mappings; /* free lists, linked through lru_next/sessions */
	struct lru_list lru[NAPT_TIMEOUT_CLASSES];
	uint32_t timeout_ms[NAPT_TIMEOUT_CLASSES];
	struct port_pool ports;
	struct napt_counters *counters;
	uint32_t external[NAPT_MAX_EXTERNAL];
	struct host_limits *hosts;  /* per-host counts, when a limit is configured */
	struct port_blocks *blocks; /* port-block-size */
	struct nat_events *events;  /* NULL: nothing recorded */
	nat_port_watch port_watch;  /* NULL: nobody watches (nat_table_watch_ports) */
	void *port_watch_ctx;
	uint64_t core_cache_bytes; /* L2 size: see nat_table_worth_prefetching() */
	/* When reap_known, no session expires before reap_after, so the reap that runs with
	 * every packet costs one comparison while nothing is due. */
	uint32_t reap_after;
	bool reap_known;
};

/* A touched session moves to its list's tail at most once per slot of 1 << LRU_SLOT_SHIFT
 * ms (nat_session_touch): the lists are in time order to within one slot. */
#define LRU_SLOT_SHIFT 10

/* Wrap-around time order (the clock is 32-bit milliseconds). */
static bool before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static int proto_index(uint8_t proto)
{
	return proto == IPPROTO_TCP ? NAPT_P_TCP : proto == IPPROTO_UDP ? NAPT_P_UDP : NAPT_P_ICMP;
}

/* The whole key goes through the keyed hash: an outsider who picks ports or addresses
 * cannot know which keys share a bucket (docs/security.md, hash flooding). */
uint64_t nat_key_hash(const struct nat_table *t, const struct nat_key *k)
{
	return siphash13_16(&t->key, (uint64_t)k->rem_addr << 32 | k->addr,
			    (uint64_t)k->proto << 32 | (uint64_t)k->rem_port << 16 | k->port);
}

/* The buckets from the hash's low half, scaled to any bucket count by a multiply and a
 * shift (Lemire's): the home from its top bits, the alternative from the half mixed by an
 * odd multiplier (its low bits moved up). The tag from the high half, its lowest bit set
 * so that no tag is 0 and a free slot matches none. */
static struct place hash_place(const struct nat_table *t, uint64_t h)
{
	uint32_t low = (uint32_t)h, mixed = low * 0x9e3779b1u;

	return (struct place){(uint32_t)(((uint64_t)low * t->buckets) >> 32),
			      (uint32_t)(((uint64_t)mixed * t->buckets) >> 32),
			      ((uint32_t)(h >> 32) & ~t->index_mask) | (t->index_mask + 1)};
}

static struct place key_place(const struct nat_table *t, const struct nat_key *k)
{
	return hash_place(t, nat_key_hash(t, k));
}

uint32_t nat_key_home(const struct nat_table *t, const struct nat_key *k, uint32_t *alt)
{
	struct place p = key_place(t, k);

	*alt = p.alt;
	return p.home;
}

static bool key_equal(const struct nat_key *a, const struct nat_key *b)
{
	return a->addr == b->addr && a->rem_addr == b->rem_addr && a->port == b->port &&
	       a->rem_port == b->rem_port && a->proto == b->proto;
}

/* The place of a key that may have just missed a lookup (a new flow's): hashed once. */
static struct place new_key_place(const struct nat_table *t, const struct nat_key *k)
{
	if (t->missed_session.valid && key_equal(&t->missed_session.key, k))
		return t->missed_session.place;
	if (t->missed_mapping.valid && key_equal(&t->missed_mapping.key, k))
		return t->missed_mapping.place;
	return key_place(t, k);
}

static void remember_miss(struct missed_key *m, const struct nat_key *k, struct place p)
{
	*m = (struct missed_key){*k, p, true};
}

/* Tables this large sit on 2 MiB pages where the kernel has them (transparent huge pages
 * on madvise): a lookup in a table of a million sessions lands on a random 4 KiB page, a
 * TLB miss and, in a VM, a nested page walk on top of the cache miss. */
#define HUGE_PAGE (2u << 20)

/* Smaller ones start on a cache line, so that a bucket is one line. */
#define CACHE_LINE 64

static void *alloc_zeroed(size_t n, size_t size)
{
	size_t bytes = n * size;
	void *p;

	if (posix_memalign(&p, bytes < HUGE_PAGE ? CACHE_LINE : HUGE_PAGE, bytes))
		return NULL;
	if (bytes >= HUGE_PAGE)
		madvise(p, bytes & ~(size_t)(HUGE_PAGE - 1), MADV_HUGEPAGE);
	memset(p, 0, bytes);
	return p;
}

/* The per-core cache size from the C library (cpuid on x86), 1 MiB when it does not say. */
static uint64_t core_cache_bytes(void)
{
	long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);

	return l2 > 0 ? (uint64_t)l2 : 1u << 20;
}

struct nat_table *nat_table_create(uint32_t max_sessions, const struct siphash_key *key,
				   struct napt_counters *counters, const uint32_t *external,
				   unsigned n_external)
{
	struct nat_table *t = alloc_zeroed(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = max_sessions + 1;
	/* Filled to 14 slots of 15 at most: a key's home has room for it most of the time, its
	 * alternative when not, and when both are full a key of one moves to its own other
	 * bucket to make room (index_put()), so hardly a key overflows, even in a full table
	 * whose flows come and go (without the move, a third of the keys had overflowed after
	 * that churn at 14 of 15: design.md). */
	t->buckets = max_sessions / 14 + 1;
	t->index_mask = (uint32_t)((2ull << (31 - __builtin_clz(max_sessions))) - 1);
	t->key = *key;
	t->counters = counters;
	t->core_cache_bytes = core_cache_bytes();
	memcpy(t->external, external, n_external * sizeof(uint32_t));
	t->sessions = alloc_zeroed(t->max, sizeof(*t->sessions));
	t->mappings = alloc_zeroed(t->max, sizeof(*t->mappings));
	t->sess_in = alloc_zeroed(t->buckets, sizeof(struct nat_bucket));
	t->sess_out = alloc_zeroed(t->buckets, sizeof(struct nat_bucket));
	t->map_in = alloc_zeroed(t->buckets, sizeof(struct nat_bucket));
	t->map_out = alloc_zeroed(t->buckets, sizeof(struct nat_bucket));
	t->peers = peer_counts_create(max_sessions, key);
	if (!t->sessions || !t->mappings || !t->sess_in || !t->sess_out || !t->map_in ||
	    !t->map_out || !t->peers) {
		nat_table_destroy(t);
		return NULL;
	}
	nat_table_flush(t);
	return t;
}

void nat_table_destroy(struct nat_table *t)
{
	if (!t)
		return;
	free(t->sessions);
	free(t->mappings);
	free(t->sess_in);
	free(t->sess_out);
	free(t->map_in);
	free(t->map_out);
	peer_counts_destroy(t->peers);
	free(t);
}

size_t nat_table_bytes(const struct nat_table *t)
{
	return sizeof(*t) +
	       (size_t)t->max * (sizeof(struct nat_session) + sizeof(struct nat_mapping)) +
	       4 * sizeof(struct nat_bucket) * t->buckets + peer_counts_bytes(t->peers);
}

uint32_t nat_table_buckets(const struct nat_table *t)
{
	return t->buckets;
}

const struct nat_bucket *nat_table_session_bucket(const struct nat_table *t, uint32_t b)
{
	return &t->sess_in[b];
}

struct port_pool *nat_table_ports(struct nat_table *t)
{
	return &t->ports;
}

void nat_table_set_timeout(struct nat_table *t, enum napt_timeout_class c, uint32_t ms)
{
	t->timeout_ms[c] = ms;
	t->reap_known = false;
}

uint32_t nat_table_timeout(const struct nat_table *t, enum napt_timeout_class c)
{
	return t->timeout_ms[c];
}

bool nat_table_in_expiry_order(const struct nat_table *t, enum napt_timeout_class c, uint32_t last)
{
	uint32_t tail = t->lru[c].tail;

	return !tail || !before(last + (1u << LRU_SLOT_SHIFT), t->sessions[tail].last_ms);
}

uint32_t nat_table_ext_addr(const struct nat_table *t, unsigned ext_index)
{
	return t->external[ext_index];
}

void nat_table_set_external(struct nat_table *t, unsigned ext_index, uint32_t addr)
{
	t->external[ext_index] = addr;
	port_pool_forget_rest(&t->ports, ext_index);
}

struct nat_session *nat_session_at(const struct nat_table *t, uint32_t idx)
{
	return &t->sessions[idx];
}

struct nat_mapping *nat_mapping_at(const struct nat_table *t, uint32_t idx)
{
	return &t->mappings[idx];
}

/* Block id (+ 1) given to or taken back from owner: one event per block (RFC 7422 section 5's
 * small logs; RFC 8158 natEvent 16 and 17). */
static void block_event(struct nat_table *t, enum napt_event_type type, uint32_t id, uint32_t owner,
			bool expired)
{
	unsigned ext;
	uint16_t lo, hi;

	if (!t->events)
		return;
	port_blocks_range(t->blocks, id - 1, &ext, &lo, &hi);
	nat_event_block(t->events, type, owner, t->external[ext], lo, hi, expired);
}

/* A flush ends every entry at once: each end is recorded as a removal would record it. */
static void record_flush(struct nat_table *t)
{
	for (uint32_t i = 1; t->events && i < t->max; i++) {
		if (t->sessions[i].proto)
			nat_event_session(t->events, NAPT_EV_SESSION_END, &t->sessions[i],
					  t->external[t->sessions[i].ext_index], false);
		if (t->mappings[i].proto)
			nat_event_mapping(t->events, NAPT_EV_MAPPING_END, &t->mappings[i],
					  t->external[t->mappings[i].ext_index], false);
	}
	for (uint32_t id = 1; t->events && t->blocks && id <= t->blocks->per_ext * t->blocks->n_ext;
	     id++)
		if (t->blocks->b[id - 1].owner)
			block_event(t, NAPT_EV_BLOCK_END, id, t->blocks->b[id - 1].owner, false);
}

/* A mapping's end frees its port, which rests (RFC 6888 REQ-8) unless it is a
 * deterministic one (its host's alone). */
static void release_port(struct nat_table *t, const struct nat_mapping *m)
{
	if (m->flags & MAPF_POOL_PORT)
		port_pool_release(&t->ports, proto_index(m->proto), m->ext_index, m->ext_port,
				  !(m->flags & MAPF_DET));
}

static void watch_port(const struct nat_table *t, const struct nat_mapping *m)
{
	if (t->port_watch)
		t->port_watch(t->port_watch_ctx, m);
}

void nat_table_watch_ports(struct nat_table *t, nat_port_watch fn, void *ctx)
{
	t->port_watch = fn;
	t->port_watch_ctx = ctx;
}

/* Everything goes back to the free lists: used at start and by "flush sessions". */
void nat_table_flush(struct nat_table *t)
{
	size_t index_bytes = (size_t)t->buckets * sizeof(struct nat_bucket);

	record_flush(t);

	memset(t->sess_in, 0, index_bytes);
	memset(t->sess_out, 0, index_bytes);
	memset(t->map_in, 0, index_bytes);
	memset(t->map_out, 0, index_bytes);
	peer_counts_clear(t->peers);
	memset(t->lru, 0, sizeof(t->lru));
	t->reap_known = false;
	if (t->hosts)
		memset(t->hosts->slots, 0, ((size_t)t->hosts->mask + 1) * sizeof(*t->hosts->slots));
	if (t->blocks)
		t->counters->port_blocks_released += port_blocks_clear(t->blocks);
	t->free_sessions = t->free_mappings = 0;
	for (uint32_t i = t->max - 1; i >= 1; i--) {
		t->sessions[i] = (struct nat_session){.lru_next = t->free_sessions};
		t->free_sessions = i;
		/* The flushed mappings' ports were tied to their hosts a moment ago: they rest
		 * as after any other end. */
		release_port(t, &t->mappings[i]);
		if (t->mappings[i].proto)
			watch_port(t, &t->mappings[i]);
		t->mappings[i] = (struct nat_mapping){.sessions = t->free_mappings};
		t->free_mappings = i;
	}
	t->counters->sessions_removed += t->counters->sessions_current;
	t->counters->sessions_current = 0;
	t->counters->mappings_current = 0;
	memset(t->counters->sessions_proto, 0, sizeof(t->counters->sessions_proto));
	memset(t->counters->mappings_proto, 0, sizeof(t->counters->mappings_proto));
}

/* ---- the indexes ---- */

static bool session_matches_in(const struct nat_session *s, const struct nat_key *k)
{
	return s->in_addr == k->addr && s->rem_addr == k->rem_addr && s->in_port == k->port &&
	       s->rem_port == k->rem_port && s->proto == k->proto;
}

static bool session_matches_out(const struct nat_table *t, const struct nat_session *s,
				const struct nat_key *k)
{
	return s->ext_port == k->port && s->rem_addr == k->rem_addr && s->rem_port == k->rem_port &&
	       s->proto == k->proto && t->external[s->ext_index] == k->addr;
}

static bool mapping_matches_in(const struct nat_mapping *m, const struct nat_key *k)
{
	return m->in_addr == k->addr && m->rem_addr == k->rem_addr && m->in_port == k->port &&
	       m->rem_port == k->rem_port && m->proto == k->proto;
}

static bool mapping_matches_out(const struct nat_table *t, const struct nat_mapping *m,
				const struct nat_key *k)
{
	return m->ext_port == k->port && m->proto == k->proto &&
	       t->external[m->ext_index] == k->addr;
}

/* The four indexes, each with its own entries' comparison. */
enum index_kind { SESS_IN, SESS_OUT, MAP_IN, MAP_OUT };

static struct nat_bucket *index_of(const struct nat_table *t, enum index_kind kind)
{
	switch (kind) {
	case SESS_IN:
		return t->sess_in;
	case SESS_OUT:
		return t->sess_out;
	case MAP_IN:
		return t->map_in;
	default:
		return t->map_out;
	}
}

/* Inlined, as the walk below, into each lookup with `kind` a constant: the switch goes,
 * and an established packet's lookup makes no call. */
__attribute__((always_inline)) static inline bool entry_matches(const struct nat_table *t,
								enum index_kind kind, uint32_t idx,
								const struct nat_key *k)
{
	switch (kind) {
	case SESS_IN:
		return session_matches_in(&t->sessions[idx], k);
	case SESS_OUT:
		return session_matches_out(t, &t->sessions[idx], k);
	case MAP_IN:
		return mapping_matches_in(&t->mappings[idx], k);
	default:
		return mapping_matches_out(t, &t->mappings[idx], k);
	}
}

static uint32_t next_bucket(const struct nat_table *t, uint32_t b)
{
	return b + 1 == t->buckets ? 0 : b + 1;
}

/* Bit i set for each slot i of b whose bits under `mask` are `want` (a tag, or a free
 * slot): the whole line compared at once where the CPU has SSE2, the four compares' lanes
 * narrowed to one byte each (saturating packs keep 0 and -1) for one movemask; the
 * overflow count's lane is the top bit, dropped. Else slot by slot. */
static unsigned slot_hits(const struct nat_bucket *b, uint32_t mask, uint32_t want)
{
#ifdef __SSE2__
	const __m128i *v = (const __m128i *)b->slot;
	__m128i m = _mm_set1_epi32((int)mask), w = _mm_set1_epi32((int)want);
	__m128i e0 = _mm_cmpeq_epi32(_mm_and_si128(_mm_load_si128(v), m), w);
	__m128i e1 = _mm_cmpeq_epi32(_mm_and_si128(_mm_load_si128(v + 1), m), w);
	__m128i e2 = _mm_cmpeq_epi32(_mm_and_si128(_mm_load_si128(v + 2), m), w);
	__m128i e3 = _mm_cmpeq_epi32(_mm_and_si128(_mm_load_si128(v + 3), m), w);
	__m128i bytes = _mm_packs_epi16(_mm_packs_epi32(e0, e1), _mm_packs_epi32(e2, e3));

	return (unsigned)_mm_movemask_epi8(bytes) & ((1u << NAT_BUCKET_SLOTS) - 1);
#else
	unsigned hits = 0;

	for (unsigned i = 0; i < NAT_BUCKET_SLOTS; i++)
		hits |= (unsigned)((b->slot[i] & mask) == want) << i;
	return hits;
#endif
}

static unsigned tag_hits(const struct nat_table *t, const struct nat_bucket *b, uint32_t tag)
{
	return slot_hits(b, ~t->index_mask, tag);
}

static unsigned free_slots(const struct nat_bucket *b)
{
	return slot_hits(b, 0xffffffffu, 0);
}

/* A walk over the candidates of one key: slots with its tag in its home bucket, in its
 * alternative, then in the buckets after the home while keys overflowed past. */
enum probe_stage { AT_HOME, AT_ALT, OVERFLOW };
struct probe {
	uint32_t bucket, buckets_left;
	unsigned slot; /* the first slot not looked at */
	enum probe_stage stage;
};

static struct probe probe_start(const struct nat_table *t, struct place p)
{
	return (struct probe){p.home, t->buckets - 1, 0, AT_HOME};
}

/* The next bucket of the walk; false at its end: after the two buckets, a bucket no key
 * overflowed past, or one round of the table in any case (a bound even if every bucket
 * had overflowed at some time). */
static bool probe_advance(const struct nat_table *t, const struct nat_bucket *ix, struct place p,
			  struct probe *pr)
{
	pr->slot = 0;
	if (pr->stage == AT_HOME && p.alt != p.home) {
		pr->stage = AT_ALT;
		pr->bucket = p.alt;
		return true;
	}
	if (pr->stage != OVERFLOW) {
		pr->stage = OVERFLOW;
		pr->bucket = p.home;
	}
	if (!ix[pr->bucket].overflow || !pr->buckets_left)
		return false;
	pr->buckets_left--;
	pr->bucket = next_bucket(t, pr->bucket);
	return true;
}

/* The next entry of key k (placed at p) in the index, from where pr stands; 0 at the end.
 * The overflow walk may pass the alternative: its slots were looked at already. */
static uint32_t probe_next(const struct nat_table *t, enum index_kind kind, struct place p,
			   const struct nat_key *k, struct probe *pr)
{
	const struct nat_bucket *ix = index_of(t, kind);

	do {
		const struct nat_bucket *b = &ix[pr->bucket];
		bool seen = pr->stage == OVERFLOW && pr->bucket == p.alt;
		unsigned hits = seen ? 0 : tag_hits(t, b, p.tag) >> pr->slot << pr->slot;

		while (hits) {
			unsigned i = (unsigned)__builtin_ctz(hits);
			uint32_t idx = b->slot[i] & t->index_mask;

			hits &= hits - 1;
			pr->slot = i + 1;
			if (entry_matches(t, kind, idx, k))
				return idx;
		}
	} while (probe_advance(t, ix, p, pr));
	return 0;
}

/* The entry of key k past its two buckets, where keys overflowed (rare: docs/design.md). */
__attribute__((noinline)) static uint32_t index_find_overflow(const struct nat_table *t,
							      enum index_kind kind, struct place p,
							      const struct nat_key *k)
{
	struct probe pr = {p.home, t->buckets - 1, 0, OVERFLOW};

	return probe_advance(t, index_of(t, kind), p, &pr) ? probe_next(t, kind, p, k, &pr) : 0;
}

/* The entry of key k among the slots of bucket b with its tag, 0 if none. */
__attribute__((always_inline)) static inline uint32_t
bucket_find(const struct nat_table *t, enum index_kind kind, const struct nat_bucket *b,
	    uint32_t tag, const struct nat_key *k)
{
	unsigned hits = tag_hits(t, b, tag);

	while (hits) {
		uint32_t idx = b->slot[__builtin_ctz(hits)] & t->index_mask;

		hits &= hits - 1;
		if (entry_matches(t, kind, idx, k))
			return idx;
	}
	return 0;
}

static struct nat_key session_in_key(const struct nat_session *s)
{
	return (struct nat_key){s->in_addr, s->rem_addr, s->in_port, s->rem_port, s->proto};
}

static struct nat_key session_out_key(const struct nat_table *t, const struct nat_session *s)
{
	return (struct nat_key){t->external[s->ext_index], s->rem_addr, s->ext_port, s->rem_port,
				s->proto};
}

static struct nat_key mapping_in_key(const struct nat_mapping *m)
{
	return (struct nat_key){m->in_addr, m->rem_addr, m->in_port, m->rem_port, m->proto};
}

static struct nat_key mapping_out_key(const struct nat_table *t, const struct nat_mapping *m)
{
	return (struct nat_key){t->external[m->ext_index], 0, m->ext_port, 0, m->proto};
}

/* The key by which entry idx is in the index. */
static struct nat_key entry_key(const struct nat_table *t, enum index_kind kind, uint32_t idx)
{
	switch (kind) {
	case SESS_IN:
		return session_in_key(&t->sessions[idx]);
	case SESS_OUT:
		return session_out_key(t, &t->sessions[idx]);
	case MAP_IN:
		return mapping_in_key(&t->mappings[idx]);
	default:
		return mapping_out_key(t, &t->mappings[idx]);
	}
}

static bool put_in(struct nat_bucket *b, uint32_t slot_value)
{
	unsigned free = free_slots(b);

	if (free)
		b->slot[__builtin_ctz(free)] = slot_value;
	return free != 0;
}

/* Room in the full bucket b, made by moving the first of its keys whose other bucket (its
 * alternative, or its home when b is its alternative) has a free slot there, as
 * rte_hash's displacement does, one step deep. A slot does not say which of its key's
 * buckets b is: each key looked at is read and hashed again (a new flow's cost, when
 * both its buckets are full). A key that overflowed into b stays. */
static bool make_room(struct nat_table *t, enum index_kind kind, uint32_t b)
{
	struct nat_bucket *ix = index_of(t, kind);

	for (unsigned j = 0; j < NAT_BUCKET_SLOTS; j++) {
		struct nat_key k = entry_key(t, kind, ix[b].slot[j] & t->index_mask);
		struct place q = key_place(t, &k);
		uint32_t other = q.home == b ? q.alt : q.alt == b ? q.home : b;

		if (other != b && put_in(&ix[other], ix[b].slot[j])) {
			ix[b].slot[j] = 0;
			return true;
		}
	}
	return false;
}

/* Entry idx into its key's home bucket while it has room (a lookup reads the home first
 * and, finding the key there, no other line), else into its alternative, else into room
 * made in either (make_room()), or, none made, into the first free slot after the home,
 * counting an overflow in each full bucket passed: never into its home or alternative
 * then, which index_drop() relies on (a move keeps every key in its two buckets). Each
 * index holds at most max-sessions keys, fewer than its slots, so a free slot exists. */
static void index_put(struct nat_table *t, enum index_kind kind, struct place p, uint32_t idx)
{
	struct nat_bucket *ix = index_of(t, kind);
	uint32_t v = p.tag | idx;

	if (put_in(&ix[p.home], v) || put_in(&ix[p.alt], v))
		return;
	if ((make_room(t, kind, p.home) && put_in(&ix[p.home], v)) ||
	    (p.alt != p.home && make_room(t, kind, p.alt) && put_in(&ix[p.alt], v)))
		return;
	for (uint32_t b = p.home;; b = next_bucket(t, b)) {
		if (b != p.home && put_in(&ix[b], v))
			return;
		ix[b].overflow++;
	}
}

static bool drop_from(struct nat_table *t, struct nat_bucket *b, uint32_t idx)
{
	unsigned hits = slot_hits(b, t->index_mask, idx);

	if (hits)
		b->slot[__builtin_ctz(hits)] = 0;
	return hits != 0;
}

/* The place of an entry's key, for its removal: an entry does not keep where its keys sit
 * (it would cost 4 bytes an index), so the key is hashed again. Its home is fetched at
 * once: the line comes in while the removal hashes the entry's other key and does its
 * other work, as it did when the entry named its buckets (at 1M the removal's hashes cost
 * new flows more time than their instructions: performance.md, issue 18 third round). */
static struct place drop_place(const struct nat_table *t, enum index_kind kind,
			       const struct nat_key *k)
{
	struct place p = key_place(t, k);

	__builtin_prefetch(&index_of(t, kind)[p.home], 1);
	return p;
}

/* Entry idx, its key placed at p, out of the index. Its slot is found by the entry's
 * index, unique in the index, not by the tag, which other keys of the bucket may share.
 * Not in its home or its alternative, it overflowed (index_put()): it is looked for from
 * its home on, taking one overflow count off each bucket passed (those it was counted
 * in). */
static void index_drop(struct nat_table *t, enum index_kind kind, struct place p, uint32_t idx)
{
	struct nat_bucket *ix = index_of(t, kind);

	if (drop_from(t, &ix[p.home], idx) || drop_from(t, &ix[p.alt], idx))
		return;
	for (uint32_t b = p.home;; b = next_bucket(t, b)) {
		if (b != p.home && drop_from(t, &ix[b], idx))
			return;
		ix[b].overflow--;
	}
}

bool nat_table_peer_known(const struct nat_table *t, unsigned ext_index, uint32_t rem_addr)
{
	return peer_counts_known(t->peers, ext_index, rem_addr);
}

uint32_t nat_table_peer_pairs(const struct nat_table *t)
{
	return peer_counts_pairs(t->peers);
}

bool nat_session_expired(const struct nat_table *t, const struct nat_session *s, uint32_t now)
{
	return (uint32_t)(now - s->last_ms) > t->timeout_ms[s->tclass];
}

/* The entry of key k (placed at p), 0 if none: its home, where keys go while there is
 * room (index_put()), so that an established lookup reads one bucket line; the
 * alternative only when the home does not hold it; the overflow walk only where the home
 * counts keys that overflowed. A session found in its alternative goes home when the home
 * has a free slot: a slot freed in a home cannot call back the keys sitting in their
 * alternative (it does not say whose home it is, and finding out costs a hash per key), so
 * after a full table's flows had come and gone a third of the keys sat in their
 * alternative and an established lookup read 1.34 lines (review break18b); the lookup
 * knows both buckets and the tag, so the move costs two stores. Session indexes only: no
 * walk goes through them, which a move under a walk would upset (each_mapping_on). */
__attribute__((always_inline)) static inline uint32_t
index_find(struct nat_table *t, enum index_kind kind, struct place p, const struct nat_key *k)
{
	struct nat_bucket *ix = index_of(t, kind);
	uint32_t idx = bucket_find(t, kind, &ix[p.home], p.tag, k);

	if (idx)
		return idx;
	idx = bucket_find(t, kind, &ix[p.alt], p.tag, k);
	if (idx && (kind == SESS_IN || kind == SESS_OUT) && p.alt != p.home &&
	    free_slots(&ix[p.home])) {
		drop_from(t, &ix[p.alt], idx);
		put_in(&ix[p.home], p.tag | idx);
	}
	if (!idx && ix[p.home].overflow)
		idx = index_find_overflow(t, kind, p, k);
	return idx;
}

/* The session of key k placed at p; an expired one is removed, not returned. */
static uint32_t find_session(struct nat_table *t, const struct nat_key *k, struct place p, bool out,
			     uint32_t now)
{
	uint32_t i = out ? index_find(t, SESS_OUT, p, k) : index_find(t, SESS_IN, p, k);

	if (i && nat_session_expired(t, &t->sessions[i], now)) {
		nat_session_remove(t, i, true);
		i = 0;
	}
	if (!i)
		remember_miss(&t->missed_session, k, p);
	return i;
}

uint32_t nat_session_find_in(struct nat_table *t, const struct nat_key *k, uint32_t now)
{
	return find_session(t, k, new_key_place(t, k), false, now);
}

uint32_t nat_session_find_out(struct nat_table *t, const struct nat_key *k, uint32_t now)
{
	return find_session(t, k, new_key_place(t, k), true, now);
}

static uint32_t find_mapping(struct nat_table *t, enum index_kind kind, const struct nat_key *k)
{
	struct place p = key_place(t, k);
	uint32_t i = index_find(t, kind, p, k);

	if (!i)
		remember_miss(&t->missed_mapping, k, p);
	return i;
}

uint32_t nat_mapping_find_in(struct nat_table *t, const struct nat_key *k)
{
	return find_mapping(t, MAP_IN, k);
}

uint32_t nat_mapping_find_out(struct nat_table *t, const struct nat_key *k)
{
	return find_mapping(t, MAP_OUT, k);
}

/* ---- LRU lists ---- */

static void lru_unlink(struct nat_table *t, uint32_t idx)
{
	struct nat_session *s = &t->sessions[idx];
	struct lru_list *l = &t->lru[s->tclass];

	if (s->lru_prev)
		t->sessions[s->lru_prev].lru_next = s->lru_next;
	else
		l->head = s->lru_next;
	if (s->lru_next)
		t->sessions[s->lru_next].lru_prev = s->lru_prev;
	else
		l->tail = s->lru_prev;
	s->lru_prev = s->lru_next = 0;
}

static void lru_append(struct nat_table *t, uint32_t idx)
{
	struct nat_session *s = &t->sessions[idx];
	struct lru_list *l = &t->lru[s->tclass];

	s->lru_prev = l->tail;
	s->lru_next = 0;
	if (l->tail) {
		t->sessions[l->tail].lru_next = idx;
	} else {
		/* A new head: the bound may come earlier. */
		uint32_t due = s->last_ms + t->timeout_ms[s->tclass] + 1;

		l->head = idx;
		if (t->reap_known && before(due, t->reap_after))
			t->reap_after = due;
	}
	l->tail = idx;
}

/* ---- creation and removal ---- */

/* Ports an inside host holds: those it chose by sending, not those a DMZ took for it. */
static bool counts_as_host_port(const struct nat_mapping *m)
{
	return (m->flags & MAPF_POOL_PORT) && m->origin == NAPT_ORIGIN_OUTBOUND;
}

/* A block mapping is on its host's block; the block's first mapping gives it to the host,
 * its last gives it back (one event per block, not per mapping: counted). */
static void block_take(struct nat_table *t, const struct nat_mapping *m)
{
	uint32_t id = port_blocks_of(t->blocks, m->ext_index, m->ext_port);
	struct port_block *b = &t->blocks->b[id - 1];
	struct host_count *h;

	if (b->mappings++)
		return;
	h = host_limits_find(t->hosts, m->in_addr);
	b->owner = m->in_addr;
	b->next = h->block;
	h->block = id;
	h->blocks++;
	t->counters->port_blocks_allocated++;
	block_event(t, NAPT_EV_BLOCK_NEW, id, m->in_addr, false);
}

static void block_release(struct nat_table *t, const struct nat_mapping *m, bool expired)
{
	uint32_t id = port_blocks_of(t->blocks, m->ext_index, m->ext_port);
	struct port_block *b = &t->blocks->b[id - 1];
	struct host_count *h;
	uint32_t *link;

	if (--b->mappings)
		return;
	h = host_limits_find(t->hosts, m->in_addr);
	for (link = &h->block; *link != id; link = &t->blocks->b[*link - 1].next)
		;
	*link = b->next;
	h->blocks--;
	*b = (struct port_block){0, 0, 0};
	t->counters->port_blocks_released++;
	block_event(t, NAPT_EV_BLOCK_END, id, m->in_addr, expired);
}

void nat_table_use_blocks(struct nat_table *t, struct port_blocks *pb)
{
	t->blocks = pb;
}

uint32_t nat_mapping_new(struct nat_table *t, const struct nat_mapping *m,
			 const struct nat_key *in_key)
{
	uint32_t idx = t->free_mappings;
	struct nat_mapping *e;
	struct nat_key k;

	if (!idx)
		return 0;
	e = &t->mappings[idx];
	t->free_mappings = e->sessions;
	*e = *m;
	e->sessions = 0;
	if (e->flags & MAPF_IN_INDEXED) {
		/* Keyed as the entry reads, the key its removal hashes again: in_key gives
		 * the remote part, the rest is the mapping's own. */
		e->rem_addr = in_key->rem_addr;
		e->rem_port = in_key->rem_port;
		k = mapping_in_key(e);
		index_put(t, MAP_IN, new_key_place(t, &k), idx);
	}
	k = mapping_out_key(t, e);
	index_put(t, MAP_OUT, new_key_place(t, &k), idx);
	if (e->flags & MAPF_POOL_PORT)
		port_pool_take(&t->ports, proto_index(e->proto), e->ext_index, e->ext_port);
	watch_port(t, e);
	if (t->hosts && counts_as_host_port(e))
		host_limits_add(t->hosts, e->in_addr, 0, 1);
	if (e->flags & MAPF_BLOCK)
		block_take(t, e);
	t->counters->mappings_current++;
	t->counters->mappings_proto[proto_index(e->proto)]++;
	nat_event_mapping(t->events, NAPT_EV_MAPPING_NEW, e, t->external[e->ext_index], false);
	return idx;
}

/* expired: its last session timed out (the end's reason in the log). */
static void mapping_remove(struct nat_table *t, uint32_t idx, bool expired)
{
	struct nat_mapping *m = &t->mappings[idx];
	struct place in = {0, 0, 0}, out;
	struct nat_key k;

	/* Removing the last session removes the mapping: stop once it is gone. */
	while (m->sessions) {
		bool last = !t->sessions[m->sessions].sib_next;

		nat_session_remove(t, m->sessions, false);
		if (last)
			return;
	}
	if (m->flags & MAPF_IN_INDEXED) {
		k = mapping_in_key(m);
		in = drop_place(t, MAP_IN, &k);
	}
	k = mapping_out_key(t, m);
	out = drop_place(t, MAP_OUT, &k);
	release_port(t, m);
	if (m->flags & MAPF_IN_INDEXED)
		index_drop(t, MAP_IN, in, idx);
	index_drop(t, MAP_OUT, out, idx);
	watch_port(t, m);
	nat_event_mapping(t->events, NAPT_EV_MAPPING_END, m, t->external[m->ext_index], expired);
	if (m->flags & MAPF_BLOCK)
		block_release(t, m, expired); /* after the mapping's own end, in the log too */
	if (t->hosts && counts_as_host_port(m))
		host_limits_add(t->hosts, m->in_addr, 0, -1);
	t->counters->mappings_proto[proto_index(m->proto)]--;
	*m = (struct nat_mapping){.sessions = t->free_mappings};
	t->free_mappings = idx;
	t->counters->mappings_current--;
}

void nat_mapping_remove(struct nat_table *t, uint32_t idx)
{
	mapping_remove(t, idx, false);
}

uint32_t nat_session_new(struct nat_table *t, uint32_t mapping, uint32_t rem_addr,
			 uint16_t rem_port, enum napt_timeout_class c, uint32_t now)
{
	uint32_t idx = t->free_sessions;
	struct nat_mapping *m = &t->mappings[mapping];
	struct nat_session *s;
	struct nat_key k;

	if (!idx)
		return 0;
	s = &t->sessions[idx];
	t->free_sessions = s->lru_next;
	*s = (struct nat_session){
	    .in_addr = m->in_addr,
	    .rem_addr = rem_addr,
	    .in_port = m->in_port,
	    .ext_port = m->ext_port,
	    .rem_port = rem_port,
	    .moved_s = (uint16_t)(now >> LRU_SLOT_SHIFT),
	    .proto = m->proto,
	    .tclass = (uint8_t)c & 0xf,
	    .origin = m->origin & 0xf,
	    .ext_index = m->ext_index,
	    .last_ms = now,
	    .sib_prev = SIB_MAPPING | mapping,
	    .sib_next = m->sessions,
	};
	if (m->sessions)
		t->sessions[m->sessions].sib_prev = idx;
	m->sessions = idx;
	k = session_in_key(s);
	index_put(t, SESS_IN, new_key_place(t, &k), idx);
	k = session_out_key(t, s);
	index_put(t, SESS_OUT, new_key_place(t, &k), idx);
	peer_counts_add(t->peers, s->ext_index, s->rem_addr, true);
	lru_append(t, idx);
	if (t->hosts)
		host_limits_add(t->hosts, s->in_addr, 1, 0);
	t->counters->sessions_created++;
	t->counters->sessions_current++;
	t->counters->sessions_proto[proto_index(s->proto)]++;
	nat_event_session(t->events, NAPT_EV_SESSION_NEW, s, t->external[s->ext_index], false);
	return idx;
}

void nat_session_touch(struct nat_table *t, uint32_t idx, enum napt_timeout_class c, uint32_t now)
{
	struct nat_session *s = &t->sessions[idx];

	uint16_t slot = (uint16_t)(now >> LRU_SLOT_SHIFT);

	s->last_ms = now;
	if (s->tclass == c && (s->moved_s == slot || t->lru[c].tail == idx))
		return;
	lru_unlink(t, idx);
	s->tclass = (uint8_t)c & 0xf;
	s->moved_s = slot;
	lru_append(t, idx);
}

/* Take session idx out of its owner's list; returns the owner when the list is left
 * empty (the mapping must go too), else 0. Only the head knows its owner, and only the
 * head's removal can empty the list. */
static uint32_t sibling_unlink(struct nat_table *t, const struct nat_session *s)
{
	uint32_t mapping = 0;

	if (s->sib_prev & SIB_MAPPING) {
		mapping = s->sib_prev & ~SIB_MAPPING;
		t->mappings[mapping].sessions = s->sib_next;
	} else {
		t->sessions[s->sib_prev].sib_next = s->sib_next;
	}
	if (s->sib_next)
		t->sessions[s->sib_next].sib_prev = s->sib_prev; /* the head's tag moves on */
	return s->sib_next ? 0 : mapping;
}

void nat_session_remove(struct nat_table *t, uint32_t idx, bool expired)
{
	struct nat_session *s = &t->sessions[idx];
	struct nat_key kin = session_in_key(s), kout = session_out_key(t, s);
	struct place in = drop_place(t, SESS_IN, &kin), out = drop_place(t, SESS_OUT, &kout);
	uint32_t emptied;

	peer_counts_add(t->peers, s->ext_index, s->rem_addr, false);
	lru_unlink(t, idx);
	if (t->hosts)
		host_limits_add(t->hosts, s->in_addr, -1, 0);
	emptied = sibling_unlink(t, s);
	index_drop(t, SESS_IN, in, idx);
	index_drop(t, SESS_OUT, out, idx);
	nat_event_session(t->events, NAPT_EV_SESSION_END, s, t->external[s->ext_index], expired);
	t->counters->sessions_proto[proto_index(s->proto)]--;
	*s = (struct nat_session){.lru_next = t->free_sessions};
	t->free_sessions = idx;
	t->counters->sessions_current--;
	if (expired)
		t->counters->sessions_expired++;
	else
		t->counters->sessions_removed++;
	if (emptied)
		mapping_remove(t, emptied, expired);
}

bool nat_mapping_live(struct nat_table *t, uint32_t idx, uint32_t now)
{
	uint32_t i = t->mappings[idx].sessions;

	while (i) {
		uint32_t next = t->sessions[i].sib_next;
		bool last = t->mappings[idx].sessions == i && !next;

		if (!nat_session_expired(t, &t->sessions[i], now))
			return true;
		nat_session_remove(t, i, true);
		if (last)
			return false;
		i = next;
	}
	return false;
}

uint32_t nat_session_mapping(struct nat_table *t, uint32_t idx)
{
	while (!(t->sessions[idx].sib_prev & SIB_MAPPING))
		idx = t->sessions[idx].sib_prev;
	return t->sessions[idx].sib_prev & ~SIB_MAPPING;
}

unsigned nat_mapping_sessions(const struct nat_table *t, uint32_t idx)
{
	unsigned n = 0;

	for (uint32_t i = t->mappings[idx].sessions; i; i = t->sessions[i].sib_next)
		n++;
	return n;
}

static struct place lookup_place(const struct nat_lookup *l)
{
	return (struct place){l->bucket, l->alt, l->tag};
}

/* The entry of the first slot with the key's tag in its home bucket, else in its
 * alternative, without comparing keys (the prefetch stages guess; the lookup checks). */
static uint32_t lookup_candidate(const struct nat_table *t, const struct nat_lookup *l)
{
	const struct nat_bucket *ix, *b;
	unsigned hits;

	if (l->bucket == NAT_LOOKUP_NONE) /* l->out may be unset then (translate.c) */
		return 0;
	ix = index_of(t, l->out ? SESS_OUT : SESS_IN);
	b = &ix[l->bucket];
	hits = tag_hits(t, b, l->tag);
	if (!hits) {
		b = &ix[l->alt];
		hits = tag_hits(t, b, l->tag);
	}
	return hits ? b->slot[__builtin_ctz(hits)] & t->index_mask : 0;
}

/* Half of the 40-byte entries straddle two cache lines (those at offsets 32-56 of a line):
 * fetch both ends, for writing (the packet refreshes last_ms, a move rewrites the links). */
static void prefetch_entry(const struct nat_table *t, uint32_t idx)
{
	__builtin_prefetch(&t->sessions[idx], 1);
	__builtin_prefetch((const char *)&t->sessions[idx + 1] - 1, 1);
}

void nat_lookup_hash(const struct nat_table *t, struct nat_lookup *l)
{
	struct place p = key_place(t, &l->key);
	const struct nat_bucket *ix = index_of(t, l->out ? SESS_OUT : SESS_IN);

	l->bucket = p.home;
	l->alt = p.alt;
	l->tag = p.tag;
	__builtin_prefetch(&ix[p.home]);
	__builtin_prefetch(&ix[p.alt]);
}

void nat_lookup_prefetch_session(const struct nat_table *t, const struct nat_lookup *l)
{
	uint32_t idx = lookup_candidate(t, l);

	if (idx)
		prefetch_entry(t, idx);
}

void nat_lookup_prefetch_next(const struct nat_table *t, const struct nat_lookup *l, uint32_t now)
{
	uint32_t idx = lookup_candidate(t, l);
	const struct nat_session *s = &t->sessions[idx];

	if (idx && entry_matches(t, l->out ? SESS_OUT : SESS_IN, idx, &l->key) &&
	    s->moved_s != (uint16_t)(now >> LRU_SLOT_SHIFT)) {
		__builtin_prefetch(&t->sessions[s->lru_prev].lru_prev, 1);
		__builtin_prefetch(&t->sessions[s->lru_next].lru_prev, 1);
	}
}

uint32_t nat_lookup_session(struct nat_table *t, const struct nat_lookup *l, uint32_t now)
{
	return find_session(t, &l->key, lookup_place(l), l->out, now);
}

bool nat_table_worth_prefetching(const struct nat_table *t)
{
	return t->counters->sessions_current * sizeof(struct nat_session) > t->core_cache_bytes;
}

void nat_table_set_cache_bytes(struct nat_table *t, uint64_t bytes)
{
	t->core_cache_bytes = bytes;
}

/* The earliest time a list head can expire, once nothing due is left. */
static void learn_reap_after(struct nat_table *t)
{
	t->reap_known = false;
	for (int c = 0; c < NAPT_TIMEOUT_CLASSES; c++) {
		uint32_t due;

		if (!t->lru[c].head)
			continue;
		due = t->sessions[t->lru[c].head].last_ms + t->timeout_ms[c] + 1;
		if (!t->reap_known || before(due, t->reap_after))
			t->reap_after = due;
		t->reap_known = true;
	}
}

__attribute__((noinline)) static unsigned reap(struct nat_table *t, uint32_t now, unsigned budget)
{
	unsigned done = 0;

	for (int c = 0; c < NAPT_TIMEOUT_CLASSES; c++) {
		while (done < budget && t->lru[c].head &&
		       nat_session_expired(t, &t->sessions[t->lru[c].head], now)) {
			nat_session_remove(t, t->lru[c].head, true);
			done++;
		}
	}
	if (done < budget)
		learn_reap_after(t);
	return done;
}

/* Every packet calls this: kept apart from the reaping itself, the check costs no more than
 * the comparison (no registers saved, no loop set up). */
unsigned nat_table_expire(struct nat_table *t, uint32_t now, unsigned budget)
{
	if (t->reap_known && before(now, t->reap_after))
		return 0;
	return reap(t, now, budget);
}

/* The positions [*i, end) a walk looks at (slot 0 is never used); returns end. */
static uint32_t walk_range(const struct nat_table *t, uint32_t from, uint32_t positions,
			   uint32_t *i)
{
	*i = from ? from : 1;
	if (*i >= t->max)
		*i = t->max;
	return positions < t->max - *i ? *i + positions : t->max;
}

/* The position to resume from at i, 0 at the end of the table. */
static uint32_t walk_next(const struct nat_table *t, uint32_t i)
{
	return i < t->max ? i : 0;
}

uint32_t nat_table_walk_mappings(struct nat_table *t, uint32_t from, uint32_t positions,
				 nat_mapping_visit fn, void *ctx)
{
	uint32_t i, end = walk_range(t, from, positions, &i);

	for (; i < end; i++)
		if (t->mappings[i].proto && fn(t, i, ctx))
			return walk_next(t, i + 1);
	return walk_next(t, end);
}

uint32_t nat_table_walk_sessions(const struct nat_table *t, uint32_t from, uint32_t positions,
				 nat_session_visit fn, void *ctx)
{
	uint32_t i, end = walk_range(t, from, positions, &i);

	for (; i < end; i++)
		if (t->sessions[i].proto && fn(t, i, ctx))
			return walk_next(t, i + 1);
	return walk_next(t, end);
}

void nat_table_each_mapping(struct nat_table *t, nat_mapping_visit fn, void *ctx)
{
	nat_table_walk_mappings(t, 1, t->max, fn, ctx);
}

void nat_table_each_mapping_on(struct nat_table *t, uint8_t proto, unsigned ext_index,
			       uint16_t ext_port, nat_mapping_visit fn, void *ctx)
{
	struct nat_key k = {t->external[ext_index], 0, ext_port, 0, proto};
	struct place p = key_place(t, &k);
	struct probe pr = probe_start(t, p);
	uint32_t i;

	/* fn may remove the mapping: that frees the slot just passed, and leaves the buckets'
	 * overflow counts as they were for the keys further on. */
	while ((i = probe_next(t, MAP_OUT, p, &k, &pr)))
		if (t->mappings[i].ext_index == ext_index && fn(t, i, ctx))
			return;
}

void nat_table_each_session(const struct nat_table *t, nat_session_visit fn, void *ctx)
{
	for (int c = 0; c < NAPT_TIMEOUT_CLASSES; c++)
		for (uint32_t i = t->lru[c].head; i; i = t->sessions[i].lru_next)
			if (fn(t, i, ctx))
				return;
}

void nat_table_set_events(struct nat_table *t, struct nat_events *ev)
{
	t->events = ev;
}

void nat_table_count_hosts(struct nat_table *t, struct host_limits *hl)
{
	t->hosts = hl;
	if (!hl)
		return;
	memset(hl->slots, 0, ((size_t)hl->mask + 1) * sizeof(*hl->slots));
	for (uint32_t i = 1; i < t->max; i++) {
		if (t->sessions[i].proto)
			host_limits_add(hl, t->sessions[i].in_addr, 1, 0);
		if (t->mappings[i].proto && counts_as_host_port(&t->mappings[i]))
			host_limits_add(hl, t->mappings[i].in_addr, 0, 1);
	}
}
