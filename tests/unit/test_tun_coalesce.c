/* SPDX-License-Identifier: BSD-2-Clause */
/* test_tun_coalesce - the write-side coalescer (tun_coalesce.h) against the kernel's GSO as
 * documented: a merged frame, cut the way tcp_gso_segment and __udp_gso_segment cut one
 * (each segment gets the head's headers, gso_size bytes of payload, an IP ID one above the
 * previous, the sequence number of its first byte, PSH only on the last, whole checksums),
 * must give back exactly the segments that went in, in their order. The cutting and every
 * checksum here come from the tests' own code (packet_builder.c), not from the daemon's.
 *
 * Bursts of mixed flows (TCP, UDP) are fed in random orders, with segments dropped and
 * duplicated; every segment that breaks a rule of tun_coalesce.c is shown to stay alone.
 */
#include <check.h>
#include <endian.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4_packet.h"
#include "packet_builder.h"
#include "tun_coalesce.h"
#include "tun_device.h"
#include "unit_run.h"

#define VH       sizeof(struct virtio_net_hdr)
#define MAXF     64
#define MSS      1000
#define FLOWS    4
#define DF       0x4000
#define OPTS_LEN 12 /* NOP, NOP, timestamps (RFC 7323) */

static uint8_t frames_buf[MAXF][TUN_FRAME_MAX];
static struct tun_frame frames[MAXF];
static uint8_t orig[MAXF][PB_MAX];
static size_t orig_len[MAXF];
static uint64_t rng = 0x2545f4914f6cdd1dull;
static unsigned stride = MSS; /* sequence numbers per segment number */

static unsigned next_random(unsigned bound)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng >> 33) % bound);
}

/* Flow f: even flows TCP, odd UDP, each from its own inside port. */
static uint8_t flow_proto(unsigned f)
{
	return f % 2 ? IPPROTO_UDP : IPPROTO_TCP;
}

/* The payload byte at stream offset x of flow f: a pattern no shift of it repeats. */
static uint8_t stream_byte(unsigned f, uint32_t x)
{
	return (uint8_t)(x * 7 + x / 251 + f * 31);
}

/* Segment k of flow f (payload len, TCP flags), in orig[slot]: IP ID 100 + k, DF set,
 * sequence number 5000 + k * stride, ACK 777, timestamps option when opts. */
static void make_segment(unsigned slot, unsigned f, unsigned k, uint16_t len, uint8_t flags,
			 bool opts)
{
	struct pb_spec s =
	    pb_flow(flow_proto(f), "192.168.1.10", (uint16_t)(4000 + f), "198.51.100.7", 443);
	uint8_t *ip = orig[slot], *l4 = ip + IPV4_MIN_HDR;
	size_t hdr = flow_proto(f) == IPPROTO_TCP ? TCP_MIN_HDR : UDP_HDR;

	s.payload_len = (uint16_t)(len + (opts ? OPTS_LEN : 0));
	s.tcp_flags = flags;
	s.ip_id = (uint16_t)(100 + k);
	s.frag = DF;
	orig_len[slot] = pb_build(ip, &s);
	if (flow_proto(f) == IPPROTO_TCP) {
		put32(l4 + 4, 5000 + k * stride);
		put32(l4 + 8, 777);
		if (opts) {
			static const uint8_t ts[OPTS_LEN] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3};

			memcpy(l4 + TCP_MIN_HDR, ts, OPTS_LEN);
			l4[12] = (TCP_MIN_HDR + OPTS_LEN) / 4 << 4;
			hdr += OPTS_LEN;
		}
	}
	for (size_t i = 0; i < len; i++)
		l4[hdr + i] = stream_byte(f, k * stride + (uint32_t)i);
	pb_fix_l4_csum(ip);
	pb_fix_ip_csum(ip);
}

/* Frame i holds orig[i] behind an all-zero virtio_net_hdr, as naptd reads it without a
 * partial checksum. */
