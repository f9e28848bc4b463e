/* SPDX-License-Identifier: BSD-2-Clause */
/* host_handback.c - Easy IP: which ICMP packets the engine did not take are the router's own. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "host_handback.h"
#include "ipv4_packet.h"

/* Why the engine dropped a packet that may be the router's own: nothing of naptd's takes it. */
static bool nobody_took(const struct napt_result *r)
{
	return r->verdict == NAPT_DROP &&
	       (r->reason == NAPT_DROP_NO_MAPPING || r->reason == NAPT_DROP_NO_SESSION_ICMP);
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
	uint32_t src, dst;

	if (!nobody_took(r) || p->len < IPV4_MIN_HDR || ip[9] != IPPROTO_ICMP)
		return false;
	src = htonl(get32(ip + IP_OFF_SRC));
	dst = htonl(get32(ip + IP_OFF_DST));
	/* From outside, to the WAN address, unchanged: a hairpinned packet (from inside)
	 * was rewritten on its way out before it was dropped on its way in. A fragment
	 * would arrive in the kernel without the rest, which the engine holds. */
	return dst == wan_addr && src != wan_addr && !is_inside(cfg, src) &&
	       (get16(ip + 6) & 0x3fff) == 0;
}
