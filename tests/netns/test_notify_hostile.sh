#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_notify_hostile.sh - NOTIFY_SOCKET where systemd would never put it must not stop naptd:
# a path that does not exist, a regular file, an abstract name nobody holds, and a socket
# whose owner never reads (its queue full after a few WATCHDOG=1: the router namespace's
# net.unix.max_dgram_qlen is set to 2). In each case naptd starts, answers `show stats`
# within 2 s and forwards a ping six seconds in (six watchdog messages later). An abstract
# name that a listener holds gets READY=1 and STOPPING=1.
set -u
. "$(dirname "$0")/lib.sh"

topo_require
topo_up

naptd_config "# test_notify_hostile" >"$TOPO_DIR/naptd.conf"
in_rtr sysctl -q -w net.unix.max_dgram_qlen=2 || fail "cannot set net.unix.max_dgram_qlen"

# A socket bound in the router namespace that nobody reads: the listener sleeps.
deaf=$TOPO_DIR/deaf.sock
bg "$NS_RTR" "$TOPO_DIR/deaf.log" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
time.sleep(120)
' "$deaf"
socket_appears "$deaf"
touch "$TOPO_DIR/plain-file"

# check NOTIFY_SOCKET: naptd starts with it, answers and forwards 6 s later, stops on SIGTERM.
check() {
	NOTIFY_SOCKET=$1 WATCHDOG_USEC=2000000 start_naptd "$TOPO_DIR/naptd.conf" ||
		fail "NOTIFY_SOCKET=$1: naptd did not start"
	sleep 6
	timeout 2 ip netns exec "$NS_RTR" "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" show stats \
		>/dev/null || fail "NOTIFY_SOCKET=$1: no answer to show stats within 2 s"
	in_lan ping -c 1 -W 2 "$WAN_IP" >/dev/null ||
		fail "NOTIFY_SOCKET=$1: a ping did not pass"
	stop_naptd || fail "NOTIFY_SOCKET=$1: naptd exited with status $? after SIGTERM"
	echo "ok: NOTIFY_SOCKET=$1: naptd answers, forwards and stops"
}

check "$TOPO_DIR/none.sock"
check "$TOPO_DIR/plain-file"
check "@napt-notify-nobody-$$"
check "$deaf"

# An abstract name that a listener holds gets the messages (naptd encodes '@' itself now).
abstract=napt-notify-$$
bg "$NS_RTR" "$TOPO_DIR/abstract.log" "$PY" -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$abstract"
sleep 0.5
NOTIFY_SOCKET=@$abstract start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
for ((i = 0; i < 50; i++)); do
	grep -q READY=1 "$TOPO_DIR/abstract.log" && break
	sleep 0.1
done
stop_naptd || fail "naptd exited with status $? after SIGTERM"
grep -q READY=1 "$TOPO_DIR/abstract.log" || fail "no READY=1 on @$abstract"
for ((i = 0; i < 20; i++)); do
	grep -q STOPPING=1 "$TOPO_DIR/abstract.log" && break
	sleep 0.1
done
grep -q STOPPING=1 "$TOPO_DIR/abstract.log" || fail "no STOPPING=1 on @$abstract"
echo "ok: NOTIFY_SOCKET=@$abstract: READY=1 and STOPPING=1 arrive"
exit 0
