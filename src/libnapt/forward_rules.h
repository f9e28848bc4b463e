/* SPDX-License-Identifier: BSD-2-Clause */
/* forward_rules.h - static port forwards (DNAT, the documents' "virtual server"). */
#ifndef FORWARD_RULES_H
#define FORWARD_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "napt_config.h"
#include "port_alloc.h"

/* Rules by (protocol, external port) in flat arrays, so an inbound lookup is one read. */
struct forward_rules {
	struct napt_forward rules[NAPT_MAX_FORWARDS];
	unsigned n;
	uint16_t by_port[2][65536];             /* [0 tcp, 1 udp][port] -> rule index + 1 */
	uint64_t claimed[2][PORT_BITMAP_WORDS]; /* the same as bitmaps, for port choice */
};

void forward_rules_clear(struct forward_rules *fr);
/* Refuses (with the reason) a rule that overlaps another, or a table that is full. */
int forward_rules_add(struct forward_rules *fr, const struct napt_forward *f, char *err,
		      size_t errlen);
/* Remove the rule holding (protos, port); the removed rule is copied to *out. Returns 0,
 * or -1 when none holds it. */
int forward_rules_del(struct forward_rules *fr, uint8_t protos, uint16_t port,
		      struct napt_forward *out);
/* proto_bit is NAPT_FWD_TCP or NAPT_FWD_UDP. */
const struct napt_forward *forward_rules_lookup(const struct forward_rules *fr, uint8_t proto_bit,
						uint16_t port);
/* PCP FILTER: the rule holding (protos, port) gets f[0..count) as its filters. Returns it, or
 * NULL when none holds the port or count is over NAPT_FWD_MAX_FILTERS. */
struct napt_forward *forward_rules_set_filters(struct forward_rules *fr, uint8_t protos,
					       uint16_t port, const struct napt_peer_filter *f,
					       unsigned count);
const uint64_t *forward_rules_claimed(const struct forward_rules *fr, uint8_t proto_bit);

#endif
