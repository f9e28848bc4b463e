/* SPDX-License-Identifier: BSD-2-Clause */
/* privileges.h - after set-up naptd keeps only CAP_NET_ADMIN (libcap-ng). */
#ifndef PRIVILEGES_H
#define PRIVILEGES_H

#include <stddef.h>

/* Keep CAP_NET_ADMIN in the effective and permitted sets and nothing else; empty the
 * inheritable and bounding sets, so nothing can be regained. The user stays root.
 * CAP_NET_ADMIN is what removing the routes, rules and neighbour entries at exit needs (and
 * writing the sysctls back); the state file, the pidfile and the control socket belong to
 * root, so plain file permissions cover them. Returns 0 or -1 with the reason in err. */
int privileges_drop(char *err, size_t errlen);

#endif
