#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_metrics.sh - metrics-listen (issue 15 item 5; docs/logging.md):
#  - without metrics-listen naptd listens on no TCP port;
#  - with it, GET /metrics from the LAN returns the Prometheus text format, which
#    python3-prometheus-client's parser (an independent reader) takes, with the values of
#    the traffic sent: mappings, sessions and ports in use per protocol and external
#    address, translated packets equal to naptctl show stats';
#  - garbage, an oversized header and cut-off requests leave it serving;
#  - a request for the same address that arrives on another interface is refused, while a
#    plain listener on that address answers it (so the path itself is open).
set -u
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
PEER="$PY $(cd "$(dirname "$0")" && pwd)/mapping_peer.py"

topo_require curl socat
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	fail "python3-prometheus-client is missing (apt-get install python3-prometheus-client)"

ctl() { in_rtr "$NAPTCTL" -s "$SOCK" "$@"; }

topo_up
SOCK=$TOPO_DIR/naptd.sock
naptd_config >"$TOPO_DIR/plain.conf"
start_naptd "$TOPO_DIR/plain.conf" || fail "naptd did not start"
in_rtr ss -ltnp | grep -q '"naptd"' && fail "naptd listens on TCP without metrics-listen"
stop_naptd || fail "naptd did not exit cleanly"
echo "ok: without metrics-listen naptd listens on no TCP port"

# On the WAN address: the LAN reaches it only through the NAT, arriving on the TUN.
METRICS=$RTR_WAN_IP:9108
naptd_config "metrics-listen $METRICS" >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with metrics-listen"

N=50
in_lan $PEER send "$WAN_IP" 9000 20000 $N
sleep 0.5
in_wan curl -sS --max-time 5 -o "$TOPO_DIR/metrics.txt" -D "$TOPO_DIR/headers" \
	"http://$METRICS/metrics" || fail "GET /metrics from the WAN side failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$TOPO_DIR/headers" ||
	fail "content type: $(cat "$TOPO_DIR/headers")"
ctl -j show stats >"$TOPO_DIR/stats.json" || fail "show stats failed"
"$PY" - "$TOPO_DIR/metrics.txt" "$TOPO_DIR/stats.json" "$EXT_IP" $N <<'PYEOF' || fail "metrics wrong"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
stats = json.load(open(sys.argv[2]))
ext, n = sys.argv[3], int(sys.argv[4])
v = {}
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        v[(s.name, tuple(sorted(s.labels.items())))] = s.value
def get(name, **labels):
    return v[(name, tuple(sorted(labels.items())))]
checks = [
    (get("napt_mappings", proto="udp"), n),
    (get("napt_sessions", proto="udp"), n),
    (get("napt_sessions", proto="tcp"), 0),
    (get("napt_ports_in_use", external=ext, proto="udp"), n),
    (get("napt_ports_in_use", external=ext, proto="tcp"), 0),
    (get("napt_translated_packets_total", proto="udp", direction="out"),
     stats["translated-udp-out"]),
    (get("napt_dropped_packets_total", reason="no-mapping"), stats["dropped-no-mapping"]),
    (get("napt_host_limit_hits_total", limit="ports"), 0),
    (get("napt_leases"), 0),
    (get("napt_tun_write_errors_total"), stats["tun-write-errors"]),
]
bad = [(i, got, want) for i, (got, want) in enumerate(checks) if got != want]
assert not bad, bad
assert stats["translated-udp-out"] >= n
assert get("napt_loop_longest_iteration_seconds") > 0
print("ok: parsed", len(v), "samples")
PYEOF
in_wan curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$METRICS/other" | grep -q 404 ||
	fail "a path other than /metrics is not 404"
echo "ok: /metrics parsed by prometheus_client with the values of $N UDP flows"

# Garbage, a 100 KB header, a request cut off, 20 connections opened and dropped: naptd
# still answers.
in_wan "$PY" - "$RTR_WAN_IP" 9108 <<'PYEOF' || fail "could not send the bad requests"
import socket, sys
addr = (sys.argv[1], int(sys.argv[2]))
for payload in (bytes(range(256)) * 4, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 100000 + b"\r\n\r\n",
                b"GET /metr", b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n12"):
    s = socket.create_connection(addr, timeout=3)
    try:
        s.sendall(payload)
        s.settimeout(2)
        s.recv(100)
    except OSError:
        pass
    s.close()
idle = [socket.create_connection(addr, timeout=3) for _ in range(20)]
PYEOF
in_wan curl -sS --max-time 10 "http://$METRICS/metrics" | grep -q '^napt_uptime_seconds ' ||
	fail "no answer after bad requests"
kill -0 "$NAPTD_PID" || fail "naptd died of bad requests"
echo "ok: garbage, an oversized header, cut-off and dropped connections; /metrics still answers"

# Slowloris: eight connections from one WAN address, each sending a header byte every 2 s
# (under the 5-s idle timeout), for 14 s. A scraper on another address still gets its page:
# one address holds at most two of the eight connections.
ip -n "$NS_WAN" addr add 198.51.100.3/24 dev eth0
cat >"$TOPO_DIR/slowloris.py" <<'PYEOF'
import socket, sys, time
addr = (sys.argv[1], int(sys.argv[2]))
socks = []
for _ in range(8):
    try:
        s = socket.create_connection(addr, timeout=3)
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        socks.append(s)
    except OSError:
        pass
print("open", len(socks), flush=True)
end = time.time() + 14
while time.time() < end:
    time.sleep(2)
    for s in socks:
        try:
            s.sendall(b"X")
        except OSError:
            pass
PYEOF
bg "$NS_WAN" "$TOPO_DIR/slowloris.log" timeout 20 "$PY" "$TOPO_DIR/slowloris.py" "$RTR_WAN_IP" 9108
wait_for 10 grep -q "^open" "$TOPO_DIR/slowloris.log" || fail "the slowloris client did not start"
sleep 3
in_wan curl -sS --max-time 5 --interface 198.51.100.3 "http://$METRICS/metrics" |
	grep -q '^napt_uptime_seconds ' || fail "a slowloris from $WAN_IP kept a scraper on 198.51.100.3 out"
echo "ok: eight slow connections from one address; a scraper on another is answered"

# The LAN host's request for the same address goes through the NAT and arrives on napt0.
bg "$NS_RTR" "$TOPO_DIR/plain.log" socat TCP4-LISTEN:9109,bind="$RTR_WAN_IP",reuseaddr,fork \
	SYSTEM:'echo plain'
sleep 0.3
[ "$(in_lan socat -T 3 - TCP4:"$RTR_WAN_IP":9109,connect-timeout=3 </dev/null 2>/dev/null)" = plain ] ||
	fail "the LAN cannot reach a plain listener on $RTR_WAN_IP: the refusal below would prove nothing"
in_lan curl -s --max-time 3 "http://$METRICS/metrics" >/dev/null &&
	fail "a request arriving on napt0, not wan0, was answered"
echo "ok: a request for $METRICS arriving on another interface is refused"
stop_naptd || fail "naptd did not exit cleanly"
