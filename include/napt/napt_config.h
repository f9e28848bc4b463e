/* SPDX-License-Identifier: BSD-2-Clause */
/* napt_config.h - the settings of one NAT instance and the parser of the config file.
 *
 * One plain "keyword value" file, one setting per line, '#' starts a comment. The engine
 * uses the NAT keys; naptd also reads the daemon keys (tun, interfaces, control socket...).
 * Addresses are kept in network byte order (as in struct in_addr), ports in host order.
 */
#ifndef NAPT_CONFIG_H
#define NAPT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NAPT_MAX_INSIDE    16
#define NAPT_MAX_EXTERNAL  16
#define NAPT_MAX_FORWARDS  1024
#define NAPT_MAX_STATIC    16
#define NAPT_MAX_PCP_RULES 64
#define NAPT_MAX_LOCAL     32
#define NAPT_IFNAME_LEN    16 /* IFNAMSIZ */
#define NAPT_PATH_LEN      256
/* Timeouts are kept in milliseconds in 32 bits with wrap-around arithmetic, so they must
 * stay well below 2^31 ms (24.8 days). */
#define NAPT_MAX_TIMEOUT_S 2000000u

/* RFC 4787 section 4.1 (mapping) and section 5 (filtering) behaviours. */
enum napt_behaviour {
	NAPT_ENDPOINT_INDEPENDENT = 0,
	NAPT_ADDRESS_DEPENDENT,
	NAPT_ADDRESS_AND_PORT_DEPENDENT,
};

enum napt_timeout_class {
	NAPT_TIMEOUT_UDP = 0,
	NAPT_TIMEOUT_TCP_ESTABLISHED,
	NAPT_TIMEOUT_TCP_TRANSITORY,
	NAPT_TIMEOUT_ICMP,
	NAPT_TIMEOUT_CLASSES
};

/* What an unsolicited inbound TCP SYN gets (RFC 5382 REQ-4 weighs the choice). */
enum napt_unsolicited {
	NAPT_UNSOLICITED_DROP = 0, /* silently dropped: default, reveals nothing */
	NAPT_UNSOLICITED_RST,      /* answered with a TCP RST from the external address */
	NAPT_UNSOLICITED_ICMP,     /* answered with ICMP port unreachable (3/3) */
};

/* `mode`: NAPT (addresses and ports translated, the default) or dynamic NAT (RFC 3022 Basic
 * NAT: each inside host gets an address of the pool to itself, ports unchanged;
 * addr_pool.h). */
enum napt_mode { NAPT_MODE_NAPT = 0, NAPT_MODE_DYNAMIC };

/* One-to-one NAT: the inside host uses ext_addr for everything, all ports, both ways. */
struct napt_static {
	uint32_t in_addr, ext_addr; /* network order */
};

/* Protocol set of a forward rule. */
#define NAPT_FWD_TCP 0x1
#define NAPT_FWD_UDP 0x2

struct napt_prefix {
	uint32_t addr; /* network order, already masked */
	uint32_t mask; /* network order */
	uint8_t len;
};

/* Remote peers a forward admits (PCP's FILTER option, RFC 6887 section 13.3): a packet from
 * outside opens a session through the forward only when its source is in addr/len and, unless
 * port is 0, comes from port. A forward with no filter admits every remote. */
#define NAPT_FWD_MAX_FILTERS 4
struct napt_peer_filter {
	uint32_t addr; /* network order, masked to len */
	uint16_t port; /* the remote's port; 0: any */
	uint8_t len;   /* prefix length 0-32; 0: any address */
};

/* A static DNAT rule: external ports ext_lo..ext_hi (on every external address) go to
 * in_addr, ports in_lo..in_lo+(ext_hi-ext_lo). */
struct napt_forward {
	uint8_t protos; /* NAPT_FWD_TCP | NAPT_FWD_UDP */
	uint16_t ext_lo, ext_hi;
	uint32_t in_addr; /* network order */
	uint16_t in_lo;
	uint8_t n_filters; /* run-time leases only (PCP MAP); 0 for config lines */
	struct napt_peer_filter filters[NAPT_FWD_MAX_FILTERS];
};

/* Easy IP: ports of the WAN address that stay the router's own, "local-service tcp|udp
 * LO[-HI]": never steered into the TUN, so neither a forward, a lease nor the DMZ takes them. */
struct napt_local_service {
	uint8_t protos; /* NAPT_FWD_TCP or NAPT_FWD_UDP */
	uint16_t lo, hi;
};

