#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_ecmp_nodes.sh - several naptd nodes, one pool, steered by bird2 (docs/scale-out.md,
# "Several nodes"). Each node owns a slice of the inside hosts and the matching slice of the
# deterministic pool; it announces over BGP its pool slice to the WAN router and a default
# route marked "primary for slice i" to the LAN router, whose bird feeds one kernel table per
# slice (ip rule from SLICE lookup TABLE). The next node is the backup of each slice (pool
# slice with a longer AS path, default marked "backup"), and every node announces the whole
# pool and the default. Every announced route is a static route via napt0, so it goes with
# naptd's TUN device. 200 TCP and UDP flows and a long upload run from six inside hosts;
# node 1's naptd is killed with SIGKILL, then started again; then node 2 hangs (naptd and
# bird stopped: the routers drop it after the 3 s hold time) and resumes. Pass: >= 95 % of
# the flows carry on with the formula's external endpoint throughout, the upload completes,
# the slices' routes move to the backup and come back, the nodes picked the flows up, and a
# download to a host whose socket has a 1 s TCP keepalive resumes after each move of its
# slice. A download without keepalive is reported, not judged: it stalls for good
# (docs/scale-out.md, Limits, "Inbound before outbound").
#
#   hosts (10.77.0.x, several addresses) -- lanr -- n1..nN -- wanr (server 198.51.100.10)
#
# ECMP_NODES=3 runs three nodes (default 2).
. "$(dirname "$0")/lib.sh"
topo_require bird birdc ping timeout

NODES=${ECMP_NODES:-2}
SECONDS_RUN=120 # the longest the traffic may run: it stops 5 s after the last event (~30 s)
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=$HERE/ecmp_peer.py
SERVER=198.51.100.10
POOL=203.0.113.16/28
LAN_AS=65010 WAN_AS=65020 NODE_AS=65001

# Slices: inside prefix and the pool prefix the formula gives it (16 inside hosts per
# external address: inside 10.77.0.0/24 on 203.0.113.16/28), and three hosts in each.
if [ "$NODES" = 3 ]; then
	SLICE_IN=(10.77.0.0/25 10.77.0.128/26 10.77.0.192/26)
	SLICE_EXT=(203.0.113.16/29 203.0.113.24/30 203.0.113.28/30)
	SLICE_HOSTS=("10.77.0.10 10.77.0.11 10.77.0.12" "10.77.0.140 10.77.0.141 10.77.0.142"
		"10.77.0.200 10.77.0.201 10.77.0.202")
else
	NODES=2
	SLICE_IN=(10.77.0.0/25 10.77.0.128/25)
	SLICE_EXT=(203.0.113.16/29 203.0.113.24/29)
	SLICE_HOSTS=("10.77.0.10 10.77.0.11 10.77.0.12" "10.77.0.140 10.77.0.141 10.77.0.142")
fi

id=$$$RANDOM
NS_H=napt-eh-$id NS_L=napt-el-$id NS_W=napt-ew-$id
NS_N=()
for ((i = 1; i <= NODES; i++)); do NS_N[i]=napt-e$i-$id; done
TOPO_DIR=$(mktemp -d /tmp/napt-ecmp.XXXXXX)
NODE_PID=() NODE_BIRD=()

ecmp_down() {
	local pid ns
	for pid in "${NODE_PID[@]}" "${TOPO_PIDS[@]}"; do
		[ -z "$pid" ] || kill_wait "$pid" 2 >/dev/null 2>&1 || true
	done
	for ns in "$NS_H" "$NS_L" "$NS_W" "${NS_N[@]}"; do
		ns_del "$ns"
	done
	rm -rf "$TOPO_DIR"
}
trap ecmp_down EXIT

