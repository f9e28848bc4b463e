#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_listing_big_mapping.sh - `show mappings` when one mapping holds most of the table: a
# WAN host sends 200 000 SYNs to a forwarded port from as many source ports (an inbound
# session each, all on the forward's one mapping; no per-host limit applies to a forward's
# inside host). The listing's row for that mapping counts its sessions; a piece is meant to
# stop after CONTROL_SESSION_STEPS_PER_PIECE of them, so the longest turn of naptd's loop
# the listing causes (naptd's own log line, CPU time) must stay under 10 ms, as for
# test_cli.sh's listing of 250 000 sessions.
set -u
. "$(dirname "$0")/lib_hardening.sh"

topo_require
topo_up
N=200000
naptd_config "max-sessions 262144" "forward tcp 8080 $LAN_IP:80" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
pin_ext_neighbour

# SYNs from WAN_IP, source ports 1024.. stepping, to EXT_IP:8080 (a raw socket, bounded in
# count and in time).
syns() {
	ip netns exec "$NS_WAN" "$PY" - "$WAN_IP" "$EXT_IP" "$N" <<-'PY'
		import socket, struct, sys, time
		src, dst, count = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2]), int(sys.argv[3])
		s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
		end = time.monotonic() + 30
		for i in range(count):
		    if i % 1000 == 0 and time.monotonic() > end:
		        break
		    sport = 1024 + i % 64000
		    seq = i // 64000  # a flow sent again (round 2) is the same session
		    tcp = struct.pack("!HHIIBBHHH", sport, 8080, seq, 0, 0x50, 0x02, 65535, 0, 0)
		    pkt = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst) + tcp
		    try:
		        s.sendto(pkt, (sys.argv[2], 0))
		    except OSError:
		        time.sleep(0.001)
	PY
}
# Source ports alone give 64 000 sessions; more come from three more source addresses, each
# flow sent twice (the TUN queue drops part of a burst on a loaded machine).
ip -n "$NS_WAN" addr add 198.51.100.3/24 dev eth0
ip -n "$NS_WAN" addr add 198.51.100.4/24 dev eth0
ip -n "$NS_WAN" addr add 198.51.100.5/24 dev eth0
for src in "$WAN_IP" 198.51.100.3 198.51.100.4 198.51.100.5; do
	for _ in 1 2; do
		WAN_IP=$src N=64000 syns
	done
done
sessions=$(stat_value sessions-current)
[ "$sessions" -ge 150000 ] || fail "only $sessions sessions from the SYNs"
echo "ok: $sessions sessions on the forward's mapping"
ctl show mappings >"$TOPO_DIR/mappings.txt" || fail "show mappings failed"
row=$(awk '$3 ~ /:8080$/ { print $5 }' "$TOPO_DIR/mappings.txt")
echo "measured: the forward's row counts $row sessions"
line=$(grep "control: show mappings: .* longest turn" "$NAPTD_LOG" | tail -1)
turn=$(sed -n 's/.*longest turn \([0-9]*\) us of CPU$/\1/p' <<<"$line")
[ -n "$turn" ] || fail "naptd logged no cost of the listing: $(tail -3 "$NAPTD_LOG")"
echo "measured: $line"
[ "$turn" -lt 10000 ] || fail "a turn of naptd's loop spent $turn us listing one mapping's $row sessions"
echo "ok: the longest turn $turn us"
stop_naptd || fail "naptd exit status $? after SIGTERM"
exit 0
