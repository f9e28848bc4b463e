/* SPDX-License-Identifier: BSD-2-Clause */
/* napt-bench - the engine's speed and memory, in memory, with synthetic packets (no TUN).
 *
 * For each table size S (sessions = max-sessions = S) it fills the table with S established
 * flows, half UDP and half TCP, then measures:
 *   established-out / established-in  ns per packet and Mpps over a pre-built buffer of
 *                      packets of those flows in a random order; each packet is copied into a
 *                      working buffer and translated there (docs/performance.md, method);
 *   hash               the keyed hash of each packet's session key alone (SipHash-1-3,
 *                      siphash.h), read from the same buffer, fetched ahead: part of
 *                      established-*; where the buffer outgrows the L3 (1M) it still
 *                      includes some of the memory's time;
 *   create             new flows per second in a full table whose oldest flows expire while
 *                      new ones come (1 s timeouts on a simulated clock);
 *   memory             napt_memory_bytes() / S and the growth of VmRSS while filling / S.
 * Each figure is the best of several runs timed around whole batches (the median is shown
 * too: other load on the machine only ever adds time). Every packet's
 * verdict is checked: a drop where none is expected fails the run (exit 1).
 *
 *   napt-bench [-s SIZES] [-r RUNS] [-n PACKETS] [-c CPU]
 *     -s  comma-separated session counts, k and M suffixes allowed (default 10k,100k,1M,4M)
 *     -r  timed runs per figure (default 5)      -n  packets per timed run (default 1M)
 *     -c  the CPU to pin to (default the last one)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
/* cache-profile.sh runs napt-bench under callgrind with instrumentation off until the table
 * is full (the fill of 1M flows alone would take most of an hour in its cache simulation);
 * the request is a no-op outside valgrind. */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#endif

#include "checksum.h"
#include "ipv4_packet.h"
#include "napt.h"
#include "siphash.h"

#define MAX_SIZES    8
#define DEFAULT_RUNS 5
#define PKT_LEN      64 /* minimum Ethernet frame's worth: the per-packet cost dominates */
#define N_EXTERNAL   16
#define INSIDE_HOSTS 4096
#define FIRST_PORT   1024
#define REMOTE_HOSTS 254
/* A timed run translates at least this many packets (-n), in passes over a buffer of one
 * packet per flow: at least MIN_BUFFER packets (small tables: each flow several times), at
 * most MAX_BUFFER (large tables: distinct flows drawn at random from the whole table, so
 * the cache sees the same misses while the run stays within the time budget). */
#define DEFAULT_RUN_PKTS (1u << 20)
#define MIN_BUFFER       (1u << 18)
#define MAX_BUFFER       (1u << 20)
/* The engine clock is read once per this many packets: never per packet. */
#define CLOCK_EVERY 1024
/* Packets hash_pass() fetches ahead. */
#define HASH_AHEAD 16
/* Packets per napt_translate_burst() call; CLOCK_EVERY is a multiple of it. */
#define BURST 32
/* Sessions per mapping grow past this many sessions: 16 external addresses x 64512 ports x
 * 2 protocols bound the mappings to about 2 million. */
#define MAPPINGS_MAX (1u << 20)
/* Creation benchmark: 1 s timeouts, new flows arrive at 90 % of the table per second. */
#define CREATE_TIMEOUT_S 1
#define CREATE_FILL_PCT  90
/* The established cases' UDP timeout: a day, so that no flow expires between the fill and
 * the passes when they run slowly (under valgrind, filling 1M flows takes longer than the
 * default 300 s). Native runs take seconds either way. */
#define FILL_TIMEOUT_S 86400

struct bench_options {
	uint32_t sizes[MAX_SIZES];
	unsigned n_sizes;
	unsigned runs;
	size_t run_pkts;
	int cpu;
};

/* How a timed run goes over its packet buffer. */
struct run_shape {
	size_t buffer; /* packets in the buffer, one per flow at least */
	size_t passes; /* passes over it per run */
	/* Creation runs take `buffer` new flows each, after `warmup` batches worth more than a
	 * table (more than one timeout of simulated time): timing starts in the steady state. */
	unsigned warmup;
};

/* One flow as the inside host sees it. Addresses network order, ports host order. */
struct flow {
	uint8_t proto;
	uint32_t in_addr, rem_addr;
	uint16_t in_port, rem_port;
};

