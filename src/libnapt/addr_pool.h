/* SPDX-License-Identifier: BSD-2-Clause */
/* addr_pool.h - dynamic NAT (`mode dynamic`): RFC 3022 Basic NAT with addresses bound
 * dynamically, the documents' 动态NAT.
 *
 * The `external` addresses are a pool. An inside host that opens a flow gets a free address
 * of its own and keeps it while it holds a session; its ports (and ICMP identifiers) are not
 * translated. When its last session has gone, the address is given back and rests
 * ADDR_REST_MS before another host may take it (the host that held it may take it again at
 * once: its peers knew it there), so a remote host cannot reach the next holder with what
 * it meant for the last. At most NAPT_MAX_EXTERNAL addresses: every operation is a scan of
 * that many entries, made only for a host's new flow and once a second (napt_expire).
 */
#ifndef ADDR_POOL_H
#define ADDR_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "napt_config.h"

#define ADDR_REST_MS 120000u

struct addr_binding {
	uint32_t holder;      /* inside address, network order; 0 = free */
	uint32_t last_holder; /* the previous holder, while resting */
	uint32_t rest_until;  /* clock when the rest ends */
	bool resting;
};

struct addr_pool {
	struct addr_binding b[NAPT_MAX_EXTERNAL];
	unsigned n;
};

/* Whether an inside host still holds a session (the engine's per-host counts). */
typedef bool (*addr_pool_busy_fn)(void *ctx, uint32_t host);

/* n addresses, all free. */
void addr_pool_init(struct addr_pool *p, unsigned n);
/* The index of host's address: the one it holds, else a free one (its own last address
 * first, else one whose rest is over). -1 when none is free: the pool is exhausted. Idle
 * bindings are released first (addr_pool_release_idle). */
int addr_pool_bind(struct addr_pool *p, uint32_t host, uint32_t now, addr_pool_busy_fn busy,
		   void *ctx);
/* Bindings whose host holds no session any more are released (their rest starts at now),
 * and rests that are over end. Returns how many were released. */
unsigned addr_pool_release_idle(struct addr_pool *p, uint32_t now, addr_pool_busy_fn busy,
				void *ctx);

#endif
