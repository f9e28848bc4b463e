/* SPDX-License-Identifier: BSD-2-Clause */
/* tcp_mss.c - MSS clamping of SYNs (tcp_mss.h). */
#include "tcp_mss.h"

#include <string.h>

#include "checksum.h"
#include "ipv4_packet.h"

#define OPT_END     0
#define OPT_NOP     1
#define OPT_MSS     2
#define OPT_MSS_LEN 4

/* The value may lie at an odd offset (after one NOP): the checksum sums 16-bit words from
 * the header's start, so the change is taken over the aligned words that hold it, as
 * stored (RFC 1624 eqn 3 with m and m' the sums of those words). The caller checked that
 * both words are in the buffer. */
static void write_mss(uint8_t *tcp, size_t off, uint16_t mss, bool partial)
{
	size_t start = off & ~(size_t)1;
	size_t span = off & 1 ? 4 : 2;
	uint16_t before = csum_sum_as_stored(tcp + start, span);
	uint16_t c;

	put16(tcp + off, mss);
	if (partial)
		return;
	memcpy(&c, tcp + TCP_OFF_CSUM, 2);
	c = csum_apply(c, csum_delta16(before, csum_sum_as_stored(tcp + start, span)));
	memcpy(tcp + TCP_OFF_CSUM, &c, 2);
}

/* The MSS value at off, when above mss: an odd-aligned value needs the byte after it too (a
 * header cut short may lack it). */
static bool clamp_at(uint8_t *tcp, size_t off, size_t hlen, uint16_t mss, bool partial)
{
	if (off + 2 + (off & 1) > hlen || get16(tcp + off) <= mss)
		return false;
	write_mss(tcp, off, mss, partial);
	return true;
}

/* Every MSS option is clamped, not the first alone: a SYN may carry several, and Linux
 * (tcp_parse_options) keeps the last. The walk stops where the options turn malformed. */
bool tcp_mss_clamp(uint8_t *tcp, size_t len, uint16_t mss, bool partial)
{
	size_t hlen, i = TCP_MIN_HDR;
	bool changed = false;

	if (len < TCP_MIN_HDR)
		return false;
	hlen = (size_t)(tcp[12] >> 4) * 4;
	if (hlen > len)
		hlen = len;
	while (i < hlen && tcp[i] != OPT_END) {
		if (tcp[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > hlen)
			break;
		if (tcp[i] == OPT_MSS && tcp[i + 1] == OPT_MSS_LEN)
			changed |= clamp_at(tcp, i + 2, hlen, mss, partial);
		i += tcp[i + 1];
	}
	return changed;
}
