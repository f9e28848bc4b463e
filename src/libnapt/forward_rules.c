/* SPDX-License-Identifier: BSD-2-Clause */
/* forward_rules.c - the forward table. */
#include "forward_rules.h"

#include <stdio.h>
#include <string.h>

static int slot(uint8_t proto_bit)
{
	return proto_bit == NAPT_FWD_TCP ? 0 : 1;
}

static void mark(struct forward_rules *fr, const struct napt_forward *f, uint16_t value)
{
	for (int b = NAPT_FWD_TCP; b <= NAPT_FWD_UDP; b <<= 1) {
		if (!(f->protos & b))
			continue;
		for (uint32_t p = f->ext_lo; p <= f->ext_hi; p++) {
			uint64_t bit = 1ull << (p % 64);

			fr->by_port[slot((uint8_t)b)][p] = value;
			if (value)
				fr->claimed[slot((uint8_t)b)][p / 64] |= bit;
			else
				fr->claimed[slot((uint8_t)b)][p / 64] &= ~bit;
		}
	}
}

void forward_rules_clear(struct forward_rules *fr)
{
	memset(fr, 0, sizeof(*fr));
}

int forward_rules_add(struct forward_rules *fr, const struct napt_forward *f, char *err,
		      size_t errlen)
{
	char a[64], b[64];

	if (fr->n == NAPT_MAX_FORWARDS) {
		snprintf(err, errlen, "too many forwards (at most %d)", NAPT_MAX_FORWARDS);
		return -1;
	}
	for (unsigned i = 0; i < fr->n; i++) {
		if (napt_forward_overlaps(f, &fr->rules[i])) {
			napt_forward_format(f, a, sizeof(a));
			napt_forward_format(&fr->rules[i], b, sizeof(b));
			snprintf(err, errlen, "forward %s overlaps forward %s", a, b);
			return -1;
		}
	}
	fr->rules[fr->n++] = *f;
	mark(fr, f, (uint16_t)fr->n);
	return 0;
}

int forward_rules_del(struct forward_rules *fr, uint8_t protos, uint16_t port,
		      struct napt_forward *out)
{
	for (unsigned i = 0; i < fr->n; i++) {
		const struct napt_forward *f = &fr->rules[i];

		if (!(f->protos & protos) || port < f->ext_lo || port > f->ext_hi)
			continue;
		*out = *f;
		mark(fr, f, 0);
		/* Keep the array dense; the moved rule's index changes, so re-mark it. */
		fr->rules[i] = fr->rules[--fr->n];
		if (i < fr->n)
			mark(fr, &fr->rules[i], (uint16_t)(i + 1));
		return 0;
	}
	return -1;
}

const struct napt_forward *forward_rules_lookup(const struct forward_rules *fr, uint8_t proto_bit,
						uint16_t port)
{
	uint16_t i = fr->by_port[slot(proto_bit)][port];

	return i ? &fr->rules[i - 1] : NULL;
}

const uint64_t *forward_rules_claimed(const struct forward_rules *fr, uint8_t proto_bit)
{
	return fr->claimed[slot(proto_bit)];
}

struct napt_forward *forward_rules_set_filters(struct forward_rules *fr, uint8_t protos,
					       uint16_t port, const struct napt_peer_filter *f,
					       unsigned count)
{
	uint16_t i = fr->by_port[slot(protos & NAPT_FWD_TCP ? NAPT_FWD_TCP : NAPT_FWD_UDP)][port];
	struct napt_forward *r = i ? &fr->rules[i - 1] : NULL;

	if (!r || count > NAPT_FWD_MAX_FILTERS)
		return NULL;
	memset(r->filters, 0, sizeof(r->filters));
	if (count)
		memcpy(r->filters, f, count * sizeof(*f));
	r->n_filters = (uint8_t)count;
	return r;
}
