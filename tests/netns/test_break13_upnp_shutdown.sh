#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_break13_upnp_shutdown.sh - the hand-over between pupnp's threads and the loop while the
# loop reloads and stops: a LAN host sends 1,000 SOAP requests a second (8 connections);
# meanwhile naptd gets three SIGHUPs, then a config without the host's pcp-allow line and a
# SIGHUP (its next requests: 606, the reload reaches UPnP), then SIGTERM in the middle of the
# burst. naptd must exit 0 within 5 s with no sanitizer report in its log (run it on a
# --enable-sanitizers build: a thread woken after the device is freed shows there).
set -u
. "$(dirname "$0")/lib_upnp_attack.sh"

PEER="$PY $(dirname "$0")/upnp_peer.py"
URL=http://$HOST/ctl/IPConn
reloads() { [ "$(grep -c "SIGHUP: .* reloaded" "$NAPTD_LOG")" -ge "$1" ]; }
in_lan $PEER burst "$URL" "$HOST" 1000 8 >"$TOPO_DIR/burst.log" 2>&1 &
BURST_PID=$!
TOPO_PIDS+=("$BURST_PID")
for i in 1 2 3; do
	sleep 0.5
	kill -HUP "$NAPTD_PID"
	wait_until 5 reloads "$i" ||
		bad "reload $i under the burst: $(tail -3 "$NAPTD_LOG")"
done
echo "ok: three reloads under the burst"
grep -v "pcp-allow $LAN_IP/" "$TOPO_DIR/naptd.conf" >"$TOPO_DIR/naptd.conf.new"
mv "$TOPO_DIR/naptd.conf.new" "$TOPO_DIR/naptd.conf"
kill -HUP "$NAPTD_PID"
wait_until 5 reloads 4 || bad "the fourth reload"
out=$(in_lan $PEER soap "$URL" "$HOST" GetExternalIPAddress)
grep -q "<errorCode>606</errorCode>" <<<"$out" || bad "after pcp-allow was taken out: $out"
echo "ok: after the reload without its pcp-allow line the host gets 606"
sleep 1
stop_naptd
rc=$?
[ "$rc" = 0 ] || bad "naptd exited with status $rc when stopped in the burst"
wait "$BURST_PID"
echo "burst: $(cat "$TOPO_DIR/burst.log"), naptd exit status $rc"
if grep -E "Sanitizer|runtime error" "$NAPTD_LOG"; then bad "sanitizer report in the log"; fi
[ "$fails" = 0 ] || fail "$fails attacks succeeded"
echo PASS
