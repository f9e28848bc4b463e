#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-mapping-log.sh yes|no RUNS - does log-mappings stall the loop? Runs naptd (BUILD_DIR,
# as the netns tests) RUNS times with `log-mappings yes` or `no`; each time a LAN host sends
# 10 000 datagrams from 10 000 source ports (10 000 new mappings at once), then prints
# naptctl show stats' loop-longest-5s-us (the longest loop iteration of the last 5 s),
# sessions-created and mapping-log-lines. As root; docs/logging.md has the figures.
set -u
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/../netns/lib.sh"
PEER="$PY $(cd "$(dirname "$0")/../netns" && pwd)/mapping_peer.py"

[ $# = 2 ] || { echo "usage: $0 yes|no RUNS" >&2; exit 2; }
topo_up
SOCK=$TOPO_DIR/naptd.sock
for ((r = 0; r < $2; r++)); do
	naptd_config "log-mappings $1" >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf" >/dev/null || exit 1
	sleep 6 # the start's iterations out of the 5-s window
	in_lan $PEER send "$WAN_IP" 9001 30000 10000
	sleep 1
	echo "log-mappings $1: $(in_rtr "$NAPTCTL" -s "$SOCK" show stats | awk '
		$1 == "loop-longest-5s-us" || $1 == "sessions-created" || $1 == "mapping-log-lines" {
			printf "%s=%s ", $1, $2 }')"
	stop_naptd
done