static void load(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		frames[i].buf = frames_buf[i];
		memset(frames_buf[i], 0, VH);
		memcpy(frames_buf[i] + VH, orig[i], orig_len[i]);
		frames[i].len = VH + orig_len[i];
	}
}

/* The kernel's cut of a GSO frame into segment j (see the file comment); returns its
 * length in out, 0 past the last. */
static size_t cut(const struct tun_frame *f, unsigned j, uint8_t *out)
{
	struct virtio_net_hdr vh;
	const uint8_t *ip = f->buf + VH;
	size_t len = f->len - VH, hdr, gso, total, off, n;
	bool tcp = ip[9] == IPPROTO_TCP;

	memcpy(&vh, f->buf, VH);
	hdr = le16toh(vh.hdr_len);
	gso = le16toh(vh.gso_size);
	total = len - hdr;
	off = (size_t)j * gso;
	if (off >= total)
		return 0;
	n = total - off < gso ? total - off : gso;
	memcpy(out, ip, hdr);
	memcpy(out + hdr, ip + hdr + off, n);
	put16(out + 2, (uint16_t)(hdr + n));
	put16(out + 4, (uint16_t)(get16(ip + 4) + j));
	if (tcp) {
		put32(out + IPV4_MIN_HDR + 4, get32(ip + IPV4_MIN_HDR + 4) + (uint32_t)off);
		if (off + n < total)
			out[IPV4_MIN_HDR + 13] &= (uint8_t)~0x08;
	} else {
		put16(out + IPV4_MIN_HDR + 4, (uint16_t)(UDP_HDR + n));
	}
	pb_fix_l4_csum(out);
	pb_fix_ip_csum(out);
	return hdr + n;
}

/* A merged frame's header and partial checksum as the kernel takes them: NEEDS_CSUM at the
 * transport checksum, whose field completed over the whole transport part gives the
 * checksum of the whole; a valid IP header for the whole length. */
static void check_gso_frame(const struct tun_frame *f)
{
	struct virtio_net_hdr vh;
	uint8_t whole[TUN_PACKET_MAX];
	const uint8_t *ip = f->buf + VH;
	size_t len = f->len - VH;
	bool tcp = ip[9] == IPPROTO_TCP;
	unsigned field = IPV4_MIN_HDR + (tcp ? TCP_OFF_CSUM : UDP_OFF_CSUM);

	memcpy(&vh, f->buf, VH);
	ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(vh.gso_type, tcp ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_UDP_L4);
	ck_assert_uint_eq(le16toh(vh.csum_start), IPV4_MIN_HDR);
	ck_assert_uint_eq(le16toh(vh.csum_offset), field - IPV4_MIN_HDR);
	ck_assert_uint_eq(get16(ip + 2), len);
	ck_assert_uint_eq(pb_checksum(ip, IPV4_MIN_HDR), 0);
	/* Completing the partial sum: ~(sum over the transport part, field included). */
	memcpy(whole, ip, len);
	put16(whole + field, pb_checksum(ip + IPV4_MIN_HDR, len - IPV4_MIN_HDR));
	ck_assert_uint_eq(get16(whole + field), pb_l4_checksum(whole));
}

/* Everything written (frames of non-zero length, each GSO one cut) must be, per flow, the
 * segments given in their order; returns how many GSO frames there were. */
