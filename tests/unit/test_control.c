/* SPDX-License-Identifier: BSD-2-Clause */
/* test_control.c - the control commands run against a real engine, without a socket:
 * forwards and the DMZ through the state file, the show commands (tables and JSON checked by
 * Python's json.tool), and requests that must be refused. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_commands.h"
#include "control_protocol.h"
#include "unit_run.h"

#define CONFIG_TEXT                                                                                \
	"inside 192.168.1.0/24\n"                                                                  \
	"external 203.0.113.10\n"                                                                  \
	"forward tcp 8080 192.168.1.10:80\n"                                                       \
	"max-sessions 1024\n"

static char dir[64];
static char state_path[128];
static struct naptd d;
static struct control_answer piece; /* what control_command_run() fills */
static struct control_answer ans;   /* the whole answer, its pieces put together */
static unsigned pieces;             /* how many pieces the last answer took */
static uint64_t fake_now = 1000000;
static char reload_error[64];

/* naptd's clock and reload live in main.c and naptd_reload.c, which need a TUN and netlink;
 * the commands only need these two. */
uint64_t naptd_now_ms(void)
{
	return fake_now;
}

int naptd_reload(struct naptd *dd, char *err, size_t errlen)
{
	(void)dd;
	if (!reload_error[0])
		return 0;
	snprintf(err, errlen, "%s", reload_error);
	return -1;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;
	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void setup(void)
{
	char err[512], text[512];
	snprintf(dir, sizeof(dir), "/tmp/test_control.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	snprintf(text, sizeof(text), CONFIG_TEXT "state %s\n", state_path);
	memset(&d, 0, sizeof(d));
	ck_assert_msg(napt_config_parse_text(&d.file_cfg, text, "t.conf", err, sizeof(err)) == 0,
		      "%s", err);
	d.config_path = "t.conf";
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	ck_assert_msg(d.nat != NULL, "%s", err);
	d.started_ms = fake_now;
	reload_error[0] = '\0';
	control_answer_init(&piece);
	control_answer_init(&ans);
}

static void teardown(void)
{
	char cmd[160];
	control_answer_free(&piece);
	control_answer_free(&ans);
	napt_destroy(d.nat);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Run a request of len bytes; the whole answer, its pieces put together as the server sends
 * them and NUL-terminated, is left in ans. A listing's every piece fits in its bound. */
static int run_bytes(const char *req, size_t len)
{
	int rc = control_command_run(&d, req, len, &piece);
	bool listing = piece.listing.kind != CONTROL_LIST_NONE;
	ans.len = 0;
	pieces = 1;
	control_answer_printf(&ans, "%.*s", (int)piece.len, piece.text);
	while (piece.listing.kind != CONTROL_LIST_NONE) {
		control_answer_more(&d, &piece);
		ck_assert_uint_le(piece.cap, CONTROL_ANSWER_PIECE);
		ck_assert(!piece.out_of_memory);
		control_answer_printf(&ans, "%.*s", (int)piece.len, piece.text);
		pieces++;
	}
	if (listing)
		ck_assert_uint_le(piece.cap, CONTROL_ANSWER_PIECE);
	ck_assert(ans.len > 0);
	ck_assert(ans.len < ans.cap);
	ck_assert(ans.text[ans.len - 1] == '\n');
	/* The first line says it all (control_protocol.h). */
	if (rc == 0)
		ck_assert_msg(strncmp(ans.text, "ok\n", 3) == 0, "%s", ans.text);
	else
		ck_assert_msg(strncmp(ans.text, "error: ", 7) == 0, "%s", ans.text);
	return rc;
}

static void ok(const char *req)
{
	ck_assert_msg(run_bytes(req, strlen(req)) == 0, "'%s' -> %s", req, ans.text);
}

static void fails(const char *req)
{
	ck_assert_msg(run_bytes(req, strlen(req)) == -1, "'%s' -> %s", req, ans.text);
}

static void answer_has(const char *s)
{
	ck_assert_msg(strstr(ans.text, s) != NULL, "'%s' not in:\n%s", s, ans.text);
}

/* The body after "ok\n" is one valid JSON document. */
static void body_is_json(void)
{
	char file[128], cmd[256];
	snprintf(file, sizeof(file), "%s/answer.json", dir);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs(ans.text + 3, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -m json.tool '%s' >/dev/null", file);
	ck_assert_msg(system(cmd) == 0, "not JSON:\n%s", ans.text + 3);
}

static struct runtime_state *load_state(void)
{
	static struct runtime_state st;
	char err[512];
	ck_assert_msg(runtime_state_load(state_path, &st, err, sizeof(err)) == 0, "%s", err);
	return &st;
}

START_TEST(help_lists_commands)
{
	ok("help");
	answer_has("forward add");
	answer_has("show sessions");
	ok("json help");
	body_is_json();
}
END_TEST

START_TEST(forward_add_saves_then_applies)
{
	ok("forward add tcp 9000 192.168.1.20:22");
	const struct runtime_state *st = load_state();
	ck_assert_uint_eq(st->n_forwards, 1);
	ck_assert_uint_eq(st->forwards[0].protos, NAPT_FWD_TCP);
	ck_assert_uint_eq(st->forwards[0].ext_lo, 9000);
	ck_assert_uint_eq(st->forwards[0].ext_hi, 9000);
	ck_assert_uint_eq(st->forwards[0].in_addr, ip("192.168.1.20"));
	ck_assert_uint_eq(st->forwards[0].in_lo, 22);
	ck_assert_uint_eq(d.runtime.n_forwards, 1);
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 2);
	ok("forward add udp 5000-5010 192.168.1.21:6000-6010");
	ck_assert_uint_eq(load_state()->n_forwards, 2);
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 3);
}
END_TEST

START_TEST(show_forwards_marks_origin)
{
	ok("forward add udp 5000-5010 192.168.1.21:6000-6010");
	ok("show forwards");
	answer_has("\ntcp   8080        192.168.1.10:80             config\n");
	answer_has("\nudp   5000-5010   192.168.1.21:6000-6010      runtime\n");
	ok("json show forwards");
	body_is_json();
	answer_has("\"origin\": \"runtime\"");
	answer_has("\"origin\": \"config\"");
}
END_TEST

/* A UPnP lease of udp 5000 to 192.168.1.10 with description desc (runtime_desc_set) whose
 * filters, as a PCP renewal would set them, admit 198.51.100.7 only. */
static void filtered_lease(const char *desc)
{
	struct runtime_lease *l = &d.runtime.leases[d.runtime.n_leases++];
	struct napt_peer_filter f = {.addr = ip("198.51.100.7"), .len = 32};
	char err[256];

	*l = (struct runtime_lease){.fwd = {.protos = NAPT_FWD_UDP,
					    .ext_lo = 5000,
					    .ext_hi = 5000,
					    .in_addr = ip("192.168.1.10"),
					    .in_lo = 5000},
				    .expires = 4000000000,
				    .upnp = true};
	runtime_desc_set(l->desc, desc);
	ck_assert_msg(napt_forward_add(d.nat, &l->fwd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(napt_forward_filter(d.nat, NAPT_FWD_UDP, 5000, &f, 1), 0);
}

/* A description a LAN host chose to break the listing (terminal escape, a newline and a
 * forged line, quotes, a backslash) and the lease's filters: the text listing stays one line
 * per forward without control characters, the JSON one valid JSON. */
START_TEST(show_forwards_hostile_description)
{
	filtered_lease("\x1b[2J\"},{\"x\\\nudp 1 1.2.3.4:1 config\r");
	ok("show forwards");
	for (const char *p = ans.text; *p; p++)
		ck_assert_msg(*p == '\n' || (*p >= 0x20 && *p < 0x7f), "byte %02x in:\n%s",
			      (unsigned char)*p, ans.text);
	ck_assert_ptr_null(strstr(ans.text, "\nudp 1 "));
	answer_has(" from 198.51.100.7/32:0 \"");
	ok("json show forwards");
	body_is_json();
	answer_has("\"filters\": [\"198.51.100.7/32:0\"]");
}
END_TEST

/* naptctl over a filtered lease's port: refused while the lease holds it; after "forward
 * del" ends the lease, a forward added there is open to all (it does not inherit the lease's
 * filters). */
START_TEST(forward_over_filtered_lease)
{
	filtered_lease("game");
	fails("forward add udp 5000 192.168.1.20:5000");
	ok("json show forwards");
	answer_has("\"filters\": [\"198.51.100.7/32:0\"]");
	ok("forward del udp 5000");
	ck_assert_uint_eq(d.runtime.n_leases, 0);
	ok("forward add udp 5000 192.168.1.20:5000");
	ok("json show forwards");
	ck_assert_ptr_null(strstr(ans.text, "filters"));
	ck_assert_ptr_null(strstr(ans.text, "game"));
}
END_TEST

START_TEST(forward_overlapping_config_refused)
{
	fails("forward add tcp 8080 192.168.1.20:80");
	answer_has("config file");
	fails("forward add both 8000-8100 192.168.1.20:8000");
	ck_assert_int_eq(access(state_path, F_OK), -1);
	ck_assert_uint_eq(d.runtime.n_forwards, 0);
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 1);
	/* udp 8080 does not overlap tcp 8080. */
	ok("forward add udp 8080 192.168.1.20:80");
}
END_TEST

START_TEST(forward_bad_ones_refused)
{
	ok("forward add tcp 9000 192.168.1.20:22");
	fails("forward add tcp 9000 192.168.1.21:22");      /* overlaps a run-time one */
	fails("forward add tcp 9100 10.0.0.1:22");          /* not inside */
	fails("forward add tcp 9100-9050 192.168.1.20:22"); /* reversed range */
	fails("forward add sctp 9100 192.168.1.20:22");
	fails("forward add tcp 9100");
	fails("forward add tcp 70000 192.168.1.20:22");
	ck_assert_uint_eq(load_state()->n_forwards, 1);
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 2);
}
END_TEST

START_TEST(forward_del_runtime_only)
{
	ok("forward add tcp 9000-9009 192.168.1.20:9000-9009");
	fails("forward del tcp 8080");
	ck_assert_str_eq(
	    ans.text, "error: forward tcp 8080 comes from the config file; edit it and reload\n");
	fails("forward del tcp 9999");
	fails("forward del udp 9000");
	fails("forward del tcp x");
	ok("forward del tcp 9005"); /* any port of the range names the rule */
	ck_assert_uint_eq(load_state()->n_forwards, 0);
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 1);
	ck_assert_uint_eq(napt_get_config(d.nat)->forwards[0].ext_lo, 8080);
}
END_TEST

START_TEST(forward_both_deleted_whole)
{
	ok("forward add both 7000 192.168.1.20:7000");
	fails("forward del tcp 7000");
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 2);
	ok("forward del both 7000");
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 1);
}
END_TEST

