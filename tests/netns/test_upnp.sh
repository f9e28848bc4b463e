#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_upnp.sh - naptd's UPnP IGD ("upnp yes", issue 13) with Debian's miniupnpc and a peer
# written from the UPnP Device Architecture (upnp_peer.py), on the Easy IP router:
# Mappings take the ports asked for when the pcp-allow rules give them (in or out of the Easy IP
# port-range, 49152-65534), else ports of port-range, as NAT-PMP and PCP ones do.
# - upnpc discovers the IGD and reads the external address; "upnpc -a" adds a mapping that
#   shows in "naptctl show forwards" with origin upnp and a lifetime of a day (upnpc asks 0,
#   IGD:1's "infinite"), the WAN host reaches the LAN service through it, "upnpc -l" lists
#   it with its description (NewPortMappingDescription, kept: show forwards has it too),
#   "upnpc -d" deletes it and the WAN host no longer gets through; AddAnyPortMapping
#   ("upnpc -n") gets the port asked for when it is free and another when it is taken;
# - a host may not map another host (NewInternalClient not its own: 606), a host that no
#   pcp-allow line names is refused even GetExternalIPAddress (606); a lease survives a
#   restart (state file, "upnp" and its description kept) and "naptctl forward del" ends it
#   (origin upnp);
# - from the WAN side: an SSDP M-SEARCH to the router's WAN address and, with a route to
#   the inside prefix, to its LAN address gets no answer, and a SOAP AddPortMapping to the
#   LAN address's HTTP server does not connect: nothing opens (the LAN host's M-SEARCH is
#   answered, so the probe works);
# - a SOAP request whose Host header is another name (DNS rebinding) is answered 403 and
#   maps nothing (the same request with the router's address:port maps), a SUBSCRIBE whose
#   CALLBACK is another host is refused (403); both counted in upnp-requests-refused;
# - a SUBSCRIBE listener in the LAN (GENA) hears PortMappingNumberOfEntries at once, one more
#   after an AddPortMapping and one less after its DeletePortMapping; one hears the
#   ExternalIPAddress at once, then the new one after wan0 is renumbered;
# - a LAN host sends 1,000 SOAP requests a second for 5 s: loop-longest-5s-us stays under
#   10 ms (up to 3 attempts on this shared machine);
# - the library's threads hold no capability and run at niceness 10.
set -u
. "$(dirname "$0")/lib_home.sh"

topo_require curl socat ss upnpc
topo_up_extra

PEER="$PY $(dirname "$0")/upnp_peer.py"
NEW_WAN_IP=198.51.100.3
OTHER_IP=192.168.77.4 # a LAN address no pcp-allow line names
easyip_config "wan-interface wan0" "upnp yes" "pcp-allow $LAN_IP/32 1024-65535" \
	>"$TOPO_DIR/naptd.conf"
banner_server "$NS_LAN" 80 lan-80

start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start"
port=$(sed -n "s/.*upnp: IGD on $RTR_LAN_IP:\([0-9]*\) .*/\1/p" "$NAPTD_LOG")
[ -n "$port" ] || fail "no UPnP server in the log: $(cat "$NAPTD_LOG")"
URL=http://$RTR_LAN_IP:$port/ctl/IPConn
HOST=$RTR_LAN_IP:$port

