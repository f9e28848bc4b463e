#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_pcp_rate_share.sh - attack (h-break1): the NAT-PMP/PCP rate limit (HOST_MAPS_PER_S,
# pcp_server.c) must be one host's, not shared with other hosts. With two inside prefixes
# (192.168.76.0/24 and 192.168.77.0/24, one LAN) the hosts 192.168.76.2 and 192.168.77.2 are
# equal modulo 256. 76.2, which pcp-allow does not even let map, sends 200 NAT-PMP requests
# a second (its own address, nothing forged); 77.2, allowed, asks for one mapping a second,
# well within its own budget: each of its requests must succeed (RFC 6886 section 3.3). A
# shared budget answers it "out of resources" (4): a denial of service by a neighbour.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require ss
topo_up_extra

NEIGHBOUR_IP=192.168.76.2
ip -n "$NS_RTR" addr add 192.168.76.1/24 dev lan0
ip -n "$NS_LAN" addr add "$NEIGHBOUR_IP/24" dev eth0
naptd_config "inside 192.168.76.0/24" "pcp-allow $INSIDE 1024-65535" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:5351"

# natpmp SRC INTERNAL: a NAT-PMP TCP mapping request (RFC 6886 section 3.3) from SRC for
# INTERNAL -> INTERNAL, lifetime 3600; prints the result code, or "none" after 2 s.
natpmp() {
	in_lan "$PY" - "$1" "$RTR_LAN_IP" "$2" <<-'PY'
		import socket, struct, sys
		src, gw, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((src, 0))
		s.settimeout(2)
		s.sendto(struct.pack("!BBHHHI", 0, 2, 0, port, port, 3600), (gw, 5351))
		try:
		    print(struct.unpack("!H", s.recv(64)[2:4])[0])
		except socket.timeout:
		    print("none")
	PY
}

# neighbour SECONDS RATE: NAT-PMP requests from NEIGHBOUR_IP at RATE a second.
neighbour() {
	in_lan "$PY" - "$NEIGHBOUR_IP" "$RTR_LAN_IP" "$1" "$2" <<-'PY'
		import socket, struct, sys, time
		src, gw, secs, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((src, 0))
		end = time.monotonic() + secs
		while time.monotonic() < end:
		    s.sendto(struct.pack("!BBHHHI", 0, 2, 0, 9000, 9000, 3600), (gw, 5351))
		    time.sleep(1 / rate)
	PY
}

out=$(natpmp "$LAN_IP" 2000)
[ "$out" = 0 ] || fail "the LAN host's request with no neighbour busy: result '$out'"
echo "ok: alone, $LAN_IP maps (result 0)"

neighbour 6 200 &
TOPO_PIDS+=($!)
sleep 1
results=
for port in 2001 2002 2003; do
	results="$results $(natpmp "$LAN_IP" "$port")"
	sleep 1
done
echo "while $NEIGHBOUR_IP sends 200 requests a second, $LAN_IP's 3 requests (1/s) got:$results"
[ "$results" = " 0 0 0" ] ||
	fail "$LAN_IP was refused because of $NEIGHBOUR_IP's requests (pcp-requests-limited" \
		"$(stat_value pcp-requests-limited))"
echo "ok: a neighbour's requests do not use up $LAN_IP's budget"
stop_naptd || fail "naptd exited with status $?"
exit 0