static unsigned check_written(unsigned n, const unsigned *flow_of)
{
	unsigned next[MAXF] = {0}, slot_of[FLOWS][MAXF], count[FLOWS] = {0}, gso = 0;
	uint8_t seg[TUN_PACKET_MAX];

	for (unsigned i = 0; i < n; i++)
		slot_of[flow_of[i]][count[flow_of[i]]++] = i;
	for (unsigned i = 0; i < n; i++) {
		struct virtio_net_hdr vh;
		unsigned f = flow_of[i];
		size_t len;

		if (!frames[i].len)
			continue;
		memcpy(&vh, frames[i].buf, VH);
		if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
			unsigned s = slot_of[f][next[f]++];

			ck_assert_uint_eq(frames[i].len - VH, orig_len[s]);
			ck_assert_mem_eq(frames[i].buf + VH, orig[s], orig_len[s]);
			continue;
		}
		check_gso_frame(&frames[i]);
		gso++;
		for (unsigned j = 0; (len = cut(&frames[i], j, seg)) > 0; j++) {
			unsigned s = slot_of[f][next[f]++];

			ck_assert_uint_eq(len, orig_len[s]);
			ck_assert_mem_eq(seg, orig[s], len);
		}
	}
	for (unsigned f = 0; f < FLOWS; f++)
		ck_assert_uint_eq(next[f], count[f]);
	return gso;
}

START_TEST(one_flow_in_order)
{
	unsigned flow_of[10] = {0};

	for (unsigned k = 0; k < 10; k++)
		make_segment(k, 0, k, k == 9 ? 300 : MSS, k == 9 ? 0x18 : 0x10, true);
	load(10);
	ck_assert_uint_eq(tun_coalesce(frames, 10, true), 9);
	ck_assert_uint_eq(check_written(10, flow_of), 1);
	ck_assert_uint_eq(frames[0].len,
			  VH + IPV4_MIN_HDR + TCP_MIN_HDR + OPTS_LEN + 9 * MSS + 300);
}
END_TEST

/* Random bursts of four flows, two TCP and two UDP: each flow's segments mostly in order,
 * some swapped, some missing (loss upstream), some repeated (a retransmission). */
START_TEST(mixed_reordered_bursts)
{
	unsigned merged_total = 0, gso_total = 0;

	for (unsigned round = 0; round < 2000; round++) {
		unsigned flow_of[MAXF], k_next[FLOWS] = {0}, n = 8 + next_random(MAXF - 8);
		bool udp = round % 4 != 3;

		for (unsigned i = 0; i < n; i++) {
			unsigned f = next_random(FLOWS), k = k_next[f], r = next_random(16);

			if (r == 0 && k > 1)
				k -= 2; /* repeated or out of order */
			else if (r == 1)
				k++; /* one lost */
			k_next[f] = k + 1;
			flow_of[i] = f;
			make_segment(i, f, k, r == 2 ? 500 : MSS, r == 3 ? 0x18 : 0x10, f == 0);
		}
		load(n);
		merged_total += tun_coalesce(frames, n, udp);
		gso_total += check_written(n, flow_of);
	}
	/* The rounds did merge (a test of nothing merged would pass on a no-op). */
	ck_assert_uint_gt(merged_total, 20000);
	ck_assert_uint_gt(gso_total, 2000);
}
END_TEST

/* Segment 1 of three changed so that it may not join segment 0; segment 2 (as made) then
 * continues neither: nothing merges and every frame is written as it came. */
static void ip_options(unsigned slot) /* 4 NOPs behind the header */
{
	uint8_t *ip = orig[slot];

	memmove(ip + IPV4_MIN_HDR + 4, ip + IPV4_MIN_HDR, orig_len[slot] - IPV4_MIN_HDR);
	memset(ip + IPV4_MIN_HDR, 1, 4);
	ip[0] = 0x46;
	orig_len[slot] += 4;
	put16(ip + 2, (uint16_t)orig_len[slot]);
}
static void set_mf(unsigned slot)
{
	put16(orig[slot] + 6, DF | 0x2000);
}
static void set_ttl(unsigned slot)
{
	orig[slot][8]--;
}
static void set_tos(unsigned slot)
{
	orig[slot][1] = 0x03; /* ECN CE */
}
static void clear_df(unsigned slot)
{
	put16(orig[slot] + 6, 0);
}
static void other_id(unsigned slot)
{
	put16(orig[slot] + 4, 105);
}
static void set_fin(unsigned slot)
{
	orig[slot][IPV4_MIN_HDR + 13] |= TCP_FIN;
}
static void set_urg(unsigned slot)
{
	orig[slot][IPV4_MIN_HDR + 13] |= 0x20;
}
static void set_cwr(unsigned slot)
{
	orig[slot][IPV4_MIN_HDR + 13] |= 0x80;
}
static void other_ack(unsigned slot)
{
	put32(orig[slot] + IPV4_MIN_HDR + 8, 778);
}
static void other_window(unsigned slot)
{
	put16(orig[slot] + IPV4_MIN_HDR + 14, 1000);
}
static void other_option(unsigned slot)
{
	orig[slot][IPV4_MIN_HDR + TCP_MIN_HDR + 7] = 10; /* TSval */
}
static void sequence_gap(unsigned slot)
{
	put32(orig[slot] + IPV4_MIN_HDR + 4, 5000 + 2 * MSS);
}
/* A flipped payload bit; the checksum is not fixed after it (rule_breakers_stay_alone). */
static void bad_checksum(unsigned slot)
{
	orig[slot][IPV4_MIN_HDR + TCP_MIN_HDR + OPTS_LEN + 5] ^= 1;
}

