/* SPDX-License-Identifier: BSD-2-Clause */
/* port_alloc.h - which external ports are in use or resting, and the choice of a new one. */
#ifndef PORT_ALLOC_H
#define PORT_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "napt.h"

#define PORT_BITMAP_WORDS (65536 / 64)

typedef uint64_t port_bitmap[NAPT_PROTOS][NAPT_MAX_EXTERNAL][PORT_BITMAP_WORDS];

/* RFC 6888 REQ-8: a released port rests before a new mapping may take it. Released ports
 * are marked in the newer of two bitmaps; port_pool_tick() turns the newer into the older
 * once rest_ms has passed since the newer began, and clears the older once every port in it
 * has rested rest_ms. So a port rests at least rest_ms (and, while new mappings keep coming,
 * less than twice that), in a fixed 768 KiB whatever the number of released ports, and the
 * release itself needs no clock. */
struct port_rest {
	uint32_t rest_ms; /* 0: ports are free again at once */
	uint32_t newer_since, older_free_at;
	uint8_t newer; /* index of the newer bitmap */
	bool started, older_live;
};

/* One bit per (protocol, external address, port): set while a mapping holds the port. */
struct port_pool {
	port_bitmap used;
	port_bitmap resting[2];
	struct port_rest rest;
};

static inline bool port_bit(const uint64_t *bitmap, uint16_t port)
{
	return bitmap[port / 64] >> (port % 64) & 1;
}

void port_pool_take(struct port_pool *pp, int proto, unsigned ext, uint16_t port);
/* Free the port; with `rest`, it rests first (ports that are not the pool's to hand out to
 * anyone, like deterministic ranges, skip the rest: RFC 6888 REQ-8's exception b). */
void port_pool_release(struct port_pool *pp, int proto, unsigned ext, uint16_t port, bool rest);

/* The port's rest is called off: it was released by a removal of something never shown
 * outside (translate.c, a refused PCP PEER request). */
void port_pool_unrest(struct port_pool *pp, int proto, unsigned ext, uint16_t port);
/* External address ext was renumbered: its ports were another address's, none rests. */
void port_pool_forget_rest(struct port_pool *pp, unsigned ext);
void port_pool_set_rest(struct port_pool *pp, uint32_t rest_ms);
/* Move the rest generations on to `now`: called before each pick. */
void port_pool_tick(struct port_pool *pp, uint32_t now);
bool port_pool_resting(const struct port_pool *pp, int proto, unsigned ext, uint16_t port);
/* Ports taken on (proto, ext): a count of the bits, for the metrics. */
unsigned port_pool_count(const struct port_pool *pp, int proto, unsigned ext);

/* Choose a free port in lo..hi on (proto, ext): `preferred` when it is in range and free
 * (port preservation; pass 0 for none), else RFC 6056 algorithm 1: a random start, then
 * upwards to the next free port, wrapping. `parity` 0 or 1 asks for an even or odd port
 * (RFC 4787 REQ-4), -1 for any. `reserved` (may be NULL) marks ports claimed by forwards.
 * Resting ports count as taken. Returns the port, or -1 when no port of the range fits. */
int port_pool_pick(const struct port_pool *pp, int proto, unsigned ext, uint16_t lo, uint16_t hi,
		   uint16_t preferred, int parity, uint64_t random, const uint64_t *reserved);

/* Port blocks ("port-block-size N"): the port range of each external address cut into
 * blocks of N consecutive ports, each held by one inside host while a mapping of any
 * protocol is on it. A block whose last mapping ends goes back; its ports rest as any
 * others, and a block is handed out again only when none of its ports is used or resting,
 * so the block rests too. Ports past the last whole block are not used. */
struct port_block {
	uint32_t owner;    /* inside address, network order; 0: free */
	uint32_t next;     /* the owner's next block (id + 1), 0: none */
	uint32_t mappings; /* mappings on the block's ports */
};

struct port_blocks {
	uint16_t size, lo;
	uint32_t per_ext; /* blocks per external address */
	unsigned n_ext;
	struct port_block *b; /* per_ext * n_ext, id = ext * per_ext + i */
};

/* NULL when out of memory. */
struct port_blocks *port_blocks_create(uint16_t size, uint16_t lo, uint16_t hi, unsigned n_ext);
void port_blocks_destroy(struct port_blocks *pb);
size_t port_blocks_bytes(const struct port_blocks *pb);
/* Every block free again; returns how many were held (their ports rest as the pool says). */
uint32_t port_blocks_clear(struct port_blocks *pb);
/* The block (id + 1) holding port on ext, 0 for none. */
uint32_t port_blocks_of(const struct port_blocks *pb, unsigned ext, uint16_t port);
/* Block id's external address number and ports. */
void port_blocks_range(const struct port_blocks *pb, uint32_t id, unsigned *ext, uint16_t *lo,
		       uint16_t *hi);
/* A block (id + 1) free to hand out on ext, or 0: the one holding `preferred` (port
 * preservation; 0 for none) when it is free, else the first free one from a random one on. */
uint32_t port_blocks_find_free(const struct port_blocks *pb, const struct port_pool *pp,
			       unsigned ext, uint16_t preferred, uint64_t random);

#endif
