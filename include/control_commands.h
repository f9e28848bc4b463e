/* SPDX-License-Identifier: BSD-2-Clause */
/* control_commands.h - the commands of the control socket, without the socket.
 *
 * control_command_run() takes one request line as received, checks it, runs it against the
 * daemon's state and the engine, and leaves the whole answer (first line "ok" or
 * "error: REASON", then the body) in a growable buffer. No I/O happens here, so the unit
 * tests drive it directly; control_server.c only moves bytes.
 */
#ifndef CONTROL_COMMANDS_H
#define CONTROL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "naptd.h"

/* The text of one answer. */
struct control_answer {
	char *text;
	size_t len;
	size_t cap;
	bool out_of_memory; /* an append failed: the answer becomes an error */
	/* "monitor": no answer here; the client goes to event_monitor.h, JSON lines or not. */
	bool monitor, monitor_json;
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

#endif
