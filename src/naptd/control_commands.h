/* SPDX-License-Identifier: BSD-2-Clause */
/* control_commands.h - the commands of the control socket, without the socket.
 *
 * control_command_run() takes one request line as received, checks it, runs it against the
 * daemon's state and the engine, and leaves the answer (first line "ok" or "error: REASON",
 * then the body) in a buffer; the long listings continue piece by piece. No I/O happens here, so
 * the unit tests drive it directly; control_server.c only moves bytes.
 */
#ifndef CONTROL_COMMANDS_H
#define CONTROL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "naptd.h"

/* The most an answer holds at once: show sessions and show mappings, which can run to
 * millions of rows, are made a piece of at most this size at a time (control_answer_more),
 * each sent before the next is made. */
#define CONTROL_ANSWER_PIECE (32 * 1024)
/* Table positions a piece looks at, at most: bounds a piece's time even when a filter
 * matches few entries (16384 positions are 768 KiB of sessions to read). */
#define CONTROL_POSITIONS_PER_PIECE 16384
/* A mapping's row counts its sessions by walking their list (about 40 ns a step when the
 * table is out of cache): a piece of show mappings also ends after this many steps, so
 * mappings shared by thousands of sessions cost a turn no more than rows of sessions do. */
#define CONTROL_SESSION_STEPS_PER_PIECE 2048

enum control_listing_kind { CONTROL_LIST_NONE, CONTROL_LIST_SESSIONS, CONTROL_LIST_MAPPINGS };

/* Where a listing stands between pieces: its filter and the engine's cursor (napt.h). */
struct control_listing {
	enum control_listing_kind kind; /* NONE: nothing left to make */
	bool json;
	uint8_t proto; /* 0: all */
	bool by_inside;
	uint32_t inside;
	uint32_t cursor;
	unsigned long count; /* rows made so far */
	uint32_t steps;      /* sessions counted for mapping rows in this piece */
};

/* The text of one answer, or of its current piece. */
struct control_answer {
	char *text;
	size_t len;
	size_t cap;
	bool out_of_memory; /* an append failed: the answer becomes an error */
	/* "monitor": no answer here; the client goes to event_monitor.h, JSON lines or not. */
	bool monitor, monitor_json;
	struct control_listing listing;
};

void control_answer_init(struct control_answer *a);
void control_answer_free(struct control_answer *a);
/* printf into the answer, growing it as needed. */
void control_answer_printf(struct control_answer *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Run one request: req holds len bytes without the final "\n" (it may hold anything a client
 * sent, NULs included). Fills a (emptied first) and returns 0 for an "ok" answer, -1 for an
 * "error: ..." one. */
int control_command_run(struct naptd *d, const char *req, size_t len, struct control_answer *a);
/* When a->listing.kind is not NONE after control_command_run (or after a previous call),
 * the answer goes on: replace a's text, once sent, with the next piece, of at most
 * CONTROL_ANSWER_PIECE bytes and CONTROL_POSITIONS_PER_PIECE table positions (the last
 * piece ends with the count line). Returns true while more pieces are to come. */
bool control_answer_more(struct naptd *d, struct control_answer *a);

#endif
