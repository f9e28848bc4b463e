/* SPDX-License-Identifier: BSD-2-Clause */
/* event_pump.h - the engine's mapping and session events (nat_event.h) to their readers: the
 * mapping log (mapping_log.h) and `naptctl monitor` (event_monitor.h), once per loop
 * iteration. */
#ifndef EVENT_PUMP_H
#define EVENT_PUMP_H

#include <stddef.h>

#include "naptd.h"

/* Events the ring holds beside the mapping log's share: a loop iteration's worth for the
 * monitors, many times over. */
#define EVENT_RING_SLACK 65536

/* The ring (IPFIX export too, with ipfix-collector): with log-mappings, room for every mapping the
 * table can hold to end at once (a flush) on top of a backlog of EVENT_RING_SLACK, so the log drops
 * nothing; without, the slack alone. Opens the mapping log and the monitor. Returns 0, or -1 with
 * the reason. */
int event_pump_open(struct naptd *d, char *err, size_t errlen);
void event_pump_close(struct naptd *d);

/* After each loop iteration: time the new events, hand them on, free what all have taken.
 * Returns how long the loop may wait for its next event in ms (epoll_wait's timeout): -1
 * (as long as it likes), 0 (log lines are waiting) or a few ms (syslog's socket is full). */
int event_pump_run(struct naptd *d);
/* Once a second: what is due once a second (IPFIX limit events and templates). */
void event_pump_tick(struct naptd *d);

#endif
