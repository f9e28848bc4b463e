#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_mss_clamp.sh - TCP MSS clamping (`mss-clamp auto`, docs/behaviour.md 18) on a WAN link
# with a smaller MTU than the hosts', as on PPPoE (1492).
#
# The router's wan0 has MTU 1492; the LAN host and the WAN server keep 1500, and nothing on
# the WAN link can send an ICMP "fragmentation needed" back to the server (its 1500-byte
# frames are dropped by the veth for exceeding wan0's MTU, silently): path-MTU discovery
# cannot help, only the MSS the hosts announce keeps segments small enough.
#  1. with `mss-clamp auto`, naptd reads 1492 and clamps to 1452: the server sees the LAN
#     host's SYN with MSS 1452, the LAN host sees the server's SYN-ACK with MSS 1452, `show
#     config` says `mss-clamp 1452`, and 400 KB from the server reach the LAN host;
#  2. the control: the same download without mss-clamp stalls (the server's full-sized
#     segments never arrive), so step 1 succeeds because of the clamp.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require ss timeout tshark
topo_up
ip -n "$NS_RTR" link set wan0 mtu 1492

PORT=8000
BYTES=400000
# The server: every connection gets BYTES bytes, then it is closed.
bg "$NS_WAN" "$TOPO_DIR/server.log" timeout 120 "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4)
while True:
    c, _ = s.accept()
    c.settimeout(10)
    try:
        c.sendall(b"x" * int(sys.argv[2]))
    except OSError:
        pass
    c.close()
' "$PORT" "$BYTES"
wait_listen "$NS_WAN" tcp "0.0.0.0:$PORT"

# download: bytes the LAN host receives from the server within 8 s.
download() {
	in_lan timeout 15 "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4)
got, end = 0, time.monotonic() + 8
s.settimeout(1)
while time.monotonic() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        continue
    if not d:
        break
    got += len(d)
print(got)
' "$WAN_IP" "$PORT"
}

# syn_mss NS FILTER OUT: the MSS option of the first SYN matching FILTER on NS's eth0 into
# OUT (tshark, at most 15 s), in the background; waits until the capture runs.
syn_mss() {
	bg "$1" "$3" timeout 20 tshark -l -n -i eth0 -c 1 -f "$2" -T fields -e tcp.options.mss_val
	# tshark can take seconds to start on a loaded machine: a fixed pause missed the SYN.
	wait_until 15 grep -q "Capturing on" "$3" || fail "tshark did not start on $1"
}

naptd_config "mss-clamp auto" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with mss-clamp auto"
ctl show config | grep -qx "mss-clamp 1452" || fail "show config: no 'mss-clamp 1452'"
syn_mss "$NS_WAN" "tcp dst port $PORT and tcp[tcpflags] == tcp-syn" "$TOPO_DIR/syn.mss"
syn_mss "$NS_LAN" "tcp src port $PORT and tcp[tcpflags] & tcp-syn != 0" "$TOPO_DIR/synack.mss"
got=$(download)
wait_until 10 grep -qxE "[0-9]+" "$TOPO_DIR/synack.mss"
syn=$(grep -xE "[0-9]+" "$TOPO_DIR/syn.mss") synack=$(grep -xE "[0-9]+" "$TOPO_DIR/synack.mss")
[ "$syn" = 1452 ] || fail "the server saw the SYN with MSS '$syn', not 1452"
[ "$synack" = 1452 ] || fail "the LAN host saw the SYN-ACK with MSS '$synack', not 1452"
[ "${got:-0}" = "$BYTES" ] || fail "with mss-clamp auto, $got of $BYTES bytes arrived"
echo "ok: mss-clamp auto on a 1492-byte WAN link: SYN and SYN-ACK carry MSS 1452, and" \
	"$BYTES bytes arrived"

stop_naptd
naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start without mss-clamp"
got=$(download)
[ "${got:-0}" -lt "$BYTES" ] ||
	fail "control: without mss-clamp the download completed too: the link does not test the clamp"
echo "ok: control: without mss-clamp only ${got:-0} of $BYTES bytes arrived in 8 s"
