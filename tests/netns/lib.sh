#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# lib.sh - network namespaces for naptd tests. Source it from a test script.
#
#   lan  eth0 192.168.77.2/24, default via 192.168.77.1
#   rtr  lan0 192.168.77.1/24, wan0 198.51.100.1/24, ip_forward=1, runs naptd
#        (external 198.51.100.10: inside the WAN subnet, so the proxy neighbour entry matters)
#   wan  eth0 198.51.100.2/24, no route to 192.168.77.0/24: only NAT brings replies back
#
# Names carry a per-run suffix; topo_up installs a trap that removes everything.
# Binaries: $BUILD_DIR/naptd and $BUILD_DIR/naptctl, BUILD_DIR defaulting to the directory
# make check runs in (the build directory).

BUILD_DIR=${BUILD_DIR:-$PWD}
NAPTD=$BUILD_DIR/naptd
# shellcheck disable=SC2034 # used by the tests that source this file
NAPTCTL=$BUILD_DIR/naptctl
PY=/usr/bin/python3 # Debian's: python3 on PATH may lack Debian's modules

LAN_IP=192.168.77.2
RTR_LAN_IP=192.168.77.1
RTR_WAN_IP=198.51.100.1
WAN_IP=198.51.100.2
EXT_IP=198.51.100.10
INSIDE=192.168.77.0/24

NAPTD_PID=
NAPTD_LOG=
TOPO_PIDS=()

# shellcheck source=../require_tools.sh
. "$(dirname "${BASH_SOURCE[0]}")/../require_tools.sh"

# The Debian package of each tool the tests name.
tool_package() {
	case $1 in
	ip | ss) echo iproute2 ;;
	ping) echo iputils-ping ;;
	nft) echo nftables ;;
	stun) echo stun-client ;;
	stund) echo stun-server ;;
	timeout) echo coreutils ;;
	setpriv) echo util-linux ;;
	upnpc) echo miniupnpc ;;
	bird | birdc) echo bird2 ;;
	*) basename "$1" ;; # curl, socat, tshark, iperf3, natpmpc, python3...
	esac
}

# topo_require TOOL...: skip (exit 77) unless root; as root (as in CI), a missing tool
# fails the test with its package (require_tools.sh) instead of skipping it.
topo_require() {
	[ "${NAPT_NETNS_TESTS:-yes}" = yes ] || { echo "SKIP: configure --disable-netns-tests"; exit 77; }
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
	local t pairs=()
	for t in ip "$PY" "$@"; do
		pairs+=("$t:$(tool_package "$t")")
	done
	require_tools "${pairs[@]}"
	[ -x "$NAPTD" ] || { echo "FAIL: $NAPTD not built (set BUILD_DIR)"; exit 1; }
}

# fail MESSAGE: report, with the end of naptd's log when there is one, and exit 1.
fail() {
	echo "FAIL: $*" >&2
	if [ -n "${NAPTD_LOG:-}" ] && [ -f "$NAPTD_LOG" ]; then
		echo "--- naptd log:" >&2
		tail -n 20 "$NAPTD_LOG" >&2
	fi
	exit 1
}

in_lan() { ip netns exec "$NS_LAN" "$@"; }
in_rtr() { ip netns exec "$NS_RTR" "$@"; }
in_wan() { ip netns exec "$NS_WAN" "$@"; }

# New namespaces copy the host's rp_filter: turn it off (common rules, design notes). IPv6
# off: NAT44 only, and link-local routes appearing late would make routing snapshots differ.
ns_new() {
	ip netns add "$1"
	ip netns exec "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

# Segmentation offloads off: the TUN hands over MTU-sized packets, so compare like with like.
# bench-e2e.sh sets VETH_OFFLOAD=on to measure with the kernel's defaults as well.
VETH_OFFLOAD=off
no_offload() {
	if [ "$VETH_OFFLOAD" = off ] && command -v ethtool >/dev/null; then
		ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
	fi
}

# router_up LAN_NS RTR_NS WAN_NS WAN_PEER LAN_IP RTR_LAN_IP RTR_WAN_IP: new namespaces LAN_NS
# (eth0 LAN_IP/24, default via RTR_LAN_IP) and RTR_NS (lan0 RTR_LAN_IP/24, wan0 RTR_WAN_IP/24,
# forwarding on); wan0's peer is WAN_PEER in the existing WAN_NS, up but with no address.
# Every link is created inside the namespaces: nothing ever appears in the host's namespace.
router_up() {
	local lan=$1 rtr=$2 wan=$3 peer=$4 dev
	ns_new "$lan"
	ns_new "$rtr"
	ip -n "$rtr" link add lan0 type veth peer name eth0 netns "$lan"
	ip -n "$rtr" link add wan0 type veth peer name "$peer" netns "$wan"
	ip -n "$lan" addr add "$5/24" dev eth0
	ip -n "$rtr" addr add "$6/24" dev lan0
	ip -n "$rtr" addr add "$7/24" dev wan0
	for dev in "$lan:eth0" "$rtr:lan0" "$rtr:wan0" "$wan:$peer"; do
		ip -n "${dev%%:*}" link set "${dev#*:}" up
		no_offload "${dev%%:*}" "${dev#*:}"
	done
	ip -n "$lan" route add default via "$6"
	ip netns exec "$rtr" sysctl -qw net.ipv4.ip_forward=1
}

topo_up() {
	local id=$$$RANDOM
	NS_LAN=napt-lan-$id NS_RTR=napt-rtr-$id NS_WAN=napt-wan-$id
	TOPO_DIR=$(mktemp -d /tmp/napt-netns.XXXXXX)
	trap topo_down EXIT
	ns_new "$NS_WAN"
	router_up "$NS_LAN" "$NS_RTR" "$NS_WAN" eth0 "$LAN_IP" "$RTR_LAN_IP" "$RTR_WAN_IP"
	ip -n "$NS_WAN" addr add "$WAN_IP/24" dev eth0
}

# bg NS LOG CMD...: run CMD in namespace NS in the background, output to LOG; killed by
# topo_down.
bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	TOPO_PIDS+=($!)
}

