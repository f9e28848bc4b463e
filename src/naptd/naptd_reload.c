/* SPDX-License-Identifier: BSD-2-Clause */
/* naptd_reload.c - SIGHUP and "naptctl reload": re-read the config, keep what cannot change
 * while running, apply the rest to the engine and the routing, or change nothing. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "daemon_log.h"
#include "link_mtu.h"
#include "naptd.h"
#include "route_setup.h"
#include "wan_address.h"

static void warn_if_changed(const char *key, const char *running, const char *next)
{
	if (strcmp(running, next) != 0)
		daemon_log(LOG_WARNING,
			   "reload: %s changed to \"%s\": needs a restart, keeping \"%s\"", key,
			   next, running);
}

static void endpoint_text(const struct napt_endpoint *ep, char buf[24])
{
	char addr[INET_ADDRSTRLEN];

	snprintf(buf, 24, "%s:%u", inet_ntop(AF_INET, &ep->addr, addr, sizeof(addr)), ep->port);
}

/* The TUN, the sockets and the routing set-up mode are made once at start; the new file's
 * values for them wait for the next restart. The NAT-PMP/PCP access rules are read at each
 * request (pcp_server.c): the new ones apply at once. */
static void keep_daemon_settings(const struct napt_daemon_settings *running,
				 struct napt_config *next)
{
	const struct napt_daemon_settings *n = &next->daemon;
	struct napt_daemon_settings kept = *running;
	char now[24], then[24];

	warn_if_changed("tun", running->tun, n->tun);
	warn_if_changed("lan-interface", running->lan_interface, n->lan_interface);
	warn_if_changed("wan-interface", running->wan_interface, n->wan_interface);
	warn_if_changed("control", running->control, n->control);
	warn_if_changed("state", running->state, n->state);
	warn_if_changed("manage-routes", running->manage_routes ? "yes" : "no",
			n->manage_routes ? "yes" : "no");
	warn_if_changed("log-mappings", running->log_mappings ? "yes" : "no",
			n->log_mappings ? "yes" : "no");
	warn_if_changed("upnp", running->upnp ? "yes" : "no", n->upnp ? "yes" : "no");
	endpoint_text(&running->metrics_listen, now);
	endpoint_text(&n->metrics_listen, then);
	warn_if_changed("metrics-listen", now, then);
	endpoint_text(&running->ipfix_collector, now);
	endpoint_text(&n->ipfix_collector, then);
	warn_if_changed("ipfix-collector", now, then);
	snprintf(now, sizeof(now), "%u", running->mtu);
	snprintf(then, sizeof(then), "%u", n->mtu);
	warn_if_changed("mtu", now, then);
	memcpy(kept.pcp_rules, n->pcp_rules, sizeof(kept.pcp_rules));
	kept.n_pcp_rules = n->n_pcp_rules;
	next->daemon = kept;
}

/* The routing follows the static entries (their addresses are routed into the TUN) and,
 * under Easy IP, local-service and local-ports (the rules that keep the router's own ports
 * out of the TUN). */
static bool routing_changed(const struct napt_config *a, const struct napt_config *b)
{
	return a->n_local_services != b->n_local_services ||
	       memcmp(a->local_services, b->local_services,
		      a->n_local_services * sizeof(a->local_services[0])) != 0 ||
	       a->local_ports_lo != b->local_ports_lo || a->local_ports_hi != b->local_ports_hi ||
	       a->n_statics != b->n_statics ||
	       memcmp(a->statics, b->statics, a->n_statics * sizeof(a->statics[0])) != 0;
}

static void remake_routes(struct naptd *d)
{
	char err[512];

	if (d->routes &&
	    route_setup_remake(&d->routes, napt_get_config(d->nat), &d->tun, err, sizeof(err)) != 0)
		daemon_log(LOG_ERR, "reload: the routing stays as it was: %s", err);
}

int naptd_reload(struct naptd *d, char *err, size_t errlen)
{
	/* Two configs of about 12 KB each (the forward table): on the heap. */
	struct napt_config *file = malloc(sizeof(*file));
	struct napt_config *run = malloc(sizeof(*run));
	int rc = -1;

	if (!file || !run)
		snprintf(err, errlen, "reload: out of memory");
	else if (config_file_load(d->config_path, file, err, errlen) == 0 &&
		 wan_address_fill(file, err, errlen) == 0 &&
		 link_mtu_fill_mss(file, err, errlen) == 0) {
		keep_daemon_settings(&d->file_cfg.daemon, file);
		*run = *file;
		bool remake = routing_changed(napt_get_config(d->nat), run);

		/* The engine refuses what it cannot change in place (inside prefixes,
		 * external addresses: the routing depends on them too) and then changes
		 * nothing. */
		if (runtime_state_apply(&d->runtime, run, err, errlen) == 0 &&
		    napt_reconfigure(d->nat, run, naptd_now_ms(), err, errlen) == 0) {
			d->file_cfg = *file;
			rc = 0;
			if (remake)
				remake_routes(d);
		}
	}
	free(file);
	free(run);
	return rc;
}
