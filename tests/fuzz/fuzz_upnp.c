/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_upnp - libFuzzer target: UPnP IGD action requests (upnp_actions.c) as the library
 * hands them over, run against the NAT-PMP/PCP lease store (pcp_server.c), without sockets
 * or the library.
 *
 * The input is a series of requests separated by a blank line. A request's first line is a
 * byte naming the requester ('a': 192.168.1.10, 'b': 192.168.1.20, anything else:
 * 203.0.113.5, outside) followed by the action name; each later line is "Name=Value", an
 * argument as the SOAP body's element would carry it (an argument named twice counts as
 * missing, as upnp_igd.c's soap_arg has it). Each request goes through upnp_call_parse and,
 * when that accepts it, upnp_call_run and upnp_answer_arg; the clock moves 100 ms per
 * request, so the per-host rate limit is met too. Each input starts with no lease.
 *
 * Oracle, beyond "no crash, no sanitizer report":
 *  - an accepted AddPortMapping/AddAnyPortMapping names the requester itself, a non-zero
 *    internal port, TCP or UDP, and (AddPortMapping) a non-zero external port;
 *  - a mapping granted is the lease on that port, to the requester's internal port, shown
 *    with origin upnp; AddPortMapping grants the very port asked;
 *  - every lease maps an inside host that the rules allow, the engine runs it, and no two
 *    leases share a port;
 *  - the answer's values are NUL-terminated within their buffer.
 */
#include "../../src/naptd/pcp_server.c"
#include "../../src/naptd/upnp_actions.c"
#include "fuzz_tmpdir.h"

static struct naptd d;
static struct pcp_server srv;
static uint64_t fake_now = 1000000;

uint64_t naptd_now_ms(void)
{
	return fake_now;
}

void daemon_log(int priority, const char *fmt, ...)
{
	(void)priority;
	(void)fmt;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	(void)argc;
	(void)argv;
	if (napt_config_parse_text(&d.file_cfg,
				   "inside 192.168.1.0/24\n"
				   "external 203.0.113.10\n"
				   "forward tcp 8080 192.168.1.10:80\n"
				   "max-sessions 64\n"
				   "port-range 1024-9999\n"
				   "pcp-deny 192.168.1.16/28 2000-2999\n"
				   "pcp-allow 192.168.1.0/24 1024-65535\n"
				   "upnp yes\n",
				   "fuzz.conf", err, sizeof(err)) < 0)
		fuzz_die("config", err);
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	if (!d.nat)
		fuzz_die("napt_create", err);
	srv.d = &d;
	srv.epfd = srv.timerfd = srv.announce_timerfd = -1;
	d.pcp = &srv;
	return 0;
}

/* One request's arguments: its lines after the first. */
struct args {
	char *lines[64];
	unsigned n;
};

static const char *fuzz_arg(void *ctx, const char *name)
{
	const struct args *a = ctx;
	const char *found = NULL;
	size_t k = strlen(name);

	for (unsigned i = 0; i < a->n; i++) {
		if (strncmp(a->lines[i], name, k) != 0 || a->lines[i][k] != '=')
			continue;
		if (found)
			return NULL;
		found = a->lines[i] + k + 1;
	}
	return found;
}

static bool engine_runs(const struct napt_forward *f)
{
	const struct napt_config *c = napt_get_config(d.nat);
	for (unsigned i = 0; i < c->n_forwards; i++)
		if (napt_forward_overlaps(&c->forwards[i], f) &&
		    c->forwards[i].in_addr == f->in_addr && c->forwards[i].in_lo == f->in_lo)
			return true;
	return false;
}

static void check_leases(void)
{
	for (unsigned i = 0; i < d.runtime.n_leases; i++) {
		const struct napt_forward *f = &d.runtime.leases[i].fwd;
		if (!napt_config_inside(napt_get_config(d.nat), f->in_addr) ||
		    !allowed(&srv, f->in_addr, f->ext_lo) || !f->in_lo)
			fuzz_die("lease", "to a host outside, a port the rules refuse, or port 0");
		if (!engine_runs(f))
			fuzz_die("lease", "the engine does not run it");
		for (unsigned j = 0; j < i; j++)
			if (d.runtime.leases[j].fwd.ext_lo == f->ext_lo &&
			    d.runtime.leases[j].fwd.protos == f->protos)
				fuzz_die("lease", "two leases on one port");
	}
}

static void check_call(const struct upnp_call *c, uint32_t client)
{
	bool add = c->action == UPNP_ADD || c->action == UPNP_ADD_ANY;
	if (add && (c->client != client || !c->in_port ||
		    (c->protos != NAPT_FWD_TCP && c->protos != NAPT_FWD_UDP) ||
		    (c->action == UPNP_ADD && !c->ext_port)))
		fuzz_die("parse", "accepted a mapping request it should refuse");
}

static void check_grant(const struct upnp_call *c, const struct upnp_answer *a)
{
	int i = lease_on(&d.runtime, c->protos, a->ext_port);
	if (c->action != UPNP_ADD && c->action != UPNP_ADD_ANY)
		return;
	if (i < 0 || d.runtime.leases[i].fwd.in_addr != c->client ||
	    d.runtime.leases[i].fwd.in_lo != c->in_port || !d.runtime.leases[i].upnp)
		fuzz_die("run", "a granted mapping is not the requester's upnp lease");
	if (c->action == UPNP_ADD && a->ext_port != c->ext_port)
		fuzz_die("run", "AddPortMapping granted another port than asked");
}

static void run_one(char *req)
{
	static struct args a;
	struct upnp_call c;
	struct upnp_answer ans;
	char val[64], *save = NULL, *first = strtok_r(req, "\n", &save);
	uint32_t client;

	if (!first)
		return;
	client = htonl(first[0] == 'a' ? 0xc0a8010au : first[0] == 'b' ? 0xc0a80114u : 0xcb007105u);
	a.n = 0;
	for (char *l; a.n < 64 && (l = strtok_r(NULL, "\n", &save));)
		a.lines[a.n++] = l;
	fake_now += 100;
	if (upnp_call_parse(first[0] ? first + 1 : first, fuzz_arg, &a, client, &c) !=
	    UPNP_ERR_NONE)
		return;
	check_call(&c, client);
	upnp_call_run(&d, &c, &ans);
	if (ans.error == UPNP_ERR_NONE)
		check_grant(&c, &ans);
	for (unsigned i = 0; upnp_answer_arg(&c, &ans, i, val, sizeof(val)); i++)
		if (!memchr(val, '\0', sizeof(val)))
			fuzz_die("answer", "a value without its NUL");
}

static void reset(void)
{
	while (d.runtime.n_leases)
		lease_remove(&srv, d.runtime.n_leases - 1);
	memset(&d.runtime, 0, sizeof(d.runtime));
	memset(srv.rates, 0, sizeof(srv.rates));
	d.runtime.epoch_start = wall_now();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *at;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	reset();
	at = text;
	while (at) {
		char *next = strstr(at, "\n\n");
		if (next)
			*next = '\0';
		run_one(at);
		at = next ? next + 2 : NULL;
	}
	check_leases();
	free(text);
	return 0;
}
