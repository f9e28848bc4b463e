#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# lib_behaviour.sh - topologies for the NAT behaviour tests, on top of lib_extra.sh (source
# this one instead).
#
# STUN (with lib.sh's topo_up): wan gets a second address, 198.51.100.3, and runs Debian's
# stund on both (stun-server needs two addresses: -h primary -a alternate).
#
# Two NATs on one WAN segment (pair_up), for hole punching:
#
#   lana  eth0 192.168.10.2/24 ── lan0 rtra wan0 198.51.100.1 ──┐
#                                  naptd, external 198.51.100.10 │  br0 in srv,
#                                                                ├─ 198.51.100.100/24:
#   lanb  eth0 192.168.20.2/24 ── lan0 rtrb wan0 198.51.100.2 ──┘  the rendezvous server
#                                  naptd, external 198.51.100.20
#
# lana/rtra/srv are lib.sh's NS_LAN/NS_RTR/NS_WAN (so in_lan, in_rtr, in_wan, bg and
# topo_down work on them); lanb and rtrb are NS_LAN_B and NS_RTR_B. The external addresses
# lie in the WAN subnet: each naptd's proxy neighbour entry answers ARP for its own.

# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_extra.sh"

RENDEZVOUS=$(dirname "${BASH_SOURCE[0]}")/rendezvous.py
STUN_ALT_IP=198.51.100.3
STUN_PORT=3478 # stund's default primary port

SRV_IP=198.51.100.100
RENDEZVOUS_PORT=7000
EXT_A=198.51.100.10
EXT_B=198.51.100.20

NS_LAN_B=
NS_RTR_B=
# shellcheck disable=SC2034 # read and set through namerefs (side_naptd, side_naptd_stop)
NAPTD_PID_A='' NAPTD_PID_B=''

# ---- STUN ---------------------------------------------------------------------------------

# stun_server_up: stund on wan's two addresses (after topo_up).
stun_server_up() {
	ip -n "$NS_WAN" addr add "$STUN_ALT_IP/24" dev eth0
	bg "$NS_WAN" "$TOPO_DIR/stund.log" stund -h "$WAN_IP" -a "$STUN_ALT_IP"
	wait_listen "$NS_WAN" udp "$WAN_IP:$STUN_PORT"
	wait_listen "$NS_WAN" udp "$STUN_ALT_IP:$STUN_PORT"
}

# stun_primary NS: stun-client's classification from NS (its "Primary:" line without the
# prefix). Its exit status encodes the NAT type, not success, so only the text counts.
stun_primary() {
	ip netns exec "$1" timeout 20 stun "$WAN_IP" 2>&1 |
		sed -n 's/^Primary: //p' | sed 's/[[:space:]]*$//'
}

# ---- two NATs -----------------------------------------------------------------------------

# side_env a|b: the lib.sh variables naptd_config, start_naptd and stat_value read, for one
# side. Callers declare NS_RTR TOPO_DIR INSIDE EXT_IP local, so lib.sh's functions see this
# side's values (bash scoping is dynamic) and the globals stay as they are.
side_env() {
	case $1 in
	a) NS_RTR=$NS_RTR_A INSIDE=192.168.10.0/24 EXT_IP=$EXT_A ;;
	b) NS_RTR=$NS_RTR_B INSIDE=192.168.20.0/24 EXT_IP=$EXT_B ;;
	esac
	TOPO_DIR=$PAIR_DIR/$1
}

# side_up NS_LAN NS_RTR LAN_NET(first three octets) RTR_WAN_IP BRIDGE_PORT
side_up() {
	router_up "$1" "$2" "$NS_WAN" "$5" "$3.2" "$3.1" "$4"
	ip -n "$NS_WAN" link set "$5" master br0
}

pair_down() {
	local ns
	side_naptd_stop a >/dev/null 2>&1
	side_naptd_stop b >/dev/null 2>&1
	topo_down
	for ns in "$NS_LAN_B" "$NS_RTR_B"; do
		[ -z "$ns" ] || ns_del "$ns"
	done
	NS_LAN_B='' NS_RTR_B=''
}

