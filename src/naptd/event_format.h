/* SPDX-License-Identifier: BSD-2-Clause */
/* event_format.h - one mapping or session event as a line of text: the mapping log's and
 * `naptctl monitor`'s format (docs/logging.md).
 *
 * key=value, keys always in the same order, so a line can be read by grep, awk or a log
 * shipper:
 *   event=mapping-new time=2026-12-07T14:02:11.250Z proto=udp inside=192.168.1.10:5000
 *   external=203.0.113.1:40123 remote=- origin=outbound
 * or one JSON object per line. An end says why: reason=timeout or reason=removed.
 */
#ifndef EVENT_FORMAT_H
#define EVENT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "nat_event.h"

/* Longest line either format writes, "\n" and NUL included. */
#define EVENT_LINE_MAX 320

/* Write e (its time_ms: wall clock, milliseconds since 1970) into buf as one line ending in
 * "\n". Returns its length. */
size_t event_format(const struct napt_event *e, bool json, char buf[EVENT_LINE_MAX]);
/* The line that stands for `count` events that could not be kept, noticed at time_ms. */
size_t event_format_lost(uint64_t count, uint64_t time_ms, bool json, char buf[EVENT_LINE_MAX]);

#endif
