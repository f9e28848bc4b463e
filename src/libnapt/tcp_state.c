/* SPDX-License-Identifier: BSD-2-Clause */
/* tcp_state.c - the NAT's view of a TCP connection. */
#include "tcp_state.h"

#include "ipv4_packet.h"

#define TCPF_SYN_BOTH (TCPF_SYN_OUT | TCPF_SYN_IN)

enum tcp_state tcp_state_of(uint8_t seen)
{
	if (seen & TCPF_RST)
		return TCP_CLOSED;
	if ((seen & (TCPF_FIN_OUT | TCPF_FIN_IN)) == (TCPF_FIN_OUT | TCPF_FIN_IN))
		return TCP_TIME_WAIT;
	if (seen & (TCPF_FIN_OUT | TCPF_FIN_IN))
		return TCP_FIN_WAIT;
	/* SYN both ways, also when both sides sent a bare SYN: simultaneous open
	 * (RFC 5382 REQ-2). */
	if ((seen & TCPF_SYN_BOTH) == TCPF_SYN_BOTH)
		return TCP_ESTABLISHED;
	return (seen & TCPF_SYN_OUT) ? TCP_SYN_SENT : TCP_SYN_RECEIVED;
}

const char *tcp_state_name(enum tcp_state st)
{
	static const char *const names[] = {
	    [TCP_SYN_SENT] = "syn-sent",       [TCP_SYN_RECEIVED] = "syn-received",
	    [TCP_ESTABLISHED] = "established", [TCP_FIN_WAIT] = "fin-wait",
	    [TCP_TIME_WAIT] = "time-wait",     [TCP_CLOSED] = "closed",
	};
	return names[st];
}

/* RFC 6146 3.5.2.2 (V4/V6 FIN RCV): one FIN is a half-close, and the other side may send
 * for hours yet: the connection keeps the established lifetime until both FINs are seen. */
enum napt_timeout_class tcp_timeout_class(uint8_t seen)
{
	enum tcp_state st = tcp_state_of(seen);

	if (seen & TCPF_PICKED)
		return NAPT_TIMEOUT_TCP_TRANSITORY;
	return st == TCP_ESTABLISHED || st == TCP_FIN_WAIT ? NAPT_TIMEOUT_TCP_ESTABLISHED
							   : NAPT_TIMEOUT_TCP_TRANSITORY;
}

uint8_t tcp_state_update(uint8_t seen, uint8_t tcp_flags, bool outbound)
{
	enum tcp_state st = tcp_state_of(seen);
	bool bare_syn = (tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;

	/* The remote answered a picked-up flow: it is a connection, with its full timeout. */
	if (!outbound)
		seen &= (uint8_t)~TCPF_PICKED;

	/* RFC 7857 section 2 / RFC 6146 3.5.2: a new SYN on a closing connection is a new
	 * connection on the same 4-tuple. */
	if (bare_syn && (st == TCP_FIN_WAIT || st == TCP_TIME_WAIT || st == TCP_CLOSED))
		return outbound ? TCPF_SYN_OUT : TCPF_SYN_IN;
	if (tcp_flags & TCP_RST)
		return seen | TCPF_RST;
	/* RFC 7857 2.2, RFC 6146 3.5.2.2 (TRANS): a segment other than a RST after a RST shows
	 * that the connection goes on (the RST was lost, stale or forged, and the end host
	 * ignored it): back to the state the RST interrupted. */
	seen &= (uint8_t)~TCPF_RST;
	if (tcp_flags & TCP_SYN)
		seen |= outbound ? TCPF_SYN_OUT : TCPF_SYN_IN;
	/* RFC 6146 3.5.2.2: only an established connection closes; a FIN during the handshake
	 * moves nothing (else a SYN and a FIN would buy the long half-close lifetime). */
	if ((tcp_flags & TCP_FIN) && (seen & TCPF_SYN_BOTH) == TCPF_SYN_BOTH)
		seen |= outbound ? TCPF_FIN_OUT : TCPF_FIN_IN;
	return seen;
}
