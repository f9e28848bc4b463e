/* SPDX-License-Identifier: BSD-2-Clause */
/* event_pump.c - from the engine's event ring to the mapping log and the monitors. */
#include "event_pump.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "event_monitor.h"
#include "ipfix_export.h"
#include "mapping_log.h"
#include "nat_event.h"

/* How long to wait before trying a full syslog socket again. */
#define SYSLOG_RETRY_MS 10

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Under systemd (JOURNAL_STREAM set) stderr is a stream to journald that blocks when it
 * falls behind: the mapping lines go to its syslog socket instead, without blocking. */
static const char *log_destination(const struct naptd *d)
{
	return d->foreground && !getenv("JOURNAL_STREAM") ? NULL : MAPPING_LOG_SYSLOG;
}

/* With port blocks the log has a line per block, not per mapping (docs/logging.md). */
static bool log_blocks(const struct naptd *d)
{
	return napt_get_config(d->nat)->port_block_size != 0;
}

/* The kinds of events someone reads now: only those are recorded (without a reader they
 * would only fill the ring, in a flush of a big table, and count as lost). */
static unsigned wanted(const struct naptd *d)
{
	unsigned kinds = 0;

	if (d->mapping_log)
		kinds |= mapping_log_kinds(log_blocks(d));
	if (d->ipfix)
		kinds |= NAPT_EVK_SESSIONS | NAPT_EVK_BLOCKS;
	if (event_monitor_count(d->monitor) > 0)
		kinds |= NAPT_EVK_MAPPINGS | NAPT_EVK_SESSIONS | NAPT_EVK_BLOCKS;
	return kinds;
}

int event_pump_open(struct naptd *d, char *err, size_t errlen)
{
	bool log = d->file_cfg.daemon.log_mappings;
	uint32_t capacity = EVENT_RING_SLACK + (log ? napt_get_config(d->nat)->max_sessions : 0);

	if (napt_events_enable(d->nat, capacity, false) < 0) {
		snprintf(err, errlen, "out of memory for an event ring of %u", capacity);
		return -1;
	}
	if (log && !(d->mapping_log =
			 mapping_log_open(d->nat, log_destination(d), log_blocks(d), err, errlen)))
		return -1;
	d->monitor = event_monitor_create(err, errlen);
	if (!d->monitor)
		return -1;
	if (d->file_cfg.daemon.ipfix_collector.addr &&
	    !(d->ipfix = ipfix_export_open(d, err, errlen)))
		return -1;
	napt_events_select(d->nat, wanted(d));
	return 0;
}

void event_pump_tick(struct naptd *d)
{
	ipfix_export_tick(d->ipfix, d->nat, wall_ms());
}

void event_pump_close(struct naptd *d)
{
	ipfix_export_close(d->ipfix);
	d->ipfix = NULL;
	event_monitor_destroy(d->monitor);
	d->monitor = NULL;
	mapping_log_close(d->mapping_log);
	d->mapping_log = NULL;
}

int event_pump_run(struct naptd *d)
{
	uint64_t now = wall_ms();
	enum mapping_log_state state = MAPPING_LOG_IDLE;

	napt_events_stamp(d->nat, now);
	event_monitor_feed(d->monitor, d->nat, now);
	if (d->ipfix)
		ipfix_export_feed(d->ipfix, d->nat);
	if (d->mapping_log) {
		state = mapping_log_write(d->mapping_log, d->nat, now);
		napt_events_release(d->nat, mapping_log_cursor(d->mapping_log));
	} else {
		napt_events_release(d->nat, napt_events_head(d->nat));
	}
	napt_events_select(d->nat, wanted(d));
	return state == MAPPING_LOG_IDLE ? -1 : state == MAPPING_LOG_MORE ? 0 : SYSLOG_RETRY_MS;
}
