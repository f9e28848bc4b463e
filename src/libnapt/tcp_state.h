/* SPDX-License-Identifier: BSD-2-Clause */
/* tcp_state.h - the TCP state a NAT follows for each session (RFC 5382, RFC 7857 2.1). */
#ifndef TCP_STATE_H
#define TCP_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "ipv4_packet.h"
#include "napt_config.h"

/* What has been seen on a session, one bit each: the state is derived from them. */
#define TCPF_SYN_OUT 0x01
#define TCPF_SYN_IN  0x02
#define TCPF_FIN_OUT 0x04
#define TCPF_FIN_IN  0x08
#define TCPF_RST     0x10
/* Picked up mid-stream (translate.c) and nothing has come back from the remote yet: the
 * flow may be a stray or forged segment, not a connection. */
#define TCPF_PICKED 0x20
#define TCPF_ALL    0x3f

enum tcp_state {
	TCP_SYN_SENT = 0,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT,
	TCP_TIME_WAIT,
	TCP_CLOSED,
};

enum tcp_state tcp_state_of(uint8_t seen);
const char *tcp_state_name(enum tcp_state st);

/* RFC 5382 REQ-5: established and half-closed connections (one FIN) get the long timeout;
 * set-up, closed (both FINs) and reset ones the transitory one, and so does a picked-up one
 * until the remote answers (as conntrack keeps a loose pickup short until it sees a reply). */
enum napt_timeout_class tcp_timeout_class(uint8_t seen);

/* Whether a segment with these flags can change the state: a SYN, FIN or RST, or any
 * segment after a RST or on a picked-up session (tcp_state_update()). Every other segment
 * leaves it as it is. Inline: the short path asks it for every TCP packet. */
static inline bool tcp_state_moves(uint8_t seen, uint8_t tcp_flags)
{
	return ((tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) | (seen & (TCPF_RST | TCPF_PICKED))) !=
	       0; /* one test */
}

/* Fold one segment's flags (the TCP header's flag byte) into `seen`. A SYN without ACK on
 * a closing or closed session starts it again: clients reuse ports within seconds. A RST
 * holds only until the next segment without one (RFC 7857 2.2). An inbound segment ends a
 * pickup's probation (TCPF_PICKED). */
uint8_t tcp_state_update(uint8_t seen, uint8_t tcp_flags, bool outbound);

#endif
