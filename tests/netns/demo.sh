#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh BUILD_DIR - naptd at work, live, in network namespaces made for the demo:
# a LAN host fetches a page from a WAN web server through the NAT (the server logs the
# external address), the session table, a port forward added with naptctl that lets a WAN
# client reach a LAN service, the counters. Everything is removed at the end. Builds
# nothing: run.sh demo builds first. Exit 0 only when every step worked. Needs root.
set -u
if [ $# -ne 1 ] || [ ! -x "$1/naptd" ] || [ ! -x "$1/naptctl" ]; then
	echo "usage: $0 BUILD_DIR   (a build directory holding naptd and naptctl)" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: needs root: it creates network namespaces and a TUN device" >&2
	exit 1
fi
BUILD_DIR=$(cd "$1" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib_extra.sh
. "$(dirname "$0")/lib_extra.sh"

for t in curl socat ss; do
	command -v "$t" >/dev/null || fail "demo.sh needs $t (apt-get install $t)"
done

SERVICE_PORT=8000 # the LAN service
FORWARD_PORT=2222 # the port on the external address that leads to it
STEP=0

BOLD='' PLAIN=''
if [ -t 1 ]; then
	BOLD=$'\033[1m' PLAIN=$'\033[0m'
fi
say() {
	printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"
}
step() {
	STEP=$((STEP + 1))
	say "$STEP. $*"
}
# show lan|wan CMD...: print the command as typed on that host, then run it there.
show() {
	local host=$1
	shift
	printf '%s$ %s\n' "$host" "$*"
	"in_$host" "$@"
}
ctl_show() {
	printf 'rtr$ naptctl %s\n' "$*"
	ctl "$@"
}

step "The network: three namespaces, made for this demo"
topo_up_extra
cat <<EOF
   LAN host  $LAN_IP ---- lan0 [ router, naptd on TUN napt0 ] wan0 ---- $WAN_IP  WAN host
                                external address $EXT_IP
 The WAN host has no route to $INSIDE: only the NAT brings answers back.
 Namespaces: $NS_LAN, $NS_RTR, $NS_WAN
EOF

step "Start naptd in the router"
naptd_config >"$TOPO_DIR/naptd.conf"
sed 's/^/    /' "$TOPO_DIR/naptd.conf"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
echo "naptd is up (pid $NAPTD_PID): $(grep -m1 ready "$NAPTD_LOG")"

step "A web server on the WAN host, curl from the LAN host"
echo "hello from the WAN web server" >"$TOPO_DIR/index.html"
http_serve "$NS_WAN" "$WAN_IP" 80 "$TOPO_DIR" "$TOPO_DIR/http.log"
show lan curl -sS --max-time 10 "http://$WAN_IP/" ||
	fail "curl from the LAN host failed"
wait_until 3 grep -q "GET / " "$TOPO_DIR/http.log" || fail "the web server logged no request"
echo "The web server's log: the request came from the external address, not from $LAN_IP:"
grep "GET / " "$TOPO_DIR/http.log" | sed 's/^/    /'
grep -q "^$EXT_IP .*GET / " "$TOPO_DIR/http.log" || fail "the server did not see $EXT_IP"

step "The session table"
in_lan ping -c 2 -i 0.2 -W 2 "$WAN_IP" >/dev/null || fail "ping from the LAN host failed"
echo "The LAN host also pinged $WAN_IP: one TCP and one ICMP session, each with its external port"
ctl_show show sessions || fail "naptctl show sessions failed"

step "A port forward: $EXT_IP:$FORWARD_PORT -> $LAN_IP:$SERVICE_PORT"
bg "$NS_LAN" "$TOPO_DIR/service.log" socat "TCP-LISTEN:$SERVICE_PORT,bind=$LAN_IP,reuseaddr,fork" \
	SYSTEM:'echo "LAN service on $SOCAT_SOCKADDR:$SOCAT_SOCKPORT: hello $SOCAT_PEERADDR:$SOCAT_PEERPORT"'
wait_listen "$NS_LAN" tcp "$LAN_IP:$SERVICE_PORT"
echo "A service listens on the LAN host at $LAN_IP:$SERVICE_PORT. Without a forward the"
echo "WAN host cannot reach it; add one with naptctl:"
ctl_show forward add tcp $FORWARD_PORT "$LAN_IP:$SERVICE_PORT" || fail "forward add failed"
ctl_show show forwards || fail "naptctl show forwards failed"
echo "The WAN host connects to the external address:"
printf 'wan$ socat - TCP:%s:%s\n' "$EXT_IP" $FORWARD_PORT
answer=$(in_wan timeout 5 socat -T 3 - "TCP:$EXT_IP:$FORWARD_PORT,connect-timeout=3" </dev/null 2>&1)
echo "$answer"
case $answer in
*"hello $WAN_IP:"*) ;;
*) fail "the WAN client did not reach the LAN service through the forward" ;;
esac
ctl_show show sessions tcp || fail "naptctl show sessions tcp failed"

step "The counters (counters at 0 left out)"
printf 'rtr$ naptctl show stats\n'
stats=$(ctl show stats) || fail "naptctl show stats failed"
awk 'NR == 1 || $2 != 0' <<<"$stats"

step "Tear down"
stop_naptd || fail "naptd exited with status $? after SIGTERM"
echo "naptd stopped: it removed its routes, rules and proxy neighbour entry."
topo_down
extra_down
trap - EXIT
echo "Namespaces removed."
say "Demo complete: every step worked."
exit 0
