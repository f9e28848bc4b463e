/* SPDX-License-Identifier: BSD-2-Clause */
/* siphash.h - SipHash-1-3 over a 16-byte message: the keyed hash of every table whose keys a
 * remote party chooses (flows, per-host counts, fragments).
 *
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) is a keyed
 * pseudo-random function: without the 128-bit key nobody can tell which keys share a
 * bucket, so no one can aim a flood of flows at one hash bucket (docs/security.md). Every
 * key here fits in 16 bytes, so the message length is fixed: two 64-bit words, m0 holding
 * message bytes 0-7 and m1 bytes 8-15 (little-endian, as the paper reads them), then the
 * final block that carries the length (16). One compression round per block and three
 * finalization rounds (SipHash-1-3, the variant Python, Rust and the Linux kernel use for
 * hash tables) cost about 8 ns here; tests/unit/test_siphash.c checks it against the
 * paper's SipHash-2-4 vectors through the same round function and against OpenSSL's
 * SipHash-1-3.
 */
#ifndef SIPHASH_H
#define SIPHASH_H

#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1; /* key bytes 0-7 and 8-15, little-endian */
};

struct siphash_state {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t siphash_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* SipRound (paper, section 2). */
static inline void siphash_round(struct siphash_state *s)
{
	s->v0 += s->v1;
	s->v1 = siphash_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = siphash_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = siphash_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = siphash_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = siphash_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = siphash_rotl(s->v2, 32);
}

/* Initialization: the key xored into the constants "somepseudorandomlygeneratedbytes". */
static inline struct siphash_state siphash_init(const struct siphash_key *k)
{
	return (struct siphash_state){k->k0 ^ 0x736f6d6570736575ull, k->k1 ^ 0x646f72616e646f6dull,
				      k->k0 ^ 0x6c7967656e657261ull, k->k1 ^ 0x7465646279746573ull};
}

/* Compression of one message word with c rounds. */
static inline void siphash_compress(struct siphash_state *s, uint64_t m, int c)
{
	s->v3 ^= m;
	for (int i = 0; i < c; i++)
		siphash_round(s);
	s->v0 ^= m;
}

/* Finalization with d rounds. */
static inline uint64_t siphash_finish(struct siphash_state *s, int d)
{
	s->v2 ^= 0xff;
	for (int i = 0; i < d; i++)
		siphash_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* SipHash-1-3 of the 16-byte message (m0, m1). The whole 64-bit value is the key's hash:
 * tables take their bucket from its low bits and may keep a tag from its high bits. */
static inline uint64_t siphash13_16(const struct siphash_key *k, uint64_t m0, uint64_t m1)
{
	struct siphash_state s = siphash_init(k);

	siphash_compress(&s, m0, 1);
	siphash_compress(&s, m1, 1);
	siphash_compress(&s, (uint64_t)16 << 56, 1); /* no bytes left over, length 16 */
	return siphash_finish(&s, 3);
}

#endif
