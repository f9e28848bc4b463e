/* SPDX-License-Identifier: BSD-2-Clause */
/* packet_builder.c - test packets and an Internet checksum independent of the engine's. */
#include "packet_builder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4_packet.h"

/* RFC 1071 section 4.1, written apart from src/libnapt/checksum.c on purpose: a 64-bit
 * accumulator of big-endian words, folded until no carry is left. */
static uint64_t sum_words(uint64_t acc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint64_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint64_t)p[len - 1] << 8;
	return acc;
}

static uint16_t finish(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

uint16_t pb_checksum(const void *data, size_t len)
{
	return finish(sum_words(0, data, len));
}

uint32_t pb_addr(const char *dotted)
{
	struct in_addr a;

	if (inet_pton(AF_INET, dotted, &a) != 1)
		abort();
	return a.s_addr;
}

struct pb_spec pb_flow(uint8_t proto, const char *src, uint16_t sport, const char *dst,
		       uint16_t dport)
{
	return (struct pb_spec){.proto = proto,
				.src = pb_addr(src),
				.dst = pb_addr(dst),
				.sport = sport,
				.dport = dport,
				.tcp_flags = TCP_SYN,
				.icmp_type = ICMP_ECHO,
				.payload_len = 12,
				.ip_id = 0x4242};
}

static size_t ihl_of(const uint8_t *ip)
{
	return (size_t)(ip[0] & 0x0f) * 4;
}

static size_t l4_csum_field(uint8_t proto)
{
	return proto == IPPROTO_TCP   ? TCP_OFF_CSUM
	       : proto == IPPROTO_UDP ? UDP_OFF_CSUM
				      : ICMP_OFF_CSUM;
}

/* The checksum of p[0..len) with the (even-offset) checksum field taken as zero. */
static uint16_t sum_without_field(uint64_t acc, const uint8_t *p, size_t len, size_t field)
{
	acc = sum_words(acc, p, field);
	return finish(sum_words(acc, p + field + 2, len - field - 2));
}

uint16_t pb_l4_checksum(const uint8_t *ip)
{
	size_t ihl = ihl_of(ip);
	size_t n = get16(ip + 2) - ihl;
	uint8_t proto = ip[9];
	uint64_t pseudo = 0;
	uint16_t c;

	if (proto != IPPROTO_ICMP) {
		/* RFC 793 / RFC 768 pseudo-header: addresses, protocol, transport length. */
		pseudo = sum_words(0, ip + IP_OFF_SRC, 8);
		pseudo += proto + n;
	}
	c = sum_without_field(pseudo, ip + ihl, n, l4_csum_field(proto));
	return proto == IPPROTO_UDP && c == 0 ? 0xffff : c;
}

void pb_fix_ip_csum(uint8_t *ip)
{
	put16(ip + IP_OFF_CSUM, sum_without_field(0, ip, ihl_of(ip), IP_OFF_CSUM));
}

void pb_fix_l4_csum(uint8_t *ip)
{
	put16(ip + ihl_of(ip) + l4_csum_field(ip[9]), pb_l4_checksum(ip));
}

/* ---- building ---- */

static size_t l4_len(const struct pb_spec *s)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		return TCP_MIN_HDR + s->payload_len;
	case IPPROTO_UDP:
		return UDP_HDR + s->payload_len;
	case IPPROTO_ICMP:
		return ICMP_HDR + (icmp_is_error(s->icmp_type) ? s->quote_len : s->payload_len);
	default:
		return s->payload_len;
	}
}

static void put_ip_header(uint8_t *ip, const struct pb_spec *s, size_t tot_len)
{
	size_t ihl = IPV4_MIN_HDR + s->opt_len;

	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put16(ip + 2, (uint16_t)tot_len);
	put16(ip + 4, s->ip_id);
	put16(ip + 6, s->frag);
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = s->proto;
	memcpy(ip + IP_OFF_SRC, &s->src, 4);
	memcpy(ip + IP_OFF_DST, &s->dst, 4);
	/* Options: NOPs closed by an end-of-list byte (RFC 791), so they count in the sum. */
	memset(ip + IPV4_MIN_HDR, 1, s->opt_len);
	if (s->opt_len)
		ip[ihl - 1] = 0;
}

static void put_l4_header(uint8_t *l4, const struct pb_spec *s, size_t len)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, 0x1234); /* sequence and ack numbers: arbitrary but fixed */
		put16(l4 + 10, 0x5678);
		l4[12] = (TCP_MIN_HDR / 4) << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, (uint16_t)len);
		break;
	case IPPROTO_ICMP:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		if (icmp_is_error(s->icmp_type)) {
			put16(l4 + 6, s->mtu);
			memcpy(l4 + ICMP_HDR, s->quote, s->quote_len);
		} else {
			put16(l4 + ICMP_OFF_ID, s->sport);
			put16(l4 + 6, 1);
		}
		break;
	default:
		break;
	}
}

