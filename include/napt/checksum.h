/* SPDX-License-Identifier: BSD-2-Clause */
/* checksum.h - the Internet checksum (RFC 1071) and its incremental update (RFC 1624). */
#ifndef CHECKSUM_H
#define CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One's complement sum of len bytes added to sum, folded to 16 bits (host order). */
uint32_t csum_add_bytes(uint32_t sum, const void *data, size_t len);

/* Fold a 32-bit sum to 16 bits (still uncomplemented). */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum of a buffer: ~fold(sum). The result is in network order when stored with
 * memcpy, since the sum is computed over network-order 16-bit words. */
uint16_t csum_buffer(const void *data, size_t len);

/* Incremental updates work on fields as they are stored, never byte-swapped: one's
 * complement addition is byte-order independent (RFC 1071 section 2(B)). They are inline
 * because every translated packet makes two or three of them. */

/* Fold a sum of up to 2^63 to 16 bits: 2^32 and 2^16 are both 1 modulo 2^16 - 1. */
static inline uint16_t csum_fold64(uint64_t sum)
{
	sum = (sum >> 32) + (uint32_t)sum;
	sum = (sum >> 32) + (uint32_t)sum;
	return csum_fold((uint32_t)sum);
}

/* Summed 32 bits at a time into 64, as the words lie in memory: the one's complement sum
 * of 16-bit words equals the folded sum of 32-bit words, since 2^16 is 1 modulo 2^16 - 1
 * (RFC 1071 section 2(C)), and summing byte-swapped words gives the byte-swapped sum (2(B)),
 * so one swap at the end replaces one per word. Inline, so that a constant length (an
 * option-less header on every packet) is summed without a loop. */
static inline uint16_t csum_sum_as_stored(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	uint32_t w;
	uint16_t tail = 0;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (len >= 2) {
		memcpy(&tail, p, 2);
		acc += tail;
		p += 2;
		len -= 2;
	}
	if (len) {
		tail = 0;
		memcpy(&tail, p, 1); /* the odd byte is the high half of a word padded with zero */
		acc += tail;
	}
	return csum_fold64(acc);
}

/* Whether len bytes holding their own checksum sum to 0xffff, as a correct header does
 * (RFC 1071 section 3). 0xffff is its own byte swap: no swap needed. */
static inline bool csum_valid(const void *data, size_t len)
{
	return csum_sum_as_stored((const uint8_t *)data, len) == 0xffff;
}

/* RFC 1624 eqn 3's ~m + m' for a field changing from `from` to `to` (as stored). Deltas of
 * several fields may be added up and applied with one fold. A 32-bit field is summed as
 * one word: its two 16-bit halves sum to the same, modulo 2^16 - 1. */
static inline uint64_t csum_delta16(uint16_t from, uint16_t to)
{
	return (uint64_t)(uint16_t)~from + to;
}

static inline uint64_t csum_delta32(uint32_t from, uint32_t to)
{
	return (uint64_t)(uint32_t)~from + to;
}

/* RFC 1624 eqn 3: HC' = ~(~HC + delta), on a checksum as stored. Eqn 3 never yields -0
 * (0xFFFF from a non-zero sum) the way RFC 1141's eqn does. */
static inline uint16_t csum_apply(uint16_t check, uint64_t delta)
{
	return (uint16_t)~csum_fold64((uint16_t)~check + delta);
}

/* A partial checksum (virtio NEEDS_CSUM) holds the uncomplemented pseudo-header sum: the
 * delta is added, uncomplemented. */
static inline uint16_t csum_partial_apply(uint16_t partial, uint64_t delta)
{
	return csum_fold64(partial + delta);
}

/* A TCP, UDP or ICMP checksum (as stored) after changes of summed words: addr_delta from
 * the pseudo-header's addresses, port_delta from the header itself. A partial checksum
 * (TCP, UDP) takes the address change uncomplemented and leaves the ports to the device,
 * which sums them. UDP's zero means "no checksum" and stays so; a computed zero is sent as
 * all ones (RFC 768). */
static inline uint16_t csum_l4_update(uint16_t check, bool udp, uint64_t addr_delta,
				      uint64_t port_delta, bool partial)
{
	if (partial)
		return csum_partial_apply(check, addr_delta);
	if (udp & (check == 0))
		return 0;
	check = csum_apply(check, addr_delta + port_delta);
	return (udp & (check == 0)) ? 0xffff : check;
}

/* Updates a checksum (as stored, network order) when a 16-bit word changes from `from` to
 * `to` (both as stored). */
static inline uint16_t csum_update16(uint16_t check, uint16_t from, uint16_t to)
{
	return csum_apply(check, csum_delta16(from, to));
}

/* The same for a 32-bit field (an IPv4 address), as stored. */
static inline uint16_t csum_update32(uint16_t check, uint32_t from, uint32_t to)
{
	return csum_apply(check, csum_delta32(from, to));
}

static inline uint16_t csum_partial_update32(uint16_t partial, uint32_t from, uint32_t to)
{
	return csum_partial_apply(partial, csum_delta32(from, to));
}

#ifdef __cplusplus
}
#endif

#endif
