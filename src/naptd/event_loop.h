/* SPDX-License-Identifier: BSD-2-Clause */
/* event_loop.h - naptd's one loop (epoll) over the TUN device, the control socket, the
 * signals (signalfd) and the expiry timer (timerfd). */
#ifndef EVENT_LOOP_H
#define EVENT_LOOP_H

#include <stddef.h>

#include "naptd.h"

/* Block SIGTERM, SIGINT and SIGHUP so they queue for the loop's signalfd (a SIGTERM during
 * set-up is then handled once the loop runs, with everything in place to remove). Ignores
 * SIGPIPE. Returns 0 or -1 with the reason in err. */
int event_loop_block_signals(char *err, size_t errlen);

/* Run until SIGTERM or SIGINT (returns 0) or a fatal error (-1, reason in err). */
int event_loop_run(struct naptd *d, char *err, size_t errlen);

#endif
