/* SPDX-License-Identifier: BSD-2-Clause */
/* runtime_state.h - what the administrator changed at run time (naptctl), kept on disk.
 *
 * Forwards added and the DMZ set or cleared through the control socket live in the state
 * file, in config syntax ("forward ...", "dmz ADDR", "dmz none"), written atomically
 * (temporary file, fsync, rename, fsync of the directory) before the command answers ok, so
 * no change is lost on restart, crash or kill -9. The config file itself is never rewritten.
 * Forwards made through NAT-PMP or PCP (pcp_server.h) carry their end of life and nonce:
 * "forward tcp 50000 192.168.1.10:80 expires UNIX_TIME [nonce HEX]", and "pcp-epoch
 * UNIX_TIME" says since when that mapping state exists; files without them stay readable.
 */
#ifndef RUNTIME_STATE_H
#define RUNTIME_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "napt_config.h"

#define RUNTIME_MAX_LEASES 256
#define RUNTIME_NONCE_LEN  12

/* A forward with a lifetime, made through NAT-PMP (RFC 6886) or PCP MAP (RFC 6887). */
struct runtime_lease {
	struct napt_forward fwd;
	int64_t expires; /* UNIX time, seconds: the wall clock still means it after a restart */
	uint8_t nonce[RUNTIME_NONCE_LEN]; /* PCP's mapping nonce; all zero for NAT-PMP */
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

/* A missing file is an empty state (returns 0). Errors name path:line and why. */
int runtime_state_load(const char *path, struct runtime_state *st, char *err, size_t errlen);
/* Atomic replace; returns 0 or -1 with the reason (errno text) in err. */
int runtime_state_save(const char *path, const struct runtime_state *st, char *err, size_t errlen);
/* Removes st->leases[i] (i < n_leases), keeping the others in order; the engine and the file
 * are the caller's. */
void runtime_state_drop_lease(struct runtime_state *st, unsigned i);
/* cfg (from the config file) + st -> the config the engine runs: the run-time forwards, then
 * the leases that have not expired. A run-time forward that overlaps a config forward is
 * refused with the reason. */
int runtime_state_apply(const struct runtime_state *st, struct napt_config *cfg, char *err,
			size_t errlen);

#endif
