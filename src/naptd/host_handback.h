/* SPDX-License-Identifier: BSD-2-Clause */
/* host_handback.h - Easy IP steers every TCP, UDP and ICMP packet for the WAN address into
 * the TUN (route_setup.c), the router's own ports excepted: its local-service ports and
 * local-ports go to the local table before, by port. ICMP carries no port that an ip rule
 * can match, so the router's own ICMP enters the TUN too: an echo request for the router,
 * the echo replies to its ping, ICMP errors about its own flows (path-MTU discovery). What
 * of that the engine finds no rule for, naptd writes back to the TUN unchanged, and the
 * kernel delivers it. TCP and UDP are never handed back: a port no rule names is refused by
 * the engine like any unsolicited packet, so the router's services are reached only where
 * the config names them, and an input firewall on the WAN interface still sees every
 * TCP/UDP packet that reaches the router (docs/security.md). Pure: no I/O. */
#ifndef HOST_HANDBACK_H
#define HOST_HANDBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "napt.h"
#include "napt_config.h"

/* Whether p, for which the engine returned r, goes back to the router: ICMP, dropped because
 * nothing of naptd's takes it (no-mapping, no-session-icmp), from outside the inside
 * prefixes to wan_addr (network order) and so left unchanged by the engine, not a fragment. */
bool host_handback_takes(uint32_t wan_addr, const struct napt_config *cfg,
			 const struct napt_packet *p, const struct napt_result *r);

#endif
