#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_leases.sh - one LAN host asks AddAnyPortMapping (9 a second, under the rate
# limit) for internal port after internal port until refused; a second LAN host that pcp-allow
# names must still get a mapping: one host may not hold every lease of the store.
# Before it, argument forms (upnp_peer.py): NewInternalClient with a trailing space, 0.0.0.0,
# the broadcast address, a name; external port 65536; internal port 0; protocol "tcp" and
# "TCP "; lease -1; each refused with nothing mapped; the second host cannot delete the
# first one's mapping (606) nor read past the end of the list (713 for 65535, 402 for -1).
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

PEER="$PY $(dirname "$0")/upnp_peer.py"
URL=http://$HOST/ctl/IPConn
add() { # add CLIENT EXT_PORT IN_PORT PROTOCOL LEASE: AddPortMapping's status and errorCode
	in_lan $PEER soap "$URL" "$HOST" AddPortMapping NewRemoteHost= "NewExternalPort=$2" \
		"NewProtocol=$4" "NewInternalPort=$3" "NewInternalClient=$1" NewEnabled=1 \
		NewPortMappingDescription=x "NewLeaseDuration=$5" |
		sed -n '1p;s/.*<errorCode>\([0-9]*\)<.*/\1/p' | tr '\n' ' '
}
for args in "$LAN_IP|50200|80|TCP|600" "$LAN_IP |50201|80|TCP|600" "0.0.0.0|50202|80|TCP|600" \
	"192.168.77.255|50203|80|TCP|600" "localhost|50204|80|TCP|600" "$LAN_IP|65536|80|TCP|600" \
	"$LAN_IP|50206|0|TCP|600" "$LAN_IP|50207|80|tcp|600" "$LAN_IP|50208|80|TCP |600" \
	"$LAN_IP|50209|80|TCP|-1"; do
	IFS='|' read -r c e i p l <<<"$args"
	out=$(add "$c" "$e" "$i" "$p" "$l")
	echo "AddPortMapping '$c' $e $i '$p' $l: $out"
	if [ "$e" = 50200 ]; then
		mapped 50200 || fail "the well-formed AddPortMapping: $out"
	elif mapped "$e" || [ "${out%% *}" = 200 ]; then
		bad "AddPortMapping '$c' $e $i '$p' $l mapped: $out"
	fi
done
out=$(UPNP_SRC=$SECOND_IP in_lan $PEER soap "$URL" "$HOST" DeletePortMapping NewRemoteHost= \
	NewExternalPort=50200 NewProtocol=TCP)
grep -q "<errorCode>606<" <<<"$out" && mapped 50200 || bad "another host's DeletePortMapping: $out"
for idx in 65535 -1; do
	out=$(UPNP_SRC=$SECOND_IP in_lan $PEER soap "$URL" "$HOST" GetGenericPortMappingEntry \
		"NewPortMappingIndex=$idx" | sed -n 's/.*<errorCode>\([0-9]*\)<.*/\1/p')
	echo "GetGenericPortMappingEntry $idx: $out"
	[ "$out" = "$([ "$idx" = -1 ] && echo 402 || echo 713)" ] || bad "index $idx: $out"
done
in_lan $PEER soap "$URL" "$HOST" DeletePortMapping NewRemoteHost= NewExternalPort=50200 \
	NewProtocol=TCP >/dev/null
sleep 1 # the rate: 10 mapping requests a second
out=$(in_lan timeout 60 $ATK fill "$RTR_LAN_IP" "$port" "$LAN_IP" 300)
echo "one host, AddAnyPortMapping until refused: $out"
out2=$(UPNP_SRC=$SECOND_IP in_lan $ATK raw "$RTR_LAN_IP" "$port" "POST /ctl/IPConn HTTP/1.1|Host: $HOST|Content-Type: text/xml|SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2#AddAnyPortMapping\"|Content-Length: {len}||{body}" "$SECOND_IP" 0 AddAnyPortMapping 80)
echo "second host after it: $out2"
[ "$out2" = 200 ] || bad "after one host took $out, a second host AddAnyPortMapping: $out2"
finish
