/* SPDX-License-Identifier: BSD-2-Clause */
/* naptctl - send one command to naptd's control socket and print the answer.
 *
 * naptctl [-s SOCKET] [-j] COMMAND...: the words are joined with spaces into one request
 * line (docs/control-protocol.md). Exit 0 when naptd answers "ok" (the body goes to stdout),
 * 1 when it answers "error: ..." or the exchange breaks (the reason goes to stderr), 2 when
 * the socket cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_protocol.h"

#define EXIT_ERROR      1
#define EXIT_NO_CONNECT 2
/* naptd answers at once and sends a long table a piece at a time; this bounds a wait for
 * the next piece from a naptd that is stuck. */
#define ANSWER_TIMEOUT_S 60

static void usage(FILE *f)
{
	fprintf(f, "usage: naptctl [-s SOCKET] [-j] COMMAND...\n"
		   "  -s SOCKET  naptd's control socket (default " CONTROL_DEFAULT_SOCKET ")\n"
		   "  -j         JSON answer\n"
		   "Try: naptctl help\n");
}

/* The request line: optional "json ", the words joined with spaces, "\n". */
static char *build_request(int argc, char **argv, bool json)
{
	size_t len = strlen(CONTROL_JSON_PREFIX) + 2;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *req = malloc(len);
	if (!req)
		return NULL;
	strcpy(req, json ? CONTROL_JSON_PREFIX : "");
	for (int i = 0; i < argc; i++) {
		strcat(req, argv[i]);
		strcat(req, i + 1 < argc ? " " : "\n");
	}
	return req;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "naptctl: cannot connect to %s: path too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "naptctl: cannot connect to %s: %s (is naptd running?)\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = {.tv_sec = ANSWER_TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send the request. A server that refuses it (too long) may close early: its answer still
 * waits to be read, so a failed send is not reported here. */
static void send_request(int fd, const char *req)
{
	size_t len = strlen(req), off = 0;
	while (off < len) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return;
		off += (size_t)w;
	}
}

/* One read; the server's reset after a complete answer counts as its end. */
static ssize_t read_some(int fd, char *buf, size_t cap)
{
	for (;;) {
		ssize_t r = recv(fd, buf, cap, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ECONNRESET)
			return 0;
		return r;
	}
}

static int write_out(const char *buf, size_t len)
{
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

/* Read the first line into buf; returns its length up to "\n" and leaves in *got how much
 * buf holds. */
static ssize_t read_status(int fd, char *buf, size_t cap, size_t *got)
{
	*got = 0;
	while (*got < cap) {
		ssize_t r = read_some(fd, buf + *got, cap - *got);
		if (r <= 0)
			return -1;
		char *nl = memchr(buf + *got, '\n', (size_t)r);
		*got += (size_t)r;
		if (nl)
			return nl - buf;
	}
	return -1;
}

/* Print the answer: body to stdout after "ok", the reason to stderr after "error: ". */
static int print_answer(int fd)
{
	char buf[65536];
	size_t got;
	ssize_t status = read_status(fd, buf, sizeof(buf), &got);
	if (status < 0) {
		fprintf(stderr, "naptctl: no answer from naptd (%s)\n",
			errno ? strerror(errno) : "connection closed");
		return EXIT_ERROR;
	}
	size_t elen = strlen(CONTROL_ANSWER_ERROR);
	if ((size_t)status >= elen && memcmp(buf, CONTROL_ANSWER_ERROR, elen) == 0) {
		fprintf(stderr, "naptctl: %.*s\n", (int)((size_t)status - elen), buf + elen);
		return EXIT_ERROR;
	}
	if ((size_t)status != strlen(CONTROL_ANSWER_OK) ||
	    memcmp(buf, CONTROL_ANSWER_OK, (size_t)status) != 0) {
		fprintf(stderr, "naptctl: unexpected answer: %.*s\n", (int)status, buf);
		return EXIT_ERROR;
	}
	if (write_out(buf + status + 1, got - (size_t)status - 1) < 0)
		return EXIT_ERROR;
	char last = buf[got - 1];
	ssize_t r;
	while ((r = read_some(fd, buf, sizeof(buf))) > 0) {
		if (write_out(buf, (size_t)r) < 0)
			return EXIT_ERROR;
		last = buf[r - 1];
	}
	/* Every answer ends with a whole line: naptd closing mid-line (it exited, or dropped us
	 * at a deadline mid-listing) is not a complete answer. */
	if (r < 0 || last != '\n') {
		fprintf(stderr, "naptctl: answer cut short: %s\n",
			r < 0 ? strerror(errno) : "the connection closed mid-line");
		return EXIT_ERROR;
	}
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_ERROR;
}

int main(int argc, char **argv)
{
	const char *path = CONTROL_DEFAULT_SOCKET;
	bool json = false;
	int opt;
	while ((opt = getopt(argc, argv, "+s:jh")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	char *req = build_request(argc - optind, argv + optind, json);
	if (!req) {
		fprintf(stderr, "naptctl: out of memory\n");
		return EXIT_ERROR;
	}
	int fd = connect_to(path);
	if (fd < 0) {
		free(req);
		return EXIT_NO_CONNECT;
	}
	send_request(fd, req);
	free(req);
	errno = 0;
	int rc = print_answer(fd);
	close(fd);
	return rc;
}
