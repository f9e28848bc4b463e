#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_host.sh - Host header forms a DNS-rebinding page or a crafted LAN client can
# send (upnp_attack.py, written from RFC 9112): no port, a trailing dot, two Host headers in
# either order, junk after the port, X-Host, HTTP/1.0 without Host, a chunked body, a second
# request pipelined behind an accepted one, GET and SUBSCRIBE with another Host: each is
# refused (403) or maps nothing; and every listening socket of the library is bound to lan0.
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

out=$(post 50100 "Host: $HOST")
[ "$out" = 200 ] && mapped 50100 || fail "the well-formed request: $out"
echo "ok: the well-formed request maps ($out)"
n=50101
for h in "Host: $RTR_LAN_IP" "Host: $RTR_LAN_IP.:$port" "Host: evil.example:$port" \
	"Host: $HOST|Host: evil.example:$port" "Host: evil.example:$port|Host: $HOST" \
	"Host: $HOST evil.example" "X-Host: $HOST"; do
	out=$(post $n "$h")
	if mapped $n; then bad "Host form '$h' mapped ($out)"; else echo "held: '$h' -> $out"; fi
	n=$((n + 1))
done
out=$(post $n "Connection: close" HTTP/1.0)
if mapped $n; then bad "HTTP/1.0 without Host mapped ($out)"; else echo "held: HTTP/1.0 without Host -> $out"; fi
n=$((n + 1))
out=$(in_lan $ATK raw "$RTR_LAN_IP" "$port" "POST /ctl/IPConn HTTP/1.1|Host: evil.example:$port|Content-Type: text/xml|SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping\"|Transfer-Encoding: chunked||{chunked}" "$LAN_IP" $n)
if mapped $n; then bad "chunked body with another Host mapped ($out)"; else echo "held: chunked, Host evil -> $out"; fi
n=$((n + 1))
# pipelined: an accepted request, then one with another Host on the same connection
req="POST /ctl/IPConn HTTP/1.1|Host: %s|Content-Type: text/xml|SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping\"|Content-Length: {len}||{body}"
# shellcheck disable=SC2059
two="$(printf "$req" "$HOST")$(printf "$req" "evil.example:$port")"
out=$(in_lan $ATK raw "$RTR_LAN_IP" "$port" "$two" "$LAN_IP" $n)
echo "pipelined (both ask port $n): $out"
out=$(in_lan $ATK raw "$RTR_LAN_IP" "$port" "GET /napt/WANIPCn.xml HTTP/1.1|Host: evil.example:$port||")
[ "$out" = 403 ] || bad "GET of the SCPD with another Host: $out"
echo "GET, Host evil: $out"
out=$(in_lan $ATK raw "$RTR_LAN_IP" "$port" "SUBSCRIBE /evt/IPConn HTTP/1.1|Host: evil.example:$port|CALLBACK: <http://$LAN_IP:5999/>|NT: upnp:event|TIMEOUT: Second-300||")
[ "$out" = 403 ] || bad "SUBSCRIBE with another Host: $out"
echo "SUBSCRIBE, Host evil: $out"

# ---- sockets ----
socks=$(in_rtr ss -Hlnputa | grep "pid=$NAPTD_PID," | grep -v "127.0.0.1" || true)
echo "naptd's listening sockets:"
echo "$socks"
# (NAT-PMP/PCP's port 5351 checks the arrival interface itself: test_wan_guard.sh)
open=$(grep -v "%lan0" <<<"$socks" | grep -v ":5351 " || true)
[ -z "$open" ] || bad "sockets not bound to lan0: $open"
finish
