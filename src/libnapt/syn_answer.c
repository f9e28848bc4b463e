/* SPDX-License-Identifier: BSD-2-Clause */
/* syn_answer.c - answers to unsolicited SYNs held back for 6 s (syn_answer.h). */
#include "syn_answer.h"

#include <string.h>

static struct syn_answer_slot *slot(struct syn_answers *q, uint32_t i)
{
	return &q->slots[i % SYN_ANSWER_SLOTS];
}

static bool same_pair(const struct syn_pair *a, const struct syn_pair *b)
{
	return a->rem_addr == b->rem_addr && a->ext_addr == b->ext_addr &&
	       a->rem_port == b->rem_port && a->ext_port == b->ext_port;
}

/* Waiting answers to the same remote address. */
static unsigned from_source(struct syn_answers *q, uint32_t rem_addr)
{
	unsigned count = 0;

	for (uint32_t i = q->due_end; i != q->tail; i++) {
		const struct syn_answer_slot *s = slot(q, i);

		count += s->state == SYN_ANSWER_WAITING && s->pair.rem_addr == rem_addr;
	}
	return count;
}

bool syn_answer_queue(struct syn_answers *q, const struct syn_pair *pair, const uint8_t *answer,
		      size_t len, uint32_t now)
{
	struct syn_answer_slot *s;

	if (q->tail - q->head == SYN_ANSWER_SLOTS || len > SYN_ANSWER_MAX ||
	    from_source(q, pair->rem_addr) >= SYN_ANSWER_PER_SOURCE)
		return false;
	s = slot(q, q->tail++);
	s->pair = *pair;
	s->due_ms = now + SYN_ANSWER_DELAY_MS;
	s->state = SYN_ANSWER_WAITING;
	s->len = (uint8_t)len;
	memcpy(s->data, answer, len);
	return true;
}

unsigned syn_answer_cancel(struct syn_answers *q, const struct syn_pair *pair)
{
	unsigned count = 0;

	for (uint32_t i = q->due_end; i != q->tail; i++) {
		struct syn_answer_slot *s = slot(q, i);

		if (s->state == SYN_ANSWER_WAITING && same_pair(&s->pair, pair)) {
			s->state = SYN_ANSWER_CANCELLED;
			count++;
		}
	}
	return count;
}

/* Wrap-around time: due when now has reached due_ms (less than 2^31 ms apart). Cancelled
 * answers are passed over. */
struct syn_answer_slot *syn_answer_come_due(struct syn_answers *q, uint32_t now)
{
	while (q->due_end != q->tail && (int32_t)(now - slot(q, q->due_end)->due_ms) >= 0) {
		struct syn_answer_slot *s = slot(q, q->due_end++);

		if (s->state == SYN_ANSWER_WAITING)
			return s;
	}
	return NULL;
}

size_t syn_answer_take(struct syn_answers *q, uint8_t *buf, size_t cap)
{
	while (q->head != q->due_end) {
		struct syn_answer_slot *s = slot(q, q->head);

		if (s->state == SYN_ANSWER_DUE) {
			if (s->len > cap)
				return 0;
			memcpy(buf, s->data, s->len);
			q->head++;
			return s->len;
		}
		q->head++;
	}
	return 0;
}
