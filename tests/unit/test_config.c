/* SPDX-License-Identifier: BSD-2-Clause */
/* test_config.c - the config parser: every key, its defaults, and every error message. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "napt_config.h"
#include "unit_run.h"

#define BASE "inside 192.168.1.0/24\nexternal 203.0.113.10\n"

static struct napt_config cfg;
static char err[512];

static uint32_t ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void parse_ok(const char *text)
{
	err[0] = '\0';
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0,
		      "unexpected error: %s", err);
}

static void parse_fails(const char *text, const char *want)
{
	err[0] = '\0';
	ck_assert_int_eq(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
}

/* BASE plus one line (line 3 of the text). */
static void line_fails(const char *line, const char *want)
{
	char text[1024], full[600];

	snprintf(text, sizeof(text), BASE "%s\n", line);
	snprintf(full, sizeof(full), "t.conf:3: %s", want);
	parse_fails(text, full);
}

START_TEST(defaults)
{
	parse_ok(BASE);
	ck_assert_uint_eq(cfg.port_lo, 1024);
	ck_assert_uint_eq(cfg.port_hi, 65535);
	ck_assert_int_eq(cfg.mapping, NAPT_ENDPOINT_INDEPENDENT);
	ck_assert_int_eq(cfg.filtering, NAPT_ADDRESS_AND_PORT_DEPENDENT);
	ck_assert(cfg.port_preservation);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_UDP], 300);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_TCP_ESTABLISHED], 7440);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_TCP_TRANSITORY], 240);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_ICMP], 60);
	ck_assert_uint_eq(cfg.max_sessions, 1048576);
	ck_assert_uint_eq(cfg.n_forwards, 0);
	ck_assert(!cfg.has_dmz);
	ck_assert_str_eq(cfg.daemon.tun, "napt0");
	ck_assert_str_eq(cfg.daemon.control, "/run/naptd.sock");
	ck_assert_str_eq(cfg.daemon.lan_interface, "");
	ck_assert(cfg.daemon.manage_routes);
	ck_assert_uint_eq(cfg.daemon.mtu, 1500);
}
END_TEST

START_TEST(inside_and_external_lists)
{
	parse_ok("inside 192.168.1.0/24\ninside 10.0.0.0/8\ninside 172.16.5.4/32\n"
		 "external 203.0.113.10\nexternal 203.0.113.11\n");
	ck_assert_uint_eq(cfg.n_inside, 3);
	ck_assert_uint_eq(cfg.inside[1].addr, ip("10.0.0.0"));
	ck_assert_uint_eq(cfg.inside[1].mask, ip("255.0.0.0"));
	ck_assert_uint_eq(cfg.inside[1].len, 8);
	ck_assert_uint_eq(cfg.inside[2].mask, ip("255.255.255.255"));
	ck_assert_uint_eq(cfg.n_external, 2);
	ck_assert_uint_eq(cfg.external[0], ip("203.0.113.10"));
	ck_assert_uint_eq(cfg.external[1], ip("203.0.113.11"));
}
END_TEST

START_TEST(every_nat_key)
{
	parse_ok(BASE "port-range 40000-40001\nmapping address-dependent\n"
		      "filtering endpoint-independent\nport-preservation no\n"
		      "timeout udp 120\ntimeout tcp-established 7441\n"
		      "timeout tcp-transitory 241\ntimeout icmp 61\n"
		      "dmz 192.168.1.50\nmax-sessions 2   # comment\n");
	ck_assert_uint_eq(cfg.port_lo, 40000);
	ck_assert_uint_eq(cfg.port_hi, 40001);
	ck_assert_int_eq(cfg.mapping, NAPT_ADDRESS_DEPENDENT);
	ck_assert_int_eq(cfg.filtering, NAPT_ENDPOINT_INDEPENDENT);
	ck_assert(!cfg.port_preservation);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_UDP], 120);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_TCP_ESTABLISHED], 7441);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_TCP_TRANSITORY], 241);
	ck_assert_uint_eq(cfg.timeout_s[NAPT_TIMEOUT_ICMP], 61);
	ck_assert(cfg.has_dmz);
	ck_assert_uint_eq(cfg.dmz, ip("192.168.1.50"));
	ck_assert_uint_eq(cfg.max_sessions, 2);
	parse_ok(BASE "mapping address-and-port-dependent\nfiltering address-dependent\n"
		      "mapping endpoint-independent\nmax-sessions 16777216\n");
	ck_assert_int_eq(cfg.mapping, NAPT_ENDPOINT_INDEPENDENT);
	ck_assert_int_eq(cfg.filtering, NAPT_ADDRESS_DEPENDENT);
	ck_assert_uint_eq(cfg.max_sessions, 16777216);
}
END_TEST

