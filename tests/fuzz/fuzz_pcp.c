/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_pcp - libFuzzer target: NAT-PMP and PCP requests (pcp_server.c), without sockets.
 *
 * The input is a series of datagrams, each: a byte naming the sender (its low 7 bits the last
 * octet of an address in 192.168.1.0/24; with the high bit set, 203.0.113.x, outside the
 * inside prefix), a byte of length, then that many bytes. Each goes through answer(), as
 * serve() hands it a datagram from lan-interface, against a real engine; the clock moves
 * 100 ms per datagram, so the per-host rate limit is met too. Each input starts with no
 * lease and no session (PEER requests make sessions). The server's file is included, so
 * its static functions are reached as they are.
 *
 * Oracle, beyond "no crash, no sanitizer report":
 *  - an answer is never longer than PCP_MSG_MAX;
 *  - every lease maps its own host (inside, allowed by the rules) to a non-zero internal port,
 *    from one port in the port range that no other lease holds, and the engine runs it;
 *  - the leases' state file loads back whole and would start (runtime_state_load and
 *    runtime_state_apply): no request can leave a line that stops the next start.
 */
#include "../../src/naptd/pcp_server.c"
#include "fuzz_tmpdir.h"

static char state_path[128];
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
	fuzz_make_dir("fuzz_pcp", state_path, sizeof(state_path), "state");
	/* No state path in the daemon's config: the oracle writes the file itself. */
	if (napt_config_parse_text(&d.file_cfg,
				   "inside 192.168.1.0/24\n"
				   "external 203.0.113.10\n"
				   "forward tcp 8080 192.168.1.10:80\n"
				   "max-sessions 64\n"
				   "port-range 1024-9999\n"
				   "pcp-deny 192.168.1.0/25 2000-2999\n"
				   "pcp-allow 192.168.1.0/24 1024-65535\n",
				   "fuzz.conf", err, sizeof(err)) < 0)
		fuzz_die("config", err);
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	if (!d.nat)
		fuzz_die("napt_create", err);
	srv.d = &d;
	srv.epfd = srv.timerfd = srv.announce_timerfd = -1;
	return 0;
}

static bool engine_runs(const struct napt_forward *f)
{
	const struct napt_config *c = napt_get_config(d.nat);
	for (unsigned i = 0; i < c->n_forwards; i++) {
		const struct napt_forward *g = &c->forwards[i];
		if (g->protos == f->protos && g->ext_lo == f->ext_lo && g->ext_hi == f->ext_hi &&
		    g->in_addr == f->in_addr && g->in_lo == f->in_lo)
			return true;
	}
	return false;
}

static void check_lease(unsigned i)
{
	const struct napt_config *c = napt_get_config(d.nat);
	const struct napt_forward *f = &d.runtime.leases[i].fwd;
	char err[256];
	/* Any port the rules give, in or out of port-range, but never the router's own. */
	if (!f->in_lo || !f->ext_lo || f->ext_lo != f->ext_hi ||
	    napt_config_hides_local(c, f->protos, f->ext_lo, f->ext_hi, err, sizeof(err)))
		fuzz_die("lease", "port 0, a range, or one of the router's own ports");
	if (!napt_config_inside(c, f->in_addr) || !allowed(&srv, f->in_addr, f->ext_lo))
		fuzz_die("lease", "to a host outside, or on a port the rules refuse");
	if (!engine_runs(f))
		fuzz_die("lease", "the engine does not run it");
	for (unsigned j = 0; j < i; j++)
		if (d.runtime.leases[j].fwd.ext_lo == f->ext_lo &&
		    d.runtime.leases[j].fwd.protos == f->protos)
			fuzz_die("lease", "two leases on one port");
}

/* The leases as the state file keeps them would load whole and start. */
static void check_state_file(void)
{
	static struct runtime_state back;
	static struct napt_config run;
	char err[512];
	if (runtime_state_save(state_path, &d.runtime, err, sizeof(err)) != 0)
		fuzz_die("save", err);
	if (runtime_state_load(state_path, &back, err, sizeof(err)) != 0)
		fuzz_die("the leases' state file does not load", err);
	run = d.file_cfg;
	if (runtime_state_apply(&back, &run, err, sizeof(err)) != 0)
		fuzz_die("the leases' state file would not start", err);
}

static void reset(void)
{
	while (d.runtime.n_leases)
		lease_remove(&srv, d.runtime.n_leases - 1);
	napt_flush(d.nat); /* PEER's sessions: each input starts with none */
	memset(&d.runtime, 0, sizeof(d.runtime));
	memset(srv.rates, 0, sizeof(srv.rates));
	d.runtime.epoch_start = wall_now();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t r[PCP_MSG_MAX + 4];
	reset();
	while (size >= 2) {
		uint8_t who = data[0];
		size_t len = data[1] < size - 2 ? data[1] : size - 2;
		uint32_t client = htonl((who & 0x80 ? 0xcb007100u : 0xc0a80100u) | (who & 0x7f));
		fake_now += 100;
		if (answer(&srv, client, data + 2, len, r) > PCP_MSG_MAX)
			fuzz_die("answer", "longer than PCP_MSG_MAX");
		data += 2 + len;
		size -= 2 + len;
	}
	for (unsigned i = 0; i < d.runtime.n_leases; i++)
		check_lease(i);
	check_state_file();
	return 0;
}
