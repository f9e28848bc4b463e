#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_pcp_edge.sh - NAT-PMP/PCP requests at the edges (issue 11, items 2 to 4):
#  1. a NAT-PMP request forged on the WAN side, with an inside source and the router's LAN
#     address as destination (Linux delivers it to the LAN socket whatever interface it came
#     in on), opens nothing: the WAN guard rule drops it, and with that rule taken away the
#     server's own check (IP_PKTINFO) refuses and counts it; the LAN host's own request still
#     works.
#  2. internal port 0 with a lifetime is refused (RFC 6886 section 3.4) and never reaches the
#     state file; a state file with lines that cannot be loaded (port 0, an unknown keyword)
#     does not stop the start: the lines go to STATE.rejected, the rest loads, show stats
#     counts them.
#     A lease acknowledged just before a clean stop is in the state file (the writes are
#     batched, the stop flushes them).
#  3. while one LAN host sends 5,000 map/delete requests a second, a ping through naptd from
#     another host keeps its p99 round-trip time within 2x its p99 before the flood plus 2 ms,
#     with at least 20,000 sessions in the table, and the loop's longest iteration stays
#     under 10 ms. The machine is shared: up to 3 attempts (quiet, then flood) are made and one
#     must pass; a stall naptd causes shows in every attempt.
# PCP_EDGE_PARTS (default "forgery state flood") runs some parts only: "flood" alone measures
# an older build, which has neither the counters nor the checks of parts 1 and 2.
set -u
. "$(dirname "$0")/lib_hardening.sh"

topo_require natpmpc ping
topo_up_extra
lan2_up

naptd_config "# test_pcp_edge" "pcp-allow $INSIDE 1024-65535" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
wait_listen "$NS_RTR" udp "$RTR_LAN_IP:5351"

# natpmp NS INTERNAL EXTERNAL LIFETIME: a NAT-PMP TCP mapping request (RFC 6886 section 3.3)
# from NS; prints "RESULT EXTERNAL LIFETIME" of the answer, or "none" after 2 s.
natpmp() {
	ip netns exec "$1" "$PY" - "$RTR_LAN_IP" "$2" "$3" "$4" <<-'PY'
		import socket, struct, sys
		gw, inp, ext, life = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(2)
		s.sendto(struct.pack("!BBHHHI", 0, 2, 0, inp, ext, life), (gw, 5351))
		try:
		    r = s.recv(64)
		except socket.timeout:
		    print("none")
		    sys.exit(0)
		ver, op, res, epoch, rin, rext, rlife = struct.unpack("!BBHIHHI", r[:16])
		print(res, rext, rlife)
	PY
}

# forge COUNT: from the WAN host, NAT-PMP requests for 2222 -> LAN_IP:22 with LAN_IP as the
# source, sent to the router's LAN address over wan0 (a raw socket: the test's own packet).
forge() {
	in_wan "$PY" - "$LAN_IP" "$RTR_LAN_IP" "$1" <<-'PY'
		import socket, struct, sys
		src, dst, count = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2]), int(sys.argv[3])
		body = struct.pack("!BBHHHI", 0, 2, 0, 22, 2222, 3600)
		udp = struct.pack("!HHHH", 5350, 5351, 8 + len(body), 0) + body  # checksum 0: none
		ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
		s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
		for _ in range(count):
		    s.sendto(ip + udp, (sys.argv[2], 0))
	PY
}

