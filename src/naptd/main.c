/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c - naptd: set up the gateway (engine, TUN, routing, control socket), run the event
 * loop, and take down exactly what was set up, in reverse order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "config_file.h"
#include "control_server.h"
#include "daemon_log.h"
#include "daemonize.h"
#include "event_pump.h"
#include "metrics_http.h"
#include "event_loop.h"
#include "link_mtu.h"
#include "naptd.h"
#include "pcp_server.h"
#include "upnp_igd.h"
#include "privileges.h"
#include "route_setup.h"
#include "service_notify.h"
#include "wan_address.h"

#define DEFAULT_PIDFILE "/run/naptd.pid"

struct naptd_options {
	const char *config;
	const char *pidfile; /* NULL: none (only with -f and no -p) */
	bool foreground;
	bool check; /* -t */
};

/* Large (two configs with their forward tables): static rather than on the stack. */
static struct naptd daemon_state = {.tun = {.fd = -1}};

uint64_t naptd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: naptd -c CONFIG [-f] [-p PIDFILE]\n"
		"       naptd -t -c CONFIG\n"
		"  -c CONFIG   config file (see naptd(8))\n"
		"  -f          stay in the foreground, log to stderr\n"
		"  -p PIDFILE  pidfile (default " DEFAULT_PIDFILE "; with -f only if given)\n"
		"  -t          check the config (and the state file) and exit: 1 on an error\n");
}

static int parse_options(int argc, char **argv, struct naptd_options *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt(argc, argv, "c:fp:th")) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 't':
			o->check = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!o->config || optind != argc) {
		usage(stderr);
		return -1;
	}
	if (!o->foreground && !o->pidfile)
		o->pidfile = DEFAULT_PIDFILE;
	return 0;
}

static void state_line_rejected(const char *why, const char *kept_in)
{
	if (kept_in)
		daemon_log(LOG_ERR, "state file: %s: line set aside in %s", why, kept_in);
	else
		daemon_log(LOG_ERR, "state file: %s: line skipped (left in the file)", why);
}

/* The config file, with the external interface's address filled in. */
static int load_file_config(struct naptd *d, char *err, size_t errlen)
{
	if (config_file_load(d->config_path, &d->file_cfg, err, errlen) != 0 ||
	    wan_address_fill(&d->file_cfg, err, errlen) != 0 ||
	    link_mtu_fill_mss(&d->file_cfg, err, errlen) != 0)
		return -1;
	return 0;
}

/* The file's config plus the run-time state file: what the engine starts with. A state line
 * that cannot be loaded is set aside, never a reason not to start (runtime_state.h). */
static int load_runtime_state(struct naptd *d, struct napt_config *run, char *err, size_t errlen)
{
	/* An empty state path: run-time changes are not kept. */
	const char *state = d->file_cfg.daemon.state;
	int rejected = state[0] ? runtime_state_salvage(state, &d->runtime, &d->file_cfg,
							state_line_rejected, err, errlen)
				: 0;
	if (rejected < 0)
		return -1;
	d->state_rejected = (unsigned)rejected;
	*run = d->file_cfg;
	return runtime_state_apply(&d->runtime, run, err, errlen);
}

static int load_config(struct naptd *d, struct napt_config *run, char *err, size_t errlen)
{
	if (load_file_config(d, err, errlen) != 0)
		return -1;
	return load_runtime_state(d, run, err, errlen);
}

/* CLOCK_REALTIME in milliseconds: the sessions file's stamp, which must outlive the process
 * (the engine's monotonic clock starts again with it). */
static uint64_t wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The sessions file beside the state file; false without a state file (nothing is kept). */
static bool sessions_path(const struct naptd *d, char *path, size_t len)
{
	const char *state = d->file_cfg.daemon.state;

	return state[0] && (size_t)snprintf(path, len, "%s" SESSION_FILE_SUFFIX, state) < len;
}

/* The sessions the last clean stop saved, back in the new engine: what cannot be restored
 * is counted (naptctl show stats) and logged, never a reason not to start. */
