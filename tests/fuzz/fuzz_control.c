/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_control - libFuzzer target: the control protocol, without the socket.
 *
 * The input is split at "\n" into request lines, each run by control_command_run() against a
 * real engine (with a few live sessions) and a state file in a temporary directory, as
 * naptd would run them one after the other on one connection. Each input starts from the
 * config file alone (no run-time forward, the config's DMZ and timeouts, no state file, the
 * same four sessions), so a finding replays alone.
 *
 * Oracle, beyond "no crash, no sanitizer report" (docs/control-protocol.md):
 *  - every answer ends with "\n"; it starts "ok\n" when the call returned 0, and is exactly
 *    one line "error: REASON\n" when it returned -1; a listing (show sessions, show
 *    mappings) comes in pieces of at most CONTROL_ANSWER_PIECE bytes, the last ending with
 *    "\n";
 *  - after every request the state file parses, says what the daemon holds (d.runtime), and
 *    the engine runs exactly the config file's forwards and DMZ with the state file's applied
 *    on top: an answered change is never lost on a restart, a refused one never half-made.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_commands.h"
#include "packet_builder.h"

static char dir[64];
static char state_path[128];
static struct naptd d;
static struct control_answer ans;
static uint64_t fake_now = 1000000;

/* naptd's clock and reload live in main.c and naptd_reload.c, which need a TUN and netlink.
 * Reload here keeps the running config, as naptd does when the file is unchanged. */
uint64_t naptd_now_ms(void)
{
	return fake_now;
}

int naptd_reload(struct naptd *dd, char *err, size_t errlen)
{
	(void)dd;
	(void)err;
	(void)errlen;
	return 0;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_control: %s: %s\n", what, detail);
	abort();
}

static void remove_dir(void)
{
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	unlink(tmp);
	unlink(state_path);
	rmdir(dir);
}

/* tmpfs, so the state file's fsyncs cost nothing and the fuzzer keeps its pace. port-rest 0:
 * every input flushes the table at one fixed time, and resting ports (RFC 6888 REQ-8) would
 * use up port-range after a few thousand inputs. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512], text[512];
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_control.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp", dir);
	atexit(remove_dir);
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\n"
		 "external 203.0.113.10\n"
		 "forward tcp 8080 192.168.1.10:80\n"
		 "forward udp 5000-5009 192.168.1.11:6000-6009\n"
		 "dmz 192.168.1.99\n"
		 "max-sessions 64\n"
		 "port-rest 0\n"
		 "state %s\n",
		 state_path);
	if (napt_config_parse_text(&d.file_cfg, text, "fuzz.conf", err, sizeof(err)) < 0)
		die("config", err);
	d.config_path = "fuzz.conf";
	d.started_ms = fake_now;
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	if (!d.nat)
		die("napt_create", err);
	control_answer_init(&ans);
	return 0;
}

/* Outbound UDP and ICMP echo, so "show sessions" and "show mappings" have rows to print. */
static void add_sessions(void)
{
	uint8_t buf[PB_MAX];
	for (uint16_t i = 0; i < 4; i++) {
		struct pb_spec s = {.proto = i & 1 ? IPPROTO_ICMP : IPPROTO_UDP,
				    .src = pb_addr(PB_INSIDE_HOST),
				    .dst = pb_addr(PB_REMOTE_HOST),
				    .sport = (uint16_t)(40000 + i),
				    .dport = 53,
				    .icmp_type = 8,
				    .payload_len = 4};
		struct napt_packet p = {.data = buf, .len = pb_build(buf, &s)};
		if (napt_translate(d.nat, &p, fake_now).verdict != NAPT_FORWARD)
			die("set-up", "an outbound packet was not translated");
	}
}

/* Back to the config file alone through the engine's own API: creating a 450-KB engine for
 * every input would cost most of the fuzzer's time. */