static const struct mutation {
	const char *name;
	void (*apply)(unsigned slot);
} mutations[] = {
    {"IP options", ip_options},
    {"more fragments", set_mf},
    {"TTL", set_ttl},
    {"TOS", set_tos},
    {"DF", clear_df},
    {"IP ID", other_id},
    {"FIN", set_fin},
    {"URG", set_urg},
    {"CWR", set_cwr},
    {"acknowledgment", other_ack},
    {"window", other_window},
    {"options", other_option},
    {"sequence gap", sequence_gap},
    {"bad checksum", bad_checksum},
};

START_TEST(rule_breakers_stay_alone)
{
	const struct mutation *m = &mutations[_i];
	unsigned flow_of[3] = {0};

	for (unsigned k = 0; k < 3; k++)
		make_segment(k, 0, k, MSS, 0x10, true);
	m->apply(1);
	if (m->apply != bad_checksum)
		pb_fix_l4_csum(orig[1]);
	pb_fix_ip_csum(orig[1]);
	load(3);
	ck_assert_msg(tun_coalesce(frames, 3, true) == 0, "%s: merged", m->name);
	check_written(3, flow_of);
	/* The same three unchanged do merge. */
	for (unsigned k = 0; k < 3; k++)
		make_segment(k, 0, k, MSS, 0x10, true);
	load(3);
	ck_assert_uint_eq(tun_coalesce(frames, 3, true), 2);
}
END_TEST

/* What ends a run without breaking it: PSH and a short segment are the run's last; the
 * next one starts a run of its own. Without DF the IDs must follow one another. */
START_TEST(run_ends)
{
	unsigned flow_of[6] = {0};

	make_segment(0, 0, 0, MSS, 0x18, false); /* PSH: alone */
	make_segment(1, 0, 1, MSS, 0x10, false);
	make_segment(2, 0, 2, 400, 0x10, false); /* short: joins, ends the run */
	/* 3 continues the stream but not the short run: a run with 4 */
	make_segment(3, 0, 2, MSS, 0x10, false);
	put32(orig[3] + IPV4_MIN_HDR + 4, 5000 + 2 * MSS + 400);
	make_segment(4, 0, 3, MSS, 0x10, false);
	put32(orig[4] + IPV4_MIN_HDR + 4, 5000 + 3 * MSS + 400);
	pb_fix_l4_csum(orig[3]);
	pb_fix_l4_csum(orig[4]);
	make_segment(5, 1, 0, MSS, 0, false); /* another flow between: no effect */
	flow_of[5] = 1;
	load(6);
	ck_assert_uint_eq(tun_coalesce(frames, 6, true), 2);
	ck_assert_uint_eq(check_written(6, flow_of), 2);
	ck_assert_uint_eq(frames[0].len, VH + orig_len[0]);
	ck_assert_uint_eq(frames[3].len, VH + orig_len[3] + MSS);
}
END_TEST