static void restore_sessions(struct naptd *d)
{
	struct session_restore *r = &d->restored;
	char path[NAPT_PATH_LEN + 16], err[512];
	uint64_t skipped = 0;

	if (!sessions_path(d, path, sizeof(path)))
		return;
	if (session_file_load(path, d->nat, wall_now_ms(), naptd_now_ms(), r, err, sizeof(err)))
		daemon_log(LOG_ERR, "sessions file: %s", err);
	if (r->file_rejected)
		daemon_log(LOG_ERR, "sessions file %s: %s: no session restored", path, r->why);
	for (int i = NAPT_RESTORED + 1; i < NAPT_RESTORE_RESULTS; i++)
		skipped += r->result[i];
	if (r->result[NAPT_RESTORED] || skipped)
		daemon_log(skipped ? LOG_WARNING : LOG_NOTICE,
			   "sessions file: %llu sessions restored; skipped: %llu stale, %llu "
			   "conflicting, %llu duplicate, %llu invalid (%llu failed their check), "
			   "%llu unsupported, %llu over max-sessions",
			   (unsigned long long)r->result[NAPT_RESTORED],
			   (unsigned long long)r->result[NAPT_RESTORE_STALE],
			   (unsigned long long)r->result[NAPT_RESTORE_CONFLICT],
			   (unsigned long long)r->result[NAPT_RESTORE_DUPLICATE],
			   (unsigned long long)r->result[NAPT_RESTORE_INVALID],
			   (unsigned long long)r->bad_checks,
			   (unsigned long long)r->result[NAPT_RESTORE_UNSUPPORTED],
			   (unsigned long long)r->result[NAPT_RESTORE_FULL]);
}

/* At a clean stop (SIGTERM, SIGINT), before the engine goes: the next start restores them. */
static void save_sessions(const struct naptd *d)
{
	char path[NAPT_PATH_LEN + 16], err[512];
	long saved;

	if (!sessions_path(d, path, sizeof(path)))
		return;
	saved = session_file_save(path, d->nat, naptd_now_ms(), wall_now_ms(), err, sizeof(err));
	if (saved < 0)
		daemon_log(LOG_ERR, "sessions not saved: %s", err);
	else
		daemon_log(LOG_NOTICE, "%ld sessions saved in %s", saved, path);
}

static int start_engine(struct naptd *d, char *err, size_t errlen)
{
	struct napt_config *run = malloc(sizeof(*run));
	struct napt_secrets secrets;
	int rc = -1;

	if (!run) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (load_config(d, run, err, errlen) != 0) {
		free(run);
		return -1;
	}
	/* RFC 6056: the port randomisation needs a seed an outsider cannot guess; the tables'
	 * hash a key of its own, so that guessing one tells nothing of the other. */
	if (getrandom(&secrets, sizeof(secrets), 0) != (ssize_t)sizeof(secrets))
		snprintf(err, errlen, "getrandom: cannot seed the port allocator and hash key");
	else if ((d->nat = napt_create_keyed(run, &secrets, err, errlen)) != NULL) {
		restore_sessions(d);
		rc = 0;
	}
	free(run);
	return rc;
}

static int set_up(struct naptd *d, char *err, size_t errlen)
{
	const struct napt_daemon_settings *ds = &d->file_cfg.daemon;

	if (start_engine(d, err, errlen) != 0 || event_pump_open(d, err, errlen) != 0 ||
	    tun_device_open(&d->tun, ds->tun, ds->mtu, ds->offload, err, errlen) != 0)
		return -1;
	if (ds->manage_routes &&
	    !(d->routes = route_setup_open(&d->file_cfg, &d->tun, err, errlen)))
		return -1;
	d->control = control_server_open(d, ds->control, err, errlen);
	if (!d->control)
		return -1;
	if (ds->external_interface[0] && !(d->wan = wan_address_open(d, err, errlen)))
		return -1;
	/* Easy IP: the flood filter before the TUN's queue, with CAP_BPF still held. */
	if (d->wan && tun_filter_open(&d->filter, &d->tun)) {
		tun_filter_follow(d->filter.map, d->nat);
		tun_filter_sync(d->filter.map, napt_get_config(d->nat));
	}
	if (pcp_server_open(d, &d->pcp, err, errlen) != 0)
		return -1;
	if (ds->metrics_listen.addr && !(d->metrics = metrics_http_open(d, err, errlen)))
		return -1;
	if (privileges_drop(err, errlen) != 0)
		return -1;
	/* After the drop: the library's threads hold no capability. */
	return upnp_igd_open(d, &d->upnp, err, errlen);
}

