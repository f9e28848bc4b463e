/* SPDX-License-Identifier: BSD-2-Clause */
/* hex_key.c - a 128-bit hash key from 32 hex digits. */
#include "hex_key.h"

/* The value of one hex digit, -1 for any other character. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hex_key_parse(const char *hex, uint64_t key[2])
{
	uint64_t k[2] = {0, 0};
	int i, d;
	bool ok;

	/* The terminator is no digit: a short key stops the loop before reading past it. */
	for (i = 0; i < 32 && (d = hex_digit(hex[i])) >= 0; i++)
		k[i / 16] |= (uint64_t)d
			     << (8 * (i / 2 % 8) + (i % 2 ? 0 : 4)); /* high nibble first */
	ok = i == 32 && !hex[32];
	key[0] = ok ? k[0] : 0;
	key[1] = ok ? k[1] : 0;
	return ok;
}
