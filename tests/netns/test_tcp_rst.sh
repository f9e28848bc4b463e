#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_tcp_rst.sh - one forged RST does not cut an idle connection's lifetime (RFC 7857 2.2,
# RFC 6146 3.5.2.2, docs/behaviour.md 6), with real TCP stacks at both ends.
#
# naptd runs with `timeout tcp-transitory 3`. lan connects to a server on wan and they
# exchange a line. wan then forges a RST towards the connection's external endpoint, in the
# client's receive window but not at its exact next sequence number: naptd translates it
# (the session becomes `closed`, 3 s), and lan's kernel, as RFC 5961 3.2 asks, ignores it
# and answers with a challenge ACK. That ACK takes the session back to `established`, so
# the line lan sends 6 s later (twice the transitory timeout) still reaches the server and
# is echoed. Before the fix the session stayed `closed`, expired after 3 s, and the second
# line was dropped (tcp-no-session).
set -u
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

topo_require ss timeout
"$PY" -c 'import scapy' 2>/dev/null || { echo "SKIP: python3-scapy missing"; exit 77; }
topo_up

PORT=8000
naptd_config "timeout tcp-transitory 3" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# wan: the echo server, a sniffer on its link, and the forged RST once the first line has
# been echoed and acknowledged. It prints what it saw; every wait is bounded.
bg "$NS_WAN" "$TOPO_DIR/wan.log" timeout 30 "$PY" -c '
import socket, sys, time
from scapy.all import IP, TCP, AsyncSniffer, conf, send
conf.verb = 0
wan, ext, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = []  # (time, packet) of every segment from the external address
sniffer = AsyncSniffer(iface="eth0", filter="tcp and src host %s" % ext, store=False,
                       prn=lambda p: seen.append((time.time(), p)))
sniffer.start()
time.sleep(0.5)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((wan, port))
srv.listen(1)
srv.settimeout(10)
conn, peer = srv.accept()
conn.settimeout(15)
conn.sendall(conn.recv(100))
time.sleep(0.5)  # the client has acknowledged the echo: its ACK holds its RCV.NXT
acks = [p for _, p in seen if p[TCP].dport == port and p[TCP].flags == "A"]
rcv_nxt = acks[-1][TCP].ack
forged = time.time()
send(IP(src=wan, dst=peer[0]) / TCP(sport=port, dport=peer[1], flags="R", seq=rcv_nxt + 1000))
print("forged RST to %s:%d, seq %d (RCV.NXT + 1000)" % (peer[0], peer[1], rcv_nxt + 1000),
      flush=True)
time.sleep(1)
challenge = [p for t, p in seen if t > forged and p[TCP].flags == "A"]
print("challenge ACK seen" if challenge else "no challenge ACK", flush=True)
try:
    line = conn.recv(100)
    conn.sendall(line)
    print("second line echoed: %r" % line, flush=True)
except OSError as e:
    print("second line lost: %s" % e, flush=True)
sniffer.stop()
' "$WAN_IP" "$EXT_IP" $PORT
wait_listen "$NS_WAN" tcp "$WAN_IP:$PORT"

# lan: the client. The second line goes 6 s after the first, the RST in between.
answer=$(in_lan timeout 30 "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"one\n")
assert s.recv(100) == b"one\n"
time.sleep(6)
s.sendall(b"two\n")
s.settimeout(8)
try:
    print("answer %r" % s.recv(100))
except OSError as e:
    print("no answer: %s" % e)
' "$WAN_IP" $PORT 2>&1)
wait_until 10 grep -q "second line" "$TOPO_DIR/wan.log"

grep -q "^forged RST" "$TOPO_DIR/wan.log" || fail "no RST forged: $(cat "$TOPO_DIR/wan.log")"
grep -q "^challenge ACK seen" "$TOPO_DIR/wan.log" ||
	fail "lan sent no challenge ACK after the forged RST: $(cat "$TOPO_DIR/wan.log")"
[ "$answer" = "answer b'two\n'" ] ||
	fail "the line sent 6 s after the RST got '$answer'; wan: $(cat "$TOPO_DIR/wan.log");" \
		"tcp-no-session drops: $(stat_value dropped-tcp-no-session)"
echo "ok: $(head -1 "$TOPO_DIR/wan.log"); lan's challenge ACK reopened the session, and a" \
	"line 6 s later (transitory timeout 3 s) was echoed"
