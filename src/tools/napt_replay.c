/* SPDX-License-Identifier: BSD-2-Clause */
/* napt-replay - run a pcap of IPv4 packets through the engine and write what comes out.
 *
 * The pcap timestamps are the engine's clock, so a capture replays the same way every time:
 * this is what the fixtures in pcaps/ are checked with.
 *
 *   napt-replay [-v] [-p] [-s SEED] [-k KEY] -c CONFIG IN.pcap OUT.pcap
 *   napt-replay -c CONFIG --lookup ADDR[:PORT]
 *
 * -k sets the tables' hash key (32 hex digits: key bytes 0 to 15) instead of deriving it
 * from the seed: tests/attack aims flows at one bucket under a known key.
 * -p hands TCP and UDP packets over as a TUN device with checksum offload does
 * (napt.h: csum_partial): their checksum field holds the pseudo-header sum only.
 *
 * --lookup answers from the deterministic NAT formula (det_nat.h), no capture needed: an
 * inside address gives its external address and port range (with a port, the port the
 * formula gives a flow from it, before collisions); an external address and port give the
 * inside address they belong to and its range.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "hex_key.h"
#include "det_nat.h"
#include "napt.h"

#define MAX_PACKET  65536
#define ETH_HDR_LEN 14

/* LINKTYPE_IPV4 (228): raw IPv4, which some libpcap versions do not name DLT_IPV4. */
#define LINKTYPE_IPV4_VALUE 228

struct replay_options {
	const char *config;
	const char *in_path;
	const char *out_path;
	const char *lookup; /* --lookup ADDR[:PORT] */
	uint64_t seed;
	struct napt_secrets secrets; /* hash_key used when has_key */
	bool has_key;
	bool verbose;
	bool partial; /* -p */
};

/* The open pcaps of one run and where the IPv4 header starts in an input record. */
struct replay_io {
	pcap_t *in;
	pcap_t *out_handle;
	pcap_dumper_t *out;
	size_t link_hdr;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: napt-replay [-v] [-p] [-s SEED] [-k KEY] -c CONFIG IN.pcap OUT.pcap\n"
		"       napt-replay -c CONFIG --lookup ADDR[:PORT]\n");
	exit(1);
}

static struct replay_options parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {{"lookup", required_argument, NULL, 'l'},
						 {NULL, 0, NULL, 0}};
	struct replay_options o = {.seed = 1};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "c:k:ps:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.lookup = optarg;
			break;
		case 'c':
			o.config = optarg;
			break;
		case 'k':
			if (!hex_key_parse(optarg, o.secrets.hash_key))
				usage();
			o.has_key = true;
			break;
		case 's':
			o.seed = strtoull(optarg, &end, 0);
			if (*optarg == '\0' || *end != '\0')
				usage();
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'p':
			o.partial = true;
			break;
		default:
			usage();
		}
	}
	if (!o.config || argc - optind != (o.lookup ? 0 : 2))
		usage();
	if (o.lookup)
		return o;
	o.in_path = argv[optind];
	o.out_path = argv[optind + 1];
	return o;
}

/* Bytes before the IPv4 header for the input's link type, or -1 when unsupported. */
static int link_header_len(int dlt)
{
	switch (dlt) {
	case DLT_RAW:
	case LINKTYPE_IPV4_VALUE:
		return 0;
	case DLT_EN10MB:
		return ETH_HDR_LEN;
	default:
		return -1;
	}
}

static int open_io(const struct replay_options *o, struct replay_io *io)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	int hdr;

	io->in = pcap_open_offline(o->in_path, errbuf);
	if (!io->in) {
		fprintf(stderr, "napt-replay: %s\n", errbuf);
		return -1;
	}
	hdr = link_header_len(pcap_datalink(io->in));
	if (hdr < 0) {
		fprintf(stderr, "napt-replay: %s: link type %d is not raw IPv4 or Ethernet\n",
			o->in_path, pcap_datalink(io->in));
		return -1;
	}
	io->link_hdr = (size_t)hdr;
	io->out_handle = pcap_open_dead(DLT_RAW, MAX_PACKET);
	io->out = io->out_handle ? pcap_dump_open(io->out_handle, o->out_path) : NULL;
	if (!io->out) {
		fprintf(stderr, "napt-replay: %s: %s\n", o->out_path,
			io->out_handle ? pcap_geterr(io->out_handle) : "cannot open");
		return -1;
	}
	return 0;
}

