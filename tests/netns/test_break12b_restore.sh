#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break12b_restore.sh - review of issue 12's TUN filter (helper break12b): the sessions
# a clean stop saved come back at the next start (STATE.sessions), and their ports must be
# open in the new naptd's filter map from the start: a LAN client's UDP flow made before the
# restart gets a datagram its remote sends after it, on the same external port.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require socat
topo_up_extra
NAPTD_KEEP_SESSIONS=yes
easyip_config "" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
[ "$(stat_value tun-filter-on)" = 1 ] || fail "the tun filter is not on"

# The LAN client listens on 41000 and sends from there; the remote notes the port it saw.
bg "$NS_LAN" "$TOPO_DIR/lan-got.log" socat -u UDP-RECVFROM:41000,reuseaddr,fork STDOUT
wait_listen "$NS_LAN" udp "0.0.0.0:41000"
in_lan socat -u - "UDP:$WAN_IP:6000,sourceport=41000,reuseaddr" <<<"hello" ||
	fail "the LAN client could not send"
ext=$(ctl show sessions | awk -v w="$WAN_IP:6000" '$0 ~ w && /udp/ {
	for (i = 1; i <= NF; i++) if ($i ~ /^198\.51\.100\.1:[0-9]+$/) { sub(/.*:/, "", $i); print $i; exit } }')
[ -n "$ext" ] || fail "no session of the LAN client: $(ctl show sessions)"
echo "ok: the LAN client's flow has external port $ext"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start again"
ctl show sessions | grep -q "$RTR_WAN_IP:$ext" || fail "the session was not restored"
in_wan socat -u - "UDP:$RTR_WAN_IP:$ext,sourceport=6000,reuseaddr" <<<"after-restart"
wait_until 3 grep -q after-restart "$TOPO_DIR/lan-got.log" ||
	fail "the remote's datagram after the restart did not reach the LAN client" \
		"(tun-filter-dropped $(stat_value tun-filter-dropped))"
echo "ok: a restored session's port is open in the new filter: the remote's datagram arrives"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
