#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_cli.sh - naptctl and the control socket with naptd on a real TUN:
#  - TCP and UDP forwards added with naptctl let a WAN client reach LAN servers through the
#    external address; "forward del" closes the door, also for a TCP connection already open;
#  - the forwards survive a restart and a kill -9 (state file);
#  - garbage, binary, over-long, unfinished and silent requests are answered with errors or
#    dropped after the 5-s deadline while a ping keeps flowing; more than 64 clients are
#    refused politely; 20 clients at once are all answered;
#  - SIGHUP and "naptctl reload" with a broken config keep the old config and the daemon;
#  - with 250 000 sessions (issue 11.8): 16 clients that ask for the whole table in JSON and
#    never read grow naptd's peak RSS by less than 4 MiB; a client that reads the whole table
#    gets every session once while pings through naptd keep their round-trip time.
set -u
# shellcheck source=tests/netns/lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"
CLIENT="$PY $(cd "$(dirname "$0")" && pwd)/control_client.py"

topo_require curl ping socat

ctl() { in_rtr "$NAPTCTL" -s "$SOCK" "$@"; }

# udp_probe PORT: one datagram from the WAN host to EXT_IP:PORT; prints the echo or nothing.
udp_probe() {
	in_wan "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"udp-through-nat", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recvfrom(100)[0].decode())
except socket.timeout:
    pass' "$EXT_IP" "$1"
}

http_get() { in_wan curl -sS --max-time "${2:-5}" "http://$EXT_IP:$1/hello.txt" 2>/dev/null; }

check_forwards_work() {
	[ "$(http_get 8080)" = hello-from-lan ] || fail "$1: TCP forward 8080 does not pass"
	[ "$(udp_probe 5300)" = udp-through-nat ] || fail "$1: UDP forward 5300 does not pass"
	local fw
	fw=$(ctl show forwards) || fail "$1: show forwards failed"
	echo "$fw" | grep -Eq "^tcp +8080 +$LAN_IP:80 +runtime$" || fail "$1: forwards: $fw"
	echo "$fw" | grep -Eq "^udp +5300 +$LAN_IP:5353 +runtime$" || fail "$1: forwards: $fw"
}

topo_up
SOCK=$TOPO_DIR/naptd.sock
# shellcheck disable=SC2119 # the config needs no extra lines
naptd_config >"$TOPO_DIR/naptd.conf"
echo hello-from-lan >"$TOPO_DIR/hello.txt"

# LAN servers: HTTP on 80, UDP echo on 5353, TCP echo on 7000.
bg "$NS_LAN" "$TOPO_DIR/http.log" "$PY" -m http.server --bind "$LAN_IP" 80 --directory "$TOPO_DIR"
bg "$NS_LAN" "$TOPO_DIR/udp.log" socat UDP4-RECVFROM:5353,bind="$LAN_IP",fork EXEC:cat
bg "$NS_LAN" "$TOPO_DIR/tcp.log" socat TCP4-LISTEN:7000,bind="$LAN_IP",reuseaddr,fork EXEC:cat
wait_for 5 sh -c "ip netns exec $NS_LAN ss -ltn | grep -q '$LAN_IP:80 '" || fail "no HTTP server"

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "control socket mode $(stat -c %a "$SOCK"), not 600"
echo "ok: control socket $SOCK has mode 0600"

# --- forwards open and close the door ---
[ -z "$(http_get 8080 3)" ] || fail "WAN reached the LAN server before any forward"
ctl forward add tcp 8080 "$LAN_IP:80" || fail "forward add tcp failed"
ctl forward add udp 5300 "$LAN_IP:5353" || fail "forward add udp failed"
ctl forward add tcp 7000 "$LAN_IP:7000" || fail "forward add tcp 7000 failed"
check_forwards_work "after forward add"
grep -q "^$EXT_IP " "$TOPO_DIR/http.log" && fail "the LAN server saw the external address"
grep -q "^$WAN_IP .*GET /hello.txt" "$TOPO_DIR/http.log" ||
	fail "the LAN server did not see the WAN client: $(cat "$TOPO_DIR/http.log")"
grep -q "forward tcp 8080 $LAN_IP:80" "$TOPO_DIR/naptd.state" || fail "state file lacks forward"
echo "ok: TCP and UDP forwards added with naptctl carry WAN clients to LAN servers"

# A TCP connection through the forward stays open while the forward is removed.
rm -f "$TOPO_DIR/go"
in_wan "$PY" -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 7000), timeout=3)
s.sendall(b"a")
print("first", s.recv(10).decode(), flush=True)
for _ in range(200):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
s.sendall(b"b")
try:
    d = s.recv(10)
    print("second", d.decode() if d else "closed")
