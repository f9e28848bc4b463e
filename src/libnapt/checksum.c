/* checksum.c - Internet checksum, full and incremental. */
#include "checksum.h"

#include <arpa/inet.h>
#include <string.h>

/* Summed 32 bits at a time into 64, as the words lie in memory: the one's complement sum
 * of 16-bit words equals the folded sum of 32-bit words, since 2^16 is 1 modulo 2^16 - 1
 * (RFC 1071 section 2(C)), and summing byte-swapped words gives the byte-swapped sum (2(B)),
 * so one swap at the end replaces one per word. */
static uint16_t sum_as_stored(const uint8_t *p, size_t len)
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

/* The result is folded to 16 bits, so callers may add small values to it. */
uint32_t csum_add_bytes(uint32_t sum, const void *data, size_t len)
{
	return csum_fold64((uint64_t)sum + ntohs(sum_as_stored(data, len)));
}

/* 0xffff is its own byte swap: no swap needed. */
bool csum_valid(const void *data, size_t len)
{
	return sum_as_stored(data, len) == 0xffff;
}

uint16_t csum_buffer(const void *data, size_t len)
{
	return htons((uint16_t)~csum_fold(csum_add_bytes(0, data, len)));
}
