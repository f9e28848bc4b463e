#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_export_stall.sh - naptd's event exports never stall its loop (docs/logging.md):
#  1. IPFIX: the path to the collector stalls (a tbf qdisc at 8 kbit/s with a deep queue on
#     the router's wan0, so the export socket's send buffer fills and stays full) while 16
#     rounds of 8000 flows are created and flushed (up to 256 000 session records: more
#     than the 8 MiB send buffer libfixbuf's own socket asks for holds, about 140 000):
#     naptd keeps answering naptctl within 3 s, its longest loop iteration stays under 1 s,
#     and the records the socket could not take are counted (ipfix-records-dropped > 0).
#  2. log-mappings with naptd -f, stderr a FIFO that nobody reads: up to 3000 mappings (more
#     than 1000 needed: about 150 KiB of lines, the pipe holds 64 KiB): naptd keeps
#     answering, its longest iteration stays under 1 s; once the FIFO is read, every
#     mapping's line arrives, once.
# EXPORT_STALL_PARTS="ipfix stderr" (the default) chooses the parts to run. A blocking
#     write to stderr stopped the loop for as long as nobody read.
set -u
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
PEER="$PY $(cd "$(dirname "$0")" && pwd)/mapping_peer.py"

topo_require tc socat

ctl() { in_rtr timeout 3 "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" "$@"; }
stat_value() { ctl show stats | awk -v n="$1" '$1 == n { print $2 }'; }
# answers WHAT: naptd answers show stats, and its longest iteration is under 1 s.
answers() {
	local longest
	longest=$(stat_value loop-longest-us)
	[ -n "$longest" ] || fail "$1: naptd did not answer show stats in 3 s"
	[ "$longest" -lt 1000000 ] || fail "$1: longest loop iteration $longest us"
	echo "ok: $1: naptd answers, longest loop iteration $longest us"
}

topo_up
PARTS=" ${EXPORT_STALL_PARTS:-ipfix stderr} "

# ---- 1. IPFIX to a stalled path ----
ipfix_part() {
	local round dropped
	bg "$NS_WAN" "$TOPO_DIR/collector.log" socat -u UDP4-RECV:4739,bind="$WAN_IP" OPEN:/dev/null
	in_rtr tc qdisc add dev wan0 root tbf rate 8kbit burst 1600 limit 50000000 ||
		fail "tc qdisc add failed"
	naptd_config "ipfix-collector $WAN_IP:4739" "port-rest 0" >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
	for round in $(seq 16); do
		in_lan $PEER send "$WAN_IP" 9000 20000 8000
		ctl flush sessions >/dev/null || fail "round $round: naptd did not answer flush in 3 s"
	done
	sleep 2 # two one-second ticks: the records are sent, or dropped
	answers "IPFIX with the collector's path stalled"
	dropped=$(stat_value ipfix-records-dropped)
	[ "${dropped:-0}" -gt 0 ] ||
		fail "no IPFIX record counted as dropped: $(ctl show stats | grep ipfix)"
	echo "ok: IPFIX records the socket could not take were dropped and counted: $dropped" \
		"(sent $(stat_value ipfix-records))"
	stop_naptd || fail "naptd did not exit cleanly"
	in_rtr tc qdisc del dev wan0 root
}

# read_fifo FIFO OUT: what FIFO holds and what comes within 2 s of quiet (20 s at most).
read_fifo() {
	"$PY" - "$1" "$2" <<'PYEOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
data, quiet = b"", 0
end = time.monotonic() + 20
while time.monotonic() < end and quiet < 20:
    try:
        chunk = os.read(fd, 1 << 16)
    except BlockingIOError:
        chunk = b""
    data += chunk
    quiet = 0 if chunk else quiet + 1
    time.sleep(0.1)
open(sys.argv[2], "wb").write(data)
PYEOF
}

# ---- 2. the mapping log to a stderr nobody reads ----
stderr_part() {
	local fifo=$TOPO_DIR/stderr.fifo hold made got uniq
	mkfifo "$fifo"
	exec {hold}<>"$fifo" # the FIFO stays open for reading, and nobody reads it
	naptd_config "log-mappings yes" >"$TOPO_DIR/naptd.conf"
	ip netns exec "$NS_RTR" env -u JOURNAL_STREAM "$NAPTD" -f -c "$TOPO_DIR/naptd.conf" \
		>"$TOPO_DIR/out.log" 2>"$fifo" &
	NAPTD_PID=$!
	wait_for 10 ctl show stats || fail "naptd did not start with stderr a FIFO"
	in_lan $PEER send "$WAN_IP" 9000 30000 3000
	sleep 1
	answers "the mapping log with stderr a FIFO nobody reads"
	made=$(stat_value mappings-current)
	[ "${made:-0}" -gt 1000 ] || fail "only ${made:-0} mappings: too few lines to fill the pipe"
	# Now read it: every mapping's line arrives, once (the backlog goes as the pipe empties).
	read_fifo "$fifo" "$TOPO_DIR/lines"
	got=$(grep -c "event=mapping-new .* inside=$LAN_IP:" "$TOPO_DIR/lines" || true)
	uniq=$(grep -o "event=mapping-new .* inside=$LAN_IP:[0-9]*" "$TOPO_DIR/lines" | sort -u | wc -l)
	[ "$got" -eq "$made" ] && [ "$uniq" -eq "$made" ] ||
		fail "mapping lines read: $got ($uniq different) of $made; lost $(stat_value events-lost)"
	echo "ok: once the FIFO is read, the lines of all $made mappings arrive, each once"
	stop_naptd || fail "naptd did not exit cleanly"
	exec {hold}>&-
}

[[ $PARTS != *" ipfix "* ]] || ipfix_part
[[ $PARTS != *" stderr "* ]] || stderr_part