except (socket.timeout, ConnectionResetError):
    print("second none")' "$EXT_IP" "$TOPO_DIR/go" >"$TOPO_DIR/held.log" 2>&1 &
held=$!
wait_for 5 grep -q "^first a" "$TOPO_DIR/held.log" || fail "held TCP connection: $(cat "$TOPO_DIR/held.log")"
ctl -j show sessions tcp >"$TOPO_DIR/s.json" || fail "show sessions failed"
"$PY" -m json.tool "$TOPO_DIR/s.json" >/dev/null || fail "show sessions -j is not JSON"
grep -q '"inside_port": 7000, "external_addr": "'"$EXT_IP"'", "external_port": 7000, "remote_addr": "'"$WAN_IP"'"' "$TOPO_DIR/s.json" ||
	fail "no session of the held connection: $(cat "$TOPO_DIR/s.json")"
grep -q '"origin": "forward"' "$TOPO_DIR/s.json" || fail "session origin not forward"
ctl forward del tcp 7000 || fail "forward del tcp 7000 failed"
touch "$TOPO_DIR/go"
wait "$held" # bounded by the client's own timeouts (20 s + 3 s)
grep -q "^second a\|^second b" "$TOPO_DIR/held.log" &&
	fail "the open connection still passes after forward del: $(cat "$TOPO_DIR/held.log")"
ctl show sessions tcp | grep -q ":7000 .*forward" && fail "forward session of 7000 still listed"
in_wan socat -T 2 - "TCP4:$EXT_IP:7000,connect-timeout=2" </dev/null >/dev/null 2>&1 &&
	fail "a new connection to 7000 passes after forward del"
echo "ok: forward del closed the door, also for the TCP connection already open"

# --- restart and kill -9 keep the forwards ---
stop_naptd || fail "naptd exit status $? after SIGTERM"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not restart"
check_forwards_work "after restart"
echo "ok: forwards kept across a restart"
kill -KILL "$NAPTD_PID"
wait "$NAPTD_PID" 2>/dev/null
NAPTD_PID=
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start after kill -9"
check_forwards_work "after kill -9"
echo "ok: forwards kept across kill -9"

# --- bad requests while traffic flows ---
in_lan ping -c 40 -i 0.1 -W 2 "$WAN_IP" >"$TOPO_DIR/ping.log" 2>&1 &
ping_pid=$!
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
long=$(head -c 5000 /dev/zero | tr '\0' a)
for req in "$(hex $'bogus command\n')" "$(hex $'\n')" "$(hex $'show\x01stats\n')" \
	"00ff10fe0a" "$(hex "$long")" "$(hex $'show sessions sctp\n')" \
	"$(hex $'forward add tcp 99999 1.2.3.4:5\n')"; do
	got=$($CLIENT "$SOCK" req "$req") || fail "raw client failed for ${req:0:40}"
	case $got in "error: "*) ;; *) fail "request ${req:0:40}... answered '$got'" ;; esac
done
[ "$($CLIENT "$SOCK" halfclose "show stats")" = ok ] || fail "request ended by EOF not answered"
$CLIENT "$SOCK" hangup "show sta" || fail "hang-up client failed"
t=$($CLIENT "$SOCK" silent) || fail "silent client failed"
if [ "$t" -lt 4 ] || [ "$t" -gt 8 ]; then
	fail "a silent client was dropped after $t s, not about 5"
fi
out=$(ctl bogus 2>&1)
rc=$?
if [ $rc != 1 ] || [ "$out" != "naptctl: unknown command 'bogus' (try: help)" ]; then
	fail "naptctl bogus: exit $rc, '$out'"
fi
wait "$ping_pid" || fail "ping failed during bad requests: $(cat "$TOPO_DIR/ping.log")"
grep -q " 0% packet loss" "$TOPO_DIR/ping.log" || fail "ping lost packets: $(tail -2 "$TOPO_DIR/ping.log")"
kill -0 "$NAPTD_PID" || fail "naptd died"
echo "ok: garbage, binary, over-long, unfinished and silent requests refused; ping unharmed"

# --- many clients ---
n=$($CLIENT "$SOCK" many 20 "json show stats") || fail "many clients failed"
[ "$n" = 20 ] || fail "only $n of 20 simultaneous clients answered ok"
pids=()
for i in $(seq 1 20); do
	ctl show stats >"$TOPO_DIR/stats.$i" 2>&1 &
	pids+=($!)