static void close_io(struct replay_io *io)
{
	if (io->out)
		pcap_dump_close(io->out);
	if (io->out_handle)
		pcap_close(io->out_handle);
	if (io->in)
		pcap_close(io->in);
}

static void write_packet(struct replay_io *io, const struct timeval *ts, const uint8_t *data,
			 size_t len)
{
	struct pcap_pkthdr h = {.ts = *ts, .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};

	pcap_dump((u_char *)io->out, &h, data);
}

static const char *verdict_name(enum napt_verdict v)
{
	switch (v) {
	case NAPT_FORWARD:
		return "forward";
	case NAPT_DROP:
		return "drop";
	case NAPT_HELD:
		return "held";
	case NAPT_REPLY:
		return "reply";
	}
	return "?";
}

/* -p: a TCP or UDP packet comes with a partial checksum (the IPv4 protocol field, byte 9). */
static bool partial_checksum(const struct replay_options *o, const uint8_t *ip, size_t len)
{
	return o->partial && len >= 20 && (ip[9] == IPPROTO_TCP || ip[9] == IPPROTO_UDP);
}

/* One input record: translate, write it if forwarded, then the fragments it released. */
static void replay_one(struct napt *nat, struct replay_io *io, const struct pcap_pkthdr *h,
		       const u_char *bytes, unsigned long index, const struct replay_options *o)
{
	static uint8_t buf[MAX_PACKET];
	uint64_t now_ms = (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)h->ts.tv_usec / 1000;
	size_t len = h->caplen > io->link_hdr ? h->caplen - io->link_hdr : 0;
	struct napt_packet pkt = {.data = buf, .len = len, .cap = sizeof(buf)};
	struct napt_result r;

	memcpy(buf, bytes + io->link_hdr, len);
	pkt.csum_partial = partial_checksum(o, buf, len);
	r = napt_translate(nat, &pkt, now_ms);
	if (o->verbose)
		printf("%lu %s %s %s\n", index, verdict_name(r.verdict), napt_dir_name(r.dir),
		       r.verdict == NAPT_DROP ? napt_drop_reason_name(r.reason) : "-");
	/* The engine's answer to a refused flow goes out like a translated packet; answers to
	 * unsolicited SYNs come due later and come out with the released fragments. */
	if (r.verdict == NAPT_FORWARD || r.verdict == NAPT_REPLY)
		write_packet(io, &h->ts, buf, pkt.len);
	while ((len = napt_next_released(nat, buf, sizeof(buf))) > 0)
		write_packet(io, &h->ts, buf, len);
}

static void print_counters(const struct napt_counters *c)
{
	static const char *const proto[NAPT_PROTOS] = {"tcp", "udp", "icmp"};

	for (int p = 0; p < NAPT_PROTOS; p++) {
		printf("translated %s out %" PRIu64 "\n", proto[p], c->translated[p][0]);
		printf("translated %s in %" PRIu64 "\n", proto[p], c->translated[p][1]);
	}
	printf("hairpinned %" PRIu64 "\n", c->hairpinned);
	printf("replies sent %" PRIu64 "\n", c->replies_sent);
	printf("replies limited %" PRIu64 "\n", c->replies_limited);
	printf("replies cancelled %" PRIu64 "\n", c->replies_cancelled);
	printf("pool fallbacks %" PRIu64 "\n", c->pool_fallbacks);
	printf("deterministic collisions %" PRIu64 "\n", c->det_collisions);
	printf("deterministic pickups %" PRIu64 "\n", c->det_pickups);
	printf("port blocks allocated %" PRIu64 "\n", c->port_blocks_allocated);
	printf("port blocks released %" PRIu64 "\n", c->port_blocks_released);
	for (int r = NAPT_DROP_NONE + 1; r < NAPT_DROP_REASONS; r++)
		printf("dropped %s %" PRIu64 "\n", napt_drop_reason_name((enum napt_drop_reason)r),
		       c->dropped[r]);
	printf("sessions created %" PRIu64 "\n", c->sessions_created);
	printf("sessions expired %" PRIu64 "\n", c->sessions_expired);
	printf("sessions removed %" PRIu64 "\n", c->sessions_removed);
	printf("sessions current %" PRIu64 "\n", c->sessions_current);
	printf("mappings current %" PRIu64 "\n", c->mappings_current);
	printf("fragments held %" PRIu64 "\n", c->fragments_held);
	printf("icmp-errors translated %" PRIu64 "\n", c->icmp_errors_translated);
}

