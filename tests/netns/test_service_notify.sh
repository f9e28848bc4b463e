#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_service_notify.sh - what systemd would see of naptd (Type=notify, WatchdogSec=), through
# a test socket in place of systemd's: READY=1 once set up, WATCHDOG=1 each second from the
# event loop, none while the loop does not run (SIGSTOP: what a hung loop looks like from
# outside), again once it runs, STOPPING=1 at SIGTERM. The restart after a missed watchdog is
# systemd's and needs systemd as PID 1, which the test machine may not have.
set -u
. "$(dirname "$0")/lib.sh"

topo_require
topo_up

naptd_config "# test_service_notify" >"$TOPO_DIR/naptd.conf"
sock=$TOPO_DIR/notify.sock
msgs=$TOPO_DIR/notify.log
# Each datagram on one line, as it arrives.
bg "$NS_RTR" "$TOPO_DIR/listener.log" "$PY" -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$sock" "$msgs"
socket_appears "$sock"
touch "$msgs"

# count MESSAGE: how many datagrams held MESSAGE so far.
count() { grep -c -- "$1" "$msgs"; }

# wait_for MESSAGE N SECONDS: until N datagrams held MESSAGE, at most SECONDS.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

NOTIFY_SOCKET=$sock WATCHDOG_USEC=5000000 start_naptd "$TOPO_DIR/naptd.conf" ||
	fail "naptd did not start"
wait_for READY=1 1 5 || fail "no READY=1 within 5 s: $(cat "$msgs")"
echo "ok: READY=1 once set up"

n=$(count WATCHDOG=1)
wait_for WATCHDOG=1 $((n + 2)) 4 || fail "fewer than 2 WATCHDOG=1 in 4 s: $(cat "$msgs")"
echo "ok: WATCHDOG=1 each second"

kill -STOP "$NAPTD_PID"
sleep 0.5
n=$(count WATCHDOG=1)
sleep 2.5
[ "$(count WATCHDOG=1)" = "$n" ] || fail "WATCHDOG=1 sent while the event loop was stopped"
kill -CONT "$NAPTD_PID"
wait_for WATCHDOG=1 $((n + 1)) 3 || fail "no WATCHDOG=1 after the loop ran again"
echo "ok: no WATCHDOG=1 while the loop was stopped for 2.5 s, again once it ran"

stop_naptd || fail "naptd exited with status $? after SIGTERM"
wait_for STOPPING=1 1 2 || fail "no STOPPING=1 at SIGTERM: $(cat "$msgs")"
echo "ok: STOPPING=1 at SIGTERM"
exit 0
