/* SPDX-License-Identifier: BSD-2-Clause */
/* test_tcp_flags - every TCP flag byte (0..255), both directions, on a session in every
 * state the NAT follows (docs/behaviour.md section 6): the short path and the full path give
 * the same verdict, bytes, state and lifetime (two instances that differ only by a static
 * entry no packet touches: a static entry turns the short path off). Beyond agreeing, the
 * lifetimes stay within what RFC 7857 2.2 and RFC 6146 3.5.2.2 allow: after both FINs, or a
 * FIN during the handshake, no segment but a bare SYN buys the established lifetime. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "napt.h"
#include "packet_builder.h"
#include "unit_run.h"

#define SYN 0x02
#define FIN 0x01
#define RST 0x04
#define ACK 0x10

#define TRANSITORY_MS (240u * 1000)

static struct napt *fast, *full;
static uint64_t now = 1000;

/* A segment of a set-up sequence: its flags and direction. */
struct step {
	uint8_t flags;
	bool out;
};

/* The states, each reached by a sequence from nothing, and the state it shows. by_forward:
 * the first SYN comes in on the forward (a syn-received session). closing: both FINs seen,
 * where only a bare SYN may give the long lifetime back. */
static const struct setup {
	const char *name;
	const char *state;
	bool by_forward;
	bool closing;
	unsigned n;
	struct step steps[5];
} setups[] = {
    {"syn-sent", "syn-sent", false, false, 1, {{SYN, true}}},
    {"syn-received", "syn-received", true, false, 1, {{SYN, false}}},
    {"established", "established", false, false, 3, {{SYN, true}, {SYN | ACK, false}, {ACK, true}}},
    {"fin-wait out",
     "fin-wait",
     false,
     false,
     4,
     {{SYN, true}, {SYN | ACK, false}, {ACK, true}, {FIN | ACK, true}}},
    {"fin-wait in",
     "fin-wait",
     false,
     false,
     4,
     {{SYN, true}, {SYN | ACK, false}, {ACK, true}, {FIN | ACK, false}}},
    {"time-wait",
     "time-wait",
     false,
     true,
     5,
     {{SYN, true}, {SYN | ACK, false}, {ACK, true}, {FIN | ACK, true}, {FIN | ACK, false}}},
    {"reset established",
     "closed",
     false,
     false,
     4,
     {{SYN, true}, {SYN | ACK, false}, {ACK, true}, {RST, false}}},
    {"reset syn-sent", "closed", false, false, 2, {{SYN, true}, {RST | ACK, false}}},
    {"reset time-wait",
     "closed",
     false,
     true,
     5,
     {{SYN, true}, {SYN | ACK, false}, {FIN | ACK, true}, {FIN | ACK, false}, {RST, true}}},
    {"fin in handshake", "syn-sent", false, false, 2, {{SYN, true}, {FIN | ACK, false}}},
};

/* One flow per case: its own inside port and remote port. */
struct flow {
	uint32_t in_addr, rem_addr, ext_addr;
	uint16_t in_port, rem_port, ext_port;
};

static struct napt *make(bool with_static)
{
	char text[256], err[256];
	struct napt_config cfg;
	struct napt *n;

	snprintf(text, sizeof(text),
		 "inside 10.0.0.0/8\nexternal 203.0.113.1\nforward tcp 8080 10.0.0.9:80\n"
		 "max-sessions 65536\nmax-sessions-per-host 65536\nports-per-host 65535\n%s",
		 with_static ? "static 10.250.0.1 203.0.113.77\n" : "");
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	return n;
}

/* A segment of flow f with these flags, its checksums right. */
static size_t segment(uint8_t *buf, const struct flow *f, uint8_t flags, bool out)
{
	struct pb_spec s = {.proto = IPPROTO_TCP, .tcp_flags = flags, .payload_len = 8};

	s.src = out ? f->in_addr : f->rem_addr;
	s.dst = out ? f->rem_addr : f->ext_addr;
	s.sport = out ? f->in_port : f->rem_port;
	s.dport = out ? f->rem_port : f->ext_port;
	s.ip_id = (uint16_t)(f->rem_port + flags);
	return pb_build(buf, &s);
}

/* One segment through both instances: verdict, reason, direction and bytes agree. */
static enum napt_verdict both(const struct flow *f, uint8_t flags, bool out, uint8_t *res)
{
	uint8_t copy[PB_MAX];
	size_t len = segment(res, f, flags, out);
	struct napt_packet a = {.data = res, .len = len, .cap = PB_MAX};
	struct napt_packet b = {.data = copy, .len = len, .cap = PB_MAX};
	struct napt_result ra, rb;

