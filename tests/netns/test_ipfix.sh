#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_ipfix.sh - ipfix-collector (RFC 8158 NAT events over IPFIX; docs/logging.md), read
# back by tshark's IPFIX dissector, an independent decoder:
#  - a NAT44 session create (natEvent 4) for each of 3 UDP flows, with the inside source,
#    the external source the WAN host really saw, the remote and the protocol;
#  - a session delete (natEvent 5) for each after a flush;
#  - a quota exceeded event (natEvent 13, natQuotaExceededEvent 3, maxEntriesPerUser 3)
#    naming the host, when it opens more flows than max-sessions-per-host allows; with
#    max-sessions-per-host 10 and ports-per-host 2, the third flow's event names the limit
#    hit: maxEntriesPerUser 2, not 10;
#  - restarted with port-range 40000-40001, a ports exhausted event (natEvent 12) when a
#    third flow finds no port; with max-sessions 2, a quota exceeded event
#    (natQuotaExceededEvent 1, maxSessionEntries 2) when a third flow finds no room;
#  - with port-block-size 4 over port-range 41000-41015, five flows of one host take two
#    blocks: two port block allocations (natEvent 16) naming the host, the external address
#    and a range of 4 consecutive ports starting on a block boundary, each range holding the
#    ports the WAN host saw; a flush gives both back (natEvent 17, the same ranges);
#  - under mode dynamic with one pool address, a second inside host finds the pool empty:
#    NAT addresses exhausted (natEvent 3, natPoolId 1).
set -u
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
PEER="$PY $(cd "$(dirname "$0")" && pwd)/mapping_peer.py"

topo_require tshark socat

ctl() { in_rtr "$NAPTCTL" -s "$SOCK" "$@"; }
count() { grep -c . "$1" 2>/dev/null || true; }
has_lines() { [ "$(count "$1")" -ge "$2" ]; }

topo_up
SOCK=$TOPO_DIR/naptd.sock
# Ports not preserved: the inside and external ports differ, so a field mixed up shows.
naptd_config "ipfix-collector $WAN_IP:4739" "max-sessions-per-host 3" "port-preservation no" \
	>"$TOPO_DIR/naptd.conf"
bg "$NS_WAN" "$TOPO_DIR/tshark.log" tshark -i eth0 -f "udp port 4739" -w "$TOPO_DIR/ipfix.pcap"
wait_for 10 grep -q "Capturing on" "$TOPO_DIR/tshark.log" || fail "tshark did not start"
TSHARK_PID=${TOPO_PIDS[-1]}
# A collector that takes the datagrams (no port unreachable back to naptd).
bg "$NS_WAN" "$TOPO_DIR/collector.log" socat -u UDP4-RECV:4739,bind="$WAN_IP" OPEN:/dev/null
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

bg "$NS_WAN" "$TOPO_DIR/recv.log" $PEER recv "$WAN_IP" 9000 "$TOPO_DIR/seen" 3 10
sleep 0.5
in_lan $PEER send "$WAN_IP" 9000 20000 3
wait_for 5 has_lines "$TOPO_DIR/seen" 3 || fail "the WAN host got $(count "$TOPO_DIR/seen") of 3"
in_lan $PEER send "$WAN_IP" 9000 20100 2 # over the limit of 3 sessions
ctl flush sessions >/dev/null || fail "flush failed"
sleep 2.5 # two of naptd's one-second ticks: everything is sent
stop_naptd || fail "naptd did not exit cleanly"

# limit_case FIRST-PORT CONFIG-LINE...: 3 flows through a naptd with the CONFIG-LINEs.
limit_case() {
	local first=$1
	shift
	naptd_config "ipfix-collector $WAN_IP:4739" "$@" >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with $*"
	in_lan $PEER send "$WAN_IP" 9000 "$first" 3
	sleep 2.5
	stop_naptd || fail "naptd did not exit cleanly"
}
limit_case 21000 "port-range 40000-40001"
limit_case 22000 "max-sessions 2"
limit_case 22100 "max-sessions-per-host 10" "ports-per-host 2"

naptd_config "ipfix-collector $WAN_IP:4739" "port-range 41000-41015" "port-block-size 4" \
	"port-preservation no" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with port-block-size"
bg "$NS_WAN" "$TOPO_DIR/recv-blocks.log" $PEER recv "$WAN_IP" 9001 "$TOPO_DIR/seen-blocks" 5 10
sleep 0.5
in_lan $PEER send "$WAN_IP" 9001 23000 5
wait_for 5 has_lines "$TOPO_DIR/seen-blocks" 5 || fail "the WAN host got $(count "$TOPO_DIR/seen-blocks") of 5"
ctl flush sessions >/dev/null || fail "flush failed"
sleep 2.5
stop_naptd || fail "naptd did not exit cleanly"

