/* SPDX-License-Identifier: BSD-2-Clause */
/* route_setup.h - the routing that steers NAT traffic through the TUN device (manage-routes
 * yes): external addresses routed into it, policy rules for the inside prefixes, guards on
 * the WAN and LAN interfaces, unreachable routes that keep the router closed if naptd is
 * killed, proxy neighbour entries on the WAN interface, loose rp_filter on the TUN,
 * ip_forward on. Everything added is recorded and removed, newest first, by
 * route_setup_close(); what a killed naptd left is taken over or removed at start.
 * docs/routing.md lists each entry and the equivalent ip commands. */
#ifndef ROUTE_SETUP_H
#define ROUTE_SETUP_H

#include <stddef.h>

#include "napt_config.h"
#include "tun_device.h"

/* The table whose default route is the TUN, and the rule priorities: inside -> inside
 * first (main table), then everything else from inside (ROUTE_TABLE). */
#define ROUTE_TABLE                4242
#define ROUTE_PREF_FROM_TUN        4236 /* iif TUN lookup main: what naptd wrote back */
#define ROUTE_PREF_SPOOFED         4237 /* iif LAN from EXTERNAL lookup ROUTE_TABLE */
#define ROUTE_PREF_WAN_FROM_INSIDE 0    /* iif WAN from INSIDE blackhole, before local */
#define ROUTE_PREF_WAN_TO_INSIDE   4239 /* iif WAN to INSIDE lookup ROUTE_TABLE */
#define ROUTE_PREF_INSIDE          4241
#define ROUTE_PREF_OUT             4242
/* The metric of the unreachable routes behind the TUN routes (default in ROUTE_TABLE, each
 * external address in main): they remain when naptd is killed, so nothing passes untranslated
 * (fail closed); a clean exit removes them. */
#define ROUTE_METRIC_CLOSED 4242u
/* The protocol (rtm_protocol, FRA_PROTOCOL) naptd's routes and rules carry: a value no
 * routing daemon in iproute2's rt_protos uses, so what a killed naptd left is found. */
#define ROUTE_PROTO 245

struct route_setup;

/* Add everything for cfg (inside prefixes, external addresses, daemon.wan_interface).
 * NULL with the reason in err, with whatever was added removed again. */
struct route_setup *route_setup_open(const struct napt_config *cfg, const struct tun_device *tun,
				     char *err, size_t errlen);

/* Remove everything route_setup_open() added, newest first, and restore the sysctls. The
 * engine refuses changes of inside prefixes and external addresses at run time
 * (napt_reconfigure); only Easy IP remakes the routing (route_setup_remake). */
void route_setup_close(struct route_setup *rs);

/* Make the routing again for cfg (the Easy IP address, its local-service or local-ports
 * lines, or the static entries changed) without a moment open: the entries of *rs that cfg
 * makes again are taken over as they are, the new ones added, and then those cfg no longer
 * makes removed (as after a kill, routing.md). 0, or -1 with the reason in err and *rs, the
 * old routing, still in force. */
int route_setup_remake(struct route_setup **rs, const struct napt_config *cfg,
		       const struct tun_device *tun, char *err, size_t errlen);

#endif
