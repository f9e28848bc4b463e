/* SPDX-License-Identifier: BSD-2-Clause */
/* nat_event.c - the ring of mapping and session events (nat_event.h). */
#include "nat_event.h"

#include <stdlib.h>

#include "napt_instance.h"

static void record(struct nat_events *ev, const struct napt_event *e)
{
	if (ev->head - ev->tail == ev->capacity) {
		ev->lost++;
		return;
	}
	ev->ring[ev->head % ev->capacity] = *e;
	ev->head++;
}

void nat_event_mapping(struct nat_events *ev, enum napt_event_type type,
		       const struct nat_mapping *m, uint32_t ext_addr, bool expired)
{
	if (!ev || !ev->mappings)
		return;
	record(ev, &(struct napt_event){.in_addr = m->in_addr,
					.ext_addr = ext_addr,
					.rem_addr = m->rem_addr,
					.in_port = m->in_port,
					.ext_port = m->ext_port,
					.rem_port = m->rem_port,
					.type = (uint8_t)type,
					.proto = m->proto,
					.origin = m->origin,
					.expired = expired});
}

void nat_event_block(struct nat_events *ev, enum napt_event_type type, uint32_t owner,
		     uint32_t ext_addr, uint16_t lo, uint16_t hi, bool expired)
{
	if (!ev || !ev->blocks)
		return;
	record(ev, &(struct napt_event){.in_addr = owner,
					.ext_addr = ext_addr,
					.ext_port = lo,
					.ext_port_last = hi,
					.type = (uint8_t)type,
					.expired = expired});
}

void nat_event_session(struct nat_events *ev, enum napt_event_type type,
		       const struct nat_session *s, uint32_t ext_addr, bool expired)
{
	if (!ev || !ev->sessions)
		return;
	record(ev, &(struct napt_event){.in_addr = s->in_addr,
					.ext_addr = ext_addr,
					.rem_addr = s->rem_addr,
					.in_port = s->in_port,
					.ext_port = s->ext_port,
					.rem_port = s->rem_port,
					.type = (uint8_t)type,
					.proto = s->proto,
					.origin = s->origin,
					.expired = expired});
}

void nat_events_destroy(struct nat_events *ev)
{
	if (ev)
		free(ev->ring);
	free(ev);
}

int napt_events_enable(struct napt *n, uint32_t capacity, bool sessions)
{
	struct nat_events *ev = NULL;

	if (capacity) {
		ev = calloc(1, sizeof(*ev));
		if (ev)
			ev->ring = malloc((size_t)capacity * sizeof(*ev->ring));
		if (!ev || !ev->ring) {
			nat_events_destroy(ev);
			return -1;
		}
		ev->capacity = capacity;
		ev->mappings = true;
		ev->blocks = true;
		ev->sessions = sessions;
	}
	nat_table_set_events(n->table, ev);
	nat_events_destroy(n->events);
	n->events = ev;
	return 0;
}

void napt_events_select(struct napt *n, unsigned kinds)
{
	if (!n->events)
		return;
	n->events->mappings = kinds & NAPT_EVK_MAPPINGS;
	n->events->sessions = kinds & NAPT_EVK_SESSIONS;
	n->events->blocks = kinds & NAPT_EVK_BLOCKS;
}

uint64_t napt_events_head(const struct napt *n)
{
	return n->events ? n->events->head : 0;
}

uint64_t napt_events_tail(const struct napt *n)
{
	return n->events ? n->events->tail : 0;
}

uint64_t napt_events_lost(const struct napt *n)
{
	return n->events ? n->events->lost : 0;
}

unsigned napt_events_peek(const struct napt *n, uint64_t seq, struct napt_event *out, unsigned max,
			  uint64_t *next)
{
	const struct nat_events *ev = n->events;
	unsigned got = 0;

	if (!ev) {
		*next = seq;
		return 0;
	}
	if (seq < ev->tail)
		seq = ev->tail;
	for (; got < max && seq < ev->head; got++, seq++)
		out[got] = ev->ring[seq % ev->capacity];
	*next = seq;
	return got;
}

void napt_events_stamp(struct napt *n, uint64_t time_ms)
{
	struct nat_events *ev = n->events;

	if (!ev)
		return;
	if (ev->stamped < ev->tail)
		ev->stamped = ev->tail;
	for (; ev->stamped < ev->head; ev->stamped++)
		ev->ring[ev->stamped % ev->capacity].time_ms = time_ms;
}

void napt_events_release(struct napt *n, uint64_t seq)
{
	struct nat_events *ev = n->events;

	if (ev && seq > ev->tail)
		ev->tail = seq < ev->head ? seq : ev->head;
}

const char *napt_event_type_name(enum napt_event_type t)
{
	static const char *const names[NAPT_EV_TYPES] = {
	    [NAPT_EV_MAPPING_NEW] = "mapping-new", [NAPT_EV_MAPPING_END] = "mapping-end",
	    [NAPT_EV_SESSION_NEW] = "session-new", [NAPT_EV_SESSION_END] = "session-end",
	    [NAPT_EV_BLOCK_NEW] = "block-new",     [NAPT_EV_BLOCK_END] = "block-end",
	};
	return (unsigned)t < NAPT_EV_TYPES ? names[t] : "?";
}
