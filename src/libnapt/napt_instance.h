/* SPDX-License-Identifier: BSD-2-Clause */
/* napt_instance.h - the engine instance, for the engine's own files (napt.h is the API). */
#ifndef NAPT_INSTANCE_H
#define NAPT_INSTANCE_H

#include "addr_pool.h"
#include "det_nat.h"
#include "forward_rules.h"
#include "fragment.h"
#include "host_limits.h"
#include "napt.h"
#include "nat_event.h"
#include "nat_table.h"
#include "prng.h"
#include "syn_answer.h"

/* Expired sessions reaped per packet: enough to keep pace with any creation rate (a packet
 * creates at most two sessions), small enough to bound the cost of one packet. */
#define REAP_PER_PACKET 4
/* Answers to unsolicited SYNs allowed in any one second. */
#define REPLIES_PER_SECOND 100

/* Session s of table t as both views give it out (napt_walk_sessions' napt_session_info and
 * napt_save_sessions' napt_saved_session, whose fields share these names), idle at now: one
 * list of designated initializers, so that the two cannot tell a session apart. */
#define SESSION_RECORD_FIELDS(t, s, now)                                                           \
	.proto = (s)->proto, .in_addr = (s)->in_addr,                                              \
	.ext_addr = nat_table_ext_addr((t), (s)->ext_index), .rem_addr = (s)->rem_addr,            \
	.in_port = (s)->in_port, .ext_port = (s)->ext_port, .rem_port = (s)->rem_port,             \
	.idle_ms = (now) - (s)->last_ms

struct napt {
	struct napt_config cfg;
	struct nat_table *table;
	struct forward_rules fwd;
	struct frag_table frag;
	struct prng rng;
	struct siphash_key hash_key; /* of the flow, host and fragment tables */
	struct napt_counters counters;
	struct host_limits *hosts; /* when a per-host limit is configured */
	struct nat_events *events; /* napt_events_enable(); NULL: no events recorded */
	/* Deterministic NAT (cfg.det.on): the formula, and the external addresses (bit per
	 * index) that only deterministic hosts use. */
	struct det_layout det;
	struct port_blocks *blocks; /* port-block-size */
	uint32_t det_externals;
	/* External address index + 1 by the address's last octet; EXT_OCTET_SHARED when two
	 * addresses end alike (instance_index_externals()). */
	uint8_t ext_by_octet[256];
	/* Times of the last answers to unsolicited SYNs (translate.c reply_allowed). */
	uint32_t reply_times[REPLIES_PER_SECOND];
	unsigned reply_next, replies_recorded;
	/* mode dynamic: which host holds which external address. */
	struct addr_pool pool;
	/* Answers to unsolicited SYNs waiting their 6 s (RFC 5382 REQ-4). */
	struct syn_answers answers;
	napt_port_watch_fn port_watch; /* napt_port_watch(); NULL: none */
	void *port_watch_ctx;
};

#define EXT_OCTET_SHARED 0xff

/* mode dynamic: whether an inside host holds a session (the per-host counts); ctx is the
 * instance. */
bool instance_host_busy(void *ctx, uint32_t host);

/* Rebuild ext_by_octet after the external addresses change. */
void instance_index_externals(struct napt *n);

/* RFC 6888 REQ-4: why the host may open no new flow (at its session limit, or at its port
 * limit when the flow needs a new port), NAPT_DROP_NONE when it may (translate.c). */
enum napt_drop_reason translate_host_limit(struct napt *n, uint32_t host, bool new_port);
/* Whether ports-per-host forbids host h (NULL: none held) one more port block. */
bool translate_block_limited(const struct napt *n, const struct host_count *h);

#endif
