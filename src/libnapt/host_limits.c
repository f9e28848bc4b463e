/* SPDX-License-Identifier: BSD-2-Clause */
/* host_limits.c - per-host counts in a linear-probing table with backward-shift deletion
 * (no tombstones, so lookups stay short however long the gateway runs). */
#include "host_limits.h"

#include <stdlib.h>

/* Keyed (siphash.h): a LAN host that sends from many addresses of its prefix cannot choose
 * ones that share a probe run. */
static uint32_t slot_of(const struct host_limits *hl, uint32_t addr)
{
	return (uint32_t)siphash13_16(&hl->key, addr, 0) & hl->mask;
}

struct host_limits *host_limits_create(uint32_t max_hosts, const struct siphash_key *key)
{
	struct host_limits *hl = calloc(1, sizeof(*hl));
	uint32_t n = 2;

	if (!hl)
		return NULL;
	while (n < 2 * (uint64_t)max_hosts)
		n <<= 1;
	hl->mask = n - 1;
	hl->key = *key;
	hl->slots = calloc(n, sizeof(*hl->slots));
	if (!hl->slots) {
		free(hl);
		return NULL;
	}
	return hl;
}

void host_limits_destroy(struct host_limits *hl)
{
	if (!hl)
		return;
	free(hl->slots);
	free(hl);
}

size_t host_limits_bytes(const struct host_limits *hl)
{
	return sizeof(*hl) + ((size_t)hl->mask + 1) * sizeof(*hl->slots);
}

/* The slot holding addr, or the free slot where it would go. */
static uint32_t find(const struct host_limits *hl, uint32_t addr)
{
	uint32_t i = slot_of(hl, addr);

	while (hl->slots[i].addr && hl->slots[i].addr != addr)
		i = (i + 1) & hl->mask;
	return i;
}

struct host_count host_limits_get(const struct host_limits *hl, uint32_t addr)
{
	struct host_count c = hl->slots[find(hl, addr)];

	return c.addr ? c : (struct host_count){addr, 0, 0, 0, 0};
}

struct host_count *host_limits_find(struct host_limits *hl, uint32_t addr)
{
	struct host_count *c = &hl->slots[find(hl, addr)];

	return c->addr ? c : NULL;
}

/* Close the gap at i: move back every later entry of the run that may live there. */
static void remove_at(struct host_limits *hl, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & hl->mask;
		if (!hl->slots[j].addr)
			break;
		home = slot_of(hl, hl->slots[j].addr);
		/* j's entry may move to i when its home is not within (i, j] cyclically. */
		if (((j - home) & hl->mask) >= ((j - i) & hl->mask)) {
			hl->slots[i] = hl->slots[j];
			i = j;
		}
	}
	hl->slots[i] = (struct host_count){0, 0, 0, 0, 0};
}

void host_limits_add(struct host_limits *hl, uint32_t addr, int dsessions, int dports)
{
	uint32_t i = find(hl, addr);
	struct host_count *c = &hl->slots[i];

	c->addr = addr;
	c->sessions = (uint32_t)((int64_t)c->sessions + dsessions);
	c->ports = (uint32_t)((int64_t)c->ports + dports);
	if (!c->sessions && !c->ports)
		remove_at(hl, i);
}
