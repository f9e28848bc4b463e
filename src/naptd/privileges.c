/* SPDX-License-Identifier: BSD-2-Clause */
/* privileges.c - drop to CAP_NET_ADMIN once the TUN, the routing and the socket exist. */
#include <cap-ng.h>
#include <stdio.h>

#include "privileges.h"

int privileges_drop(char *err, size_t errlen)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN) != 0 ||
	    capng_apply(CAPNG_SELECT_BOTH) != 0) {
		snprintf(err, errlen, "cannot drop capabilities to CAP_NET_ADMIN");
		return -1;
	}
	return 0;
}