static void take_down(struct naptd *d)
{
	metrics_http_close(d->metrics);
	d->metrics = NULL;
	upnp_igd_close(d->upnp); /* before the leases' server: no request reaches it after */
	d->upnp = NULL;
	pcp_server_close(d->pcp);
	d->pcp = NULL;
	wan_address_close(d->wan);
	d->wan = NULL;
	control_server_close(d->control);
	d->control = NULL;
	route_setup_close(d->routes);
	d->routes = NULL;
	if (d->nat)
		napt_port_watch(d->nat, NULL, NULL);
	tun_filter_close(&d->filter, &d->tun);
	tun_device_close(&d->tun);
	event_pump_close(d);
	napt_destroy(d->nat);
	d->nat = NULL;
}

/* -t: read the config as the daemon does at start (the parser's and the engine's checks name
 * the file and line; the external interface must have an address) and exit 1 on an error. A
 * state-file line that cannot be loaded is a warning: the daemon starts without it. A state
 * file that cannot be read at all (a FIFO, no permission) stops the start, so it is an
 * error here too. */
static int check_config(struct naptd *d)
{
	struct napt_config *run = malloc(sizeof(*run));
	char err[512];
	int rc = 0;

	if (!run || load_file_config(d, err, sizeof(err)) != 0) {
		fprintf(stderr, "naptd: %s\n", run ? err : "out of memory");
		free(run);
		return 1;
	}
	/* runtime_state_load, not the start's salvage: a check changes no file. */
	const char *state = d->file_cfg.daemon.state;
	*run = d->file_cfg;
	if (state[0])
		rc = runtime_state_load(state, &d->runtime, err, sizeof(err));
	if (rc == 0 && state[0])
		rc = runtime_state_apply(&d->runtime, run, err, sizeof(err));
	free(run);
	if (rc == RUNTIME_STATE_UNREADABLE) {
		fprintf(stderr, "naptd: %s (naptd would not start)\n", err);
		return 1;
	}
	if (rc != 0)
		fprintf(stderr, "naptd: warning: %s (set aside at start)\n", err);
	printf("naptd: %s: config ok\n", d->config_path);
	return 0;
}

/* Detached: fork first (the parent waits for the result), so the TUN and the sockets
 * belong to the process that runs. */
static int run_daemon(struct naptd *d, const struct naptd_options *o, char *err, size_t errlen)
{
	int rc;

	if ((!o->foreground && daemonize_start(err, errlen) != 0) || set_up(d, err, errlen) != 0 ||
	    (o->pidfile && pidfile_write(o->pidfile, err, errlen) != 0)) {
		/* Detached, the waiting parent prints it on the administrator's stderr. */
		if (!daemonize_ready(err))
			daemon_log(LOG_ERR, "%s", err);
		return -1;
	}
	daemonize_ready(NULL);
	daemon_log_init(o->foreground);
	if (!d->routes)
		daemon_log(LOG_NOTICE, "manage-routes no: routing is left to the administrator");
	if (d->wan && !d->filter.map)
		daemon_log(
		    LOG_WARNING,
		    "tun filter off (%s): a flood to unnamed ports of the WAN address enters "
		    "the TUN's queue and can starve the LAN's traffic (docs/security.md)",
		    d->filter.why_off);
	rc = event_loop_run(d, err, errlen);
	service_notify_stopping();
	if (rc == 0)
		save_sessions(d);
	if (rc != 0)
		daemon_log(LOG_ERR, "%s", err);
	if (o->pidfile)
		pidfile_remove(o->pidfile);
	return rc;
}

int main(int argc, char **argv)
{
	struct naptd_options opt;
	struct naptd *d = &daemon_state;
	char err[512];
	int rc;

	if (parse_options(argc, argv, &opt) != 0)
		return 1;
	d->config_path = opt.config;
	if (opt.check)
		return check_config(d);
	d->foreground = opt.foreground;
	d->started_ms = naptd_now_ms();
	if (event_loop_block_signals(err, sizeof(err)) != 0) {
		fprintf(stderr, "naptd: %s\n", err);
		return 1;
	}
	rc = run_daemon(d, &opt, err, sizeof(err));
	take_down(d);
	return rc == 0 ? 0 : 1;
}
