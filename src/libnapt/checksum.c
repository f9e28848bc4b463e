/* SPDX-License-Identifier: BSD-2-Clause */
/* checksum.c - Internet checksum, full and incremental. */
#include "checksum.h"

#include <arpa/inet.h>
#include <string.h>

/* The result is folded to 16 bits, so callers may add small values to it. */
uint32_t csum_add_bytes(uint32_t sum, const void *data, size_t len)
{
	return csum_fold64((uint64_t)sum + ntohs(csum_sum_as_stored(data, len)));
}

uint16_t csum_buffer(const void *data, size_t len)
{
	return htons((uint16_t)~csum_fold(csum_add_bytes(0, data, len)));
}