/* The cone names as defined by RFC 3489 section 5, in RFC 4787 terms (brief of issue 4):
 * full cone EIM+EIF, restricted cone EIM+ADF, port-restricted cone EIM+APDF, symmetric
 * APDM+APDF. */
START_TEST(nat_type_sets_both)
{
	static const struct {
		const char *text;
		enum napt_behaviour mapping, filtering;
	} cases[] = {
	    {BASE "nat-type full-cone\n", NAPT_ENDPOINT_INDEPENDENT, NAPT_ENDPOINT_INDEPENDENT},
	    {BASE "nat-type restricted-cone\n", NAPT_ENDPOINT_INDEPENDENT, NAPT_ADDRESS_DEPENDENT},
	    {BASE "nat-type port-restricted-cone\n", NAPT_ENDPOINT_INDEPENDENT,
	     NAPT_ADDRESS_AND_PORT_DEPENDENT},
	    {BASE "mapping address-dependent\nfiltering endpoint-independent\n"
		  "nat-type symmetric\n",
	     NAPT_ADDRESS_AND_PORT_DEPENDENT, NAPT_ADDRESS_AND_PORT_DEPENDENT},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(cases[i].text);
		ck_assert_int_eq(cfg.mapping, cases[i].mapping);
		ck_assert_int_eq(cfg.filtering, cases[i].filtering);
	}
}
END_TEST

/* nat-type is a shorthand, not a lock: a later mapping or filtering line overrides half. */
START_TEST(nat_type_then_override)
{
	parse_ok(BASE "nat-type full-cone\nfiltering address-dependent\n");
	ck_assert_int_eq(cfg.mapping, NAPT_ENDPOINT_INDEPENDENT);
	ck_assert_int_eq(cfg.filtering, NAPT_ADDRESS_DEPENDENT);
	parse_ok(BASE "nat-type symmetric\nmapping address-dependent\n");
	ck_assert_int_eq(cfg.mapping, NAPT_ADDRESS_DEPENDENT);
	ck_assert_int_eq(cfg.filtering, NAPT_ADDRESS_AND_PORT_DEPENDENT);
}
END_TEST

START_TEST(nat_type_errors)
{
	line_fails("nat-type cone", "'nat-type' takes full-cone, restricted-cone, "
				    "port-restricted-cone or symmetric, not 'cone'");
	line_fails("nat-type Full-Cone", "'nat-type' takes full-cone, restricted-cone, "
					 "port-restricted-cone or symmetric, not 'Full-Cone'");
	line_fails("nat-type", "'nat-type' needs a NAT type");
	line_fails("nat-type symmetric full-cone", "trailing garbage 'full-cone' after 'nat-type'");
}
END_TEST

START_TEST(dmz_none_clears)
{
	parse_ok(BASE "dmz 192.168.1.50\ndmz none\n");
	ck_assert(!cfg.has_dmz);
}
END_TEST

