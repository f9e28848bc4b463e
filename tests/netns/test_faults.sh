#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_faults.sh - crashes and overload (issue 6, docs/security.md):
#  1. ten rounds of: a burst of `naptctl forward add/del` on 30 ports, naptd killed with
#     SIGKILL at a random moment of it, naptd started again. Every time the state file parses
#     (naptd starts), every forward whose add answered ok and was not deleted since is there,
#     and none whose del answered ok is; only a request cut off by the kill may go either way;
#  2. a UDP flood of small packets that is more than naptd can write to the TUN (iperf3 -u
#     -b 0 -l 64, 4 s): naptd lives, `show stats` has tun-write-errors, and a ping goes
#     through right after.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_hardening.sh
. "$(dirname "$0")/lib_hardening.sh"

topo_require iperf3 ping
topo_up_extra

ROUNDS=10
PORT_LO=10000
PORTS=30
MAX_OPS=300 # per burst: bounds a burst whose naptd was not killed

# shellcheck disable=SC2119 # the config needs no extra lines
naptd_config >"$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"

# burst JOURNAL: random forward add/del until naptctl cannot connect (exit 2); one line per
# request: "add|del PORT EXIT".
burst() {
	local i port op rc
	for ((i = 0; i < MAX_OPS; i++)); do
		port=$((PORT_LO + RANDOM % PORTS))
		if ((RANDOM % 2)); then
			op=add
			ctl forward add tcp "$port" "$LAN_IP:$port" >/dev/null 2>&1
		else
			op=del
			ctl forward del tcp "$port" >/dev/null 2>&1
		fi
		rc=$?
		echo "$op $port $rc" >>"$1"
		[ $rc = 2 ] && break
	done
}

# The model: state[PORT] is present, absent or unknown (a request the kill cut off).
declare -A state
for ((p = PORT_LO; p < PORT_LO + PORTS; p++)); do
	state[$p]=absent
done

# learn JOURNAL: exit 0 makes the request's effect certain; exit 1 is an error answer or an
# answer lost in the kill, so the port may be either way; exit 2 never reached naptd.
learn() {
	local op port rc
	while read -r op port rc; do
		case $rc in
		0) [ "$op" = add ] && state[$port]=present || state[$port]=absent ;;
		1) [ "$op" = add ] && [ "${state[$port]}" = present ] && continue
		   [ "$op" = del ] && [ "${state[$port]}" = absent ] && continue
		   state[$port]=unknown ;;
		esac
	done <"$1"
}

# check_forwards ROUND: the run-time forwards of the restarted naptd against the model.
check_forwards() {
	local have p
	have=" $(ctl show forwards | awk '$4 == "runtime" { print $2 }' | tr '\n' ' ') "
	for ((p = PORT_LO; p < PORT_LO + PORTS; p++)); do
		case ${state[$p]}:$have in
		present:*" $p "*) ;;
		present:*) fail "round $1: forward tcp $p answered ok, was not deleted, is gone" ;;
		absent:*" $p "*) fail "round $1: forward tcp $p is back, though its del answered ok" ;;
		unknown:*" $p "*) state[$p]=present ;;
		*) state[$p]=absent ;;
		esac
	done
}

total_ok=0
for ((round = 1; round <= ROUNDS; round++)); do
	journal=$TOPO_DIR/journal.$round
	: >"$journal"
	burst "$journal" &
	burst_pid=$!
	sleep "0.$((RANDOM % 8 + 2))" # 0.2 to 0.9 s: some requests answered, then the kill
	kill -KILL "$NAPTD_PID"
	wait "$NAPTD_PID" 2>/dev/null
	NAPTD_PID=
	wait "$burst_pid"
	learn "$journal"
	total_ok=$((total_ok + $(awk '$3 == 0' "$journal" | wc -l)))
	start_naptd "$TOPO_DIR/naptd.conf" ||
		fail "round $round: naptd did not start after kill -9; state file: $(cat "$TOPO_DIR/naptd.state")"
	check_forwards "$round"
done
[ "$total_ok" -ge $((ROUNDS * 2)) ] || fail "only $total_ok requests answered ok in $ROUNDS bursts"
echo "ok: $ROUNDS kills during forward add/del bursts ($total_ok requests answered ok):" \
	"naptd restarted each time with exactly the answered forwards ($(ctl show forwards | grep -c runtime) now)"

# --- 2. more UDP than the TUN takes ---------------------------------------------------------
errors_before=$(stat_value tun-write-errors)
[ -n "$errors_before" ] || fail "show stats has no tun-write-errors"
bg "$NS_WAN" "$TOPO_DIR/iperf-server.log" iperf3 -s -1 -B "$WAN_IP"
wait_listen "$NS_WAN" tcp "$WAN_IP:5201"
in_lan timeout 20 iperf3 -u -b 0 -l 64 -t 4 -c "$WAN_IP" --connect-timeout 3000 \
	>"$TOPO_DIR/iperf.log" 2>&1 || fail "iperf3 failed: $(tail -3 "$TOPO_DIR/iperf.log")"
kill -0 "$NAPTD_PID" || fail "naptd died under the UDP flood"
in_lan ping -c 3 -i 0.2 -W 2 "$WAN_IP" >"$TOPO_DIR/ping.log" 2>&1 ||
	fail "ping after the flood failed: $(tail -2 "$TOPO_DIR/ping.log")"
sent=$(grep -E "sender$" "$TOPO_DIR/iperf.log" | tail -1 | awk '{ split($(NF-2), a, "/"); print a[2] }')
echo "ok: after a 4-s UDP flood of ${sent:-?} 64-byte datagrams," \
	"naptd lives and pings pass; tun-write-errors $errors_before -> $(stat_value tun-write-errors)"
exit 0
