/* SPDX-License-Identifier: BSD-2-Clause */
/* service_notify.c - sd_notify(3) messages to systemd (Type=notify, WatchdogSec=). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "service_notify.h"

/* Set by service_notify_ready(): sd_watchdog_enabled() reads the environment, once. */
static bool watchdog;

/* The datagram sd_notify(3) sends, sent without waiting: sd_notify() waits while the
 * receiver's queue is full, and the event loop, which sends WATCHDOG=1, would stop
 * forwarding for as long as the service manager does not read. A message that does not
 * fit is lost; a lost WATCHDOG=1 is what a late one would have told anyway. NOTIFY_SOCKET
 * is a path or, after '@', an abstract name (sd_notify(3)); anything else is ignored. */
static void notify(const char *msg)
{
	const char *to = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = to ? strlen(to) : 0;
	int fd;

	if (!to || (to[0] != '/' && to[0] != '@') || len < 2 || len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, to, len);
	if (to[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

void service_notify_ready(void)
{
	uint64_t usec;

	watchdog = sd_watchdog_enabled(0, &usec) > 0;
	notify("READY=1\nSTATUS=translating");
}

void service_notify_alive(void)
{
	if (watchdog)
		notify("WATCHDOG=1");
}

void service_notify_stopping(void)
{
	notify("STOPPING=1");
}