START_TEST(daemon_keys)
{
	parse_ok(BASE "tun napt7\nlan-interface lan0\nwan-interface wan0\n"
		      "control /tmp/n.sock\nstate /var/lib/naptd/state\nmanage-routes no\n"
		      "mtu 1400\noffload no\ncoalesce no\n");
	ck_assert_str_eq(cfg.daemon.tun, "napt7");
	ck_assert_str_eq(cfg.daemon.lan_interface, "lan0");
	ck_assert_str_eq(cfg.daemon.wan_interface, "wan0");
	ck_assert_str_eq(cfg.daemon.control, "/tmp/n.sock");
	ck_assert_str_eq(cfg.daemon.state, "/var/lib/naptd/state");
	ck_assert(!cfg.daemon.manage_routes);
	ck_assert_uint_eq(cfg.daemon.mtu, 1400);
	ck_assert(!cfg.daemon.offload);
	ck_assert(!cfg.daemon.coalesce);
	parse_ok(BASE);
	ck_assert(cfg.daemon.offload);
	ck_assert(cfg.daemon.coalesce);
}
END_TEST

#define INSIDE_ONLY "inside 192.168.1.0/24\n"

/* Easy IP (docs/home-router.md): the interface's address is the external one, and the
 * default port range shrinks to the dynamic ports, 65535 excluded (ip rules cannot match it). */
START_TEST(external_interface)
{
	parse_ok(INSIDE_ONLY "external interface wan0\n");
	ck_assert_str_eq(cfg.daemon.external_interface, "wan0");
	ck_assert_uint_eq(cfg.n_external, 0);
	ck_assert_uint_eq(cfg.port_lo, 49152);
	ck_assert_uint_eq(cfg.port_hi, 65534);
	/* An explicit range wins, before or after the line. */
	parse_ok(INSIDE_ONLY "port-range 20000-30000\nexternal interface wan0\n");
	ck_assert_uint_eq(cfg.port_lo, 20000);
	ck_assert_uint_eq(cfg.port_hi, 30000);
	parse_ok(INSIDE_ONLY "external interface wan0\nport-range 20000-30000\n");
	ck_assert_uint_eq(cfg.port_lo, 20000);
	ck_assert_uint_eq(cfg.port_hi, 30000);
}
END_TEST

START_TEST(external_interface_errors)
{
	parse_fails(INSIDE_ONLY "external iface wan0\n",
		    "t.conf:2: 'external' needs an IPv4 address or 'interface NAME'");
	parse_fails(INSIDE_ONLY "external interface abcdefghijklmnop\n",
		    "t.conf:2: 'external interface' value 'abcdefghijklmnop' is longer than 15 "
		    "characters");
	parse_fails(INSIDE_ONLY "external interface wan0 now\n",
		    "t.conf:2: trailing garbage 'now' after 'external'");
	parse_fails(INSIDE_ONLY "external interface wan0\nport-range 40000-65535\n",
		    "t.conf: with 'external interface' the port-range ends at 65534 at most: ip "
		    "rules cannot match port 65535");
}
END_TEST

#define EASY_IP INSIDE_ONLY "external interface wan0\n"

/* The router's own ports under Easy IP (docs/home-router.md): local-service lines, and
 * local-ports, the kernel's ephemeral range, by default just below naptd's port range. */
START_TEST(local_ports_and_services)
{
	parse_ok(EASY_IP "local-service tcp 22\nlocal-service udp 5000-5010\n");
	ck_assert_uint_eq(cfg.local_ports_lo, 32768);
	ck_assert_uint_eq(cfg.local_ports_hi, 49151);
	ck_assert_uint_eq(cfg.n_local_services, 2);
	ck_assert_uint_eq(cfg.local_services[0].protos, NAPT_FWD_TCP);
	ck_assert_uint_eq(cfg.local_services[0].lo, 22);
	ck_assert_uint_eq(cfg.local_services[0].hi, 22);
	ck_assert_uint_eq(cfg.local_services[1].protos, NAPT_FWD_UDP);
	ck_assert_uint_eq(cfg.local_services[1].lo, 5000);
	ck_assert_uint_eq(cfg.local_services[1].hi, 5010);
	/* Before or after the Easy IP line, an explicit range wins. */
	parse_ok(INSIDE_ONLY "local-ports 20000-29999\nexternal interface wan0\n");
	ck_assert_uint_eq(cfg.local_ports_lo, 20000);
	ck_assert_uint_eq(cfg.local_ports_hi, 29999);
	/* A forward beside a local-service of the other protocol is fine. */
	parse_ok(EASY_IP "local-service tcp 22\nforward udp 22 192.168.1.5:22\n");
	/* Without Easy IP there are none. */
	parse_ok(BASE);
	ck_assert_uint_eq(cfg.local_ports_lo, 0);
	ck_assert_uint_eq(cfg.n_local_services, 0);
}
END_TEST

