/* SPDX-License-Identifier: BSD-2-Clause */
/* port_alloc.h - which external ports are in use, and the choice of a new one. */
#ifndef PORT_ALLOC_H
#define PORT_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "napt.h"

#define PORT_BITMAP_WORDS (65536 / 64)

/* One bit per (protocol, external address, port): set while a mapping holds the port. */
struct port_pool {
	uint64_t used[NAPT_PROTOS][NAPT_MAX_EXTERNAL][PORT_BITMAP_WORDS];
};

static inline bool port_bit(const uint64_t *bitmap, uint16_t port)
{
	return bitmap[port / 64] >> (port % 64) & 1;
}

void port_pool_take(struct port_pool *pp, int proto, unsigned ext, uint16_t port);
void port_pool_release(struct port_pool *pp, int proto, unsigned ext, uint16_t port);
/* Ports taken on (proto, ext): a count of the bits, for the metrics. */
unsigned port_pool_count(const struct port_pool *pp, int proto, unsigned ext);

/* Choose a free port in lo..hi on (proto, ext): `preferred` when it is in range and free
 * (port preservation; pass 0 for none), else RFC 6056 algorithm 1: a random start, then
 * upwards to the next free port, wrapping. `parity` 0 or 1 asks for an even or odd port
 * (RFC 4787 REQ-4), -1 for any. `reserved` (may be NULL) marks ports claimed by forwards.
 * Returns the port, or -1 when no port of the range fits. */
int port_pool_pick(const struct port_pool *pp, int proto, unsigned ext, uint16_t lo, uint16_t hi,
		   uint16_t preferred, int parity, uint64_t random, const uint64_t *reserved);

#endif
