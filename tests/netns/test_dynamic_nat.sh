#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_dynamic_nat.sh - dynamic NAT (`mode dynamic`, RFC 3022 Basic NAT, docs/behaviour.md
# 17) with two pool addresses and three LAN hosts: A 192.168.77.2, B 192.168.77.3 (on lan2),
# C 192.168.77.4.
#  1. A and B each leave from an address of the pool of their own, their source ports kept;
#     `show mappings` names which host holds which address;
#  2. C, third, finds the pool empty: its connection fails and pool-exhausted counts it;
#  3. A's address is not opened to the world: a WAN host cannot reach A's HTTP server on
#     it (filtering is the configured one);
#  4. naptctl cannot add a forward or set a DMZ: they need a shared address;
#  5. once A's and B's connections have expired (tcp-transitory 4 s), their bindings go;
#     C still finds nothing (both addresses rest 120 s), while A and B get their own
#     addresses back at once.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require curl ss
topo_up_extra
lan2_up

EXT2_IP=198.51.100.11
C_IP=192.168.77.4
in_lan ip addr add "$C_IP/24" dev eth0
naptd_config "external $EXT2_IP" "mode dynamic" "timeout tcp-transitory 4" \
	>"$TOPO_DIR/naptd.conf"

bg "$NS_WAN" "$TOPO_DIR/echo.log" "$PY" "$(dirname "$0")/tcp_peer_echo.py" "$WAN_IP" 7000
wait_listen "$NS_WAN" tcp "$WAN_IP:7000"
mkdir -p "$TOPO_DIR/www"
echo host-a >"$TOPO_DIR/www/id.txt"
http_serve "$NS_LAN" "$LAN_IP" 9123 "$TOPO_DIR/www" "$TOPO_DIR/http.log"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with mode dynamic"

# seen NS LOCAL-ADDRESS LOCAL-PORT: the WAN's view of a connection from there.
seen() {
	ip netns exec "$1" curl -sS --max-time 2 --interface "$2" --local-port "$3" \
		"telnet://$WAN_IP:7000" </dev/null
}

# holder ADDR: the external address the binding of inside host ADDR names, if any.
holder() {
	ctl show mappings | awk -v h="$1:0" '$1 == "ip" && $2 == h && $4 == "dynamic" { print $3 }'
}

a=$(seen "$NS_LAN" "$LAN_IP" 40123) || fail "no answer for A"
b=$(seen "$NS_LAN2" "$LAN2_IP" 40124) || fail "no answer for B"
case "${a%:*} ${b%:*}" in
"$EXT_IP $EXT2_IP" | "$EXT2_IP $EXT_IP") ;;
*) fail "A left as $a and B as $b: not one pool address each" ;;
esac
[ "${a#*:}" = 40123 ] && [ "${b#*:}" = 40124 ] || fail "ports translated: A $a, B $b"
[ "$(holder "$LAN_IP")" = "${a%:*}:0" ] && [ "$(holder "$LAN2_IP")" = "${b%:*}:0" ] ||
	fail "show mappings does not name the bindings: $(ctl show mappings)"
echo "ok: A leaves as $a, B as $b (ports kept); show mappings names both bindings"

c=$(seen "$NS_LAN" "$C_IP" 40125) && fail "C got through as $c with the pool held by A and B"
[ "$(stat_value dropped-pool-exhausted)" -ge 1 ] || fail "pool-exhausted did not count C"
echo "ok: C, third, finds the pool empty (pool-exhausted $(stat_value dropped-pool-exhausted))"

body=$(in_wan curl -sS --max-time 2 "http://${a%:*}:9123/id.txt" 2>&1) &&
	fail "the WAN host reached A's server on its address: $body"
echo "ok: A's address is not open to the world (its HTTP server is out of reach)"

unbound() { [ -z "$(holder "$LAN_IP")$(holder "$LAN2_IP")" ]; }
out=$(ctl forward add tcp 8080 "$LAN_IP:80" 2>&1) && fail "forward added under mode dynamic"
grep -q "'mode dynamic' does not go with 'forward'" <<<"$out" || fail "forward add: $out"
out=$(ctl dmz set "$LAN_IP" 2>&1) && fail "dmz set under mode dynamic"
grep -q "'mode dynamic' does not go with 'dmz'" <<<"$out" || fail "dmz set: $out"
echo "ok: naptctl forward add and dmz set are refused under mode dynamic, with the reason"

wait_until 15 unbound ||
	fail "the bindings of A and B did not go after their sessions: $(ctl show mappings)"
c=$(seen "$NS_LAN" "$C_IP" 40126) && fail "C got $c while the released addresses rest"
a2=$(seen "$NS_LAN" "$LAN_IP" 40127) || fail "A got no address back"
b2=$(seen "$NS_LAN2" "$LAN2_IP" 40128) || fail "B got no address back"
[ "${a2%:*}" = "${a%:*}" ] && [ "${b2%:*}" = "${b%:*}" ] ||
	fail "A came back as $a2 and B as $b2, not on their own addresses"
echo "ok: released, both addresses rest for C, and A and B get their own back at once"
