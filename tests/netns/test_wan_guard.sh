#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_wan_guard.sh - a WAN neighbour that routes the inside prefix at the router forges
# packets from an inside address (the LAN host's) to services on the router's own LAN
# address (issue 11, docs/security.md): Linux delivers a packet for any local address
# whichever interface it comes in on, so without the `iif wan0 from INSIDE blackhole` rule
# ahead of the local table the services take them and answer the forged source on the LAN.
#  1. forged from the WAN: a UDP datagram to an echo service, a TCP SYN to a listener (both
#     on 192.168.77.1, started here in rtr) and a NAT-PMP mapping request to port 5351: no
#     service sees them, nothing answers the LAN host, no mapping appears;
#  2. the same three from the LAN host itself are answered (the positive control);
#  3. the same in Easy IP mode ("external interface wan0", no wan-interface line).
# The guard works on its own: the NAT-PMP server's own check of the arrival interface is
# not what this shows (the UDP and TCP services have none).
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require ss
topo_up_extra

UDP_PORT=7001
TCP_PORT=7002
NATPMP_PORT=5351
MAP_PORT=8086 # the external port the forged NAT-PMP request asks for

# The router's services on its LAN address: UDP echo and a TCP listener; one log line per
# datagram or connection with the peer's address.
bg "$NS_RTR" "$TOPO_DIR/services.log" "$PY" -c '
import select, socket, sys
addr = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr, int(sys.argv[2])))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, int(sys.argv[3])))
t.listen(8)
while True:
    for s in select.select([u, t], [], [], 60)[0]:
        if s is u:
            data, peer = u.recvfrom(100)
            u.sendto(data, peer)
            print("udp %s %d" % peer, flush=True)
        else:
            c, peer = t.accept()
            print("tcp %s %d" % peer, flush=True)
            c.close()
' "$RTR_LAN_IP" "$UDP_PORT" "$TCP_PORT"
wait_listen "$NS_RTR" tcp "$RTR_LAN_IP:$TCP_PORT"

# forge: from the WAN host, with the LAN host's address as source (it holds that address on
# its loopback for the purpose, so the kernel builds the packets): a UDP datagram (sport
# 40001), a TCP SYN (sport 40002) and a NAT-PMP request to map TCP internal port 80 to
# external MAP_PORT (sport 40003, RFC 6886 section 3.3). Answers would go to the LAN.
forge() {
	in_wan "$PY" - "$LAN_IP" "$RTR_LAN_IP" "$UDP_PORT" "$TCP_PORT" "$NATPMP_PORT" "$MAP_PORT" <<-'PY'
		import socket, struct, sys, time
		src, dst = sys.argv[1], sys.argv[2]
		udp_port, tcp_port, pmp_port, map_port = map(int, sys.argv[3:7])

		def udp(sport, dport, data):
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind((src, sport))
		    s.sendto(data, (dst, dport))

		udp(40001, udp_port, b"forged")
		udp(40003, pmp_port, struct.pack("!BBHHHI", 0, 2, 0, 80, map_port, 3600))
		t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		t.bind((src, 40002))
		t.setblocking(False)
		t.connect_ex((dst, tcp_port))  # the SYN; no SYN-ACK can come back here
		time.sleep(0.3)
	PY
}

# answers LOG: what the LAN host received from the router's services (proto src sport).
answers() {
	awk -v r="$RTR_LAN_IP" -v l="$LAN_IP" -v p=" $UDP_PORT $TCP_PORT $NATPMP_PORT " \
		'$2 == r && $4 == l && index(p, " " $3 " ")' "$1"
}

# guarded MODE: step 1 against the running naptd.
guarded() {
	local log=$TOPO_DIR/lan-$1.log got
	sniff_start "$NS_LAN" eth0 "$log" 20
	forge
	sleep 1
	sniff_stop
	got=$(answers "$log")
	[ -z "$got" ] || fail "$1: the router answered the forged packets on the LAN (proto src sport dst dport flags):
$got"
	grep -q . "$TOPO_DIR/services.log" &&
		fail "$1: a service took a forged packet: $(cat "$TOPO_DIR/services.log")"
	ctl show forwards | grep -q "^tcp *$MAP_PORT " &&
		fail "$1: the forged NAT-PMP request made a mapping: $(ctl show forwards)"
	echo "ok: $1: UDP, TCP SYN and NAT-PMP forged from the WAN with source $LAN_IP reach no" \
		"service on $RTR_LAN_IP and get no answer"
}

# reachable MODE: step 2, from the LAN host.
reachable() {
	local got
	got=$(in_lan "$PY" - "$RTR_LAN_IP" "$UDP_PORT" "$TCP_PORT" "$NATPMP_PORT" <<-'PY'
		import socket, struct, sys
		dst, udp_port, tcp_port, pmp_port = sys.argv[1], *map(int, sys.argv[2:5])
		out = []
		u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		u.settimeout(2)
		u.sendto(b"lan", (dst, udp_port))
		out.append("udp" if u.recv(100) == b"lan" else "udp?")
		socket.create_connection((dst, tcp_port), timeout=2).close()
		out.append("tcp")
		u.sendto(struct.pack("!BB", 0, 0), (dst, pmp_port))  # public address request
		ans = u.recv(100)
		out.append("natpmp" if ans[:4] == b"\x00\x80\x00\x00" else "natpmp?")
		print(" ".join(out))
	PY
	)
	[ "$got" = "udp tcp natpmp" ] || fail "$1: the LAN host did not reach the services: '$got'"
	echo "ok: $1: the LAN host reaches UDP, TCP and NAT-PMP on $RTR_LAN_IP"
	# The client's connect returns before the service's accept() logs it: wait for both
	# lines before emptying the log, or a late one reads as a forged packet taken next step.
	wait_for 5 grep -q "^tcp $LAN_IP " "$TOPO_DIR/services.log" ||
		fail "$1: the TCP service never logged the LAN host's connection"
	: >"$TOPO_DIR/services.log"
}

ip -n "$NS_WAN" route add "$INSIDE" via "$RTR_WAN_IP"
ip -n "$NS_WAN" addr add "$LAN_IP/32" dev lo

naptd_config "pcp-allow $INSIDE 1024-65535" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:$NATPMP_PORT"
guarded pool
reachable pool
stop_naptd || fail "naptd exited with status $? after SIGTERM"

# Easy IP: the external address is wan0's own, and no wan-interface line.
naptd_config "pcp-allow $INSIDE 1024-65535" |
	sed '/^wan-interface /d; s/^external .*/external interface wan0/' >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start in Easy IP mode"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:$NATPMP_PORT"
guarded "easy-ip"
reachable "easy-ip"
exit 0
