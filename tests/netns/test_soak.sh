#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_soak.sh - a bounded soak: SOAK_SECONDS (default 60, at most 300) of mixed traffic with
# session churn through naptd (issue 6, docs/security.md):
#  - short HTTP connections LAN -> WAN, one after the other (a new TCP session each);
#  - short HTTP connections WAN -> a forward of the external address -> a LAN server;
#  - UDP request/answer pairs from a new LAN socket (a new port, a new mapping) each time;
#  - pings from the second LAN host;
# with timeouts of 3 s, so sessions keep expiring while new ones are made.
# Every 5 s, and at the end, the counters must agree: sessions-created - sessions-expired -
# sessions-removed = sessions-current. Each kind of traffic must have got through. At the end
# naptd exits 0 on SIGTERM and its stderr holds no sanitizer report (AddressSanitizer,
# LeakSanitizer, UndefinedBehaviorSanitizer "runtime error"): run from a build configured
# with --enable-sanitizers (the second half of run.sh test) this is the leak and memory check.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require curl ping socat ss
SOAK_SECONDS=${SOAK_SECONDS:-60}
if [ "$SOAK_SECONDS" -lt 10 ] || [ "$SOAK_SECONDS" -gt 300 ]; then
	echo "FAIL: SOAK_SECONDS=$SOAK_SECONDS, not 10 to 300"
	exit 1
fi
topo_up_extra
lan2_up

FWD_PORT=8080
naptd_config "timeout udp 3" "timeout icmp 3" "timeout tcp-transitory 3" \
	"forward tcp $FWD_PORT $LAN_IP:8000" >"$TOPO_DIR/naptd.conf"
echo soak >"$TOPO_DIR/hello.txt"
http_serve "$NS_WAN" "$WAN_IP" 8000 "$TOPO_DIR" "$TOPO_DIR/http-wan.log"
http_serve "$NS_LAN" "$LAN_IP" 8000 "$TOPO_DIR" "$TOPO_DIR/http-lan.log"
bg "$NS_WAN" "$TOPO_DIR/udp.log" socat "UDP4-RECVFROM:7000,bind=$WAN_IP,fork" EXEC:cat
wait_listen "$NS_WAN" udp "$WAN_IP:7000"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
pin_ext_neighbour

sanitized=no
ldd "$NAPTD" | grep -Eq 'lib(asan|ubsan)' && sanitized=yes

# fetch_loop NS URL OUT: fetch URL until the soak ends; OUT gets the number of successes.
fetch_loop() {
	local n=0 end=$((SECONDS + SOAK_SECONDS))
	while ((SECONDS < end)); do
		[ "$(ip netns exec "$1" curl -s --max-time 3 "$2")" = soak ] && n=$((n + 1))
	done
	echo "$n" >"$3"
}

fetch_loop "$NS_LAN" "http://$WAN_IP:8000/hello.txt" "$TOPO_DIR/out.count" &
out_loop=$!
fetch_loop "$NS_WAN" "http://$EXT_IP:$FWD_PORT/hello.txt" "$TOPO_DIR/in.count" &
in_loop=$!
in_lan timeout $((SOAK_SECONDS + 10)) "$PY" -c '
import socket, sys, time
end, n = time.monotonic() + int(sys.argv[3]), 0
while time.monotonic() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.bind((sys.argv[1], 0))
    s.sendto(b"soak", (sys.argv[2], 7000))
    try:
        n += s.recv(10) == b"soak"
    except OSError:
        pass
    s.close()
    time.sleep(0.01)
print(n)' "$LAN_IP" "$WAN_IP" "$SOAK_SECONDS" >"$TOPO_DIR/udp.count" 2>&1 &
udp_loop=$!
in_lan2 ping -q -i 0.2 -W 2 -w "$SOAK_SECONDS" "$WAN_IP" >"$TOPO_DIR/ping.log" 2>&1 &
ping_loop=$!

# consistent WHEN: the table counters agree (one answer of show stats: one moment).
consistent() {
	ctl show stats >"$TOPO_DIR/stats" || fail "$1: show stats failed"
	awk -v when="$1" '
		{ v[$1] = $2 }
		END {
			c = v["sessions-created"]; e = v["sessions-expired"]
			r = v["sessions-removed"]; n = v["sessions-current"]
			if (c == "" || e == "" || r == "" || n == "") { print when ": counters missing"; exit 1 }
			if (c - e - r != n) {
				printf "%s: created %d - expired %d - removed %d != current %d\n", when, c, e, r, n
				exit 1
			}
		}' "$TOPO_DIR/stats" || fail "counters inconsistent"
}

end=$((SECONDS + SOAK_SECONDS))
while ((SECONDS < end)); do
	sleep 5
	kill -0 "$NAPTD_PID" || fail "naptd died during the soak"
	consistent "at $((SOAK_SECONDS - end + SECONDS)) s"
done
wait "$out_loop" "$in_loop" "$udp_loop"
wait "$ping_loop"
consistent "at the end"
created=$(stat_value sessions-created)
expired=$(stat_value sessions-expired)
out_n=$(cat "$TOPO_DIR/out.count")
in_n=$(cat "$TOPO_DIR/in.count")
udp_n=$(cat "$TOPO_DIR/udp.count")
ping_n=$(awk '/packets transmitted/ { print $4 }' "$TOPO_DIR/ping.log")
for kind in "out_n:outbound HTTP" "in_n:inbound HTTP through the forward" "udp_n:UDP" "ping_n:ping"; do
	var=${kind%%:*}
	[ "${!var:-0}" -gt 0 ] 2>/dev/null || fail "no ${kind#*:} got through during the soak"
done
[ "$expired" -gt 0 ] || fail "no session expired during the soak: no churn"

stop_naptd || fail "naptd exit status $? after SIGTERM"
reports=$(grep -E 'Sanitizer|runtime error:' "$NAPTD_LOG")
[ -z "$reports" ] || fail "sanitizer reports in naptd's stderr:
$(echo "$reports" | head -5)"
echo "ok: ${SOAK_SECONDS}-s soak: $out_n outbound and $in_n inbound HTTP fetches, $udp_n UDP" \
	"exchanges, $ping_n pings; sessions created $created, expired $expired; counters consistent" \
	"every 5 s; naptd exited 0 with no sanitizer report (sanitizer build: $sanitized)"
exit 0