static void reset_daemon(void)
{
	const struct napt_config *cfg = &d.file_cfg;
	unlink(state_path);
	for (unsigned i = 0; i < d.runtime.n_forwards; i++)
		napt_forward_del(d.nat, d.runtime.forwards[i].protos, d.runtime.forwards[i].ext_lo);
	memset(&d.runtime, 0, sizeof(d.runtime));
	napt_dmz_set(d.nat, cfg->dmz, NULL, 0);
	for (int c = 0; c < NAPT_TIMEOUT_CLASSES; c++)
		napt_timeout_set(d.nat, (enum napt_timeout_class)c, cfg->timeout_s[c]);
	napt_flush(d.nat);
	add_sessions();
}

/* A listing's further pieces, as the server would send them: each within its bound, the
 * last one ending the answer with its count line. */
static void check_pieces(void)
{
	while (ans.listing.kind != CONTROL_LIST_NONE) {
		control_answer_more(&d, &ans);
		if (ans.cap > CONTROL_ANSWER_PIECE || ans.out_of_memory)
			die("listing", "a piece grew past CONTROL_ANSWER_PIECE");
	}
	if (ans.len == 0 || ans.len >= ans.cap || ans.text[ans.len - 1] != '\n')
		die("answer", "empty, unterminated or without room for a NUL");
}

static void check_answer(int rc)
{
	if (ans.len == 0 || ans.len >= ans.cap)
		die("answer", "empty or without room for a NUL");
	ans.text[ans.len] = '\0';
	if (rc == 0 && strncmp(ans.text, "ok\n", 3) != 0)
		die("rc 0 but not ok", ans.text);
	if (rc == -1 && (strncmp(ans.text, "error: ", 7) != 0 ||
			 strchr(ans.text, '\n') != ans.text + ans.len - 1))
		die("rc -1 but not one error line", ans.text);
	if (rc != 0 && rc != -1)
		die("return code", ans.text);
	check_pieces();
}

static bool same_forward(const struct napt_forward *x, const struct napt_forward *y)
{
	return x->protos == y->protos && x->ext_lo == y->ext_lo && x->ext_hi == y->ext_hi &&
	       x->in_addr == y->in_addr && x->in_lo == y->in_lo;
}

static bool forward_in(const struct napt_forward *f, const struct napt_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_forwards; i++) {
		if (same_forward(f, &cfg->forwards[i]))
			return true;
	}
	return false;
}

/* The daemon's run-time state is the state file's, field by field. */
static void check_runtime_is(const struct runtime_state *st)
{
	if (st->n_forwards != d.runtime.n_forwards || st->dmz_mode != d.runtime.dmz_mode ||
	    (st->dmz_mode == RUNTIME_DMZ_SET && st->dmz != d.runtime.dmz))
		die("state file", "differs from the daemon's run-time state");
	for (unsigned i = 0; i < st->n_forwards; i++) {
		if (!same_forward(&st->forwards[i], &d.runtime.forwards[i]))
			die("state file", "a forward differs from the daemon's");
	}
}

/* What a restart would run (config file + state file) is what the engine runs now. */
static void check_engine_matches_state(void)
{
	static struct runtime_state st;
	static struct napt_config want;
	char err[512];
	const struct napt_config *got = napt_get_config(d.nat);
	if (runtime_state_load(state_path, &st, err, sizeof(err)) < 0)
		die("state file does not load", err);
	check_runtime_is(&st);
	want = d.file_cfg;
	if (runtime_state_apply(&st, &want, err, sizeof(err)) < 0)
		die("state file would not start", err);
	if (want.n_forwards != got->n_forwards)
		die("forwards", "the engine runs another number of forwards than a restart would");
	for (unsigned i = 0; i < want.n_forwards; i++) {
		if (!forward_in(&want.forwards[i], got))
			die("forwards", "a forward of the state file is missing from the engine");
	}
	if (want.has_dmz != got->has_dmz || (want.has_dmz && want.dmz != got->dmz))
		die("dmz", "the engine's DMZ is not the one a restart would set");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reset_daemon();
	check_engine_matches_state();
	const char *req = (const char *)data, *end = req + size;
	while (req < end) {
		const char *nl = memchr(req, '\n', (size_t)(end - req));
		size_t len = nl ? (size_t)(nl - req) : (size_t)(end - req);
		check_answer(control_command_run(&d, req, len, &ans));
		check_engine_matches_state();
		req += len + 1;
	}
	return 0;
}