# Node i: lan0 10.255.i.2/30 (lanr: n$i 10.255.i.1), wan0 192.0.2.4(i-1)+2/30 (wanr: +1).
lan_r() { echo "10.255.$1.1"; }
lan_n() { echo "10.255.$1.2"; }
wan_r() { echo "192.0.2.$((4 * ($1 - 1) + 1))"; }
wan_n() { echo "192.0.2.$((4 * ($1 - 1) + 2))"; }
pred() { echo $((($1 + NODES - 2) % NODES + 1)); } # the node this one backs up
succ() { echo $(($1 % NODES + 1)); }               # the node that backs this one up

link() { # link NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B (a /30 or /24 given with the address)
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
	no_offload "$1" "$2"
	no_offload "$4" "$5"
}

topology() {
	local i j h
	for ns in "$NS_H" "$NS_L" "$NS_W" "${NS_N[@]}"; do ns_new "$ns"; done
	link "$NS_L" h0 10.77.0.1/24 "$NS_H" eth0 10.77.0.2/24
	for ((j = 0; j < NODES; j++)); do
		for h in ${SLICE_HOSTS[j]}; do ip -n "$NS_H" addr add "$h/24" dev eth0; done
	done
	ip -n "$NS_H" route add default via 10.77.0.1
	ip -n "$NS_W" addr add "$SERVER/32" dev lo
	for ((i = 1; i <= NODES; i++)); do
		link "$NS_L" "n$i" "$(lan_r $i)/30" "${NS_N[i]}" lan0 "$(lan_n $i)/30"
		link "$NS_W" "n$i" "$(wan_r $i)/30" "${NS_N[i]}" wan0 "$(wan_n $i)/30"
		ip -n "${NS_N[i]}" route add 10.77.0.0/24 via "$(lan_r $i)"
		ip -n "${NS_N[i]}" route add default via "$(wan_r $i)"
		# Slice i's hosts look up table 100+i, which lanr's bird fills.
		ip -n "$NS_L" rule add from "${SLICE_IN[i - 1]}" lookup $((100 + i)) pref $((1000 + i))
	done
	# Inside to inside (and to the link nets) stays in the main table.
	ip -n "$NS_L" rule add to 10.0.0.0/8 lookup main pref 900
	ip netns exec "$NS_L" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$NS_W" sysctl -qw net.ipv4.ip_forward=1
}

bgp_timers() { # short timers: a node whose bird dies is gone within 3 s
	echo "hold time 3; keepalive time 1; connect delay time 1; connect retry time 2;"
	echo "error wait time 1, 4;"
}

bird_node() { # bird_node I: node i's config
	local i=$1 p
	p=$(pred "$i")
	cat <<-EOF
		router id $(lan_n "$i");
		protocol device { }
		# Routes via the TUN device: bird withdraws them when naptd's napt0 goes.
		protocol static tun {
		    ipv4;
		    route 0.0.0.0/0 via "napt0";
		    route $POOL via "napt0";
		    route ${SLICE_EXT[i - 1]} via "napt0";
		    route ${SLICE_EXT[p - 1]} via "napt0";
		}
		filter to_lan {
		    if net = 0.0.0.0/0 then {
		        bgp_community.add(($NODE_AS, $((100 + i))));
		        bgp_community.add(($NODE_AS, $((200 + p))));
		        accept;
		    }
		    reject;
		}
		filter to_wan {
		    if net = ${SLICE_EXT[i - 1]} || net = $POOL then accept;
		    if net = ${SLICE_EXT[p - 1]} then { bgp_path.prepend($NODE_AS); accept; }
		    reject;
		}
		protocol bgp lan {
		    local $(lan_n "$i") as $NODE_AS; neighbor $(lan_r "$i") as $LAN_AS;
		    $(bgp_timers)
		    ipv4 { import none; export filter to_lan; next hop self; };
		}
		protocol bgp wan {
		    local $(wan_n "$i") as $NODE_AS; neighbor $(wan_r "$i") as $WAN_AS;
		    $(bgp_timers)
		    ipv4 { import none; export filter to_wan; next hop self; };
		}
	EOF
}

