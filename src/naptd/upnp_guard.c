/* SPDX-License-Identifier: BSD-2-Clause */
/* upnp_guard.c - pupnp's sockets on lan-interface only; Host and CALLBACK checked. */
#include "upnp_lib.h" /* first: it undoes pupnp's bool macros */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "upnp_guard.h"

#define SSDP_PORT 1900 /* UDA 1.1 section 1.1.2 */

/* ---- pupnp 1.8.4's internals (upnp/src/inc: miniserver.h, httpparser.h, sock.h,
 * httpreadwrite.h, gena.h, soaplib.h, webserver.h), as libupnp.a exports them ---- */

/* SOCKINFO: the connection and its peer (no TLS in Debian's build). */
struct upnp_sockinfo {
	int socket;
	struct sockaddr_storage foreign_sockaddr;
};
/* memptr: a header's value inside the message. */
struct upnp_memptr {
	char *buf;
	size_t length;
};
typedef void upnp_server_cb(void *parser, void *request, struct upnp_sockinfo *info);

#define UPNP_HDR_CALLBACK 2 /* httpparser.h's HDR_CALLBACK */
#define UPNP_HDR_HOST     7 /* HDR_HOST */
#define HTTP_FORBIDDEN    403

void SetSoapCallback(upnp_server_cb *callback);
void SetGenaCallback(upnp_server_cb *callback);
void SetHTTPGetCallback(upnp_server_cb *callback);
upnp_server_cb soap_device_callback, genaCallback, web_server_callback;
void *httpmsg_find_hdr(void *msg, int header_name_id, struct upnp_memptr *value);
int http_SendStatusResponse(struct upnp_sockinfo *info, int status, int major, int minor);

static _Atomic uint64_t *refused; /* naptd's count (set once, before the first request) */
static upnp_served_fn *served;    /* naptd's rules, and their cookie (set with refused) */
static void *served_cookie;

/* ---- the checks ---- */

/* addr's text, as in a URL: "a.b.c.d" (IPv6 is never served: upnp_igd.c). */
static bool addr_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

	return ss->ss_family == AF_INET && inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)cap);
}

bool upnp_host_ok(const char *host, size_t len, const struct sockaddr_storage *local)
{
	char addr[INET_ADDRSTRLEN], want[INET_ADDRSTRLEN + 8];
	int n;

	if (!host || !addr_text(local, addr, sizeof(addr)))
		return false;
	n = snprintf(want, sizeof(want), "%s:%u", addr,
		     ntohs(((const struct sockaddr_in *)local)->sin_port));
	return (size_t)n == len && memcmp(host, want, len) == 0;
}

bool upnp_callback_ok(const char *cb, size_t len, const struct sockaddr_storage *peer)
{
	static const char scheme[] = "<http://";
	const size_t k = sizeof(scheme) - 1;
	char addr[INET_ADDRSTRLEN];
	size_t a;

	if (!cb || len < k + 1 || strncmp(cb, scheme, k) != 0 || cb[len - 1] != '>' ||
	    memchr(cb + 1, '<', len - 1) || !addr_text(peer, addr, sizeof(addr)))
		return false;
	a = strlen(addr);
	/* "<http://" ADDR, then ':' (a port), '/' (a path) or the closing '>'. */
	return len > k + a && memcmp(cb + k, addr, a) == 0 &&
	       (cb[k + a] == ':' || cb[k + a] == '/' || cb[k + a] == '>');
}

/* ---- in front of the library's callbacks ---- */

static bool header(void *request, int id, struct upnp_memptr *v)
{
	*v = (struct upnp_memptr){0};
	return httpmsg_find_hdr(request, id, v) != NULL;
}

static bool host_matches(void *request, const struct upnp_sockinfo *info)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	struct upnp_memptr host;

	return getsockname(info->socket, (struct sockaddr *)&local, &len) == 0 &&
	       header(request, UPNP_HDR_HOST, &host) && upnp_host_ok(host.buf, host.length, &local);
}

/* Refused: 403 and nothing else (the library closes the connection after us). */
static void refuse(struct upnp_sockinfo *info)
{
	atomic_fetch_add(refused, 1);
	http_SendStatusResponse(info, HTTP_FORBIDDEN, 1, 1);
}

static void guarded_soap(void *parser, void *request, struct upnp_sockinfo *info)
{
	if (host_matches(request, info))
		soap_device_callback(parser, request, info);
	else
		refuse(info);
}

static void guarded_get(void *parser, void *request, struct upnp_sockinfo *info)
{
	if (host_matches(request, info))
		web_server_callback(parser, request, info);
	else
		refuse(info);
}

/* SUBSCRIBE carries CALLBACK; its renewal and UNSUBSCRIBE do not (UDA 1.1 section 4.1). A
 * new subscription takes one of the service's few (upnp_igd.c): only a host that naptd
 * serves may make one, as only such a host may call an action. */
static bool subscriber_ok(void *request, const struct upnp_sockinfo *info)
{
	const struct sockaddr_in *peer = (const struct sockaddr_in *)&info->foreign_sockaddr;
	struct upnp_memptr cb;

	if (!header(request, UPNP_HDR_CALLBACK, &cb))
		return true;
	/* upnp_callback_ok holds the peer to IPv4 before its address is read */
	return upnp_callback_ok(cb.buf, cb.length, &info->foreign_sockaddr) &&
	       served(served_cookie, peer->sin_addr.s_addr);
}

static void guarded_gena(void *parser, void *request, struct upnp_sockinfo *info)
{
	if (host_matches(request, info) && subscriber_ok(request, info))
		genaCallback(parser, request, info);
	else
		refuse(info);
}

/* ---- the sockets ---- */

/* Whether fd is one of the library's listening sockets: SSDP's port, or its HTTP server's
 * (UpnpGetServerPort), not on loopback (its internal stop socket). */
static bool library_socket(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;
	unsigned port;

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		port = ntohs(in->sin_port);
		if (ntohl(in->sin_addr.s_addr) >> 24 == 127)
			return false;
	} else if (ss.ss_family == AF_INET6) {
		port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		return false;
	}
	return port == SSDP_PORT || port == UpnpGetServerPort() || port == UpnpGetServerPort6();
}

/* Linux delivers a packet for any of its addresses on any interface: bound to lan, a socket
 * no longer sees what came in on the WAN (socket(7), SO_BINDTODEVICE). */
static int bind_sockets(const char *lan, char *err, size_t errlen)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned bound = 0;
	int rc = 0;

	if (!dir) {
		snprintf(err, errlen, "upnp: /proc/self/fd: %s", strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(dir))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(dir) || !library_socket(fd))
			continue;
		rc = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, lan, (socklen_t)strlen(lan));
		if (rc != 0)
			snprintf(err, errlen, "upnp: SO_BINDTODEVICE %s: %s", lan, strerror(errno));
		bound++;
	}
	closedir(dir);
	if (rc == 0 && bound < 2) { /* at least SSDP's and the HTTP server's */
		snprintf(err, errlen, "upnp: found %u of the library's sockets, not 2", bound);
		rc = -1;
	}
	return rc;
}

int upnp_guard_install(const char *lan, _Atomic uint64_t *count, upnp_served_fn *fn, void *cookie,
		       char *err, size_t errlen)
{
	refused = count;
	served = fn;
	served_cookie = cookie;
	if (bind_sockets(lan, err, errlen) != 0)
		return -1;
	SetSoapCallback(guarded_soap);
	SetGenaCallback(guarded_gena);
	SetHTTPGetCallback(guarded_get);
	return 0;
}
