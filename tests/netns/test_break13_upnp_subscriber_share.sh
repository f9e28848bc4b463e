#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_subscriber_share.sh - a LAN host that pcp-allow names sends 40 GENA
# SUBSCRIBEs (its own CALLBACK, TIMEOUT 1800 s); another allowed host must still be able to
# subscribe. XFAIL: pupnp 1.8.4 keeps 32 subscriptions a service in all
# (UpnpSetMaxSubscriptions), not per host, and naptd's guard sees no subscription's end, so
# one allowed host holds all 32 for 30 minutes.
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

out=$(in_lan $ATK subs "http://$HOST/evt/IPConn" "<http://$LAN_IP:5999/>" 40)
echo "one allowed host, 40 SUBSCRIBEs: $out"
out2=$(UPNP_SRC=$SECOND_IP in_lan $ATK subs "http://$HOST/evt/IPConn" "<http://$SECOND_IP:5999/>" 1)
echo "another allowed host after it: $out2"
[ "$out2" = "ok 1 refused 0" ] || bad "after one host's 40 SUBSCRIBEs, another host's: $out2"
finish
