/* SPDX-License-Identifier: BSD-2-Clause */
/* link_mtu.h - "mss-clamp auto": the WAN link's MTU, read when the config is loaded. */
#ifndef LINK_MTU_H
#define LINK_MTU_H

#include <stddef.h>

#include "napt_config.h"

/* With cfg->daemon.mss_clamp_auto: cfg->mss_clamp becomes the MTU of wan-interface (else of
 * the external interface) less 40 bytes, the IPv4 and TCP headers without options (RFC 879:
 * the MSS counts neither). Without it: nothing. Returns 0, or -1 with the reason in err. */
int link_mtu_fill_mss(struct napt_config *cfg, char *err, size_t errlen);

#endif