/* The external endpoint the engine gave each established flow, learned while filling. */
struct flow_externals {
	uint32_t *addr;
	uint16_t *port;
};

/* A figure over several runs: the best one and the median. */
struct spread {
	double best, median;
};

/* The results for one table size. */
struct size_result {
	uint32_t sessions;
	struct spread out_ns, in_ns, copy_ns, hash_ns;
	struct spread burst_out_ns, burst_in_ns; /* napt_translate_burst() */
	struct spread new_per_s, burst_new_per_s;
	double bytes_per_session, rss_per_session;
};

/* The engine clock for established runs: real milliseconds since the start. */
struct bench_clock {
	struct timespec origin;
};

static void usage(void)
{
	fprintf(stderr, "usage: napt-bench [-s 10k,100k,1M,4M] [-r RUNS] [-n PACKETS] [-c CPU]\n");
	exit(2);
}

static double elapsed_s(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static struct timespec mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* Milliseconds since the origin, offset so the engine never sees 0. */
static uint64_t clock_ms(const struct bench_clock *c)
{
	struct timespec t = mono_now();

	return 1000 + (uint64_t)(elapsed_s(&c->origin, &t) * 1000.0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* higher_better: rates (the best is the largest); otherwise times (the smallest). */
static struct spread spread_of(double *v, unsigned n, bool higher_better)
{
	struct spread s;

	qsort(v, n, sizeof(*v), cmp_double);
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.best = higher_better ? v[n - 1] : v[0];
	return s;
}

/* ---- options ---- */

static uint32_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		usage();
	if (*end == 'k' || *end == 'K') {
		v *= 1000;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1000000;
		end++;
	}
	if (*end != '\0' || v < 16 || v > 16000000)
		usage();
	return (uint32_t)v;
}

static void parse_sizes(struct bench_options *o, char *list)
{
	char *save = NULL;

	o->n_sizes = 0;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_sizes == MAX_SIZES)
			usage();
		o->sizes[o->n_sizes++] = parse_size(tok);
	}
	if (o->n_sizes == 0)
		usage();
}

static struct bench_options parse_args(int argc, char **argv)
{
	struct bench_options o = {
	    .sizes = {10000, 100000, 1000000, 4000000},
	    .n_sizes = 4,
	    .runs = DEFAULT_RUNS,
	    .run_pkts = DEFAULT_RUN_PKTS,
	};
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	o.cpu = n > 1 ? (int)n - 1 : 0;
	while ((c = getopt(argc, argv, "s:r:n:c:")) != -1) {
		switch (c) {
		case 's':
			parse_sizes(&o, optarg);
			break;
		case 'r':
			o.runs = (unsigned)atoi(optarg);
			break;
		case 'n':
			o.run_pkts = parse_size(optarg);
			break;
		case 'c':
			o.cpu = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o.runs < 1 || o.runs > 100)
		usage();
	return o;
}

/* One CPU for the whole run: migrations and the other core's noise would blur the figures. */
static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "napt-bench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

/* ---- synthetic flows and packets ---- */

static uint32_t sessions_per_mapping(uint32_t sessions)
{
	return (sessions + MAPPINGS_MAX - 1) / MAPPINGS_MAX;
}

/* Flow number id: mapping id / spm, its (id % spm)-th remote. Mappings alternate UDP and
 * TCP and spread over 4096 inside hosts (10.0.0.1...), so paired pooling spreads them over
 * the 16 external addresses; each host uses consecutive source ports from 1024. */
static struct flow flow_of(uint64_t id, uint32_t spm)
{
	uint64_t m = id / spm;
	uint32_t r = (uint32_t)(id % spm);
	uint32_t host = (uint32_t)(m % INSIDE_HOSTS);
	struct flow f = {
	    .proto = (m & 1) ? IPPROTO_TCP : IPPROTO_UDP,
	    .in_addr = htonl(0x0a000001u + host),
	    .in_port = (uint16_t)(FIRST_PORT + m / INSIDE_HOSTS),
	    .rem_addr = htonl(0xc6336401u + (uint32_t)((m + r) % REMOTE_HOSTS)), /* 198.51.100.x */
	};

