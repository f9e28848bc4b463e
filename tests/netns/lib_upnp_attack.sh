# SPDX-License-Identifier: BSD-2-Clause
# lib_upnp_attack.sh - the set-up of the test_break13_upnp_*.sh attacks on the UPnP IGD: the Easy
# IP router with "upnp yes", two LAN hosts that pcp-allow names ($LAN_IP, $SECOND_IP), and
# helpers: bad (an attack that succeeded, counted in $fails), mapped, post, finish.
# shellcheck source-path=SCRIPTDIR source=lib_home.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_home.sh"

topo_require socat ss
topo_up_extra

ATK="$PY $(dirname "$0")/upnp_attack.py"
SECOND_IP=192.168.77.5 # a second LAN host that pcp-allow names
easyip_config "wan-interface wan0" "upnp yes" "pcp-allow $LAN_IP/32 1024-65535" \
	"pcp-allow $SECOND_IP/32 1024-65535" >"$TOPO_DIR/naptd.conf"
in_lan ip addr add "$SECOND_IP/24" dev eth0
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
port=$(sed -n "s/.*upnp: IGD on $RTR_LAN_IP:\([0-9]*\) .*/\1/p" "$NAPTD_LOG")
[ -n "$port" ] || fail "no UPnP server in the log: $(cat "$NAPTD_LOG")"
HOST=$RTR_LAN_IP:$port
fails=0
bad() {
	echo "FELL: $*"
	fails=$((fails + 1))
}
mapped() { ctl show forwards | grep -q "^tcp *$1 "; }
post() { # post EXT_PORT HOST-LINES [VERSION]: an AddPortMapping with those header lines
	in_lan $ATK raw "$RTR_LAN_IP" "$port" \
		"POST /ctl/IPConn ${3:-HTTP/1.1}|$2|Content-Type: text/xml|SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping\"|Content-Length: {len}||{body}" \
		"$LAN_IP" "$1"
}

# finish: the counters, then PASS or the number of attacks that succeeded.
finish() {
	echo "upnp-requests-refused $(stat_value upnp-requests-refused), loop-longest-5s-us $(stat_value loop-longest-5s-us)"
	[ "$fails" = 0 ] || fail "$fails attacks succeeded"
	echo PASS
}
