#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break12b_hairpin.sh - review of issue 12's TUN filter (helper break12b): from the LAN,
# W's ports enter naptd too (hairpinning, RFC 4787 REQ-9), and the filter sees them with
# destination W. A LAN client reaches a UDP service forwarded on W (here on the LAN host
# itself, the one LAN link of Easy IP's rules): its datagram enters on the forward's port,
# the service's answer enters on the port the engine gave the client a moment before, and
# neither may be dropped by the filter. A datagram from the LAN to an unnamed port of W is
# dropped by the filter (the engine would refuse it too).
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require socat
topo_up_extra
easyip_config "forward udp 5353 $LAN_IP:53" >"$TOPO_DIR/naptd.conf"
bg "$NS_LAN" "$TOPO_DIR/udp-lan.log" socat UDP-RECVFROM:53,fork "SYSTEM:echo lan-53"
wait_listen "$NS_LAN" udp "0.0.0.0:53"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
[ "$(stat_value tun-filter-on)" = 1 ] || fail "the tun filter is not on"

f0=$(stat_value tun-filter-dropped)
got=$(udp_ask "$NS_LAN" "$RTR_WAN_IP" 5353 lan-53)
[ "$got" = lan-53 ] || fail "hairpin to W:5353 got '$got' (tun-filter-dropped" \
	"$f0 -> $(stat_value tun-filter-dropped))"
[ "$(stat_value tun-filter-dropped)" = "$f0" ] || fail "the filter dropped part of the hairpin"
echo "ok: a LAN client reaches a forward on W through the hairpin, and gets the answer"
why=$(filter_drops "$NS_LAN" "$RTR_WAN_IP" 9999) || fail "from the LAN to W:9999: $why"
echo "ok: datagrams from the LAN to an unnamed port of W end in the filter"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
