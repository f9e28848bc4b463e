/* SPDX-License-Identifier: BSD-2-Clause */
/* fragment.c - fragment translations and the held-fragment pool. */
#include "fragment.h"

#include <string.h>

static bool key_eq(const struct frag_key *a, const struct frag_key *b)
{
	return a->src == b->src && a->dst == b->dst && a->id == b->id && a->proto == b->proto;
}

static uint32_t key_bucket(const struct frag_key *k)
{
	uint64_t h = ((uint64_t)k->src << 32 | k->dst) ^ ((uint64_t)k->id << 8 | k->proto);

	h *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 40) % FRAG_ENTRIES;
}

static bool expired(uint32_t born, uint32_t now)
{
	return (uint32_t)(now - born) > FRAG_TIMEOUT_MS;
}

void frag_table_init(struct frag_table *ft)
{
	memset(ft, 0, sizeof(*ft));
}

static void entry_unlink(struct frag_table *ft, uint32_t idx)
{
	uint32_t *p = &ft->buckets[key_bucket(&ft->entries[idx].key)];

	while (*p && *p != idx + 1)
		p = &ft->entries[*p - 1].next;
	if (*p)
		*p = ft->entries[idx].next;
	ft->entries[idx].live = false;
}

bool frag_remember(struct frag_table *ft, const struct frag_key *k, const struct frag_rewrite *rw,
		   uint32_t now)
{
	uint32_t idx = ft->ring_next;
	struct frag_entry *e = &ft->entries[idx];
	uint32_t b = key_bucket(k);

	if (e->live) {
		if (!expired(e->born_ms, now))
			return false;
		entry_unlink(ft, idx);
	}
	*e = (struct frag_entry){.key = *k, .rw = *rw, .born_ms = now, .live = true};
	e->next = ft->buckets[b];
	ft->buckets[b] = idx + 1;
	ft->ring_next = (idx + 1) % FRAG_ENTRIES;
	return true;
}

bool frag_lookup(const struct frag_table *ft, const struct frag_key *k, uint32_t now,
		 struct frag_rewrite *rw)
{
	for (uint32_t i = ft->buckets[key_bucket(k)]; i; i = ft->entries[i - 1].next) {
		const struct frag_entry *e = &ft->entries[i - 1];

		if (key_eq(&e->key, k) && !expired(e->born_ms, now)) {
			*rw = e->rw;
			return true;
		}
	}
	return false;
}

bool frag_hold(struct frag_table *ft, const struct frag_key *k, const uint8_t *data, size_t len,
	       uint32_t now)
{
	if (len > FRAG_HELD_MAX)
		return false;
	for (unsigned i = 0; i < FRAG_HELD; i++) {
		struct frag_held *h = &ft->held[i];

		if (h->live)
			continue;
		h->key = *k;
		h->born_ms = now;
		h->len = (uint16_t)len;
		h->live = true;
		h->ready = false;
		memcpy(h->data, data, len);
		ft->held_order[i] = ft->held_seq++;
		ft->n_held++;
		return true;
	}
	return false;
}

void frag_release(struct frag_table *ft, const struct frag_key *k, const struct frag_rewrite *rw,
		  bool inbound)
{
	for (unsigned i = 0; i < FRAG_HELD; i++) {
		struct frag_held *h = &ft->held[i];

		if (h->live && !h->ready && key_eq(&h->key, k)) {
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
		if (best < 0 || (int32_t)(ft->held_order[i] - ft->held_order[best]) < 0)
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
		if (ft->held[i].live && !ft->held[i].ready && expired(ft->held[i].born_ms, now)) {
			ft->held[i].live = false;
			ft->n_held--;
			n++;
		}
	}
	return n;
}