bird_lan() { # the LAN router: a table per slice, the owner first, then its backup
	local i
	echo "router id 10.255.0.1;"
	echo "protocol device { }"
	echo "protocol kernel { ipv4 { export all; }; merge paths on; }"
	for ((i = 1; i <= NODES; i++)); do
		cat <<-EOF
			ipv4 table s$i;
			protocol bgp n$i {
			    local $(lan_r "$i") as $LAN_AS; neighbor $(lan_n "$i") as $NODE_AS;
			    $(bgp_timers)
			    ipv4 { import all; export none; };
			}
			protocol pipe p$i {
			    table master4; peer table s$i; import none;
			    export filter {
			        if ($NODE_AS, $((100 + i))) ~ bgp_community then preference = 300;
			        else if ($NODE_AS, $((200 + i))) ~ bgp_community then preference = 200;
			        accept;
			    };
			}
			protocol kernel k$i {
			    ipv4 { table s$i; export all; }; kernel table $((100 + i)); merge paths on;
			}
		EOF
	done
}

bird_wan() { # the WAN router: the shortest AS path wins, equal ones are merged (ECMP)
	local i
	echo "router id 192.0.2.255;"
	echo "protocol device { }"
	echo "protocol kernel { ipv4 { export all; }; merge paths on; }"
	for ((i = 1; i <= NODES; i++)); do
		cat <<-EOF
			protocol bgp n$i {
			    local $(wan_r "$i") as $WAN_AS; neighbor $(wan_n "$i") as $NODE_AS;
			    $(bgp_timers)
			    ipv4 { import all; export none; };
			}
		EOF
	done
}

# start_bird NS NAME: config $TOPO_DIR/NAME.conf, socket and pid file beside it; its pid in
# BIRD_PID (bird -f runs in the foreground: ip netns exec execs it, so $! is bird).
start_bird() {
	bird -p -c "$TOPO_DIR/$2.conf" || fail "bird rejects $2.conf"
	bg "$1" "$TOPO_DIR/$2.log" bird -f -c "$TOPO_DIR/$2.conf" -s "$TOPO_DIR/$2.ctl" \
		-P "$TOPO_DIR/$2.pid"
	BIRD_PID=${TOPO_PIDS[-1]}
}

naptd_conf() { # the same on every node: the formula is the only shared state
	cat <<-EOF
		inside 10.77.0.0/24
		deterministic 10.77.0.0/24 $POOL
		tun napt0
		lan-interface lan0
		wan-interface wan0
		control $TOPO_DIR/n$1.sock
		max-sessions 65536
	EOF
}

start_node() { # start_node I: naptd on node i, until it is ready (10 s at most)
	local i=$1 log=$TOPO_DIR/naptd-n$1.log k
	ip netns exec "${NS_N[i]}" "$NAPTD" -f -c "$TOPO_DIR/n$i.naptd" >>"$log" 2>&1 &
	NODE_PID[i]=$!
	for ((k = 0; k < 100; k++)); do
		grep -qs ready "$log" && ip -n "${NS_N[i]}" link show napt0 >/dev/null 2>&1 && return 0
		kill -0 "${NODE_PID[i]}" 2>/dev/null || break
		sleep 0.1
	done
	NAPTD_LOG=$log fail "naptd on node $i did not start"
}

node_stat() { # node_stat I NAME: a counter of node i's naptctl show stats
	ip netns exec "${NS_N[$1]}" "$NAPTCTL" -s "$TOPO_DIR/n$1.sock" show stats |
		awk -v n="$2" '$1 == n { print $2 }'
}

# via NS TABLE PREFIX: the next hops of PREFIX's route in TABLE, sorted, or nothing.
via() {
	ip -n "$1" route show table "$2" exact "$3" 2>/dev/null |
		grep -o 'via [0-9.]*' | awk '{ print $2 }' | sort | tr '\n' ' '
}

