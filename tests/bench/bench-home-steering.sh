#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-home-steering.sh - what Easy IP's steering costs (docs/design.md, "Easy IP steering"):
# from a WAN host to the router's WAN address, TCP throughput (iperf3, 5 s) and the mean
# round trip of 1-byte requests over one TCP connection (2000 of them), for
#   local    the router's own service on a port "local-service" names (the local table),
#   handed   (HANDED=yes, for builds of 33cfc8b and before only) the router's own service on
#            a port no line names: it entered the TUN, the engine found no rule for it and
#            naptd wrote it back to the kernel. naptd now hands back ICMP only, so such a
#            port is refused (host_handback.h) and there is nothing to measure,
#   forward  a forward to the LAN host: translated traffic.
# Each figure is the median of RUNS (5) runs, all in one run of the script; the round trip
# also as the best run (the machine's other load only adds to it). Run it by hand
# as root, from the build directory (or with BUILD_DIR); the old binaries (without
# local-service: LOCAL_SERVICE=no) measure the code before.
set -u
. "$(dirname "$0")/../netns/lib_extra.sh"

RUNS=${RUNS:-5}
LOCAL_SERVICE=${LOCAL_SERVICE:-yes}
HANDED=${HANDED:-no}
topo_require iperf3 ss
topo_up

{
	echo "inside $INSIDE"
	echo "external interface wan0"
	echo "tun napt0"
	echo "lan-interface lan0"
	echo "control $TOPO_DIR/naptd.sock"
	echo "forward tcp 7201-7202 $LAN_IP:5201-5202"
	[ "$LOCAL_SERVICE" = yes ] && echo "local-service tcp 5201-5202"
} >"$TOPO_DIR/naptd.conf"

# rr_server NS PORT: echoes every byte back.
rr_server() {
	bg "$1" "$TOPO_DIR/rr-$1-$2.log" "$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while (b := c.recv(1)):
        c.sendall(b)
    c.close()
' "$2"
	wait_listen "$1" tcp "0.0.0.0:$2"
}
# rr ADDR PORT: mean round trip in microseconds of 2000 1-byte requests.
rr() {
	in_wan "$PY" -c '
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
n = 2000
t = time.perf_counter()
for _ in range(n):
    c.sendall(b"x"); c.recv(1)
print(round((time.perf_counter() - t) / n * 1e6, 1))
' "$1" "$2"
}
# tput ADDR PORT: iperf3 WAN -> ADDR:PORT, receiver's Gbit/s.
tput() {
	in_wan iperf3 -c "$1" -p "$2" -t 5 -J | "$PY" -c '
import json, sys
print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9, 2))'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
least() { sort -n | head -n 1; }
measure() { # LABEL IPERF-PORT RR-PORT
	local i t=() r=()
	for ((i = 0; i < RUNS; i++)); do
		t+=("$(tput "$RTR_WAN_IP" "$2")")
		r+=("$(rr "$RTR_WAN_IP" "$3")")
	done
	printf '%-8s %6s Gbit/s  rtt median %6s us, best %6s us  (runs: %s / %s)\n' "$1" \
		"$(printf '%s\n' "${t[@]}" | median)" "$(printf '%s\n' "${r[@]}" | median)" \
		"$(printf '%s\n' "${r[@]}" | least)" "${t[*]}" "${r[*]}"
}

bg "$NS_RTR" "$TOPO_DIR/iperf-rtr-local.log" iperf3 -s -p 5201
bg "$NS_RTR" "$TOPO_DIR/iperf-rtr-handed.log" iperf3 -s -p 6201
bg "$NS_LAN" "$TOPO_DIR/iperf-lan.log" iperf3 -s -p 5201
rr_server "$NS_RTR" 5202
rr_server "$NS_RTR" 6202
rr_server "$NS_LAN" 5202
wait_listen "$NS_RTR" tcp "*:5201"
wait_listen "$NS_RTR" tcp "*:6201"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

echo "naptd: $NAPTD (local-service: $LOCAL_SERVICE), median of $RUNS"
measure local 5201 5202
[ "$HANDED" = yes ] && measure handed 6201 6202
measure forward 7201 7202
