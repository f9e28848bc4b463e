/* SPDX-License-Identifier: BSD-2-Clause */
/* tun_coalesce.c - merge the alike TCP segments and UDP datagrams of a flow in a burst into
 * one GSO packet (tun_coalesce.h).
 *
 * What qualifies is what the kernel's GSO turns back into the very segments that went in
 * (tcp_gso_segment, __udp_gso_segment: each gets the head's headers, its share of the
 * payload, a length, an IP ID one above the previous one and fresh checksums), so a segment
 * joins the run of its flow only when it differs from the run's first in nothing else:
 *  - IPv4 without options, not a fragment (RFC 791 3.1), same TOS, TTL and DF, an ID one
 *    above the previous one (GSO numbers the segments so; with DF the ID means nothing,
 *    RFC 6864 4.1, but Linux senders count up per flow, and the kernel's GRO asks the same);
 *  - TCP with ACK or ACK|PSH only (SYN, FIN, RST, URG, ECE, CWR each mean something for one
 *    segment), the same acknowledgment, window and options (RFC 9293 3.1), and a sequence
 *    number that continues the run; PSH ends the run, since GSO sets it on the last segment
 *    only (as the kernel's own GRO, tcp_gro_receive, does);
 *  - UDP with a checksum (RFC 768: zero is none, and a USO packet gets one computed);
 *  - a payload no longer than the first's (the GSO size), and a shorter one ends the run;
 *  - a checksum known good: partial (NEEDS_CSUM), checked by the kernel before the read
 *    (DATA_VALID), or checked here. The merged packet gets a new checksum over all the data,
 *    which would hide a segment damaged on the way in from the receiver.
 * A segment of a flow that does not join ends its run (nothing of a flow is ever moved past
 * another packet of it), and so does any other packet between the same two hosts with the
 * same protocol (a fragment, a FIN): per flow, the order written is the order read.
 */
#include <endian.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "checksum.h"
#include "ipv4_packet.h"
#include "tun_coalesce.h"
#include "tun_device.h"

#define VNET_HDR    sizeof(struct virtio_net_hdr)
#define TCP_PSH     0x08
#define TCP_OFF_WIN 14

/* What one packet is, as far as merging goes. */
struct segment {
	uint8_t *ip;
	size_t len;     /* the IPv4 packet */
	size_t l4_hdr;  /* TCP header with options, or UDP's 8 */
	size_t payload; /* bytes after the transport header */
	bool joinable;  /* qualifies as a member of a run (file comment) */
};

/* A run of one flow: its first segment's frame holds them all. */
struct run {
	unsigned head;     /* index of that frame */
	uint32_t next_seq; /* TCP: the sequence number that continues the run */
	uint16_t next_id;  /* the IP ID the next segment must have */
	size_t gso_size;   /* the first segment's payload */
	unsigned segs;
	bool open;
};

/* The pseudo-header sum (RFC 9293 3.1, RFC 768) over the packet's addresses and protocol
 * and an l4_len, as stored (not byte-swapped). */
