#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# lib_home.sh - the Easy IP home router on lib_extra.sh's topology (source this one instead):
# a config with "external interface wan0", and TCP services that say who they are.

# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_extra.sh"

# easyip_config [EXTRA LINE...]: print an Easy IP config for the topology: wan0's own
# address is the external one, lan0 the LAN side.
easyip_config() {
	cat <<-CONF
		inside $INSIDE
		external interface wan0
		tun napt0
		lan-interface lan0
		control $TOPO_DIR/naptd.sock
		state $TOPO_DIR/naptd.state
	CONF
	local line
	for line in "$@"; do
		echo "$line"
	done
}

# banner_server NS PORT TEXT: a TCP service on every address of NS that writes TEXT to
# whoever connects.
banner_server() {
	bg "$1" "$TOPO_DIR/banner-$1-$2.log" socat "TCP-LISTEN:$2,reuseaddr,fork" "SYSTEM:echo $3"
	wait_listen "$1" tcp "0.0.0.0:$2"
}

# banner NS ADDR PORT: what the TCP service at ADDR:PORT writes, seen from NS (empty and
# status non-zero when nothing answers within 5 s).
banner() {
	ip netns exec "$1" timeout 10 socat -T 5 - "TCP:$2:$3,connect-timeout=5" </dev/null
}

# udp_ask NS ADDR PORT WANT: a datagram to ADDR:PORT from NS; prints the answer, up to three
# tries until it is WANT (a datagram may be lost). -t 5: socat stops 0.5 s after its stdin
# ends by default, too soon for a forked echo on a loaded machine.
udp_ask() {
	local got
	for _ in 1 2 3; do
		got=$(echo ping | ip netns exec "$1" timeout 10 socat -T 5 -t 5 - "UDP:$2:$3") || got=
		[ "$got" = "$4" ] && break
	done
	echo "$got"
}

# easyip_snapshot: routing_snapshot and the sysctls naptd changes under Easy IP.
easyip_snapshot() {
	routing_snapshot
	in_rtr sysctl -n net.ipv4.ip_local_port_range net.ipv4.tcp_early_demux \
		net.ipv4.udp_early_demux
}

# gena_renumber HOST NEW_IP: upnp_peer.py's SUBSCRIBE listener at $LAN_IP:5999 on the IGD at
# HOST (30 s at most) in the background (GENA_PID, its log $TOPO_DIR/gena.log), waiting for
# $RTR_WAN_IP then NEW_IP; once it heard $RTR_WAN_IP, wan0 is renumbered to NEW_IP. Returns 1
# (and renumbers nothing) when the first event does not come within 10 s.
gena_renumber() {
	in_lan "$PY" "$(dirname "${BASH_SOURCE[0]}")/upnp_peer.py" gena "$LAN_IP" 5999 \
		"http://$1/evt/IPConn" 30 "$RTR_WAN_IP" "$2" >"$TOPO_DIR/gena.log" 2>&1 &
	GENA_PID=$!
	TOPO_PIDS+=("$GENA_PID")
	wait_until 10 grep -q "event ExternalIPAddress $RTR_WAN_IP" "$TOPO_DIR/gena.log" || return 1
	in_rtr ip addr del "$RTR_WAN_IP/24" dev wan0
	in_rtr ip addr add "$2/24" dev wan0
}

# The capabilities the packaged unit bounds naptd to (docs/naptd.service.in).
# shellcheck disable=SC2034 # used by the tests that source this file
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' \
	"$(dirname "${BASH_SOURCE[0]}")/../../docs/naptd.service.in")
# capped CAP...: NAPTD becomes naptd under the bounding set CAP... (CAP_NET_ADMIN ...).
capped() {
	local set
	: "${REAL_NAPTD:=$NAPTD}"
	set=$(printf '%s\n' "$@" | sed 's/^CAP_/+/' | tr '[:upper:]' '[:lower:]' | paste -sd, -)
	printf '#!/bin/sh\nexec setpriv --bounding-set=-all,%s --inh-caps=-all %s "$@"\n' \
		"$set" "$REAL_NAPTD" >"$TOPO_DIR/naptd-capped"
	chmod 0755 "$TOPO_DIR/naptd-capped"
	NAPTD=$TOPO_DIR/naptd-capped
}

# expect_banner NS ADDR PORT TEXT WHAT: the TCP service at ADDR:PORT, seen from NS, says
# TEXT; prints "ok: WHAT".
expect_banner() {
	local got
	got=$(banner "$1" "$2" "$3") || fail "$5: no answer from $2:$3"
	[ "$got" = "$4" ] || fail "$5: $2:$3 said '$got', not '$4'"
	echo "ok: $5"
}

# filter_drops NS ADDR PORT: 20 datagrams from NS to ADDR:PORT all end in naptd's TUN
# filter (tun-filter-dropped +20 within 3 s) and none reaches the engine (dropped-no-mapping
# unchanged); says which failed.
filter_drops() {
	local f0 n0
	f0=$(stat_value tun-filter-dropped) n0=$(stat_value dropped-no-mapping)
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(20):
    s.sendto(b"flood", (sys.argv[1], int(sys.argv[2])))' "$2" "$3"
	# shellcheck disable=SC2317 # called through wait_until
	plus20() { [ $(($(stat_value tun-filter-dropped) - f0)) -ge 20 ]; }
	if ! wait_until 3 plus20; then
		echo "tun-filter-dropped went from $f0 to $(stat_value tun-filter-dropped), not 20 more"
		return 1
	fi
	[ "$(stat_value dropped-no-mapping)" = "$n0" ] && return 0
	echo "dropped-no-mapping moved ($n0 -> $(stat_value dropped-no-mapping)): the engine saw them"
	return 1
}
