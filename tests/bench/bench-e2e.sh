#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-e2e.sh [on|off] -- naptd side by side with the kernel's NAT, on real devices.
#
# Builds one topology in network namespaces of its own three times: plain routing (the
# ceiling), the kernel's nftables masquerade (plus a dnat rule for the forward), then naptd.
#
#   lan  eth0 192.168.77.2/24                      (iperf3 client and server, wrk)
#   rtr  lan0 192.168.77.1/24, wan0 198.51.100.1/24 (kernel NAT, or naptd external .10)
#   wan  eth0 198.51.100.2/24                      (iperf3 client and server, nginx)
#
# Each is measured with: iperf3 TCP LAN->WAN, iperf3 TCP WAN->LAN through a forward of port
# 5201, iperf3 UDP with 64-byte payloads (packets/s received, loss), new TCP connections
# per second (wrk with "Connection: close" against nginx), each DURATION seconds (default
# 10), and the CPU: the whole machine's (from /proc/stat, % of one core) and naptd's (from
# /proc/PID/stat). Argument: veth offloads on (default) or off (ethtool -K tso/gso/gro off).
# Prints one table (figure x routing / kernel / naptd, ratio naptd/kernel) and one machine
# line per figure: "e2e offload=on mode=naptd case=tcp-out value=9.41 unit=gbit/s cpu=..."
# To measure less (for A/B runs): MODES (default "routing kernel naptd") and FIGURES
# (default "tcp-out tcp-in udp64 conn"), space-separated subsets. COALESCE=yes or no puts
# "coalesce yes|no" in naptd's config, for side-by-side runs of coalesced writes (unset:
# no such line, naptd's default, so a build older than the key runs too).
#
# Needs root, iperf3, nftables, ethtool, curl, wrk, nginx (nginx-light); naptd from
# $BUILD_DIR (default: the current directory). Exits 0 when every figure was measured.
set -euo pipefail

# The topology (topo_up, topo_down, bg, in_lan...), its addresses and naptd_config and
# start_naptd: the netns tests' library, with namespaces and a directory of its own per mode.
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../netns/lib.sh"

OFFLOAD=${1:-on}
DURATION=${DURATION:-10}
VETH_OFFLOAD=$OFFLOAD
COALESCE=${COALESCE:-}
PORT=5201

case $OFFLOAD in on | off) ;; *) echo "usage: $0 [on|off]" >&2; exit 2 ;; esac
case $COALESCE in yes | no | "") ;; *) echo "bench-e2e.sh: COALESCE is yes or no" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "bench-e2e.sh: needs root" >&2; exit 2; }
for t in ip iperf3 nft ethtool curl wrk nginx "$PY"; do
	command -v "$t" >/dev/null || { echo "bench-e2e.sh: $t missing (run.sh deps)" >&2; exit 2; }
done
trap 'exit 1' INT TERM

# wait_listen NS ADDR PORT: bounded wait until a TCP socket listens there.
wait_listen() {
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" ss -Hltn "src $2:$3" | grep -q . && return 0
		sleep 0.1
	done
	echo "bench-e2e.sh: nothing listens on $2:$3" >&2
	return 1
}

nginx_up() {
	mkdir -p "$TOPO_DIR/nginx"
	cat >"$TOPO_DIR/nginx.conf" <<-CONF
		worker_processes 1;
		pid $TOPO_DIR/nginx/nginx.pid;
		error_log $TOPO_DIR/nginx/error.log;
		events { worker_connections 4096; }
		http {
			access_log off;
			client_body_temp_path $TOPO_DIR/nginx;
			server {
				listen $WAN_IP:80 reuseport backlog=4096;
				location / { return 200 "\$remote_addr\n"; }
			}
		}
	CONF
	bg "$NS_WAN" "$TOPO_DIR/nginx.log" nginx -c "$TOPO_DIR/nginx.conf" -g 'daemon off;'
	wait_listen "$NS_WAN" "$WAN_IP" 80 || { cat "$TOPO_DIR/nginx.log" >&2; return 1; }
}