done
for i in $(seq 1 20); do
	wait "${pids[$((i - 1))]}" || fail "naptctl $i of 20 failed: $(cat "$TOPO_DIR/stats.$i")"
	grep -q "^dropped-no-mapping " "$TOPO_DIR/stats.$i" || fail "naptctl $i of 20: bad answer"
done
r=$($CLIENT "$SOCK" flood 70) || fail "flood client failed"
[ "$r" = 6 ] || fail "$r of 70 silent clients refused, expected 70 - 64 = 6"
ctl show stats >/dev/null || fail "no answer after the flood"
echo "ok: 20 clients at once all answered; clients beyond 64 refused politely"

# --- an answer larger than the socket buffer, to a slow reader ---
# send3000: one datagram from each LAN port 20000-22999 (again: a loaded machine can drop
# some at the TUN queue, and a resent one only refreshes its session).
send3000() {
	in_lan "$PY" -c '
import socket, sys, time
for port in range(20000, 23000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], port))
    s.sendto(b"x", (sys.argv[2], 9))
    s.close()
    if port % 50 == 0:
        time.sleep(0.002)  # paced: a loaded machine would drop a burst at the TUN queue
' "$LAN_IP" "$WAN_IP" || fail "could not send 3000 datagrams"
}
held3000() {
	[ "$(ctl show sessions udp inside "$LAN_IP" | grep -Ec "^udp +$LAN_IP:2[0-2][0-9]{3} ")" = 3000 ]
}
for try in 1 2 3; do
	send3000
	wait_for 3 held3000 && break
done
held3000 || fail "naptd did not hold the 3000 sessions after three sends"
$CLIENT "$SOCK" slow "show sessions udp inside $LAN_IP" >"$TOPO_DIR/big.txt" ||
	fail "slow reader failed"
n=$(grep -Ec "^udp +$LAN_IP:2[0-2][0-9]{3} .* $WAN_IP:9 " "$TOPO_DIR/big.txt")
[ "$n" = 3000 ] || fail "slow reader got $n of 3000 sessions ($(wc -c <"$TOPO_DIR/big.txt") bytes)"
echo "ok: a $(wc -c <"$TOPO_DIR/big.txt")-byte answer reached a slow reader whole"

# --- a broken config is refused, the old one stays ---
before=$(ctl show config) || fail "show config failed"
cp "$TOPO_DIR/naptd.conf" "$TOPO_DIR/naptd.conf.good"
echo "port-range 9-8-7" >>"$TOPO_DIR/naptd.conf"
out=$(ctl reload 2>&1)
[ $? = 1 ] || fail "reload of a broken config answered ok"
case $out in *naptd.conf:*) ;; *) fail "reload error does not name file:line: $out" ;; esac
kill -HUP "$NAPTD_PID"
wait_for 5 grep -q "reload refused" "$NAPTD_LOG" || fail "no log of the refused SIGHUP reload"
kill -0 "$NAPTD_PID" || fail "naptd died on SIGHUP with a broken config"
[ "$(ctl show config)" = "$before" ] || fail "config changed after a refused reload"
check_forwards_work "after a refused reload"
cp "$TOPO_DIR/naptd.conf.good" "$TOPO_DIR/naptd.conf"
ctl reload >/dev/null || fail "reload of the good config failed"
echo "ok: a broken config is refused (SIGHUP and naptctl reload), the old one stays"

# --- naptctl exit codes ---
out=$("$NAPTCTL" -s "$TOPO_DIR/nowhere.sock" show stats 2>&1)
[ $? = 2 ] || fail "naptctl without a daemon did not exit 2"
case $out in *"$TOPO_DIR/nowhere.sock"*) ;; *) fail "message does not name the socket: $out" ;; esac
echo "ok: naptctl exits 2 and names the socket when nobody answers"

stop_naptd || fail "naptd exit status $? after SIGTERM"
[ -e "$SOCK" ] && fail "control socket left behind after exit"
echo "ok: socket removed at exit"

# --- a table of 250 000 sessions: listings bounded in memory and in time ---
BIG=250000
STALLED=16
naptd_config "max-sessions 262144" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with max-sessions 262144"
# The same flows again until 90 % have sessions: on a loaded machine the TUN queue drops part
# of a burst, and a flow sent again fills its gap.
enough_sessions() { [ "$(stat_value sessions-current)" -ge $((BIG * 9 / 10)) ]; }
for round in 1 2 3 4; do
	raw_send "$NS_LAN" udp-flows "$WAN_IP" $BIG "$LAN_IP" 30 >/dev/null || fail "the flow sender failed"
	wait_for 2 enough_sessions && break
