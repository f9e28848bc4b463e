#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_slow_subscriber.sh - GENA with a hostile subscriber: a LAN host subscribes
# four times first with a CALLBACK whose server accepts and never answers (each NOTIFY
# waits), then another host subscribes with a normal listener; after wan0 is renumbered the other host
# must hear the new ExternalIPAddress within 10 s: one slow subscriber does not hold up the
# events of the others.
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

PEER="$PY $(dirname "$0")/upnp_peer.py"
NEW_WAN_IP=198.51.100.3
bg "$NS_LAN" "$TOPO_DIR/mute.log" socat TCP-LISTEN:5998,bind="$SECOND_IP",reuseaddr,fork \
	"SYSTEM:sleep 120"
wait_listen "$NS_LAN" tcp "$SECOND_IP:5998"
for _ in 1 2 3 4; do
	out=$(UPNP_SRC=$SECOND_IP in_lan $ATK subs "http://$HOST/evt/IPConn" \
		"<http://$SECOND_IP:5998/>" 1)
	[ "$out" = "ok 1 refused 0" ] || fail "the mute subscriber's SUBSCRIBE: $out"
done
echo "ok: four subscriptions whose NOTIFYs are never answered"
in_lan $PEER gena "$LAN_IP" 5999 "http://$HOST/evt/IPConn" 25 \
	"$RTR_WAN_IP" "$NEW_WAN_IP" >"$TOPO_DIR/gena.log" 2>&1 &
GENA_PID=$!
TOPO_PIDS+=("$GENA_PID")
wait_until 10 grep -q "event ExternalIPAddress $RTR_WAN_IP" "$TOPO_DIR/gena.log" ||
	bad "the other host's initial event: $(cat "$TOPO_DIR/gena.log")"
in_rtr ip addr del "$RTR_WAN_IP/24" dev wan0
in_rtr ip addr add "$NEW_WAN_IP/24" dev wan0
start=$(date +%s)
wait_until 10 grep -q "event ExternalIPAddress $NEW_WAN_IP" "$TOPO_DIR/gena.log" ||
	bad "no event of $NEW_WAN_IP within 10 s: $(cat "$TOPO_DIR/gena.log")"
echo "the other host heard $NEW_WAN_IP after $(($(date +%s) - start)) s"
finish
