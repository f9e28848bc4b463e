/* SPDX-License-Identifier: BSD-2-Clause */
/* tun_filter.h - Easy IP: the eBPF filter that drops, before the TUN's queue, the TCP and UDP
 * packets for the WAN address that nothing of naptd takes.
 *
 * Under Easy IP every packet for the WAN address W that arrives on the WAN interface is
 * steered into the TUN (docs/design.md, "Easy IP steering"); what no mapping, forward or DMZ
 * takes, the engine refuses. A flood to unnamed ports of W filled the TUN's one queue, and
 * the kernel dropped at the full ring before naptd could tell the LAN's packets from the
 * flood's. The filter (TUNSETFILTEREBPF: run in tun_net_xmit before the packet is queued for
 * the reader) keeps them out of the queue. What it knows lies in one BPF array map of one
 * element (struct tun_filter_map), mmapped into naptd, which writes it by plain stores: no
 * system call on the packet path. The port bits follow the engine through
 * napt_port_watch() (napt.h); W and the flags follow the engine's config after each loop
 * iteration (tun_filter_sync).
 */
#ifndef TUN_FILTER_H
#define TUN_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt.h"
#include "tun_device.h"

#define TUN_FILTER_ALL 1u /* the DMZ is set: every TCP/UDP packet for W passes */
#define TUN_FILTER_SYN 2u /* unsolicited-syn rst|icmp: a SYN without ACK passes */

/* The map's one value, as the program reads it (offsets are in its instructions). */
struct tun_filter_map {
	uint32_t wan;               /* W, host order (what BPF_LD_ABS loads); 0: none */
	uint32_t flags;             /* TUN_FILTER_* */
	uint64_t dropped;           /* packets the program dropped (its atomic add) */
	uint8_t open[2][65536 / 8]; /* [0 tcp, 1 udp]: bit port % 8 of byte port / 8 */
};

struct tun_flood_filter {
	struct tun_filter_map *map; /* NULL: the filter is off */
	int map_fd;                 /* valid while map is not NULL */
	char why_off[192];          /* why it is off (the warning logged at start) */
};

/* Under Easy IP: make the map, load the program, attach it to tun (before privileges are
 * dropped: the map and the program need CAP_BPF or CAP_SYS_ADMIN). Returns true when the
 * filter is on; otherwise tf->why_off says why (an old kernel, no BPF) and naptd runs
 * without it. */
bool tun_filter_open(struct tun_flood_filter *tf, const struct tun_device *tun);
/* The map and the program without attaching it (tun_filter_open's first half; the tests run
 * it with BPF_PROG_TEST_RUN): the program's fd, or -1 with why_off set and nothing open. */
int tun_filter_load(struct tun_flood_filter *tf);

/* Let the map's port bits follow the engine on external address 0 (W) from now on: every
 * open port is marked first, then napt_port_watch() keeps them. map may be any memory of
 * the map's layout (the tests use their own). */
void tun_filter_follow(struct tun_filter_map *map, struct napt *n);
/* The watch itself (napt_port_watch_fn), ctx a struct tun_filter_map. */
void tun_filter_port(void *ctx, uint8_t proto, unsigned ext, uint16_t port, bool open);
bool tun_filter_port_marked(const struct tun_filter_map *map, uint8_t proto, uint16_t port);
/* W and the flags from the engine's config as it is now (renumbering, DMZ, unsolicited-syn). */
void tun_filter_sync(struct tun_filter_map *map, const struct napt_config *cfg);

/* Packets dropped so far (0 when off). */
static inline uint64_t tun_filter_dropped(const struct tun_flood_filter *tf)
{
	return tf->map ? __atomic_load_n(&tf->map->dropped, __ATOMIC_RELAXED) : 0;
}

/* Detach from tun (NULL: not attached) and free the map (nothing when off). */
void tun_filter_close(struct tun_flood_filter *tf, const struct tun_device *tun);

#endif
