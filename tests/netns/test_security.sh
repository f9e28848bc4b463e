#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_security.sh - what the WAN side can reach, spoofing from the LAN side, unpredictable
# external ports, and naptd's own exposure (issue 6, docs/security.md):
#  1. a WAN host that routes the inside prefix via the router, with its own or a spoofed
#     source (an inside address, the external address), reaches no LAN host: nothing arrives
#     on the LAN host's interface (ping, UDP, TCP SYN);
#  2. packets to ports of the external address that nothing maps (UDP, SYN, ICMP echo, also
#     with an inside address as spoofed source) reach nobody and make no state;
#  3. a mapping admits its own remote endpoint only (filtering address-and-port-dependent,
#     RFC 4787 REQ-8), a forward admits its port: the positive controls that show the
#     recorder on the LAN host does see what gets through;
#  4. packets from the LAN side with the external address as source are dropped and counted
#     (dropped-spoofed) and never leave on the WAN side;
#  5. with port-preservation no, 50 new flows from 50 consecutive inside ports get external
#     ports with no run of 3 consecutive numbers (RFC 6056 section 3.3.1);
#  6. the control socket is mode 0600; naptd's effective and permitted capabilities are
#     CAP_NET_ADMIN alone, its inheritable and bounding sets empty (docs/routing.md).
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require socat ss curl ping
topo_up_extra

CAP_NET_ADMIN_MASK=0000000000001000 # 1 << 12, linux/capability.h
UDP_SRV=9999                        # LAN UDP echo server
FWD_PORT=5300                       # external port of the forward of step 3

# leaks LOG: the packets the LAN host received from anyone but the router itself.
leaks() {
	awk -v r="$RTR_LAN_IP" '$2 != r' "$1"
}

# expect_no_leak LOG WHAT: fail when anything reached the LAN host.
expect_no_leak() {
	local got
	got=$(leaks "$1")
	[ -z "$got" ] || fail "$2 reached the LAN host (proto src sport dst dport flags):
$(echo "$got" | head -5)"
}

# udp_once NS SRC_PORT DST PORT: one datagram; prints the answer, or nothing after 1 s.
udp_once() {
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", int(sys.argv[1])))
s.settimeout(1)
s.sendto(b"probe", (sys.argv[2], int(sys.argv[3])))
try:
    print(s.recv(100).decode())
except OSError:
    pass' "$2" "$3" "$4"
}

naptd_config "port-preservation no" >"$TOPO_DIR/naptd.conf"
bg "$NS_LAN" "$TOPO_DIR/udp.log" socat "UDP4-RECVFROM:$UDP_SRV,bind=$LAN_IP,fork" EXEC:cat
bg "$NS_LAN" "$TOPO_DIR/tcp.log" socat "TCP4-LISTEN:80,bind=$LAN_IP,reuseaddr,fork" EXEC:cat
wait_listen "$NS_LAN" tcp "$LAN_IP:80"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
pin_ext_neighbour

# --- 1. the inside address, routed via the router, own and spoofed sources ---------------
ip -n "$NS_WAN" route add "$INSIDE" via "$RTR_WAN_IP"
sniff_start "$NS_LAN" eth0 "$TOPO_DIR/lan-1.log" 30
answered=
in_wan ping -c 3 -i 0.2 -W 1 "$LAN_IP" >/dev/null 2>&1 && answered+=" ping"
[ -z "$(udp_once "$NS_WAN" 7000 "$LAN_IP" "$UDP_SRV")" ] || answered+=" udp-echo"
in_wan curl -s --max-time 2 "http://$LAN_IP/" >/dev/null 2>&1 && answered+=" tcp"
for src in "$WAN_IP" "$EXT_IP" "$LAN2_IP"; do
	raw_send "$NS_WAN" syn-random "$LAN_IP" 50 "$src" >/dev/null
	raw_send "$NS_WAN" udp-random "$LAN_IP" 50 "$src" >/dev/null
	raw_send "$NS_WAN" icmp-echo "$LAN_IP" 10 "$src" >/dev/null
