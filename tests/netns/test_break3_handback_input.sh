#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break3_handback_input.sh - attack on the Easy IP hand-back (FAILS on ee024a8): the
# router's input firewall names the WAN interface, as zone firewalls do (OpenWrt's "wan"
# zone: input from wan0 dropped, everything else accepted), and the router runs a service
# meant for the LAN only (tcp 8081 on every address, like a web UI or a resolver). Before
# naptd starts, the WAN host is refused on W:8081 and the LAN host gets through: the
# firewall works. With naptd under Easy IP (no DMZ), the WAN host's SYN for W:8081 enters
# the TUN, the engine finds no rule for it and naptd writes it back; the kernel delivers it
# as arriving on napt0, not wan0, and the input rule on wan0 never sees it. Expected: the
# WAN host still gets no answer (what came from wan0 is still judged as from wan0).
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require nft socat ss
topo_up

easyip_config "" >"$TOPO_DIR/naptd.conf"
banner_server "$NS_RTR" 8081 router-lan-only

in_rtr nft -f - <<-'NFT' || fail "nft refused the input firewall"
	table inet hostfw {
		chain input {
			type filter hook input priority filter; policy accept;
			iifname "wan0" ct state new drop
		}
	}
NFT

got=$(banner "$NS_LAN" "$RTR_LAN_IP" 8081)
[ "$got" = router-lan-only ] || fail "the LAN host does not reach the router's service: '$got'"
if got=$(banner "$NS_WAN" "$RTR_WAN_IP" 8081); then
	fail "without naptd the WAN host got through the input firewall: '$got'"
fi
echo "ok: without naptd the input firewall keeps the WAN host out of tcp 8081"

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
if got=$(banner "$NS_WAN" "$RTR_WAN_IP" 8081); then
	fail "with naptd the WAN host reaches the router's LAN-only service through the" \
		"hand-back (it arrives on napt0, past the input rule on wan0): '$got'"
fi
echo "ok: with naptd the WAN host still gets nothing on tcp 8081"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