START_TEST(dmz_set_and_clear_kept)
{
	ok("dmz set 192.168.1.50");
	ck_assert(napt_get_config(d.nat)->has_dmz);
	ck_assert_uint_eq(napt_get_config(d.nat)->dmz, ip("192.168.1.50"));
	ck_assert_int_eq(load_state()->dmz_mode, RUNTIME_DMZ_SET);
	ck_assert_uint_eq(load_state()->dmz, ip("192.168.1.50"));
	ok("dmz clear");
	ck_assert(!napt_get_config(d.nat)->has_dmz);
	ck_assert_int_eq(load_state()->dmz_mode, RUNTIME_DMZ_CLEARED);
	fails("dmz set 10.1.1.1"); /* in no inside prefix */
	fails("dmz set 192.168.1");
	ck_assert(!napt_get_config(d.nat)->has_dmz);
	ck_assert_int_eq(load_state()->dmz_mode, RUNTIME_DMZ_CLEARED);
}
END_TEST

/* mode dynamic: naptctl's forward and DMZ are refused as the config file's are (the pool's
 * addresses belong to the hosts that hold them), and the state file keeps neither. */
START_TEST(dynamic_mode_refuses_forward_and_dmz)
{
	char err[512], text[512];
	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\nexternal 203.0.113.10\nexternal 203.0.113.11\n"
		 "mode dynamic\nmax-sessions 1024\nstate %s\n",
		 state_path);
	ck_assert_msg(napt_config_parse_text(&d.file_cfg, text, "t.conf", err, sizeof(err)) == 0,
		      "%s", err);
	napt_destroy(d.nat);
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	ck_assert_msg(d.nat != NULL, "%s", err);
	fails("dmz set 192.168.1.50");
	answer_has("'mode dynamic' does not go with 'dmz'");
	fails("forward add udp 6000 192.168.1.20:6000");
	answer_has("'mode dynamic' does not go with 'forward'");
	ck_assert(!napt_get_config(d.nat)->has_dmz);
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 0);
}
END_TEST