done
sleep 1
sniff_stop
expect_no_leak "$TOPO_DIR/lan-1.log" "traffic to $LAN_IP from the WAN side, routed via the router,"
[ -z "$answered" ] || fail "the WAN host got answers from $LAN_IP:$answered"
ip -n "$NS_WAN" route del "$INSIDE" via "$RTR_WAN_IP"
echo "ok: the inside address is unreachable from the WAN host (routed; own, external and inside sources)"

# --- 2. unmapped ports of the external address -----------------------------------------------
# no_state WHAT: fail unless the table is empty.
no_state() {
	if [ "$(stat_value sessions-current)" != 0 ] || [ "$(stat_value mappings-current)" != 0 ]; then
		fail "$1 made state: $(ctl show sessions | head -5)"
	fi
}
sniff_start "$NS_LAN" eth0 "$TOPO_DIR/lan-2.log" 30
before=$(stat_value dropped-no-mapping)
raw_send "$NS_WAN" udp-random "$EXT_IP" 300 >/dev/null
raw_send "$NS_WAN" syn-random "$EXT_IP" 300 >/dev/null
raw_send "$NS_WAN" icmp-echo "$EXT_IP" 20 >/dev/null
sleep 1
after=$(stat_value dropped-no-mapping)
[ $((after - before)) -ge 600 ] ||
	fail "dropped-no-mapping rose by $((after - before)), not at least 600 (300 UDP, 300 SYN)"
no_state "unsolicited packets to $EXT_IP"
# An inside address as source: to the engine that is a hairpinned packet (behaviour.md 1).
raw_send "$NS_WAN" udp-random "$EXT_IP" 100 "$LAN2_IP" >/dev/null
raw_send "$NS_WAN" syn-random "$EXT_IP" 100 "$LAN2_IP" >/dev/null
sleep 1
sniff_stop
expect_no_leak "$TOPO_DIR/lan-2.log" "traffic to unmapped ports of $EXT_IP"
no_state "WAN packets to $EXT_IP with the inside source $LAN2_IP"
echo "ok: 620 packets to unmapped ports of $EXT_IP (no-mapping +$((after - before))), and 200 with" \
	"the inside source $LAN2_IP, reached nobody and made no state"

# --- 3. positive controls: a mapping admits its remote only, a forward its port ----------------
bg "$NS_WAN" "$TOPO_DIR/wan-srv.log" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7777))
s.settimeout(10)
data, peer = s.recvfrom(100)
print("%s %d" % peer, flush=True)' "$WAN_IP"
wait_listen "$NS_WAN" udp "$WAN_IP:7777"
in_lan "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 40000))
s.sendto(b"out", (sys.argv[2], 7777))
time.sleep(4)' "$LAN_IP" "$WAN_IP" &
lan_client=$!
wait_until 5 grep -q . "$TOPO_DIR/wan-srv.log" || fail "the LAN flow did not reach the WAN server"
read -r peer_ip ext_port <"$TOPO_DIR/wan-srv.log"
[ "$peer_ip" = "$EXT_IP" ] || fail "the WAN server saw $peer_ip, not $EXT_IP"
ctl forward add udp "$FWD_PORT" "$LAN_IP:$UDP_SRV" >/dev/null || fail "forward add failed"
sniff_start "$NS_LAN" eth0 "$TOPO_DIR/lan-3.log" 20
udp_once "$NS_WAN" 7778 "$EXT_IP" "$ext_port" >/dev/null # another remote port: filtered
udp_once "$NS_WAN" 7777 "$EXT_IP" "$ext_port" >/dev/null # the mapping's remote: admitted
[ "$(udp_once "$NS_WAN" 7000 "$EXT_IP" "$FWD_PORT")" = probe ] || fail "the forward did not pass"
sniff_stop
wait "$lan_client"
got=$(leaks "$TOPO_DIR/lan-3.log")
echo "$got" | grep -q "^17 $WAN_IP 7777 $LAN_IP 40000 " ||
	fail "the mapping's own remote did not get in: $got"
echo "$got" | grep -q "^17 $WAN_IP 7000 $LAN_IP $UDP_SRV " || fail "the forward let nothing in: $got"
echo "$got" | grep -q "^17 $WAN_IP 7778 " && fail "another remote port got through the mapping: $got"
ctl forward del udp "$FWD_PORT" >/dev/null || fail "forward del failed"
echo "ok: the mapping $EXT_IP:$ext_port admits $WAN_IP:7777 only; the forward admits its port"

