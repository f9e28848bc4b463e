#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_pcp_peer.sh - PCP PEER and the options of RFC 6887 with pcp_client.py (written from the
# RFC): a PEER request makes the mapping of a LAN host's UDP flow to a WAN peer before the
# host sends anything, and the peer's datagram to the external endpoint the answer names
# reaches the host (without the request it is dropped); asking again keeps the endpoint;
# a suggested external port that cannot be had fails (CANNOT_PROVIDE_EXTERNAL). MAP with
# THIRD_PARTY is refused (UNSUPP_OPTION; naming oneself MALFORMED_REQUEST) and maps nothing;
# PREFER_FAILURE gives the suggested port or fails where another lease holds it, while
# without it another port is given; PREFER_FAILURE in PEER is MALFORMED_REQUEST (FILTER:
# test_pcp_filter.sh).
set -u
. "$(dirname "$0")/lib_extra.sh"

topo_require ss
topo_up

pcp_lan_up test_pcp_peer
# send WORD PORT: the WAN peer, from its port 3478, to the external address's PORT.
send() { udp_from in_wan "$WAN_IP" "$1" "$2"; }
got() { grep -q "^$1 $WAN_IP:3478$" "$TOPO_DIR/got.txt" 2>/dev/null; }

# Before any request: no mapping, the peer's datagram is dropped (naptd keeps the inside
# port when it is free, so 5000 is where the mapping would be).
send before 5000
sleep 1
got before && fail "the WAN peer reached the LAN host without any mapping"
echo "ok: without a mapping the WAN peer's datagram is dropped"

out=$(in_lan "${PCP[@]}" peer udp 5000 "$WAN_IP" 3478 120)
[[ "$out" =~ ^result=0\ lifetime=([0-9]+)\ .*\ port=([0-9]+)\ external=$EXT_IP\ nonce-ok=yes\ remote-ok=yes$ ]] ||
	fail "PEER: $out"
life=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
[ "$life" -gt 0 ] && [ "$life" -le 120 ] || fail "PEER lifetime $life, not 1-120"
send after "$port"
wait_until 5 got after || fail "the WAN peer's datagram to $EXT_IP:$port did not reach the host"
echo "ok: PEER made the mapping ($out); the WAN peer's datagram reaches the LAN host"

out=$(in_lan "${PCP[@]}" peer udp 5000 "$WAN_IP" 3478 120 suggest "$port")
[[ "$out" == "result=0 "*" port=$port "* ]] || fail "PEER again: $out"
other=$((port == 65535 ? port - 1 : port + 1))
out=$(in_lan "${PCP[@]}" peer udp 5000 "$WAN_IP" 3478 120 suggest "$other")
[[ "$out" == "result=11 "* ]] || fail "PEER with another suggested port: $out"
echo "ok: PEER again keeps port $port; another suggested port is CANNOT_PROVIDE_EXTERNAL"

out=$(in_lan "${PCP[@]}" peer udp 5000 "$WAN_IP" 3478 120 prefer-failure)
[[ "$out" == "result=3 "* ]] || fail "PEER with PREFER_FAILURE: $out"
echo "ok: PREFER_FAILURE in PEER is MALFORMED_REQUEST"

out=$(in_lan "${PCP[@]}" map tcp 22 2222 600 third-party 192.168.77.3)
[[ "$out" == "result=5 "* ]] || fail "MAP with THIRD_PARTY: $out"
out=$(in_lan "${PCP[@]}" map tcp 22 2222 600 third-party "$LAN_IP")
[[ "$out" == "result=3 "* ]] || fail "MAP with THIRD_PARTY naming the sender: $out"
ctl show forwards | grep -q "^tcp *2222 " && fail "THIRD_PARTY made a mapping"
echo "ok: THIRD_PARTY is refused (UNSUPP_OPTION; naming oneself MALFORMED_REQUEST)"

out=$(in_lan "${PCP[@]}" map tcp 81 8090 600 prefer-failure)
[[ "$out" == "result=0 "*" port=8090 "* ]] || fail "MAP 8090 with PREFER_FAILURE: $out"
out=$(in_lan "${PCP[@]}" map tcp 82 8090 600 prefer-failure)
[[ "$out" == "result=11 "* ]] || fail "MAP of a held port with PREFER_FAILURE: $out"
out=$(in_lan "${PCP[@]}" map tcp 82 8090 600)
[[ "$out" == "result=0 "* && "$out" != *" port=8090 "* ]] || fail "MAP of a held port: $out"
echo "ok: PREFER_FAILURE: the suggested port or CANNOT_PROVIDE_EXTERNAL; without it another port"

out=$(in_lan "${PCP[@]}" announce raw 99)
[[ "$out" == "result=5 "* ]] || fail "ANNOUNCE with an unknown mandatory option: $out"
out=$(in_lan "${PCP[@]}" announce raw 199)
[[ "$out" == "result=0 "* ]] || fail "ANNOUNCE with an unknown optional option: $out"
echo "ok: an unknown mandatory option is UNSUPP_OPTION, an optional one is skipped"
exit 0
