/* SPDX-License-Identifier: BSD-2-Clause */
/* test_events.c - the engine's event ring (nat_event.h) and the mapping log that reads it
 * (mapping_log.h): each mapping and session created and ended is recorded once, in order,
 * with the endpoints the translated packet carries; a full ring counts what it could not
 * keep; the log writes every mapping line through a syslog socket that fills up, resuming
 * where it stopped, and drops none; port blocks are events of their own (one per block given
 * and taken back), logged instead of the mappings; stderr that nobody reads never blocks. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "event_format.h"
#include "event_monitor.h"
#include "ipv4_packet.h"
#include "mapping_log.h"
#include "napt.h"
#include "nat_event.h"
#include "packet_builder.h"
#include "unit_run.h"

#define EXT "203.0.113.1"
#define IN  PB_INSIDE_HOST
#define REM PB_REMOTE_HOST
#define T0  5000000u

static struct napt *n;
static uint64_t now;
static char err[512];

static void start(const char *lines)
{
	struct napt_config cfg;
	char text[512];

	snprintf(text, sizeof(text),
		 "inside 192.168.1.0/24\nexternal " EXT "\nmax-sessions 4096\n%s", lines);
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
	n = napt_create(&cfg, 7, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	now = T0;
}

static void teardown(void)
{
	napt_destroy(n);
	n = NULL;
}

/* One UDP datagram IN:sport -> REM:dport through the engine; returns its new source port. */
static uint16_t send_udp(uint16_t sport, uint16_t dport)
{
	uint8_t buf[PB_MAX];
	struct pb_spec s = pb_flow(IPPROTO_UDP, IN, sport, REM, dport);
	struct napt_packet p = {.data = buf, .cap = sizeof(buf)};

	p.len = pb_build(buf, &s);
	ck_assert_int_eq(napt_translate(n, &p, now).verdict, NAPT_FORWARD);
	ck_assert_uint_eq(ntohl(*(uint32_t *)(buf + 12)), ntohl(pb_addr(EXT)));
	return (uint16_t)(buf[20] << 8 | buf[21]);
}

static unsigned take(struct napt_event *ev, unsigned max)
{
	uint64_t next;
	unsigned got = napt_events_peek(n, napt_events_tail(n), ev, max, &next);

	napt_events_release(n, next);
	return got;
}

static void is_event(const struct napt_event *e, enum napt_event_type type, uint16_t in_port,
		     uint16_t ext_port, uint32_t rem_addr, uint16_t rem_port)
{
	ck_assert_msg(e->type == type, "event %s, expected %s",
		      napt_event_type_name((enum napt_event_type)e->type),
		      napt_event_type_name(type));
	ck_assert_uint_eq(e->proto, IPPROTO_UDP);
	ck_assert_uint_eq(e->in_addr, pb_addr(IN));
	ck_assert_uint_eq(e->in_port, in_port);
	ck_assert_uint_eq(e->ext_addr, pb_addr(EXT));
	ck_assert_uint_eq(e->ext_port, ext_port);
	ck_assert_uint_eq(e->rem_addr, rem_addr);
	ck_assert_uint_eq(e->rem_port, rem_port);
	ck_assert_uint_eq(e->origin, NAPT_ORIGIN_OUTBOUND);
}

START_TEST(nothing_recorded_until_enabled)
{
	struct napt_event ev[4];

	start("");
	send_udp(4000, 53);
	ck_assert_uint_eq(take(ev, 4), 0);
	ck_assert_uint_eq(napt_events_lost(n), 0);
}
END_TEST