done
enough_sessions || fail "only $(stat_value sessions-current) of $BIG flows made sessions in 4 rounds"
sessions=$(stat_value sessions-current)
echo "ok: $sessions sessions from $BIG flows sent $round times"

# Clients that never read hold at most a piece each: naptd's peak RSS (VmHWM) barely moves.
hwm0=$(naptd_field VmHWM | awk '{ print $1 }')
$CLIENT "$SOCK" stall $STALLED "json show sessions" 8 >"$TOPO_DIR/stall.log" 2>&1 &
stall=$!
wait_for 5 grep -q sent "$TOPO_DIR/stall.log" || fail "stalled clients: $(cat "$TOPO_DIR/stall.log")"
wait "$stall" || fail "stalled clients failed: $(cat "$TOPO_DIR/stall.log")"
[ "$(tail -1 "$TOPO_DIR/stall.log")" = 0 ] ||
	fail "$(tail -1 "$TOPO_DIR/stall.log") of $STALLED clients that stopped reading not dropped"
hwm1=$(naptd_field VmHWM | awk '{ print $1 }')
echo "measured: $STALLED clients asking for $sessions sessions in JSON, never reading:" \
	"naptd VmHWM $hwm0 -> $hwm1 kB (+$((hwm1 - hwm0)) kB)"
if ldd "$NAPTD" | grep -q libasan; then
	echo "note: sanitizer build, RSS bound not checked"
else
	[ $((hwm1 - hwm0)) -lt 4096 ] || fail "naptd's peak RSS grew by $((hwm1 - hwm0)) kB"
	echo "ok: $STALLED stalled listings of $sessions sessions cost naptd under 4 MiB"
fi

# A client that reads the whole table in JSON: each session once; pings through naptd
# every 5 ms meanwhile keep their round-trip time (the loop is never blocked for long).
rtt_max() { awk -F/ '/^rtt/ { print $6 }' "$1"; }
in_lan ping -q -i 0.005 -c 400 -W 2 "$WAN_IP" >"$TOPO_DIR/ping-idle.log" 2>&1 ||
	fail "ping without a listing failed: $(cat "$TOPO_DIR/ping-idle.log")"
in_lan ping -q -i 0.005 -c 4000 -W 2 "$WAN_IP" >"$TOPO_DIR/ping-dump.log" 2>&1 &
pinger=$!
sleep 0.5
t0=$(date +%s%N)
ctl -j show sessions >"$TOPO_DIR/big.json" || fail "show sessions of the big table failed"
t1=$(date +%s%N)
sleep 0.2
kill -INT "$pinger"
wait "$pinger"
# Late packets of the flood may still add a few sessions; none expires (timeout 300 s).
after=$(stat_value sessions-current)
"$PY" - "$TOPO_DIR/big.json" "$sessions" "$after" <<-'PY' || fail "the big listing is wrong"
	import json, sys
	doc = json.load(open(sys.argv[1]))
	rows = doc["sessions"]
	keys = {(r["inside_addr"], r["inside_port"], r["remote_addr"], r["remote_port"]) for r in rows}
	if doc["count"] != len(rows) or len(keys) != len(rows) or not int(sys.argv[2]) <= len(rows) <= int(sys.argv[3]):
	    sys.exit("count %d, %d rows, %d distinct, %s to %s sessions" % (doc["count"], len(rows), len(keys), sys.argv[2], sys.argv[3]))
PY
idle=$(rtt_max "$TOPO_DIR/ping-idle.log")
busy=$(rtt_max "$TOPO_DIR/ping-dump.log")
echo "measured: JSON listing of $sessions sessions, $(wc -c <"$TOPO_DIR/big.json") bytes in" \
	"$(((t1 - t0) / 1000000)) ms; ping max RTT $idle ms without it, $busy ms during it"
# naptd's own account of the listing: the CPU time of its longest turn of the loop (the
# ping times above also hold the time other processes of a busy machine took the CPU).
turn=$(grep "control: json show sessions: .* longest turn" "$NAPTD_LOG" | tail -1 |
	sed -n 's/.*longest turn \([0-9]*\) us of CPU$/\1/p')
[ -n "$turn" ] || fail "naptd logged no cost of the listing"
echo "measured: $(grep "control: json show sessions: .* longest turn" "$NAPTD_LOG" | tail -1)"
[ "$turn" -lt 10000 ] || fail "a turn of naptd's loop spent $turn us making the listing"
echo "ok: $sessions sessions listed whole, each once; the loop's longest turn $turn us"
stop_naptd || fail "naptd exit status $? after SIGTERM"
exit 0