START_TEST(state_save_failure_changes_nothing)
{
	snprintf(d.file_cfg.daemon.state, sizeof(d.file_cfg.daemon.state), "%s/no/such/dir", dir);
	fails("forward add tcp 9000 192.168.1.20:22");
	answer_has("state file");
	ck_assert_uint_eq(d.runtime.n_forwards, 0);
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 1);
	fails("dmz set 192.168.1.50");
	ck_assert(!napt_get_config(d.nat)->has_dmz);
	ck_assert_int_eq(d.runtime.dmz_mode, RUNTIME_DMZ_FROM_CONFIG);
}
END_TEST

START_TEST(no_state_file_applies_and_says_so)
{
	d.file_cfg.daemon.state[0] = '\0';
	ok("forward add tcp 9000 192.168.1.20:22");
	answer_has("not kept");
	ck_assert_uint_eq(napt_get_config(d.nat)->n_forwards, 2);
}
END_TEST

START_TEST(timeout_set_runtime)
{
	ok("timeout set udp 5");
	ck_assert_uint_eq(napt_get_config(d.nat)->timeout_s[NAPT_TIMEOUT_UDP], 5);
	ok("timeout set tcp-transitory 30");
	ck_assert_uint_eq(napt_get_config(d.nat)->timeout_s[NAPT_TIMEOUT_TCP_TRANSITORY], 30);
	fails("timeout set udp 0");
	fails("timeout set udp 5s");
	fails("timeout set bogus 5");
	fails("timeout set udp 99999999");
	ck_assert_uint_eq(napt_get_config(d.nat)->timeout_s[NAPT_TIMEOUT_UDP], 5);
	/* Not written to the state file (docs/control-protocol.md). */
	ck_assert_int_eq(access(state_path, F_OK), -1);
}
END_TEST