	f.rem_port = f.proto == IPPROTO_TCP ? 443 : 53;
	return f;
}

/* The TCP/UDP checksum over the RFC 768 / RFC 793 pseudo-header, so the engine's
 * incremental updates work on a real one (a UDP checksum of 0 would skip them). */
static void set_l4_checksum(uint8_t *pkt, uint8_t proto)
{
	uint8_t pseudo[12] = {0};
	size_t l4_len = PKT_LEN - IPV4_MIN_HDR;
	size_t off = proto == IPPROTO_TCP ? 16 : 6;
	uint16_t folded, sum;

	memcpy(pseudo, pkt + 12, 8);
	pseudo[9] = proto;
	put16(pseudo + 10, (uint16_t)l4_len);
	memset(pkt + IPV4_MIN_HDR + off, 0, 2);
	folded = csum_fold(
	    csum_add_bytes(csum_add_bytes(0, pseudo, sizeof(pseudo)), pkt + IPV4_MIN_HDR, l4_len));
	/* RFC 768: a computed 0 (a sum of all ones) is sent as all ones. */
	sum = proto == IPPROTO_UDP && folded == 0xffff ? 0xffff : (uint16_t)~folded;
	memcpy(pkt + IPV4_MIN_HDR + off, &sum, 2);
}

/* A 64-byte IPv4 packet from src:sport to dst:dport (TCP with the given flags, or UDP). */
static void build_packet(uint8_t *pkt, uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst,
			 uint16_t dport, uint8_t tcp_flags)
{
	uint8_t *l4 = pkt + IPV4_MIN_HDR;
	uint16_t ip_sum;

	memset(pkt, 0, PKT_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, PKT_LEN);
	put16(pkt + 4, (uint16_t)(sport ^ dport));
	put16(pkt + 6, 0x4000); /* DF */
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	put16(l4, sport);
	put16(l4 + 2, dport);
	if (proto == IPPROTO_TCP) {
		l4[12] = (TCP_MIN_HDR / 4) << 4;
		l4[13] = tcp_flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, PKT_LEN - IPV4_MIN_HDR);
	}
	memset(l4 + (proto == IPPROTO_TCP ? TCP_MIN_HDR : UDP_HDR), 0xa5,
	       PKT_LEN - IPV4_MIN_HDR - (proto == IPPROTO_TCP ? TCP_MIN_HDR : UDP_HDR));
	set_l4_checksum(pkt, proto);
	ip_sum = csum_buffer(pkt, IPV4_MIN_HDR);
	memcpy(pkt + 10, &ip_sum, 2);
}

static void build_outbound(uint8_t *pkt, const struct flow *f, uint8_t tcp_flags)
{
	build_packet(pkt, f->proto, f->in_addr, f->in_port, f->rem_addr, f->rem_port, tcp_flags);
}

static void build_inbound(uint8_t *pkt, const struct flow *f, uint32_t ext_addr, uint16_t ext_port,
			  uint8_t tcp_flags)
{
	build_packet(pkt, f->proto, f->rem_addr, f->rem_port, ext_addr, ext_port, tcp_flags);
}

/* ---- the engine instance ---- */

static struct napt *make_instance(uint32_t max_sessions, uint32_t timeout_s)
{
	/* No port rest (RFC 6888 REQ-8): the create case replaces expired flows by new ones
	 * at up to millions a (simulated) second, and at 1M sessions the 1M ports its flows
	 * released would all be resting, every new flow refused (ports-exhausted). */
	static const char *const lines[] = {"inside 10.0.0.0/8", "port-range 1024-65535",
					    "port-rest 0"};
	struct napt_config cfg;
	char err[256], line[64];
	struct napt *n;

	napt_config_defaults(&cfg);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (napt_config_parse_line(&cfg, lines[i], err, sizeof(err)) < 0)
			goto fail;
	for (unsigned i = 1; i <= N_EXTERNAL; i++) {
		snprintf(line, sizeof(line), "external 203.0.113.%u", i);
		if (napt_config_parse_line(&cfg, line, err, sizeof(err)) < 0)
			goto fail;
	}
	cfg.max_sessions = max_sessions;
	if (timeout_s) {
		cfg.timeout_s[NAPT_TIMEOUT_UDP] = timeout_s;
		cfg.timeout_s[NAPT_TIMEOUT_TCP_TRANSITORY] = timeout_s;
	}
	n = napt_create(&cfg, 42, err, sizeof(err));
	if (n)
		return n;
fail:
	fprintf(stderr, "napt-bench: %s\n", err);
	exit(1);
}

static void die_verdict(const char *what, uint64_t id, struct napt_result r)
{
	fprintf(stderr, "napt-bench: %s of flow %" PRIu64 ": verdict %d, %s\n", what, id,
		(int)r.verdict, napt_drop_reason_name(r.reason));
	exit(1);
}