# thread_census: sets privileged (naptd's threads with a capability) and library (those
# without, at niceness 10: the library's).
thread_census() {
	local t cap nice
	privileged=0 library=0
	for t in /proc/"$NAPTD_PID"/task/*; do
		cap=$(awk '$1 == "CapEff:" { print $2 }' "$t/status")
		nice=$(awk '{ print $19 }' "$t/stat")
		if [ "$((16#$cap))" != 0 ]; then
			privileged=$((privileged + 1))
		elif [ "$nice" = 10 ]; then
			library=$((library + 1))
		fi
	done
}
# The library's threads: no capability, niceness 10; the loop keeps CAP_NET_ADMIN alone.
thread_census
[ "$privileged" = 1 ] && [ "$library" -ge 4 ] ||
	fail "threads with capabilities: $privileged (want 1), library threads at nice 10: $library"
echo "ok: $library library threads without capabilities at nice 10, one thread with CAP_NET_ADMIN"

upnpc_lan() { in_lan timeout 20 upnpc -i "$@" 2>&1; }
reach() { banner "$NS_WAN" "$1" "$2" 2>/dev/null; }

out=$(upnpc_lan -s)
grep -q "ExternalIPAddress = $RTR_WAN_IP" <<<"$out" || fail "upnpc -s: $out"
echo "ok: upnpc discovers the IGD and reads the external address $RTR_WAN_IP"

out=$(upnpc_lan -e "napt test 1" -a "$LAN_IP" 80 50080 tcp)
grep -q "external $RTR_WAN_IP:50080 TCP is redirected to internal $LAN_IP:80" <<<"$out" ||
	fail "upnpc -a: $out"
expect_lease tcp 50080 "$LAN_IP:80" upnp 86000 86400 # a day: upnpc asked 0
[ "$(reach "$RTR_WAN_IP" 50080)" = lan-80 ] || fail "the WAN host does not reach the LAN service"
echo "ok: the WAN host reaches the LAN service through the UPnP mapping"
out=$(upnpc_lan -l)
grep -q "TCP 50080->$LAN_IP:80 *'napt test 1' " <<<"$out" || fail "upnpc -l: $out"
ctl show forwards | grep -q '^tcp *50080 .* "napt test 1"$' ||
	fail "show forwards: $(ctl show forwards)"
echo "ok: upnpc -l lists it with its description, as show forwards does"

# AddAnyPortMapping (IGD:2, upnpc -n): the port asked for when free, another when it is
# taken (here by the mapping above, of another internal port).
out=$(upnpc_lan -n "$LAN_IP" 81 50090 tcp 600)
grep -q "external $RTR_WAN_IP:50090 TCP is redirected to internal $LAN_IP:81 " <<<"$out" ||
	fail "upnpc -n of a free port: $out"
expect_lease tcp 50090 "$LAN_IP:81" upnp 590 600
out=$(upnpc_lan -n "$LAN_IP" 82 50080 tcp 600)
[[ "$out" =~ external\ $RTR_WAN_IP:([0-9]+)\ TCP\ is\ redirected\ to\ internal\ $LAN_IP:82\  ]] ||
	fail "upnpc -n of a taken port: $out"
any=${BASH_REMATCH[1]}
[ "$any" != 50080 ] || fail "AddAnyPortMapping gave the taken port 50080"
expect_lease tcp "$any" "$LAN_IP:82" upnp 590 600
ctl show forwards | grep -q "^tcp *50080 *$LAN_IP:80 " || fail "the first mapping changed"
for p in 50090 "$any"; do
	upnpc_lan -d "$p" tcp | grep -q "returned : 0" || fail "upnpc -d $p"
done
echo "ok: AddAnyPortMapping (upnpc -n): 50090 when free; $any when 50080 is taken"

out=$(upnpc_lan -a 192.168.77.9 81 50081 tcp)
grep -q "606" <<<"$out" || fail "a mapping to another host: $out"
ctl show forwards | grep -q "^tcp *50081 " && fail "a host mapped another host"
echo "ok: a host cannot map another host (606)"

in_lan ip addr add "$OTHER_IP/24" dev eth0
out=$(UPNP_SRC=$OTHER_IP in_lan $PEER soap "$URL" "$HOST" GetExternalIPAddress)
[ "$(head -1 <<<"$out")" = 500 ] && grep -q "<errorCode>606</errorCode>" <<<"$out" ||
	fail "a host no pcp-allow line names: $out"
echo "ok: a LAN host that no pcp-allow line names is refused (606)"

out=$(upnpc_lan -d 50080 tcp)
grep -q "UPNP_DeletePortMapping() returned : 0" <<<"$out" || fail "upnpc -d: $out"
ctl show forwards | grep -q "^tcp *50080 " && fail "upnpc -d left the forward"
[ -z "$(reach "$RTR_WAN_IP" 50080)" ] || fail "the WAN host still reaches the LAN service"
echo "ok: upnpc -d deletes it; the WAN host no longer gets through"

upnpc_lan -e test -a "$LAN_IP" 80 50082 tcp 600 >/dev/null
stop_naptd || fail "naptd exited with status $?"
grep -q "^forward tcp 50082 $LAN_IP:80 expires [0-9]* upnp desc test$" "$TOPO_DIR/naptd.state" ||
	fail "state file: $(cat "$TOPO_DIR/naptd.state")"
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not restart"
ctl show forwards | grep -q '^tcp *50082 .*upnp .* "test"$' ||
	fail "the lease did not survive a restart: $(ctl show forwards)"
out=$(upnpc_lan -l)
grep -q "TCP 50082->$LAN_IP:80 *'test' " <<<"$out" || fail "upnpc -l after the restart: $out"
out=$(ctl forward del tcp 50082) || fail "forward del: $out"
[[ "$out" == *"origin upnp"* ]] || fail "forward del does not name the origin upnp: $out"
echo "ok: a UPnP lease survives a restart and naptctl forward del ends it: $out"
port=$(sed -n "s/.*upnp: IGD on $RTR_LAN_IP:\([0-9]*\) .*/\1/p" "$NAPTD_LOG" | tail -1)
URL=http://$RTR_LAN_IP:$port/ctl/IPConn
HOST=$RTR_LAN_IP:$port

# ---- from the WAN side ----
out=$(in_lan $PEER msearch "$RTR_LAN_IP" 2)
[ "$out" != "replies 0" ] || fail "the LAN host's M-SEARCH is not answered"
out=$(in_wan $PEER msearch "$RTR_WAN_IP" 2)
[ "$out" = "replies 0" ] || fail "an M-SEARCH from the WAN to $RTR_WAN_IP: $out"
in_wan ip route add "$INSIDE" via "$RTR_WAN_IP"
out=$(in_wan $PEER msearch "$RTR_LAN_IP" 2)
[ "$out" = "replies 0" ] || fail "an M-SEARCH from the WAN to $RTR_LAN_IP: $out"
add_args=(NewRemoteHost= NewExternalPort=50083 NewProtocol=TCP NewInternalPort=80
	"NewInternalClient=$WAN_IP" NewEnabled=1 NewPortMappingDescription=x NewLeaseDuration=600)
out=$(in_wan $PEER soap "$URL" "$HOST" AddPortMapping "${add_args[@]}")
[[ "$out" == error* ]] || fail "a SOAP request from the WAN was answered: $out"
ctl show forwards | grep -q "^tcp *50083 " && fail "a SOAP request from the WAN opened a forward"
in_wan ip route del "$INSIDE" via "$RTR_WAN_IP"
echo "ok: M-SEARCH and SOAP from the WAN get no answer, nothing opens"

# ---- Host and CALLBACK ----
add_args[4]=NewInternalClient=$LAN_IP
out=$(in_lan $PEER soap "$URL" "evil.example:$port" AddPortMapping "${add_args[@]}")
[ "$(head -1 <<<"$out")" = 403 ] || fail "a Host header of another name: $out"
ctl show forwards | grep -q "^tcp *50083 " && fail "a request with another Host opened a forward"
out=$(in_lan $PEER soap "$URL" "$HOST" AddPortMapping "${add_args[@]}")
[ "$(head -1 <<<"$out")" = 200 ] || fail "the same request with Host $HOST: $out"
ctl show forwards | grep -q "^tcp *50083 .*upnp" || fail "the request with Host $HOST mapped nothing"
echo "ok: Host evil.example:$port is refused (403), Host $HOST maps"
out=$(in_lan $PEER subscribe "http://$HOST/evt/IPConn" "<http://$WAN_IP:80/>")
[ "$out" = 403 ] || fail "SUBSCRIBE with a CALLBACK to another host: $out"
refused=$(stat_value upnp-requests-refused)
[ "$refused" = 2 ] || fail "upnp-requests-refused $refused, not 2"
echo "ok: a CALLBACK to another host is refused (403); upnp-requests-refused $refused"

# ---- GENA ----
# PortMappingNumberOfEntries (evented in IGD:2): the count at subscription, one more after
# an AddPortMapping, one less after its DeletePortMapping.
n0=$(ctl show forwards | grep -c "s left")
in_lan "$PY" "$(dirname "$0")/upnp_peer.py" gena "$LAN_IP" 5998 "http://$HOST/evt/IPConn" 20 \
	"entries=$n0" "entries=$((n0 + 1))" "entries=$n0" >"$TOPO_DIR/gena-entries.log" 2>&1 &
ENTRIES_PID=$!
TOPO_PIDS+=("$ENTRIES_PID")
heard() { grep -q "event PortMappingNumberOfEntries $1$" "$TOPO_DIR/gena-entries.log"; }
wait_until 10 heard "$n0" || fail "no initial count $n0: $(cat "$TOPO_DIR/gena-entries.log")"
upnpc_lan -a "$LAN_IP" 85 50085 tcp 600 | grep -q "is redirected" || fail "upnpc -a 50085"
wait_until 10 heard "$((n0 + 1))" || fail "no event of $((n0 + 1)) mappings: $(cat "$TOPO_DIR/gena-entries.log")"
upnpc_lan -d 50085 tcp | grep -q "returned : 0" || fail "upnpc -d 50085"
wait "$ENTRIES_PID" || fail "no event of $n0 mappings again: $(cat "$TOPO_DIR/gena-entries.log")"
echo "ok: the subscriber hears PortMappingNumberOfEntries $n0, $((n0 + 1)) after an add, $n0 after the delete"
gena_renumber "$HOST" "$NEW_WAN_IP" || fail "no initial event: $(cat "$TOPO_DIR/gena.log")"
wait "$GENA_PID" || fail "no event of $NEW_WAN_IP: $(cat "$TOPO_DIR/gena.log")"
echo "ok: the subscriber hears ExternalIPAddress $RTR_WAN_IP, then $NEW_WAN_IP after the renumbering"

# ---- a burst ----
sleep 6
echo "quiet: loop-longest-5s-us $(stat_value loop-longest-5s-us)"
for attempt in 1 2 3; do
	out=$(in_lan $PEER burst "$URL" "$HOST" 1000 5)
	longest=$(stat_value loop-longest-5s-us)
	echo "burst attempt $attempt: $out, loop-longest-5s-us $longest"
	[ "$longest" -lt 10000 ] && break
done
[ "$longest" -lt 10000 ] || fail "loop-longest-5s-us $longest under 1000 requests a second"
read -r _ ok _ _ <<<"$out"
[ "$ok" -gt 1000 ] || fail "only $ok requests answered in the burst"
echo "ok: 1000 SOAP requests a second: loop-longest-5s-us $longest ($out)"
# After the events and the burst, no thread the library made holds a capability: the loop
# and the lease writer (runtime_state.h) are the only ones.
thread_census
[ "$privileged" -le 2 ] || fail "$privileged threads with capabilities after the burst"
echo "ok: after it all, $library library threads, $privileged with CAP_NET_ADMIN (loop, lease writer)"
echo PASS