# Bounded wait: wait_for SECONDS CMD... retries CMD every 0.1 s.
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# running PID: PID exists and has not exited. kill -0 also finds a zombie: an orphan that
# exited stays one until PID 1 reaps it, which some machines' PID 1 is slow to do.
running() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# ours PID: PID is a child of this shell. Bash reaps a background child as soon as it exits,
# so a PID kept in a list may since have been given to another test's process (pid_max is
# 32768 here and a CI run wraps it): a stray SIGTERM once stopped another test's naptd.
ours() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	stat=${stat#* }
	stat=${stat%% *}
	[ "$stat" = "$$" ] || [ "$stat" = "$BASHPID" ]
}

# kill_wait PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL. Returns PID's status.
# Only a child of this shell is signalled (ours).
kill_wait() {
	local pid=$1 i
	ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < $2 * 10; i++)); do
		running "$pid" || break
		sleep 0.1
	done
	ours "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid"
}

# ns_del NS: stop what still runs in NS (a forked server, a client that outlived its test: a
# process keeps a deleted namespace and its links alive), then delete NS, and the record of
# sysctls a naptd killed in NS left (sysctl_record.h: named for the namespace's inode).
# SIGTERM to all at once, then up to 2 s for all of them together, then SIGKILL.
ns_del() {
	local pid ino i pids
	pids=$(ip netns pids "$1" 2>/dev/null) || true
	if [ -n "$pids" ]; then
		kill -TERM $pids 2>/dev/null || true
		for ((i = 0; i < 20; i++)); do
			for pid in $pids; do
				running "$pid" && break
				pid=
			done
			[ -n "$pid" ] || break
			sleep 0.1
		done
		# Only what is still in NS: an exited PID may be another test's by now.
		pids=$(ip netns pids "$1" 2>/dev/null) || true
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	fi
	ino=$(stat -L -c %i "/run/netns/$1" 2>/dev/null) && rm -f "/run/naptd/sysctls.$ino"
	ip netns del "$1" 2>/dev/null || true
}

# topo_down: the EXIT trap. Safe under set -e (bench-e2e.sh runs with it).
topo_down() {
	local pid ns
	[ -z "$NAPTD_PID" ] || stop_naptd >/dev/null 2>&1 || true
	for pid in "${TOPO_PIDS[@]}"; do
		kill_wait "$pid" 2 >/dev/null 2>&1 || true
	done
	TOPO_PIDS=()
	for ns in "$NS_LAN" "$NS_RTR" "$NS_WAN"; do
		[ -z "$ns" ] || ns_del "$ns"
	done
	[ -n "$TOPO_DIR" ] && rm -rf "$TOPO_DIR"
	TOPO_DIR=
}

# naptd_config [EXTRA LINE...]: print a config for the topology (write it to a file).
naptd_config() {
	cat <<-CONF
		inside $INSIDE
		external $EXT_IP
		tun napt0
		lan-interface lan0
		wan-interface wan0
		control $TOPO_DIR/naptd.sock
		state $TOPO_DIR/naptd.state
		max-sessions 65536
	CONF
	local line
	for line in "$@"; do
		echo "$line"
	done
}

# start_naptd CONFIG: naptd -f in rtr, log in $TOPO_DIR/naptd.log. Returns once it has
# logged "ready" (TUN up, routing and control socket in place), 1 if it exits or takes
# longer than 10 s. A cold start: the sessions the last stop saved beside CONFIG's state
# file are removed first, since the tests start each part on a table of their own, except
# with NAPTD_KEEP_SESSIONS=yes (the restart tests).
start_naptd() {
	local state
	state=$(awk '$1 == "state" { print $2 }' "$1")
	[ -z "$state" ] || [ "${NAPTD_KEEP_SESSIONS:-no}" = yes ] || rm -f "$state.sessions"
	NAPTD_LOG=$TOPO_DIR/naptd.log
	ip netns exec "$NS_RTR" "$NAPTD" -f -c "$1" >"$NAPTD_LOG" 2>&1 &
	NAPTD_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		if ip -n "$NS_RTR" link show napt0 >/dev/null 2>&1 && grep -q ready "$NAPTD_LOG"; then
			return 0
		fi
		kill -0 "$NAPTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "naptd did not start:" >&2
	cat "$NAPTD_LOG" >&2
	stop_naptd
	return 1
}

# stop_naptd: SIGTERM, wait up to 5 s (then SIGKILL). Returns naptd's exit status.
stop_naptd() {
	local pid=$NAPTD_PID
	NAPTD_PID=
	[ -n "$pid" ] || return 0
	kill_wait "$pid" 5
}

# routing_snapshot: what naptd may change in rtr, to compare before and after.
routing_snapshot() {
	ip -n "$NS_RTR" rule
	ip -n "$NS_RTR" route show table all
	ip -n "$NS_RTR" neigh show proxy
	in_rtr sysctl -n net.ipv4.ip_forward
}

# expect_unchanged BEFORE AFTER MESSAGE: two snapshots; fail with MESSAGE and their
# difference unless they are equal.
expect_unchanged() {
	[ "$1" = "$2" ] && return 0
	diff <(echo "$1") <(echo "$2") >&2
	fail "$3"
}

# socket_appears PATH: until the socket file PATH exists, at most 5 s; fail if it does not.
socket_appears() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	fail "the socket $1 did not appear"
}
