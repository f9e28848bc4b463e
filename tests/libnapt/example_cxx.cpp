/* SPDX-License-Identifier: BSD-2-Clause */
/* example_cxx.cpp - libnapt's public headers, every one, from C++ (test_libnapt.sh builds it
 * with g++ against the installed headers and libnapt.so.0): they compile as C++ and their
 * names link unmangled (extern "C"). It parses a config, makes an instance, and checks a
 * datagram's header checksum through the inline RFC 1624 update and ipv4_parse(). */
#include <napt/checksum.h>
#include <napt/det_nat.h>
#include <napt/ipv4_packet.h>
#include <napt/napt.h>
#include <napt/napt_config.h>
#include <napt/nat_event.h>
#include <napt/session_save.h>

#include <cstdio>
#include <cstring>

int main()
{
	static const char conf[] = "inside 192.168.1.0/24\nexternal 203.0.113.10\n";
	napt_config cfg;
	char err[256];
	/* 192.168.1.10 -> 198.51.100.7, UDP 5000 -> 53, no payload, no UDP checksum. */
	uint8_t pkt[28] = {0x45, 0,  0,   28, 0,   0, 0,    0,    64, 17, 0, 0, 192, 168,
			   1,    10, 198, 51, 100, 7, 0x13, 0x88, 0,  53, 0, 8, 0,   0};
	uint16_t sum = csum_buffer(pkt, 20);
	uint32_t from, to;
	ipv4_view v;

	if (napt_config_parse_text(&cfg, conf, "example_cxx", err, sizeof err) != 0) {
		std::fprintf(stderr, "example_cxx: %s\n", err);
		return 1;
	}
	napt *n = napt_create(&cfg, 1, err, sizeof err);
	if (!n) {
		std::fprintf(stderr, "example_cxx: %s\n", err);
		return 1;
	}
	napt_destroy(n);
	std::memcpy(pkt + 10, &sum, 2);
	std::memcpy(&from, pkt + 12, 4);
	std::memcpy(&to, pkt + 16, 4); /* the source becomes the destination's address */
	sum = csum_update32(sum, from, to);
	std::memcpy(pkt + 12, &to, 4);
	std::memcpy(pkt + 10, &sum, 2);
	if (!csum_valid(pkt, 20) || ipv4_parse(pkt, sizeof pkt, &v) != NAPT_DROP_NONE) {
		std::fprintf(stderr, "example_cxx: checksum update or parse failed\n");
		return 1;
	}
	std::printf("c++: 7 headers, instance made, checksum updated\n");
	return 0;
}