/* Endpoint-independent mapping: the mapping has no remote, its sessions have theirs. */
START_TEST(mapping_and_session_lifecycle)
{
	struct napt_event ev[8];
	uint16_t ext;

	start("timeout udp 30\n");
	ck_assert_int_eq(napt_events_enable(n, 16, true), 0);
	ext = send_udp(4000, 53);
	send_udp(4000, 53); /* the same session: no event */
	send_udp(4000, 54); /* a second session on the same mapping */
	ck_assert_uint_eq(take(ev, 8), 3);
	/* The metrics' counts by protocol (metrics_http.h) follow the same entries. */
	ck_assert_uint_eq(napt_get_counters(n)->sessions_proto[NAPT_P_UDP], 2);
	ck_assert_uint_eq(napt_get_counters(n)->mappings_proto[NAPT_P_UDP], 1);
	ck_assert_uint_eq(napt_ports_in_use(n, NAPT_P_UDP, 0), 1);
	ck_assert_uint_eq(napt_ports_in_use(n, NAPT_P_TCP, 0), 0);
	is_event(&ev[0], NAPT_EV_MAPPING_NEW, 4000, ext, 0, 0);
	is_event(&ev[1], NAPT_EV_SESSION_NEW, 4000, ext, pb_addr(REM), 53);
	is_event(&ev[2], NAPT_EV_SESSION_NEW, 4000, ext, pb_addr(REM), 54);
	now += 31000;
	napt_expire(n, now);
	ck_assert_uint_eq(take(ev, 8), 3);
	is_event(&ev[0], NAPT_EV_SESSION_END, 4000, ext, pb_addr(REM), 53);
	is_event(&ev[1], NAPT_EV_SESSION_END, 4000, ext, pb_addr(REM), 54);
	is_event(&ev[2], NAPT_EV_MAPPING_END, 4000, ext, 0, 0);
	ck_assert_uint_eq(ev[0].expired, 1);
	ck_assert_uint_eq(ev[1].expired, 1);
	ck_assert_uint_eq(ev[2].expired, 1); /* the mapping ended with its last session */
	ck_assert_uint_eq(napt_get_counters(n)->sessions_proto[NAPT_P_UDP], 0);
	ck_assert_uint_eq(napt_get_counters(n)->mappings_proto[NAPT_P_UDP], 0);
	ck_assert_uint_eq(napt_ports_in_use(n, NAPT_P_UDP, 0), 0);
}
END_TEST

/* Address-dependent mapping: the mapping is keyed by its remote, and says so. A flush ends
 * everything, recorded as removals. */
START_TEST(flush_ends_every_mapping_with_its_remote)
{
	struct napt_event ev[8];
	uint16_t ext;

	start("mapping address-dependent\n");
	ck_assert_int_eq(napt_events_enable(n, 16, false), 0);
	ext = send_udp(4001, 53);
	ck_assert_uint_eq(take(ev, 8), 1); /* mappings only: no session events */
	is_event(&ev[0], NAPT_EV_MAPPING_NEW, 4001, ext, pb_addr(REM), 0);
	napt_flush(n);
	ck_assert_uint_eq(take(ev, 8), 1);
	is_event(&ev[0], NAPT_EV_MAPPING_END, 4001, ext, pb_addr(REM), 0);
	ck_assert_uint_eq(ev[0].expired, 0);
}
END_TEST

static void is_block(const struct napt_event *e, enum napt_event_type type, uint16_t lo,
		     uint16_t hi)
{
	ck_assert_msg(e->type == type, "event %s, expected %s",
		      napt_event_type_name((enum napt_event_type)e->type),
		      napt_event_type_name(type));
	ck_assert_uint_eq(e->in_addr, pb_addr(IN));
	ck_assert_uint_eq(e->ext_addr, pb_addr(EXT));
	ck_assert_uint_eq(e->ext_port, lo);
	ck_assert_uint_eq(e->ext_port_last, hi);
	ck_assert_uint_eq(e->proto, 0);
	ck_assert_uint_eq(e->in_port, 0);
}

/* port-block-size 4 over 20000-20015: four blocks of four (20000-20003, 20004-20007, ...).
 * The first mapping takes a block (block-new before its mapping-new), the next three share
 * it, the fifth takes a second block; each block ends after its last mapping, with that
 * mapping's reason. */
