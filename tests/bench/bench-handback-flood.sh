#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-handback-flood.sh - what a WAN flood to the router's unnamed ports costs the LAN's
# forwarding (review of Easy IP's hand-back): LAN host to WAN host TCP throughput (iperf3,
# 5 s) alone, then while the WAN host sends UDP datagrams to W:FLOOD_PORT (9999: no listener, outside
# port-range, no DMZ) from FLOODERS (2) processes as fast as they can; under Easy IP each one
# crosses the TUN twice and takes a turn of naptd's thread, before it went to the kernel
# alone. Prints both figures, the ratio, the packets wan0 received during the flooded
# measurement in thousands a second (a run whose flood started late shows a low rate), and
# naptd's no-mapping drops (show stats; since naptd hands back ICMP only, the flood is
# dropped there). RUNS (3) pairs, alternated. Run by hand as root from the build directory
# (or BUILD_DIR); the 73c33af build measures the code before.
set -u
. "$(dirname "$0")/../netns/lib_home.sh"

RUNS=${RUNS:-3}
FLOODERS=${FLOODERS:-2}
FLOOD_PORT=${FLOOD_PORT:-9999}
topo_require iperf3 ss
topo_up
easyip_config "" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
bg "$NS_WAN" "$TOPO_DIR/iperf3.log" iperf3 -s
wait_until 5 listening "$NS_WAN" tcp "*:5201" || wait_listen "$NS_WAN" tcp "0.0.0.0:5201"

gbits() {
	in_lan iperf3 -c "$WAN_IP" -t 5 -J | "$PY" -c '
import json, sys
print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

flood_start() {
	local i
	FLOOD_PIDS=()
	for ((i = 0; i < FLOODERS; i++)); do
		in_wan timeout 8 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a, b = (sys.argv[1], int(sys.argv[2])), b"x" * 64
while True:
    try:
        s.sendto(b, a)
    except OSError:
        pass' "$RTR_WAN_IP" "$FLOOD_PORT" &
		FLOOD_PIDS+=($!)
	done
	sleep 1
}

# wan0_rx: packets wan0 of the router has received.
wan0_rx() { in_rtr cat /sys/class/net/wan0/statistics/rx_packets; }

for ((r = 1; r <= RUNS; r++)); do
	alone=$(gbits)
	flood_start
	rx0=$(wan0_rx) t0=$(date +%s.%N)
	flooded=$(gbits)
	rx1=$(wan0_rx) t1=$(date +%s.%N)
	wait "${FLOOD_PIDS[@]}"
	echo "run $r: alone $alone Gbit/s, under flood $flooded Gbit/s," \
		"ratio $("$PY" -c "print('%.2f' % ($flooded / $alone))")," \
		"wan0 $("$PY" -c "print('%.0f' % (($rx1 - $rx0) / ($t1 - $t0) / 1000))") kpps"
done
ctl show stats 2>/dev/null | grep -i -E 'no-mapping|hand|tun-filter' || true
stop_naptd
exit 0
