/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics_http.h - `metrics-listen ADDR:PORT`: the counters in the Prometheus text format
 * (version 0.0.4) at http://ADDR:PORT/metrics, served by libmicrohttpd.
 *
 * libmicrohttpd runs in its external epoll mode: its one epoll fd sits in naptd's loop and
 * MHD_run() serves what is ready without blocking, in the loop's thread, so the engine is
 * read from the only thread that touches it and a scrape costs the loop no more than the
 * text it writes. The listening socket is bound to the address and to the interface that
 * holds it (SO_BINDTODEVICE): a request that reached the box on another interface, even
 * for that address, is refused by the kernel. Nothing listens unless configured.
 */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include <stddef.h>

#include "naptd.h"

struct metrics_http;

/* Listen on d's metrics-listen. Returns NULL with the reason in err. */
struct metrics_http *metrics_http_open(struct naptd *d, char *err, size_t errlen);
void metrics_http_close(struct metrics_http *m);
/* One fd for the daemon's epoll, EPOLLIN. */
int metrics_http_fd(const struct metrics_http *m);
/* Serve what is ready (and drop clients past their timeout): when the fd is readable, and
 * once a second. NULL: nothing. */
void metrics_http_dispatch(struct metrics_http *m);

/* The whole page, as a scrape gets it: for the tests. Returns 0, or -1 out of memory. */
struct control_answer;
int metrics_http_page(const struct naptd *d, struct control_answer *a);

#endif
