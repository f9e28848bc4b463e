#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_dmz_expiry.sh - DMZ and expiry in naptd on a real TUN (docs/behaviour.md 4 and 5):
#  1. with `dmz 192.168.77.2` in the config, a WAN client connecting to an unforwarded TCP
#     port of the external address reaches the LAN host's listener (session origin dmz);
#  2. restarted without dmz, the same connection times out and naptd counts no-mapping;
#  3. `timeout udp 5`: a UDP flow LAN -> WAN gets its reply, an inbound packet from the server
#     still gets in while the session lives, and 7 s idle later the same packet is dropped
#     (no-mapping, nothing reaches the LAN socket) and show sessions no longer lists it;
#  4. `timeout tcp-transitory 3`: after FIN both ways the TCP session shows time-wait and is
#     gone 3 s later.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require socat ss
topo_up_extra

DMZ_PORT=2222
UDP_PORT=7777 # the WAN server's
UDP_LAN_PORT=40000
TCP_PORT=8081
TCP_LAN_PORT=41000

# wan_connect: a WAN client asks the external address for DMZ_PORT; prints what it got.
wan_connect() {
	in_wan timeout 5 socat -T 3 - "TCP:$EXT_IP:$DMZ_PORT,connect-timeout=3" </dev/null 2>&1
}

# --- 1. DMZ set in the config ---------------------------------------------------------------
bg "$NS_LAN" "$TOPO_DIR/dmz-server.log" socat "TCP-LISTEN:$DMZ_PORT,bind=$LAN_IP,reuseaddr,fork" \
	SYSTEM:'echo dmz-reply from=$SOCAT_PEERADDR'
wait_listen "$NS_LAN" tcp "$LAN_IP:$DMZ_PORT"

naptd_config "dmz $LAN_IP" >"$TOPO_DIR/dmz.conf"
start_naptd "$TOPO_DIR/dmz.conf" || fail "naptd did not start with a DMZ"
got=$(wan_connect)
# DMZ is a destination translation only: the LAN host sees the WAN client's own address.
[ "$got" = "dmz-reply from=$WAN_IP" ] ||
	fail "WAN client to $EXT_IP:$DMZ_PORT with dmz $LAN_IP got '$got'"
ctl show sessions tcp | awk -v e="$EXT_IP:$DMZ_PORT" '$3 == e && $6 == "dmz"' | grep -q . ||
	fail "no dmz session for $EXT_IP:$DMZ_PORT: $(ctl show sessions tcp)"
echo "ok: dmz $LAN_IP: WAN $WAN_IP reached $LAN_IP:$DMZ_PORT through $EXT_IP:$DMZ_PORT (origin dmz)"
stop_naptd || fail "naptd exited with status $? after SIGTERM"

# --- 2. no DMZ --------------------------------------------------------------------------------
naptd_config "timeout udp 5" "timeout tcp-transitory 3" >"$TOPO_DIR/nodmz.conf"
start_naptd "$TOPO_DIR/nodmz.conf" || fail "naptd did not start without a DMZ"
before=$(stat_value dropped-no-mapping)
got=$(wan_connect)
case $got in
*dmz-reply*) fail "without dmz the WAN client still reached the LAN listener: '$got'" ;;
esac
after=$(stat_value dropped-no-mapping)
[ "$after" -gt "$before" ] || fail "no dmz: dropped-no-mapping stayed at $after"
echo "ok: no dmz: the connection to $EXT_IP:$DMZ_PORT failed, dropped-no-mapping $before -> $after"

# --- 3. UDP expiry ------------------------------------------------------------------------------
# The WAN server answers one datagram, then frees its port for the probes below.
bg "$NS_WAN" "$TOPO_DIR/udp-server.log" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(20)
data, peer = s.recvfrom(2048)
print("from %s:%d" % peer, flush=True)
s.sendto(b"pong", peer)
' "$WAN_IP" "$UDP_PORT"
wait_listen "$NS_WAN" udp "$WAN_IP:$UDP_PORT"

# The LAN client sends one datagram, waits for the reply, then logs every datagram that
# reaches its socket for 20 s.
bg "$NS_LAN" "$TOPO_DIR/udp-client.log" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(3)
s.sendto(b"ping", (sys.argv[3], int(sys.argv[4])))
print("reply " + s.recv(2048).decode(), flush=True)
s.settimeout(20)
while True:
    print("got " + s.recv(2048).decode(), flush=True)