START_TEST(reload_error_returned)
{
	ok("reload");
	snprintf(reload_error, sizeof(reload_error), "t.conf:3: unknown keyword 'x'");
	fails("reload");
	ck_assert_str_eq(ans.text, "error: t.conf:3: unknown keyword 'x'\n");
}
END_TEST

/* RFC 1071 checksum, written here so the test does not trust the engine's. */
static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An outbound UDP datagram (no UDP checksum, allowed in IPv4 by RFC 768). */
static void send_udp_from(uint32_t s, uint16_t sport, uint32_t t, uint16_t dport)
{
	uint8_t pkt[32] = {0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17};
	memcpy(pkt + 12, &s, 4);
	memcpy(pkt + 16, &t, 4);
	uint16_t c = htons(csum(pkt, 20));
	memcpy(pkt + 10, &c, 2);
	pkt[20] = (uint8_t)(sport >> 8);
	pkt[21] = (uint8_t)sport;
	pkt[22] = (uint8_t)(dport >> 8);
	pkt[23] = (uint8_t)dport;
	pkt[25] = 12;
	struct napt_packet p = {.data = pkt, .len = sizeof(pkt)};
	struct napt_result r = napt_translate(d.nat, &p, fake_now);
	ck_assert_int_eq(r.verdict, NAPT_FORWARD);
}

static void send_udp(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	send_udp_from(ip(src), sport, ip(dst), dport);
}

START_TEST(show_sessions_filters)
{
	send_udp("192.168.1.10", 5000, "198.51.100.7", 53);
	send_udp("192.168.1.11", 5001, "198.51.100.7", 53);
	ok("show sessions");
	answer_has("INSIDE");
	answer_has("192.168.1.10:5000");
	answer_has("198.51.100.7:53");
	answer_has("203.0.113.10:");
	answer_has("\n2 sessions\n");
	ok("show sessions udp inside 192.168.1.11");
	answer_has("\n1 sessions\n");
	answer_has("192.168.1.11:5001");
	ok("show sessions tcp");
	answer_has("\n0 sessions\n");
	fails("show sessions inside 192.168.1");
	fails("show sessions sctp");
	ok("json show sessions");
	body_is_json();
	answer_has("\"inside_port\": 5000");
	answer_has("\"count\": 2");
	ok("show mappings");
	answer_has("\n2 mappings\n");
	ok("json show mappings");
	body_is_json();
	ok("flush sessions");
	ok("show sessions");
	answer_has("\n0 sessions\n");
}
END_TEST

/* An engine of max-sessions `max` holding hosts x PORTS x REMOTES sessions: inside hosts
 * 192.168.1.1.., each from PORTS ports to REMOTES remote hosts (one mapping per inside
 * port, as the single external address has ports for 65 000 mappings, not 200 000). */
