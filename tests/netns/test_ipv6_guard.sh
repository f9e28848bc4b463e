#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_ipv6_guard.sh - what docs/routing.md ("IPv6 goes past naptd, unfiltered") says:
#  1. with naptd running and the router forwarding IPv6, the kernel routes the LAN's IPv6
#     past naptd: a WAN host pings a LAN host and fetches a page from it, unsolicited;
#  2. the nftables block of routing.md, read from the file and loaded in rtr, stops both,
#     while the LAN host still pings and fetches a page from the WAN host over IPv6 (RFC
#     6092: what the LAN started comes back), and IPv4 through naptd still works.
# Addresses: 2001:db8::/32 (documentation, RFC 3849), only inside the test's namespaces.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require nft ping curl ss
doc=$(cd "$(dirname "$0")/../../docs" && pwd)/routing.md
ruleset=$(sed -n '/^```nft$/,/^```$/p' "$doc" | sed '1d;$d')
[ -n "$ruleset" ] || fail "no \`\`\`nft block in $doc"

LAN6=2001:db8:1::2 RTR_LAN6=2001:db8:1::1 RTR_WAN6=2001:db8:2::1 WAN6=2001:db8:2::2
topo_up

# lib.sh turns IPv6 off in its namespaces; here it is on, as on a router that forwards it.
for dev in "$NS_LAN:eth0" "$NS_RTR:lan0" "$NS_RTR:wan0" "$NS_WAN:eth0"; do
	ip netns exec "${dev%%:*}" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		"net.ipv6.conf.${dev#*:}.disable_ipv6=0"
done
ip -n "$NS_LAN" addr add "$LAN6/64" dev eth0 nodad
ip -n "$NS_RTR" addr add "$RTR_LAN6/64" dev lan0 nodad
ip -n "$NS_RTR" addr add "$RTR_WAN6/64" dev wan0 nodad
ip -n "$NS_WAN" addr add "$WAN6/64" dev eth0 nodad
ip -n "$NS_LAN" -6 route add default via "$RTR_LAN6"
ip -n "$NS_WAN" -6 route add 2001:db8:1::/64 via "$RTR_WAN6" # the delegated prefix
in_rtr sysctl -qw net.ipv6.conf.all.forwarding=1

naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
mkdir "$TOPO_DIR/www"
echo six >"$TOPO_DIR/www/six.txt"
bg "$NS_LAN" "$TOPO_DIR/lan-http.log" "$PY" -m http.server --bind "$LAN6" 8080 \
	--directory "$TOPO_DIR/www"
bg "$NS_WAN" "$TOPO_DIR/wan-http.log" "$PY" -m http.server --bind "$WAN6" 8080 \
	--directory "$TOPO_DIR/www"
wait_listen "$NS_LAN" tcp "[$LAN6]:8080"
wait_listen "$NS_WAN" tcp "[$WAN6]:8080"

# reaches NS ADDR: ping and a page over IPv6 from NS to ADDR (3 s each at most).
pings() { ip netns exec "$1" ping -6 -c 1 -W 3 "$2" >/dev/null 2>&1; }
fetches() {
	[ "$(ip netns exec "$1" curl -sS -g --max-time 3 "http://[$2]:8080/six.txt" 2>/dev/null)" = six ]
}

# --- 1. without the filter, the WAN reaches the LAN over IPv6 ----------------------------------
pings "$NS_LAN" "$WAN6" || fail "no IPv6 from the LAN to the WAN: the test topology is broken"
pings "$NS_WAN" "$LAN6" || fail "the WAN host did not ping the LAN host over IPv6 (routing.md says it does)"
fetches "$NS_WAN" "$LAN6" || fail "the WAN host did not fetch the LAN host's page (routing.md says it does)"
echo "ok: with naptd running, the WAN host pings and fetches a page from $LAN6: IPv6 goes past naptd"

# --- 2. routing.md's nftables block ---------------------------------------------------------
echo "$ruleset" | in_rtr nft -f - || fail "nft refused routing.md's block"
pings "$NS_WAN" "$LAN6" && fail "with the filter, the WAN host still pings $LAN6"
fetches "$NS_WAN" "$LAN6" && fail "with the filter, the WAN host still fetches a page from $LAN6"
pings "$NS_LAN" "$WAN6" || fail "with the filter, the LAN host no longer pings $WAN6"
fetches "$NS_LAN" "$WAN6" || fail "with the filter, the LAN host no longer fetches a page from $WAN6"
in_lan ping -c 1 -W 3 "$WAN_IP" >/dev/null || fail "with the filter, IPv4 through naptd stopped"
echo "ok: with routing.md's filter, nothing unsolicited gets in over IPv6; the LAN's own IPv6 and IPv4 pass"
echo "PASS: IPv6 past naptd, and the filter of docs/routing.md"
