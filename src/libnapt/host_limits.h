/* SPDX-License-Identifier: BSD-2-Clause */
/* host_limits.h - sessions and external ports held by each inside host (RFC 6888 REQ-4).
 *
 * An open-addressing table keyed by inside address. It is made only when a per-host limit
 * or port blocks are configured (it costs 20 bytes per slot, with as many slots as sessions), and
 * every host in it holds at least one session, so it can never fill up.
 */
#ifndef HOST_LIMITS_H
#define HOST_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

struct host_count {
	uint32_t addr; /* network order; 0 = free slot */
	uint32_t sessions, ports;
	/* Port blocks (port_alloc.h) the host holds: the first one's id + 1, and how many. A
	 * host with a block holds a mapping on it, so it stays in the table meanwhile. */
	uint32_t block, blocks;
};

struct host_limits {
	uint32_t mask;
	struct siphash_key key;
	struct host_count *slots;
};

/* Room for max_hosts hosts at a load of at most one half, slots chosen by the keyed hash of
 * the address under key. NULL when out of memory. */
struct host_limits *host_limits_create(uint32_t max_hosts, const struct siphash_key *key);
void host_limits_destroy(struct host_limits *hl);
size_t host_limits_bytes(const struct host_limits *hl);

/* The counts of addr (zeros when it holds nothing). */
struct host_count host_limits_get(const struct host_limits *hl, uint32_t addr);
/* addr's entry, to change its blocks in place; NULL when it holds nothing. The pointer
 * holds until the next host_limits_add(). */
struct host_count *host_limits_find(struct host_limits *hl, uint32_t addr);
/* Add dsessions and dports (either may be negative) to addr's counts; a host whose counts
 * both reach zero leaves the table. */
void host_limits_add(struct host_limits *hl, uint32_t addr, int dsessions, int dports);

#endif
