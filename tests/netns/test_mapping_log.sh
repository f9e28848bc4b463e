#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_mapping_log.sh - who had which port (issue 15; docs/logging.md):
#  - log-mappings yes logs one mapping-new line per mapping, naming the inside endpoint and
#    the external endpoint the WAN host really saw, and one mapping-end line when it goes;
#  - naptctl lookup EXT:PORT udp names the inside endpoint the WAN host's datagram came from,
#    naptctl lookup INSIDE-ADDR lists the host's mappings;
#  - naptctl monitor and naptctl -j monitor stream the same events (the JSON lines parse);
#  - a monitor reader that never reads does not hold up 10000 new mappings: every one is
#    logged and reaches the other monitor, the slow reader is told what it lost.
set -u
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
PEER="$PY $(cd "$(dirname "$0")" && pwd)/mapping_peer.py"

topo_require

ctl() { in_rtr "$NAPTCTL" -s "$SOCK" "$@"; }
lines() { grep -c -- "$1" "$2" 2>/dev/null || true; }
has_lines() { [ "$(lines "$1" "$2")" -ge "$3" ]; }
stat_of() { ctl show stats | awk -v k="$1" '$1 == k {print $2}'; }

topo_up
SOCK=$TOPO_DIR/naptd.sock
naptd_config "log-mappings yes" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

bg "$NS_RTR" "$TOPO_DIR/mon.txt" "$NAPTCTL" -s "$SOCK" monitor
bg "$NS_RTR" "$TOPO_DIR/mon.json" "$NAPTCTL" -s "$SOCK" -j monitor
bg "$NS_RTR" "$TOPO_DIR/slow.out" $PEER slow "$SOCK" "$TOPO_DIR/go" 120
monitors_are() { [ "$(stat_of monitors)" = "$1" ]; }
wait_for 5 monitors_are 3 || fail "$(stat_of monitors) monitors connected, not 3"

# --- 200 mappings: the log names what the WAN host saw ---
N=200
bg "$NS_WAN" "$TOPO_DIR/recv.log" $PEER recv "$WAN_IP" 9000 "$TOPO_DIR/seen" $N 20
sleep 0.5
in_lan $PEER send "$WAN_IP" 9000 20000 $N
wait_for 10 has_lines . "$TOPO_DIR/seen" $N || fail "the WAN host got $(lines . "$TOPO_DIR/seen") of $N"
wait_for 5 has_lines 'event=mapping-new' "$NAPTD_LOG" $N ||
	fail "$(lines event=mapping-new "$NAPTD_LOG") mapping-new lines for $N mappings"
# Each datagram the WAN host saw from EXT:P with text I: a line naming inside LAN:I, external
# EXT:P, exactly as docs/logging.md describes it.
while read -r src text; do
	grep -Eq "^naptd: event=mapping-new time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z proto=udp inside=$LAN_IP:$text external=$src remote=- origin=outbound$" "$NAPTD_LOG" ||
		fail "no mapping-new line for inside $LAN_IP:$text seen outside as $src"
done <"$TOPO_DIR/seen"
echo "ok: $N mappings, $N mapping-new lines naming the external endpoints the WAN host saw"

# --- lookup ---
read -r src text < <(sed -n 17p "$TOPO_DIR/seen")
out=$(ctl lookup "$src" udp) || fail "lookup $src udp failed"
echo "$out" | grep -Eq "^udp +$LAN_IP:$text +$src +- +outbound +1$" || fail "lookup $src udp: $out"
echo "$out" | grep -q '^1 mappings$' || fail "lookup $src: $out"
out=$(ctl lookup "${src%:*}:1" udp) || fail "lookup of an unused port failed"
echo "$out" | grep -q '^0 mappings$' || fail "lookup of an unused port: $out"
ctl -j lookup "$LAN_IP" >"$TOPO_DIR/lookup.json" || fail "lookup $LAN_IP failed"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["count"]==int(sys.argv[2]), d["count"]
assert all(m["inside_addr"]==sys.argv[3] for m in d["mappings"])' \
	"$TOPO_DIR/lookup.json" $N "$LAN_IP" || fail "lookup $LAN_IP -j: $(head -c 300 "$TOPO_DIR/lookup.json")"
