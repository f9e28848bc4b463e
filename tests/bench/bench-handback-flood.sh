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
# FLOOD_KIND (udp) picks what floods W: udp (datagrams to FLOOD_PORT), rawudp (the same
# sent through a raw socket, at frag's and syn's sending cost), frag (later fragments of
# UDP datagrams to W: offset 1480, no ports), icmp (echo requests), syn (TCP
# SYNs without ACK to FLOOD_PORT; naptd runs with "unsolicited-syn rst", whose SYNs the TUN
# filter lets through); the last three are what the TUN filter passes to the engine.
# firstfrag (break12c): first fragments (MF, offset 0, a new IP ID each) of UDP datagrams to
# FLOOD_PORT from 203.0.113.64-127 (spoofed; no answer goes back): with FLOOD_PORT one of
# local-ports (FLOOD_PORT=40000) the engine passes each to the router and remembers it.
set -u
. "$(dirname "$0")/../netns/lib_home.sh"

RUNS=${RUNS:-3}
FLOODERS=${FLOODERS:-2}
FLOOD_PORT=${FLOOD_PORT:-9999}
FLOOD_KIND=${FLOOD_KIND:-udp}
case $FLOOD_KIND in
udp | rawudp | frag | firstfrag | icmp) extra="" ;;
syn) extra="unsolicited-syn rst" ;;
*) fail "FLOOD_KIND: udp, rawudp, frag, firstfrag, icmp or syn" ;;
esac
topo_require iperf3 ss
topo_up
easyip_config "$extra" >"$TOPO_DIR/naptd.conf"
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
import socket, struct, sys
kind, dst, port, src = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def csum(b):
    b += bytes(len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pkts, a = [b"x" * 64], (dst, port)
elif kind == "icmp":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    pkts, a = [], (dst, 0)
    for i in range(256):
        h = struct.pack("!BBHHH", 8, 0, 0, 0x4242, i) + b"x" * 56
        pkts.append(h[:2] + struct.pack("!H", csum(h)) + h[4:])
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    pkts, a = [], (dst, 0)
    src, dst = socket.inet_aton(src), socket.inet_aton(dst)
    for i in range(256 if kind != "firstfrag" else 4096):
        if kind == "firstfrag":  # MF, offset 0, IP ID i, 64 sources
            udp = struct.pack("!HHHH", 20000, port, 1488, 0) + b"x" * 56
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 84, i, 0x2000, 64, 17, 0,
                             bytes([203, 0, 113, 64 + i % 64]), dst)
            pkts.append(ip + udp)
        elif kind in ("frag", "rawudp"):  # offset 1480 (last fragment) or 0, 64 bytes
            udp = struct.pack("!HHHH", 20000 + i, port, 72, 0) + b"x" * 56
            off = 185 if kind == "frag" else 0
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 92, 0, off, 64, 17, 0, src, dst)
            pkts.append(ip + udp)
        else:  # a bare SYN to port, its checksum right
            tcp = struct.pack("!HHIIBBHHH", 20000 + i, port, i, 0, 0x50, 0x02, 512, 0, 0)
            c = csum(src + dst + struct.pack("!BBH", 0, 6, 20) + tcp)
            tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
            pkts.append(ip + tcp)
i = 0
while True:
    try:
        s.sendto(pkts[i % len(pkts)], a)
    except OSError:
        pass
    i += 1' "$FLOOD_KIND" "$RTR_WAN_IP" "$FLOOD_PORT" "$WAN_IP" &
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
ctl show stats 2>/dev/null | grep -i -E 'no-mapping|hand|tun-filter|frag|syn' || true
stop_naptd
exit 0
