/* SPDX-License-Identifier: BSD-2-Clause */
/* peer_counts.c - sessions per (external address, remote address) in a linear-probing table
 * with backward-shift deletion (no tombstones: probe runs stay as short as the load allows
 * however long the gateway runs).
 *
 * Slots: one and a half per session of max-sessions, so the table is at most two thirds
 * full (a pair holds at least one session): 12 bytes per session, where the next power of
 * two at or above twice max-sessions would cost 16 to 32. The home slot is therefore taken
 * by multiplying the hash into the range (Lemire's fast range reduction), not by a mask.
 * At two thirds full a lookup that misses reads about 5 slots on average, one that finds
 * its pair 2 (Knuth, TAOCP vol. 3, 6.4), all in one or two cache lines. */
#include "peer_counts.h"

#include <stdlib.h>
#include <string.h>

#include "napt_config.h"

/* 8 bytes. Free slots have no sessions (every pair in the table has at least one). */
struct peer_count {
	uint32_t rem_addr;      /* network order */
	uint32_t ext_index : 4; /* an index below NAPT_MAX_EXTERNAL */
	uint32_t sessions : 28; /* max-sessions is 2^24 at most */
};
_Static_assert(NAPT_MAX_EXTERNAL <= 16, "ext_index holds 4 bits");

struct peer_counts {
	uint32_t n;     /* slots */
	uint32_t pairs; /* entries in use */
	struct siphash_key key;
	struct peer_count *slots;
};

/* The pair's home slot. The second word tells these messages from those of the other tables
 * keyed with the same secret. */
static uint32_t slot_of(const struct peer_counts *pc, unsigned ext_index, uint32_t rem_addr)
{
	uint32_t h = (uint32_t)siphash13_16(&pc->key, rem_addr, 0x70656572ull << 32 | ext_index);

	return (uint32_t)((uint64_t)h * pc->n >> 32);
}

static uint32_t next_slot(const struct peer_counts *pc, uint32_t i)
{
	return i + 1 == pc->n ? 0 : i + 1;
}

/* Slots from a to b going forward, wrapping at the end. */
static uint32_t distance(const struct peer_counts *pc, uint32_t a, uint32_t b)
{
	return b >= a ? b - a : b + pc->n - a;
}

struct peer_counts *peer_counts_create(uint32_t max_sessions, const struct siphash_key *key)
{
	struct peer_counts *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return NULL;
	pc->n = max_sessions + max_sessions / 2 + 1; /* max-sessions is 2^24 at most */
	pc->key = *key;
	pc->slots = calloc(pc->n, sizeof(*pc->slots));
	if (!pc->slots) {
		free(pc);
		return NULL;
	}
	return pc;
}

void peer_counts_destroy(struct peer_counts *pc)
{
	if (!pc)
		return;
	free(pc->slots);
	free(pc);
}

size_t peer_counts_bytes(const struct peer_counts *pc)
{
	return sizeof(*pc) + (size_t)pc->n * sizeof(*pc->slots);
}

void peer_counts_clear(struct peer_counts *pc)
{
	memset(pc->slots, 0, (size_t)pc->n * sizeof(*pc->slots));
	pc->pairs = 0;
}

/* The slot holding the pair, or the free slot where it would go. */
static uint32_t find(const struct peer_counts *pc, unsigned ext_index, uint32_t rem_addr)
{
	uint32_t i = slot_of(pc, ext_index, rem_addr);

	while (pc->slots[i].sessions &&
	       (pc->slots[i].rem_addr != rem_addr || pc->slots[i].ext_index != ext_index))
		i = next_slot(pc, i);
	return i;
}

bool peer_counts_known(const struct peer_counts *pc, unsigned ext_index, uint32_t rem_addr)
{
	return pc->slots[find(pc, ext_index, rem_addr)].sessions != 0;
}

uint32_t peer_counts_pairs(const struct peer_counts *pc)
{
	return pc->pairs;
}

/* Close the gap at i: move back every later entry of the run that may live there. */
static void remove_at(struct peer_counts *pc, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		const struct peer_count *e;
		uint32_t home;

		j = next_slot(pc, j);
		e = &pc->slots[j];
		if (!e->sessions)
			break;
		home = slot_of(pc, e->ext_index, e->rem_addr);
		/* j's entry may move to i when its home is not within (i, j] cyclically. */
		if (distance(pc, home, j) >= distance(pc, i, j)) {
			pc->slots[i] = *e;
			i = j;
		}
	}
	pc->slots[i] = (struct peer_count){0, 0, 0};
}

void peer_counts_add(struct peer_counts *pc, unsigned ext_index, uint32_t rem_addr, bool up)
{
	uint32_t i = find(pc, ext_index, rem_addr);
	struct peer_count *c = &pc->slots[i];

	if (up) {
		pc->pairs += !c->sessions;
		*c = (struct peer_count){rem_addr, ext_index & 0xf, c->sessions + 1};
		return;
	}
	if (!--c->sessions) {
		remove_at(pc, i);
		pc->pairs--;
	}
}
