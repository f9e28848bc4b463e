/* SPDX-License-Identifier: BSD-2-Clause */
/* wan_address.h - Easy IP ("external interface NAME"): the WAN interface's own address is
 * the external address. naptd learns it through rtnetlink at start and follows it when it
 * changes (RTM_NEWADDR / RTM_DELADDR, as on a DHCP renew): mappings on the old address are
 * dropped (napt_external_replace), the routing is made again for the new one, and the
 * change is logged. */
#ifndef WAN_ADDRESS_H
#define WAN_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt.h"
#include "napt_config.h"
#include "naptd.h"

struct wan_address;

/* With cfg->daemon.external_interface set: the interface's primary IPv4 address becomes
 * cfg->external[0] (the file's addresses, if any, move up one). Without it: nothing. Returns
 * 0, or -1 with the reason in err (no such interface, no IPv4 address, pool full). */
int wan_address_fill(struct napt_config *cfg, char *err, size_t errlen);

/* Subscribe to address events for d->file_cfg.daemon.external_interface, whose address
 * wan_address_fill() put in d->file_cfg.external[0]. NULL with the reason in err. */
struct wan_address *wan_address_open(struct naptd *d, char *err, size_t errlen);
/* One fd for the daemon's epoll, EPOLLIN. */
int wan_address_fd(const struct wan_address *w);
/* Called when that fd is readable: reads the events, and applies an address change. */
void wan_address_dispatch(struct wan_address *w);
void wan_address_close(struct wan_address *w);

/* host_handback_takes() for the address in force: whether naptd writes p back to the TUN
 * for the router (host_handback.h). False for w NULL (no Easy IP). */
bool wan_address_hands_back(const struct wan_address *w, const struct napt_config *cfg,
			    const struct napt_packet *p, const struct napt_result *r);

#endif
