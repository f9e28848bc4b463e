/* SPDX-License-Identifier: BSD-2-Clause */
/* host_handback.h - Easy IP steers every TCP, UDP and ICMP packet for the WAN address into
 * the TUN (route_setup.c), the router's own ports excepted. What the engine then finds no
 * rule for is the router's after all: a service the config does not name, an echo reply or
 * an ICMP error for the router's own traffic (its ping, path-MTU discovery). naptd writes
 * such a packet back to the TUN unchanged, and the kernel delivers it. Pure: no I/O. */
#ifndef HOST_HANDBACK_H
#define HOST_HANDBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "napt.h"
#include "napt_config.h"

/* Whether p, for which the engine returned r, goes back to the router: dropped because
 * nothing of naptd's takes it (no-mapping, tcp-no-session, no-session-icmp), from outside
 * the inside prefixes to wan_addr (network order) and so left unchanged by the engine, not a
 * fragment, and for TCP and UDP to a port outside cfg's port-range (naptd's own ports stay
 * silent). */
bool host_handback_takes(uint32_t wan_addr, const struct napt_config *cfg,
			 const struct napt_packet *p, const struct napt_result *r);

#endif
