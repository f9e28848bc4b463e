#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_slow_subscriber.sh - GENA with a hostile subscriber: a LAN host subscribes
# 16 times with a CALLBACK whose server accepts and never answers (each NOTIFY waits), then
# another host subscribes with a normal listener; it must hear the ExternalIPAddress at once
# and, after wan0 is renumbered, the new one within 10 s. XFAIL: pupnp 1.8.4 sends the
# NOTIFYs from a small thread pool with 30 s timeouts, so the mute subscriber's NOTIFYs hold
# it and the other host hears neither (with 4 mute subscriptions: 1 run in 5 missed it).
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

NEW_WAN_IP=198.51.100.3
bg "$NS_LAN" "$TOPO_DIR/mute.log" socat TCP-LISTEN:5998,bind="$SECOND_IP",reuseaddr,fork \
	"SYSTEM:sleep 120"
wait_listen "$NS_LAN" tcp "$SECOND_IP:5998"
out=$(UPNP_SRC=$SECOND_IP in_lan $ATK subs "http://$HOST/evt/IPConn" "<http://$SECOND_IP:5998/>" 16)
[ "$out" = "ok 16 refused 0" ] || fail "the mute subscriber's SUBSCRIBEs: $out"
echo "ok: 16 subscriptions whose NOTIFYs are never answered"
gena_renumber "$HOST" "$NEW_WAN_IP" ||
	bad "the other host's initial event: $(cat "$TOPO_DIR/gena.log")"
start=$(date +%s)
wait_until 10 grep -q "event ExternalIPAddress $NEW_WAN_IP" "$TOPO_DIR/gena.log" ||
	bad "no event of $NEW_WAN_IP within 10 s: $(cat "$TOPO_DIR/gena.log")"
echo "the other host heard $NEW_WAN_IP after $(($(date +%s) - start)) s"
finish
