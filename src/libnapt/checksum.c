/* checksum.c - Internet checksum, full and incremental. */
#include "checksum.h"

#include <arpa/inet.h>
#include <string.h>

/* Summed 32 bits at a time into 64: the one's complement sum of 16-bit words equals the
 * folded sum of 32-bit words, since 2^16 is 1 modulo 2^16 - 1 (RFC 1071 section 2(C)). The
 * result is folded to 16 bits, so callers may add small values to it. */
uint32_t csum_add_bytes(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;
	uint32_t w;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		acc += ntohl(w);
	}
	if (len >= 2) {
		acc += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)(p[0] << 8);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t to_stored(uint16_t host_order)
{
	uint8_t b[2] = {(uint8_t)(host_order >> 8), (uint8_t)host_order};
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

static uint16_t from_stored(uint16_t stored)
{
	uint8_t b[2];

	memcpy(b, &stored, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

uint16_t csum_buffer(const void *data, size_t len)
{
	return to_stored((uint16_t)~csum_fold(csum_add_bytes(0, data, len)));
}

/* Sums are computed in host order on the stored words: one's complement addition is
 * byte-order independent (RFC 1071 section 2(B)), so converting in and out is enough. */
uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~from_stored(check);

	sum += (uint16_t)~from_stored(old);
	sum += from_stored(new);
	return to_stored((uint16_t)~csum_fold(sum));
}

uint16_t csum_update32(uint16_t check, uint32_t old, uint32_t new)
{
	uint16_t o[2], n[2];
	uint32_t sum = (uint16_t)~from_stored(check);

	memcpy(o, &old, 4);
	memcpy(n, &new, 4);
	sum += (uint16_t)~from_stored(o[0]) + (uint32_t)(uint16_t)~from_stored(o[1]);
	sum += (uint32_t)from_stored(n[0]) + from_stored(n[1]);
	return to_stored((uint16_t)~csum_fold(sum));
}

uint16_t csum_partial_update32(uint16_t partial, uint32_t old, uint32_t new)
{
	uint16_t o[2], n[2];
	uint32_t sum = from_stored(partial);

	memcpy(o, &old, 4);
	memcpy(n, &new, 4);
	sum += (uint16_t)~from_stored(o[0]) + (uint32_t)(uint16_t)~from_stored(o[1]);
	sum += (uint32_t)from_stored(n[0]) + from_stored(n[1]);
	return to_stored(csum_fold(sum));
}
