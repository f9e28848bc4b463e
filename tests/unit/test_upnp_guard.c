/* SPDX-License-Identifier: BSD-2-Clause */
/* test_upnp_guard.c - the UPnP header checks (upnp_guard.h) on hostile values: the Host of a
 * DNS-rebinding page, look-alike addresses and ports, a CALLBACK to a third party, several
 * CALLBACKs, truncated and oversized texts. The expected answers come from the rules as
 * UDA 1.1 and RFC 7230 section 5.4 state them (Host is "address:port" of the server asked;
 * CALLBACK is one or more "<URL>"), not from the code. */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "unit_run.h"
#include "upnp_guard.h"

static struct sockaddr_storage v4(const char *addr, unsigned port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &in->sin_addr);
	return ss;
}

static bool host(const char *text)
{
	struct sockaddr_storage local = v4("192.168.1.1", 49152);

	return upnp_host_ok(text, text ? strlen(text) : 0, &local);
}

static bool callback(const char *text)
{
	struct sockaddr_storage peer = v4("192.168.1.2", 0);

	return upnp_callback_ok(text, text ? strlen(text) : 0, &peer);
}

START_TEST(host_is_the_address_and_port_asked)
{
	ck_assert(host("192.168.1.1:49152"));
	ck_assert(!host(NULL));
	ck_assert(!host(""));
	ck_assert(!host("evil.example:49152"));
	ck_assert(!host("evil.example"));
	ck_assert(!host("192.168.1.1"));        /* no port: port 80 by default */
	ck_assert(!host("192.168.1.1:4915"));   /* a prefix of the port */
	ck_assert(!host("192.168.1.1:491520")); /* the port and more */
	ck_assert(!host("192.168.1.10:49152")); /* a look-alike address */
	ck_assert(!host("192.168.1.1:49152 ")); /* trailing text */
	ck_assert(!host("192.168.1.1.nip.io:49152"));
	ck_assert(!host("[::ffff:192.168.1.1]:49152"));
}
END_TEST

START_TEST(host_on_ipv6_is_refused)
{
	struct sockaddr_storage local = {.ss_family = AF_INET6};

	ck_assert(!upnp_host_ok("[::1]:49152", 11, &local));
}
END_TEST

START_TEST(callback_is_the_subscriber_itself)
{
	ck_assert(callback("<http://192.168.1.2:5000/notify>"));
	ck_assert(callback("<http://192.168.1.2/>"));
	ck_assert(callback("<http://192.168.1.2>"));
	ck_assert(!callback(NULL));
	ck_assert(!callback(""));
	ck_assert(!callback("<http://198.51.100.2:80/>"));   /* a third party */
	ck_assert(!callback("<http://192.168.1.20:5000/>")); /* a look-alike */
	ck_assert(!callback("<http://192.168.1.2.evil.example/>"));
	ck_assert(!callback("<http://192.168.1.2@198.51.100.2/>"));          /* userinfo trick */
	ck_assert(!callback("<http://192.168.1.2/><http://198.51.100.2/>")); /* a second URL */
	ck_assert(!callback("<https://192.168.1.2/>"));
	ck_assert(!callback("http://192.168.1.2/"));
	ck_assert(!callback("<http://192.168.1.2/"));
	ck_assert(!callback("<http://>"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("upnp_guard");
	TCase *tc = tcase_create("headers");

	tcase_add_test(tc, host_is_the_address_and_port_asked);
	tcase_add_test(tc, host_on_ipv6_is_refused);
	tcase_add_test(tc, callback_is_the_subscriber_itself);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
