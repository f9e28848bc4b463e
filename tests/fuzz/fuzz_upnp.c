/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_upnp - libFuzzer target: UPnP IGD action requests (upnp_actions.c) as the library
 * hands them over, run against the NAT-PMP/PCP lease store (pcp_server.c), without sockets
 * or the library.
 *
 * The input is a series of requests separated by a blank line. A request's first line is a
 * byte naming the requester ('a': 192.168.1.10, 'b': 192.168.1.20, both under fuzz_pcp's
 * rules, anything else: 203.0.113.5, outside) followed by the action name;
 * each later line is "Name=Value", an argument as the SOAP body's element would carry it (an
 * argument named twice counts as missing, as upnp_igd.c's soap_arg has it). Each request goes
 * through upnp_call_parse and, when that accepts it, upnp_call_run and upnp_answer_arg; the clock
 * moves 100 ms per request, so the per-host rate limit is met too. Each input starts with no lease.
 *
 * Oracle, beyond "no crash, no sanitizer report":
 *  - an accepted AddPortMapping/AddAnyPortMapping names the requester itself, a non-zero
 *    internal port, TCP or UDP, and (AddPortMapping) a non-zero external port;
 *  - a mapping granted is the lease on that port, to the requester's internal port, shown
 *    with origin upnp; AddPortMapping grants the very port asked;
 *  - every lease is as fuzz_pcp's oracle wants it (check_lease: an inside host the rules
 *    allow, a port of the port range, run by the engine, one lease per port);
 *  - the answer's values are NUL-terminated within their buffer.
 */
/* fuzz_pcp's server, engine, clock, oracle for leases (check_lease) and reset, under the
 * same config; its entry points renamed out of the way. */
#define LLVMFuzzerInitialize   fuzz_pcp_initialize
#define LLVMFuzzerTestOneInput fuzz_pcp_one_input
#include "fuzz_pcp.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput
#include "../../src/naptd/upnp_actions.c"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_pcp_initialize(argc, argv);
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
	for (unsigned i = 0; i < d.runtime.n_leases; i++)
		check_lease(i);
	free(text);
	return 0;
}
