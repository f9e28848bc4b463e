/* SPDX-License-Identifier: BSD-2-Clause */
/* tun_device.c - open the TUN device with its offloads, bring it up, move frames. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ipv4_packet.h"
#include "tun_device.h"

/* UDP segmentation offload (Linux 6.2), newer than some installed uapi headers. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* The GSO packets naptd passes on whole: TCP, with or without ECN (CWR set), and UDP. The
 * kernel grants UDP only for both families at once (one feature, NETIF_F_GSO_UDP_L4, behind
 * them: USO4 alone is EINVAL). No IPv6 is routed into the device; a GSO one would be refused
 * whole (tun_device_frame_packet), any other dropped by the engine as bad-version. */
#define TUN_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)
#define TUN_USO      (TUN_F_USO4 | TUN_F_USO6)

static int tun_attach(struct tun_device *tun, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int no_filter = -1;

	tun->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tun->fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* No packet information header: a frame is the virtio_net_hdr and one IP packet.
	 * IFF_NAPI: what naptd writes goes through a NAPI queue and GRO (tun_napi_threaded). */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_NAPI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(tun->fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "TUNSETIFF %s: %s", name, strerror(errno));
		close(tun->fd);
		tun->fd = -1;
		return -1;
	}
	snprintf(tun->name, sizeof(tun->name), "%s", ifr.ifr_name);
	/* A device made persistent ("ip tuntap add") outlives a naptd killed before it could
	 * detach its eBPF filter, whose frozen port map would drop the replies of every new
	 * flow: none until this naptd attaches its own (tun_filter.c). An error (a kernel
	 * without TUNSETFILTEREBPF) means there is none. */
	(void)ioctl(tun->fd, TUNSETFILTEREBPF, &no_filter);
	return 0;
}

/* The virtio_net_hdr is little-endian (TUNSETVNETLE: the same on every host) and of the
 * legacy size. USO is asked for first; a kernel without it refuses the whole set with
 * EINVAL, so the rest is asked for again alone. Without any offload the header is
 * still there, all zeros: the kernel completes checksums and segments before the read. */
static void tun_offloads(struct tun_device *tun, bool offload)
{
	int hdr = (int)sizeof(struct virtio_net_hdr), le = 1;

	tun->offloads = 0;
	if (ioctl(tun->fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(tun->fd, TUNSETVNETLE, &le) < 0 ||
	    !offload)
		return;
	if (ioctl(tun->fd, TUNSETOFFLOAD, TUN_OFFLOADS | TUN_USO) == 0)
		tun->offloads = TUN_OFFLOADS | TUN_USO;
	else if (ioctl(tun->fd, TUNSETOFFLOAD, TUN_OFFLOADS) == 0)
		tun->offloads = TUN_OFFLOADS;
}

const char *tun_device_offload_names(const struct tun_device *tun, char *buf, size_t len)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {{TUN_F_CSUM, "csum"},
		     {TUN_F_TSO4, "tso4"},
		     {TUN_F_TSO_ECN, "tso-ecn"},
		     {TUN_F_USO4, "uso4"},
		     {TUN_F_USO6, "uso6"}};
	size_t used = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((tun->offloads & names[i].flag) && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
						 names[i].name);
	return buf;
}

/* The device's NAPI instance polled by a kernel thread of its own (Linux 5.12) rather than
 * in the softirq that naptd's write() itself runs: the frames naptd writes then pile up in
 * the queue while the thread is busy, so GRO coalesces the TCP segments of a burst into
 * one GSO packet that the kernel routes once, and routing them on to the output device
 * (and into a local receiver) is done beside naptd on the other core instead of inside its
 * write(). With veth offloads off this doubled TCP through naptd (docs/performance.md).
 * Best effort: sysfs is the only interface on older kernels, and is checked to show this
 * namespace's device (same ifindex) before writing. Without it the device works as before. */
static bool tun_napi_threaded(const struct tun_device *tun)
{
	char path[64 + IFNAMSIZ], buf[16];
	bool done = false;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", tun->name);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f) || atoi(buf) != tun->ifindex) {
		fclose(f);
		return false;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", tun->name);
	f = fopen(path, "we");
	if (f) {
		done = fputs("1", f) >= 0;
		done = fclose(f) == 0 && done;
	}
	return done;
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

int tun_device_open(struct tun_device *tun, const char *name, unsigned mtu, bool offload, char *err,
		    size_t errlen)
{
	tun->frames_refused = 0;
	tun->frames_merged = 0;
	tun->coalesce_tcp = tun->coalesce_udp = false;
	if (tun_attach(tun, name, err, errlen) != 0)
		return -1;
	tun_offloads(tun, offload);
	if (tun_link_up(tun, mtu, err, errlen) != 0) {
		tun_device_close(tun);
		return -1;
	}
	tun->napi_threaded = tun_napi_threaded(tun);
	return 0;
}

ssize_t tun_device_read(const struct tun_device *tun, uint8_t *buf, size_t cap)
{
	ssize_t n = read(tun->fd, buf, cap);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0)
		errno = ENODEV;
	return n > 0 ? n : -1;
}