/* The combinations that cannot work together (docs/config.md). */
START_TEST(local_ports_errors)
{
	parse_fails(EASY_IP "local-service sctp 22\n",
		    "t.conf:3: 'local-service' takes tcp or udp, not 'sctp'");
	parse_fails(EASY_IP "local-service tcp 65535\n",
		    "t.conf:3: local-service: port 65535 cannot be steered by ip rules");
	parse_fails(EASY_IP "local-ports 30000\n",
		    "t.conf:3: 'local-ports' needs LOW-HIGH, like 32768-49151");
	parse_fails(EASY_IP "local-ports 500-900\n",
		    "t.conf:3: local-ports 500-900: needs LOW < HIGH within 1024-65534 (the "
		    "kernel's ephemeral range; ip rules cannot match 65535)");
	parse_fails(BASE "local-service tcp 22\n",
		    "t.conf: local-service and local-ports need 'external interface': other "
		    "external addresses are naptd's alone");
	parse_fails(EASY_IP "local-service tcp 22\nforward both 20-25 192.168.1.5:20\n",
		    "t.conf:4: forward both 20-25 refused: port 20-25 would hide local-service tcp "
		    "22");
	/* The router's DHCP client keeps udp 68 without a line (RFC 2131 section 4.1). */
	parse_fails(EASY_IP "forward udp 60-70 192.168.1.5:60\n",
		    "t.conf:3: forward udp 60-70 refused: port 60-70 would hide local-service udp "
		    "68 (the router's DHCP client)");
	parse_ok(EASY_IP "forward tcp 68 192.168.1.5:68\n");
	parse_ok(BASE "forward udp 68 192.168.1.5:68\n");
	parse_fails(EASY_IP "forward tcp 40000 192.168.1.5:80\n",
		    "t.conf:3: forward tcp 40000 refused: port 40000 overlaps local-ports "
		    "32768-49151 (the router's own connections)");
	parse_fails(EASY_IP "local-service udp 50000\n",
		    "t.conf: port-range: port 49152-65534 would hide local-service udp 50000");
	parse_fails(EASY_IP "local-ports 40000-50000\n",
		    "t.conf: port-range: port 49152-65534 overlaps local-ports 40000-50000 (the "
		    "router's own connections)");
}
END_TEST

/* pcp-allow/pcp-deny keep their order: the first rule holding a request decides. */
START_TEST(pcp_rules)
{
	parse_ok(BASE "pcp-deny 192.168.1.10/32 22\n"
		      "pcp-allow 192.168.1.0/24 1024-65535\n"
		      "pcp-deny 0.0.0.0/0 1-65535\n");
	ck_assert_uint_eq(cfg.daemon.n_pcp_rules, 3);
	ck_assert(!cfg.daemon.pcp_rules[0].allow);
	ck_assert_uint_eq(cfg.daemon.pcp_rules[0].hosts.addr, ip("192.168.1.10"));
	ck_assert_uint_eq(cfg.daemon.pcp_rules[0].hosts.mask, ip("255.255.255.255"));
	ck_assert_uint_eq(cfg.daemon.pcp_rules[0].lo, 22);
	ck_assert_uint_eq(cfg.daemon.pcp_rules[0].hi, 22);
	ck_assert(cfg.daemon.pcp_rules[1].allow);
	ck_assert_uint_eq(cfg.daemon.pcp_rules[1].hosts.addr, ip("192.168.1.0"));
	ck_assert_uint_eq(cfg.daemon.pcp_rules[1].hosts.len, 24);
	ck_assert_uint_eq(cfg.daemon.pcp_rules[1].lo, 1024);
	ck_assert_uint_eq(cfg.daemon.pcp_rules[1].hi, 65535);
	ck_assert(!cfg.daemon.pcp_rules[2].allow);
	ck_assert_uint_eq(cfg.daemon.pcp_rules[2].hosts.mask, 0);
	parse_ok(BASE);
	ck_assert_uint_eq(cfg.daemon.n_pcp_rules, 0);
}
END_TEST

