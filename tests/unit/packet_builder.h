/* SPDX-License-Identifier: BSD-2-Clause */
/* packet_builder.h - IPv4 packets for the unit tests.
 *
 * Checksums here are computed by the tests' own code, never by the engine's checksum.c,
 * so a translated packet can be compared byte for byte with one built from the
 * description of what it should be (docs/behaviour.md), and every checksum in it can be
 * checked against a full recomputation.
 */
#ifndef PACKET_BUILDER_H
#define PACKET_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt.h"

#define PB_MAX 2048 /* size of every buffer handed to pb_build() */

/* What to build. Addresses network order, ports host order. */
struct pb_spec {
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP or any other */
	uint32_t src, dst;
	uint16_t sport, dport; /* ICMP echo: sport is the identifier */
	uint8_t tcp_flags;
	uint8_t icmp_type; /* echo (8, 0) or error (3, 11, 12) */
	uint8_t icmp_code;
	uint16_t mtu;         /* ICMP 3/4: next-hop MTU (RFC 1191) */
	const uint8_t *quote; /* ICMP error: the quoted packet */
	size_t quote_len;
	uint8_t opt_len;      /* bytes of IP options: a multiple of 4, at most 40 */
	uint16_t payload_len; /* TCP/UDP/echo data bytes: seed, seed+1, ... */
	uint8_t payload_seed;
	uint16_t ip_id;
	uint16_t frag;    /* flags and offset field (host order): 0x2000 MF */
	uint8_t ttl;      /* 0 means 64 */
	bool udp_no_csum; /* UDP checksum 0: none (RFC 768) */
};

/* Writes the packet into buf (PB_MAX bytes) and returns its length. */
size_t pb_build(uint8_t *buf, const struct pb_spec *s);

/* The first packet of a flow from src:sport to dst:dport (dotted quads): TCP a SYN, ICMP an
 * echo request (sport is its identifier, dport unused), 12 data bytes. IP ID 0x4242, not 0:
 * an answer the NAT makes itself carries ID 0, so a copied ID shows. */
struct pb_spec pb_flow(uint8_t proto, const char *src, uint16_t sport, const char *dst,
		       uint16_t dport);

/* RFC 1071 checksum of a buffer, host order (the test's independent implementation). */
uint16_t pb_checksum(const void *data, size_t len);
/* The TCP/UDP/ICMP checksum the transport header of an IPv4 packet should hold, over
 * tot_len - ihl transport bytes. UDP: a computed 0 is 0xFFFF (RFC 768). */
uint16_t pb_l4_checksum(const uint8_t *ip);
/* Recompute checksums after a test edits a packet. */
void pb_fix_ip_csum(uint8_t *ip);
void pb_fix_l4_csum(uint8_t *ip);

/* Check every checksum of a packet by full recomputation: the IP header, the transport
 * (UDP 0 accepted as none), and in an ICMP error the quoted IP header and, when the quote
 * is complete, the quoted transport checksum. Returns NULL or what is wrong. */
const char *pb_checksums_wrong(const uint8_t *ip, size_t len);

uint32_t pb_addr(const char *dotted);

/* Malformed packets (docs/behaviour.md section 2), each built from a valid outbound one
 * from PB_INSIDE_HOST to PB_REMOTE_HOST. */
#define PB_INSIDE_HOST "192.168.1.10"
#define PB_REMOTE_HOST "198.51.100.7"

struct pb_malformed {
	const char *name;
	enum napt_drop_reason want;
	size_t (*make)(uint8_t *buf); /* returns the length to hand over */
};

extern const struct pb_malformed pb_malformed_cases[];
extern const unsigned pb_malformed_count;

#endif