# --- 4. the external address as source, from the LAN side -------------------------------------
sniff_start "$NS_WAN" eth0 "$TOPO_DIR/wan-4.log" 20
before=$(stat_value dropped-spoofed)
raw_send "$NS_LAN" udp-random "$WAN_IP" 50 "$EXT_IP" >/dev/null
raw_send "$NS_LAN" syn-random "$WAN_IP" 50 "$EXT_IP" >/dev/null
sleep 1
sniff_stop
after=$(stat_value dropped-spoofed)
out=$(awk -v e="$EXT_IP" '$2 == e' "$TOPO_DIR/wan-4.log")
[ -z "$out" ] || fail "$(echo "$out" | wc -l) packets with source $EXT_IP from the LAN left on the WAN side:
$(echo "$out" | head -3)"
[ $((after - before)) = 100 ] || fail "dropped-spoofed rose by $((after - before)), not 100"
echo "ok: 100 packets from the LAN with source $EXT_IP dropped, dropped-spoofed +100"

# --- 5. external ports of new flows are not sequential -----------------------------------------
sniff_start "$NS_WAN" eth0 "$TOPO_DIR/wan-5.log" 20
in_lan "$PY" -c '
import socket, sys, time
for port in range(30000, 30050):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], port))
    s.sendto(b"x", (sys.argv[2], 9))
    s.close()
    time.sleep(0.02)  # one at a time: the capture order is the order of creation
' "$LAN_IP" "$WAN_IP" || fail "could not send the 50 flows"
sleep 0.5
sniff_stop
ports=$(awk -v e="$EXT_IP" '$1 == 17 && $2 == e && $5 == 9 { print $3 }' "$TOPO_DIR/wan-5.log")
[ "$(echo "$ports" | sort -u | wc -l)" = 50 ] ||
	fail "expected 50 distinct external ports, got: $(echo "$ports" | tr '\n' ' ')"
run=$(echo "$ports" | awk 'NR > 2 && $1 == p1 + 1 && p1 == p2 + 1 { print p2, p1, $1 } { p2 = p1; p1 = $1 }')
[ -z "$run" ] || fail "3 consecutive new mappings got consecutive ports: $run"
echo "ok: 50 flows from inside ports 30000-30049 got 50 external ports, no 3 in sequence:" \
	"$(echo "$ports" | head -8 | tr '\n' ' ')..."

# --- 6. naptd's own exposure ----------------------------------------------------------------
mode=$(stat -c %a "$TOPO_DIR/naptd.sock")
[ "$mode" = 600 ] || fail "control socket mode $mode, not 600"
[ "$(cat "/proc/$NAPTD_PID/comm")" = naptd ] || fail "PID $NAPTD_PID is not naptd"
for f in CapEff CapPrm; do
	[ "$(naptd_field $f)" = $CAP_NET_ADMIN_MASK ] ||
		fail "naptd $f $(naptd_field $f), not CAP_NET_ADMIN alone ($CAP_NET_ADMIN_MASK)"
done
for f in CapInh CapBnd; do
	[ "$(naptd_field $f)" = 0000000000000000 ] || fail "naptd $f $(naptd_field $f), not empty"
done
kill -0 "$NAPTD_PID" || fail "naptd died"
echo "ok: control socket 0600; naptd CapEff=CapPrm=$CAP_NET_ADMIN_MASK (CAP_NET_ADMIN), CapInh=CapBnd=0"

# --- 7. control-group opens the socket to one group, no wider ----------------------------------
stop_naptd
naptd_config "control-group nogroup" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with control-group"
[ "$(stat -c '%a %G' "$TOPO_DIR/naptd.sock")" = "660 nogroup" ] ||
	fail "control socket with control-group: $(stat -c '%a %G' "$TOPO_DIR/naptd.sock"), not 660 nogroup"
stop_naptd
naptd_config "control-group no-such-group-$$" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" 2>/dev/null && fail "naptd started with an unknown control-group"
echo "ok: control-group nogroup gives 660 root:nogroup; an unknown group stops naptd"
exit 0