START_TEST(pcp_rule_errors)
{
	line_fails("pcp-allow 192.168.1.0/24",
		   "'pcp-allow' needs a prefix and ports, like 192.168.1.0/24 1024-65535");
	line_fails("pcp-deny 192.168.1.0/24",
		   "'pcp-deny' needs a prefix and ports, like 192.168.1.0/24 1-1023");
	line_fails("pcp-allow 192.168.1.10 80", "'pcp-allow' needs a prefix like 192.168.1.0/24");
	line_fails("pcp-deny 192.168.1.5/24 80",
		   "pcp-deny prefix 192.168.1.5/24 has host bits set (the network is "
		   "192.168.1.0/24)");
	line_fails("pcp-allow 192.168.1.0/24 2000-1000", "port range 2000-1000 is reversed");
	line_fails("pcp-allow 192.168.1.0/24 0-1000", "port 0 is not allowed");
	line_fails("pcp-allow 192.168.1.0/24 1-2 3", "trailing garbage '3' after 'pcp-allow'");
}
END_TEST

/* upnp yes serves the hosts pcp-allow names: without one it would serve nobody. */
START_TEST(upnp_needs_pcp_allow)
{
	parse_fails(BASE "upnp yes\n",
		    "t.conf: 'upnp yes' serves the hosts a 'pcp-allow' line names: there is none");
	parse_ok(BASE "upnp yes\npcp-allow 192.168.1.0/24 1024-65535\n");
	ck_assert(cfg.daemon.upnp);
	parse_ok(BASE);
	ck_assert(!cfg.daemon.upnp);
	line_fails("upnp maybe", "'upnp' takes yes or no, not 'maybe'");
}
END_TEST

START_TEST(too_many_pcp_rules)
{
	char text[8192] = BASE;

	for (int i = 0; i <= NAPT_MAX_PCP_RULES; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "pcp-allow 192.168.1.%d/32 1024-65535\n", i);
	parse_fails(text, "t.conf:67: too many pcp-allow/pcp-deny lines (at most 64)");
}
END_TEST

START_TEST(forwards)
{
	parse_ok(BASE "forward tcp 8080 192.168.1.10:80\n"
		      "forward udp 5000-5010 192.168.1.20:6000-6010\n"
		      "forward both 7000-7001 192.168.1.30:9000\n");
	ck_assert_uint_eq(cfg.n_forwards, 3);
	ck_assert_uint_eq(cfg.forwards[0].protos, NAPT_FWD_TCP);
	ck_assert_uint_eq(cfg.forwards[0].ext_lo, 8080);
	ck_assert_uint_eq(cfg.forwards[0].ext_hi, 8080);
	ck_assert_uint_eq(cfg.forwards[0].in_addr, ip("192.168.1.10"));
	ck_assert_uint_eq(cfg.forwards[0].in_lo, 80);
	ck_assert_uint_eq(cfg.forwards[1].protos, NAPT_FWD_UDP);
	ck_assert_uint_eq(cfg.forwards[1].ext_hi, 5010);
	ck_assert_uint_eq(cfg.forwards[1].in_lo, 6000);
	ck_assert_uint_eq(cfg.forwards[2].protos, NAPT_FWD_TCP | NAPT_FWD_UDP);
	ck_assert_uint_eq(cfg.forwards[2].in_lo, 9000);
}
END_TEST

