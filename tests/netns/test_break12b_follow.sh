#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break12b_follow.sh - review of issue 12's TUN filter (helper break12b): the filter's
# map follows what naptd changes without a DMZ (which would open every port and hide a
# stale bit): a forward added by SIGHUP outside port-range works at once, and once removed
# by the next SIGHUP its port is dropped by the filter; a NAT-PMP lease works at once and
# its port is dropped by the filter once the lease is deleted; wan0 is
# renumbered: the config forward works on the new address, a LAN client's new UDP flow gets
# its reply there, and datagrams to an unnamed port of the new address are dropped by the
# filter (tun-filter-dropped), not by the engine.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require socat natpmpc
topo_up_extra
NEW_WAN_IP=198.51.100.3
write_conf() { easyip_config "pcp-allow $INSIDE 1024-65535" "$@"; }
write_conf >"$TOPO_DIR/naptd.conf"
banner_server "$NS_LAN" 80 lan-80
bg "$NS_WAN" "$TOPO_DIR/udp-wan.log" socat UDP-RECVFROM:6000,fork "SYSTEM:echo wan-udp"
wait_listen "$NS_WAN" udp "0.0.0.0:6000"

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
[ "$(stat_value tun-filter-on)" = 1 ] || fail "the tun filter is not on"

# reload: SIGHUP, and wait until naptd says it applied the file.
reload() {
	local n
	n=$(grep -c "SIGHUP: .* reloaded" "$NAPTD_LOG")
	kill -HUP "$NAPTD_PID"
	# shellcheck disable=SC2317
	reloaded() { [ "$(grep -c "SIGHUP: .* reloaded" "$NAPTD_LOG")" -gt "$n" ]; }
	wait_until 5 reloaded || fail "naptd did not log the reload"
}

write_conf "forward tcp 8080 $LAN_IP:80" "forward udp 7070 $LAN_IP:7070" >"$TOPO_DIR/naptd.conf"
reload
expect_banner "$NS_WAN" "$RTR_WAN_IP" 8080 lan-80 \
	"a forward added by SIGHUP outside port-range works at once"
write_conf "forward tcp 8080 $LAN_IP:80" >"$TOPO_DIR/naptd.conf"
reload
why=$(filter_drops "$NS_WAN" "$RTR_WAN_IP" 7070) ||
	fail "udp 7070, removed by SIGHUP, not dropped by the filter: $why"
echo "ok: once SIGHUP removes forward udp 7070, its datagrams end in the filter"

# NAT-PMP leases: their ports come from port-range (pcp_server.c try_port).
lease() {
	in_lan natpmpc -g "$RTR_LAN_IP" -a "$1" 80 "$2" "$3" 2>&1 |
		sed -n "s/^Mapped public port \([0-9]*\) protocol $4 .*/\1/p"
}
port=$(lease 0 tcp 60 TCP)
[ -n "$port" ] || fail "no NAT-PMP lease for tcp"
expect_banner "$NS_WAN" "$RTR_WAN_IP" "$port" lan-80 \
	"a NAT-PMP lease on tcp $port works at once"
port=$(lease 0 udp 60 UDP)
[ -n "$port" ] || fail "no NAT-PMP lease for udp"
lease "$port" udp 0 UDP >/dev/null
why=$(filter_drops "$NS_WAN" "$RTR_WAN_IP" "$port") ||
	fail "udp $port, its lease deleted, not dropped by the filter: $why"
echo "ok: once its NAT-PMP lease is deleted, udp $port ends in the filter"

in_rtr ip addr del "$RTR_WAN_IP/24" dev wan0
in_rtr ip addr add "$NEW_WAN_IP/24" dev wan0
in_wan ip neigh flush dev eth0
wait_until 5 grep -q "address $RTR_WAN_IP -> $NEW_WAN_IP" "$NAPTD_LOG" ||
	fail "naptd did not log the address change"
expect_banner "$NS_WAN" "$NEW_WAN_IP" 8080 lan-80 "the config forward works on the new address"
got=$(udp_ask "$NS_LAN" "$WAN_IP" 6000 wan-udp)
[ "$got" = wan-udp ] || fail "a LAN UDP flow after the renumbering: got '$got';" \
	"$(ctl show stats | grep -E 'tun-filter|dropped-[a-z-]* *[1-9]')"
echo "ok: a LAN client's new UDP flow gets its reply on the new address"
why=$(filter_drops "$NS_WAN" "$NEW_WAN_IP" 9999) ||
	fail "udp 9999 of the new address not dropped by the filter: $why"
echo "ok: datagrams to an unnamed port of the new address end in the filter"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
