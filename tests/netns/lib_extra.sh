#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# lib_extra.sh - more of the namespace topology, on top of lib.sh (source this one instead):
#
#   lan2  eth0 192.168.77.3/24, default via 192.168.77.1; in rtr its veth is lan1 with a
#         /32 route, so rtr's lan0 keeps the 192.168.77.0/24 subnet route
#   far   eth0 203.0.113.2/24, default via 203.0.113.1: a host one router further out; wan
#         becomes that router (ip_forward=1), so ICMP time-exceeded from a real outside
#         router can be tested
#
# topo_up_extra is lib.sh's topo_up with a trap that also removes these namespaces.
# Helpers: ctl (naptctl on the test's socket), stat_value, wait_listen, wait_until.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LAN2_IP=192.168.77.3
WAN_FAR_IP=203.0.113.1
FAR_IP=203.0.113.2
FAR_NET=203.0.113.0/24

NS_LAN2=
NS_FAR=

in_lan2() { ip netns exec "$NS_LAN2" "$@"; }
in_far() { ip netns exec "$NS_FAR" "$@"; }

extra_down() {
	local ns
	for ns in "$NS_LAN2" "$NS_FAR"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	NS_LAN2='' NS_FAR=''
}

# topo_up, then a trap that runs topo_down (it stops naptd and the background programs,
# wherever they run) and removes the namespaces made here.
topo_up_extra() {
	topo_up
	trap 'topo_down; extra_down' EXIT
}

# lan2_up: a second LAN host, 192.168.77.3, on its own veth to rtr.
lan2_up() {
	NS_LAN2=${NS_LAN/-lan-/-lan2-}
	ns_new "$NS_LAN2"
	ip -n "$NS_RTR" link add lan1 type veth peer name eth0 netns "$NS_LAN2"
	ip -n "$NS_LAN2" addr add "$LAN2_IP/24" dev eth0
	ip -n "$NS_RTR" link set lan1 up
	ip -n "$NS_LAN2" link set eth0 up
	no_offload "$NS_RTR" lan1
	no_offload "$NS_LAN2" eth0
	# rtr answers ARP for its own 192.168.77.1 on lan1 too (arp_ignore 0), so lan2 needs
	# nothing more than the default route.
	ip -n "$NS_RTR" route add "$LAN2_IP/32" dev lan1
	ip -n "$NS_LAN2" route add default via "$RTR_LAN_IP"
}

# far_up: a host behind wan, which routes between 198.51.100.0/24 and 203.0.113.0/24.
far_up() {
	NS_FAR=${NS_WAN/-wan-/-far-}
	ns_new "$NS_FAR"
	ip -n "$NS_WAN" link add far0 type veth peer name eth0 netns "$NS_FAR"
	ip -n "$NS_WAN" addr add "$WAN_FAR_IP/24" dev far0
	ip -n "$NS_FAR" addr add "$FAR_IP/24" dev eth0
	ip -n "$NS_WAN" link set far0 up
	ip -n "$NS_FAR" link set eth0 up
	no_offload "$NS_WAN" far0
	no_offload "$NS_FAR" eth0
	in_wan sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_FAR" route add default via "$WAN_FAR_IP"
	# Translated packets leave rtr by its main table: tell it where 203.0.113.0/24 is.
	ip -n "$NS_RTR" route add "$FAR_NET" via "$WAN_IP"
}

# http_serve NS ADDR PORT DIR LOG: a static HTTP server in the background; LOG gets one
# line per request, the client's address first. Not `python3 -m http.server`: it looks up
# the name of its address (getfqdn) before it listens, and in a namespace whose default
# route leads into the NAT that DNS query waits for its timeout.
http_serve() {
	bg "$1" "$5" "$PY" -c '
import functools, http.server, socketserver, sys
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
Server((sys.argv[1], int(sys.argv[2])), handler).serve_forever()
' "$2" "$3" "$4"
	wait_listen "$1" tcp "$2:$3"
}

# pcp_lan_up TAG: naptd with "pcp-allow $INSIDE 1024-65535", waiting for its PCP socket; PCP
# is then pcp_client.py asked from the LAN host. A UDP socket of the LAN host on port 5000
# appends each datagram it gets to $TOPO_DIR/got.txt as "DATA SOURCE:PORT", for 40 s at
# most (in the background).
pcp_lan_up() {
	naptd_config "# $1" "pcp-allow $INSIDE 1024-65535" >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
	wait_listen "$NS_RTR" udp "$RTR_LAN_IP:5351"
	PCP=("$PY" "$(dirname "${BASH_SOURCE[0]}")/pcp_client.py" "$RTR_LAN_IP" "$LAN_IP")
	in_lan "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5000))
s.settimeout(0.5)
end = time.time() + 40
while time.time() < end:
    try:
        data, peer = s.recvfrom(100)
    except socket.timeout:
        continue
    with open(sys.argv[2], "a") as f:
        f.write("%s %s:%d\n" % (data.decode(), peer[0], peer[1]))
' "$LAN_IP" "$TOPO_DIR/got.txt" &
	TOPO_PIDS+=($!)
	wait_listen "$NS_LAN" udp "$LAN_IP:5000"
}

# udp_from NS-FUNCTION ADDR WORD PORT: one datagram WORD from ADDR:3478 (in_wan, in_far) to
# the external address's PORT.
udp_from() {
	"$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 3478))
s.sendto(sys.argv[2].encode(), (sys.argv[3], int(sys.argv[4])))
' "$2" "$3" "$EXT_IP" "$4"
}

# ctl ARGS...: naptctl in rtr on the socket naptd_config names.
ctl() {
	in_rtr "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" "$@"
}

# stat_value NAME: a counter of `naptctl show stats` (the table: NAME VALUE), empty if absent.
stat_value() {
	ctl show stats | awk -v n="$1" '$1 == n { print $2 }'
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 after SECONDS.
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# listening NS tcp|udp ADDR:PORT: whether a socket listens there (ss in NS).
listening() {
	local flag=-ltn
	[ "$2" = udp ] && flag=-lun
	ip netns exec "$1" ss "$flag" | awk '{ print $4 }' | grep -qxF "$3"
}

# expect_lease PROTO PORT INSIDE ORIGIN MIN MAX: "naptctl show forwards" has PROTO PORT to
# INSIDE with ORIGIN (pcp, upnp) and between MIN and MAX seconds left; fails otherwise.
expect_lease() {
	local line inside origin left
	line=$(ctl show forwards | awk -v p="$1" -v e="$2" '$1 == p && $2 == e')
	read -r _ _ inside origin left _ <<<"$line"
	[ "$inside" = "$3" ] && [ "$origin" = "$4" ] || fail "show forwards: '$line'"
	left=${left%s}
	[ "$left" -ge "$5" ] && [ "$left" -le "$6" ] || fail "lifetime left $left, not $5-$6"
	echo "ok: the mapping shows in show forwards: $line"
}

# wait_listen NS tcp|udp ADDR:PORT: wait up to 5 s for a listener.
wait_listen() {
	wait_until 5 listening "$@" || fail "nothing listens on $2 $3 in $1"
}