/* Translate one packet that must be forwarded in direction dir. */
static void translate_ok(struct napt *n, uint8_t *pkt, uint64_t now, enum napt_dir dir,
			 const char *what, uint64_t id)
{
	struct napt_packet p = {.data = pkt, .len = PKT_LEN};
	struct napt_result r = napt_translate(n, &p, now);

	if (r.verdict != NAPT_FORWARD || r.dir != dir)
		die_verdict(what, id, r);
}

/* What the first outbound packet of a flow must look like after translation: the source on
 * one of our external addresses, a valid IP header checksum (RFC 1624 update). */
static void check_outbound(const uint8_t *pkt, uint64_t id)
{
	uint32_t src;

	memcpy(&src, pkt + 12, 4);
	src = ntohl(src);
	if (src < 0xcb007101u || src >= 0xcb007101u + N_EXTERNAL ||
	    csum_buffer(pkt, IPV4_MIN_HDR) != 0) {
		fprintf(stderr, "napt-bench: flow %" PRIu64 " left with a bad source or checksum\n",
			id);
		exit(1);
	}
}

/* The reply must come back to the flow's inside endpoint. */
static void check_inbound(const uint8_t *pkt, const struct flow *f, uint64_t id)
{
	if (memcmp(pkt + 16, &f->in_addr, 4) != 0 || get16(pkt + IPV4_MIN_HDR + 2) != f->in_port ||
	    csum_buffer(pkt, IPV4_MIN_HDR) != 0) {
		fprintf(stderr, "napt-bench: reply of flow %" PRIu64 " came back wrong\n", id);
		exit(1);
	}
}

/* Opens flow id (UDP: one packet out and its reply; TCP: the three-way handshake, so the
 * session is established) and records its external endpoint. */
static void open_flow(struct napt *n, uint64_t id, uint32_t spm, uint64_t now,
		      struct flow_externals *ext)
{
	struct flow f = flow_of(id, spm);
	bool tcp = f.proto == IPPROTO_TCP;
	uint8_t pkt[PKT_LEN];

	build_outbound(pkt, &f, tcp ? TCP_SYN : 0);
	translate_ok(n, pkt, now, NAPT_DIR_OUT, "first packet", id);
	check_outbound(pkt, id);
	memcpy(&ext->addr[id], pkt + 12, 4);
	ext->port[id] = get16(pkt + IPV4_MIN_HDR);
	build_inbound(pkt, &f, ext->addr[id], ext->port[id], tcp ? TCP_SYN | TCP_ACK : 0);
	translate_ok(n, pkt, now, NAPT_DIR_IN, "reply", id);
	check_inbound(pkt, &f, id);
	if (tcp) {
		build_outbound(pkt, &f, TCP_ACK);
		translate_ok(n, pkt, now, NAPT_DIR_OUT, "handshake ACK", id);
	}
}

static void fill_table(struct napt *n, uint32_t sessions, const struct bench_clock *clk,
		       struct flow_externals *ext)
{
	uint32_t spm = sessions_per_mapping(sessions);
	uint64_t now = clock_ms(clk);

	for (uint64_t id = 0; id < sessions; id++) {
		if (id % CLOCK_EVERY == 0)
			now = clock_ms(clk);
		open_flow(n, id, spm, now, ext);
	}
	if (napt_get_counters(n)->sessions_current != sessions) {
		fprintf(stderr, "napt-bench: %" PRIu64 " sessions after filling %u\n",
			napt_get_counters(n)->sessions_current, sessions);
		exit(1);
	}
}

/* ---- packet buffers ---- */

/* The buffers of pre-built packets are streamed through once per pass, 16 MiB and more:
 * on 4 KiB pages they would take the TLB from the table at every pass, which a daemon's
 * few recycled packet buffers never do. So they sit on 2 MiB pages, as the packet buffers
 * of DPDK-style forwarders do. */
#define HUGE_PAGE (2u << 20)

