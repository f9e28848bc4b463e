/* SPDX-License-Identifier: BSD-2-Clause */
/* mapping_log.h - `log-mappings yes`: one log line per mapping created and ended (RFC 6888
 * REQ-12, RFC 7422 section 5), in event_format.h's key=value format (docs/logging.md).
 *
 * The lines are read from the engine's event ring (nat_event.h) and sent to syslog's
 * datagram socket (journald's /dev/log) without blocking, up to 64 in one sendmmsg(2) and
 * MAPPING_LOG_BUDGET per loop iteration, so a burst of new mappings never holds packets up
 * for long. What the socket cannot take yet stays in the ring (mapping_log_cursor() tells the
 * daemon how far it may release) and goes out on the next iterations: no line is dropped
 * unless the ring itself fills, and then a line event=lost says how many events were not
 * kept. In the foreground outside systemd the lines go to stderr instead. With port blocks
 * (port-block-size) a line per block given and taken back replaces the lines of the mappings
 * taken from blocks; a mapping that is no block's (a forward's, the DMZ's: their ports are
 * not in any host's block, yet a block's range may span them) keeps its own lines, which
 * answer for its port before the block does (docs/logging.md).
 */
#ifndef MAPPING_LOG_H
#define MAPPING_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt.h"

/* Lines written per call of mapping_log_write(), at most. */
#define MAPPING_LOG_BUDGET 256
#define MAPPING_LOG_SYSLOG "/dev/log"

struct mapping_log;
struct napt_event;

/* The kinds of events (enum napt_event_kind) the log reads, and whether it writes a line for
 * e: blocks, with port blocks. */
unsigned mapping_log_kinds(bool blocks);
bool mapping_log_takes(bool blocks, const struct napt_event *e);

/* syslog_path: the datagram socket to send to; NULL: stderr (written without blocking too: a
 * pipe nobody reads holds lines back in the ring, not the loop). blocks: log the port blocks'
 * events (block-new, block-end) instead of the mappings'. Reading starts at the engine's next
 * event. Returns NULL with the reason in err. */
struct mapping_log *mapping_log_open(const struct napt *n, const char *syslog_path, bool blocks,
				     char *err, size_t errlen);
void mapping_log_close(struct mapping_log *ml);

enum mapping_log_state {
	MAPPING_LOG_IDLE = 0, /* everything recorded is written */
	MAPPING_LOG_MORE,     /* the budget ran out: call again at once */
	MAPPING_LOG_BLOCKED,  /* the socket is full (or gone): call again a little later */
};
/* Write the mapping events not written yet; now_ms: the wall clock, for a lost line. */
enum mapping_log_state mapping_log_write(struct mapping_log *ml, struct napt *n, uint64_t now_ms);
/* The events before this one are written (or were not mapping events). */
uint64_t mapping_log_cursor(const struct mapping_log *ml);
/* Lines written so far; 0 for NULL (no log-mappings). */
uint64_t mapping_log_lines(const struct mapping_log *ml);

#endif
