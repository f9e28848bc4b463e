#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break3_echo_id.sh - attack on Easy IP's carve-out (FAILS on ee024a8): local-ports
# keeps the router's TCP and UDP replies out of naptd, but nothing keeps its ICMP echo
# identifiers apart from the LAN's echo mappings (Linux picks a ping socket's identifier
# over all of 1-65535, raw pings pick any). A LAN host pings the WAN host with identifier
# 50000, which naptd keeps as the mapping's (inside naptd's port-range); the router then
# pings the WAN host with the same identifier: its echo replies, for W, match the LAN host's
# mapping and are sent to the LAN host. Expected: the router's ping is answered (and the
# LAN host receives no replies it did not ask for).
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require ping
topo_up
easyip_config "" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

bg "$NS_LAN" "$TOPO_DIR/lan-ping.log" ping -e 50000 -i 0.5 -w 12 "$WAN_IP"
# shellcheck disable=SC2317 # called through wait_until
echo_mapped() { ctl show mappings | grep -q "$RTR_WAN_IP:50000"; }
wait_until 5 echo_mapped ||
	fail "no echo mapping $RTR_WAN_IP:50000 for the LAN host's ping: $(ctl show mappings)"
in_rtr ping -c 3 -i 0.3 -W 2 "$WAN_IP" >"$TOPO_DIR/rtr-ping.log" ||
	fail "the router's ping with an identifier of its own fails: $(cat "$TOPO_DIR/rtr-ping.log")"
echo "ok: the router's ping is answered"
in_rtr ping -e 50000 -c 3 -i 0.3 -W 2 "$WAN_IP" >"$TOPO_DIR/rtr-ping.log" ||
	fail "the router's ping with identifier 50000, which a LAN host's echo mapping holds," \
		"gets no answer: its replies go to the LAN host (the LAN host's ping shows $(grep -c "DUP" "$TOPO_DIR/lan-ping.log") duplicates so far)"
echo "ok: the router's ping with the LAN host's identifier is answered"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
