#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# lib_hardening.sh - helpers of the hardening tests (test_security, test_exhaustion,
# test_faults, test_soak), on top of lib_extra.sh (source this one instead):
#
#   sniff_start NS IF LOG SECONDS  record the IPv4 packets that IF receives
#   sniff_stop                     end the recorder, flush its log
#   raw_send NS MODE ...           send crafted IPv4 packets through a raw socket
#   pin_ext_neighbour              no proxy ARP delay for the WAN host's bursts
#   naptd_field NAME               a line of /proc/NAPTD_PID/status (VmRSS, CapEff, ...)
#   stat_sum NAME...               the sum of counters of `naptctl show stats`
#   crossed, closed                what crosses the router while naptd is down (fail closed)
#
# Senders and recorders use Debian's /usr/bin/python3 and the socket module only, so they
# are the tests' own description of the packets, not the engine's.

# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_extra.sh"

SNIFF_PID=

# sniff_start NS IF LOG SECONDS: in the background, one line per IPv4 packet that IF receives
# (not the ones it sends): "PROTO SRC SPORT DST DPORT FLAGS", ports 0 for ICMP, FLAGS the TCP
# flags byte (0 otherwise). Stops after SECONDS or at sniff_stop. Returns once listening.
sniff_start() {
	rm -f "$3.ready"
	bg "$1" "$3" "$PY" -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))  # no link header
s.bind((sys.argv[1], 0x0800))  # protocol 0 here would receive nothing
s.settimeout(0.2)
open(sys.argv[2], "w").close()
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    try:
        pkt, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(pkt) < 20 or pkt[0] >> 4 != 4:
        continue
    ihl = (pkt[0] & 15) * 4
    proto, src, dst = pkt[9], socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
    sport = dport = flags = 0
    if proto in (6, 17) and len(pkt) >= ihl + 4:
        sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
    if proto == 6 and len(pkt) >= ihl + 14:
        flags = pkt[ihl + 13]
    print(proto, src, sport, dst, dport, flags, flush=True)
' "$2" "$3.ready" "$4"
	SNIFF_PID=${TOPO_PIDS[-1]}
	wait_until 5 test -e "$3.ready" || fail "the packet recorder on $1 $2 did not start"
}

sniff_stop() {
	[ -n "$SNIFF_PID" ] && kill_wait "$SNIFF_PID" 2 >/dev/null 2>&1
	SNIFF_PID=
}

# raw_send NS MODE DST COUNT [SRC] [SECONDS]: COUNT IPv4 packets from a raw socket
# (IP_HDRINCL) in NS, never for longer than SECONDS (default 20); prints how many it sent.
# SRC defaults to the namespace's own address for DST (0.0.0.0: the kernel fills it in).
#   udp-flows   UDP, every packet a new flow: source ports cycle over 2000 values, the
#               destination port steps after each cycle (many ports, then many sessions each)
#   udp-random  UDP to random destination ports from random source ports
#   syn-random  TCP SYN to random destination ports from random source ports
#   icmp-echo   ICMP echo requests, identifier stepping
# Checksums are left 0 (UDP: none, RFC 768; TCP/ICMP: wrong, so a host that would take the
# packet drops it, but a NAT counts it by its addresses and ports first: the TCP checksum is
# not checked on the way through, docs/behaviour.md section 2). ICMP checksums are computed,
# since the engine checks them (RFC 5508 REQ-3).
raw_send() {
	ip netns exec "$1" "$PY" - "$2" "$3" "$4" "${5:-0.0.0.0}" "${6:-20}" <<-'PY'
		import random, socket, struct, sys, time
		mode, dst, count, src, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
		s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
		srcb, dstb = socket.inet_aton(src), socket.inet_aton(dst)

		def csum(b):
		    if len(b) % 2:
		        b += b"\0"
		    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
		    while t >> 16:
		        t = (t & 0xFFFF) + (t >> 16)
		    return ~t & 0xFFFF

		def ip(proto, l4):
		    # The kernel fills in the IP checksum and, with 0, the ID (raw(7)).
		    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, srcb, dstb) + l4

		def packet(i):
		    if mode == "udp-flows":
		        return ip(17, struct.pack("!HHHH", 20000 + i % 2000, 1024 + i // 2000 % 60000, 12, 0) + b"hard")
		    sport, dport = random.randint(1024, 65535), random.randint(1, 65535)
		    if mode == "udp-random":
		        return ip(17, struct.pack("!HHHH", sport, dport, 12, 0) + b"hard")
		    if mode == "syn-random":
		        return ip(6, struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0, 0x50, 0x02, 65535, 0, 0))
		    body = struct.pack("!BBHHH", 8, 0, 0, i & 0xFFFF, 1) + b"hard"
		    return ip(1, body[:2] + struct.pack("!H", csum(body)) + body[4:])

		end, sent = time.monotonic() + limit, 0
		for i in range(count):
		    if i % 1000 == 0 and time.monotonic() > end:
		        break
		    try:
		        s.sendto(packet(i), (dst, 0))
		        sent += 1
		    except (BlockingIOError, OSError):
		        time.sleep(0.001)  # ENOBUFS: the queue is full; the flood goes on
		print(sent)
	PY
}

