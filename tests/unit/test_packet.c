/* SPDX-License-Identifier: BSD-2-Clause */
/* test_packet.c - ipv4_parse() and ipv4_parse_quote(): the validation of
 * docs/behaviour.md section 2 and the quotes of RFC 5508 section 4. */
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "ipv4_packet.h"
#include "packet_builder.h"
#include "unit_run.h"

static uint8_t buf[PB_MAX];
static struct ipv4_view v;

static struct pb_spec spec(uint8_t proto)
{
	return (struct pb_spec){
	    .proto = proto,
	    .src = pb_addr("192.168.1.10"),
	    .dst = pb_addr("198.51.100.7"),
	    .sport = 40000,
	    .dport = 443,
	    .tcp_flags = TCP_SYN | TCP_ACK,
	    .icmp_type = ICMP_ECHO,
	    .payload_len = 30,
	    .ip_id = 0x1234,
	};
}

START_TEST(udp_with_options)
{
	struct pb_spec s = spec(IPPROTO_UDP);
	size_t len;

	s.opt_len = 8;
	len = pb_build(buf, &s);
	ck_assert_int_eq(ipv4_parse(buf, len, &v), NAPT_DROP_NONE);
	ck_assert_uint_eq(v.ihl, 28);
	ck_assert_uint_eq(v.tot_len, len);
	ck_assert_uint_eq(v.proto, IPPROTO_UDP);
	ck_assert_uint_eq(v.src, s.src);
	ck_assert_uint_eq(v.dst, s.dst);
	ck_assert_uint_eq(v.ip_id, 0x1234);
	ck_assert_uint_eq(v.frag_offset, 0);
	ck_assert(!v.more_frags);
	ck_assert_ptr_eq(v.l4, buf + 28);
	ck_assert_uint_eq(v.l4_len, 8 + 30);
	ck_assert_uint_eq(v.sport, 40000);
	ck_assert_uint_eq(v.dport, 443);
}
END_TEST

