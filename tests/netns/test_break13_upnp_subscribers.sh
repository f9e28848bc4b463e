#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_subscribers.sh - a LAN host that no pcp-allow line names sends 40 GENA
# SUBSCRIBEs (its own CALLBACK, TIMEOUT 1800 s): each is refused (403), and a host that
# pcp-allow names can then subscribe. (Before the guard asked the loop about the host, the
# first 32 were accepted and took every subscription of the service.)
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

OTHER_IP=192.168.77.9 # no pcp-allow line names it
in_lan ip addr add "$OTHER_IP/24" dev eth0
out=$(UPNP_SRC=$OTHER_IP in_lan $ATK subs "http://$HOST/evt/IPConn" "<http://$OTHER_IP:5999/>" 40)
echo "a host pcp-allow does not name, 40 SUBSCRIBEs: $out"
[ "$out" = "ok 0 refused 40" ] || bad "SUBSCRIBEs of a host pcp-allow does not name: $out"
out2=$(UPNP_SRC=$SECOND_IP in_lan $ATK subs "http://$HOST/evt/IPConn" "<http://$SECOND_IP:5999/>" 1)
echo "second host after it: $out2"
[ "$out2" = "ok 1 refused 0" ] || bad "after another host's 40 SUBSCRIBEs, an allowed host's: $out2"
finish