START_TEST(port_blocks_are_events)
{
	struct napt_event ev[32];
	uint16_t ext[5], lo[2];
	unsigned got, blocks = 0;

	start("port-range 20000-20015\nport-block-size 4\ntimeout udp 30\n");
	ck_assert_int_eq(napt_events_enable(n, 32, false), 0);
	for (unsigned i = 0; i < 5; i++)
		ext[i] = send_udp((uint16_t)(4000 + i), 53);
	got = take(ev, 32);
	ck_assert_uint_eq(got, 7);
	lo[0] = (uint16_t)(ext[0] - (ext[0] - 20000) % 4);
	lo[1] = (uint16_t)(ext[4] - (ext[4] - 20000) % 4);
	ck_assert_uint_ne(lo[0], lo[1]);
	is_block(&ev[0], NAPT_EV_BLOCK_NEW, lo[0], lo[0] + 3);
	for (unsigned i = 0; i < 4; i++)
		is_event(&ev[1 + i], NAPT_EV_MAPPING_NEW, (uint16_t)(4000 + i), ext[i], 0, 0);
	is_block(&ev[5], NAPT_EV_BLOCK_NEW, lo[1], lo[1] + 3);
	is_event(&ev[6], NAPT_EV_MAPPING_NEW, 4004, ext[4], 0, 0);
	now += 31000;
	napt_expire(n, now);
	got = take(ev, 32);
	ck_assert_uint_eq(got, 7);
	for (unsigned i = 0; i < got; i++) {
		ck_assert_uint_eq(ev[i].expired, 1);
		if (ev[i].type != NAPT_EV_BLOCK_END)
			continue;
		blocks++;
		ck_assert_uint_eq(ev[i - 1].type, NAPT_EV_MAPPING_END); /* the block's last */
		ck_assert_uint_eq(ev[i].ext_port,
				  ev[i - 1].ext_port - (ev[i - 1].ext_port - 20000) % 4);
	}
	ck_assert_uint_eq(blocks, 2);
	ck_assert_uint_eq(napt_get_counters(n)->port_blocks_released, 2);
}
END_TEST

/* A flush gives every block back, as removals; blocks alone can be selected. */
START_TEST(flush_ends_blocks)
{
	struct napt_event ev[8];
	uint16_t ext;

	start("port-range 20000-20015\nport-block-size 8\n");
	ck_assert_int_eq(napt_events_enable(n, 8, false), 0);
	napt_events_select(n, NAPT_EVK_BLOCKS);
	ext = send_udp(4000, 53);
	send_udp(4001, 53);
	ck_assert_uint_eq(take(ev, 8), 1);
	is_block(&ev[0], NAPT_EV_BLOCK_NEW, (uint16_t)(ext - (ext - 20000) % 8),
		 (uint16_t)(ext - (ext - 20000) % 8 + 7));
	napt_flush(n);
	ck_assert_uint_eq(take(ev, 8), 1);
	is_block(&ev[0], NAPT_EV_BLOCK_END, (uint16_t)(ext - (ext - 20000) % 8),
		 (uint16_t)(ext - (ext - 20000) % 8 + 7));
	ck_assert_uint_eq(ev[0].expired, 0);
}
END_TEST

/* A full ring keeps the oldest and counts the rest; reading makes room again. */
START_TEST(full_ring_counts_lost)
{
	struct napt_event ev[16];

	start("");
	ck_assert_int_eq(napt_events_enable(n, 8, false), 0);
	for (uint16_t p = 0; p < 12; p++)
		send_udp((uint16_t)(5000 + p), 53);
	ck_assert_uint_eq(napt_events_head(n) - napt_events_tail(n), 8);
	ck_assert_uint_eq(napt_events_lost(n), 4);
	ck_assert_uint_eq(take(ev, 16), 8);
	ck_assert_uint_eq(ev[7].in_port, 5007);
	send_udp(6000, 53);
	ck_assert_uint_eq(take(ev, 16), 1);
	ck_assert_uint_eq(ev[0].in_port, 6000);
}
END_TEST