# ---- 1. a request forged from the WAN side ----
part_forgery() {
	local before after out
	# The WAN neighbour routes the LAN address at the router (its own namespace's route).
	ip -n "$NS_WAN" route add "$RTR_LAN_IP/32" via "$RTR_WAN_IP"
	forge 3
	sleep 1
	ctl show forwards | grep -q "^tcp *2222 " &&
		fail "a request forged on the WAN side opened a forward past the WAN guard"
	echo "ok: 3 forged WAN-side requests opened nothing with the WAN guard in place"
	# The server's own check must hold without the routing guard (test_wan_guard.sh): take
	# the guard away, forge again, put it back.
	ip -n "$NS_RTR" rule show pref 0 | grep -q "from $INSIDE iif wan0 blackhole" ||
		fail "no WAN guard rule at priority 0: $(ip -n "$NS_RTR" rule show)"
	ip -n "$NS_RTR" rule del pref 0 from "$INSIDE" iif wan0 blackhole
	before=$(stat_value pcp-requests-not-lan)
	forge 3
	sleep 1
	ip -n "$NS_RTR" rule add pref 0 from "$INSIDE" iif wan0 blackhole
	ctl show forwards | grep -q "^tcp *2222 " &&
		fail "a request forged on the WAN side opened a forward: $(ctl show forwards)"
	after=$(stat_value pcp-requests-not-lan)
	[ -n "$after" ] && [ "$after" -ge $((${before:-0} + 3)) ] ||
		fail "pcp-requests-not-lan went from '$before' to '$after', not up by 3"
	echo "ok: 3 forged WAN-side requests opened nothing (pcp-requests-not-lan $before -> $after)"
	out=$(natpmp "$NS_LAN" 22 2222 3600)
	[ "$out" = "0 2222 3600" ] || fail "the LAN host's own request: '$out'"
	ctl show forwards | grep -q "^tcp *2222 *$LAN_IP:22 *pcp" ||
		fail "the LAN host's mapping is not shown"
	echo "ok: the LAN host's own request still maps 2222 -> $LAN_IP:22"
}

# ---- 2. internal port 0, a clean stop, state lines that cannot be loaded ----
part_state() {
	local out later
	out=$(natpmp "$NS_LAN" 0 5000 3600)
	[ "${out%% *}" = 2 ] || fail "internal port 0 with a lifetime: '$out', not refused (2)"
	echo "ok: internal port 0 with a lifetime is refused ($out)"
	out=$(natpmp "$NS_LAN" 23 2223 3600)
	[ "$out" = "0 2223 3600" ] || fail "mapping 2223: '$out'"
	stop_naptd || fail "naptd exited with status $?"
	grep -q "^forward tcp 2223 $LAN_IP:23 expires " "$TOPO_DIR/naptd.state" ||
		fail "a lease acknowledged before a clean stop is not in the state file"
	grep -q ":0 " "$TOPO_DIR/naptd.state" && fail "a forward to port 0 in the state file"
	echo "ok: a lease acknowledged just before a clean stop is in the state file"
	later=$(($(date +%s) + 3600))
	cat >>"$TOPO_DIR/naptd.state" <<-EOF
		forward tcp 6000 $LAN_IP:0 expires $later
		bogus line
	EOF
	start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd refused to start on bad state lines"
	[ "$(stat_value state-lines-rejected)" = 2 ] ||
		fail "state-lines-rejected: '$(stat_value state-lines-rejected)', not 2"
	grep -qx "forward tcp 6000 $LAN_IP:0 expires $later" "$TOPO_DIR/naptd.state.rejected" &&
		grep -qx "bogus line" "$TOPO_DIR/naptd.state.rejected" ||
		fail "the rejected lines are not kept aside: $(cat "$TOPO_DIR/naptd.state.rejected")"
	grep -q "naptd.state:[0-9]*: .*set aside" "$NAPTD_LOG" || fail "no log line names file:line"
	ctl show forwards | grep -q "^tcp *2223 *$LAN_IP:23 *pcp" ||
		fail "the good lease was not loaded"
	grep -q "bogus" "$TOPO_DIR/naptd.state" && fail "the state file still holds the bad line"
	echo "ok: bad state lines set aside in naptd.state.rejected, the rest loaded, naptd started"
}