/* Whether a partial checksum is the TCP or UDP checksum of a whole (unfragmented) packet:
 * checksummed from the transport header on, into its checksum field. Only that one the
 * engine knows how to carry (napt.h: csum_partial). */
static bool partial_is_l4(const uint8_t *ip, size_t len, unsigned start, unsigned offset)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	unsigned want = ip[9] == IPPROTO_TCP ? TCP_OFF_CSUM : UDP_OFF_CSUM;

	/* Version 4, and neither MF nor a fragment offset (RFC 791 3.1). */
	if (len < IPV4_MIN_HDR || ip[0] >> 4 != 4 || (get16(ip + 6) & 0x3fff) != 0)
		return false;
	if (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP)
		return false;
	return start == ihl && offset == want && (size_t)start + offset + 2 <= len;
}

static bool gso_type_known(uint8_t gso_type)
{
	uint8_t base = gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	return base == VIRTIO_NET_HDR_GSO_NONE || base == VIRTIO_NET_HDR_GSO_TCPV4 ||
	       base == VIRTIO_NET_HDR_GSO_UDP_L4;
}

/* Without NEEDS_CSUM the checksums in the packet are whole ones (DATA_VALID only says the
 * kernel checked them) and the engine updates them as usual. A GSO frame always has a
 * partial checksum: the kernel computes the real ones when it cuts the segments. */
static bool vnet_frame_packet(const struct virtio_net_hdr *vh, uint8_t *ip, size_t len,
			      struct napt_packet *pkt)
{
	bool partial = vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;

	if (!gso_type_known(vh->gso_type))
		return false;
	if (!partial)
		pkt->csum_partial = false;
	else if (partial_is_l4(ip, len, le16toh(vh->csum_start), le16toh(vh->csum_offset)))
		pkt->csum_partial = true;
	else
		return false;
	return partial || vh->gso_type == VIRTIO_NET_HDR_GSO_NONE;
}

bool tun_device_frame_packet(struct tun_device *tun, uint8_t *frame, size_t len,
			     struct napt_packet *pkt)
{
	struct virtio_net_hdr vh;

	pkt->data = frame + sizeof(vh);
	pkt->len = len > sizeof(vh) ? len - sizeof(vh) : 0;
	pkt->cap = TUN_PACKET_MAX;
	pkt->csum_partial = false;
	memcpy(&vh, frame, sizeof(vh));
	if (pkt->len && vnet_frame_packet(&vh, pkt->data, pkt->len, pkt))
		return true;
	tun->frames_refused++;
	return false;
}

/* A full queue (EAGAIN, ENOBUFS) drops the frame, as a router's full interface queue
 * would; TCP and the applications recover. */
int tun_device_write(const struct tun_device *tun, const uint8_t *frame, size_t len)
{
	return write(tun->fd, frame, len) == (ssize_t)len ? 0 : -1;
}

void tun_device_set_coalesce(struct tun_device *tun, bool want)
{
	tun->coalesce_tcp = want && (tun->offloads & TUN_F_TSO4);
	tun->coalesce_udp = tun->coalesce_tcp && (tun->offloads & TUN_F_USO4);
}

const char *tun_device_coalesce_names(const struct tun_device *tun)
{
	return tun->coalesce_udp ? "tcp udp" : tun->coalesce_tcp ? "tcp" : "off";
}

unsigned tun_device_write_burst(struct tun_device *tun, struct tun_frame *frames, unsigned n)
{
	unsigned refused = 0;

	if (tun->coalesce_tcp)
		tun->frames_merged += tun_coalesce(frames, n, tun->coalesce_udp);
	for (unsigned i = 0; i < n; i++)
		if (frames[i].len && tun_device_write(tun, frames[i].buf, frames[i].len) != 0)
			refused++;
	return refused;
}

int tun_device_write_new(const struct tun_device *tun, uint8_t *frame, size_t len)
{
	memset(frame, 0, sizeof(struct virtio_net_hdr));
	return tun_device_write(tun, frame, sizeof(struct virtio_net_hdr) + len);
}

void tun_device_close(struct tun_device *tun)
{
	if (tun->fd >= 0)
		close(tun->fd);
	tun->fd = -1;
}
