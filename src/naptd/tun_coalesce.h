/* SPDX-License-Identifier: BSD-2-Clause */
/* tun_coalesce.h - userspace GRO on the write side of the TUN device: the translated TCP
 * segments of one flow in a burst merged into one GSO packet (gso_type TCPV4), its UDP
 * datagrams into one USO packet (UDP_L4), so that naptd makes one write() where it made
 * dozens and the kernel routes one packet, segmenting it again on the way out. Pure: it
 * rewrites frames in memory and never writes them.
 *
 * The kernel cuts a GSO packet back into exactly the segments that went in only when these
 * were alike; only such runs are merged (tun_coalesce.c says which qualify), everything else
 * is written as it came, in the order it came.
 */
#ifndef TUN_COALESCE_H
#define TUN_COALESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Segments merged into one packet at most: the kernel's smallest limit, UDP_MAX_SEGMENTS of
 * Linux 4.18-6.x (a TUN burst holds no more anyway). */
#define TUN_COALESCE_MAX_SEGS 64

/* Runs followed in one call: past this many flows in a burst, the later ones are written
 * as they are. */
#define TUN_COALESCE_MAX_RUNS 64

/* A frame to be written: a buffer of TUN_FRAME_MAX bytes (tun_device.h) holding the
 * virtio_net_hdr and the IPv4 packet; len counts both. */
struct tun_frame {
	uint8_t *buf;
	size_t len;
};

/* Merge the frames of a burst, in place, in the order they are to be written: a frame
 * merged into an earlier one of its flow gets len 0 (not to be written); the earlier one
 * grows and its header becomes a GSO one. udp: UDP datagrams may be merged too (the device
 * has TUN_F_USO4). Returns the number of frames merged into others. */
unsigned tun_coalesce(struct tun_frame *frames, unsigned n, bool udp);

#endif