#define PORTS   20
#define REMOTES 100
static void fill_table(uint32_t max, unsigned hosts)
{
	char err[512], text[256];
	napt_destroy(d.nat);
	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\nexternal 203.0.113.10\nmax-sessions %u\n", max);
	ck_assert_msg(napt_config_parse_text(&d.file_cfg, text, "t.conf", err, sizeof(err)) == 0,
		      "%s", err);
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	ck_assert_msg(d.nat != NULL, "%s", err);
	for (unsigned h = 1; h <= hosts; h++)
		for (unsigned p = 0; p < PORTS; p++)
			for (unsigned r = 0; r < REMOTES; r++)
				send_udp_from(htonl(0xc0a80100 + h), (uint16_t)(10000 + p),
					      htonl(0xc6336400 + r), 53);
	ck_assert_uint_eq(napt_get_counters(d.nat)->sessions_current, hosts * PORTS * REMOTES);
}

/* Lines of ans that start with prefix and hold what. Line by line with explicit lengths:
 * strstr() on the rest of a 20-MB answer would read all of it under ASan for every line. */
static unsigned rows(const char *prefix, const char *what)
{
	unsigned n = 0;
	const char *end = ans.text + ans.len;
	for (const char *l = ans.text, *nl; l < end; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(end - l));
		if (!nl)
			break;
		size_t len = (size_t)(nl - l);
		if (len >= strlen(prefix) && memcmp(l, prefix, strlen(prefix)) == 0 &&
		    memmem(l, len, what, strlen(what)))
			n++;
	}
	return n;
}

/* Issue 11.8: 200 000 sessions are listed in pieces of at most CONTROL_ANSWER_PIECE bytes
 * (run_bytes checks each) and CONTROL_POSITIONS_PER_PIECE table positions, each session
 * once; the host filter narrows sessions and mappings. */
START_TEST(big_listing_in_bounded_pieces)
{
	const uint32_t max = 204800;
	fill_table(max, 100);
	ok("show sessions");
	answer_has("\n200000 sessions\n");
	ck_assert_uint_eq(rows("udp ", " 198.51.100."), 200000);
	ck_assert_uint_ge(pieces, ans.len / CONTROL_ANSWER_PIECE);
	ok("show sessions host 192.168.1.7");
	ck_assert_uint_eq(rows("udp   192.168.1.7:", ""), PORTS * REMOTES);
	answer_has("\n2000 sessions\n");
	ok("json show sessions udp inside 192.168.1.7");
	body_is_json();
	answer_has("\"count\": 2000}");
	ok("json show mappings host 192.168.1.7");
	body_is_json();
	answer_has("\"count\": 20}");
	/* Each mapping's row counts its 100 sessions: a piece stops after
	 * CONTROL_SESSION_STEPS_PER_PIECE of those steps, not after 32 KiB of rows. */
	ok("show mappings");
	answer_has("\n2000 mappings\n");
	ck_assert_uint_eq(rows("udp ", " outbound      100"), 2000);
	ck_assert_uint_ge(pieces, 200000 / CONTROL_SESSION_STEPS_PER_PIECE);
	/* A filter that matches nothing still looks at a bounded number of positions a piece:
	 * the header, then one piece per CONTROL_POSITIONS_PER_PIECE positions. */
	ok("show sessions host 192.168.1.250");
	answer_has("\n0 sessions\n");
	ck_assert_uint_eq(pieces, 1 + (max + CONTROL_POSITIONS_PER_PIECE - 1) /
					  CONTROL_POSITIONS_PER_PIECE);
}
END_TEST

/* Sessions that end while a listing is under way are not shown, and the count line counts
 * the rows shown. */
START_TEST(listing_skips_sessions_ended_midway)
{
	fill_table(4096, 2);
	ck_assert_int_eq(control_command_run(&d, "show sessions", 13, &piece), 0);
	ck_assert(control_answer_more(&d, &piece));
	unsigned long shown = piece.listing.count;
	ck_assert_uint_gt(shown, 0);
	ck_assert_uint_lt(shown, 2 * PORTS * REMOTES);
	napt_flush(d.nat);
	while (control_answer_more(&d, &piece))
		;
	ck_assert_uint_eq(piece.listing.count, shown);
	ans.len = 0;
	control_answer_printf(&ans, "%.*s", (int)piece.len, piece.text);
	ck_assert_uint_eq(rows("udp ", ""), 0);
	char last[32];
	snprintf(last, sizeof(last), "%lu sessions\n", shown);
	answer_has(last);
}
END_TEST