/* A kind not selected is not recorded, and costs no slot. */
START_TEST(select_records_only_what_is_read)
{
	struct napt_event ev[8];

	start("");
	ck_assert_int_eq(napt_events_enable(n, 8, true), 0);
	napt_events_select(n, 0);
	send_udp(4000, 53);
	ck_assert_uint_eq(take(ev, 8), 0);
	napt_events_select(n, NAPT_EVK_SESSIONS);
	send_udp(4001, 53);
	ck_assert_uint_eq(take(ev, 8), 1);
	ck_assert_uint_eq(ev[0].type, NAPT_EV_SESSION_NEW);
	ck_assert_uint_eq(napt_events_lost(n), 0);
}
END_TEST

START_TEST(stamp_gives_new_events_their_time)
{
	struct napt_event ev[4];

	start("");
	ck_assert_int_eq(napt_events_enable(n, 8, false), 0);
	send_udp(4000, 53);
	napt_events_stamp(n, 1000);
	send_udp(4001, 53);
	napt_events_stamp(n, 2000);
	ck_assert_uint_eq(take(ev, 4), 2);
	ck_assert_uint_eq(ev[0].time_ms, 1000);
	ck_assert_uint_eq(ev[1].time_ms, 2000);
}
END_TEST

/* The line docs/logging.md documents, key by key. */
START_TEST(line_format)
{
	struct napt_event e = {.time_ms = 1796652131250ull, /* 2026-12-07T14:02:11.250Z */
			       .in_addr = pb_addr(IN),
			       .ext_addr = pb_addr(EXT),
			       .rem_addr = pb_addr(REM),
			       .in_port = 5000,
			       .ext_port = 40123,
			       .type = NAPT_EV_MAPPING_END,
			       .proto = IPPROTO_UDP,
			       .expired = 1};
	char line[EVENT_LINE_MAX];

	event_format(&e, false, line);
	ck_assert_str_eq(line, "event=mapping-end time=2026-12-07T14:02:11.250Z proto=udp "
			       "inside=192.168.1.10:5000 external=203.0.113.1:40123 "
			       "remote=198.51.100.7 origin=outbound reason=timeout\n");
	e.type = NAPT_EV_MAPPING_NEW;
	e.rem_addr = 0;
	event_format(&e, false, line);
	ck_assert_str_eq(line, "event=mapping-new time=2026-12-07T14:02:11.250Z proto=udp "
			       "inside=192.168.1.10:5000 external=203.0.113.1:40123 remote=- "
			       "origin=outbound\n");
}
END_TEST

/* A block's line: its owner and its whole range (docs/logging.md), text and JSON. */
START_TEST(block_line_format)
{
	struct napt_event e = {.time_ms = 1796652131250ull,
			       .in_addr = pb_addr(IN),
			       .ext_addr = pb_addr(EXT),
			       .ext_port = 1024,
			       .ext_port_last = 1087,
			       .type = NAPT_EV_BLOCK_NEW};
	char line[EVENT_LINE_MAX];

	event_format(&e, false, line);
	ck_assert_str_eq(line, "event=block-new time=2026-12-07T14:02:11.250Z "
			       "inside=192.168.1.10 external=203.0.113.1:1024-1087\n");
	e.type = NAPT_EV_BLOCK_END;
	event_format(&e, false, line);
	ck_assert_str_eq(line,
			 "event=block-end time=2026-12-07T14:02:11.250Z "
			 "inside=192.168.1.10 external=203.0.113.1:1024-1087 reason=removed\n");
	event_format(&e, true, line);
	ck_assert_str_eq(line, "{\"event\": \"block-end\", \"time\": \"2026-12-07T14:02:11.250Z\", "
			       "\"inside_addr\": \"192.168.1.10\", \"external_addr\": "
			       "\"203.0.113.1\", \"port_first\": 1024, \"port_last\": 1087, "
			       "\"reason\": \"removed\"}\n");
}
END_TEST

/* ---- the mapping log through a syslog socket ---- */

