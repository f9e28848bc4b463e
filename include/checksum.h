/* checksum.h - the Internet checksum (RFC 1071) and its incremental update (RFC 1624). */
#ifndef CHECKSUM_H
#define CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's complement sum of len bytes added to sum, not folded. */
uint32_t csum_add_bytes(uint32_t sum, const void *data, size_t len);
/* Fold a 32-bit sum to 16 bits (still uncomplemented). */
uint16_t csum_fold(uint32_t sum);
/* The checksum of a buffer: ~fold(sum). The result is in network order when stored with
 * memcpy, since the sum is computed over network-order 16-bit words. */
uint16_t csum_buffer(const void *data, size_t len);

/* RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'). Updates a checksum (as stored, network order)
 * when a 16-bit word changes from old to new (both as stored). Eqn 3 never yields -0
 * (0xFFFF from a non-zero sum) the way RFC 1141's eqn does. */
uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new);
/* The same for a 32-bit field (an IPv4 address), as stored. */
uint16_t csum_update32(uint16_t check, uint32_t old, uint32_t new);

/* A partial checksum (virtio NEEDS_CSUM) holds the uncomplemented pseudo-header sum: an
 * address change is added, uncomplemented. */
uint16_t csum_partial_update32(uint16_t partial, uint32_t old, uint32_t new);

#endif
