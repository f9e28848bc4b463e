/* SPDX-License-Identifier: BSD-2-Clause */
/* prng.h - the engine's pseudo-random numbers (port choice, hash seeds). */
#ifndef PRNG_H
#define PRNG_H

#include <stdint.h>

struct prng {
	uint64_t s[4];
};

/* xoshiro256** seeded through splitmix64. Not a cryptographic generator: an attacker who
 * sees many consecutive external ports could predict the next; the daemon seeds it from
 * getrandom(2) and the choice also depends on which ports are free. */
void prng_seed(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);

#endif
