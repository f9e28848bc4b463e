/* SPDX-License-Identifier: BSD-2-Clause */
/* example.c - the smallest program that embeds libnapt (docs/libnapt.md): one instance, a
 * UDP datagram from the inside translated out, the answer translated back in. Built by
 * tests/libnapt/test_libnapt.sh against the installed headers and libnapt.so.0 (pkg-config).
 */
#include <arpa/inet.h>
#include <napt/napt.h>
#include <napt/napt_config.h>
#include <napt/checksum.h>
#include <stdio.h>
#include <string.h>

/* A 28-byte IPv4/UDP datagram with no payload and no UDP checksum (0 is allowed in IPv4). */
static void udp_packet(uint8_t p[28], const char *src, uint16_t sport, const char *dst,
		       uint16_t dport)
{
	uint32_t s, d;
	uint16_t sum;

	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	sum = csum_buffer(p, 20);
	memcpy(p + 10, &sum, 2);
	p[20] = sport >> 8;
	p[21] = sport & 0xff;
	p[22] = dport >> 8;
	p[23] = dport & 0xff;
	p[25] = 8;
}

static void show(const char *what, const uint8_t p[28])
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, p + 12, s, sizeof s);
	inet_ntop(AF_INET, p + 16, d, sizeof d);
	printf("%s %s:%u -> %s:%u\n", what, s, p[20] << 8 | p[21], d, p[22] << 8 | p[23]);
}

int main(void)
{
	static const char conf[] = "inside 192.168.1.0/24\nexternal 203.0.113.10\n";
	struct napt_config cfg;
	char err[256];
	uint8_t pkt[28];
	uint16_t ext_port;
	struct napt_packet np = {.data = pkt, .len = sizeof pkt};
	struct napt_result r;
	struct napt *n;

	if (napt_config_parse_text(&cfg, conf, "example", err, sizeof err) != 0 ||
	    !(n = napt_create(&cfg, 1, err, sizeof err))) {
		fprintf(stderr, "example: %s\n", err);
		return 1;
	}
	udp_packet(pkt, "192.168.1.10", 5000, "198.51.100.7", 53);
	r = napt_translate(n, &np, 1000); /* the clock: milliseconds, any origin */
	show("out:", pkt);
	ext_port = pkt[20] << 8 | pkt[21];
	if (r.verdict != NAPT_FORWARD || r.dir != NAPT_DIR_OUT) {
		fprintf(stderr, "example: outbound %s\n", napt_drop_reason_name(r.reason));
		return 1;
	}
	udp_packet(pkt, "198.51.100.7", 53, "203.0.113.10", ext_port);
	r = napt_translate(n, &np, 1020);
	show("in: ", pkt);
	if (r.verdict != NAPT_FORWARD || r.dir != NAPT_DIR_IN) {
		fprintf(stderr, "example: inbound %s\n", napt_drop_reason_name(r.reason));
		return 1;
	}
	printf("sessions: %llu\n", (unsigned long long)napt_get_counters(n)->sessions_current);
	napt_destroy(n);
	return 0;
}
