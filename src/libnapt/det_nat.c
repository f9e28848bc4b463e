/* SPDX-License-Identifier: BSD-2-Clause */
/* det_nat.c - the RFC 7422 formula both ways (det_nat.h). */
#include "det_nat.h"

#include <arpa/inet.h>
#include <stdio.h>

static uint64_t prefix_size(const struct napt_prefix *p)
{
	return 1ull << (32 - p->len);
}

int det_layout_make(const struct napt_config *cfg, struct det_layout *d, char *err, size_t errlen)
{
	const struct napt_deterministic *c = &cfg->det;
	uint32_t range = (uint32_t)cfg->port_hi - cfg->port_lo + 1;

	*d = (struct det_layout){
	    .in_base = ntohl(c->in.addr),
	    .ext_base = ntohl(c->ext.addr),
	    .in_count = prefix_size(&c->in),
	    .ext_count = (uint32_t)prefix_size(&c->ext),
	    .port_lo = cfg->port_lo,
	};
	if (c->ports) {
		d->ports = (uint16_t)c->ports;
		d->per_ext = range / c->ports;
	} else {
		d->per_ext = (uint32_t)((d->in_count + d->ext_count - 1) / d->ext_count);
		d->ports = (uint16_t)(d->per_ext <= range ? range / d->per_ext : 0);
	}
	if (!d->ports || !d->per_ext || (uint64_t)d->per_ext * d->ext_count < d->in_count) {
		snprintf(err, errlen,
			 "deterministic: %llu inside addresses do not fit on %u external addresses "
			 "with %u port(s) each in port-range %u-%u",
			 (unsigned long long)d->in_count, d->ext_count, c->ports ? c->ports : 1,
			 cfg->port_lo, cfg->port_hi);
		return -1;
	}
	return 0;
}

bool det_forward(const struct det_layout *d, uint32_t in_addr, struct det_range *r)
{
	uint64_t k = (uint32_t)(ntohl(in_addr) - d->in_base);

	if (k >= d->in_count)
		return false;
	r->in_addr = in_addr;
	r->ext_addr = htonl(d->ext_base + (uint32_t)(k / d->per_ext));
	r->lo = (uint16_t)(d->port_lo + (k % d->per_ext) * d->ports);
	r->hi = (uint16_t)(r->lo + d->ports - 1);
	return true;
}

uint16_t det_port(const struct det_range *r, uint16_t in_port)
{
	uint32_t ports = (uint32_t)r->hi - r->lo + 1;

	return (uint16_t)(r->lo + in_port % ports);
}

bool det_reverse(const struct det_layout *d, uint32_t ext_addr, uint16_t ext_port,
		 struct det_range *r)
{
	uint32_t j = ntohl(ext_addr) - d->ext_base;
	uint32_t slot;
	uint64_t k;

	if (j >= d->ext_count || ext_port < d->port_lo)
		return false;
	slot = (uint32_t)(ext_port - d->port_lo) / d->ports;
	k = (uint64_t)j * d->per_ext + slot;
	if (slot >= d->per_ext || k >= d->in_count)
		return false;
	return det_forward(d, htonl(d->in_base + (uint32_t)k), r);
}
