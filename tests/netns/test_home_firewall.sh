#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_home_firewall.sh - naptd beside the host's stateful nftables firewall (issue 12, item
# 4): the `nft conntrack` block of docs/routing.md, read from the file, is loaded in rtr.
#  1. Without naptd's lines (the host's own policy alone: established,related accept, drop
#     the rest), the LAN host gets nothing through naptd: the policy bites.
#  2. With the whole block, under Easy IP with a forward and a DMZ: the LAN host fetches a
#     page from the WAN and pings it, a WAN host reaches the forward and the DMZ host, and
#     the router's own ping and HTTP fetch work.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require nft curl ping socat ss
topo_up

doc=$(cd "$(dirname "$0")/../../docs" && pwd)/routing.md
# shellcheck disable=SC2016 # backquotes in a sed pattern, not an expansion
ruleset=$(sed -n '/^```nft conntrack$/,/^```$/p' "$doc" | sed '1d;$d')
[ -n "$ruleset" ] || fail "no \`\`\`nft conntrack block in $doc"
grep -q napt0 <<<"$ruleset" || fail "the block of $doc names no napt0"

easyip_config "forward tcp 8080 $LAN_IP:80" "dmz $LAN_IP" >"$TOPO_DIR/naptd.conf"
mkdir -p "$TOPO_DIR/lan" "$TOPO_DIR/web"
echo lan-web >"$TOPO_DIR/lan/id.txt"
echo wan-web >"$TOPO_DIR/web/id.txt"
http_serve "$NS_LAN" 0.0.0.0 80 "$TOPO_DIR/lan" "$TOPO_DIR/lan-http.log"
banner_server "$NS_LAN" 5000 dmz-5000
http_serve "$NS_WAN" "$WAN_IP" 80 "$TOPO_DIR/web" "$TOPO_DIR/wan-http.log"

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

fetch() { ip netns exec "$1" curl -sS --max-time "${3:-10}" "$2" 2>/dev/null; }

# 1. The host's policy alone.
grep -v napt0 <<<"$ruleset" | in_rtr nft -f - || fail "nft refused the block without napt0"
[ -z "$(fetch "$NS_LAN" "http://$WAN_IP/id.txt" 3)" ] ||
	fail "the LAN got through a forward policy that drops new flows: the test shows nothing"
echo "ok: the host's policy alone stops the LAN's translated traffic"
in_rtr nft flush ruleset

# 2. The whole block.
echo "$ruleset" | in_rtr nft -f - || fail "nft refused routing.md's block"
[ "$(fetch "$NS_LAN" "http://$WAN_IP/id.txt")" = wan-web ] ||
	fail "with routing.md's block the LAN host does not fetch the WAN page"
echo "ok: the LAN host fetches a page from the WAN"
in_lan ping -c 3 -i 0.2 -W 2 -w 10 "$WAN_IP" >"$TOPO_DIR/ping-lan.log" ||
	fail "the LAN host's ping failed: $(cat "$TOPO_DIR/ping-lan.log")"
echo "ok: the LAN host pings the WAN host"
[ "$(fetch "$NS_WAN" "http://$RTR_WAN_IP:8080/id.txt")" = lan-web ] ||
	fail "the WAN host does not reach the forward tcp 8080"
echo "ok: the WAN host reaches the forward"
got=$(banner "$NS_WAN" "$RTR_WAN_IP" 5000)
[ "$got" = dmz-5000 ] || fail "the WAN host does not reach the DMZ host on 5000: '$got'"
echo "ok: the WAN host reaches the DMZ host"
in_rtr ping -c 3 -i 0.2 -W 2 -w 10 "$WAN_IP" >"$TOPO_DIR/ping-rtr.log" ||
	fail "the router's own ping failed: $(cat "$TOPO_DIR/ping-rtr.log")"
[ "$(fetch "$NS_RTR" "http://$WAN_IP/id.txt")" = wan-web ] ||
	fail "the router's own HTTP fetch failed"
echo "ok: the router's own ping and HTTP fetch work"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
