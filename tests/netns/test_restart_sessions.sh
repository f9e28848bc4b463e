#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_restart_sessions.sh - issue 14 item 5: a restart (SIGTERM, then a new naptd, as
# `systemctl restart` and a package upgrade do) does not cut the flows through the gateway.
# A TCP stream of counters and a UDP stream run from the LAN host to the WAN host across the
# restart; on the WAN side each keeps its one external endpoint, the TCP stream arrives
# whole and in order and ends cleanly, and the UDP datagrams after the restart come from the
# endpoint of those before. The longest time without data at each receiver (the restart's
# gap) is printed. `port-preservation no`: without the sessions file a new mapping would
# take a random port, so a lost mapping shows.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

topo_require
topo_up
NAPTD_KEEP_SESSIONS=yes # the sessions file is what these tests are about
peer=$(dirname "$0")/restart_peer.py
naptd_config "port-preservation no" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

bg "$NS_WAN" "$TOPO_DIR/tcp-sink.log" "$PY" "$peer" tcp-sink "$WAN_IP" 7001 30 "$TOPO_DIR/tcp.json"
bg "$NS_WAN" "$TOPO_DIR/udp-sink.log" "$PY" "$peer" udp-sink "$WAN_IP" 7002 30 "$TOPO_DIR/udp.json" \
	"$EXT_IP"
wait_for 5 in_wan ss -Hltn "sport = :7001" || fail "the TCP sink is not listening"
wait_for 5 in_wan ss -Hlun "sport = :7002" || fail "the UDP sink is not listening"
bg "$NS_LAN" "$TOPO_DIR/tcp-source.log" "$PY" "$peer" tcp-source "$WAN_IP" 7001 8
bg "$NS_LAN" "$TOPO_DIR/udp-source.log" "$PY" "$peer" udp-source "$WAN_IP" 7002 8
sleep 2

# The restart: the first naptd saves its sessions at SIGTERM and removes its routing; the
# second restores them before it sets the routing up again.
stop_naptd || fail "naptd exited with status $? after SIGTERM"
saved=$(grep -o '[0-9]* sessions saved in .*' "$NAPTD_LOG") || fail "no 'sessions saved' line"
echo "ok: first naptd: $saved"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start again"
grep -q 'sessions file: [1-9][0-9]* sessions restored' "$NAPTD_LOG" ||
	fail "no sessions restored"
echo "ok: second naptd: $(grep -o 'sessions file: .*' "$NAPTD_LOG")"
[ ! -e "$TOPO_DIR/naptd.state.sessions" ] || fail "the sessions file was not removed once read"
stats=$(in_rtr "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" show stats) || fail "naptctl show stats failed"
grep -Eq '^sessions-restore-restored +[1-9]' <<<"$stats" || fail "stats count no restored session"

# Both files appear when the sinks end: the TCP one when the source closes (8 s), the UDP
# one after 3 s of silence.
wait_for 25 test -s "$TOPO_DIR/tcp.json" -a -s "$TOPO_DIR/udp.json" || fail "the sinks did not finish"
tcp=$(cat "$TOPO_DIR/tcp.json") udp=$(cat "$TOPO_DIR/udp.json")
echo "tcp sink: $tcp"
echo "udp sink: $udp"
"$PY" - "$tcp" "$udp" "$EXT_IP" <<'PY' || fail "a flow did not carry on across the restart"
import json, sys
tcp, udp, ext = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok &= cond
check(tcp["peer"].startswith(ext + ":"), "TCP from the external address (%s)" % tcp["peer"])
check(tcp["in_order"] and tcp["clean_end"] and "error" not in tcp,
      "TCP stream whole, in order, ended cleanly (%d bytes)" % tcp["bytes"])
# The sources send for 8 s and the restart comes after 2: data for 6 s or more means it
# carried on (a lost session would stop it at about 2 s).
check(tcp["span_ms"] >= 6000, "TCP carried on after the restart (data for %d ms)" % tcp["span_ms"])
# While no naptd runs, the router forwards as it did before naptd (a clean stop restores
# its routing): the LAN host's own address may show among the sources then.
translated = [s for s in udp["sources"] if s.startswith(ext + ":")]
check(len(translated) == 1, "UDP from one external endpoint throughout: %s" % udp["sources"])
check(udp["span_ms"] >= 6000, "UDP carried on after the restart (data for %d ms)" % udp["span_ms"])
print("gap at the receivers: TCP %d ms, UDP %d ms" % (tcp["gap_ms"], udp["gap_ms"]))
sys.exit(0 if ok else 1)
PY
exit 0