static uint16_t pseudo_sum(const uint8_t *ip, size_t l4_len)
{
	uint8_t ph[12];

	memcpy(ph, ip + IP_OFF_SRC, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	put16(ph + 10, (uint16_t)l4_len);
	return csum_sum_as_stored(ph, sizeof(ph));
}

static bool l4_csum_good(const struct virtio_net_hdr *vh, const uint8_t *ip, size_t len)
{
	uint32_t sum;

	if (vh->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return true;
	sum = (uint32_t)pseudo_sum(ip, len - IPV4_MIN_HDR) +
	      csum_sum_as_stored(ip + IPV4_MIN_HDR, len - IPV4_MIN_HDR);
	return csum_fold(sum) == 0xffff;
}

/* The transport part of a packet known to be an unfragmented option-less IPv4 one. */
static bool l4_joinable(struct segment *s)
{
	const uint8_t *l4 = s->ip + IPV4_MIN_HDR;
	size_t l4_len = s->len - IPV4_MIN_HDR;

	if (s->ip[9] == IPPROTO_TCP) {
		s->l4_hdr = l4_len >= TCP_MIN_HDR ? (size_t)(l4[12] >> 4) * 4 : 0;
		return s->l4_hdr >= TCP_MIN_HDR && s->l4_hdr < l4_len &&
		       (l4[13] == TCP_ACK || l4[13] == (TCP_ACK | TCP_PSH));
	}
	s->l4_hdr = UDP_HDR;
	return s->ip[9] == IPPROTO_UDP && l4_len > UDP_HDR && get16(l4 + 4) == l4_len &&
	       get16(l4 + UDP_OFF_CSUM) != 0;
}

/* Whether the frame is a packet of a flow at all (an IPv4 header whose protocol and
 * addresses can be compared), and whether it qualifies to be merged. */
static bool segment_parse(const struct tun_frame *f, struct segment *s)
{
	struct virtio_net_hdr vh;

	s->joinable = false;
	if (f->len < VNET_HDR + IPV4_MIN_HDR)
		return false;
	s->ip = f->buf + VNET_HDR;
	s->len = f->len - VNET_HDR;
	if (s->ip[0] >> 4 != 4)
		return false;
	memcpy(&vh, f->buf, sizeof(vh));
	s->joinable = vh.gso_type == VIRTIO_NET_HDR_GSO_NONE && s->ip[0] == 0x45 &&
		      get16(s->ip + 2) == s->len && (get16(s->ip + 6) & 0x3fff) == 0 &&
		      l4_joinable(s) && l4_csum_good(&vh, s->ip, s->len);
	s->payload = s->joinable ? s->len - IPV4_MIN_HDR - s->l4_hdr : 0;
	return true;
}

static bool same_hosts(const uint8_t *a, const uint8_t *b)
{
	return a[9] == b[9] && memcmp(a + IP_OFF_SRC, b + IP_OFF_SRC, 8) == 0;
}

static uint8_t *frame_ip(const struct tun_frame *frames, const struct run *r)
{
	return frames[r->head].buf + VNET_HDR;
}

/* The open run of the segment's flow (same hosts, protocol and ports), if any. */
static struct run *run_of(const struct tun_frame *frames, struct run *runs, unsigned n_runs,
			  const struct segment *s)
{
	for (unsigned i = 0; i < n_runs; i++) {
		const uint8_t *h = frame_ip(frames, &runs[i]);

		if (runs[i].open && same_hosts(h, s->ip) &&
		    memcmp(h + IPV4_MIN_HDR, s->ip + IPV4_MIN_HDR, 4) == 0)
			return &runs[i];
	}
	return NULL;
}

/* A packet that may not join closes every run between its two hosts in its protocol. */
static void close_runs(const struct tun_frame *frames, struct run *runs, unsigned n_runs,
		       const uint8_t *ip)
{
	for (unsigned i = 0; i < n_runs; i++)
		if (same_hosts(frame_ip(frames, &runs[i]), ip))
			runs[i].open = false;
}

/* The headers that every segment of the run repeats (file comment). */
static bool headers_match(const uint8_t *h, const struct segment *s, const struct run *r)
{
	const uint8_t *hl4 = h + IPV4_MIN_HDR, *sl4 = s->ip + IPV4_MIN_HDR;
	if (h[1] != s->ip[1] || h[8] != s->ip[8] || get16(h + 6) != get16(s->ip + 6) ||
	    get16(s->ip + 4) != r->next_id)
		return false;
	if (h[9] == IPPROTO_UDP)
		return true;
	/* Acknowledgment, data offset, window; then the options. */
	return get32(sl4 + 4) == r->next_seq && memcmp(hl4 + 8, sl4 + 8, 5) == 0 &&
	       memcmp(hl4 + TCP_OFF_WIN, sl4 + TCP_OFF_WIN, 2) == 0 &&
	       memcmp(hl4 + TCP_MIN_HDR, sl4 + TCP_MIN_HDR, s->l4_hdr - TCP_MIN_HDR) == 0;
}

static bool can_join(const struct tun_frame *frames, const struct run *r, const struct segment *s)
{
	return s->payload <= r->gso_size && r->segs < TUN_COALESCE_MAX_SEGS &&
	       frames[r->head].len + s->payload <= VNET_HDR + TUN_PACKET_MAX &&
	       headers_match(frame_ip(frames, r), s, r);
}

static void run_start(struct run *r, unsigned head, const struct segment *s)
{
	bool tcp = s->ip[9] == IPPROTO_TCP;

	r->head = head;
	r->next_seq = tcp ? get32(s->ip + IPV4_MIN_HDR + 4) + (uint32_t)s->payload : 0;
	r->next_id = (uint16_t)(get16(s->ip + 4) + 1);
	r->gso_size = s->payload;
	r->segs = 1;
	r->open = !tcp || !(s->ip[IPV4_MIN_HDR + 13] & TCP_PSH);
}

/* The segment's payload appended to the run's frame; PSH, on the last, moves with it. */
static void run_append(struct tun_frame *frames, struct run *r, struct tun_frame *f,
		       const struct segment *s)
{
	struct tun_frame *h = &frames[r->head];
	uint8_t *hip = h->buf + VNET_HDR;

	memcpy(h->buf + h->len, s->ip + s->len - s->payload, s->payload);
	h->len += s->payload;
	f->len = 0;
	r->segs++;
	r->next_seq += (uint32_t)s->payload;
	r->next_id++;
	if (hip[9] == IPPROTO_TCP && (s->ip[IPV4_MIN_HDR + 13] & TCP_PSH)) {
		hip[IPV4_MIN_HDR + 13] |= TCP_PSH;
		r->open = false;
	}
	if (s->payload < r->gso_size)
		r->open = false;
}

/* The run's frame made one GSO packet: IP length and header checksum for the whole, the
 * transport checksum partial (the pseudo-header sum over the whole length, which GSO
 * adjusts for each segment), the virtio_net_hdr saying how to cut it. */
static void run_finish(struct tun_frame *frames, const struct run *r)
{
	struct tun_frame *h = &frames[r->head];
	uint8_t *ip = h->buf + VNET_HDR, *l4 = ip + IPV4_MIN_HDR;
	size_t len = h->len - VNET_HDR, l4_len = len - IPV4_MIN_HDR;
	bool tcp = ip[9] == IPPROTO_TCP;
	uint16_t ip_sum, l4_sum = pseudo_sum(ip, l4_len);
	size_t l4_hdr = tcp ? (size_t)(l4[12] >> 4) * 4 : UDP_HDR;
	struct virtio_net_hdr vh = {
	    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    .gso_type = tcp ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_UDP_L4,
	    .hdr_len = htole16((uint16_t)(IPV4_MIN_HDR + l4_hdr)),
	    .gso_size = htole16((uint16_t)r->gso_size),
	    .csum_start = htole16(IPV4_MIN_HDR),
	    .csum_offset = htole16(tcp ? TCP_OFF_CSUM : UDP_OFF_CSUM),
	};

	put16(ip + 2, (uint16_t)len);
	memset(ip + IP_OFF_CSUM, 0, 2);
	ip_sum = csum_buffer(ip, IPV4_MIN_HDR);
	memcpy(ip + IP_OFF_CSUM, &ip_sum, 2);
	if (!tcp)
		put16(l4 + 4, (uint16_t)l4_len);
	memcpy(l4 + (tcp ? TCP_OFF_CSUM : UDP_OFF_CSUM), &l4_sum, 2);
	memcpy(h->buf, &vh, sizeof(vh));
}

unsigned tun_coalesce(struct tun_frame *frames, unsigned n, bool udp)
{
	struct run runs[TUN_COALESCE_MAX_RUNS];
	unsigned n_runs = 0, merged = 0;

	for (unsigned i = 0; i < n; i++) {
		struct segment s;
		struct run *r;

		if (!segment_parse(&frames[i], &s))
			continue;
		if (!s.joinable || (s.ip[9] == IPPROTO_UDP && !udp)) {
			close_runs(frames, runs, n_runs, s.ip);
			continue;
		}
		r = run_of(frames, runs, n_runs, &s);
		if (r && can_join(frames, r, &s)) {
			run_append(frames, r, &frames[i], &s);
			merged++;
			continue;
		}
		if (r)
			r->open = false;
		if (n_runs < TUN_COALESCE_MAX_RUNS)
			run_start(&runs[n_runs++], i, &s);
	}
	for (unsigned i = 0; i < n_runs; i++)
		if (runs[i].segs > 1)
			run_finish(frames, &runs[i]);
	return merged;
}
