/* SPDX-License-Identifier: BSD-2-Clause */
/* hash_flood_gen - the flow sets of the hash-flooding test (issue 11 item 1).
 *
 *   hash-flood-gen out|in MAX_SESSIONS FLOWS PACKETS KEY OUTDIR
 *
 * writes OUTDIR/config and three pcaps of FLOWS UDP flows between one remote host and, for
 * `out`, one LAN host (which opens them), for `in`, the external address (a WAN host opens
 * them to the DMZ host: `dmz` set), PACKETS packets each (every flow's first packet, then
 * rounds over all flows):
 *   random.pcap  ports drawn at random;
 *   old.pcap     port pairs that share one bucket under the hash of 73c33af, whatever its
 *                seed: it mixed the ports in after the secret, with a fixed multiplier;
 *   keyed.pcap   port pairs that share one bucket under SipHash with KEY (32 hex digits,
 *                as napt-replay -k takes it): replayed with KEY they collide, with any
 *                other key they are as good as random.
 * The bucket count is the table's: the next power of two at or above MAX_SESSIONS.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "hex_key.h"
#include "nat_table.h"
#include "prng.h"

#define INSIDE   "192.168.1.10"
#define REMOTE   "198.51.100.7"
#define EXTERNAL "203.0.113.10"
#define DMZ_HOST "192.168.1.50"
#define PKT_LEN  36 /* IPv4 + UDP + 8 bytes */

struct flow {
	uint16_t port, rem_port;
};

/* The local end of the flows (the LAN host, or the external address) and their way. */
struct side {
	uint32_t local; /* network order */
	bool inbound;
};

/* The bucket of 73c33af's key_hash() less its secret part: that function xored the
 * multiplied ports into a value made from the seed and the addresses, then folded the top
 * half onto the bottom; its bucket was (secret bits) ^ this, so pairs equal here share a
 * bucket under every seed. */
static uint32_t old_port_part(const struct flow *f, uint32_t mask)
{
	uint64_t x = ((uint64_t)f->port << 32 | (uint64_t)f->rem_port << 16 | IPPROTO_UDP) *
		     0x94d049bb133111ebull;

	return (uint32_t)(x ^ (x >> 32)) & mask;
}

/* The bucket of the flow's session key: by the inside endpoint for outbound flows, by the
 * external one for inbound flows, the remote endpoint in both. */
static uint32_t keyed_bucket(const struct nat_table *t, const struct side *sd, const struct flow *f,
			     uint32_t mask)
{
	struct nat_key k = {sd->local, inet_addr(REMOTE), f->port, f->rem_port, IPPROTO_UDP};

	return (uint32_t)nat_key_hash(t, &k) & mask;
}

/* Port pairs, local ports from 1024 up and every remote port, whose bucket is that of the
 * first pair, under the old hash (t NULL) or under t's key; n of them. */
static void colliding(struct flow *out, unsigned n, uint32_t mask, const struct nat_table *t,
		      const struct side *sd)
{
	unsigned got = 0;
	uint32_t target = 0;

	for (uint32_t port = 1024; port <= 65535 && got < n; port++) {
		for (uint32_t rem = 1; rem <= 65535 && got < n; rem++) {
			struct flow f = {(uint16_t)port, (uint16_t)rem};
			uint32_t b = t ? keyed_bucket(t, sd, &f, mask) : old_port_part(&f, mask);

			if (got == 0)
				target = b;
			if (b == target)
				out[got++] = f;
		}
	}
	if (got < n) {
		fprintf(stderr, "hash-flood-gen: only %u colliding pairs\n", got);
		exit(1);
	}
}

