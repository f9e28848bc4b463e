/* SPDX-License-Identifier: BSD-2-Clause */
/* tcp_mss.h - MSS clamping: a SYN's maximum segment size option lowered to what the WAN
 * link carries (mss-clamp), so that hosts behind a link with a smaller MTU than their own
 * (PPPoE's 1492) never send segments that need fragmenting or a working path-MTU discovery. */
#ifndef TCP_MSS_H
#define TCP_MSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tcp: the TCP header, len: its bytes in the buffer. When the options (RFC 9293 3.1) hold an
 * MSS above mss, it becomes mss and the TCP checksum takes the change (RFC 1624), unless
 * partial (the checksum field holds only the pseudo-header sum: the device sums the options
 * itself). A SYN without the option is left alone: its peer assumes 536 (RFC 9293 3.7.1),
 * below any MTU's clamp, and adding one would change the packet's length. Malformed options
 * are left alone too (the endpoint decides what they mean). Returns whether it changed. */
bool tcp_mss_clamp(uint8_t *tcp, size_t len, uint16_t mss, bool partial);

#endif
