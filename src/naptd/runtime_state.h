/* SPDX-License-Identifier: BSD-2-Clause */
/* runtime_state.h - what the administrator changed at run time (naptctl), kept on disk.
 *
 * Forwards added and the DMZ set or cleared through the control socket live in the state
 * file, in config syntax ("forward ...", "dmz ADDR", "dmz none"), written atomically
 * (temporary file, fsync, rename, fsync of the directory) before the command answers ok, so
 * no change is lost on restart, crash or kill -9. The config file itself is never rewritten.
 * Forwards made through NAT-PMP or PCP (pcp_server.h) carry their end of life and nonce:
 * "forward tcp 50000 192.168.1.10:80 expires UNIX_TIME [filter ADDR/LEN:PORT ...] [nonce HEX]
 * [upnp] [desc TEXT]" ("filter": the remote peers a PCP MAP's FILTER options admit, at most
 * NAPT_FWD_MAX_FILTERS; "upnp": made through UPnP IGD, upnp_igd.h; "desc": the rest of the
 * line, its UPnP description, as runtime_desc_set leaves it), and "pcp-epoch
 * UNIX_TIME" says since when that mapping state exists; files without them stay readable.
 * Those reach the file a little later (the lease writer below): their clients renew them.
 * At start, a line that cannot be loaded is set aside in STATE.rejected, never a reason
 * not to start (runtime_state_salvage).
 */
#ifndef RUNTIME_STATE_H
#define RUNTIME_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt_config.h"

#define RUNTIME_MAX_LEASES 256
#define RUNTIME_NONCE_LEN  12
#define RUNTIME_DESC_MAX   64 /* UPnP's NewPortMappingDescription, as kept */

/* A forward with a lifetime, made through NAT-PMP (RFC 6886) or PCP MAP (RFC 6887). */
struct runtime_lease {
	struct napt_forward fwd;
	int64_t expires; /* UNIX time, seconds: the wall clock still means it after a restart */
	uint8_t nonce[RUNTIME_NONCE_LEN]; /* PCP's mapping nonce; all zero for NAT-PMP */
	bool upnp;                        /* made through UPnP IGD (upnp_igd.h) */
	char desc[RUNTIME_DESC_MAX + 1];  /* its description (runtime_desc_set), "" for none */
};

enum runtime_dmz { RUNTIME_DMZ_FROM_CONFIG = 0, RUNTIME_DMZ_SET, RUNTIME_DMZ_CLEARED };

struct runtime_state {
	struct napt_forward forwards[NAPT_MAX_FORWARDS]; /* added at run time */
	unsigned n_forwards;
	enum runtime_dmz dmz_mode;
	uint32_t dmz; /* network order, with RUNTIME_DMZ_SET */
	struct runtime_lease leases[RUNTIME_MAX_LEASES];
	unsigned n_leases;
	int64_t epoch_start; /* UNIX time the leases' state began (RFC 6887 section 8.5); 0: none */
};

/* runtime_state_load's return for a file that cannot be opened or read (not a regular
 * file, no permission, an I/O error): the start cannot salvage it either. */
#define RUNTIME_STATE_UNREADABLE (-2)

/* A missing file is an empty state (returns 0). Errors name path:line and why (-1), or the
 * path and why it cannot be read (RUNTIME_STATE_UNREADABLE). */
int runtime_state_load(const char *path, struct runtime_state *st, char *err, size_t errlen);

/* Told of each line set aside: "path:line: why", and where it was kept (NULL: it could not
 * be, and stays in the state file). */
typedef void runtime_state_reject_fn(const char *why, const char *kept_in);
/* At start: as runtime_state_load, but a line that cannot be loaded never stops the start,
 * nor one that cfg (the config file) refuses (runtime_state_apply: a forward overlapping one
 * of the config file, a host no longer inside). It goes to PATH.rejected (appended, after a
 * comment "# path[:line]: why"), report (may be NULL) hears of it, the rest is loaded, and the
 * file is written again without it. Returns how many lines were set aside, or -1 with the
 * reason when the file cannot be read or written again. */
int runtime_state_salvage(const char *path, struct runtime_state *st, const struct napt_config *cfg,
			  runtime_state_reject_fn *report, char *err, size_t errlen);

/* Atomic replace. Returns 0; -1 with the reason (errno text) in err when the old file
 * stays; 1 with the reason in err when the new file is in place but the fsync of its
 * directory failed (the caller keeps the change: the file holds it). */
int runtime_state_save(const char *path, const struct runtime_state *st, char *err, size_t errlen);
/* The lease writer: a thread that writes the state file, so the event loop does not wait for
 * the disk (a write and its fsyncs take milliseconds, more on a busy disk). It writes as
 * runtime_state_save does, taking turns with it; a text submitted before a save is not
 * written after it. Returns NULL with the reason in err. */
struct runtime_state_writer;
struct runtime_state_writer *runtime_state_writer_start(const char *path, char *err, size_t errlen);
/* Hand over st's text and return at once; a text not yet written is replaced (the new one
 * holds all of it). -1: out of memory. */
int runtime_state_writer_submit(struct runtime_state_writer *w, const struct runtime_state *st);
/* The writes done since the last call in *writes, and the outcome of the last one as
 * runtime_state_save returns it (reason in err), told once. */
int runtime_state_writer_status(struct runtime_state_writer *w, uint64_t *writes, char *err,
				size_t errlen);
/* Writes the text still pending, ends the thread, frees w; returns the outcome not yet told
 * (runtime_state_writer_status). */
int runtime_state_writer_stop(struct runtime_state_writer *w, char *err, size_t errlen);

/* A UPnP client's NewPortMappingDescription as a lease keeps it: at most RUNTIME_DESC_MAX
 * bytes, each byte that is not printable ASCII (or is '"' or '\\', which JSON would have to
 * escape, or '#', which starts a comment in the state file) replaced by '?', spaces at either
 * end dropped. */
void runtime_desc_set(char dst[RUNTIME_DESC_MAX + 1], const char *src);

/* Removes st->leases[i] (i < n_leases), keeping the others in order; the engine and the file
 * are the caller's. */
void runtime_state_drop_lease(struct runtime_state *st, unsigned i);
/* cfg (from the config file) + st -> the config the engine runs: the run-time forwards, then
 * the leases that have not expired. A run-time forward that overlaps a config forward is
 * refused with the reason. */
int runtime_state_apply(const struct runtime_state *st, struct napt_config *cfg, char *err,
			size_t errlen);

#endif
