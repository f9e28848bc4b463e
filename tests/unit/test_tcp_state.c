/* SPDX-License-Identifier: BSD-2-Clause */
/* test_tcp_state.c - the TCP state a session follows (docs/behaviour.md section 6,
 * RFC 5382, RFC 7857 2.1). */
#include <check.h>

#include "ipv4_packet.h"
#include "tcp_state.h"
#include "unit_run.h"

#define OUT true
#define IN  false

/* Feed segments in order and name the state reached. */
struct segment {
	uint8_t flags;
	bool outbound;
};

static const char *after(const struct segment *seq, unsigned n)
{
	uint8_t seen = 0;

	for (unsigned i = 0; i < n; i++)
		seen = tcp_state_update(seen, seq[i].flags, seq[i].outbound);
	return tcp_state_name(tcp_state_of(seen));
}

#define AFTER(...)                                                                                 \
	after((const struct segment[]){__VA_ARGS__},                                               \
	      sizeof((const struct segment[]){__VA_ARGS__}) / sizeof(struct segment))

START_TEST(opening)
{
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}), "syn-sent");
	ck_assert_str_eq(AFTER({TCP_SYN, IN}), "syn-received");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}), "established");
	ck_assert_str_eq(AFTER({TCP_SYN, IN}, {TCP_SYN | TCP_ACK, OUT}), "established");
	/* An ACK alone does not complete the handshake from the NAT's point of view. */
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_ACK, IN}), "syn-sent");
}
END_TEST

START_TEST(simultaneous_open)
{
	/* RFC 5382 REQ-2: bare SYNs crossing. */
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN, IN}), "established");
}
END_TEST

START_TEST(closing)
{
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN | TCP_ACK, OUT}),
			 "fin-wait");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN | TCP_ACK, IN}),
			 "fin-wait");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN | TCP_ACK, OUT},
			       {TCP_FIN | TCP_ACK, IN}),
			 "time-wait");
	/* Two FINs the same way are still one direction closed. */
	ck_assert_str_eq(
	    AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN, OUT}, {TCP_FIN, OUT}),
	    "fin-wait");
}
END_TEST

START_TEST(reset)
{
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_RST, IN}), "closed");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_RST | TCP_ACK, IN}), "closed");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_RST, OUT}), "closed");
	ck_assert_str_eq(
	    AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_RST, IN}, {TCP_RST | TCP_ACK, OUT}),
	    "closed");
}
END_TEST

/* RFC 7857 2.2, RFC 6146 3.5.2.2 (TRANS): a RST the end host ignored (stale, lost on its
 * way, forged) is followed by more traffic, which takes the session back to where it was. */
START_TEST(traffic_after_a_reset_reopens)
{
	ck_assert_str_eq(
	    AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_RST, IN}, {TCP_ACK, OUT}),
	    "established");
	ck_assert_str_eq(
	    AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_RST, OUT}, {TCP_ACK, OUT}),
	    "established");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN | TCP_ACK, OUT},
			       {TCP_RST, IN}, {TCP_ACK, IN}),
			 "fin-wait");
	ck_assert_str_eq(
	    AFTER({TCP_SYN, OUT}, {TCP_RST | TCP_ACK, IN}, {TCP_ACK, OUT}, {TCP_SYN | TCP_ACK, IN}),
	    "established");
	/* The handshake was never completed: back to syn-sent, not established. */
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_RST | TCP_ACK, IN}, {TCP_ACK, OUT}),
			 "syn-sent");
}
END_TEST

/* RFC 6146 3.5.2.2: FINs count once the connection is established. */
START_TEST(fin_during_handshake_changes_nothing)
{
	ck_assert_str_eq(AFTER({TCP_SYN, IN}, {TCP_FIN | TCP_ACK, IN}), "syn-received");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_FIN, OUT}), "syn-sent");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_FIN, IN}, {TCP_SYN | TCP_ACK, IN}),
			 "established");
}
END_TEST

START_TEST(new_syn_restarts_a_closing_session)
{
	/* RFC 7857 section 2: clients reuse ports quickly. */
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN, OUT},
			       {TCP_FIN, IN}, {TCP_SYN, OUT}),
			 "syn-sent");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN, OUT},
			       {TCP_FIN, IN}, {TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}),
			 "established");
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_RST, IN}, {TCP_SYN, IN}), "syn-received");
	ck_assert_str_eq(
	    AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_FIN, IN}, {TCP_SYN, OUT}),
	    "syn-sent");
	/* A SYN on an established session changes nothing. */
	ck_assert_str_eq(AFTER({TCP_SYN, OUT}, {TCP_SYN | TCP_ACK, IN}, {TCP_SYN, OUT}),
			 "established");
}
END_TEST

START_TEST(timeout_classes)
{
	/* RFC 5382 REQ-5: established connections get the long timeout, and so do half-closed
	 * ones (RFC 6146 3.5.2.2: V4/V6 FIN RCV keep TCP_EST). */
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT), NAPT_TIMEOUT_TCP_TRANSITORY);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_IN), NAPT_TIMEOUT_TCP_TRANSITORY);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN),
			 NAPT_TIMEOUT_TCP_ESTABLISHED);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_FIN_IN),
			 NAPT_TIMEOUT_TCP_ESTABLISHED);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_FIN_OUT),
			 NAPT_TIMEOUT_TCP_ESTABLISHED);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_FIN_IN | TCPF_FIN_OUT),
			 NAPT_TIMEOUT_TCP_TRANSITORY);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_RST),
			 NAPT_TIMEOUT_TCP_TRANSITORY);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_FIN_IN | TCPF_RST),
			 NAPT_TIMEOUT_TCP_TRANSITORY);
	/* A pickup nothing has answered yet is transitory, also half-closed; an inbound
	 * segment answers it, an outbound one does not. */
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_PICKED),
			 NAPT_TIMEOUT_TCP_TRANSITORY);
	ck_assert_int_eq(tcp_timeout_class(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_FIN_OUT | TCPF_PICKED),
			 NAPT_TIMEOUT_TCP_TRANSITORY);
	ck_assert_int_eq(tcp_state_update(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_PICKED, TCP_ACK, true),
			 TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_PICKED);
	ck_assert_int_eq(tcp_state_update(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_PICKED, TCP_ACK, false),
			 TCPF_SYN_OUT | TCPF_SYN_IN);
	ck_assert(tcp_state_moves(TCPF_SYN_OUT | TCPF_SYN_IN | TCPF_PICKED, TCP_ACK));
}
END_TEST

START_TEST(state_names)
{
	ck_assert_str_eq(tcp_state_name(TCP_SYN_SENT), "syn-sent");
	ck_assert_str_eq(tcp_state_name(TCP_SYN_RECEIVED), "syn-received");
	ck_assert_str_eq(tcp_state_name(TCP_ESTABLISHED), "established");
	ck_assert_str_eq(tcp_state_name(TCP_FIN_WAIT), "fin-wait");
	ck_assert_str_eq(tcp_state_name(TCP_TIME_WAIT), "time-wait");
	ck_assert_str_eq(tcp_state_name(TCP_CLOSED), "closed");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_state");
	TCase *tc = tcase_create("states");

	tcase_add_test(tc, opening);
	tcase_add_test(tc, simultaneous_open);
	tcase_add_test(tc, closing);
	tcase_add_test(tc, reset);
	tcase_add_test(tc, traffic_after_a_reset_reopens);
	tcase_add_test(tc, fin_during_handshake_changes_nothing);
	tcase_add_test(tc, new_syn_restarts_a_closing_session);
	tcase_add_test(tc, timeout_classes);
	tcase_add_test(tc, state_names);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
