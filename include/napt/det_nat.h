/* SPDX-License-Identifier: BSD-2-Clause */
/* det_nat.h - deterministic NAT (RFC 7422): each inside address of a prefix has a fixed
 * external address and port range computed from its position, so no mapping log is needed
 * and two nodes with the same config translate a flow alike.
 *
 * The formula (docs/scale-out.md): with the inside prefix holding H addresses, the external
 * prefix X addresses, and port-range LO-HI holding R ports, each external address serves
 * S hosts and each host gets P ports:
 *   S = ceil(H / X), P = floor(R / S)       (or P = deterministic-ports, S = floor(R / P))
 * The inside address at position k (k = address - prefix base) gets
 *   external address = external base + k / S, ports LO + (k % S) * P .. that + P - 1
 * and a flow from inside port p is given port  first + p % P  of its range, or, when a
 * mapping holds that one, the next free port of the range upwards, wrapping (counted as a
 * collision). Both directions are pure functions of the config: no I/O, no state.
 */
#ifndef DET_NAT_H
#define DET_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the formula needs, computed once from the config (host byte order). */
struct det_layout {
	uint32_t in_base, ext_base;
	uint64_t in_count;  /* H */
	uint32_t ext_count; /* X */
	uint32_t per_ext;   /* S */
	uint16_t ports;     /* P */
	uint16_t port_lo;
};

/* One inside host's share: addresses network order, ports host order. */
struct det_range {
	uint32_t in_addr, ext_addr;
	uint16_t lo, hi;
};

/* The layout of cfg's `deterministic` line; -1 with the reason in err when the ranges do
 * not fit (too many hosts for the external addresses and ports). */
int det_layout_make(const struct napt_config *cfg, struct det_layout *d, char *err, size_t errlen);
/* The range of inside address in_addr; false when it is outside the deterministic prefix. */
bool det_forward(const struct det_layout *d, uint32_t in_addr, struct det_range *r);
/* The first port the formula gives a flow from in_port (before collisions). */
uint16_t det_port(const struct det_range *r, uint16_t in_port);
/* Which inside address (and its range) the external endpoint belongs to; false when it
 * belongs to none (outside the external prefix, or a port past the last range). */
bool det_reverse(const struct det_layout *d, uint32_t ext_addr, uint16_t ext_port,
		 struct det_range *r);

#ifdef __cplusplus
}
#endif

#endif
