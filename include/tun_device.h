/* tun_device.h - the TUN device naptd reads packets from and writes them back to. */
#ifndef TUN_DEVICE_H
#define TUN_DEVICE_H

#include <stddef.h>

#include "napt_config.h"

struct tun_device {
	int fd; /* non-blocking, close-on-exec */
	char name[NAPT_IFNAME_LEN];
	int ifindex;
};

/* Open (create, or attach to a persistent) TUN device named name, IFF_TUN | IFF_NO_PI:
 * each read gives one IPv4 packet with no extra header. Brings it up with mtu through
 * rtnetlink. Returns 0, or -1 with the reason in err and nothing left open. */
int tun_device_open(struct tun_device *tun, const char *name, unsigned mtu, char *err,
		    size_t errlen);

/* Close the device; a non-persistent TUN disappears with its routes. */
void tun_device_close(struct tun_device *tun);

#endif
