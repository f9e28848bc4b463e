#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_natpmp.sh - naptd's NAT-PMP (RFC 6886) and PCP (RFC 6887) server with real clients:
# Debian's natpmpc reads the public address, adds a mapping that shows in "naptctl show
# forwards" with its lifetime and lets a WAN host reach the LAN service, the mapping
# survives a restart (state file), and natpmpc deletes it. A PCP client written from the RFC
# (pcp_client.py) does ANNOUNCE, MAP with a suggested external port and a short lifetime
# (the mapping then expires on time), and is refused a port a pcp-deny line forbids
# (PREFER_FAILURE: CANNOT_PROVIDE_EXTERNAL, RFC 6887 section 13.2).
# A listener on the LAN host, joined to 224.0.0.1, catches the announcements of the start: 10
# NAT-PMP ones and their PCP ANNOUNCE companions, the gaps doubling from 250 ms (RFC 6886
# section 3.2.1; the series lasts about 128 s, so the other checks run meanwhile).
# "naptctl forward del" ends a mapping (origin pcp), and a reload applies new pcp-deny lines.
set -u
. "$(dirname "$0")/lib_extra.sh"

topo_require curl natpmpc ss
topo_up

naptd_config "# test_natpmp" \
	"pcp-deny $LAN_IP/32 2000-2999" \
	"pcp-allow $INSIDE 1024-65535" >"$TOPO_DIR/naptd.conf"
mkdir -p "$TOPO_DIR/lan"
echo lan-service >"$TOPO_DIR/lan/id.txt"
http_serve "$NS_LAN" "$LAN_IP" 80 "$TOPO_DIR/lan" "$TOPO_DIR/lan-http.log"
in_lan "$PY" "$(dirname "$0")/announce_listener.py" "$LAN_IP" "$EXT_IP" 150 \
	>"$TOPO_DIR/announce.log" 2>&1 &
ANNOUNCE_PID=$!
TOPO_PIDS+=("$ANNOUNCE_PID")
wait_listen "$NS_LAN" udp "0.0.0.0:5350"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:5351"

natpmp() { in_lan natpmpc -g "$RTR_LAN_IP" "$@" 2>&1; }
reach() { in_wan curl -sS --max-time 5 "http://$EXT_IP:$1/id.txt" 2>/dev/null; }

out=$(natpmp)
grep -q "Public IP address : $EXT_IP" <<<"$out" || fail "natpmpc: no public address: $out"
echo "ok: natpmpc reads the public address $EXT_IP"

out=$(natpmp -a 8080 80 tcp 3600)
grep -q "Mapped public port 8080 protocol TCP to local port 80" <<<"$out" ||
	fail "natpmpc -a 8080 80 tcp: $out"
expect_lease tcp 8080 "$LAN_IP:80" pcp 3500 3600
[ "$(reach 8080)" = lan-service ] || fail "the WAN host does not reach the LAN service"
echo "ok: the WAN host reaches the LAN service through the mapping"

# Another internal port: a request for port 80 would renew the mapping above (RFC 6886 3.3).
out=$(natpmp -a 8082 81 tcp 3600)
grep -q "Mapped public port 8082 protocol TCP to local port 81" <<<"$out" ||
	fail "natpmpc -a 8082 81: $out"
out=$(ctl forward del tcp 8082) || fail "forward del of a NAT-PMP mapping: $out"
[[ "$out" == *"origin pcp"* ]] || fail "forward del does not name the origin pcp: $out"
ctl show forwards | grep -q "^tcp *8082 " && fail "forward del left the mapping"
grep -q "^forward tcp 8082 " "$TOPO_DIR/naptd.state" && fail "forward del left the state line"
echo "ok: naptctl forward del ends a NAT-PMP mapping: $out"

# The whole series, before the restart starts another.
wait "$ANNOUNCE_PID" || fail "announcements: $(cat "$TOPO_DIR/announce.log")"
echo "ok: announcements on 224.0.0.1:5350: $(cat "$TOPO_DIR/announce.log")"

stop_naptd || fail "naptd exited with status $?"
grep -q "^forward tcp 8080 $LAN_IP:80 expires [0-9]*$" "$TOPO_DIR/naptd.state" ||
	fail "state file: $(cat "$TOPO_DIR/naptd.state")"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not restart"
ctl show forwards | grep -q "^tcp *8080 .*pcp" || fail "the mapping did not survive a restart"
[ "$(reach 8080)" = lan-service ] || fail "no LAN service after the restart"
echo "ok: the mapping survives a restart"

out=$(natpmp -a 8080 80 tcp 0)
# RFC 6886 section 3.4: a deletion is answered with external port 0 and lifetime 0.
grep -q "Mapped public port 0 protocol TCP to local port 80 liftime 0" <<<"$out" ||
	fail "natpmpc delete: $out"
ctl show forwards | grep -q "^tcp *8080 " && fail "natpmpc delete left the forward"
[ -z "$(reach 8080)" ] || fail "the WAN host still reaches the LAN service"
echo "ok: natpmpc deletes the mapping"

PCP=("$PY" "$(dirname "$0")/pcp_client.py" "$RTR_LAN_IP" "$LAN_IP")
out=$(in_lan "${PCP[@]}" announce)
[[ "$out" == "result=0 lifetime=0 "* ]] || fail "PCP ANNOUNCE: $out"
echo "ok: PCP ANNOUNCE: $out"

out=$(in_lan "${PCP[@]}" map tcp 80 8081 4)
[[ "$out" == "result=0 lifetime=4 "*" port=8081 external=$EXT_IP nonce-ok=yes" ]] ||
	fail "PCP MAP with suggested port 8081: $out"
ctl show forwards | grep -q "^tcp *8081 *$LAN_IP:80 *pcp" || fail "PCP mapping not shown"
[ "$(reach 8081)" = lan-service ] || fail "the WAN host does not reach the PCP mapping"
echo "ok: PCP MAP gave the suggested port 8081 and the WAN host reaches it"
gone() { ! ctl show forwards | grep -q "^tcp *8081 "; }
wait_until 8 gone || fail "the 4 s PCP mapping did not expire"
echo "ok: the PCP mapping expired on time"

out=$(in_lan "${PCP[@]}" map tcp 80 2500 600 prefer-failure)
[[ "$out" == "result=11 "* ]] || fail "PCP MAP of a denied port with PREFER_FAILURE: $out"
echo "ok: a port pcp-deny forbids is refused (CANNOT_PROVIDE_EXTERNAL)"

naptd_config "# test_natpmp, reloaded" \
	"pcp-deny $INSIDE 3000-3999" \
	"pcp-deny $LAN_IP/32 2000-2999" \
	"pcp-allow $INSIDE 1024-65535" >"$TOPO_DIR/naptd.conf"
ctl reload >/dev/null || fail "reload refused"
ctl show config | grep -qx "pcp-deny $INSIDE 3000-3999" ||
	fail "show config lacks the new rule: $(ctl show config | grep pcp)"
out=$(in_lan "${PCP[@]}" map tcp 80 3500 600 prefer-failure)
[[ "$out" == "result=11 "* ]] || fail "PCP MAP of a port denied since the reload: $out"
out=$(in_lan "${PCP[@]}" map tcp 80 4500 4 prefer-failure)
[[ "$out" == "result=0 "*" port=4500 "* ]] || fail "PCP MAP of an allowed port: $out"
echo "ok: a reload applies new pcp-deny lines at once"
exit 0