# slice_at I NODE: slice i goes to NODE at both routers (LAN: default in table 100+i; WAN:
# the pool slice).
slice_at() {
	[ "$(via "$NS_L" $((100 + $1)) 0.0.0.0/0)" = "$(lan_n "$2") " ] &&
		[ "$(via "$NS_W" main "${SLICE_EXT[$1 - 1]}")" = "$(wan_n "$2") " ]
}

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }

topology
for ((i = 1; i <= NODES; i++)); do
	naptd_conf $i >"$TOPO_DIR/n$i.naptd"
	start_node $i
	bird_node $i >"$TOPO_DIR/bird-n$i.conf"
	start_bird "${NS_N[i]}" bird-n$i
	NODE_BIRD[i]=$BIRD_PID
done
bird_lan >"$TOPO_DIR/bird-lanr.conf"
bird_wan >"$TOPO_DIR/bird-wanr.conf"
start_bird "$NS_L" bird-lanr
start_bird "$NS_W" bird-wanr

for ((i = 1; i <= NODES; i++)); do
	wait_for 30 slice_at $i $i || {
		ip -n "$NS_L" route show table all | grep -v local >&2
		ip -n "$NS_W" route >&2
		fail "slice $i did not reach node $i within 30 s"
	}
done
echo "routes: every slice at its own node"
[ "$(via "$NS_W" main $POOL | wc -w)" = "$NODES" ] ||
	fail "the whole pool is not ECMP over $NODES nodes"

# Layout for the report: the formula's parameters (S = 16, P = 4032 on 1024-65535).
hosts=$(echo "${SLICE_HOSTS[@]:0:NODES}" | tr ' ' ,)
slices=$(for ((i = 1; i <= NODES; i++)); do printf '"n%d": ["%s"],' $i "${SLICE_IN[i - 1]}"; done)
cat >"$TOPO_DIR/layout.json" <<-EOF
	{"in_base": "10.77.0.0", "ext_base": "203.0.113.16", "per_ext": 16, "ports": 4032,
	 "port_lo": 1024, "bulk_host": "10.77.0.10",
	 "down_host": "10.77.0.11",
	 "slices": {${slices%,}}}
EOF

bg "$NS_W" "$TOPO_DIR/server.log" "$PY" "$PEER" server $SERVER 7000 "$TOPO_DIR/server.json"
server_up() {
	[ "$(ip netns exec "$NS_W" ss -Hltn 'sport >= :7000 and sport <= :7002' | wc -l)" = 3 ]
}
wait_for 10 server_up || fail "the server did not listen within 10 s"
bg "$NS_H" "$TOPO_DIR/client.log" "$PY" "$PEER" client $SERVER 7000 "$TOPO_DIR/client.json" \
	--hosts "$hosts" --flows 200 --seconds $SECONDS_RUN --bulk-rate 1000000
CLIENT_PID=${TOPO_PIDS[-1]}
# The finest measure of the stop: an echo request every 10 ms from a host of slice 1. Not
# ping -w: it ends at the first ICMP error (a node's "unreachable" while it is closed).
# SIGINT: ping prints its last lines and exits.
bg "$NS_H" "$TOPO_DIR/ping.log" timeout -s INT $SECONDS_RUN ping -D -n -i 0.01 -I 10.77.0.10 \
	$SERVER
PING_PID=${TOPO_PIDS[-1]}
wait_for 15 test -e "$TOPO_DIR/client.json.up" || {
	cat "$TOPO_DIR/client.log" >&2
	fail "not every flow had an answer within 15 s"
}
# Slice 1's TCP flows (ecmp_peer.py: flow i from host i % H, TCP when i / H is even; slice
# 1's hosts come first) and the upload: what a node picks up when slice 1 moves to it.
H=$((NODES * 3))
moved_tcp=1
for ((k = 0; k < 200; k++)); do
	((k % H < 3 && (k / H) % 2 == 0)) && moved_tcp=$((moved_tcp + 1))
