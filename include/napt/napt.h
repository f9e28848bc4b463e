/* SPDX-License-Identifier: BSD-2-Clause */
/* napt.h - the translation engine's instance API.
 *
 * Every call takes an instance, so the daemon, napt-replay, the benchmark, the fuzzers and
 * the unit tests each make their own. The engine does no I/O and no syscalls: the caller
 * passes the clock in (milliseconds, any origin, monotonic) and hands packets in and out.
 * All tables are allocated by napt_create() and sized by max-sessions; nothing is allocated
 * per packet.
 */
#ifndef NAPT_H
#define NAPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "napt_config.h"

#ifdef __cplusplus
extern "C" {
#endif

struct napt;

enum napt_verdict {
	NAPT_FORWARD = 0, /* translated in place: write it out */
	NAPT_DROP,        /* dropped; the reason is in napt_result.reason */
	NAPT_HELD,        /* a fragment kept until its first fragment arrives */
	NAPT_REPLY,       /* the buffer now holds the engine's answer (ICMP 3/13 to a refused
			   * new flow, refused-flows icmp) to send back instead: write it out */
};

enum napt_dir {
	NAPT_DIR_NONE = 0,
	NAPT_DIR_OUT,     /* inside -> outside: source rewritten */
	NAPT_DIR_IN,      /* outside -> inside: destination rewritten */
	NAPT_DIR_HAIRPIN, /* inside -> external address -> inside: both rewritten */
};

/* Why a packet was dropped. napt_drop_reason_name() gives the names used in counters and
 * docs/behaviour.md: truncated, bad-version, bad-ihl, bad-total-length, bad-ip-checksum,
 * bad-l4, bad-icmp-checksum, bad-icmp-quote, unsupported, not-nat, spoofed, no-mapping,
 * filtered, no-session-icmp, tcp-no-session, table-full, ports-exhausted, fragment-no-first,
 * fragment-full, first-fragment-short, host-session-limit, host-port-limit, pool-exhausted,
 * peer-filtered. */
enum napt_drop_reason {
	NAPT_DROP_NONE = 0,
	NAPT_DROP_TRUNCATED,        /* shorter than the IPv4 header or its total length */
	NAPT_DROP_BAD_VERSION,      /* not IPv4 */
	NAPT_DROP_BAD_IHL,          /* header length < 20 or past the packet */
	NAPT_DROP_BAD_TOTAL_LEN,    /* total length < header length */
	NAPT_DROP_BAD_IP_CSUM,      /* IPv4 header checksum wrong */
	NAPT_DROP_BAD_L4,           /* TCP/UDP/ICMP header truncated or inconsistent */
	NAPT_DROP_BAD_ICMP_CSUM,    /* RFC 5508 REQ-3: ICMP checksum wrong */
	NAPT_DROP_BAD_ICMP_QUOTE,   /* ICMP error whose quoted packet is unusable */
	NAPT_DROP_UNSUPPORTED,      /* protocol or ICMP type the NAT does not translate */
	NAPT_DROP_NOT_NAT,          /* neither outbound nor inbound for this NAT */
	NAPT_DROP_SPOOFED,          /* source is one of our external addresses */
	NAPT_DROP_NO_MAPPING,       /* unsolicited inbound: no mapping, forward or DMZ */
	NAPT_DROP_FILTERED,         /* a mapping exists but the filtering behaviour refuses */
	NAPT_DROP_NO_SESSION_ICMP,  /* ICMP error about a flow we do not know */
	NAPT_DROP_TCP_NO_SESSION,   /* TCP segment other than SYN with no session */
	NAPT_DROP_TABLE_FULL,       /* max-sessions reached */
	NAPT_DROP_PORTS_EXHAUSTED,  /* no free external port in the range */
	NAPT_DROP_FRAG_NO_FIRST,    /* later fragment whose first never came, or could not match */
	NAPT_DROP_FRAG_FULL,        /* held fragment pushed out, or no buffer free */
	NAPT_DROP_FIRST_FRAG_SHORT, /* first fragment too short to hold the ports (RFC 1858) */
	NAPT_DROP_HOST_SESSIONS,    /* the inside host is at max-sessions-per-host */
	NAPT_DROP_HOST_PORTS,       /* the inside host is at ports-per-host */
	NAPT_DROP_POOL_EXHAUSTED,   /* mode dynamic: no address of the pool is free */
	NAPT_DROP_PEER_FILTERED,    /* a forward's filters (PCP FILTER) do not admit the remote */
	NAPT_DROP_REASONS
};

struct napt_result {
	enum napt_verdict verdict;
	enum napt_drop_reason reason;
	enum napt_dir dir;
};

/* A packet handed to the engine: data points at the IPv4 header. The engine rewrites it
 * in place and never changes its length. */
struct napt_packet {
	uint8_t *data;
	size_t len;
	/* The TCP/UDP checksum field holds only the pseudo-header sum, to be completed by the
	 * device (virtio_net_hdr VIRTIO_NET_HDR_F_NEEDS_CSUM): only address changes are folded
	 * into it, uncomplemented; port changes are not, since the device sums the ports. */
	bool csum_partial;
	/* Bytes available at data, for an answer longer than the packet (NAPT_REPLY); 0 means
	 * len (no answer that does not fit in place). */
	size_t cap;
};

enum napt_proto_index { NAPT_P_TCP = 0, NAPT_P_UDP, NAPT_P_ICMP, NAPT_PROTOS };

struct napt_counters {
	uint64_t translated[NAPT_PROTOS][2]; /* [proto][0 = out, 1 = in] */
	uint64_t hairpinned;
	uint64_t dropped[NAPT_DROP_REASONS];
	uint64_t sessions_created;
	uint64_t sessions_expired; /* by timeout */
	uint64_t sessions_removed; /* by flush, rule removal or reconfiguration */
	uint64_t sessions_current;
	uint64_t mappings_current;
	uint64_t sessions_proto[NAPT_PROTOS]; /* sessions_current and mappings_current */
	uint64_t mappings_proto[NAPT_PROTOS]; /* by protocol (enum napt_proto_index) */
	uint64_t fragments_held;
	uint64_t icmp_errors_translated;
	uint64_t replies_sent;      /* the engine's answers: to unsolicited SYNs, refused flows */
	uint64_t replies_limited;   /* answers not sent: over the rate limit or the SYN queue's */
	uint64_t replies_cancelled; /* SYN answers cancelled by an outbound SYN of the pair */
	/* mode dynamic: new mappings of hosts that found the pool empty, made by NAPT on it
	 * (dynamic-fallback napt). */
	uint64_t pool_fallbacks;
	/* Deterministic flows whose formula port was held, given the next free one. */
	uint64_t det_collisions;
	/* Deterministic TCP flows picked up in the middle (an outbound segment, no session). */
	uint64_t det_pickups;
	/* Port blocks handed to inside hosts and given back (the events a mapping log would
	 * record, one per block instead of one per mapping). */
	uint64_t port_blocks_allocated;
	uint64_t port_blocks_released;
	/* The inside host that last hit a per-host limit, for the daemon's log line. */
	uint32_t last_limited_host;
};

/* An instance's secrets. port_seed drives port randomisation (RFC 6056); hash_key keys the
 * hash of every table a remote party can fill (SipHash, docs/security.md). Both must be
 * unknown outside: the daemon reads them from getrandom(2), each on its own. */
struct napt_secrets {
	uint64_t port_seed;
	uint64_t hash_key[2];
};

/* Create an instance from a validated config. Returns NULL with the reason in err (for
 * example: out of memory for max-sessions). */
struct napt *napt_create_keyed(const struct napt_config *cfg, const struct napt_secrets *secrets,
			       char *err, size_t errlen);
/* The same, with the hash key derived from seed: for tests and tools, whose instances need
 * one known number only. Whoever learns the seed learns the key. */
struct napt *napt_create(const struct napt_config *cfg, uint64_t seed, char *err, size_t errlen);
void napt_destroy(struct napt *n);

/* Apply a new config to a running instance: timeouts, behaviours, port range, forwards,
 * DMZ. Sessions survive, except those that came in through a forward or DMZ that is gone
 * and those on an external address that is gone. inside/external/max-sessions changes
 * that cannot apply in place are refused with the reason. */
int napt_reconfigure(struct napt *n, const struct napt_config *cfg, uint64_t now_ms, char *err,
		     size_t errlen);

/* Translate one packet in place. */
struct napt_result napt_translate(struct napt *n, struct napt_packet *pkt, uint64_t now_ms);

/* After a first fragment is translated, fragments of the same datagram that arrived before
 * it are released: copies them one by one into buf (translated) and returns the length, or
 * 0 when none is left. Released fragments wait until taken, so this may be called after a
 * whole burst. Then the answers to unsolicited SYNs (unsolicited-syn rst|icmp) whose 6 s
 * passed by the time of the last napt_translate() or napt_expire(), new packets to send
 * towards the outside (RFC 5382 REQ-4). */
size_t napt_next_released(struct napt *n, uint8_t *buf, size_t cap);

/* Translate count packets, as count calls of napt_translate() in order would, but with the
 * hash buckets and sessions of the packets a few places ahead prefetched (as VPP does), so
 * the cache misses of a big table overlap instead of adding up. */
void napt_translate_burst(struct napt *n, struct napt_packet *pkts, struct napt_result *res,
			  unsigned count, uint64_t now_ms);

/* Remove what has expired at now_ms. napt_translate() also reaps a few entries per call;
 * the daemon calls this from a periodic timer so an idle gateway still ages its table. */
void napt_expire(struct napt *n, uint64_t now_ms);

/* Run-time rule changes (the CLI). Removing a forward or the DMZ ends the sessions that
 * came in through it. */
int napt_forward_add(struct napt *n, const struct napt_forward *fwd, char *err, size_t errlen);
/* protos is NAPT_FWD_TCP/UDP (or both); ext_port is any port of the rule's range. Returns
 * 0, or -1 when no rule holds that port. */
int napt_forward_del(struct napt *n, uint8_t protos, uint16_t ext_port);
/* PCP's FILTER option (RFC 6887 section 13.3): the remote peers the forward holding
 * (protos, ext_port) admits become f[0..count): count 0 admits every remote, at most
 * NAPT_FWD_MAX_FILTERS. A packet from a remote no filter holds opens no session through the
 * forward (dropped, counted peer-filtered); sessions already open from such remotes end now.
 * Checked only where a packet from outside would open a session: established sessions'
 * packets never look. Returns 0, or -1 when no forward holds the port or count is too big. */
int napt_forward_filter(struct napt *n, uint8_t protos, uint16_t ext_port,
			const struct napt_peer_filter *f, unsigned count);
/* Refused (-1, err says why) with mode dynamic, as in the config file; so is
 * napt_forward_add. */
int napt_dmz_set(struct napt *n, uint32_t addr, char *err, size_t errlen);
/* Easy IP: the external address old became new (the WAN interface was renumbered, as on a
 * DHCP renew). Mappings and sessions on old are dropped; new ones use new. Returns 0, or -1
 * when old is not an external address (or one of the deterministic prefix) or new is unusable
 * (inside, or already external). */
int napt_external_replace(struct napt *n, uint32_t old_addr, uint32_t new_addr);
void napt_dmz_clear(struct napt *n);
int napt_timeout_set(struct napt *n, enum napt_timeout_class c, uint32_t seconds);
void napt_flush(struct napt *n);

/* Whether an unsolicited inbound packet of proto (IPPROTO_TCP or IPPROTO_UDP) to port of
 * external address number ext has something to take it, the DMZ aside: a mapping on that
 * endpoint (outbound, forward, DMZ, PCP PEER, deterministic, port block), or a forward on a
 * non-deterministic address. A packet to a port that is not open is refused (no-mapping)
 * unless the DMZ takes it, or it is a bare SYN that unsolicited-syn answers. */
bool napt_port_open(struct napt *n, uint8_t proto, unsigned ext, uint16_t port);
/* Call fn(ctx, proto, ext, port, open) after each change that may have changed
 * napt_port_open() for that endpoint (any protocol: filter what you need), with its answer
 * after the change: a mapping made or ended (a flush ends them all), a forward added or
 * deleted (each of its ports on each address). NULL stops it. Nothing is called for the
 * state already there: read it with napt_port_open(). naptd's TUN filter keeps its port map
 * with it (no I/O here: fn must not call back into the instance, napt_port_open aside). */
typedef void (*napt_port_watch_fn)(void *ctx, uint8_t proto, unsigned ext, uint16_t port,
				   bool open);
void napt_port_watch(struct napt *n, napt_port_watch_fn fn, void *ctx);

/* The config as the engine now applies it (run-time changes included). */
const struct napt_config *napt_get_config(const struct napt *n);

/* Read-only views for "show" commands. Addresses network order, ports host order. */
enum napt_origin {
	NAPT_ORIGIN_OUTBOUND = 0,
	NAPT_ORIGIN_FORWARD,
	NAPT_ORIGIN_DMZ,
	NAPT_ORIGIN_DYNAMIC, /* mode dynamic: a host's binding to an address (proto 0, ports 0) */
};

struct napt_session_info {
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	uint32_t in_addr, ext_addr, rem_addr;
	uint16_t in_port, ext_port, rem_port; /* ICMP: the echo identifiers */
	const char *state; /* "established", "syn-sent", ... ; "-" for UDP/ICMP */
	enum napt_origin origin;
	uint32_t idle_ms;
	uint32_t expires_in_ms;
};

struct napt_mapping_info {
	uint8_t proto;
	uint32_t in_addr, ext_addr;
	uint16_t in_port, ext_port;
	enum napt_origin origin;
	uint32_t sessions;
	/* The remote an address-dependent mapping is keyed by (RFC 4787 section 4.1); 0 for an
	 * endpoint-independent one. */
	uint32_t rem_addr;
	uint16_t rem_port;
};

/* Call fn for each mapping; stop early when fn returns non-zero. With mode dynamic the
 * mappings begin with one entry per bound address: proto 0, ports 0, origin dynamic, and
 * sessions the host's session count (all of them with the walk's first piece, cursor 0). */
typedef int (*napt_session_fn)(const struct napt_session_info *s, void *ctx);
typedef int (*napt_mapping_fn)(const struct napt_mapping_info *m, void *ctx);
void napt_foreach_mapping(const struct napt *n, napt_mapping_fn fn, void *ctx);
/* Only the mappings on external endpoint ext_addr:ext_port of proto: one index bucket (more
 * than one mapping under an address-dependent mapping behaviour). */
void napt_foreach_mapping_on(const struct napt *n, uint8_t proto, uint32_t ext_addr,
			     uint16_t ext_port, napt_mapping_fn fn, void *ctx);
/* A walk that can be done a piece at a time, for long listings (UINT32_MAX positions: all
 * at once): fn for the entries at table positions cursor, cursor+1, ... (cursor 0: the start),
 * looking at no more than `positions` of them and stopping after an entry for which fn returns
 * non-zero. Returns the cursor to resume from, 0 once the table is done. Table order, not age: an
 * entry alive during the whole walk is seen once; one removed before the walk reaches it is not
 * seen. */
uint32_t napt_walk_sessions(const struct napt *n, uint64_t now_ms, uint32_t cursor,
			    uint32_t positions, napt_session_fn fn, void *ctx);
uint32_t napt_walk_mappings(const struct napt *n, uint32_t cursor, uint32_t positions,
			    napt_mapping_fn fn, void *ctx);

/* Whether a mapping of any origin holds external port `port` of proto (IPPROTO_TCP or
 * IPPROTO_UDP) on some external address: one hash lookup per address, not a walk. */
bool napt_port_mapped(struct napt *n, uint8_t proto, uint16_t port);
/* Port blocks: the inside host (network order) holding the block that spans external
 * ext_addr:port, the block's ports in *lo..*hi; 0 when no host holds one there (or no
 * port-block-size). What `naptctl lookup` answers for a port of a block with no live mapping:
 * the block's host holds it (RFC 7422 section 5). */
uint32_t napt_block_holder(const struct napt *n, uint32_t ext_addr, uint16_t port, uint16_t *lo,
			   uint16_t *hi);

/* PCP PEER (RFC 6887 section 12): the dynamic mapping and session an outbound packet from
 * in_addr:in_port to rem_addr:rem_port would use, made as that packet would make it (same
 * mapping behaviour, port choice and host limits) when there is none, and its idle timer
 * started again, as by a packet. Addresses network order, ports host order. */
struct napt_peer_request {
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t in_addr, rem_addr;
	uint16_t in_port, rem_port;
	uint16_t want_port; /* the suggested external port, 0 for any */
	uint32_t want_addr; /* the suggested external address, 0 for any */
};
struct napt_peer_grant {
	uint32_t ext_addr;
	uint16_t ext_port;
	uint32_t idle_s; /* seconds the session now lives without traffic; UINT32_MAX: static */
	enum napt_drop_reason why; /* on -1 */
};
/* 0: done, *g holds the external endpoint. 1: the mapping is not on want_addr:want_port
 * (nothing is made or changed). -1: no session, g->why says why (not-nat for a request that is not
 * an outbound TCP/UDP flow from an inside host to an outside one, or with port 0; table-full,
 * ports-exhausted, host-session-limit, ...). */
int napt_peer(struct napt *n, const struct napt_peer_request *q, uint64_t now_ms,
	      struct napt_peer_grant *g);

const struct napt_counters *napt_get_counters(const struct napt *n);
/* External ports of protocol p held by mappings on external address number ext (the order
 * of napt_get_config()->external). */
unsigned napt_ports_in_use(const struct napt *n, enum napt_proto_index p, unsigned ext);
/* Bytes the tables take (for memory per session). */
size_t napt_memory_bytes(const struct napt *n);

const char *napt_drop_reason_name(enum napt_drop_reason r); /* "bad-ip-checksum", ... */
const char *napt_dir_name(enum napt_dir d);

#ifdef __cplusplus
}
#endif

#endif
