/* SPDX-License-Identifier: BSD-2-Clause */
/* syn_answer.h - answers to unsolicited SYNs held back for 6 s (RFC 5382 REQ-4).
 *
 * With unsolicited-syn rst|icmp, the answer to an unsolicited inbound SYN is built at once
 * but waits SYN_ANSWER_DELAY_MS: when an outbound SYN of the same pair (the inside host's
 * own SYN of a TCP hole punch, whose SYNs cross) is translated meanwhile, it is cancelled
 * and the inbound SYN was dropped silently, as REQ-4 requires. The waiting SYN makes no
 * session. The queue is bounded, and fair per source: one remote address holds at most
 * SYN_ANSWER_PER_SOURCE of its places, so a flood from a few sources leaves room for others.
 * All answers wait the same time, so the queue is a ring in order of due time: the engine
 * looks only at its head per packet.
 */
#ifndef SYN_ANSWER_H
#define SYN_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYN_ANSWER_DELAY_MS   6000u /* RFC 5382 REQ-4: "at least 6 seconds" */
#define SYN_ANSWER_SLOTS      128
#define SYN_ANSWER_PER_SOURCE 4
#define SYN_ANSWER_MAX        (20 + 8 + 60 + 8) /* ICMP error quoting a full IP header */

/* The pair an answer is about, as the inbound SYN carried it (network order addresses,
 * host order ports): remote endpoint -> external endpoint. */
struct syn_pair {
	uint32_t rem_addr, ext_addr;
	uint16_t rem_port, ext_port;
};

enum syn_answer_state { SYN_ANSWER_WAITING = 0, SYN_ANSWER_CANCELLED, SYN_ANSWER_DUE };

struct syn_answer_slot {
	struct syn_pair pair;
	uint32_t due_ms;
	uint8_t state;
	uint8_t len;
	uint8_t data[SYN_ANSWER_MAX];
};

/* Slots [head, due_end) have come due (DUE to hand out, or CANCELLED), [due_end, tail)
 * wait. Indices run free; a slot is index % SYN_ANSWER_SLOTS. Zeroed memory is empty. */
struct syn_answers {
	struct syn_answer_slot slots[SYN_ANSWER_SLOTS];
	uint32_t head, due_end, tail;
};

/* Queue an answer (len bytes, at most SYN_ANSWER_MAX) for pair, due at now + the delay.
 * False when the ring is full or the pair's remote address holds its share. */
bool syn_answer_queue(struct syn_answers *q, const struct syn_pair *pair, const uint8_t *answer,
		      size_t len, uint32_t now);
/* An outbound SYN of pair was translated: its waiting answers are cancelled. Returns how
 * many. */
unsigned syn_answer_cancel(struct syn_answers *q, const struct syn_pair *pair);
/* Whether any answer waits (the per-packet test: one comparison). */
static inline bool syn_answer_waiting(const struct syn_answers *q)
{
	return q->due_end != q->tail;
}
/* The oldest waiting answer whose time came at now, or NULL: the caller marks it DUE (to be
 * taken) or CANCELLED (refused by its rate limit). Call until NULL. */
struct syn_answer_slot *syn_answer_come_due(struct syn_answers *q, uint32_t now);
/* The oldest due answer: copied into buf, returns its length; 0 when none is due (or cap
 * is too small for it: then it stays). */
size_t syn_answer_take(struct syn_answers *q, uint8_t *buf, size_t cap);

#endif
