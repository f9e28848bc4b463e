/* SPDX-License-Identifier: BSD-2-Clause */
/* service_notify.h - tell the service manager how naptd is doing (sd_notify(3)): ready once
 * set up, alive from the event loop (the watchdog of WatchdogSec=), stopping at exit. With no
 * NOTIFY_SOCKET in the environment (not started by systemd) each call does nothing. */
#ifndef SERVICE_NOTIFY_H
#define SERVICE_NOTIFY_H

/* READY=1: the TUN, the routing and the control socket are in place. Also reads the watchdog
 * interval (WATCHDOG_USEC) that service_notify_alive() serves. */
void service_notify_ready(void);

/* WATCHDOG=1 when the service manager asked for a watchdog. The event loop calls it each
 * second (its expiry tick), so a loop that hangs stops the pings and systemd restarts naptd;
 * the unit's WatchdogSec must leave room for a few ticks. */
void service_notify_alive(void);

/* STOPPING=1: naptd is removing what it set up before it exits. */
void service_notify_stopping(void);

#endif