# ---- CPU accounting ----
CLK_TCK=$(getconf CLK_TCK)
cpu_host() { awk '/^cpu / { print $2+$3+$4+$7+$8, $5+$6 }' /proc/stat; } # busy idle
cpu_proc() { [ -n "$1" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_begin() {
	read -r H_BUSY H_IDLE < <(cpu_host)
	P_TICKS=$(cpu_proc "$NAPTD_PID")
	T_BEGIN=$(date +%s.%N)
}
# cpu_end: sets HOST_CPU (whole machine, % of one core) and PROC_CPU (naptd, % of one core).
cpu_end() {
	local busy idle ticks t
	read -r busy idle < <(cpu_host)
	ticks=$(cpu_proc "$NAPTD_PID")
	t=$(date +%s.%N)
	HOST_CPU=$(awk -v b=$((busy - H_BUSY)) -v i=$((idle - H_IDLE)) -v n="$(nproc)" \
		'BEGIN { printf "%.0f", (b + i) ? 100 * n * b / (b + i) : 0 }')
	PROC_CPU=$(awk -v d=$((ticks - P_TICKS)) -v hz="$CLK_TCK" -v t0="$T_BEGIN" -v t1="$t" \
		'BEGIN { printf "%.0f", 100 * d / hz / (t1 - t0) }')
	[ -n "$NAPTD_PID" ] || PROC_CPU=-
}

# ---- the four figures ----
json() { "$PY" -c "import json,sys; e=json.load(sys.stdin)['end']; $1"; }

# iperf_server NS ADDR: a one-off iperf3 server (started here, not in a $(...) subshell,
# so that topo_down knows its PID).
iperf_server() {
	bg "$1" "$TOPO_DIR/iperf-s.log" iperf3 -s -1 -B "$2" -p $PORT
	wait_listen "$1" "$2" $PORT
}

# iperf_tcp CLIENT_NS TARGET: Gbit/s received.
iperf_tcp() {
	ip netns exec "$1" timeout $((DURATION + 20)) iperf3 -c "$2" -p $PORT -t "$DURATION" -J |
		json 'print("%.2f" % (e["sum_received"]["bits_per_second"] / 1e9))'
}

# iperf_udp TARGET: "kpps loss%" received at the WAN host from 64-byte datagrams.
iperf_udp() {
	in_lan timeout $((DURATION + 20)) iperf3 -c "$1" -p $PORT -u -b 0 -l 64 -t "$DURATION" -J |
		json 's=e["sum"]; print("%.1f %.1f" % ((s["packets"]-s["lost_packets"])/s["seconds"]/1e3, s["lost_percent"]))'
}

# conn_rate: new TCP connections per second, wrk from the LAN, one request per connection.
conn_rate() {
	in_lan timeout $((DURATION + 20)) wrk -t1 -c32 -d"${DURATION}s" -H 'Connection: close' \
		"http://$WAN_IP/" >"$TOPO_DIR/wrk.log" 2>&1
	grep -q 'Socket errors' "$TOPO_DIR/wrk.log" && grep 'Socket errors' "$TOPO_DIR/wrk.log" >&2
	awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$TOPO_DIR/wrk.log"
}

declare -A RESULT HOSTCPU PROCCPU
CASES=(tcp-out tcp-in udp64-kpps udp64-loss conn)

# record MODE CASE VALUE: keep a figure with the CPU of its run and print its machine line.
record() {
	RESULT[$1,$2]=$3
	HOSTCPU[$1,$2]=$HOST_CPU
	PROCCPU[$1,$2]=$PROC_CPU
	echo "e2e offload=$OFFLOAD coalesce=${COALESCE:-default} mode=$1 case=$2 value=$3 host_cpu=$HOST_CPU naptd_cpu=$PROC_CPU"
}

# measured CASE: whether FIGURES (default: all four) asks for this figure.
measured() { [[ " ${FIGURES:-tcp-out tcp-in udp64 conn} " == *" $1 "* ]]; }

# tcp_figure MODE CASE SERVER_NS CLIENT_NS TARGET: one TCP figure, the iperf3 server in
# SERVER_NS on its own address, the client in CLIENT_NS sending to TARGET.
tcp_figure() {
	local v addr=$WAN_IP
	[ "$3" = "$NS_WAN" ] || addr=$LAN_IP
	iperf_server "$3" "$addr" || return 1
	cpu_begin
	v=$(iperf_tcp "$4" "$5" || echo fail)
	cpu_end
	record "$1" "$2" "$v"
}

# measure MODE IN_TARGET: the figures; IN_TARGET is where a WAN client reaches the LAN's
# iperf3 server (the LAN address itself, or an address forwarded to it). Functions called
# in an "if" run without errexit: every step that matters returns on failure.
measure() {
	local mode=$1 v
	if measured tcp-out; then
		tcp_figure "$mode" tcp-out "$NS_WAN" "$NS_LAN" "$WAN_IP" || return 1
	fi
	if measured tcp-in; then
		tcp_figure "$mode" tcp-in "$NS_LAN" "$NS_WAN" "$2" || return 1
	fi
	if measured udp64; then
		iperf_server "$NS_WAN" "$WAN_IP" || return 1
		cpu_begin
		v=$(iperf_udp "$WAN_IP" || echo "fail fail")
		cpu_end
		record "$mode" udp64-kpps "${v% *}"
		record "$mode" udp64-loss "${v#* }"
	fi
	if measured conn; then
		cpu_begin
		v=$(conn_rate || echo fail)
		cpu_end
		record "$mode" conn "${v:-fail}"
	fi
}

# check_source WANT: the address nginx on the WAN host sees for a LAN client (proves which
# path the packets took).
check_source() {
	local seen
	seen=$(in_lan curl -sS --max-time 5 "http://$WAN_IP/" 2>&1 || true)
	if [ "$seen" != "$1" ]; then
		echo "bench-e2e.sh: WAN host saw '$seen', expected $1" >&2
		return 1
	fi
}

# ---- the three modes ----
mode_routing() {
	ip -n "$NS_WAN" route add "$INSIDE" via "$RTR_WAN_IP" || return 1
	nginx_up || return 1
	check_source "$LAN_IP" || return 1
	measure routing "$LAN_IP"
}

mode_kernel() {
	in_rtr nft -f - <<-NFT || return 1
		table ip bench_nat {
			chain pre {
				type nat hook prerouting priority dstnat;
				iifname "wan0" tcp dport $PORT dnat to $LAN_IP:$PORT
			}
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "wan0" ip saddr $INSIDE masquerade
			}
		}
	NFT
	nginx_up || return 1
	check_source "$RTR_WAN_IP" || return 1
	measure kernel "$RTR_WAN_IP"
}

naptd_up() {
	naptd_config "max-sessions 1048576" "forward tcp $PORT $LAN_IP:$PORT" \
		${COALESCE:+"coalesce $COALESCE"} >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf"
}

mode_naptd() {
	[ -x "$NAPTD" ] || { echo "bench-e2e.sh: $NAPTD not built (set BUILD_DIR)" >&2; return 1; }
	naptd_up || return 1
	nginx_up || return 1
	check_source "$EXT_IP" || return 1
	measure naptd "$EXT_IP"
}

# ---- the table ----
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == a && b + 0 == b && b > 0) printf "%.2f", a / b; else printf "-" }'
}