START_TEST(tcp_flags_and_ports)
{
	struct pb_spec s = spec(IPPROTO_TCP);
	size_t len = pb_build(buf, &s);

	ck_assert_int_eq(ipv4_parse(buf, len, &v), NAPT_DROP_NONE);
	ck_assert_uint_eq(v.tcp_flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(v.sport, 40000);
	ck_assert_uint_eq(v.dport, 443);
	ck_assert_uint_eq(v.l4_len, 20 + 30);
}
END_TEST

START_TEST(icmp_echo_identifier_is_both_ports)
{
	struct pb_spec s = spec(IPPROTO_ICMP);
	size_t len = pb_build(buf, &s);

	ck_assert_int_eq(ipv4_parse(buf, len, &v), NAPT_DROP_NONE);
	ck_assert_uint_eq(v.icmp_type, ICMP_ECHO);
	ck_assert_uint_eq(v.sport, 40000);
	ck_assert_uint_eq(v.dport, 40000);
}
END_TEST

START_TEST(padding_after_total_length)
{
	/* Section 2: bytes after the total length are left alone, not an error. */
	struct pb_spec s = spec(IPPROTO_UDP);
	size_t len = pb_build(buf, &s);

	ck_assert_int_eq(ipv4_parse(buf, len + 10, &v), NAPT_DROP_NONE);
	ck_assert_uint_eq(v.tot_len, len);
	ck_assert_uint_eq(v.l4_len, len - 20);
}
END_TEST

START_TEST(icmp_error_types_accepted)
{
	static const uint8_t types[] = {ICMP_UNREACH, ICMP_TIME_EXCEED, ICMP_PARAM_PROB};
	static const uint8_t quote[28] = {0x45};
	struct pb_spec s = spec(IPPROTO_ICMP);

	s.quote = quote;
	s.quote_len = sizeof(quote);
	for (unsigned i = 0; i < sizeof(types); i++) {
		s.icmp_type = types[i];
		ck_assert_int_eq(ipv4_parse(buf, pb_build(buf, &s), &v), NAPT_DROP_NONE);
		ck_assert_uint_eq(v.icmp_type, types[i]);
	}
	s.icmp_type = 5; /* redirect */
	ck_assert_int_eq(ipv4_parse(buf, pb_build(buf, &s), &v), NAPT_DROP_UNSUPPORTED);
}
END_TEST

START_TEST(later_fragment_has_no_transport)
{
	struct pb_spec s = spec(IPPROTO_UDP);
	size_t len;

	s.frag = 185; /* offset 1480 bytes, last fragment */
	len = pb_build(buf, &s);
	ck_assert_int_eq(ipv4_parse(buf, len, &v), NAPT_DROP_NONE);
	ck_assert_ptr_null(v.l4);
	ck_assert_uint_eq(v.frag_offset, 1480);
	ck_assert(!v.more_frags);
	ck_assert(ipv4_is_fragment(&v));
	s.proto = 47;
	ck_assert_int_eq(ipv4_parse(buf, pb_build(buf, &s), &v), NAPT_DROP_UNSUPPORTED);
}
END_TEST

START_TEST(first_fragment_lengths_not_checked_against_data)
{
	/* The UDP length and the ICMP checksum cover the whole datagram, which a first
	 * fragment does not hold. */
	struct pb_spec s = spec(IPPROTO_UDP);
	size_t len;

	s.frag = 0x2000;
	len = pb_build(buf, &s);
	put16(buf + 20 + 4, 3000);
	ck_assert_int_eq(ipv4_parse(buf, len, &v), NAPT_DROP_NONE);
	ck_assert(v.more_frags);
	ck_assert_ptr_eq(v.l4, buf + 20);
	s.proto = IPPROTO_ICMP;
	len = pb_build(buf, &s);
	buf[20 + ICMP_OFF_CSUM] ^= 0xff;
	ck_assert_int_eq(ipv4_parse(buf, len, &v), NAPT_DROP_NONE);
}
END_TEST

START_TEST(malformed_packets)
{
	const struct pb_malformed *m = &pb_malformed_cases[_i];
	size_t len = m->make(buf);

	ck_assert_msg(ipv4_parse(buf, len, &v) == m->want, "%s: got %s, want %s", m->name,
		      napt_drop_reason_name(ipv4_parse(buf, len, &v)),
		      napt_drop_reason_name(m->want));
}
END_TEST

/* ---- quotes ---- */

/* An ICMP error quotes the IP header and at least 8 bytes (RFC 792); `keep` bytes of the
 * packet built from s are left in buf. */
static size_t quote_of(struct pb_spec s, size_t keep)
{
	size_t len = pb_build(buf, &s);

	return keep < len ? keep : len;
}

START_TEST(quote_of_eight_bytes)
{
	size_t len = quote_of(spec(IPPROTO_TCP), 28);

	ck_assert_int_eq(ipv4_parse_quote(buf, len, &v), NAPT_DROP_NONE);
	ck_assert_uint_eq(v.tot_len, 70); /* as written, longer than the quote */
	ck_assert_uint_eq(v.l4_len, 8);
	ck_assert_uint_eq(v.sport, 40000);
	ck_assert_uint_eq(v.dport, 443);
}
END_TEST

START_TEST(quote_of_echo)
{
	size_t len = quote_of(spec(IPPROTO_ICMP), 28);

	ck_assert_int_eq(ipv4_parse_quote(buf, len, &v), NAPT_DROP_NONE);
	ck_assert_uint_eq(v.sport, 40000);
	ck_assert_uint_eq(v.dport, 40000);
}
END_TEST

START_TEST(quote_refused)
{
	struct pb_spec s = spec(IPPROTO_UDP);
	static const uint8_t inner[28] = {0x45};
	size_t len;

	len = quote_of(s, 27); /* 7 transport bytes */
	ck_assert_int_eq(ipv4_parse_quote(buf, len, &v), NAPT_DROP_BAD_ICMP_QUOTE);
	ck_assert_int_eq(ipv4_parse_quote(buf, 19, &v), NAPT_DROP_BAD_ICMP_QUOTE);
	len = quote_of(s, 28);
	buf[IP_OFF_CSUM] ^= 1;
	ck_assert_int_eq(ipv4_parse_quote(buf, len, &v), NAPT_DROP_BAD_ICMP_QUOTE);
	s.frag = 10; /* a later fragment: no ports in it */
	ck_assert_int_eq(ipv4_parse_quote(buf, quote_of(s, 28), &v), NAPT_DROP_BAD_ICMP_QUOTE);
	s = spec(47);
	ck_assert_int_eq(ipv4_parse_quote(buf, quote_of(s, 28), &v), NAPT_DROP_BAD_ICMP_QUOTE);
	/* An error about an error is never sent (RFC 1122 3.2.2), so never translated. */
	s = spec(IPPROTO_ICMP);
	s.icmp_type = ICMP_TIME_EXCEED;
	s.quote = inner;
	s.quote_len = sizeof(inner);
	ck_assert_int_eq(ipv4_parse_quote(buf, quote_of(s, 28), &v), NAPT_DROP_BAD_ICMP_QUOTE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("packet");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, udp_with_options);
	tcase_add_test(tc, tcp_flags_and_ports);
	tcase_add_test(tc, icmp_echo_identifier_is_both_ports);
	tcase_add_test(tc, padding_after_total_length);
	tcase_add_test(tc, icmp_error_types_accepted);
	tcase_add_test(tc, later_fragment_has_no_transport);
	tcase_add_test(tc, first_fragment_lengths_not_checked_against_data);
	tcase_add_loop_test(tc, malformed_packets, 0, (int)pb_malformed_count);
	tcase_add_test(tc, quote_of_eight_bytes);
	tcase_add_test(tc, quote_of_echo);
	tcase_add_test(tc, quote_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
