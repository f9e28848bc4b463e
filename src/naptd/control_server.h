/* SPDX-License-Identifier: BSD-2-Clause */
/* control_server.h - naptd's control socket: a unix stream socket, one request per connection.
 *
 * All the socket's file descriptors (the listening socket, the clients, a timer for their
 * deadlines) sit behind one inner epoll fd, so the daemon's loop watches a single fd and
 * calls control_server_dispatch() when it is readable. Nothing here blocks.
 */
#ifndef CONTROL_SERVER_H
#define CONTROL_SERVER_H

#include <stddef.h>

#include "naptd.h"

struct control_server;

/* Listen on path (mode 0600). A stale socket file is replaced only if nobody answers on it.
 * Returns NULL with the reason in err. */
struct control_server *control_server_open(struct naptd *d, const char *path, char *err,
					   size_t errlen);
/* One fd for the daemon's epoll, EPOLLIN. */
int control_server_fd(const struct control_server *cs);
/* Called when that fd is readable: accepts, reads, answers, drops clients past their deadline. */
void control_server_dispatch(struct control_server *cs);
/* Closes every client and the socket and removes the socket file. */
void control_server_close(struct control_server *cs);

#endif
