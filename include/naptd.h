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
#include "tun_device.h"

struct route_setup;
struct control_server;
struct wan_address;
struct pcp_server;

struct naptd {
	struct napt *nat;             /* the engine */
	const char *config_path;      /* -c */
	struct napt_config file_cfg;  /* as read from config_path; daemon keys as in force */
	struct runtime_state runtime; /* run-time changes, mirrored in the state file */
	bool foreground;              /* -f: log to stderr */
	uint64_t started_ms;          /* naptd_now_ms() at start */
	struct tun_device tun;        /* fd -1 when closed */
	struct route_setup *routes;   /* NULL with manage-routes no */
	struct control_server *control;
	struct wan_address *wan;      /* NULL without "external interface" */
	struct pcp_server *pcp;       /* NULL without "pcp-allow" */
	uint64_t host_limit_drops[2]; /* per-host session and port limit drops at the last log */
	uint64_t tun_write_errors;    /* translated packets the TUN refused (EAGAIN, ENOBUFS) */
};

/* CLOCK_MONOTONIC in milliseconds: the engine's clock. */
uint64_t naptd_now_ms(void);

/* Re-read config_path, merge the run-time state, apply to the engine. On any error the
 * running config stays in force and err says why. Sessions survive. */
int naptd_reload(struct naptd *d, char *err, size_t errlen);

#endif
