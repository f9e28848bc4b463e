/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_pcp - the cost of a NAT-PMP map and delete against the size of the table.
 *
 * SESSIONS outbound UDP sessions (4 per mapping) are made through the engine (max-sessions
 * 262144), then PAIRS NAT-PMP TCP map requests, each from another inside host, and their
 * deletions go through the server's answer() as serve() hands them over; the clock the
 * server reads moves a second every 256 pairs, so no host meets the rate limit. Prints the
 * mean microseconds per map+delete pair (wall clock). No state file: this measures the
 * server's and the engine's work, not the disk. Built by hand, against any tree whose
 * pcp_server.c has answer(s, client, q, len, r):
 *
 *   T=/work/wt/pcp; cc -O2 -D_GNU_SOURCE -I$T/include -I$T/tests/unit -o bench_pcp \
 *     $T/tests/bench/bench_pcp.c $T/src/libnapt/*.c $T/src/naptd/runtime_state.c \
 *     $T/tests/unit/packet_builder.c -lpthread && ./bench_pcp 1000 && ./bench_pcp 200000
 *
 * (for an older tree, T= that tree and -include this file's path in place of the first
 * source, as the file includes pcp_server.c relative to itself).
 */
#include "../../src/naptd/pcp_server.c"
#include "packet_builder.h"

static struct naptd d;
static struct pcp_server srv;
static uint64_t fake_ms = 1000000;
static unsigned refused;

uint64_t naptd_now_ms(void)
{
	return fake_ms;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void daemon_log(int priority, const char *fmt, ...)
{
	(void)priority;
	(void)fmt;
}

static void fill(unsigned sessions)
{
	uint8_t buf[PB_MAX];
	for (unsigned i = 0; i < sessions; i++) {
		struct pb_spec s = pb_flow(IPPROTO_UDP, "10.0.0.1", 1000, "198.51.100.1", 53);
		s.src = htonl(0x0a010000u + i / 200000);
		s.sport = (uint16_t)(10000 + i / 4 % 50000);
		s.dport = (uint16_t)(53 + i % 4);
		struct napt_packet p = {.data = buf, .len = pb_build(buf, &s)};
		napt_translate(d.nat, &p, fake_ms);
	}
}

static void request(uint32_t client, uint32_t lifetime)
{
	uint8_t q[12] = {0, 2}, r[PCP_MSG_MAX + 4];
	put16(q + 4, 8080);
	put32(q + 8, lifetime);
	answer(&srv, client, q, sizeof(q), r);
	refused += lifetime && get16(r + 2) != 0;
}

int main(int argc, char **argv)
{
	unsigned sessions = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	unsigned pairs = argc > 2 ? (unsigned)atoi(argv[2]) : 2000;
	char err[512];
	if (napt_config_parse_text(&d.file_cfg,
				   "inside 10.0.0.0/8\nexternal 203.0.113.10\n"
				   "max-sessions 262144\nport-range 1024-65535\n"
				   "pcp-allow 10.0.0.0/8 1024-65535\n",
				   "bench.conf", err, sizeof(err)) < 0 ||
	    !(d.nat = napt_create(&d.file_cfg, 42, err, sizeof(err)))) {
		fprintf(stderr, "bench_pcp: %s\n", err);
		return 1;
	}
	srv.d = &d;
	fill(sessions);
	uint64_t t0 = wall_us();
	for (unsigned k = 0; k < pairs; k++) {
		uint32_t client = htonl(0x0ac80000u + k);
		fake_ms += k % 256 == 0 ? 1000 : 0;
		request(client, 3600);
		request(client, 0);
	}
	uint64_t us = wall_us() - t0;
	printf("sessions %llu: %.1f us per map+delete pair (%u pairs in %llu us, %u refused)\n",
	       (unsigned long long)napt_get_counters(d.nat)->sessions_current, (double)us / pairs,
	       pairs, (unsigned long long)us, refused);
	return 0;
}