SECOND=192.168.77.9 # a second inside host, on the LAN namespace's own interface
in_lan ip addr add "$SECOND/24" dev eth0
naptd_config "ipfix-collector $WAN_IP:4739" "mode dynamic" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with mode dynamic"
in_lan $PEER send "$WAN_IP" 9000 24000 1 # LAN_IP takes the one address
in_lan "$PY" -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$SECOND', 24001)); s.sendto(b'x', ('$WAN_IP', 9000))"
sleep 2.5
[ "$(ctl show stats | awk '$1 == "dropped-pool-exhausted" { print $2 }')" -ge 1 ] ||
	fail "the second host was not refused: $(ctl show stats | grep pool)"
stop_naptd || fail "naptd did not exit cleanly"
kill -INT "$TSHARK_PID"
wait_for 5 sh -c "! kill -0 $TSHARK_PID" || fail "tshark did not stop"

# Each IPFIX data record as one line of name=value fields, as tshark decodes them.
tshark -r "$TOPO_DIR/ipfix.pcap" -d udp.port==4739,cflow -T json 2>/dev/null >"$TOPO_DIR/ipfix.json" ||
	fail "tshark could not read the capture"
"$PY" - "$TOPO_DIR/ipfix.json" "$TOPO_DIR/seen" "$LAN_IP" "$WAN_IP" "$TOPO_DIR/seen-blocks" "$EXT_IP" <<'PYEOF' || fail "IPFIX records wrong"
import json, sys
packets = json.load(open(sys.argv[1]))
lan, wan = sys.argv[3], sys.argv[4]
records = []
def walk(node):
    if isinstance(node, dict):
        if "cflow.nat_event" in node:
            records.append(node)
        for v in node.values():
            walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)
for p in packets:
    walk(p["_source"]["layers"].get("cflow", {}))
def f(r, k, default=None):
    return r.get("cflow." + k, default)
first = [r for r in records if f(r, "srcport", "0") < "20100"]
creates = {(f(r, "srcport"), f(r, "post_natsource_ipv4_address"), f(r, "post_naptsource_transport_port"))
           for r in first if f(r, "nat_event") == "4" and f(r, "srcaddr") == lan
           and f(r, "dstaddr") == wan and f(r, "dstport") == "9000" and f(r, "protocol") == "17"}
deletes = {(f(r, "srcport"), f(r, "post_natsource_ipv4_address"), f(r, "post_naptsource_transport_port"))
           for r in first if f(r, "nat_event") == "5"}
seen = set()
for line in open(sys.argv[2]):
    src, text = line.split()
    addr, port = src.split(":")
    seen.add((text, addr, port))
assert creates == seen, ("creates", creates, seen)
assert deletes == seen, ("deletes", deletes, seen)
quota = [(f(r, "nat_quota_exceeded_event"), f(r, "max_entries_per_user"),
          f(r, "max_session_entries"), f(r, "srcaddr")) for r in records if f(r, "nat_event") == "13"]
assert sorted(quota) == [("1", "0", "2", "0.0.0.0"), ("3", "2", "0", lan), ("3", "3", "0", lan)], quota
ports = [r for r in records if f(r, "nat_event") == "12"]
assert len(ports) == 1, ports
# Port blocks: each range 4 consecutive ports on a block boundary of 41000-41015.
def ranges(event):
    out = []
    for r in records:
        if f(r, "nat_event") != event:
            continue
        assert f(r, "srcaddr") == lan and f(r, "post_natsource_ipv4_address") == sys.argv[6], r
        start, end = int(f(r, "port_range_start")), int(f(r, "port_range_end"))
        assert (start - 41000) % 4 == 0 and 41000 <= start and end == start + 3, r
        assert f(r, "port_range_step_size") == "1" and f(r, "port_range_num_ports") == "4", r
        out.append((start, end))
    return sorted(out)
allocated, released = ranges("16"), ranges("17")
assert len(allocated) == 2 and allocated == released, (allocated, released)
for line in open(sys.argv[5]):
    src, text = line.split()
    addr, port = src.split(":")
    assert addr == sys.argv[6] and any(a <= int(port) <= b for a, b in allocated), (line, allocated)
pool = [(f(r, "nat_pool_id")) for r in records if f(r, "nat_event") == "3"]
assert pool == ["1"], pool
print("ok:", len(records), "records")
PYEOF
echo "ok: tshark decodes a session create and delete for each flow the WAN host saw, the quota and ports exhausted events, port block allocation and de-allocation, addresses exhausted"