done

for ((i = 1; i <= NODES; i++)); do
	s=$(node_stat $i sessions-current)
	echo "node $i carries $s sessions"
	[ "${s:-0}" -ge $((200 * 3 / H - 3)) ] ||
		fail "node $i carries ${s:-no} sessions, not its share of 200"
done

sleep 4
back=$(succ 1)
t0=$(now)
echo "kill n1 $t0" >"$TOPO_DIR/events"
kill -KILL "${NODE_PID[1]}"
wait "${NODE_PID[1]}" 2>/dev/null || true
NODE_PID[1]=
wait_for 10 slice_at 1 "$back" || fail "slice 1 did not move to node $back within 10 s"
echo "routes: slice 1 at node $back $(since "$t0") s after the kill"
for ((i = 2; i <= NODES; i++)); do
	slice_at $i $i || fail "slice $i moved away from node $i"
done
sleep 6
p=$(node_stat "$back" deterministic-pickups)
echo "node $back picked up $p flows of slice 1"
[ "${p:-0}" -ge "$moved_tcp" ] ||
	fail "node $back picked up ${p:-no} flows, not slice 1's $moved_tcp"

t0=$(now)
echo "back n1 $t0" >>"$TOPO_DIR/events"
start_node 1
wait_for 10 slice_at 1 1 || fail "slice 1 did not come back to node 1 within 10 s"
echo "routes: slice 1 back at node 1 $(since "$t0") s after the restart"
sleep 3
p=$(node_stat 1 deterministic-pickups)
echo "node 1 picked up $p flows of slice 1 again"
[ "${p:-0}" -ge "$moved_tcp" ] ||
	fail "node 1 took ${p:-no} of slice 1's $moved_tcp TCP flows back"

# Node 2 hangs, naptd and bird alike (SIGSTOP): no withdrawal is sent, the routers drop its
# routes when the BGP hold time (3 s) runs out; slice 2 goes to its backup. Then it resumes
# with its sessions and takes slice 2 back.
back=$(succ 2)
sleep 2
t0=$(now)
echo "hang n2 $t0" >>"$TOPO_DIR/events"
kill -STOP "${NODE_PID[2]}" "${NODE_BIRD[2]}"
wait_for 10 slice_at 2 "$back" || fail "slice 2 did not move to node $back within 10 s"
echo "routes: slice 2 at node $back $(since "$t0") s after node 2 hung"
sleep 3
t0=$(now)
echo "cont n2 $t0" >>"$TOPO_DIR/events"
kill -CONT "${NODE_PID[2]}" "${NODE_BIRD[2]}"
wait_for 15 slice_at 2 2 || fail "slice 2 did not come back to node 2 within 15 s"
echo "routes: slice 2 back at node 2 $(since "$t0") s after it resumed"

# 5 s of traffic after the last event, then the client and ping stop (ping's output is
# complete once it has exited); bounded.
sleep 5
touch "$TOPO_DIR/client.json.stop"
kill -INT "$PING_PID"
for ((k = 0; k < 300; k++)); do
	kill -0 "$CLIENT_PID" 2>/dev/null || kill -0 "$PING_PID" 2>/dev/null || break
	sleep 0.1
done
[ -s "$TOPO_DIR/client.json" ] || {
	cat "$TOPO_DIR/client.log" >&2
	fail "the client did not finish"
}
# The server writes its record every second; the upload's endpoint is in it once the server
# has read the upload to its end.
wait_for 10 grep -q '"bulk"' "$TOPO_DIR/server.json" ||
	echo "the server has not recorded the upload"
"$PY" "$PEER" report "$TOPO_DIR/client.json" "$TOPO_DIR/server.json" "$TOPO_DIR/events" \
	"$TOPO_DIR/layout.json" "$TOPO_DIR/ping.log" ||
	fail "fewer than 95 % of the flows survived, or the upload failed"
echo "PASS"
