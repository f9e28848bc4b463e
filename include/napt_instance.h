/* napt_instance.h - the engine instance, for the engine's own files (napt.h is the API). */
#ifndef NAPT_INSTANCE_H
#define NAPT_INSTANCE_H

#include "forward_rules.h"
#include "fragment.h"
#include "host_limits.h"
#include "napt.h"
#include "nat_table.h"
#include "prng.h"

/* Expired sessions reaped per packet: enough to keep pace with any creation rate (a packet
 * creates at most two sessions), small enough to bound the cost of one packet. */
#define REAP_PER_PACKET 4

struct napt {
	struct napt_config cfg;
	struct nat_table *table;
	struct forward_rules fwd;
	struct frag_table frag;
	struct prng rng;
	struct napt_counters counters;
	struct host_limits *hosts; /* when a per-host limit is configured */
	uint32_t reply_window_ms;  /* answers to unsolicited SYNs: this second's count */
	unsigned replies_in_window;
};

#endif
