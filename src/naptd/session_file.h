/* SPDX-License-Identifier: BSD-2-Clause */
/* session_file.h - the sessions file: naptd's sessions written at a clean stop (SIGTERM) next
 * to the state file, and read back at the next start (session_save.h), so a restart or an
 * upgrade does not cut the flows through the gateway (docs/design.md).
 *
 * The file is input the next start must survive whatever it holds: a binary format with a
 * magic and version header, fixed 32-byte records each with its own check, a size bound of
 * max-sessions records, and every record checked again by the engine against the config in
 * force. What cannot be restored is skipped and counted, never a reason not to start. The
 * file is removed once read, so an old one is never read twice (after a kill -9 there is
 * none, and the start is a cold one).
 */
#ifndef SESSION_FILE_H
#define SESSION_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "napt.h"
#include "session_save.h"

#define SESSION_FILE_SUFFIX ".sessions"
#define SESSION_FILE_HEADER 32
#define SESSION_FILE_RECORD 32

/* What a start made of the file: sessions by result, records whose own check failed (counted
 * as invalid too), and whether the whole file was refused (why says so). */
struct session_restore {
	uint64_t result[NAPT_RESTORE_RESULTS];
	uint64_t bad_checks;
	int file_rejected;
	char why[128];
};

/* Write the live sessions of n to path (file_replace.h: whole or not at all), stamped with
 * wall_ms (CLOCK_REALTIME, milliseconds) for the next start. Returns the number of sessions
 * written, or -1 with the reason in err. */
long session_file_save(const char *path, const struct napt *n, uint64_t now_ms, uint64_t wall_ms,
		       char *err, size_t errlen);

/* Restore the sessions a file's bytes hold into n (wall_ms and now_ms: the time now on both
 * clocks), counting each record's fate in out. A bad header or a size that is not a whole
 * number of records (or more than max-sessions of them) refuses the whole file. */
void session_file_restore(struct napt *n, const uint8_t *data, size_t len, uint64_t wall_ms,
			  uint64_t now_ms, struct session_restore *out);

/* Read path (a regular file of at most max-sessions records), restore it and remove it.
 * Returns 0 (also when there is no file), or -1 with the reason in err when it exists but
 * cannot be read or removed; out says what became of its records. */
int session_file_load(const char *path, struct napt *n, uint64_t wall_ms, uint64_t now_ms,
		      struct session_restore *out, char *err, size_t errlen);

#endif
