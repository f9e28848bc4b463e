#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_leases.sh - one LAN host asks AddAnyPortMapping (9 a second, under the rate
# limit) for internal port after internal port until refused; a second LAN host that pcp-allow
# names must still get a mapping: one host may not hold every lease of the store.
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

out=$(in_lan timeout 60 $ATK fill "$RTR_LAN_IP" "$port" "$LAN_IP" 300)
echo "one host, AddAnyPortMapping until refused: $out"
out2=$(UPNP_SRC=$SECOND_IP in_lan $ATK raw "$RTR_LAN_IP" "$port" "POST /ctl/IPConn HTTP/1.1|Host: $HOST|Content-Type: text/xml|SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2#AddAnyPortMapping\"|Content-Length: {len}||{body}" "$SECOND_IP" 0 AddAnyPortMapping 80)
echo "second host after it: $out2"
[ "$out2" = 200 ] || bad "after one host took $out, a second host AddAnyPortMapping: $out2"
finish
