#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_wire.sh - the checksums naptd puts on the wire, checked by tshark on the WAN side.
#
# tshark captures on the WAN host's eth0 while TCP (curl of 64 KB), UDP (5 echoed
# datagrams), ICMP echo (5 pings) and an outbound ICMP error (port unreachable from the LAN
# host for a forwarded UDP port, translated by naptd, RFC 5508 section 4) cross the NAT.
# tshark, with IP, TCP and UDP checksum validation switched on (ICMP is always validated,
# the quoted headers of ICMP errors too), must find:
#  - at least 20 packets with source 198.51.100.10, with good TCP, UDP and ICMP checksums
#    among them, and no bad IP, TCP, UDP or ICMP checksum in any packet but
#  - the 4 packets this test sends on purpose with a wrong IP, UDP, TCP and ICMP checksum,
#    which tshark must report: that shows the check can fail.
#
# Why transmit checksum offload is switched off (ethtool -K IF tx off) on the sending veths:
# with offload on, a veth hands the kernel's packets over with only the pseudo-header sum
# in the TCP/UDP checksum field (CHECKSUM_PARTIAL: "the hardware will finish it"), and the
# receiver trusts them without checking. A capture then shows the WAN host's own packets as
# bad, and a wrong checksum would not be noticed by the stack that receives it. With offload
# off every checksum is computed in software before the packet is sent, so what tshark
# reads is what a real wire would carry, and a bad one is really bad. (naptd writes whole
# packets to the TUN, with checksums it computed; the kernel forwards them unchanged.)
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require curl socat tshark ethtool ss
topo_up_extra

MIN_FROM_EXT=20
UDP_PORT=7777      # the WAN echo server's
UNREACH_PORT=6000  # forwarded to the LAN host, where nothing listens
PLANTED_IDS="0xbad0 0xbad1 0xbad2 0xbad3" # IP IDs of the planted bad packets, as tshark prints them

