#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_coalesce.sh - coalesced TUN writes (design.md, Coalesced writes) change nothing the
# receiving hosts get: a differential test, naptd run twice on the same topology and the
# same traffic, once with "coalesce yes" and once with "coalesce no".
#
# With the veth offloads off (lib.sh) naptd reads every TCP segment alone, so its bursts hold
# runs of segments to merge. The traffic is mixed: three TCP streams LAN->WAN and one
# WAN->LAN through a forward, 2 MB each of the same random data in both runs, and 3000 UDP
# datagrams of 1200 bytes LAN->WAN in runs of 32. nftables drops 1.5 % of the TCP packets
# entering the router either way (numgen random: this kernel has no netem), so the bursts
# hold retransmissions, gaps and reordered segments too. Each run must deliver every stream
# byte for byte, and every UDP datagram that arrives must be the one sent (USO keeps the
# datagram boundaries), in the order sent. The run with coalescing must count frames merged
# in `naptctl show stats` (tun-frames-merged), the other none: it did coalesce. The write()
# calls of each run (/proc/PID/io syscw) are printed, not asserted: how many segments a
# burst holds depends on the machine's load (2.5-3.9x fewer with coalescing here). tshark on the WAN
# host checks the IP, TCP and UDP checksums of every packet the kernel cut from naptd's GSO
# packets (tx checksum offload off on the sending veths, as in test_wire.sh) and that none
# is longer than the MTU.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require tshark ethtool nft ss
topo_up

STREAM_BYTES=2097152
UDP_COUNT=3000
UDP_SIZE=1200
OUT_PORT=5301 # the WAN host's TCP receiver
IN_PORT=5302  # the LAN host's, forwarded
UDP_PORT=5303
CHECK=$(dirname "$0")/stream_check.py

for ns_if in "$NS_LAN:eth0" "$NS_RTR:lan0" "$NS_RTR:wan0" "$NS_WAN:eth0"; do
	ip netns exec "${ns_if%%:*}" ethtool -K "${ns_if#*:}" tx off >/dev/null 2>&1 ||
		fail "cannot switch off tx checksum offload on $ns_if"
done
in_rtr nft -f - <<-NFT || fail "nft: the loss rule was refused"
	table ip loss {
		chain pre {
			type filter hook prerouting priority raw; policy accept;
			iifname { "lan0", "wan0" } meta l4proto tcp numgen random mod 1000 < 15 counter drop
		}
	}
NFT
for i in 0 1 2 3; do
	head -c $STREAM_BYTES /dev/urandom >"$TOPO_DIR/data-$i"
done

# run MODE: naptd with "coalesce MODE", the traffic, then the results in $TOPO_DIR/MODE/.
run() {
	local mode=$1 dir=$TOPO_DIR/$1 i pids=()
	mkdir -p "$dir/out" "$dir/in"
	naptd_config "coalesce $mode" "forward tcp $IN_PORT $LAN_IP:$IN_PORT" >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with coalesce $mode"
	grep -q "coalescing $([ "$mode" = yes ] && echo "tcp" || echo off)" "$NAPTD_LOG" ||
		fail "naptd's log does not say coalescing is $mode: $(grep ready "$NAPTD_LOG")"
	if [ "$mode" = yes ]; then
		bg "$NS_WAN" "$dir/tshark.log" tshark -n -i eth0 -w "$dir/wan.pcap" -a duration:90
		TSHARK_PID=${TOPO_PIDS[-1]}
		wait_until 10 grep -q "Capturing on" "$dir/tshark.log" || fail "tshark did not start"
	fi
	bg "$NS_WAN" "$dir/recv-out.log" "$PY" "$CHECK" tcp-recv "$WAN_IP" $OUT_PORT 3 "$dir/out"
	bg "$NS_LAN" "$dir/recv-in.log" "$PY" "$CHECK" tcp-recv "$LAN_IP" $IN_PORT 1 "$dir/in"
	bg "$NS_WAN" "$dir/recv-udp.log" "$PY" "$CHECK" udp-recv "$WAN_IP" $UDP_PORT $UDP_COUNT \
		"$dir/udp"
	wait_listen "$NS_WAN" tcp "$WAN_IP:$OUT_PORT"
	wait_listen "$NS_LAN" tcp "$LAN_IP:$IN_PORT"
	wait_listen "$NS_WAN" udp "$WAN_IP:$UDP_PORT"
	read -r _ w0 < <(grep syscw "/proc/$NAPTD_PID/io")
	for i in 0 1 2; do
		in_lan timeout 70 "$PY" "$CHECK" tcp-send "$WAN_IP" $OUT_PORT $i "$TOPO_DIR/data-$i" &
		pids+=($!)
	done
	in_wan timeout 70 "$PY" "$CHECK" tcp-send "$EXT_IP" $IN_PORT 3 "$TOPO_DIR/data-3" &
	pids+=($!)
	in_lan timeout 70 "$PY" "$CHECK" udp-send "$WAN_IP" $UDP_PORT $UDP_COUNT $UDP_SIZE ||
		fail "udp-send failed"
	for i in "${pids[@]}"; do
		wait "$i" || fail "a TCP sender failed (coalesce $mode)"
	done
	wait_until 10 test -s "$dir/udp" || fail "the UDP receiver wrote nothing"
	read -r _ w1 < <(grep syscw "/proc/$NAPTD_PID/io")
	echo $((w1 - w0)) >"$dir/writes"
	stat_value tun-frames-merged >"$dir/merged"
	stop_naptd || fail "naptd exited with an error (coalesce $mode)"
	if [ "$mode" = yes ]; then
		kill_wait "$TSHARK_PID" 10 >/dev/null 2>&1
	fi
}

