/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_coalesce - libFuzzer target: bursts of frames into the TUN write side's coalescer
 * (tun_coalesce.h).
 *
 * The input is a sequence of records of 4 bytes: a control byte, a payload length (2 bytes)
 * and a byte to flip. The harness builds each frame from them, with the checksums of the
 * tests' own code (tests/unit/packet_builder.c), so
 * most frames qualify and runs form: the control byte picks one of four flows, TCP or UDP,
 * whether the segment continues its flow (sequence number and IP ID) or jumps, PSH, a
 * partial-checksum header, and whether the flip byte damages the packet (a byte at a place
 * the length picks). Up to 64 records make one burst.
 *
 * Oracle, beyond "no crash, no sanitizer report": no frame grows past 64 KB; a frame left
 * alone (not merged away, not grown) is byte for byte what went in; every grown frame is a
 * GSO one with a good IPv4 header checksum and its total length; and no byte is lost: what
 * the grown frames gained is exactly the payload of the frames merged away.
 */
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4_packet.h"
#include "packet_builder.h"
#include "tun_coalesce.h"
#include "tun_device.h"

#define VH    sizeof(struct virtio_net_hdr)
#define BURST 64

static uint8_t bufs[BURST][TUN_FRAME_MAX], copies[BURST][VH + 1600];
static struct tun_frame frames[BURST];
static size_t in_len[BURST], in_payload[BURST];

/* Frame i from a record; seq and id per flow carry on between records. */
static void build(unsigned i, const uint8_t *rec, uint32_t *seq, uint16_t *id)
{
	unsigned flow = rec[0] & 3, len = ((unsigned)rec[1] << 8 | rec[2]) % 1460 + 1;
	bool udp = rec[0] & 4, jump = rec[0] & 8, psh = rec[0] & 16, partial = rec[0] & 32;
	size_t l4h = udp ? 8 : 20, tot = 20 + l4h + len;
	uint8_t *f = bufs[i], *ip = f + VH, *l4 = ip + 20;

	memset(f, 0, VH + tot);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, jump ? (uint16_t)(*id + 7) : *id);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = udp ? IPPROTO_UDP : IPPROTO_TCP;
	memcpy(ip + 12, (const uint8_t[]){192, 168, 1, 10, 198, 51, 100, 7}, 8);
	put16(l4, (uint16_t)(4000 + flow));
	put16(l4 + 2, 443);
	if (udp) {
		put16(l4 + 4, (uint16_t)(l4h + len));
	} else {
		put32(l4 + 4, *seq + (jump ? 99u : 0));
		l4[12] = 0x50;
		l4[13] = psh ? 0x18 : 0x10;
		put16(l4 + 14, 65535);
	}
	for (unsigned b = 0; b < len; b++)
		l4[l4h + b] = (uint8_t)(b * 13 + i);
	/* A partial checksum's field is rewritten when merged, whatever it holds. */
	pb_fix_l4_csum(ip);
	pb_fix_ip_csum(ip);
	if (partial) {
		f[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		f[6] = 20;
		f[8] = udp ? 6 : 16;
	}
	if (rec[0] & 64)
		ip[rec[3] % tot] ^= (uint8_t)(rec[0] | 1);
	*seq = (jump ? *seq + 99 : *seq) + len;
	*id = (uint16_t)((jump ? *id + 7 : *id) + 1);
	in_len[i] = VH + tot;
	in_payload[i] = len;
	frames[i].buf = f;
	frames[i].len = in_len[i];
	memcpy(copies[i], f, in_len[i]);
}

static void check(unsigned n)
{
	size_t gained = 0, lost = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *ip = bufs[i] + VH;

		if (frames[i].len > VH + TUN_PACKET_MAX)
			abort();
		if (frames[i].len == 0) {
			lost += in_payload[i];
		} else if (frames[i].len == in_len[i]) {
			if (memcmp(bufs[i], copies[i], in_len[i]) != 0)
				abort();
		} else if (frames[i].len < in_len[i] || bufs[i][1] == VIRTIO_NET_HDR_GSO_NONE ||
			   pb_checksum(ip, 20) != 0 || get16(ip + 2) != frames[i].len - VH) {
			abort();
		} else {
			gained += frames[i].len - in_len[i];
		}
	}
	if (gained != lost)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seq[4] = {1000, 2000, 3000, 4000};
	uint16_t id[4] = {1, 2, 3, 4};
	bool udp = size && (data[0] & 128); /* USO granted */
	unsigned n = 0;

	for (; size >= 4 && n < BURST; data += 4, size -= 4, n++)
		build(n, data, &seq[data[0] & 3], &id[data[0] & 3]);
	tun_coalesce(frames, n, udp);
	check(n);
	return 0;
}
