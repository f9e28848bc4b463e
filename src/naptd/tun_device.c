/* tun_device.c - open the TUN device and bring it up with its MTU. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tun_device.h"

static int tun_attach(struct tun_device *tun, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;

	tun->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tun->fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* No packet information header: a read is exactly one IP packet. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(tun->fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "TUNSETIFF %s: %s", name, strerror(errno));
		close(tun->fd);
		tun->fd = -1;
		return -1;
	}
	snprintf(tun->name, sizeof(tun->name), "%s", ifr.ifr_name);
	return 0;
}

/* IFF_UP and the MTU in one RTM_NEWLINK request. */
static int tun_link_up(struct tun_device *tun, unsigned mtu, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
	int rc = sk && change ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;

	if (rc == 0)
		rc = rtnl_link_get_kernel(sk, 0, tun->name, &link);
	if (rc == 0) {
		tun->ifindex = rtnl_link_get_ifindex(link);
		rtnl_link_set_flags(change, IFF_UP);
		rtnl_link_set_mtu(change, mtu);
		rc = rtnl_link_change(sk, link, change, 0);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot set up with mtu %u: %s", tun->name, mtu,
			 nl_geterror(rc));
	rtnl_link_put(link);
	rtnl_link_put(change);
	nl_socket_free(sk);
	return rc < 0 ? -1 : 0;
}

int tun_device_open(struct tun_device *tun, const char *name, unsigned mtu, char *err,
		    size_t errlen)
{
	if (tun_attach(tun, name, err, errlen) != 0)
		return -1;
	if (tun_link_up(tun, mtu, err, errlen) != 0) {
		tun_device_close(tun);
		return -1;
	}
	return 0;
}

void tun_device_close(struct tun_device *tun)
{
	if (tun->fd >= 0)
		close(tun->fd);
	tun->fd = -1;
}
