/* SPDX-License-Identifier: BSD-2-Clause */
/* service_notify.c - sd_notify(3) messages to systemd (Type=notify, WatchdogSec=). */
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-daemon.h>

#include "service_notify.h"

/* Set by service_notify_ready(): sd_watchdog_enabled() reads the environment, once. */
static bool watchdog;

void service_notify_ready(void)
{
	uint64_t usec;

	watchdog = sd_watchdog_enabled(0, &usec) > 0;
	sd_notify(0, "READY=1\nSTATUS=translating");
}

void service_notify_alive(void)
{
	if (watchdog)
		sd_notify(0, "WATCHDOG=1");
}

void service_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
