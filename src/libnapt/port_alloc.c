/* SPDX-License-Identifier: BSD-2-Clause */
/* port_alloc.c - external port bitmaps, RFC 6056 port choice and RFC 6888 REQ-8 rest. */
#include "port_alloc.h"

#include <stdlib.h>
#include <string.h>

void port_pool_take(struct port_pool *pp, int proto, unsigned ext, uint16_t port)
{
	pp->used[proto][ext][port / 64] |= 1ull << (port % 64);
}

void port_pool_release(struct port_pool *pp, int proto, unsigned ext, uint16_t port, bool rest)
{
	pp->used[proto][ext][port / 64] &= ~(1ull << (port % 64));
	if (rest && pp->rest.rest_ms)
		pp->resting[pp->rest.newer][proto][ext][port / 64] |= 1ull << (port % 64);
}

void port_pool_unrest(struct port_pool *pp, int proto, unsigned ext, uint16_t port)
{
	for (int b = 0; b < 2; b++)
		pp->resting[b][proto][ext][port / 64] &= ~(1ull << (port % 64));
}

void port_pool_forget_rest(struct port_pool *pp, unsigned ext)
{
	for (int b = 0; b < 2; b++)
		for (int p = 0; p < NAPT_PROTOS; p++)
			memset(pp->resting[b][p][ext], 0, sizeof(pp->resting[b][p][ext]));
}

void port_pool_set_rest(struct port_pool *pp, uint32_t rest_ms)
{
	pp->rest.rest_ms = rest_ms;
}

/* Wrap-around time order (the clock is 32-bit milliseconds). */
static bool reached(uint32_t now, uint32_t t)
{
	return (int32_t)(now - t) >= 0;
}

void port_pool_tick(struct port_pool *pp, uint32_t now)
{
	struct port_rest *r = &pp->rest;

	if (!r->rest_ms)
		return;
	if (!r->started) {
		/* Ports released before the first tick rest from now on. */
		r->started = true;
		r->newer_since = now;
	}
	if (r->older_live && reached(now, r->older_free_at)) {
		memset(pp->resting[!r->newer], 0, sizeof(port_bitmap));
		r->older_live = false;
	}
	if (now - r->newer_since >= r->rest_ms && !r->older_live) {
		/* Every port of the newer bitmap was released before now: all have rested by
		 * now + rest_ms. The older one was cleared above (it was due at the latest when
		 * the newer had run rest_ms). */
		r->newer = !r->newer;
		r->older_free_at = now + r->rest_ms;
		r->older_live = true;
		r->newer_since = now;
	}
}

bool port_pool_resting(const struct port_pool *pp, int proto, unsigned ext, uint16_t port)
{
	return port_bit(pp->resting[0][proto][ext], port) ||
	       port_bit(pp->resting[1][proto][ext], port);
}

/* The bitmaps whose set bits make a port unavailable: in use, resting, reserved. */
struct taken_maps {
	const uint64_t *map[4];
	unsigned n;
};

static struct taken_maps taken_maps(const struct port_pool *pp, int proto, unsigned ext,
				    const uint64_t *reserved)
{
	struct taken_maps t = {{pp->used[proto][ext]}, 1};

	if (pp->rest.rest_ms) {
		t.map[t.n++] = pp->resting[0][proto][ext];
		t.map[t.n++] = pp->resting[1][proto][ext];
	}
	if (reserved)
		t.map[t.n++] = reserved;
	return t;
}

static uint64_t taken_word(const struct taken_maps *t, uint32_t word)
{
	uint64_t w = 0;

	for (unsigned i = 0; i < t->n; i++)
		w |= t->map[i][word];
	return w;
}

static bool port_taken(const struct taken_maps *t, uint16_t port)
{
	return taken_word(t, port / 64) >> (port % 64) & 1;
}

/* Ports of the wrong parity, as a word mask: words start at multiples of 64, so bit i of a
 * word is an odd port when i is odd. */
static uint64_t parity_mask(int parity)
{
	return parity < 0 ? 0 : parity == 0 ? 0xaaaaaaaaaaaaaaaaull : 0x5555555555555555ull;
}

/* First free port in from..hi, or -1. Whole 64-bit words are skipped when full, so even
 * an almost exhausted range costs at most 1024 word reads. */
static int first_free(const struct taken_maps *t, uint64_t wrong, uint32_t from, uint32_t hi)
{
	uint32_t p = from;

	while (p <= hi) {
		uint64_t taken = taken_word(t, p / 64) | wrong;

		taken |= (1ull << (p % 64)) - 1; /* bits below p in this word don't count */
		if (~taken) {
			uint32_t q = (p & ~63u) + (uint32_t)__builtin_ctzll(~taken);

			return q <= hi ? (int)q : -1;
		}
		p = (p & ~63u) + 64;
	}
	return -1;
}