size_t pb_build(uint8_t *buf, const struct pb_spec *s)
{
	size_t ihl = IPV4_MIN_HDR + s->opt_len;
	size_t n = l4_len(s);
	size_t hdr =
	    n - (s->proto == IPPROTO_ICMP && icmp_is_error(s->icmp_type) ? 0 : s->payload_len);

	if (ihl + n > PB_MAX || s->opt_len % 4 || s->opt_len > 40)
		abort();
	memset(buf, 0, ihl + n);
	put_ip_header(buf, s, ihl + n);
	put_l4_header(buf + ihl, s, n);
	for (size_t i = hdr; i < n; i++)
		buf[ihl + i] = (uint8_t)(s->payload_seed + i);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP || s->proto == IPPROTO_ICMP) {
		if (!(s->proto == IPPROTO_UDP && s->udp_no_csum))
			pb_fix_l4_csum(buf);
	}
	pb_fix_ip_csum(buf);
	return ihl + n;
}

/* ---- checking ---- */

/* The transport checksum of a whole (not cut) packet, when it has one. */
static bool l4_csum_ok(const uint8_t *ip)
{
	uint16_t stored = get16(ip + ihl_of(ip) + l4_csum_field(ip[9]));

	if (ip[9] == IPPROTO_UDP && stored == 0)
		return true;
	return stored == pb_l4_checksum(ip);
}

static bool ip_csum_ok(const uint8_t *ip)
{
	return get16(ip + IP_OFF_CSUM) == sum_without_field(0, ip, ihl_of(ip), IP_OFF_CSUM);
}

static const char *quote_wrong(const uint8_t *q, size_t qlen)
{
	if (qlen < IPV4_MIN_HDR || ihl_of(q) > qlen)
		return "quote too short";
	if (!ip_csum_ok(q))
		return "quoted ip header checksum";
	if (get16(q + 2) <= qlen && !l4_csum_ok(q))
		return "quoted transport checksum";
	return NULL;
}

const char *pb_checksums_wrong(const uint8_t *ip, size_t len)
{
	size_t ihl, tot;
	const uint8_t *l4;

	if (len < IPV4_MIN_HDR || ihl_of(ip) > len || get16(ip + 2) > len)
		return "packet too short";
	ihl = ihl_of(ip);
	tot = get16(ip + 2);
	l4 = ip + ihl;
	if (!ip_csum_ok(ip))
		return "ip header checksum";
	if (get16(ip + 6) & 0x1fff)
		return NULL; /* a later fragment has no transport header */
	if (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP && ip[9] != IPPROTO_ICMP)
		return NULL;
	if (!l4_csum_ok(ip))
		return ip[9] == IPPROTO_TCP   ? "tcp checksum"
		       : ip[9] == IPPROTO_UDP ? "udp checksum"
					      : "icmp checksum";
	if (ip[9] == IPPROTO_ICMP && icmp_is_error(l4[0]))
		return quote_wrong(l4 + ICMP_HDR, tot - ihl - ICMP_HDR);
	return NULL;
}

/* ---- malformed packets ---- */

static size_t valid_udp(uint8_t *buf, uint8_t opt_len)
{
	struct pb_spec s = pb_flow(IPPROTO_UDP, PB_INSIDE_HOST, 5000, PB_REMOTE_HOST, 53);

	s.payload_len = 20;
	s.opt_len = opt_len;
	return pb_build(buf, &s);
}

static size_t build_proto(uint8_t *buf, uint8_t proto, uint16_t payload_len, uint16_t frag)
{
	struct pb_spec s = pb_flow(proto, PB_INSIDE_HOST, 5000, PB_REMOTE_HOST, 80);

	s.payload_len = payload_len;
	s.frag = frag;
	return pb_build(buf, &s);
}

/* Shorten the packet's IP total length by `by` bytes (its header stays valid). */
static size_t cut(uint8_t *buf, size_t len, size_t by)
{
	put16(buf + 2, (uint16_t)(get16(buf + 2) - by));
	pb_fix_ip_csum(buf);
	return len - by;
}

static size_t m_19_bytes(uint8_t *buf)
{
	valid_udp(buf, 0);
	return IPV4_MIN_HDR - 1;
}

static size_t m_short_of_total(uint8_t *buf)
{
	return valid_udp(buf, 0) - 1;
}

static size_t m_version6(uint8_t *buf)
{
	size_t len = valid_udp(buf, 0);

	buf[0] = 0x65;
	pb_fix_ip_csum(buf);
	return len;
}

static size_t m_ihl4(uint8_t *buf)
{
	size_t len = valid_udp(buf, 0);

	buf[0] = 0x44;
	return len;
}

static size_t m_ihl_past_packet(uint8_t *buf)
{
	size_t len = build_proto(buf, IPPROTO_UDP, 0, 0);

	buf[0] = 0x4f; /* 60 bytes of header in a 28-byte packet */
	return len;
}

static size_t m_total_below_ihl(uint8_t *buf)
{
	size_t len = valid_udp(buf, 0);

	put16(buf + 2, IPV4_MIN_HDR - 4);
	pb_fix_ip_csum(buf);
	return len;
}