# ---- 3. a flood of requests from one host, a ping from another ----
# ping_p99 NS DEST COUNT: the 99th percentile round-trip time in ms of COUNT pings 10 ms
# apart (bounded by a deadline), or "lost" when more than 5 % went unanswered.
ping_p99() {
	ip netns exec "$1" ping -n -c "$3" -i 0.01 -W 1 -w $(($3 / 50 + 5)) "$2" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
		awk -v n="$3" '{ t[NR] = $1 } END {
			if (NR < n * 0.95) { print "lost"; exit }
			i = int(NR * 0.99); if (i < 1) i = 1; print t[i] }'
}

# flood NS SECONDS RATE: NAT-PMP map and delete requests (internal ports 7000-7099 in turn)
# at RATE a second for SECONDS; prints how many were sent.
flood() {
	ip netns exec "$1" "$PY" - "$RTR_LAN_IP" "$2" "$3" <<-'PY'
		import socket, struct, sys, time
		gw, secs, rate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.setblocking(False)
		start, sent = time.monotonic(), 0
		while time.monotonic() - start < secs:
		    due = int((time.monotonic() - start) * rate)
		    while sent < due:
		        port = 7000 + sent // 2 % 100
		        life = 3600 if sent % 2 == 0 else 0
		        try:
		            s.sendto(struct.pack("!BBHHHI", 0, 2, 0, port, port, life), (gw, 5351))
		        except OSError:
		            pass
		        sent += 1
		    try:
		        while True:
		            s.recv(64)
		    except BlockingIOError:
		        pass
		    time.sleep(0.001)
		print(sent)
	PY
}

# flood_attempt: quiet p99, then p99 and the loop's longest iteration during a 6 s flood;
# prints the figures, returns 0 when they meet the bounds.
flood_attempt() {
	local quiet busy sent longest pid
	quiet=$(ping_p99 "$NS_LAN2" "$WAN_IP" 300)
	flood "$NS_LAN" 6 5000 >"$TOPO_DIR/flood.out" &
	pid=$!
	TOPO_PIDS+=("$pid")
	sleep 1
	busy=$(ping_p99 "$NS_LAN2" "$WAN_IP" 300)
	wait "$pid"
	sent=$(cat "$TOPO_DIR/flood.out")
	longest=$(stat_value loop-longest-5s-us) # the flood's last 5 s, not the burst before
	echo "flood: $sent requests in 6 s; ping p99 $quiet ms before, $busy ms during;" \
		"loop-longest-5s-us ${longest:-?}; pcp-requests-limited $(stat_value pcp-requests-limited);" \
		"pcp-state-writes $(stat_value pcp-state-writes)"
	[ "${sent:-0}" -ge 20000 ] || fail "the flood sent only '$sent' requests"
	[ "$quiet" != lost ] && [ "$busy" != lost ] &&
		awk -v q="$quiet" -v b="$busy" 'BEGIN { exit !(b <= 2 * q + 2) }' &&
		[ -n "$longest" ] && [ "$longest" -lt 10000 ]
}

part_flood() {
	local made sessions try
	# The same 40 000 flows again, up to three rounds, while the kernel (on a loaded machine)
	# dropped enough of a round's datagrams to leave the table under 20 000 sessions.
	for try in 1 2 3; do
		made=$(raw_send "$NS_LAN" udp-flows "$WAN_IP" 40000 "$LAN_IP" 20)
		sessions=$(stat_value sessions-current)
		[ "${sessions:-0}" -ge 20000 ] && break
	done
	[ "${sessions:-0}" -ge 20000 ] || fail "only '$sessions' sessions after 3 rounds of $made flows"
	echo "flood: $sessions sessions in the table"
	sleep 3 # the queues the burst filled drain before the quiet measure
	for try in 1 2 3; do
		flood_attempt && break
		[ "$try" = 3 ] && fail "3 attempts: the ping's p99 over 2x + 2 ms or the loop over 10 ms"
	done
	echo "ok: the flood leaves the ping's p99 within 2x + 2 ms and the loop under 10 ms"
}

for part in ${PCP_EDGE_PARTS:-forgery state flood}; do
	"part_$part"
done
stop_naptd || fail "naptd exited with status $?"
exit 0