pair_up() {
	local id=$$$RANDOM
	NS_LAN=napt-lana-$id NS_RTR=napt-rtra-$id NS_WAN=napt-srv-$id
	NS_LAN_B=napt-lanb-$id NS_RTR_B=napt-rtrb-$id
	NS_RTR_A=$NS_RTR
	TOPO_DIR=$(mktemp -d /tmp/napt-pair.XXXXXX)
	PAIR_DIR=$TOPO_DIR
	mkdir "$PAIR_DIR/a" "$PAIR_DIR/b"
	trap pair_down EXIT
	ns_new "$NS_WAN"
	ip -n "$NS_WAN" link add br0 type bridge
	ip -n "$NS_WAN" addr add "$SRV_IP/24" dev br0
	ip -n "$NS_WAN" link set br0 up
	side_up "$NS_LAN" "$NS_RTR_A" 192.168.10 198.51.100.1 porta
	side_up "$NS_LAN_B" "$NS_RTR_B" 192.168.20 198.51.100.2 portb
}

# side_naptd_stop a|b: stop that side's naptd (SIGTERM: it removes its routes), if running.
side_naptd_stop() {
	local -n pid_var=NAPTD_PID_${1^^}
	[ -n "$pid_var" ] && kill_wait "$pid_var" 5
	pid_var=
}

# side_naptd a|b NAT-TYPE: (re)start that side's naptd with "nat-type NAT-TYPE".
side_naptd() {
	local side=$1 NS_RTR TOPO_DIR INSIDE EXT_IP NAPTD_PID=
	local -n pid_var=NAPTD_PID_${side^^}
	side_naptd_stop "$side"
	side_env "$side"
	naptd_config "nat-type $2" >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf" || return 1
	pid_var=$NAPTD_PID
}

# side_stat a|b NAME: a counter of that side's naptd.
side_stat() {
	local NS_RTR TOPO_DIR INSIDE EXT_IP
	side_env "$1"
	stat_value "$2"
}

# rendezvous_up: the rendezvous server in srv, UDP and TCP.
rendezvous_up() {
	bg "$NS_WAN" "$PAIR_DIR/rendezvous.log" "$PY" "$RENDEZVOUS" server "$SRV_IP" \
		"$RENDEZVOUS_PORT"
	wait_listen "$NS_WAN" udp "$SRV_IP:$RENDEZVOUS_PORT"
	wait_listen "$NS_WAN" tcp "$SRV_IP:$RENDEZVOUS_PORT"
}

# punch udp-client|tcp-client CASE [ARGS_A [ARGS_B]]: both clients at once, lana from port
# 40001, lanb from port 40002; their lines go to $PAIR_DIR/CASE.a and CASE.b. Returns 0 when
# both succeeded, 1 when both failed, 2 when only one did.
punch() {
	local mode=$1 name=$2 out=$PAIR_DIR/$2
	# shellcheck disable=SC2086 # the extra arguments are word lists on purpose
	ip netns exec "$NS_LAN" "$PY" "$RENDEZVOUS" "$mode" "$SRV_IP" "$RENDEZVOUS_PORT" 40001 \
		"$name" a ${3:-} >"$out.a" 2>&1 &
	local pid_a=$!
	# shellcheck disable=SC2086
	ip netns exec "$NS_LAN_B" "$PY" "$RENDEZVOUS" "$mode" "$SRV_IP" "$RENDEZVOUS_PORT" 40002 \
		"$name" b ${4:-} >"$out.b" 2>&1
	local rc_b=$? rc_a
	wait "$pid_a"
	rc_a=$?
	cat "$out.a" "$out.b"
	if [ $rc_a = 0 ] && [ $rc_b = 0 ]; then return 0; fi
	if [ $rc_a != 0 ] && [ $rc_b != 0 ]; then return 1; fi
	return 2
}