# pin_ext_neighbour: the WAN host's neighbour entry for the external address, fixed to rtr's
# wan0. Without it the first packets of a burst wait for a proxy ARP answer, which the kernel
# delays by up to proxy_delay (0.8 s), and all but a few are dropped from the queue.
pin_ext_neighbour() {
	local mac
	mac=$(ip -n "$NS_RTR" -o link show wan0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	ip -n "$NS_WAN" neigh replace "$EXT_IP" lladdr "$mac" dev eth0 nud permanent
}

# naptd_field NAME: the value of NAME in naptd's /proc status (e.g. VmRSS -> "12345 kB").
naptd_field() {
	awk -v n="$1:" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "/proc/$NAPTD_PID/status"
}

# stat_sum NAME...: the sum of these counters of `naptctl show stats` (missing ones fail).
stat_sum() {
	ctl show stats | awk -v names="$*" '
		BEGIN { n = split(names, want, " "); for (i = 1; i <= n; i++) need[want[i]] = 1 }
		($1 in need) { sum += $2; found++ }
		END { if (found != n) exit 1; print sum + 0 }'
}

# probe FROM_NS TO_IP: ping, a UDP datagram and a TCP SYN (curl) to TO_IP port PROBE_PORT
# (default 7000), none answered for long.
probe() {
	ip netns exec "$1" ping -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1
	ip netns exec "$1" "$PY" -c '
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"probe", (sys.argv[1], int(sys.argv[2])))
' "$2" "${PROBE_PORT:-7000}" 2>/dev/null
	ip netns exec "$1" curl -s --max-time 1 "http://$2:${PROBE_PORT:-7000}/" >/dev/null 2>&1
}

# crossed NS IF FROM_NS TO_IP SKIP: probe TO_IP from FROM_NS while recording what NS's IF
# receives; prints the packets (proto src sport dst dport flags) not from SKIP.
crossed() {
	local log=$TOPO_DIR/sniff-$RANDOM.log
	sniff_start "$1" "$2" "$log" 20
	probe "$3" "$4"
	sleep 0.5
	sniff_stop
	awk -v r="$5" '$2 != r' "$log"
}

# closed WHEN: naptd not running (WHEN says why); nothing from the LAN host reaches the WAN
# host nor the reverse: only the router's own address on the link may send.
closed() {
	local got
	got=$(crossed "$NS_WAN" eth0 "$NS_LAN" "$WAN_IP" "$RTR_WAN_IP")
	[ -z "$got" ] || fail "$1: LAN traffic reached the WAN host (proto src sport dst dport flags):
$got"
	got=$(crossed "$NS_LAN" eth0 "$NS_WAN" "$LAN_IP" "$RTR_LAN_IP")
	[ -z "$got" ] || fail "$1: a WAN host routing $INSIDE at the router reached the LAN host:
$got"
	echo "ok: $1: nothing crosses, LAN -> WAN or WAN -> LAN host (ping, UDP, TCP)"
}