/* Easy IP's one local service without a line: the router's DHCP client, udp 68. The WAN
 * address is usually a DHCP lease, and a server answers a renewing client by unicast to that
 * address and port 68 (RFC 2131 section 4.1): steered into naptd, the renewals would be lost
 * and the lease would end. */
#define NAPT_DHCP_CLIENT_PORT 68

/* A NAT-PMP/PCP access rule, "pcp-allow|pcp-deny PREFIX LO[-HI]" (as miniupnpd's allow/deny
 * lists): whether the inside hosts of the prefix may map the external ports lo..hi. */
struct napt_pcp_rule {
	struct napt_prefix hosts;
	uint16_t lo, hi;
	bool allow;
};

/* RFC 7422 deterministic NAT, "deterministic INSIDE-PREFIX EXTERNAL-PREFIX" (det_nat.h). */
struct napt_deterministic {
	bool on;
	struct napt_prefix in, ext;
	uint32_t ports; /* "deterministic-ports N"; 0: from the two sizes and port-range */
};

/* Settings only naptd reads; napt-replay and the engine ignore them. */
/* An address and port naptd listens on or sends to; addr 0: not configured. */
struct napt_endpoint {
	uint32_t addr; /* network order */
	uint16_t port;
};

struct napt_daemon_settings {
	char tun[NAPT_IFNAME_LEN];
	char lan_interface[NAPT_IFNAME_LEN];
	char wan_interface[NAPT_IFNAME_LEN];
	char control[NAPT_PATH_LEN];
	char control_group[NAPT_IFNAME_LEN * 2]; /* group allowed on the socket (mode 0660) */
	char state[NAPT_PATH_LEN];
	bool manage_routes;
	bool offload;  /* TUN checksum and segmentation offloads (tun_device.h) */
	bool coalesce; /* a burst's segments of a flow written as one (tun_coalesce.h) */
	unsigned mtu;
	/* Easy IP: "external interface NAME" takes the external address from this interface
	 * and follows it when it changes. */
	char external_interface[NAPT_IFNAME_LEN];
	/* "mss-clamp auto": naptd sets mss_clamp to the MTU of wan-interface (or of the
	 * external interface) less 40, the IPv4 and TCP headers, at start and on reload. */
	bool mss_clamp_auto;
	/* NAT-PMP/PCP access rules in file order: the first holding a request decides. */
	struct napt_pcp_rule pcp_rules[NAPT_MAX_PCP_RULES];
	unsigned n_pcp_rules;
	/* UPnP IGD on lan-interface (upnp_igd.h), for the hosts pcp_rules allow. */
	bool upnp;
	/* RFC 6888 REQ-12: a log line for each mapping created and ended (docs/logging.md). */
	bool log_mappings;
	/* Prometheus text format over HTTP (metrics_http.h); addr 0: nothing listens. */
	struct napt_endpoint metrics_listen;
	/* RFC 8158 NAT events over IPFIX (ipfix_export.h); addr 0: none. */
	struct napt_endpoint ipfix_collector;
};

struct napt_config {
	enum napt_mode mode;
	/* mode dynamic, "dynamic-fallback napt|refuse": a host that finds no free address of the
	 * pool shares one by port translation (RFC 3022 section 2.2's NAPT on the same pool),
	 * or is refused (the default). */
	bool dynamic_fallback_napt;
	struct napt_prefix inside[NAPT_MAX_INSIDE];
	unsigned n_inside;
	uint32_t external[NAPT_MAX_EXTERNAL]; /* network order */
	unsigned n_external;
	uint16_t port_lo, port_hi;
	enum napt_behaviour mapping;
	enum napt_behaviour filtering;
	bool port_preservation;
	uint32_t timeout_s[NAPT_TIMEOUT_CLASSES];
	struct napt_forward forwards[NAPT_MAX_FORWARDS];
	unsigned n_forwards;
	bool has_dmz;
	uint32_t dmz; /* network order */
	uint32_t max_sessions;
	/* RFC 6888 REQ-4: per inside host, sessions and external ports at once; 0 = no limit. */
	uint32_t max_sessions_per_host;
	uint32_t ports_per_host;
	bool port_parity; /* RFC 4787 REQ-4: an even inside port gets an even external one */
	enum napt_unsolicited unsolicited_syn;
	/* RFC 6888 REQ-8: seconds a released external port rests before a new mapping may
	 * take it ("port-rest", default 120); 0: reused at once. */
	uint32_t port_rest_s;
	/* "port-block-size N": an inside host's mappings take ports from blocks of N it holds
	 * (port_alloc.h); 0: every mapping's port is chosen alone. */
	uint32_t port_block_size;
	struct napt_deterministic det;
	/* RFC 5508 REQ-8: a new outbound flow refused for want of room (table-full,
	 * ports-exhausted, a per-host limit) gets ICMP 3/13 instead of a silent drop. */
	bool refused_flows_icmp;
	/* TCP MSS clamping (tcp_mss.h): SYNs both ways carry an MSS of at most this; 0 = off. */
	uint16_t mss_clamp;
	struct napt_static statics[NAPT_MAX_STATIC];
	unsigned n_statics;
	/* Easy IP: the router's own services on its WAN address, and the kernel's ephemeral
	 * range for the router's own connections ("local-ports", net.ipv4.ip_local_port_range,
	 * 32768-49151 by default with "external interface", 0-0 otherwise): both stay out of
	 * the TUN, so no forward, lease or mapping may use them. */
	struct napt_local_service local_services[NAPT_MAX_LOCAL];
	unsigned n_local_services;
	uint16_t local_ports_lo, local_ports_hi;
	struct napt_daemon_settings daemon;
};

