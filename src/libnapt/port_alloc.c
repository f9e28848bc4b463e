/* SPDX-License-Identifier: BSD-2-Clause */
/* port_alloc.c - external port bitmaps and RFC 6056 port choice. */
#include "port_alloc.h"

void port_pool_take(struct port_pool *pp, int proto, unsigned ext, uint16_t port)
{
	pp->used[proto][ext][port / 64] |= 1ull << (port % 64);
}

void port_pool_release(struct port_pool *pp, int proto, unsigned ext, uint16_t port)
{
	pp->used[proto][ext][port / 64] &= ~(1ull << (port % 64));
}

static bool port_taken(const uint64_t *used, const uint64_t *reserved, uint16_t port)
{
	return port_bit(used, port) || (reserved && port_bit(reserved, port));
}

/* Ports of the wrong parity, as a word mask: words start at multiples of 64, so bit i of a
 * word is an odd port when i is odd. */
static uint64_t parity_mask(int parity)
{
	return parity < 0 ? 0 : parity == 0 ? 0xaaaaaaaaaaaaaaaaull : 0x5555555555555555ull;
}

/* First free port in from..hi, or -1. Whole 64-bit words are skipped when full, so even
 * an almost exhausted range costs at most 1024 word reads. */
static int first_free(const uint64_t *used, const uint64_t *reserved, uint64_t wrong, uint32_t from,
		      uint32_t hi)
{
	uint32_t p = from;

	while (p <= hi) {
		uint64_t taken = used[p / 64] | (reserved ? reserved[p / 64] : 0) | wrong;

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
	const uint64_t *used = pp->used[proto][ext];
	uint64_t wrong = parity_mask(parity);
	uint32_t n = (uint32_t)hi - lo + 1;
	uint32_t start;
	int port;

	if (preferred >= lo && preferred <= hi && preferred &&
	    !port_taken(used, reserved, preferred))
		return preferred;
	start = lo + (uint32_t)(random % n);
	port = first_free(used, reserved, wrong, start, hi);
	if (port < 0 && start > lo)
		port = first_free(used, reserved, wrong, lo, start - 1);
	return port;
}

unsigned port_pool_count(const struct port_pool *pp, int proto, unsigned ext)
{
	unsigned n = 0;

	for (unsigned w = 0; w < PORT_BITMAP_WORDS; w++)
		n += (unsigned)__builtin_popcountll(pp->used[proto][ext][w]);
	return n;
}