	memcpy(copy, res, len);
	now++;
	ra = napt_translate(fast, &a, now);
	rb = napt_translate(full, &b, now);
	ck_assert_msg(ra.verdict == rb.verdict && ra.reason == rb.reason && ra.dir == rb.dir,
		      "flags 0x%02x %s: short path %d/%d/%d, full path %d/%d/%d", flags,
		      out ? "out" : "in", ra.verdict, ra.reason, ra.dir, rb.verdict, rb.reason,
		      rb.dir);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_msg(memcmp(res, copy, a.len) == 0, "flags 0x%02x: bytes differ", flags);
	return ra.verdict;
}

/* The session of flow f as a walk shows it (its remote port is the case's own). */
struct seen {
	uint16_t rem_port;
	bool found;
	char state[16];
	uint32_t expires_in_ms;
};

static int find(const struct napt_session_info *s, void *ctx)
{
	struct seen *w = ctx;

	if (s->proto != IPPROTO_TCP || s->rem_port != w->rem_port)
		return 0;
	w->found = true;
	snprintf(w->state, sizeof(w->state), "%s", s->state);
	w->expires_in_ms = s->expires_in_ms;
	return 1;
}

static struct seen session_of(struct napt *n, const struct flow *f)
{
	struct seen w = {.rem_port = f->rem_port};

	napt_walk_sessions(n, now, 0, UINT32_MAX, find, &w);
	return w;
}

/* Open flow f as setup u says; the external endpoint is read off the first translation. */
static void set_up(struct flow *f, const struct setup *u)
{
	uint8_t buf[PB_MAX];

	if (u->by_forward) {
		f->in_addr = htonl(0x0a000009);
		f->in_port = 80;
		f->ext_addr = htonl(0xcb007101);
		f->ext_port = 8080;
	}
	for (unsigned i = 0; i < u->n; i++) {
		ck_assert_int_eq(both(f, u->steps[i].flags, u->steps[i].out, buf), NAPT_FORWARD);
		if (i == 0 && !u->by_forward) {
			memcpy(&f->ext_addr, buf + 12, 4);
			f->ext_port = (uint16_t)(buf[20] << 8 | buf[21]);
		}
	}
	ck_assert_str_eq(session_of(fast, f).state, u->state);
	ck_assert_str_eq(session_of(full, f).state, u->state);
}

/* Setup u, then one segment of every flag byte, each direction, each on a new flow. */
static void every_flag_after(unsigned u)
{
	unsigned k = 0;

	fast = make(false);
	full = make(true);
	for (unsigned flags = 0; flags < 256; flags++) {
		for (int out = 0; out < 2; out++, k++) {
			struct flow f = {.in_addr = htonl(0x0a000100u + (k >> 8)),
					 .rem_addr = htonl(0xc6336405),
					 .in_port = (uint16_t)(1024 + k),
					 .rem_port = (uint16_t)(20000 + k)};
			uint8_t buf[PB_MAX];
			struct seen a, b;
			bool bare_syn = (flags & (SYN | ACK | RST)) == SYN;

			set_up(&f, &setups[u]);
			both(&f, (uint8_t)flags, out, buf);
			a = session_of(fast, &f);
			b = session_of(full, &f);
			ck_assert_msg(a.found && b.found, "%s, flags 0x%02x: no session",
				      setups[u].name, flags);
			ck_assert_msg(
			    strcmp(a.state, b.state) == 0 && a.expires_in_ms == b.expires_in_ms,
			    "%s then flags 0x%02x %s: short path %s %u ms, full path %s %u ms",
			    setups[u].name, flags, out ? "out" : "in", a.state, a.expires_in_ms,
			    b.state, b.expires_in_ms);
			ck_assert_msg(!setups[u].closing || bare_syn ||
					  a.expires_in_ms <= TRANSITORY_MS,
				      "%s then flags 0x%02x %s: %s for %u ms", setups[u].name,
				      flags, out ? "out" : "in", a.state, a.expires_in_ms);
		}
	}
	napt_destroy(fast);
	napt_destroy(full);
}

START_TEST(short_and_full_path_agree)
{
	every_flag_after((unsigned)_i);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_flags");
	TCase *tc = tcase_create("all");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, short_and_full_path_agree, 0, sizeof(setups) / sizeof(setups[0]));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
