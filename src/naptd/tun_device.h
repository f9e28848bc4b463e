/* SPDX-License-Identifier: BSD-2-Clause */
/* tun_device.h - the TUN device naptd reads packets from and writes them back to.
 *
 * The device has IFF_VNET_HDR: every read and write carries a struct virtio_net_hdr before
 * the IPv4 packet. With the offloads (TUNSETOFFLOAD) TCP crosses naptd as 64 KB GSO packets
 * with a partial checksum, and the kernel segments and checksums them after naptd has
 * written them back; without them the header is all zeros.
 */
#ifndef TUN_DEVICE_H
#define TUN_DEVICE_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "napt.h"
#include "napt_config.h"
#include "tun_coalesce.h"

/* UDP segmentation (Linux 6.2), newer than some installed uapi headers. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* The largest IPv4 packet (total length is 16 bits), a GSO packet included. */
#define TUN_PACKET_MAX 65535u
/* A frame is what one read or write moves: the virtio_net_hdr (with offloads), the packet. */
#define TUN_FRAME_MAX (sizeof(struct virtio_net_hdr) + TUN_PACKET_MAX)

struct tun_device {
	int fd; /* non-blocking, close-on-exec */
	char name[NAPT_IFNAME_LEN];
	int ifindex;
	unsigned offloads;  /* the TUN_F_* flags the kernel granted */
	bool napi_threaded; /* its NAPI polled by a kernel thread (tun_device_open) */
	bool coalesce_tcp;  /* bursts written coalesced (tun_device_set_coalesce) */
	bool coalesce_udp;
	uint64_t frames_refused; /* frames with an offload layout the engine cannot take whole */
	uint64_t frames_merged;  /* frames written as part of an earlier one (tun_coalesce) */
};

/* Open (create, or attach to a persistent) TUN device named name, IFF_TUN | IFF_NO_PI |
 * IFF_VNET_HDR | IFF_NAPI, its NAPI threaded where sysfs allows it, with the offloads TUN_F_CSUM |
 * TUN_F_TSO4 | TUN_F_TSO_ECN, plus TUN_F_USO4 | TUN_F_USO6 where the kernel has them (a kernel that
 * refuses them all leaves offloads 0; so does offload false, config "offload no"). Brings it up
 * with mtu through rtnetlink. Returns 0, or -1 with the reason in err and nothing left open. */
int tun_device_open(struct tun_device *tun, const char *name, unsigned mtu, bool offload, char *err,
		    size_t errlen);

/* "csum tso4 tso-ecn uso4 uso6", or "none": what tun_device_open() obtained, for the log. */
const char *tun_device_offload_names(const struct tun_device *tun, char *buf, size_t len);

/* Read one frame into buf (TUN_FRAME_MAX bytes). Returns its length, 0 when the queue is
 * empty, or -1 with errno set (a length of 0 from read(), the device gone, is ENODEV). */
ssize_t tun_device_read(const struct tun_device *tun, uint8_t *buf, size_t cap);

/* Point pkt at the IPv4 packet of a frame read into a TUN_FRAME_MAX buffer (pkt->cap, the
 * room after the header, takes the engine's answers: NAPT_REPLY). A partial checksum
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) in the TCP or UDP checksum field sets pkt->csum_partial;
 * the header stays in the frame, so the frame is written back with it. Returns false, and
 * counts the frame in frames_refused, when the header describes anything else: such a
 * frame is dropped whole rather than translated wrong. */
bool tun_device_frame_packet(struct tun_device *tun, uint8_t *frame, size_t len,
			     struct napt_packet *pkt);

/* Write one frame back. Returns 0, or -1 when the device refused it (a full queue). */
int tun_device_write(const struct tun_device *tun, const uint8_t *frame, size_t len);

/* Write a packet the engine made (an answer, a released fragment) from a frame buffer: its
 * header is cleared first, since such a packet carries whole checksums and is no GSO
 * packet, whatever the frame held before. len counts the packet only. */
int tun_device_write_new(const struct tun_device *tun, uint8_t *frame, size_t len);

/* Whether tun_device_write_burst() coalesces (config "coalesce"): TCP only with the TSO4
 * offload, UDP only with USO4, since the kernel must be able to cut what it is given. */
void tun_device_set_coalesce(struct tun_device *tun, bool want);

/* "tcp udp", "tcp" or "off": what tun_device_set_coalesce() turned on, for the log. */
const char *tun_device_coalesce_names(const struct tun_device *tun);

/* Write a burst's frames (the header of each as it is to go) in order, the alike segments of
 * a flow merged first (tun_coalesce.h) where allowed. Returns the number of writes the
 * device refused (a full queue: a merged frame counts once). */
unsigned tun_device_write_burst(struct tun_device *tun, struct tun_frame *frames, unsigned n);

/* Close the device; a non-persistent TUN disappears with its routes. */
void tun_device_close(struct tun_device *tun);

#endif
