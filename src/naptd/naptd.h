/* SPDX-License-Identifier: BSD-2-Clause */
/* naptd.h - the daemon's state, shared by its modules (event loop, control socket). */
#ifndef NAPTD_H
#define NAPTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt.h"
#include "napt_config.h"
#include "runtime_state.h"
#include "session_file.h"
#include "tun_device.h"
#include "tun_filter.h"

struct route_setup;
struct control_server;
struct wan_address;
struct pcp_server;
struct upnp_igd;
struct mapping_log;
struct event_monitor;
struct metrics_http;
struct ipfix_export;

/* The event loop's longest iterations (their work, not the waits for events): since start,
 * and one per second of the last LOOP_WINDOW_S seconds, so a stall shows while it is news. */
#define LOOP_WINDOW_S 5
struct loop_times {
	uint64_t longest_us;
	uint64_t second[LOOP_WINDOW_S]; /* naptd_now_ms() / 1000 of each slot's iterations */
	uint64_t slot_us[LOOP_WINDOW_S];
};

struct naptd {
	struct napt *nat;               /* the engine */
	const char *config_path;        /* -c */
	struct napt_config file_cfg;    /* as read from config_path; daemon keys as in force */
	struct runtime_state runtime;   /* run-time changes, mirrored in the state file */
	bool foreground;                /* -f: log to stderr */
	uint64_t started_ms;            /* naptd_now_ms() at start */
	struct tun_device tun;          /* fd -1 when closed */
	struct tun_flood_filter filter; /* Easy IP: map NULL when off (tun_filter.h) */
	struct route_setup *routes;     /* NULL with manage-routes no */
	struct control_server *control;
	struct wan_address *wan;         /* NULL without "external interface" */
	struct pcp_server *pcp;          /* NULL without "pcp-allow" */
	struct upnp_igd *upnp;           /* NULL with "upnp no" */
	uint64_t host_limit_drops[2];    /* per-host session and port limit drops at the last log */
	uint64_t tun_write_errors;       /* translated packets the TUN refused (EAGAIN, ENOBUFS) */
	struct loop_times loop;          /* the event loop's longest iterations */
	unsigned state_rejected;         /* state file lines set aside at start (runtime_state.h) */
	struct session_restore restored; /* the sessions file read at start (session_file.h) */
	/* NAT-PMP/PCP (pcp_server.c): requests not from lan-interface and an inside address
	 * (not answered), mapping requests over a host's rate (answered "out of resources"),
	 * state file writes for the leases (batched: a few a second at most). */
	uint64_t pcp_not_lan, pcp_limited, pcp_state_writes;
	/* UPnP HTTP requests refused for their Host or CALLBACK header (upnp_guard.h), counted
	 * in the library's threads. */
	_Atomic uint64_t upnp_refused;
	struct mapping_log *mapping_log; /* NULL without log-mappings */
	struct event_monitor *monitor;   /* naptctl monitor's readers */
	struct metrics_http *metrics;    /* NULL without metrics-listen */
	struct ipfix_export *ipfix;      /* NULL without ipfix-collector */
};

/* CLOCK_MONOTONIC in milliseconds: the engine's clock. */
uint64_t naptd_now_ms(void);

/* The longest iteration of the last LOOP_WINDOW_S seconds before now_s. */
static inline uint64_t loop_times_recent(const struct loop_times *t, uint64_t now_s)
{
	uint64_t longest = 0;

	for (unsigned i = 0; i < LOOP_WINDOW_S; i++)
		if (t->second[i] + LOOP_WINDOW_S > now_s && t->slot_us[i] > longest)
			longest = t->slot_us[i];
	return longest;
}

/* Re-read config_path, merge the run-time state, apply to the engine. On any error the
 * running config stays in force and err says why. Sessions survive. */
int naptd_reload(struct naptd *d, char *err, size_t errlen);

#endif
