/* SPDX-License-Identifier: BSD-2-Clause */
/* ipv4_packet.h - parsing and validation of IPv4 packets with TCP, UDP or ICMP. */
#ifndef IPV4_PACKET_H
#define IPV4_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IPV4_MIN_HDR 20
#define TCP_MIN_HDR  20
#define UDP_HDR      8
#define ICMP_HDR     8

/* Offsets of the fields the NAT rewrites, from the start of their header. */
#define IP_OFF_CSUM   10
#define IP_OFF_SRC    12
#define IP_OFF_DST    16
#define L4_OFF_SPORT  0
#define L4_OFF_DPORT  2
#define TCP_OFF_CSUM  16
#define UDP_OFF_CSUM  6
#define ICMP_OFF_CSUM 2
#define ICMP_OFF_ID   4

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define ICMP_ECHO_REPLY  0
#define ICMP_UNREACH     3
#define ICMP_ECHO        8
#define ICMP_TIME_EXCEED 11
#define ICMP_PARAM_PROB  12

/* A parsed view into a packet buffer; it owns nothing. */
struct ipv4_view {
	uint8_t *ip;    /* IPv4 header */
	size_t ihl;     /* header length in bytes */
	size_t tot_len; /* IPv4 total length (for a quote: as written, may exceed data) */
	uint8_t proto;
	uint32_t src, dst;    /* network order */
	uint16_t ip_id;       /* host order */
	uint16_t frag_offset; /* in bytes */
	bool more_frags;
	uint8_t *l4;           /* transport header; NULL in a non-first fragment */
	size_t l4_len;         /* transport bytes present in the buffer */
	uint16_t sport, dport; /* host order; ICMP echo: both hold the identifier */
	uint8_t tcp_flags;
	uint8_t icmp_type;
};

static inline bool ipv4_is_fragment(const struct ipv4_view *v)
{
	return v->more_frags || v->frag_offset;
}

static inline bool icmp_is_error(uint8_t type)
{
	return type == ICMP_UNREACH || type == ICMP_TIME_EXCEED || type == ICMP_PARAM_PROB;
}

/* Validate a packet read from the device (docs/behaviour.md section 2) and fill v.
 * Returns NAPT_DROP_NONE or the reason to drop it. */
enum napt_drop_reason ipv4_parse(uint8_t *data, size_t len, struct ipv4_view *v);

/* Parse the packet quoted in an ICMP error (RFC 5508 REQ-3): a full IPv4 header with a
 * correct checksum and at least 8 bytes of it; the total length may exceed what was
 * quoted, the transport checksum is not validated. */
enum napt_drop_reason ipv4_parse_quote(uint8_t *data, size_t len, struct ipv4_view *v);

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

#ifdef __cplusplus
}
#endif

#endif