static int listen_dgram(const char *path, int rcvbuf)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read every datagram waiting; count[port - 10000] per inside port named. */
static unsigned drain(int fd, unsigned *count)
{
	char msg[1024];
	unsigned got = 0;
	ssize_t r;

	while ((r = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		char *p;

		msg[r] = '\0';
		ck_assert_msg(strncmp(msg, "<30>", 4) == 0, "no syslog priority: %s", msg);
		ck_assert_ptr_nonnull(strstr(msg, " naptd["));
		p = strstr(msg, "event=mapping-new ");
		ck_assert_msg(p != NULL, "not a mapping-new line: %s", msg);
		p = strstr(p, "inside=" IN ":");
		ck_assert_ptr_nonnull(p);
		count[atoi(p + strlen("inside=" IN ":")) - 10000]++;
		got++;
	}
	return got;
}

START_TEST(log_resumes_after_full_socket_and_drops_nothing)
{
	enum { MAPPINGS = 2000 };
	static unsigned count[MAPPINGS];
	char path[64];
	int fd;
	struct mapping_log *ml;
	enum mapping_log_state st;
	unsigned got = 0, blocked = 0;

	snprintf(path, sizeof(path), "/tmp/test_events.%d.sock", (int)getpid());
	fd = listen_dgram(path, 4096);
	start("");
	ck_assert_int_eq(napt_events_enable(n, 4096, true), 0);
	ml = mapping_log_open(n, path, false, err, sizeof(err));
	ck_assert_msg(ml != NULL, "%s", err);
	for (unsigned i = 0; i < MAPPINGS; i++)
		send_udp((uint16_t)(10000 + i), 53);
	/* The reader sleeps: the log stops when the socket is full, and keeps its place. */
	while ((st = mapping_log_write(ml, n, 0)) == MAPPING_LOG_MORE)
		;
	ck_assert_int_eq(st, MAPPING_LOG_BLOCKED);
	ck_assert_uint_lt(mapping_log_cursor(ml), napt_events_head(n));
	for (int rounds = 0; rounds < 100000 && st != MAPPING_LOG_IDLE; rounds++) {
		got += drain(fd, count);
		st = mapping_log_write(ml, n, 0);
		blocked += st == MAPPING_LOG_BLOCKED;
		napt_events_release(n, mapping_log_cursor(ml));
	}
	got += drain(fd, count);
	ck_assert_int_eq(st, MAPPING_LOG_IDLE);
	ck_assert_uint_gt(blocked, 0); /* the socket filled up again on the way */
	ck_assert_uint_eq(got, MAPPINGS);
	ck_assert_uint_eq(mapping_log_lines(ml), MAPPINGS);
	for (unsigned i = 0; i < MAPPINGS; i++)
		ck_assert_msg(count[i] == 1, "inside port %u logged %u times", 10000 + i, count[i]);
	ck_assert_uint_eq(napt_events_lost(n), 0);
	mapping_log_close(ml);
	close(fd);
	unlink(path);
}
END_TEST

/* Events lost by a full ring come out as one event=lost line. */
START_TEST(log_reports_lost_events)
{
	char path[64], msg[1024];
	int fd;
	struct mapping_log *ml;
	ssize_t r;
	unsigned lost_lines = 0, lines = 0;

	snprintf(path, sizeof(path), "/tmp/test_events.%d.lost.sock", (int)getpid());
	fd = listen_dgram(path, 1 << 20);
	start("");
	ck_assert_int_eq(napt_events_enable(n, 4, false), 0);
	ml = mapping_log_open(n, path, false, err, sizeof(err));
	ck_assert_msg(ml != NULL, "%s", err);
	for (unsigned i = 0; i < 10; i++)
		send_udp((uint16_t)(10000 + i), 53);
	ck_assert_int_eq(mapping_log_write(ml, n, 0), MAPPING_LOG_IDLE);
	while ((r = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		msg[r] = '\0';
		lines++;
		if (strstr(msg, "event=lost time=1970-01-01T00:00:00.000Z count=6"))
			lost_lines++;
	}
	ck_assert_uint_eq(lost_lines, 1);
	ck_assert_uint_eq(lines, 5);
	mapping_log_close(ml);
	close(fd);
	unlink(path);
}
END_TEST

/* With blocks the log writes the blocks' lines and no mapping line. */
START_TEST(log_writes_blocks_instead_of_mappings)
{
	char path[64], msg[1024];
	int fd;
	struct mapping_log *ml;
	ssize_t r;
	unsigned lines = 0;

	snprintf(path, sizeof(path), "/tmp/test_events.%d.blocks.sock", (int)getpid());
	fd = listen_dgram(path, 1 << 20);
	start("port-range 20000-20015\nport-block-size 8\n");
	ck_assert_int_eq(napt_events_enable(n, 64, false), 0);
	ml = mapping_log_open(n, path, true, err, sizeof(err));
	ck_assert_msg(ml != NULL, "%s", err);
	for (unsigned i = 0; i < 10; i++) /* two blocks */
		send_udp((uint16_t)(10000 + i), 53);
	napt_flush(n);
	ck_assert_int_eq(mapping_log_write(ml, n, 0), MAPPING_LOG_IDLE);
	while ((r = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		msg[r] = '\0';
		ck_assert_msg(strstr(msg, lines < 2 ? "event=block-new " : "event=block-end ") &&
				  strstr(msg, " inside=" IN " external=" EXT ":200"),
			      "line %u: %s", lines, msg);
		lines++;
	}
	ck_assert_uint_eq(lines, 4);
	mapping_log_close(ml);
	close(fd);
	unlink(path);
}
END_TEST

/* naptd -f with stderr into a pipe nobody reads: the log stops when the pipe is full
 * (without blocking: a blocking write would hang here until the test's timeout), keeps its
 * place, and once the pipe is read every line arrives whole and once. */
START_TEST(log_to_full_stderr_pipe_never_blocks)
{
	enum { MAPPINGS = 2000 };
	static unsigned count[MAPPINGS];
	static char text[1 << 20];
	size_t len = 0;
	int pipefd[2], saved = dup(STDERR_FILENO);
	struct mapping_log *ml;
	enum mapping_log_state st = MAPPING_LOG_MORE;
	unsigned lines = 0;
	ssize_t r;

	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert_int_ge(dup2(pipefd[1], STDERR_FILENO), 0);
	start("");
	ck_assert_int_eq(napt_events_enable(n, 4096, false), 0);
	ml = mapping_log_open(n, NULL, false, err, sizeof(err));
	dup2(saved, STDERR_FILENO);
	close(pipefd[1]); /* ml's own copy of the pipe stays */
	ck_assert_msg(ml != NULL, "%s", err);
	for (unsigned i = 0; i < MAPPINGS; i++)
		send_udp((uint16_t)(10000 + i), 53);
	while ((st = mapping_log_write(ml, n, 0)) == MAPPING_LOG_MORE)
		;
	ck_assert_int_eq(st, MAPPING_LOG_BLOCKED);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (int rounds = 0; rounds < 100000 && st != MAPPING_LOG_IDLE; rounds++) {
		while ((r = read(pipefd[0], text + len, sizeof(text) - 1 - len)) > 0)
			len += (size_t)r;
		st = mapping_log_write(ml, n, 0);
		napt_events_release(n, mapping_log_cursor(ml));
	}
	while ((r = read(pipefd[0], text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)r;
	text[len] = '\0';
	ck_assert_int_eq(st, MAPPING_LOG_IDLE);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = strstr(line, " inside=" IN ":");

		ck_assert_msg(strncmp(line, "naptd: event=mapping-new ", 25) == 0 && p, "%s", line);
		count[atoi(p + strlen(" inside=" IN ":")) - 10000]++;
		lines++;
	}
	ck_assert_uint_eq(lines, MAPPINGS);
	for (unsigned i = 0; i < MAPPINGS; i++)
		ck_assert_msg(count[i] == 1, "inside port %u logged %u times", 10000 + i, count[i]);
	ck_assert_uint_eq(napt_events_lost(n), 0);
	mapping_log_close(ml);
	close(pipefd[0]);
	close(saved);
}
END_TEST

/* The keys that turn these on: what they take and what they refuse. */
START_TEST(config_keys)
{
	static const char *const bad[] = {
	    "log-mappings maybe\n",           "metrics-listen 192.168.1.1\n",
	    "metrics-listen 192.168.1.1:0\n", "metrics-listen 0.0.0.0:9108\n",
	    "ipfix-collector nowhere:4739\n", "ipfix-collector 192.0.2.5:70000\n",
	};
	struct napt_config cfg;

	ck_assert_msg(napt_config_parse_text(&cfg,
					     "inside 192.168.1.0/24\nexternal " EXT "\n"
					     "log-mappings yes\nmetrics-listen 192.168.1.1:9108\n"
					     "ipfix-collector 192.0.2.5:4739\n",
					     "t.conf", err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert(cfg.daemon.log_mappings);
	ck_assert_uint_eq(cfg.daemon.metrics_listen.addr, pb_addr("192.168.1.1"));
	ck_assert_uint_eq(cfg.daemon.metrics_listen.port, 9108);
	ck_assert_uint_eq(cfg.daemon.ipfix_collector.addr, pb_addr("192.0.2.5"));
	ck_assert_uint_eq(cfg.daemon.ipfix_collector.port, 4739);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(napt_config_parse_text(&cfg, bad[i], "t.conf", err, sizeof(err)) < 0,
			      "accepted: %s", bad[i]);
}
END_TEST

/* Attack (h-break15): events the engine's ring could not keep are lost to a monitor too, and
 * the reader must be told (docs/logging.md: "how many it lost"): lines read plus the counts of
 * its lost lines make every event that happened while it watched. */
START_TEST(monitor_told_of_ring_losses)
{
	struct event_monitor *m;
	int sv[2];
	char buf[65536];
	ssize_t r;
	size_t len = 0;
	unsigned events = 0, lost = 0;

	start("");
	ck_assert_int_eq(napt_events_enable(n, 8, false), 0);
	m = event_monitor_create(err, sizeof(err));
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(event_monitor_adopt(m, n, sv[0], false, err, sizeof(err)), 0);
	for (uint16_t p = 0; p < 12; p++) /* 12 mapping events into a ring of 8 */
		send_udp((uint16_t)(5000 + p), 53);
	ck_assert_uint_eq(napt_events_lost(n), 4);
	event_monitor_feed(m, n, now);
	while ((r = recv(sv[1], buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT)) > 0)
		len += (size_t)r;
	buf[len] = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		const char *c = strstr(line, "count=");

		if (strncmp(line, "event=mapping-new ", 18) == 0)
			events++;
		else if (strncmp(line, "event=lost ", 11) == 0 && c)
			lost += (unsigned)strtoul(c + 6, NULL, 10);
	}
	ck_assert_uint_eq(events, 8);
	ck_assert_uint_eq(lost, 4);
	event_monitor_destroy(m);
	close(sv[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("events");
	TCase *ring = tcase_create("ring");
	TCase *log = tcase_create("mapping log");

	tcase_add_checked_fixture(ring, NULL, teardown);
	tcase_add_checked_fixture(log, NULL, teardown);
	suite_add_tcase(s, ring);
	suite_add_tcase(s, log);
	tcase_add_test(ring, nothing_recorded_until_enabled);
	tcase_add_test(ring, mapping_and_session_lifecycle);
	tcase_add_test(ring, flush_ends_every_mapping_with_its_remote);
	tcase_add_test(ring, full_ring_counts_lost);
	tcase_add_test(ring, select_records_only_what_is_read);
	tcase_add_test(ring, stamp_gives_new_events_their_time);
	tcase_add_test(ring, port_blocks_are_events);
	tcase_add_test(ring, flush_ends_blocks);
	tcase_add_test(log, block_line_format);
	tcase_add_test(log, log_writes_blocks_instead_of_mappings);
	tcase_add_test(log, log_to_full_stderr_pipe_never_blocks);
	tcase_add_test(log, line_format);
	tcase_add_test(log, config_keys);
	tcase_add_test(log, log_resumes_after_full_socket_and_drops_nothing);
	tcase_add_test(log, log_reports_lost_events);
	tcase_add_test(log, monitor_told_of_ring_losses);
	return unit_run(s);
}
