/* SPDX-License-Identifier: BSD-2-Clause */
/* upnp_lib.h - pupnp's headers (libupnp-dev), made to live with <stdbool.h>: its list.h
 * defines bool, true and false as macros of its own. Include it before any other header. */
#ifndef UPNP_LIB_H
#define UPNP_LIB_H

#include <upnp.h>
#include <upnptools.h>
#undef bool
#undef true
#undef false
#include <stdbool.h>

#endif
