/* SPDX-License-Identifier: BSD-2-Clause */
/* addr_pool.c - dynamic NAT's address bindings (addr_pool.h). */
#include "addr_pool.h"

#include <string.h>

void addr_pool_init(struct addr_pool *p, unsigned n)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
}

/* Wrapping clock: rest_until is less than 2^31 ms ahead while resting, and a rest that is
 * over is ended by the next release pass (once a second in naptd), long before that. */
static bool rest_over(const struct addr_binding *b, uint32_t now)
{
	return (int32_t)(now - b->rest_until) >= 0;
}

unsigned addr_pool_release_idle(struct addr_pool *p, uint32_t now, addr_pool_busy_fn busy,
				void *ctx)
{
	unsigned released = 0;

	for (unsigned i = 0; i < p->n; i++) {
		struct addr_binding *b = &p->b[i];

		if (b->holder && !busy(ctx, b->holder)) {
			b->last_holder = b->holder;
			b->holder = 0;
			b->rest_until = now + ADDR_REST_MS;
			b->resting = true;
			released++;
		} else if (b->resting && rest_over(b, now)) {
			b->resting = false;
		}
	}
	return released;
}

static int held_by(const struct addr_pool *p, uint32_t host)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->b[i].holder == host)
			return (int)i;
	return -1;
}

/* A free address for host: the one it held last if it is free, else the first whose rest
 * is over. */
static int free_for(const struct addr_pool *p, uint32_t host)
{
	int any = -1;

	for (unsigned i = 0; i < p->n; i++) {
		const struct addr_binding *b = &p->b[i];

		if (b->holder)
			continue;
		if (b->last_holder == host)
			return (int)i;
		if (any < 0 && !b->resting)
			any = (int)i;
	}
	return any;
}

int addr_pool_bind(struct addr_pool *p, uint32_t host, uint32_t now, addr_pool_busy_fn busy,
		   void *ctx)
{
	int i = held_by(p, host);

	if (i >= 0)
		return i;
	addr_pool_release_idle(p, now, busy, ctx);
	i = free_for(p, host);
	if (i >= 0) {
		p->b[i].holder = host;
		p->b[i].resting = false;
	}
	return i;
}