static void random_flows(struct flow *out, unsigned n)
{
	struct prng r;

	prng_seed(&r, 20261207);
	for (unsigned i = 0; i < n; i++) {
		uint64_t v = prng_next(&r);

		/* About as many local ports (mappings) as the colliding sets use, 8 remote ports
		 * each, distinct. */
		out[i] = (struct flow){(uint16_t)(1024 + i / 8),
				       (uint16_t)(1 + (i % 8) * 8000 + v % 8000)};
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void build(uint8_t *pkt, const struct side *sd, const struct flow *f, uint16_t id)
{
	uint32_t src = sd->inbound ? inet_addr(REMOTE) : sd->local;
	uint32_t dst = sd->inbound ? sd->local : inet_addr(REMOTE);
	uint16_t c;

	memset(pkt, 0, PKT_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, PKT_LEN);
	put16(pkt + 4, id);
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	c = csum_buffer(pkt, 20);
	memcpy(pkt + 10, &c, 2);
	put16(pkt + 20, sd->inbound ? f->rem_port : f->port);
	put16(pkt + 22, sd->inbound ? f->port : f->rem_port);
	put16(pkt + 24, PKT_LEN - 20);
	memcpy(pkt + 28, "hashtest", 8); /* UDP checksum 0: none */
}

static void write_pcap(const char *dir, const char *name, const struct side *sd,
		       const struct flow *flows, unsigned n, unsigned packets)
{
	char path[4096];
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *d;
	uint8_t pkt[PKT_LEN];
	unsigned seq = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	d = dead ? pcap_dump_open(dead, path) : NULL;
	if (!d) {
		fprintf(stderr, "hash-flood-gen: cannot write %s\n", path);
		exit(1);
	}
	for (unsigned p = 0; p < packets; p++) {
		for (unsigned i = 0; i < n; i++, seq++) {
			struct pcap_pkthdr h = {.caplen = PKT_LEN, .len = PKT_LEN};

			h.ts.tv_sec = 1 + seq / 1000000;
			h.ts.tv_usec = seq % 1000000;
			build(pkt, sd, &flows[i], (uint16_t)seq);
			pcap_dump((u_char *)d, &h, pkt);
		}
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/* KEY: 32 hex digits (hex_key.h). */
static struct siphash_key parse_key(const char *hex)
{
	uint64_t k[2];

	if (!hex_key_parse(hex, k)) {
		fprintf(stderr, "hash-flood-gen: KEY is 32 hex digits\n");
		exit(2);
	}
	return (struct siphash_key){k[0], k[1]};
}

static void write_config(const char *dir, const struct side *sd, uint32_t max)
{
	char path[4096];
	FILE *cfg;

	snprintf(path, sizeof(path), "%s/config", dir);
	cfg = fopen(path, "w");
	if (!cfg) {
		fprintf(stderr, "hash-flood-gen: cannot write %s\n", path);
		exit(1);
	}
	fprintf(cfg, "inside 192.168.1.0/24\nexternal " EXTERNAL "\nmax-sessions %u\n%s", max,
		sd->inbound ? "dmz " DMZ_HOST "\n" : "");
	fclose(cfg);
}

int main(int argc, char **argv)
{
	struct napt_counters ctr = {0};
	uint32_t ext = inet_addr(EXTERNAL), max, buckets = 1;
	struct side sd;
	unsigned n, packets;
	struct siphash_key key;
	struct nat_table *t;
	struct flow *flows;
	const char *dir;

	if (argc != 7 || (strcmp(argv[1], "out") && strcmp(argv[1], "in"))) {
		fprintf(stderr,
			"usage: hash-flood-gen out|in MAX_SESSIONS FLOWS PACKETS KEY OUTDIR\n");
		return 2;
	}
	sd.inbound = !strcmp(argv[1], "in");
	sd.local = inet_addr(sd.inbound ? EXTERNAL : INSIDE);
	max = (uint32_t)strtoul(argv[2], NULL, 0);
	n = (unsigned)strtoul(argv[3], NULL, 0);
	packets = (unsigned)strtoul(argv[4], NULL, 0);
	key = parse_key(argv[5]);
	dir = argv[6];
	if (!max || !n || n > 60000 || n > max || !packets)
		return 2;
	while (buckets < max)
		buckets <<= 1;
	t = nat_table_create(1, &key, &ctr, &ext, 1);
	flows = calloc(n, sizeof(*flows));
	if (!t || !flows)
		return 1;
	write_config(dir, &sd, max);
	random_flows(flows, n);
	write_pcap(dir, "random.pcap", &sd, flows, n, packets);
	colliding(flows, n, buckets - 1, NULL, &sd);
	write_pcap(dir, "old.pcap", &sd, flows, n, packets);
	colliding(flows, n, buckets - 1, t, &sd);
	write_pcap(dir, "keyed.pcap", &sd, flows, n, packets);
	free(flows);
	nat_table_destroy(t);
	return 0;
}
