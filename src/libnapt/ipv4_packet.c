/* SPDX-License-Identifier: BSD-2-Clause */
/* ipv4_packet.c - parsing and validation; nothing here changes a packet. */
#include "ipv4_packet.h"

#include <netinet/in.h>
#include <string.h>

#include "checksum.h"

static enum napt_drop_reason parse_ip_header(uint8_t *data, size_t len, struct ipv4_view *v)
{
	if (len < IPV4_MIN_HDR)
		return NAPT_DROP_TRUNCATED;
	if (data[0] >> 4 != 4)
		return NAPT_DROP_BAD_VERSION;
	v->ip = data;
	v->ihl = (size_t)(data[0] & 0x0f) * 4;
	if (v->ihl < IPV4_MIN_HDR || v->ihl > len)
		return NAPT_DROP_BAD_IHL;
	v->tot_len = get16(data + 2);
	if (v->tot_len < v->ihl)
		return NAPT_DROP_BAD_TOTAL_LEN;
	/* A header with a correct checksum sums to 0xffff (RFC 1071). */
	if (!csum_valid(data, v->ihl))
		return NAPT_DROP_BAD_IP_CSUM;
	v->proto = data[9];
	memcpy(&v->src, data + IP_OFF_SRC, 4);
	memcpy(&v->dst, data + IP_OFF_DST, 4);
	v->ip_id = get16(data + 4);
	v->more_frags = data[6] & 0x20;
	v->frag_offset = (uint16_t)((get16(data + 6) & 0x1fff) * 8);
	v->tcp_flags = 0; /* none but TCP's: the translator tests the flags before the protocol */
	return NAPT_DROP_NONE;
}

/* The transport header of a first fragment or whole packet. `whole` tells whether the
 * transport data is all here, so lengths can be checked against it. */
static enum napt_drop_reason parse_l4(struct ipv4_view *v, bool whole)
{
	uint8_t *l4 = v->l4;
	size_t n = v->l4_len;

	switch (v->proto) {
	case IPPROTO_TCP:
		if (n < TCP_MIN_HDR || (size_t)(l4[12] >> 4) * 4 < TCP_MIN_HDR ||
		    (size_t)(l4[12] >> 4) * 4 > n)
			return NAPT_DROP_BAD_L4;
		v->sport = get16(l4 + L4_OFF_SPORT);
		v->dport = get16(l4 + L4_OFF_DPORT);
		v->tcp_flags = l4[13];
		return NAPT_DROP_NONE;
	case IPPROTO_UDP:
		if (n < UDP_HDR)
			return NAPT_DROP_BAD_L4;
		if (whole && (get16(l4 + 4) < UDP_HDR || get16(l4 + 4) > n))
			return NAPT_DROP_BAD_L4;
		v->sport = get16(l4 + L4_OFF_SPORT);
		v->dport = get16(l4 + L4_OFF_DPORT);
		return NAPT_DROP_NONE;
	case IPPROTO_ICMP:
		if (n < ICMP_HDR)
			return NAPT_DROP_BAD_L4;
		v->icmp_type = l4[0];
		v->sport = v->dport = get16(l4 + ICMP_OFF_ID);
		if (v->icmp_type == ICMP_ECHO || v->icmp_type == ICMP_ECHO_REPLY ||
		    icmp_is_error(v->icmp_type))
			return NAPT_DROP_NONE;
		return NAPT_DROP_UNSUPPORTED;
	default:
		return NAPT_DROP_UNSUPPORTED;
	}
}

enum napt_drop_reason ipv4_parse(uint8_t *data, size_t len, struct ipv4_view *v)
{
	enum napt_drop_reason r = parse_ip_header(data, len, v);

	if (r != NAPT_DROP_NONE)
		return r;
	if (v->tot_len > len)
		return NAPT_DROP_TRUNCATED;
	v->l4 = NULL;
	v->l4_len = v->tot_len - v->ihl;
	if (v->frag_offset) {
		/* Later fragments carry no transport header; only the protocol is checked. */
		if (v->proto != IPPROTO_TCP && v->proto != IPPROTO_UDP && v->proto != IPPROTO_ICMP)
			return NAPT_DROP_UNSUPPORTED;
		return NAPT_DROP_NONE;
	}
	v->l4 = data + v->ihl;
	r = parse_l4(v, !v->more_frags);
	if (r == NAPT_DROP_BAD_L4 && v->more_frags)
		return NAPT_DROP_FIRST_FRAG_SHORT; /* RFC 1858: too short to hold the ports */
	if (r == NAPT_DROP_NONE && v->proto == IPPROTO_ICMP && !v->more_frags &&
	    !csum_valid(v->l4, v->l4_len))
		return NAPT_DROP_BAD_ICMP_CSUM; /* RFC 5508 REQ-3 */
	return r;
}

enum napt_drop_reason ipv4_parse_quote(uint8_t *data, size_t len, struct ipv4_view *v)
{
	if (parse_ip_header(data, len, v) != NAPT_DROP_NONE || v->frag_offset)
		return NAPT_DROP_BAD_ICMP_QUOTE;
	v->l4 = data + v->ihl;
	v->l4_len = len - v->ihl;
	if (v->l4_len < 8)
		return NAPT_DROP_BAD_ICMP_QUOTE;
	/* Only the first 8 bytes are sure to be quoted: the ports, or the ICMP type and id. */
	v->sport = get16(v->l4 + L4_OFF_SPORT);
	v->dport = get16(v->l4 + L4_OFF_DPORT);
	if (v->proto == IPPROTO_ICMP) {
		v->icmp_type = v->l4[0];
		v->sport = v->dport = get16(v->l4 + ICMP_OFF_ID);
		if (v->icmp_type != ICMP_ECHO && v->icmp_type != ICMP_ECHO_REPLY)
			return NAPT_DROP_BAD_ICMP_QUOTE; /* errors about errors: never (RFC 1122) */
	} else if (v->proto != IPPROTO_TCP && v->proto != IPPROTO_UDP) {
		return NAPT_DROP_BAD_ICMP_QUOTE;
	}
	return NAPT_DROP_NONE;
}