/* A run stops short of 64 KB: 64 segments of 1400 bytes become two GSO packets of 46
 * and 18 (47 would make 65,840 bytes); 64 of 1000 one packet (TUN_COALESCE_MAX_SEGS). */
START_TEST(size_bound)
{
	unsigned flow_of[MAXF] = {0};

	stride = 1400;
	for (unsigned k = 0; k < MAXF; k++)
		make_segment(k, 0, k, (uint16_t)stride, 0x10, false);
	stride = MSS;
	load(MAXF);
	ck_assert_uint_eq(tun_coalesce(frames, MAXF, true), MAXF - 2);
	ck_assert_uint_eq(check_written(MAXF, flow_of), 2);
	ck_assert_uint_eq(frames[0].len, VH + IPV4_MIN_HDR + TCP_MIN_HDR + 46 * 1400);
	for (unsigned k = 0; k < MAXF; k++)
		make_segment(k, 0, k, MSS, 0x10, false);
	load(MAXF);
	ck_assert_uint_eq(tun_coalesce(frames, MAXF, true), MAXF - 1);
	ck_assert_uint_eq(check_written(MAXF, flow_of), 1);
}
END_TEST

/* What merges only where it may: UDP without USO, a UDP datagram without a checksum, a
 * frame that already is a GSO packet, a partial checksum (taken as good unchecked). */
START_TEST(udp_and_headers)
{
	unsigned flow_of[3] = {1, 1, 1};
	struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .csum_start = htole16(IPV4_MIN_HDR),
				    .csum_offset = htole16(UDP_OFF_CSUM)};

	for (unsigned k = 0; k < 3; k++)
		make_segment(k, 1, k, MSS, 0, false);
	load(3);
	ck_assert_uint_eq(tun_coalesce(frames, 3, false), 0);
	load(3);
	ck_assert_uint_eq(tun_coalesce(frames, 3, true), 2);
	check_written(3, flow_of);
	put16(orig[1] + IPV4_MIN_HDR + UDP_OFF_CSUM, 0);
	load(3);
	ck_assert_uint_eq(tun_coalesce(frames, 3, true), 0);
	check_written(3, flow_of);
	/* Datagram 1 arrives with a partial checksum (any value in the field). */
	make_segment(1, 1, 1, MSS, 0, false);
	load(3);
	memcpy(frames[1].buf, &vh, VH);
	put16(frames[1].buf + VH + IPV4_MIN_HDR + UDP_OFF_CSUM, 0x1111);
	ck_assert_uint_eq(tun_coalesce(frames, 3, true), 2);
	check_gso_frame(&frames[0]);
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	load(3);
	memcpy(frames[1].buf, &vh, VH);
	ck_assert_uint_eq(tun_coalesce(frames, 3, true), 0);
}
END_TEST

/* Garbage is left alone and never read past its length. */
START_TEST(garbage)
{
	for (unsigned round = 0; round < 20000; round++) {
		unsigned n = 1 + next_random(8);

		for (unsigned i = 0; i < n; i++) {
			make_segment(i, 0, i, MSS, 0x10, false);
			orig_len[i] = next_random(60);
			for (unsigned b = 0; b < 8; b++)
				orig[i][next_random((unsigned)orig_len[i] + 1)] ^=
				    (uint8_t)next_random(256);
		}
		load(n);
		tun_coalesce(frames, n, true);
		for (unsigned i = 0; i < n; i++)
			ck_assert_uint_le(frames[i].len, VH + TUN_PACKET_MAX);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tun_coalesce");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, one_flow_in_order);
	tcase_add_test(tc, mixed_reordered_bursts);
	tcase_add_loop_test(tc, rule_breakers_stay_alone, 0,
			    (int)(sizeof(mutations) / sizeof(mutations[0])));
	tcase_add_test(tc, run_ends);
	tcase_add_test(tc, size_bound);
	tcase_add_test(tc, udp_and_headers);
	tcase_add_test(tc, garbage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
