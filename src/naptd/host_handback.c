/* SPDX-License-Identifier: BSD-2-Clause */
/* host_handback.c - Easy IP: which packets the engine did not take are the router's own. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "host_handback.h"
#include "ipv4_packet.h"

/* Why the engine dropped a packet that may be the router's own: nothing of naptd's takes it. */
static bool nobody_took(const struct napt_result *r)
{
	return r->verdict == NAPT_DROP &&
	       (r->reason == NAPT_DROP_NO_MAPPING || r->reason == NAPT_DROP_TCP_NO_SESSION ||
		r->reason == NAPT_DROP_NO_SESSION_ICMP);
}

static bool is_inside(const struct napt_config *cfg, uint32_t addr)
{
	for (unsigned i = 0; i < cfg->n_inside; i++)
		if ((addr & cfg->inside[i].mask) == cfg->inside[i].addr)
			return true;
	return false;
}

bool host_handback_takes(uint32_t wan_addr, const struct napt_config *cfg,
			 const struct napt_packet *p, const struct napt_result *r)
{
	const uint8_t *ip = p->data;
	size_t ihl;
	uint32_t src, dst;
	uint16_t port;

	if (!nobody_took(r) || p->len < IPV4_MIN_HDR)
		return false;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	src = htonl(get32(ip + IP_OFF_SRC));
	dst = htonl(get32(ip + IP_OFF_DST));
	/* From outside, to the WAN address, unchanged: a hairpinned packet (from inside)
	 * was rewritten on its way out before it was dropped on its way in. A fragment
	 * would arrive in the kernel without the rest, which the engine holds. */
	if (dst != wan_addr || src == wan_addr || is_inside(cfg, src) ||
	    (get16(ip + 6) & 0x3fff) != 0)
		return false;
	if (ip[9] == IPPROTO_ICMP)
		return true;
	/* Ports of naptd's range are its own even when no mapping holds them now: what
	 * arrives there unasked stays dropped, as before Easy IP steered everything. */
	if (p->len < ihl + L4_OFF_DPORT + 2)
		return false;
	port = get16(ip + ihl + L4_OFF_DPORT);
	return port < cfg->port_lo || port > cfg->port_hi;
}
