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

# easyip_snapshot: routing_snapshot and the sysctls naptd changes under Easy IP.
easyip_snapshot() {
	routing_snapshot
	in_rtr sysctl -n net.ipv4.ip_local_port_range net.ipv4.tcp_early_demux \
		net.ipv4.udp_early_demux
}
