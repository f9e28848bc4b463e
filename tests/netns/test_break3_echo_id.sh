#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break3_echo_id.sh - the router's own echo identifiers under Easy IP (break3's attack,
# narrowed to what naptd can keep apart). local-ports keeps the router's TCP and UDP ports
# apart from naptd's; for ICMP echo the identifiers outside port-range (49152-65534) are the
# router's: naptd never gives one to a LAN host's echo mapping (it translates it into
# port-range) and hands every echo reply for W with such an identifier to the router, even
# when a DMZ host's echo mapping holds the same identifier. With "dmz LAN-HOST":
# - the LAN host pings the WAN host with identifier 40000 while the router pings it with
#   40000 too: both are answered, and the LAN host gets no duplicate replies;
# - the WAN host pings W with identifier 41000 (the DMZ host answers) while the router pings
#   the WAN host with 41000: the router is answered. Fails before naptd kept those
#   identifiers for the router: the replies matched the DMZ host's echo session and went
#   there.
# Not kept apart: a router ping whose identifier lies inside port-range (iputils uses its
# process id) can still meet a LAN host's echo mapping towards the same remote host
# (docs/home-router.md, Limits).
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require ping
topo_up
easyip_config "dmz $LAN_IP" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# router_pings ID WHAT: the router's 3 pings of the WAN host with identifier ID are answered.
router_pings() {
	in_rtr ping -e "$1" -c 3 -i 0.3 -W 2 "$WAN_IP" >"$TOPO_DIR/rtr-ping.log" ||
		fail "the router's ping with identifier $1 gets no answer while $2:" \
			"$(cat "$TOPO_DIR/rtr-ping.log")"
}

bg "$NS_LAN" "$TOPO_DIR/lan-ping.log" ping -e 40000 -i 0.3 -w 8 "$WAN_IP"
# shellcheck disable=SC2317 # called through wait_until
lan_answered() { grep -q "bytes from $WAN_IP" "$TOPO_DIR/lan-ping.log"; }
wait_until 5 lan_answered || fail "the LAN host's ping gets no answer: $(cat "$TOPO_DIR/lan-ping.log")"
router_pings 40000 "the LAN host pings the same host with it"
sleep 0.5
! grep -q DUP "$TOPO_DIR/lan-ping.log" ||
	fail "the LAN host received duplicate replies: $(grep -c DUP "$TOPO_DIR/lan-ping.log")"
echo "ok: the router and a LAN host ping one host with identifier 40000, each gets its replies"

bg "$NS_WAN" "$TOPO_DIR/wan-ping.log" ping -e 41000 -i 0.3 -w 8 "$RTR_WAN_IP"
# shellcheck disable=SC2317 # called through wait_until
dmz_answered() { grep -q "bytes from $RTR_WAN_IP" "$TOPO_DIR/wan-ping.log"; }
wait_until 5 dmz_answered || fail "the WAN host's ping of W (the DMZ host's) gets no answer"
router_pings 41000 "the WAN host pings W (the DMZ host) with it"
echo "ok: the router's identifier 41000 stays the router's while the DMZ host holds it"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
exit 0