int port_pool_pick(const struct port_pool *pp, int proto, unsigned ext, uint16_t lo, uint16_t hi,
		   uint16_t preferred, int parity, uint64_t random, const uint64_t *reserved)
{
	struct taken_maps t = taken_maps(pp, proto, ext, reserved);
	uint64_t wrong = parity_mask(parity);
	uint32_t n = (uint32_t)hi - lo + 1;
	uint32_t start;
	int port;

	if (preferred >= lo && preferred <= hi && preferred && !port_taken(&t, preferred))
		return preferred;
	start = lo + (uint32_t)(random % n);
	port = first_free(&t, wrong, start, hi);
	if (port < 0 && start > lo)
		port = first_free(&t, wrong, lo, start - 1);
	return port;
}

unsigned port_pool_count(const struct port_pool *pp, int proto, unsigned ext)
{
	unsigned n = 0;

	for (unsigned w = 0; w < PORT_BITMAP_WORDS; w++)
		n += (unsigned)__builtin_popcountll(pp->used[proto][ext][w]);
	return n;
}

/* ---- port blocks ---- */

struct port_blocks *port_blocks_create(uint16_t size, uint16_t lo, uint16_t hi, unsigned n_ext)
{
	struct port_blocks *pb = calloc(1, sizeof(*pb));

	if (!pb)
		return NULL;
	pb->size = size;
	pb->lo = lo;
	pb->per_ext = ((uint32_t)hi - lo + 1) / size;
	pb->n_ext = n_ext;
	pb->b = calloc((size_t)pb->per_ext * n_ext, sizeof(*pb->b));
	if (!pb->b) {
		free(pb);
		return NULL;
	}
	return pb;
}

void port_blocks_destroy(struct port_blocks *pb)
{
	if (!pb)
		return;
	free(pb->b);
	free(pb);
}

size_t port_blocks_bytes(const struct port_blocks *pb)
{
	return sizeof(*pb) + (size_t)pb->per_ext * pb->n_ext * sizeof(*pb->b);
}

uint32_t port_blocks_clear(struct port_blocks *pb)
{
	uint32_t held = 0;

	for (uint32_t i = 0; i < pb->per_ext * pb->n_ext; i++)
		held += pb->b[i].owner != 0;
	memset(pb->b, 0, (size_t)pb->per_ext * pb->n_ext * sizeof(*pb->b));
	return held;
}

uint32_t port_blocks_of(const struct port_blocks *pb, unsigned ext, uint16_t port)
{
	uint32_t i;

	if (port < pb->lo)
		return 0;
	i = (uint32_t)(port - pb->lo) / pb->size;
	return i < pb->per_ext ? ext * pb->per_ext + i + 1 : 0;
}

void port_blocks_range(const struct port_blocks *pb, uint32_t id, unsigned *ext, uint16_t *lo,
		       uint16_t *hi)
{
	*ext = id / pb->per_ext;
	*lo = (uint16_t)(pb->lo + (id % pb->per_ext) * pb->size);
	*hi = (uint16_t)(*lo + pb->size - 1);
}

/* Whether any port of lo..hi is taken, a word at a time. */
static bool any_taken(const struct taken_maps *t, uint32_t lo, uint32_t hi)
{
	for (uint32_t w = lo / 64; w <= hi / 64; w++) {
		uint64_t mask = ~0ull;

		if (w == lo / 64)
			mask &= ~0ull << (lo % 64);
		if (w == hi / 64 && hi % 64 != 63)
			mask &= (1ull << (hi % 64 + 1)) - 1;
		if (taken_word(t, w) & mask)
			return true;
	}
	return false;
}

/* No port of lo..hi used or resting on ext, in any protocol. */
static bool ports_all_free(const struct port_pool *pp, unsigned ext, uint16_t lo, uint16_t hi)
{
	for (int proto = 0; proto < NAPT_PROTOS; proto++) {
		struct taken_maps t = taken_maps(pp, proto, ext, NULL);

		if (any_taken(&t, lo, hi))
			return false;
	}
	return true;
}

static bool block_free(const struct port_blocks *pb, const struct port_pool *pp, uint32_t id)
{
	unsigned e;
	uint16_t lo, hi;

	if (pb->b[id].owner)
		return false;
	port_blocks_range(pb, id, &e, &lo, &hi);
	return ports_all_free(pp, e, lo, hi);
}

uint32_t port_blocks_find_free(const struct port_blocks *pb, const struct port_pool *pp,
			       unsigned ext, uint16_t preferred, uint64_t random)
{
	uint32_t want = preferred ? port_blocks_of(pb, ext, preferred) : 0;
	uint32_t start = (uint32_t)(random % pb->per_ext);

	if (want && block_free(pb, pp, want - 1))
		return want;
	for (uint32_t j = 0; j < pb->per_ext; j++) {
		uint32_t id = ext * pb->per_ext + (start + j) % pb->per_ext;

		if (block_free(pb, pp, id))
			return id + 1;
	}
	return 0;
}