for ns_if in "$NS_LAN:eth0" "$NS_RTR:lan0" "$NS_RTR:wan0" "$NS_WAN:eth0"; do
	ns=${ns_if%%:*} ifc=${ns_if#*:}
	ip netns exec "$ns" ethtool -K "$ifc" tx off >/dev/null 2>&1
	ip netns exec "$ns" ethtool -k "$ifc" | grep -q '^tx-checksumming: off' ||
		fail "cannot switch off tx checksum offload on $ifc in $ns"
done
echo "ok: tx checksum offload off on lan eth0, rtr lan0 and wan0, wan eth0"

head -c 65536 /dev/urandom >"$TOPO_DIR/blob"
http_serve "$NS_WAN" "$WAN_IP" 8080 "$TOPO_DIR" "$TOPO_DIR/http.log"
bg "$NS_WAN" "$TOPO_DIR/udp-echo.log" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
' "$WAN_IP" $UDP_PORT
wait_listen "$NS_WAN" udp "$WAN_IP:$UDP_PORT"

naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
ctl forward add udp $UNREACH_PORT "$LAN_IP:$UNREACH_PORT" >/dev/null || fail "forward add failed"

CAP=$TOPO_DIR/wan.pcap
bg "$NS_WAN" "$TOPO_DIR/tshark.log" tshark -n -i eth0 -w "$CAP" -a duration:50
TSHARK_PID=${TOPO_PIDS[-1]}
wait_until 10 grep -q "Capturing on" "$TOPO_DIR/tshark.log" ||
	fail "tshark did not start: $(cat "$TOPO_DIR/tshark.log")"

# --- traffic -----------------------------------------------------------------------------
in_lan curl -sS --max-time 10 -o "$TOPO_DIR/blob.got" "http://$WAN_IP:8080/blob" ||
	fail "curl of 64 KB from $WAN_IP failed"
cmp -s "$TOPO_DIR/blob" "$TOPO_DIR/blob.got" || fail "the 64 KB file arrived damaged"
in_lan "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for i in range(5):
    msg = b"datagram %d " % i + bytes(range(256)) * (i + 1)
    s.sendto(msg, (sys.argv[1], int(sys.argv[2])))
    assert s.recv(4096) == msg, "echo differs"
' "$WAN_IP" $UDP_PORT || fail "UDP echo through the NAT failed"
in_lan ping -c 5 -i 0.2 -W 2 -w 10 "$WAN_IP" >/dev/null || fail "ping $WAN_IP failed"
echo probe | in_wan socat -u - "UDP-SENDTO:$EXT_IP:$UNREACH_PORT,bind=$WAN_IP" ||
	fail "socat could not send to the forwarded port"

# The planted packets: from the WAN host to the external address, each with one wrong
# checksum, sent as frames (the kernel would fix a raw socket's IP header checksum).
rtr_mac=$(ip -n "$NS_RTR" -o link show wan0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
in_wan "$PY" -c '
import sys
from scapy.all import Ether, IP, UDP, TCP, ICMP, sendp
src, dst, mac = sys.argv[1:4]
ip = lambda i, **kw: IP(src=src, dst=dst, id=0xbad0 + i, **kw)
frames = [ip(0, chksum=0x1234) / UDP(sport=5000, dport=5000) / b"bad ip",
          ip(1) / UDP(sport=5001, dport=5001, chksum=0x1234) / b"bad udp",
          ip(2) / TCP(sport=5002, dport=5002, chksum=0x1234),
          ip(3) / ICMP(chksum=0x1234) / b"bad icmp"]
sendp([Ether(dst=mac) / f for f in frames], iface="eth0", verbose=0)
' "$WAN_IP" "$EXT_IP" "$rtr_mac" || fail "scapy could not send the planted packets"
sleep 1
kill -INT "$TSHARK_PID" 2>/dev/null
wait "$TSHARK_PID"

# --- analysis ---------------------------------------------------------------------------------
# One line per frame, tab-separated: sources, IP IDs, then the checksum status of IP, TCP,
# UDP, ICMP (0 bad, 1 good, 2 unverified; an ICMP error adds its quoted headers',
# comma-separated after the outer one), and the ICMP type.
tshark -n -r "$CAP" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
	-o udp.check_checksum:TRUE -Y ip -T fields -E occurrence=a -e ip.src -e ip.id \
	-e ip.checksum.status -e tcp.checksum.status -e udp.checksum.status \
	-e icmp.checksum.status -e icmp.type >"$TOPO_DIR/fields.txt" 2>"$TOPO_DIR/tshark-r.log" ||
	fail "tshark could not read the capture: $(cat "$TOPO_DIR/tshark-r.log")"
read -r from_ext tcp_good udp_good icmp_good icmp_err bad_other bad_planted < <(
	awk -F'\t' -v ext="$EXT_IP" -v planted="$PLANTED_IDS" '
	BEGIN { n = split(planted, p, " "); for (i = 1; i <= n; i++) want[p[i]] = 1 }
	{
		split($1, src, ","); split($2, id, ",")
		if (index("," $3 "," $4 "," $5 "," $6 ",", ",0,")) {
			if (id[1] in want) planted_bad++; else other_bad++
		}
		if (src[1] != ext) next
		n_ext++
		if ($4 ~ /^1/) tcp++
		if ($5 ~ /^1/) udp++
		if ($6 ~ /^1/) icmp++
		if ($7 ~ /^3/ && $6 ~ /^1/) err++
	}
	END { printf "%d %d %d %d %d %d %d\n", n_ext, tcp, udp, icmp, err, other_bad, planted_bad }
	' "$TOPO_DIR/fields.txt")
echo "tshark: $from_ext packets from $EXT_IP (TCP good $tcp_good, UDP good $udp_good," \
	"ICMP good $icmp_good of which errors $icmp_err); bad: $bad_other, planted bad found: $bad_planted"
[ "$bad_planted" -eq 4 ] ||
	fail "tshark reported $bad_planted of the 4 planted bad checksums: the check cannot be trusted"
[ "$bad_other" -eq 0 ] || fail "tshark found $bad_other packets with a bad checksum"
[ "$from_ext" -ge $MIN_FROM_EXT ] || fail "only $from_ext packets from $EXT_IP, expected >= $MIN_FROM_EXT"
[ "$tcp_good" -ge 5 ] && [ "$udp_good" -ge 5 ] && [ "$icmp_good" -ge 6 ] ||
	fail "too few verified checksums from $EXT_IP: tcp $tcp_good, udp $udp_good, icmp $icmp_good"
[ "$icmp_err" -ge 1 ] || fail "no translated ICMP error (port unreachable) from $EXT_IP on the wire"
echo "ok: tshark found every planted bad checksum and no other; TCP, UDP, ICMP echo and a translated ICMP error from $EXT_IP all verified good"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