START_TEST(forward_format_round_trip)
{
	static const char *const texts[] = {
	    "tcp 8080 192.168.1.10:80",
	    "udp 5000-5010 192.168.1.20:6000-6010",
	    "both 1 10.0.0.1:65535",
	};
	struct napt_forward f;
	char buf[64];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_int_eq(napt_forward_parse(&f, texts[i], err, sizeof(err)), 0);
		ck_assert_int_eq(napt_forward_format(&f, buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, texts[i]);
	}
	ck_assert_int_eq(napt_forward_format(&f, buf, 5), -1);
}
END_TEST

START_TEST(forward_overlaps)
{
	struct napt_forward a, b;

	napt_forward_parse(&a, "tcp 8000-8100 192.168.1.10:8000", err, sizeof(err));
	napt_forward_parse(&b, "udp 8080 192.168.1.10:80", err, sizeof(err));
	ck_assert(!napt_forward_overlaps(&a, &b));
	napt_forward_parse(&b, "both 8100-8200 192.168.1.10:80", err, sizeof(err));
	ck_assert(napt_forward_overlaps(&a, &b));
	ck_assert(napt_forward_overlaps(&b, &a));
	napt_forward_parse(&b, "tcp 8101 192.168.1.10:80", err, sizeof(err));
	ck_assert(!napt_forward_overlaps(&a, &b));
}
END_TEST