/* Fill cfg with the defaults: port-range 1024-65535, EIM, APDF, port preservation on,
 * port-rest 120,
 * timeouts udp 300 / tcp-established 7440 / tcp-transitory 240 / icmp 60, max-sessions
 * 1048576, tun napt0, control /run/naptd.sock, manage-routes yes, mtu 1500. */
void napt_config_defaults(struct napt_config *cfg);

/* Apply one line of config text (comments and blank lines are accepted and ignored).
 * Returns 0, or -1 with the reason written to err (without file:line). */
int napt_config_parse_line(struct napt_config *cfg, const char *line, char *err, size_t errlen);

/* Whether addr (network order) lies in one of cfg's inside prefixes. */
bool napt_config_inside(const struct napt_config *cfg, uint32_t addr);
/* Whether external address addr (network order) is one of the deterministic prefix's: its
 * ports belong to the prefix's hosts alone (no other host, forward, lease or DMZ uses it). */
bool napt_config_det_external(const struct napt_config *cfg, uint32_t addr);

/* Checks that need the whole file: at least one inside prefix and one external address,
 * external addresses outside every inside prefix (RFC 4787 REQ-7), forwards and DMZ inside,
 * forwards not overlapping. Returns 0, or -1 with the reason in err. */
int napt_config_validate(const struct napt_config *cfg, char *err, size_t errlen);

/* Parse a whole text buffer (the contents of a file): defaults, every line, then validate.
 * On error err reads "NAME:LINE: reason" (NAME is the file name given for messages). */
int napt_config_parse_text(struct napt_config *cfg, const char *text, const char *name, char *err,
			   size_t errlen);

/* Parse "tcp|udp|both EXT[-EXT] ADDR:PORT[-PORT]" (the arguments of a forward line and of
 * "naptctl forward add"). Returns 0 or -1 with the reason in err. */
int napt_forward_parse(struct napt_forward *fwd, const char *text, char *err, size_t errlen);

/* Write fwd as it would appear after "forward " in a config file. */
int napt_forward_format(const struct napt_forward *fwd, char *buf, size_t len);

/* Easy IP: whether external ports lo..hi of protos (NAPT_FWD_TCP/UDP) hold a port that stays
 * the router's own (a local-service, the DHCP client's, or local-ports); if so err says which. A
 * forward or a lease there would never see a packet. */
bool napt_config_hides_local(const struct napt_config *cfg, uint8_t protos, uint16_t lo,
			     uint16_t hi, char *err, size_t errlen);
/* Whether f admits a session from rem_addr (network order):rem_port: it has no filter, or one
 * holds the remote. */
bool napt_forward_admits(const struct napt_forward *f, uint32_t rem_addr, uint16_t rem_port);
/* "ADDR/LEN:PORT" (PORT 0: any), as the state file and "show forwards" write a filter. Parse
 * refuses bits set past LEN, LEN over 32 and trailing text. */
int napt_peer_filter_format(const struct napt_peer_filter *f, char *buf, size_t len);
int napt_peer_filter_parse(struct napt_peer_filter *f, const char *text, char *err, size_t errlen);

/* Whether two forwards claim a common (protocol, external port). */
bool napt_forward_overlaps(const struct napt_forward *a, const struct napt_forward *b);

const char *napt_behaviour_name(enum napt_behaviour b);
const char *napt_timeout_class_name(enum napt_timeout_class c);
/* Returns the class for a config name ("udp", "tcp-established", ...) or -1. */
int napt_timeout_class_parse(const char *name);

#ifdef __cplusplus
}
#endif

#endif
