/* SPDX-License-Identifier: BSD-2-Clause */
/* fragment.c - fragment translations and the held-fragment pool. */
#include "fragment.h"

#include <string.h>

static bool key_eq(const struct frag_key *a, const struct frag_key *b)
{
	return a->src == b->src && a->dst == b->dst && a->id == b->id && a->proto == b->proto;
}

/* By source only, keyed: a source's entries share one chain that no one can aim others at. */
static uint32_t source_bucket(const struct frag_table *ft, uint32_t src)
{
	return (uint32_t)siphash13_16(&ft->key, src, 0) % FRAG_ENTRIES;
}

static bool expired(uint32_t born, uint32_t now)
{
	return (uint32_t)(now - born) > FRAG_TIMEOUT_MS;
}

/* Wrap-around arrival order of two counters or clocks. */
static bool earlier(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

void frag_table_init(struct frag_table *ft, const struct siphash_key *key)
{
	memset(ft, 0, sizeof(*ft));
	ft->key = *key;
}

static void entry_unlink(struct frag_table *ft, uint32_t idx)
{
	uint32_t *p = &ft->buckets[source_bucket(ft, ft->entries[idx].key.src)];

	while (*p && *p != idx + 1)
		p = &ft->entries[*p - 1].next;
	if (*p)
		*p = ft->entries[idx].next;
	ft->entries[idx].live = false;
}

/* The entry to reuse for k within its source's own: the same datagram's, else the
 * source's oldest when it holds its share of live entries; -1 when neither. Expired entries
 * met on the way leave the chain (their ring slots stay for the ring to take), so a chain
 * holds live entries only: at most a share per source. */
static int own_slot(struct frag_table *ft, const struct frag_key *k, uint32_t bucket, uint32_t now)
{
	unsigned count = 0;
	int oldest = -1;

	for (uint32_t *p = &ft->buckets[bucket]; *p;) {
		struct frag_entry *e = &ft->entries[*p - 1];
		int idx = (int)*p - 1;

		if (key_eq(&e->key, k))
			return idx;
		if (expired(e->born_ms, now)) {
			e->live = false;
			*p = e->next;
			continue;
		}
		p = &e->next;
		if (e->key.src != k->src)
			continue;
		count++;
		if (oldest < 0 || earlier(e->born_ms, ft->entries[oldest].born_ms))
			oldest = idx;
	}
	return count >= FRAG_PER_SOURCE ? oldest : -1;
}

void frag_remember(struct frag_table *ft, const struct frag_key *k, const struct frag_rewrite *rw,
		   uint32_t now)
{
	uint32_t b = source_bucket(ft, k->src);
	int own = own_slot(ft, k, b, now);
	uint32_t idx;

	if (own >= 0) { /* same chain: rewritten where it is */
		struct frag_entry *e = &ft->entries[own];

		*e = (struct frag_entry){
		    .key = *k, .rw = *rw, .born_ms = now, .next = e->next, .live = true};
		return;
	}
	idx = ft->ring_next;
	if (ft->entries[idx].live)
		entry_unlink(ft, idx);
	ft->entries[idx] = (struct frag_entry){
	    .key = *k, .rw = *rw, .born_ms = now, .next = ft->buckets[b], .live = true};
	ft->buckets[b] = idx + 1;
	ft->ring_next = (idx + 1) % FRAG_ENTRIES;
}

bool frag_lookup(const struct frag_table *ft, const struct frag_key *k, uint32_t now,
		 struct frag_rewrite *rw)
{
	for (uint32_t i = ft->buckets[source_bucket(ft, k->src)]; i; i = ft->entries[i - 1].next) {
		const struct frag_entry *e = &ft->entries[i - 1];

		if (key_eq(&e->key, k) && !expired(e->born_ms, now)) {
			*rw = e->rw;
			return true;
		}
	}
	return false;
}

static bool waiting(const struct frag_held *h)
{
	return h->live && !h->ready;
}

/* The slot for a new fragment of k's source: its own oldest waiting one when it holds its
 * share, else a free slot, else the oldest waiting one; -1 when all hold released ones. */
static int hold_slot(const struct frag_table *ft, const struct frag_key *k)
{
	int own = -1, any = -1, free_slot = -1;
	unsigned count = 0;

	for (unsigned i = 0; i < FRAG_HELD; i++) {
		const struct frag_held *h = &ft->held[i];

		if (!h->live) {
			free_slot = (int)i;
			continue;
		}
		if (!waiting(h))
			continue;
		if (any < 0 || earlier(ft->held_order[i], ft->held_order[any]))
			any = (int)i;
		if (h->key.src != k->src)
			continue;
		count++;
		if (own < 0 || earlier(ft->held_order[i], ft->held_order[own]))
			own = (int)i;
	}
	if (count >= FRAG_HELD_PER_SOURCE)
		return own;
	return free_slot >= 0 ? free_slot : any;
}

bool frag_hold(struct frag_table *ft, const struct frag_key *k, const uint8_t *data, size_t len,
	       uint32_t now, bool *evicted)
{
	int i = len > FRAG_HELD_MAX ? -1 : hold_slot(ft, k);
	struct frag_held *h;

	*evicted = false;
	if (i < 0)
		return false;
	h = &ft->held[i];
	*evicted = h->live;
	if (!h->live)
		ft->n_held++;
	h->key = *k;
	h->born_ms = now;
	h->len = (uint16_t)len;
	h->live = true;
	h->ready = false;
	memcpy(h->data, data, len);
	ft->held_order[i] = ft->held_seq++;
	return true;
}

void frag_release(struct frag_table *ft, const struct frag_key *k, const struct frag_rewrite *rw,
		  bool inbound)
{
	for (unsigned i = 0; i < FRAG_HELD; i++) {
		struct frag_held *h = &ft->held[i];

		if (waiting(h) && key_eq(&h->key, k)) {
			h->ready = true;
			h->rw = *rw;
			h->inbound = inbound;
		}
	}
}

size_t frag_take_ready(struct frag_table *ft, uint8_t *buf, size_t cap, struct frag_rewrite *rw,
		       bool *inbound)
{
	int best = -1;

	for (unsigned i = 0; i < FRAG_HELD; i++) {
		if (!ft->held[i].live || !ft->held[i].ready)
			continue;
		if (best < 0 || earlier(ft->held_order[i], ft->held_order[best]))
			best = (int)i;
	}
	if (best < 0 || ft->held[best].len > cap)
		return 0;
	memcpy(buf, ft->held[best].data, ft->held[best].len);
	*rw = ft->held[best].rw;
	*inbound = ft->held[best].inbound;
	ft->held[best].live = false;
	ft->n_held--;
	return ft->held[best].len;
}

unsigned frag_expire(struct frag_table *ft, uint32_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FRAG_HELD; i++) {
		if (waiting(&ft->held[i]) && expired(ft->held[i].born_ms, now)) {
			ft->held[i].live = false;
			ft->n_held--;
			n++;
		}
	}
	return n;
}