' "$LAN_IP" "$UDP_LAN_PORT" "$WAN_IP" "$UDP_PORT"
wait_until 5 grep -q "reply pong" "$TOPO_DIR/udp-client.log" ||
	fail "UDP $LAN_IP:$UDP_LAN_PORT -> $WAN_IP:$UDP_PORT got no reply: $(cat "$TOPO_DIR/udp-client.log")"
from=$(cat "$TOPO_DIR/udp-server.log")
[ "${from%:*}" = "from $EXT_IP" ] || fail "the UDP server saw '$from', not $EXT_IP"
ext_port=${from##*:}
echo "ok: UDP $LAN_IP:$UDP_LAN_PORT -> $WAN_IP:$UDP_PORT answered, server saw $EXT_IP:$ext_port"

# probe TEXT: the WAN server's endpoint sends TEXT to the flow's external endpoint.
probe() {
	echo "$1" | in_wan socat -u - "UDP-SENDTO:$EXT_IP:$ext_port,bind=$WAN_IP:$UDP_PORT" ||
		fail "socat could not send the probe '$1'"
}
not_listening() { ! listening "$@"; }
udp_listed() {
	ctl show sessions udp inside "$LAN_IP" | awk -v i="$LAN_IP:$UDP_LAN_PORT" '$2 == i' | grep -q .
}

# The server has exited (one datagram), so its port is free for the probes.
wait_until 3 not_listening "$NS_WAN" udp "$WAN_IP:$UDP_PORT" ||
	fail "the UDP server still holds $WAN_IP:$UDP_PORT"
probe alive
wait_until 3 grep -q "got alive" "$TOPO_DIR/udp-client.log" ||
	fail "inbound UDP to the live session did not reach the LAN socket"
udp_listed || fail "the live UDP session is not in show sessions"
echo "ok: while the session lives, an inbound datagram from $WAN_IP:$UDP_PORT reaches the LAN"

drops=$(stat_value dropped-no-mapping)
expired=$(stat_value sessions-expired)
sleep 7 # idle 7 s > timeout udp 5
! udp_listed || fail "show sessions still lists the UDP session after 7 s idle:
$(ctl show sessions udp)"
probe expired
sleep 1
! grep -q "got expired" "$TOPO_DIR/udp-client.log" ||
	fail "an inbound datagram reached the LAN after the UDP session expired"
[ "$(stat_value dropped-no-mapping)" -gt "$drops" ] ||
	fail "the probe after expiry was not counted as dropped-no-mapping"
[ "$(stat_value sessions-expired)" -gt "$expired" ] || fail "sessions-expired did not rise"
echo "ok: timeout udp 5: after 7 s idle the session is gone and the same inbound datagram is dropped (no-mapping)"

# --- 4. TCP expiry after FIN/FIN ---------------------------------------------------------------
bg "$NS_WAN" "$TOPO_DIR/tcp-server.log" socat "TCP-LISTEN:$TCP_PORT,bind=$WAN_IP,reuseaddr,fork" \
	SYSTEM:'echo tcp-ok'
wait_listen "$NS_WAN" tcp "$WAN_IP:$TCP_PORT"
got=$(in_lan timeout 5 socat -T 3 - "TCP:$WAN_IP:$TCP_PORT,sourceport=$TCP_LAN_PORT" </dev/null)
[ "$got" = tcp-ok ] || fail "TCP $LAN_IP -> $WAN_IP:$TCP_PORT got '$got'"
closed_ms=$(($(date +%s%N) / 1000000))
tcp_state() {
	ctl show sessions tcp inside "$LAN_IP" | awk -v i="$LAN_IP:$TCP_LAN_PORT" '$2 == i { print $5 }'
}
tcp_gone() { [ -z "$(tcp_state)" ]; }
state=$(tcp_state)
[ "$state" = time-wait ] || fail "after FIN both ways the TCP session is in '$state', not time-wait"
# Still there 2 s after the close (idle < 3 s), gone by 6 s (3 s plus the expiry timer).
sleep 2
[ -n "$(tcp_state)" ] || fail "the TCP session went before tcp-transitory 3 s had passed"
wait_until 4 tcp_gone || fail "TCP session still listed 6 s after FIN/FIN"
took=$(($(date +%s%N) / 1000000 - closed_ms))
echo "ok: timeout tcp-transitory 3: TCP session in time-wait after FIN/FIN, still there at 2 s, gone at $((took / 1000)).$((took % 1000 / 100)) s"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
