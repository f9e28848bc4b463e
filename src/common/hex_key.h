/* SPDX-License-Identifier: BSD-2-Clause */
/* hex_key.h - read a 128-bit hash key written as 32 hex digits (napt-replay -k, the attack
 * tests' hash-flood-gen), key byte 0 first. */
#ifndef HEX_KEY_H
#define HEX_KEY_H

#include <stdbool.h>
#include <stdint.h>

/* Exactly 32 hex digits (either case, nothing else: no sign, space or 0x) into the two
 * little-endian words of the key (siphash.h): byte i goes to bits 8 * (i % 8) of key[i / 8].
 * false, key zeroed, for anything else. */
bool hex_key_parse(const char *hex, uint64_t key[2]);

#endif