ctl lookup 203.0.113.5:1 sctp >/dev/null 2>&1 && fail "lookup with protocol sctp accepted"
echo "ok: lookup $src udp names $LAN_IP:$text; lookup $LAN_IP lists its $N mappings"

# --- the ends ---
ctl flush sessions >/dev/null || fail "flush failed"
wait_for 5 has_lines 'event=mapping-end .* reason=removed$' "$NAPTD_LOG" $N ||
	fail "$(lines event=mapping-end "$NAPTD_LOG") mapping-end lines after the flush of $N"
for ev in mapping-new session-new session-end mapping-end; do
	wait_for 5 has_lines "^event=$ev " "$TOPO_DIR/mon.txt" $N ||
		fail "monitor: $(lines "^event=$ev " "$TOPO_DIR/mon.txt") $ev lines, not $N"
done
wait_for 5 has_lines '"event": "mapping-end"' "$TOPO_DIR/mon.json" $N || fail "monitor -j: no ends"
"$PY" -c 'import json,sys,collections
c=collections.Counter(json.loads(l)["event"] for l in open(sys.argv[1]).read().splitlines())
assert all(c[e]==int(sys.argv[2]) for e in ("mapping-new","session-new","session-end","mapping-end")), c' \
	"$TOPO_DIR/mon.json" $N || fail "monitor -j lines do not parse or count wrong"
echo "ok: flush logs $N mapping-end lines; monitor and monitor -j saw every event"

# --- 10000 new mappings with a reader that does not read ---
B=10000
in_lan $PEER send "$WAN_IP" 9001 30000 $B
# The kernel may drop some of the burst before naptd (queues): count what naptd created.
created=0
for ((i = 0; i < 50; i++)); do
	sleep 0.2
	now=$(stat_of sessions-created)
	[ "$now" = "$created" ] && break
	created=$now
done
burst=$((created - N))
# Under ASan (run.sh test) naptd is slower and the kernel drops more of the burst.
[ "$burst" -ge $((B / 10)) ] || fail "only $burst of the $B datagrams made a mapping"
wait_for 20 has_lines 'event=mapping-new' "$NAPTD_LOG" "$created" ||
	fail "$(lines event=mapping-new "$NAPTD_LOG") mapping-new lines for $created mappings"
[ "$(lines event=mapping-new "$NAPTD_LOG")" -eq "$created" ] ||
	fail "$(lines event=mapping-new "$NAPTD_LOG") mapping-new lines, $created mappings created"
wait_for 10 has_lines '^event=mapping-new ' "$TOPO_DIR/mon.txt" "$created" ||
	fail "the reading monitor got $(lines '^event=mapping-new ' "$TOPO_DIR/mon.txt") of $created"
touch "$TOPO_DIR/go"
wait_for 10 test -s "$TOPO_DIR/slow.out" || fail "the slow reader never finished"
read -r got lost <"$TOPO_DIR/slow.out"
[ "$lost" -gt 0 ] && [ "$((got + lost))" -eq "$((4 * N + 2 * burst))" ] ||
	fail "slow reader: $got events and $lost lost, not $((4 * N + 2 * burst)) in all"
# The other readers may have lost some too on a loaded machine: at least the slow one's.
[ "$(stat_of monitor-events-lost)" -ge "$lost" ] || fail "monitor-events-lost $(stat_of monitor-events-lost) < $lost"
[ "$(stat_of events-lost)" -eq 0 ] || fail "the event ring lost events"
echo "ok: a burst of $burst new mappings all logged and streamed; the slow reader lost $lost and was told"
echo "loop-longest-us $(stat_of loop-longest-us) with log-mappings and two monitors"
stop_naptd || fail "naptd did not exit cleanly"