static uint8_t *alloc_packets(size_t count)
{
	size_t bytes = (count * PKT_LEN + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	uint8_t *b = aligned_alloc(HUGE_PAGE, bytes);

	if (!b) {
		fprintf(stderr, "napt-bench: out of memory for %zu packets\n", count);
		exit(1);
	}
	madvise(b, bytes, MADV_HUGEPAGE);
	return b;
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *alloc_or_die(size_t bytes)
{
	void *p = malloc(bytes);

	if (!p) {
		fprintf(stderr, "napt-bench: out of memory for %zu bytes\n", bytes);
		exit(1);
	}
	return p;
}

/* Buffer order: passes over fresh random permutations of the flows (Fisher-Yates), so each
 * flow comes once per pass and consecutive packets belong to unrelated flows, as on a busy
 * link. The last pass may be cut short. */
static uint32_t *flow_order(uint32_t sessions, size_t count)
{
	uint32_t *order = alloc_or_die(count * sizeof(*order));
	uint32_t *perm = alloc_or_die(sessions * sizeof(*perm));
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	for (uint32_t i = 0; i < sessions; i++)
		perm[i] = i;
	for (size_t base = 0; base < count; base += sessions) {
		size_t len = count - base < sessions ? count - base : sessions;

		for (uint32_t i = sessions - 1; i > 0; i--) {
			uint32_t j = (uint32_t)(xorshift64(&rng) % (i + 1));
			uint32_t t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		memcpy(order + base, perm, len * sizeof(*perm));
	}
	free(perm);
	return order;
}

/* The established packets of both directions, in the same random flow order. */
static void build_established(const uint32_t *order, size_t count, uint32_t sessions,
			      const struct flow_externals *ext, uint8_t *out, uint8_t *in)
{
	uint32_t spm = sessions_per_mapping(sessions);

	for (size_t i = 0; i < count; i++) {
		uint32_t id = order[i];
		struct flow f = flow_of(id, spm);

		build_outbound(out + i * PKT_LEN, &f, TCP_ACK);
		build_inbound(in + i * PKT_LEN, &f, ext->addr[id], ext->port[id], TCP_ACK);
	}
}

/* ---- timed loops ---- */

/* One pass over a packet buffer; returns what the caller checks (packets not forwarded). */
typedef uint64_t (*pass_fn)(struct napt *n, const uint8_t *pkts, size_t count,
			    const struct bench_clock *clk);

/* Keeps the copy-only loop from being optimised away. */
static volatile uint64_t copy_sink;

/* Copies each packet into one working buffer and translates it there; returns the packets
 * that were not forwarded (none expected). */
static uint64_t translate_pass(struct napt *n, const uint8_t *pkts, size_t count,
			       const struct bench_clock *clk)
{
	uint8_t work[PKT_LEN] __attribute__((aligned(64)));
	struct napt_packet p = {.data = work, .len = PKT_LEN};
	uint64_t now = clock_ms(clk), bad = 0;

	for (size_t i = 0; i < count; i++) {
		if (i % CLOCK_EVERY == 0)
			now = clock_ms(clk);
		memcpy(work, pkts + i * PKT_LEN, PKT_LEN);
		bad += napt_translate(n, &p, now).verdict != NAPT_FORWARD;
	}
	return bad;
}

/* The same through napt_translate_burst(), BURST packets at a time (as a daemon that reads
 * a batch from its device): the packets are copied into BURST working buffers first. */
static uint64_t burst_pass(struct napt *n, const uint8_t *pkts, size_t count,
			   const struct bench_clock *clk)
{
	static uint8_t work[BURST][PKT_LEN] __attribute__((aligned(64)));
	struct napt_packet p[BURST];
	struct napt_result r[BURST];
	uint64_t now = clock_ms(clk), bad = 0;

	for (unsigned j = 0; j < BURST; j++)
		p[j] = (struct napt_packet){.data = work[j], .len = PKT_LEN};
	for (size_t i = 0; i < count; i += BURST) {
		unsigned m = count - i < BURST ? (unsigned)(count - i) : BURST;

		if (i % CLOCK_EVERY == 0)
			now = clock_ms(clk);
		memcpy(work, pkts + i * PKT_LEN, (size_t)m * PKT_LEN);
		napt_translate_burst(n, p, r, m, now);
		for (unsigned j = 0; j < m; j++)
			bad += r[j].verdict != NAPT_FORWARD;
	}
	return bad;
}

/* The same loop without the engine: what the copy and the loop cost on their own. */
static uint64_t copy_pass(struct napt *n, const uint8_t *pkts, size_t count,
			  const struct bench_clock *clk)
{
	uint8_t work[PKT_LEN] __attribute__((aligned(64)));
	uint64_t now = 0;

	(void)n;
	for (size_t i = 0; i < count; i++) {
		if (i % CLOCK_EVERY == 0)
			now = clock_ms(clk);
		memcpy(work, pkts + i * PKT_LEN, PKT_LEN);
		copy_sink = work[i % PKT_LEN] + now;
	}
	return 0;
}

/* The key of each packet's session (the engine's nat_key: addresses, ports, protocol, in
 * 16 bytes) through the engine's hash, with a key of the bench's own: the hash's share of
 * established-out. */
static uint64_t hash_pass(struct napt *n, const uint8_t *pkts, size_t count,
			  const struct bench_clock *clk)
{
	static const struct siphash_key key = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
	uint64_t sum = 0;

	(void)n;
	(void)clk;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *p = pkts + i * PKT_LEN;
		uint32_t src, dst;

		/* The engine hashes a header it has just read: fetch the packets ahead, or a
		 * buffer larger than the L3 makes this loop wait on memory, not on the hash. */
		__builtin_prefetch(p + HASH_AHEAD * PKT_LEN);

		memcpy(&src, p + 12, 4);
		memcpy(&dst, p + 16, 4);
		sum += siphash13_16(&key, (uint64_t)dst << 32 | src,
				    (uint64_t)p[9] << 32 | (uint64_t)get16(p + 22) << 16 |
					get16(p + 20));
	}
	copy_sink = sum;
	return 0;
}

static struct run_shape shape_of(uint32_t sessions, size_t run_pkts)
{
	struct run_shape sh = {.buffer = run_pkts < MIN_BUFFER ? run_pkts : MIN_BUFFER};

	if (sh.buffer < sessions)
		sh.buffer = sessions < MAX_BUFFER ? sessions : MAX_BUFFER;
	sh.passes = (run_pkts + sh.buffer - 1) / sh.buffer;
	sh.warmup = (unsigned)((sessions + sh.buffer - 1) / sh.buffer) + 1;
	return sh;
}

/* ns per packet over runs of sh.passes passes over the buffer. */
static struct spread time_passes(pass_fn pass, struct napt *n, const uint8_t *pkts,
				 struct run_shape sh, unsigned runs, const struct bench_clock *clk)
{
	size_t count = sh.buffer, passes = sh.passes;
	double ns[100] = {0};
	uint64_t bad = 0;

	for (unsigned r = 0; r < runs; r++) {
		struct timespec a = mono_now(), b;

		for (size_t p = 0; p < passes; p++)
			bad += pass(n, pkts, count, clk);
		b = mono_now();
		ns[r] = elapsed_s(&a, &b) * 1e9 / (double)(passes * count);
	}
	if (bad) {
		fprintf(stderr, "napt-bench: %" PRIu64 " established packets not forwarded\n", bad);
		exit(1);
	}
	return spread_of(ns, runs, false);
}

/* ---- session creation with expiry running ---- */

/* The simulated clock of the creation benchmark: flows_per_ms new flows per millisecond,
 * so with 1 s timeouts about 90 % of the table is live and every new flow past the warm-up
 * finds an expired one to replace. */
struct create_clock {
	uint64_t now;
	uint32_t flows_per_ms;
	uint32_t in_ms;
};

static void create_tick(struct napt *n, struct create_clock *c)
{
	if (++c->in_ms < c->flows_per_ms)
		return;
	c->in_ms = 0;
	c->now++;
	if (c->now % 1000 == 0)
		napt_expire(n, c->now); /* the daemon's one-second timer */
}

static void build_new_flows(uint8_t *pkts, uint64_t first, size_t count, uint32_t spm)
{
	for (size_t i = 0; i < count; i++) {
		struct flow f = flow_of(first + i, spm);

		build_outbound(pkts + i * PKT_LEN, &f, f.proto == IPPROTO_TCP ? TCP_SYN : 0);
	}
}

/* Translates count first packets of new flows in place, one call each or BURST per
 * napt_translate_burst() call; returns those not forwarded. */
static uint64_t create_pass(struct napt *n, uint8_t *pkts, size_t count, struct create_clock *c,
			    bool burst)
{
	unsigned per_call = burst ? BURST : 1;
	struct napt_packet p[BURST];
	struct napt_result r[BURST];
	uint64_t bad = 0;

	for (size_t i = 0; i < count; i += per_call) {
		unsigned m = count - i < per_call ? (unsigned)(count - i) : per_call;

		for (unsigned j = 0; j < m; j++)
			p[j] =
			    (struct napt_packet){.data = pkts + (i + j) * PKT_LEN, .len = PKT_LEN};
		napt_translate_burst(n, p, r, m, c->now);
		for (unsigned j = 0; j < m; j++) {
			bad += r[j].verdict != NAPT_FORWARD;
			create_tick(n, c);
		}
	}
	return bad;
}

/* New flows per second over runs of sh.buffer new flows each, after sh.warmup
 * batches. */
static struct spread bench_create(uint32_t sessions, struct run_shape sh, unsigned runs, bool burst)
{
	struct napt *n = make_instance(sessions, CREATE_TIMEOUT_S);
	uint32_t spm = sessions_per_mapping(sessions);
	size_t batch = sh.buffer;
	uint8_t *pkts = alloc_packets(batch);
	struct create_clock c = {.now = 1000};
	uint64_t next = 0, bad = 0;
	double rate[100] = {0};

	c.flows_per_ms =
	    (uint32_t)((uint64_t)sessions * CREATE_FILL_PCT / 100 / (CREATE_TIMEOUT_S * 1000));
	if (c.flows_per_ms == 0)
		c.flows_per_ms = 1;
	for (unsigned warm = 0; warm < sh.warmup; warm++, next += batch) {
		build_new_flows(pkts, next, batch, spm);
		bad += create_pass(n, pkts, batch, &c, burst);
	}
	for (unsigned r = 0; r < runs; r++, next += batch) {
		struct timespec a, b;

		build_new_flows(pkts, next, batch, spm);
		a = mono_now();
		bad += create_pass(n, pkts, batch, &c, burst);
		b = mono_now();
		rate[r] = (double)batch / elapsed_s(&a, &b);
	}
	if (bad) {
		fprintf(stderr,
			"napt-bench: %" PRIu64 " new flows refused (%" PRIu64
			" table-full, %" PRIu64 " ports-exhausted)\n",
			bad, napt_get_counters(n)->dropped[NAPT_DROP_TABLE_FULL],
			napt_get_counters(n)->dropped[NAPT_DROP_PORTS_EXHAUSTED]);
		exit(1);
	}
	free(pkts);
	napt_destroy(n);
	return spread_of(rate, runs, true);
}

/* ---- memory ---- */

static long vm_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static struct flow_externals alloc_externals(uint32_t sessions)
{
	struct flow_externals e = {alloc_or_die(sessions * sizeof(*e.addr)),
				   alloc_or_die(sessions * sizeof(*e.port))};

	/* Touched now, so the RSS growth measured while filling is the engine's alone. */
	memset(e.addr, 0, sessions * sizeof(*e.addr));
	memset(e.port, 0, sessions * sizeof(*e.port));
	return e;
}

/* ---- one table size ---- */

static void print_machine_lines(const struct size_result *r)
{
	printf("bench sessions=%u case=established-out ns_per_pkt=%.1f mpps=%.1f\n", r->sessions,
	       r->out_ns.best, 1e3 / r->out_ns.best);
	printf("bench sessions=%u case=established-in ns_per_pkt=%.1f mpps=%.1f\n", r->sessions,
	       r->in_ns.best, 1e3 / r->in_ns.best);
	printf("bench sessions=%u case=established-out-burst ns_per_pkt=%.1f mpps=%.1f\n",
	       r->sessions, r->burst_out_ns.best, 1e3 / r->burst_out_ns.best);
	printf("bench sessions=%u case=established-in-burst ns_per_pkt=%.1f mpps=%.1f\n",
	       r->sessions, r->burst_in_ns.best, 1e3 / r->burst_in_ns.best);
	printf("bench sessions=%u case=hash ns_per_pkt=%.1f\n", r->sessions, r->hash_ns.best);
	printf("bench sessions=%u case=create new_per_s=%.0f bytes_per_session=%.0f\n", r->sessions,
	       r->new_per_s.best, r->bytes_per_session);
	printf("bench sessions=%u case=create-burst new_per_s=%.0f\n", r->sessions,
	       r->burst_new_per_s.best);
	printf("bench sessions=%u case=memory bytes_per_session=%.0f rss_bytes_per_session=%.0f\n",
	       r->sessions, r->bytes_per_session, r->rss_per_session);
	fflush(stdout);
}

static struct size_result bench_size(uint32_t sessions, const struct bench_options *o)
{
	struct size_result res = {.sessions = sessions};
	struct bench_clock clk = {mono_now()};
	struct flow_externals ext = alloc_externals(sessions);
	struct run_shape sh = shape_of(sessions, o->run_pkts);
	size_t count = sh.buffer;
	long rss_before = vm_rss_bytes();
	struct napt *n = make_instance(sessions, FILL_TIMEOUT_S);
	uint32_t *order;
	uint8_t *out, *in;

	fill_table(n, sessions, &clk, &ext);
	/* What each run covers, for scripts that count cost per packet (perf-profile.sh). */
	printf("napt-bench: sessions=%u per_run_packets=%zu buffer=%zu passes=%zu "
	       "create_batch=%zu create_batches=%u\n",
	       sessions, sh.buffer * sh.passes, sh.buffer, sh.passes, sh.buffer,
	       o->runs + sh.warmup);
	fflush(stdout);
	CALLGRIND_START_INSTRUMENTATION;
	res.bytes_per_session = (double)napt_memory_bytes(n) / sessions;
	res.rss_per_session = (double)(vm_rss_bytes() - rss_before) / sessions;
	order = flow_order(sessions, count);
	out = alloc_packets(count);
	in = alloc_packets(count);
	build_established(order, count, sessions, &ext, out, in);
	free(order);
	res.out_ns = time_passes(translate_pass, n, out, sh, o->runs, &clk);
	res.in_ns = time_passes(translate_pass, n, in, sh, o->runs, &clk);
	res.burst_out_ns = time_passes(burst_pass, n, out, sh, o->runs, &clk);
	res.burst_in_ns = time_passes(burst_pass, n, in, sh, o->runs, &clk);
	res.copy_ns = time_passes(copy_pass, NULL, out, sh, o->runs, &clk);
	res.hash_ns = time_passes(hash_pass, NULL, out, sh, o->runs, &clk);
	free(out);
	free(in);
	free(ext.addr);
	free(ext.port);
	napt_destroy(n);
	res.new_per_s = bench_create(sessions, sh, o->runs, false);
	res.burst_new_per_s = bench_create(sessions, sh, o->runs, true);
	print_machine_lines(&res);
	return res;
}

static void print_row(uint32_t sessions, const char *what, struct spread t)
{
	printf("%10u  %-22s %9.1f %9.1f %8.2f\n", sessions, what, t.best, t.median, 1e3 / t.best);
}

static void print_table(const struct size_result *r, unsigned n)
{
	printf("\n%10s  %-22s %9s %9s %8s\n", "sessions", "ns per packet", "best", "median",
	       "Mpps");
	for (unsigned i = 0; i < n; i++) {
		print_row(r[i].sessions, "established-out", r[i].out_ns);
		print_row(r[i].sessions, "established-in", r[i].in_ns);
		print_row(r[i].sessions, "established-out-burst", r[i].burst_out_ns);
		print_row(r[i].sessions, "established-in-burst", r[i].burst_in_ns);
		print_row(r[i].sessions, "copy alone (included)", r[i].copy_ns);
		print_row(r[i].sessions, "hash alone (included)", r[i].hash_ns);
	}
	printf("\n%10s %14s %14s %14s %14s %16s %16s\n", "sessions", "new flows/s", "(median)",
	       "in bursts", "(median)", "table B/session", "RSS B/session");
	for (unsigned i = 0; i < n; i++)
		printf("%10u %14.0f %14.0f %14.0f %14.0f %16.1f %16.1f\n", r[i].sessions,
		       r[i].new_per_s.best, r[i].new_per_s.median, r[i].burst_new_per_s.best,
		       r[i].burst_new_per_s.median, r[i].bytes_per_session, r[i].rss_per_session);
	printf("(64-byte packets, half UDP half TCP, random flow order; bursts of %d packets)\n",
	       BURST);
}

int main(int argc, char **argv)
{
	struct bench_options o = parse_args(argc, argv);
	struct size_result res[MAX_SIZES];

	/* A fixed threshold: large tables and buffers always come from mmap and go back to the
	 * kernel when freed, so each size's RSS growth is its own (glibc otherwise raises the
	 * threshold after the first free and serves the next table from already resident heap). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	pin_cpu(o.cpu);
	printf("napt-bench: CPU %d, %u runs per figure, best reported\n", o.cpu, o.runs);
	for (unsigned i = 0; i < o.n_sizes; i++)
		res[i] = bench_size(o.sizes[i], &o);
	print_table(res, o.n_sizes);
	return 0;
}