# ratio_of CASE: naptd / kernel ("-" for the loss, where a ratio means nothing).
ratio_of() {
	if [ "$1" = udp64-loss ]; then
		echo -
	else
		ratio "${RESULT[naptd,$1]:-}" "${RESULT[kernel,$1]:-}"
	fi
}

print_table() {
	local c label
	local -A LABEL=([tcp-out]="TCP LAN->WAN Gbit/s" [tcp-in]="TCP WAN->LAN fwd Gbit/s"
		[udp64-kpps]="UDP 64 B received kpps" [udp64-loss]="UDP 64 B loss %"
		[conn]="new TCP conn/s (wrk)")
	echo
	echo "napt bench-e2e: veth offloads $OFFLOAD, naptd coalesce ${COALESCE:-default}, ${DURATION} s per figure, $(nproc) CPUs, $(uname -r)"
	printf '%-26s %10s %10s %10s %13s %11s\n' figure routing kernel naptd naptd/kernel "naptd CPU%"
	for c in "${CASES[@]}"; do
		label=${LABEL[$c]}
		printf '%-26s %10s %10s %10s %13s %11s\n' "$label" "${RESULT[routing,$c]:--}" \
			"${RESULT[kernel,$c]:--}" "${RESULT[naptd,$c]:--}" \
			"$(ratio_of "$c")" "${PROCCPU[naptd,$c]:--}"
	done
	echo "whole-machine CPU during each figure (% of one core, $(nproc) cores = $(($(nproc) * 100)) %):"
	for c in tcp-out tcp-in udp64-kpps conn; do
		printf '%-26s %10s %10s %10s\n' "${LABEL[$c]}" "${HOSTCPU[routing,$c]:--}" \
			"${HOSTCPU[kernel,$c]:--}" "${HOSTCPU[naptd,$c]:--}"
	done
}

status=0
for mode in ${MODES:-routing kernel naptd}; do
	topo_up
	if ! "mode_$mode"; then
		echo "bench-e2e.sh: mode $mode failed" >&2
		status=1
	fi
	topo_down
done
print_table
for key in "${!RESULT[@]}"; do
	case ${RESULT[$key]} in *fail*) status=1 ;; esac
done
exit $status