START_TEST(forward_parse_errors)
{
	struct napt_forward f;

	ck_assert_int_eq(napt_forward_parse(&f, "sctp 80 192.168.1.1:80", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "forward: protocol 'sctp' is not tcp, udp or both");
	ck_assert_int_eq(napt_forward_parse(&f, "tcp 80", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "forward needs 'tcp|udp|both EXT[-EXT] ADDR:PORT[-PORT]'");
	ck_assert_int_eq(napt_forward_parse(&f, "tcp 80 192.168.1.1:80 x", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "trailing garbage 'x' after 'forward'");
	ck_assert_int_eq(napt_forward_parse(&f, "tcp 80 192.168.1.1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "forward: inside end '192.168.1.1' is not ADDR:PORT");
	ck_assert_int_eq(napt_forward_parse(&f, "tcp 80 192.168.1.300:80", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "forward: bad inside address '192.168.1.300'");
	ck_assert_int_eq(napt_forward_parse(&f, "tcp 100-200 192.168.1.1:65500", err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "forward: inside range from port 65500 runs past 65535");
}
END_TEST

START_TEST(timeout_class_names)
{
	for (int c = 0; c < NAPT_TIMEOUT_CLASSES; c++)
		ck_assert_int_eq(
		    napt_timeout_class_parse(napt_timeout_class_name((enum napt_timeout_class)c)),
		    c);
	ck_assert_int_eq(napt_timeout_class_parse("tcp"), -1);
	ck_assert_str_eq(napt_behaviour_name(NAPT_ADDRESS_DEPENDENT), "address-dependent");
	ck_assert_str_eq(napt_behaviour_name(NAPT_ADDRESS_AND_PORT_DEPENDENT),
			 "address-and-port-dependent");
}
END_TEST

START_TEST(errors_in_lines)
{
	line_fails("foo 1", "unknown keyword 'foo'");
	line_fails("inside", "'inside' needs a prefix like 192.168.1.0/24");
	line_fails("inside 10.0.0.1", "'inside' needs a prefix like 192.168.1.0/24");
	line_fails("inside 10.0.0.0/33", "bad prefix length 33");
	line_fails("inside 10.0.0.0/x", "bad prefix length 'x'");
	line_fails("inside 10.0.0.256/8", "bad address '10.0.0.256' in prefix 10.0.0.256/8");
	line_fails("inside 192.168.1.5/24",
		   "inside prefix 192.168.1.5/24 has host bits set (the network is "
		   "192.168.1.0/24)");
	line_fails("inside 10.0.0.0/8 extra", "trailing garbage 'extra' after 'inside'");
	line_fails("external 203.0.113", "'external' needs an IPv4 address, not '203.0.113'");
	line_fails("external 203.0.113.10", "external address 203.0.113.10 is listed twice");
	line_fails("external 0.0.0.0", "external address 0.0.0.0 cannot be used");
	line_fails("port-range 2000-1000", "port range 2000-1000 is reversed");
	line_fails("port-range 0-1000", "port 0 is not allowed");
	line_fails("port-range 1000-70000", "port 70000 is out of range 1..65535");
	line_fails("port-range 1000", "'port-range' needs LOW-HIGH, like 1024-65535");
	line_fails("port-range 1000-2000x", "bad port '2000x'");
	line_fails("port-range -5", "bad port ''");
	line_fails("mapping symmetric",
		   "'mapping' takes endpoint-independent, address-dependent or "
		   "address-and-port-dependent, not 'symmetric'");
	line_fails("filtering full-cone",
		   "'filtering' takes endpoint-independent, address-dependent or "
		   "address-and-port-dependent, not 'full-cone'");
	line_fails("port-preservation maybe", "'port-preservation' takes yes or no, not 'maybe'");
	line_fails("manage-routes 1", "'manage-routes' takes yes or no, not '1'");
	line_fails("timeout udp", "'timeout' needs a class and seconds, like 'timeout udp 300'");
	line_fails("timeout tcp 300",
		   "unknown timeout class 'tcp' (udp, tcp-established, tcp-transitory, icmp)");
	line_fails("timeout udp 0", "'timeout' value 0 is out of range 1..2000000");
	line_fails("timeout icmp 2000001", "'timeout' value 2000001 is out of range 1..2000000");
	line_fails("timeout udp 30s", "'timeout' needs a number, not '30s'");
	line_fails("timeout udp -1", "'timeout' needs a number, not '-1'");
	line_fails("max-sessions 0", "'max-sessions' value 0 is out of range 1..16777216");
	line_fails("max-sessions 16777217",
		   "'max-sessions' value 16777217 is out of range 1..16777216");
	line_fails("max-sessions 99999999999", "'max-sessions' needs a number, not '99999999999'");
	line_fails("mtu 67", "'mtu' value 67 is out of range 68..65535");
	line_fails("dmz nobody", "'dmz' needs an IPv4 address or none, not 'nobody'");
	line_fails("tun abcdefghijklmnop", "'tun' value 'abcdefghijklmnop' is longer than 15 "
					   "characters");
	line_fails("forward tcp 0 192.168.1.10:80", "port 0 is not allowed");
	line_fails("forward tcp 80 192.168.1.10:0", "port 0 is not allowed");
	line_fails("forward udp 5000-5010 192.168.1.20:6000-6005",
		   "forward: external range 5000-5010 (11 ports) and inside range 6000-6005 (6 "
		   "ports) differ in length");
	line_fails("forward tcp 9000-8000 192.168.1.20:80", "port range 9000-8000 is reversed");
	line_fails("forward tcp 80 192.168.1.10:80 now", "trailing garbage 'now' after 'forward'");
}
END_TEST

START_TEST(whole_file_errors)
{
	parse_fails("external 203.0.113.10\n",
		    "t.conf: no 'inside' prefix: at least one is needed");
	parse_fails("inside 192.168.1.0/24\n",
		    "t.conf: no 'external' address: at least one is needed");
	parse_fails("inside 192.168.0.0/16\n\nexternal 192.168.1.1\n",
		    "t.conf:3: external address 192.168.1.1 lies inside 192.168.0.0/16 (RFC 4787 "
		    "REQ-7)");
	parse_fails("external 192.168.1.1\ninside 192.168.1.0/24\n",
		    "t.conf:2: external address 192.168.1.1 lies inside 192.168.1.0/24 (RFC 4787 "
		    "REQ-7)");
	parse_fails(BASE "forward tcp 8000-8100 192.168.1.10:8000\n"
			 "forward udp 8080 192.168.1.10:80\n"
			 "forward tcp 8080 192.168.1.10:80\n",
		    "t.conf:5: forward tcp 8080 overlaps forward tcp 8000-8100");
	parse_fails(BASE "forward both 53 192.168.1.10:53\nforward udp 50-60 192.168.1.11:50\n",
		    "t.conf:4: forward udp 50-60 overlaps forward both 53");
	parse_fails(BASE "forward tcp 80 10.1.1.1:80\n",
		    "t.conf:3: forward tcp 80 goes to 10.1.1.1, which is in no 'inside' prefix");
	parse_fails(BASE "dmz 10.1.1.1\n", "t.conf:3: dmz host 10.1.1.1 is in no 'inside' prefix");
}
END_TEST

START_TEST(limits)
{
	char text[4096] = "external 203.0.113.10\n";

	for (int i = 0; i <= NAPT_MAX_INSIDE; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "inside 10.%d.0.0/16\n",
			 i);
	parse_fails(text, "t.conf:18: too many 'inside' prefixes (at most 16)");
	strcpy(text, "inside 10.0.0.0/8\n");
	for (int i = 0; i <= NAPT_MAX_EXTERNAL; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "external 203.0.113.%d\n", i + 1);
	parse_fails(text, "t.conf:18: too many 'external' addresses (at most 16)");
}
END_TEST

START_TEST(too_many_forwards)
{
	size_t cap = 64 * (NAPT_MAX_FORWARDS + 4);
	char *text = malloc(cap);
	size_t n = (size_t)snprintf(text, cap, BASE);

	for (int i = 0; i <= NAPT_MAX_FORWARDS; i++)
		n += (size_t)snprintf(text + n, cap - n, "forward tcp %d 192.168.1.10:80\n",
				      10000 + i);
	parse_fails(text, "t.conf:1027: too many forwards (at most 1024)");
	free(text);
}
END_TEST

START_TEST(comments_blanks_and_crlf)
{
	parse_ok("# a comment\n\n   \t\ninside 192.168.1.0/24 # trailing comment\r\n"
		 "external 203.0.113.10\r\nmtu 9000");
	ck_assert_uint_eq(cfg.daemon.mtu, 9000);
	ck_assert_int_eq(napt_config_parse_line(&cfg, "# only a comment", err, sizeof(err)), 0);
	ck_assert_int_eq(napt_config_parse_line(&cfg, "", err, sizeof(err)), 0);
}
END_TEST

START_TEST(validate_alone)
{
	napt_config_defaults(&cfg);
	ck_assert_int_eq(napt_config_validate(&cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no 'inside' prefix: at least one is needed");
	ck_assert_int_eq(napt_config_parse_line(&cfg, "inside 10.0.0.0/8", err, sizeof(err)), 0);
	ck_assert_int_eq(napt_config_parse_line(&cfg, "external 10.9.9.9", err, sizeof(err)), 0);
	ck_assert_int_eq(napt_config_validate(&cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "external address 10.9.9.9 lies inside 10.0.0.0/8 (RFC 4787 REQ-7)");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, inside_and_external_lists);
	tcase_add_test(tc, every_nat_key);
	tcase_add_test(tc, nat_type_sets_both);
	tcase_add_test(tc, nat_type_then_override);
	tcase_add_test(tc, nat_type_errors);
	tcase_add_test(tc, dmz_none_clears);
	tcase_add_test(tc, daemon_keys);
	tcase_add_test(tc, external_interface);
	tcase_add_test(tc, external_interface_errors);
	tcase_add_test(tc, local_ports_and_services);
	tcase_add_test(tc, local_ports_errors);
	tcase_add_test(tc, pcp_rules);
	tcase_add_test(tc, pcp_rule_errors);
	tcase_add_test(tc, upnp_needs_pcp_allow);
	tcase_add_test(tc, too_many_pcp_rules);
	tcase_add_test(tc, forwards);
	tcase_add_test(tc, forward_format_round_trip);
	tcase_add_test(tc, forward_overlaps);
	tcase_add_test(tc, forward_parse_errors);
	tcase_add_test(tc, timeout_class_names);
	tcase_add_test(tc, errors_in_lines);
	tcase_add_test(tc, whole_file_errors);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, too_many_forwards);
	tcase_add_test(tc, comments_blanks_and_crlf);
	tcase_add_test(tc, validate_alone);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