run yes
run no

for mode in yes no; do
	dir=$TOPO_DIR/$mode
	for i in 0 1 2; do
		cmp -s "$TOPO_DIR/data-$i" "$dir/out/stream-$i" ||
			fail "coalesce $mode: LAN->WAN stream $i differs from what was sent"
	done
	cmp -s "$TOPO_DIR/data-3" "$dir/in/stream-3" ||
		fail "coalesce $mode: WAN->LAN stream differs from what was sent"
	read -r _ got _ bad _ inv <"$dir/udp"
	if [ "$bad" != 0 ] || [ "$inv" != 0 ]; then
		fail "coalesce $mode: UDP $(cat "$dir/udp") (datagrams damaged or reordered)"
	fi
	[ "$got" -ge $((UDP_COUNT * 9 / 10)) ] || fail "coalesce $mode: UDP $(cat "$dir/udp")"
	echo "ok: coalesce $mode: 4 TCP streams of $STREAM_BYTES bytes intact, UDP $(cat "$dir/udp"), $(cat "$dir/writes") writes"
done
drops=$(in_rtr nft list chain ip loss pre | grep -o 'packets [0-9]*' | awk '{ print $2 }')
[ "${drops:-0}" -gt 0 ] || fail "the loss rule dropped nothing"
echo "ok: the loss rule dropped $drops TCP packets over both runs"
yes_w=$(cat "$TOPO_DIR/yes/writes") no_w=$(cat "$TOPO_DIR/no/writes")
yes_m=$(cat "$TOPO_DIR/yes/merged") no_m=$(cat "$TOPO_DIR/no/merged")
if [ "${yes_m:-0}" -le 0 ] || [ "$no_m" != 0 ]; then
	fail "tun-frames-merged: ${yes_m:-none} with coalescing, ${no_m:-none} without"
fi
echo "ok: with coalescing $yes_w write() calls ($yes_m frames merged), without $no_w"

# The capture: every checksum good, nothing longer than the MTU, and TCP and UDP from the
# external address in it.
CAP=$TOPO_DIR/yes/wan.pcap
# count FILTER: packets of the capture that match, checksums validated.
count() {
	tshark -n -r "$CAP" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-o udp.check_checksum:TRUE -Y "$1" 2>/dev/null | wc -l
}
# naptd's output only: what the WAN host itself sends never crossed naptd.
BAD="ip.src == $EXT_IP && (ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" || ip.len > 1500)"
bad=$(count "$BAD")
if [ "$bad" != 0 ]; then
	tshark -n -r "$CAP" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-o udp.check_checksum:TRUE -Y "$BAD" -V 2>/dev/null | head -80
	fail "tshark: $bad packets with a bad checksum or longer than 1500 bytes"
fi
tcp_n=$(count "ip.src == $EXT_IP && tcp.len > 0 && tcp.checksum.status == \"Good\" && ip.checksum.status == \"Good\"")
udp_n=$(count "ip.src == $EXT_IP && udp.checksum.status == \"Good\" && ip.checksum.status == \"Good\"")
# A sample, not every packet: the capture itself misses packets on a loaded machine.
if [ "$tcp_n" -le 1000 ] || [ "$udp_n" -le 1000 ]; then
	fail "the capture holds $tcp_n TCP and $udp_n UDP packets from $EXT_IP with good checksums"
fi
echo "ok: tshark: $tcp_n TCP and $udp_n UDP packets from $EXT_IP, checksums good; none bad, none over 1500 bytes"