START_TEST(show_stats_every_drop_reason)
{
	send_udp("192.168.1.10", 5000, "198.51.100.7", 53);
	ok("show stats");
	answer_has("translated-udp-out");
	for (int r = NAPT_DROP_NONE + 1; r < NAPT_DROP_REASONS; r++) {
		char name[64];
		snprintf(name, sizeof(name), "\ndropped-%s ", napt_drop_reason_name(r));
		answer_has(name);
	}
	ok("json show stats");
	body_is_json();
	answer_has("\"translated-udp-out\": 1");
}
END_TEST

START_TEST(show_config_in_config_syntax)
{
	char err[512];
	struct napt_config again;
	ok("forward add udp 5000 192.168.1.20:53");
	ok("show config");
	answer_has("\ninside 192.168.1.0/24\n");
	answer_has("\nforward tcp 8080 192.168.1.10:80\n");
	/* The body is a config file that the parser accepts. */
	ck_assert_msg(napt_config_parse_text(&again, ans.text + 3, "shown", err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(again.n_forwards, 2);
	ck_assert_uint_eq(again.max_sessions, 1024);
	ok("json show config");
	body_is_json();
}
END_TEST

START_TEST(bad_requests_refused)
{
	const char *bad[] = {"",
			     "   ",
			     "bogus",
			     "show",
			     "show nothing",
			     "show stats extra",
			     "dmz",
			     "forward",
			     "json",
			     "json bogus",
			     "flush",
			     "flush all",
			     "reload now",
			     "a b c d e f g h i",
			     "SHOW STATS"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fails(bad[i]);
}
END_TEST

START_TEST(binary_refused)
{
	ck_assert_int_eq(run_bytes("show\0stats", 10), -1);
	ck_assert_int_eq(run_bytes("show stats\x01", 11), -1);
	ck_assert_int_eq(run_bytes("\xff\xfe", 2), -1);
	ck_assert_int_eq(run_bytes("show\tstats", 10), -1);
	answer_has("printable");
	/* A CR before the LF (telnet) is tolerated. */
	ck_assert_int_eq(run_bytes("help\r", 5), 0);
}
END_TEST

START_TEST(length_limit)
{
	/* CONTROL_REQUEST_MAX counts the "\n": 1023 bytes of text pass, 1024 do not. */
	char req[CONTROL_REQUEST_MAX + 100];
	memset(req, ' ', sizeof(req));
	memcpy(req, "help", 4);
	ck_assert_int_eq(run_bytes(req, CONTROL_REQUEST_MAX - 1), 0);
	ck_assert_int_eq(run_bytes(req, CONTROL_REQUEST_MAX), -1);
	answer_has("longer");
	ck_assert_int_eq(run_bytes(req, sizeof(req)), -1);
}
END_TEST

/* Deterministic NAT (RFC 7422): lookup EXT:PORT names the host from the formula, with no
 * mapping live and with one. Expected values by hand from docs/behaviour.md 17: H = 16
 * inside addresses on X = 2 external ones, R = 64 ports: S = 8 hosts per address, P = 8
 * ports each. 100.64.0.9 is k = 9: address 1 (198.51.100.1), ports 1024 + 1 * 8 = 1032 to
 * 1039; its flow from port 3 gets 1032 + 3 % 8 = 1035. */
START_TEST(lookup_answers_from_the_formula)
{
	char err[512];

	napt_destroy(d.nat);
	ck_assert_msg(napt_config_parse_text(&d.file_cfg,
					     "inside 100.64.0.0/28\nport-range 1024-1087\n"
					     "deterministic 100.64.0.0/28 198.51.100.0/31\n",
					     "t.conf", err, sizeof(err)) == 0,
		      "%s", err);
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	ck_assert_msg(d.nat != NULL, "%s", err);
	ok("lookup 198.51.100.1:1035 udp");
	ck_assert_msg(strstr(ans.text, "\n0 mappings\ndeterministic: 198.51.100.1 ports 1032-1039 "
				       "belong to inside 100.64.0.9 (from the formula; no live "
				       "mapping)\n"),
		      "%s", ans.text);
	send_udp_from(ip("100.64.0.9"), 3, ip("203.0.113.7"), 53);
	ok("lookup 198.51.100.1:1035 udp");
	ck_assert_msg(strstr(ans.text, "100.64.0.9:3") && strstr(ans.text, "\n1 mappings\n") &&
			  strstr(ans.text, "belong to inside 100.64.0.9 (from the formula)\n"),
		      "%s", ans.text);
	ok("json lookup 198.51.100.0:1087 tcp");
	body_is_json();
	ck_assert_msg(strstr(ans.text,
			     "\"count\": 0, \"deterministic\": {\"inside_addr\": "
			     "\"100.64.0.7\", \"external_addr\": \"198.51.100.0\", "
			     "\"port_first\": 1080, \"port_last\": 1087, \"live\": false}}"),
		      "%s", ans.text);
	/* Outside the formula's addresses: no deterministic answer. */
	ok("json lookup 203.0.113.10:1035 udp");
	body_is_json();
	ck_assert_msg(strstr(ans.text, "\"deterministic\": null}"), "%s", ans.text);
}
END_TEST

/* Attack (h-break15): with port blocks, a port of a host's block with no live mapping on it is
 * still that host's (its block line is the log's answer); lookup said "0 mappings" and
 * nothing else. port-range 1024-1087, blocks of 8: the host's first flow from port 1030
 * (port preservation) takes block 1024-1031. */
START_TEST(lookup_names_the_block_holder)
{
	char err[512];

	napt_destroy(d.nat);
	ck_assert_msg(napt_config_parse_text(&d.file_cfg,
					     "inside 192.168.1.0/24\nexternal 203.0.113.1\n"
					     "port-range 1024-1087\nport-block-size 8\n",
					     "t.conf", err, sizeof(err)) == 0,
		      "%s", err);
	d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err));
	ck_assert_msg(d.nat != NULL, "%s", err);
	send_udp_from(ip("192.168.1.10"), 1030, ip("198.51.100.7"), 53);
	ok("lookup 203.0.113.1:1030 udp");
	ck_assert_msg(strstr(ans.text, "192.168.1.10:1030") && strstr(ans.text, "\n1 mappings\n"),
		      "%s", ans.text);
	ok("lookup 203.0.113.1:1025 tcp");
	ck_assert_msg(strstr(ans.text, "\n0 mappings\nblock: 203.0.113.1 ports 1024-1031 held by "
				       "inside 192.168.1.10\n"),
		      "%s", ans.text);
	ok("json lookup 203.0.113.1:1031 udp");
	body_is_json();
	ck_assert_msg(strstr(ans.text, "\"block\": {\"inside_addr\": \"192.168.1.10\", "
				       "\"external_addr\": \"203.0.113.1\", \"port_first\": 1024, "
				       "\"port_last\": 1031}}"),
		      "%s", ans.text);
	ok("json lookup 203.0.113.1:1032 udp"); /* the next block: nobody's */
	body_is_json();
	ck_assert_msg(strstr(ans.text, "\"block\": null}"), "%s", ans.text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, help_lists_commands);
	tcase_add_test(tc, forward_add_saves_then_applies);
	tcase_add_test(tc, show_forwards_marks_origin);
	tcase_add_test(tc, show_forwards_hostile_description);
	tcase_add_test(tc, forward_over_filtered_lease);
	tcase_add_test(tc, forward_overlapping_config_refused);
	tcase_add_test(tc, forward_bad_ones_refused);
	tcase_add_test(tc, forward_del_runtime_only);
	tcase_add_test(tc, forward_both_deleted_whole);
	tcase_add_test(tc, dmz_set_and_clear_kept);
	tcase_add_test(tc, dynamic_mode_refuses_forward_and_dmz);
	tcase_add_test(tc, state_save_failure_changes_nothing);
	tcase_add_test(tc, no_state_file_applies_and_says_so);
	tcase_add_test(tc, timeout_set_runtime);
	tcase_add_test(tc, reload_error_returned);
	tcase_add_test(tc, show_sessions_filters);
	tcase_add_test(tc, big_listing_in_bounded_pieces);
	tcase_add_test(tc, listing_skips_sessions_ended_midway);
	tcase_add_test(tc, show_stats_every_drop_reason);
	tcase_add_test(tc, show_config_in_config_syntax);
	tcase_add_test(tc, bad_requests_refused);
	tcase_add_test(tc, lookup_answers_from_the_formula);
	tcase_add_test(tc, lookup_names_the_block_holder);
	tcase_add_test(tc, binary_refused);
	tcase_add_test(tc, length_limit);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