static size_t m_ip_csum(uint8_t *buf)
{
	size_t len = valid_udp(buf, 0);

	buf[IP_OFF_CSUM] ^= 0x40;
	return len;
}

static size_t m_ip_csum_options(uint8_t *buf)
{
	size_t len = valid_udp(buf, 8);

	buf[IPV4_MIN_HDR + 2] = 0x07; /* an option byte changed after the checksum */
	return len;
}

static size_t m_tcp_19_bytes(uint8_t *buf)
{
	return cut(buf, build_proto(buf, IPPROTO_TCP, 0, 0), 1);
}

static size_t m_tcp_offset4(uint8_t *buf)
{
	size_t len = build_proto(buf, IPPROTO_TCP, 10, 0);

	buf[IPV4_MIN_HDR + 12] = 4 << 4;
	pb_fix_l4_csum(buf);
	return len;
}

static size_t m_tcp_offset_past(uint8_t *buf)
{
	size_t len = build_proto(buf, IPPROTO_TCP, 10, 0);

	buf[IPV4_MIN_HDR + 12] = 15 << 4;
	pb_fix_l4_csum(buf);
	return len;
}

static size_t m_udp_length7(uint8_t *buf)
{
	size_t len = valid_udp(buf, 0);

	put16(buf + IPV4_MIN_HDR + 4, 7);
	pb_fix_l4_csum(buf);
	return len;
}

static size_t m_udp_length_past(uint8_t *buf)
{
	size_t len = valid_udp(buf, 0);

	put16(buf + IPV4_MIN_HDR + 4, (uint16_t)(len - IPV4_MIN_HDR + 1));
	pb_fix_l4_csum(buf);
	return len;
}

static size_t m_icmp_7_bytes(uint8_t *buf)
{
	return cut(buf, build_proto(buf, IPPROTO_ICMP, 0, 0), 1);
}

static size_t m_icmp_csum(uint8_t *buf)
{
	size_t len = build_proto(buf, IPPROTO_ICMP, 16, 0);

	buf[IPV4_MIN_HDR + ICMP_OFF_CSUM + 1] ^= 1;
	return len;
}

static size_t m_gre(uint8_t *buf)
{
	return build_proto(buf, 47, 16, 0);
}

static size_t m_icmp_timestamp(uint8_t *buf)
{
	size_t len = build_proto(buf, IPPROTO_ICMP, 12, 0);

	buf[IPV4_MIN_HDR] = 13;
	pb_fix_l4_csum(buf);
	return len;
}

static size_t m_udp_first_fragment_short(uint8_t *buf)
{
	/* 4 transport bytes: the ports but not the UDP length and checksum (RFC 1858). */
	return cut(buf, build_proto(buf, IPPROTO_UDP, 0, 0x2000), 4);
}

static size_t m_tcp_first_fragment_short(uint8_t *buf)
{
	return cut(buf, build_proto(buf, IPPROTO_TCP, 0, 0x2000), 8);
}

const struct pb_malformed pb_malformed_cases[] = {
    {"19 bytes", NAPT_DROP_TRUNCATED, m_19_bytes},
    {"shorter than total length", NAPT_DROP_TRUNCATED, m_short_of_total},
    {"version 6", NAPT_DROP_BAD_VERSION, m_version6},
    {"ihl 4", NAPT_DROP_BAD_IHL, m_ihl4},
    {"ihl past the packet", NAPT_DROP_BAD_IHL, m_ihl_past_packet},
    {"total length below ihl", NAPT_DROP_BAD_TOTAL_LEN, m_total_below_ihl},
    {"ip checksum", NAPT_DROP_BAD_IP_CSUM, m_ip_csum},
    {"ip checksum over options", NAPT_DROP_BAD_IP_CSUM, m_ip_csum_options},
    {"tcp 19 bytes", NAPT_DROP_BAD_L4, m_tcp_19_bytes},
    {"tcp data offset 4", NAPT_DROP_BAD_L4, m_tcp_offset4},
    {"tcp data offset past the packet", NAPT_DROP_BAD_L4, m_tcp_offset_past},
    {"udp length 7", NAPT_DROP_BAD_L4, m_udp_length7},
    {"udp length past the payload", NAPT_DROP_BAD_L4, m_udp_length_past},
    {"icmp 7 bytes", NAPT_DROP_BAD_L4, m_icmp_7_bytes},
    {"icmp checksum", NAPT_DROP_BAD_ICMP_CSUM, m_icmp_csum},
    {"protocol 47", NAPT_DROP_UNSUPPORTED, m_gre},
    {"icmp timestamp", NAPT_DROP_UNSUPPORTED, m_icmp_timestamp},
    {"udp first fragment of 4 bytes", NAPT_DROP_FIRST_FRAG_SHORT, m_udp_first_fragment_short},
    {"tcp first fragment of 12 bytes", NAPT_DROP_FIRST_FRAG_SHORT, m_tcp_first_fragment_short},
};

const unsigned pb_malformed_count = sizeof(pb_malformed_cases) / sizeof(pb_malformed_cases[0]);
