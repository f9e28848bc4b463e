/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_packet - libFuzzer target: packets in both directions into one live engine.
 *
 * The input is a sequence of records: a control byte, a 2-byte length, the packet. The
 * control byte's low bits advance the clock (so sessions are created, refreshed and expire),
 * and two bits ask the harness to repair the IP header and transport checksums first, so the
 * fuzzer gets past validation into the table code. The instance lives across inputs, like a
 * gateway's table lives across packets.
 *
 * Oracle, beyond "no crash, no sanitizer report": every packet the engine forwards has a
 * correct IPv4 header checksum, and a forwarded unfragmented TCP or UDP packet whose
 * checksum was correct before is correct after (RFC 1624 updates must not break it). The
 * checksum code here is this file's own, not the engine's.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "napt.h"

#define MAX_PKT 2048

static struct napt *nat;
static uint64_t clock_ms = 1000;

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static size_t ihl_of(const uint8_t *p)
{
	return (size_t)(p[0] & 0x0f) * 4;
}

static bool ip_header_ok(const uint8_t *p, size_t len)
{
	return len >= 20 && ihl_of(p) >= 20 && ihl_of(p) <= len &&
	       fold(sum16(p, ihl_of(p), 0)) == 0xffff;
}

/* Transport checksum over the pseudo-header; only for unfragmented TCP/UDP. */
static bool l4_checkable(const uint8_t *p, size_t len, size_t *l4len)
{
	size_t tot;

	if (!ip_header_ok(p, len) || (p[9] != IPPROTO_TCP && p[9] != IPPROTO_UDP))
		return false;
	tot = (size_t)(p[2] << 8 | p[3]);
	if (tot > len || tot < ihl_of(p) + 8 || (p[6] & 0x3f) || p[7])
		return false;
	*l4len = tot - ihl_of(p);
	if (p[9] == IPPROTO_TCP && *l4len < 20)
		return false;
	/* A UDP checksum of 0 means none. */
	return !(p[9] == IPPROTO_UDP && p[ihl_of(p) + 6] == 0 && p[ihl_of(p) + 7] == 0);
}

static uint32_t pseudo_sum(const uint8_t *p, size_t l4len)
{
	uint32_t s = sum16(p + 12, 8, 0);

	return s + p[9] + (uint32_t)l4len;
}

static bool l4_ok(const uint8_t *p, size_t l4len)
{
	return fold(sum16(p + ihl_of(p), l4len, pseudo_sum(p, l4len))) == 0xffff;
}

static void put_csum(uint8_t *field, uint16_t c)
{
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
}

static void repair(uint8_t *p, size_t len, bool fix_l4)
{
	size_t l4len, off;

	if (len < 20 || ihl_of(p) < 20 || ihl_of(p) > len)
		return;
	put_csum(p + 10, 0);
	put_csum(p + 10, (uint16_t)~fold(sum16(p, ihl_of(p), 0)));
	if (!fix_l4 || !l4_checkable(p, len, &l4len))
		return;
	off = ihl_of(p) + (p[9] == IPPROTO_TCP ? 16 : 6);
	put_csum(p + off, 0);
	put_csum(p + off, (uint16_t)~fold(sum16(p + ihl_of(p), l4len, pseudo_sum(p, l4len))));
	if (p[9] == IPPROTO_UDP && p[off] == 0 && p[off + 1] == 0)
		put_csum(p + off, 0xffff);
}

static void make_engine(void)
{
	static const char cfg_text[] = "inside 192.168.1.0/24\n"
				       "inside 10.0.0.0/8\n"
				       "external 203.0.113.10\n"
				       "external 203.0.113.11\n"
				       "port-range 1024-1100\n"
				       "filtering endpoint-independent\n"
				       "timeout udp 5\n"
				       "timeout tcp-transitory 5\n"
				       "timeout icmp 5\n"
				       "forward both 8080-8090 192.168.1.10:80-90\n"
				       "dmz 192.168.1.50\n"
				       "max-sessions 256\n"
				       /* blocks for most hosts; 10.0.0.0/28 deterministic,
					* with mid-stream pickup; a short rest */
				       "port-block-size 8\n"
				       "ports-per-host 20\n"
				       "port-rest 2\n"
				       "deterministic 10.0.0.0/28 203.0.113.16/30\n"
				       "deterministic-ports 8\n"
				       "mss-clamp 1200\n"
				       "refused-flows icmp\n";
	struct napt_config cfg;
	char err[256];

	if (napt_config_parse_text(&cfg, cfg_text, "fuzz", err, sizeof(err)) < 0 ||
	    !(nat = napt_create(&cfg, 42, err, sizeof(err)))) {
		fprintf(stderr, "fuzz_packet: %s\n", err);
		abort();
	}
}

static void check_forwarded(const uint8_t *p, size_t len, bool l4_was_ok)
{
	size_t l4len;

	if (!ip_header_ok(p, len))
		abort(); /* forwarded with a wrong header checksum */
	if (l4_was_ok && l4_checkable(p, len, &l4len) && !l4_ok(p, l4len))
		abort(); /* the translation broke a correct transport checksum */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_PKT];

	if (!nat)
		make_engine();
	while (size >= 3) {
		uint8_t ctl = data[0];
		size_t len = (size_t)(data[1] << 8 | data[2]) % MAX_PKT;
		struct napt_packet pkt = {.data = buf};
		struct napt_result r;
		size_t l4len;
		bool l4_was_ok;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memcpy(buf, data, len);
		data += len;
		size -= len;
		clock_ms += (uint64_t)(ctl & 0x0f) * ((ctl & 0x10) ? 1000 : 10);
		if (ctl & 0x40)
			repair(buf, len, ctl & 0x80);
		l4_was_ok = l4_checkable(buf, len, &l4len) && l4_ok(buf, l4len);
		pkt.len = len;
		r = napt_translate(nat, &pkt, clock_ms);
		if (r.verdict == NAPT_FORWARD)
			check_forwarded(buf, len, l4_was_ok);
		else if (r.verdict == NAPT_REPLY)
			check_forwarded(buf, pkt.len, false);
		while ((len = napt_next_released(nat, buf, sizeof(buf))))
			check_forwarded(buf, len, false);
		if (ctl == 0xff)
			napt_flush(nat);
	}
	return 0;
}
