#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_slowloris.sh - one LAN host holds 20 HTTP connections to the IGD, each sending
# a header byte a second; after 5 s a normal GET of the SCPD must still be answered within
# 15 s. XFAIL: pupnp 1.8.4 serves each connection on a thread of a small pool and allows
# 30 s per read with no limit on the whole request, so 4 slow connections from any LAN host
# (2 do not) stop UPnP for every host (the packet path is not touched: loop-longest-5s-us
# stays in the 100 us range).
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

out=$(in_lan timeout 40 $ATK slow "$RTR_LAN_IP" "$port" 20 30)
echo "$out"
[[ "$out" == *"probe 200 "* ]] || bad "slowloris of 20 connections: $out"
finish
