/* SPDX-License-Identifier: BSD-2-Clause */
/* event_monitor.h - `naptctl monitor`: mapping and session events streamed to control socket
 * clients as they happen, one line each (event_format.h; JSON lines with -j).
 *
 * A client that asked for `monitor` is handed over here by the control server and stays
 * connected. Each gets the events of each loop iteration in a buffer of its own, written
 * without blocking: a reader too slow to keep up never slows the packet path, it loses the
 * events its buffer cannot hold, and is told how many (an event=lost line) once there is
 * room again. The engine records mapping events only while a monitor or the log reads them,
 * session events while a monitor or IPFIX export does (event_pump.c).
 */
#ifndef EVENT_MONITOR_H
#define EVENT_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "napt.h"

/* Monitors at once; more are refused. */
#define EVENT_MONITOR_MAX 8
/* Bytes of lines kept for one reader that does not read. */
#define EVENT_MONITOR_BUFFER (64 * 1024)

struct event_monitor;

struct event_monitor *event_monitor_create(char *err, size_t errlen);
void event_monitor_destroy(struct event_monitor *m);
/* One fd for the daemon's epoll, EPOLLIN: a reader went away or can take more. */
int event_monitor_fd(const struct event_monitor *m);
void event_monitor_dispatch(struct event_monitor *m);

/* Take over connected client fd (its request was `monitor`): answers "ok" and streams from
 * the next event on. Returns 0, or -1 (too many monitors, out of memory: the client is told,
 * fd closed) with the reason in err. */
int event_monitor_adopt(struct event_monitor *m, struct napt *n, int fd, bool json, char *err,
			size_t errlen);
/* Send every event recorded since the last call to each monitor. */
void event_monitor_feed(struct event_monitor *m, const struct napt *n, uint64_t now_ms);
/* Events no reader had room for, all readers together; 0 for NULL. */
uint64_t event_monitor_lost(const struct event_monitor *m);
unsigned event_monitor_count(const struct event_monitor *m); /* readers now; 0 for NULL */

#endif
