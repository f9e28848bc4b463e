/* SPDX-License-Identifier: BSD-2-Clause */
/* link_mtu.c - the WAN link's MTU for "mss-clamp auto" (link_mtu.h). */
#include "link_mtu.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define IPV4_TCP_HEADERS 40

/* SIOCGIFMTU needs no privilege, so a reload after the daemon dropped its own works too. */
static int interface_mtu(const char *name, unsigned *mtu, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0) {
		snprintf(err, errlen, "mss-clamp auto: socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	rc = ioctl(fd, SIOCGIFMTU, &ifr);
	if (rc < 0)
		snprintf(err, errlen, "mss-clamp auto: cannot read the MTU of %s: %s", name,
			 strerror(errno));
	close(fd);
	*mtu = rc < 0 ? 0 : (unsigned)ifr.ifr_mtu;
	return rc < 0 ? -1 : 0;
}

int link_mtu_fill_mss(struct napt_config *cfg, char *err, size_t errlen)
{
	const char *wan = cfg->daemon.wan_interface[0] ? cfg->daemon.wan_interface
						       : cfg->daemon.external_interface;
	unsigned mtu;

	if (!cfg->daemon.mss_clamp_auto)
		return 0;
	if (interface_mtu(wan, &mtu, err, errlen) < 0)
		return -1;
	if (mtu <= IPV4_TCP_HEADERS || mtu - IPV4_TCP_HEADERS > UINT16_MAX) {
		snprintf(err, errlen, "mss-clamp auto: %s has an unusable MTU %u", wan, mtu);
		return -1;
	}
	cfg->mss_clamp = (uint16_t)(mtu - IPV4_TCP_HEADERS);
	return 0;
}