static int replay(struct napt *nat, struct replay_io *io, const struct replay_options *o)
{
	struct pcap_pkthdr *h;
	const u_char *bytes;
	unsigned long index = 0;
	int rc;

	while ((rc = pcap_next_ex(io->in, &h, &bytes)) == 1)
		replay_one(nat, io, h, bytes, ++index, o);
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "napt-replay: reading packet %lu: %s\n", index + 1,
			pcap_geterr(io->in));
		return -1;
	}
	return 0;
}

static void print_range(const char *what, const struct det_range *r)
{
	char in[INET_ADDRSTRLEN], ext[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &r->in_addr, in, sizeof(in));
	inet_ntop(AF_INET, &r->ext_addr, ext, sizeof(ext));
	printf("%s inside %s external %s ports %u-%u\n", what, in, ext, r->lo, r->hi);
}

/* --lookup ADDR[:PORT]: the formula's answer, either way. */
static int lookup(const struct napt_config *cfg, const char *text)
{
	char addr_text[INET_ADDRSTRLEN];
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	struct det_layout d;
	struct det_range r;
	unsigned long port = 0;
	struct in_addr a;
	char err[256], *end;

	if (!cfg->det.on || det_layout_make(cfg, &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "napt-replay: --lookup needs a 'deterministic' line\n");
		return 1;
	}
	if (colon)
		port = strtoul(colon + 1, &end, 10);
	if (len >= sizeof(addr_text) || (colon && (!colon[1] || *end || port > 65535))) {
		fprintf(stderr, "napt-replay: --lookup needs ADDR[:PORT], not '%s'\n", text);
		return 1;
	}
	memcpy(addr_text, text, len);
	addr_text[len] = '\0';
	if (inet_pton(AF_INET, addr_text, &a) != 1) {
		fprintf(stderr, "napt-replay: --lookup: bad address '%s'\n", addr_text);
		return 1;
	}
	if (det_forward(&d, a.s_addr, &r)) {
		print_range("forward", &r);
		if (colon)
			printf("port %lu -> %u\n", port, det_port(&r, (uint16_t)port));
		return 0;
	}
	if (colon && det_reverse(&d, a.s_addr, (uint16_t)port, &r)) {
		print_range("reverse", &r);
		return 0;
	}
	printf("none\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct replay_options o = parse_args(argc, argv);
	static struct napt_config cfg;
	struct replay_io io = {0};
	struct napt *nat = NULL;
	char err[512];
	int rc = 1;

	if (config_file_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "napt-replay: %s\n", err);
		return 1;
	}
	if (o.lookup)
		return lookup(&cfg, o.lookup);
	o.secrets.port_seed = o.seed;
	nat = o.has_key ? napt_create_keyed(&cfg, &o.secrets, err, sizeof(err))
			: napt_create(&cfg, o.seed, err, sizeof(err));
	if (!nat) {
		fprintf(stderr, "napt-replay: %s\n", err);
		return 1;
	}
	if (open_io(&o, &io) == 0 && replay(nat, &io, &o) == 0) {
		print_counters(napt_get_counters(nat));
		rc = 0;
	}
	close_io(&io);
	napt_destroy(nat);
	return rc;
}
