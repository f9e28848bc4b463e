#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_capabilities.sh - naptd runs under exactly the capabilities docs/naptd.service.in gives
# it. The bounding set and NoNewPrivileges are read from the unit file (so the two cannot
# drift) and applied with setpriv, as systemd applies them to a root service: root's
# capabilities after exec are the bounding set. Under them, with `control-group nogroup`:
#  1. naptd starts (the socket's chown to the group needs CAP_CHOWN: without it in the
#     unit, naptd stops with EPERM), the socket is 0660 root:nogroup;
#  2. after set-up naptd holds CAP_NET_ADMIN alone, with empty bounding and inheritable
#     sets (the drop needs CAP_SETPCAP);
#  3. a client in the group only (nobody:nogroup) adds a forward through the socket, which
#     naptd writes to its state file; the LAN pings the WAN; SIGHUP reloads;
#  4. SIGTERM: naptd exits 0 and leaves rtr's routing as it found it.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

topo_require setpriv ping
unit=$(cd "$(dirname "$0")/../../docs" && pwd)/naptd.service.in
[ -f "$unit" ] || fail "$unit not found"

# The unit's CapabilityBoundingSet lines (several add up; "~" would invert, which this test
# does not read), in setpriv's form: +net_admin,+setpcap.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr -s ' ' '\n' | sed '/^$/d')
[ -n "$caps" ] || fail "no CapabilityBoundingSet= in $unit"
case $caps in *'~'*) fail "$unit inverts its capability set (~): not read by this test" ;; esac
bounding=$(echo "$caps" | sed 's/^CAP_//' | tr '[:upper:]' '[:lower:]' | sed 's/^/+/' | paste -sd, -)
nnp=()
grep -qx 'NoNewPrivileges=\(yes\|true\|1\|on\)' "$unit" && nnp=(--no-new-privs)
echo "the unit's set: ${bounding//+/}${nnp[*]:+, no new privileges}"

topo_up
chmod 0711 "$TOPO_DIR" # the group's client must reach the socket in it

# as_unit CMD...: CMD with the unit's capabilities.
real_naptd=$NAPTD
as_unit() { setpriv --bounding-set=-all,"$bounding" --inh-caps=-all "${nnp[@]}" "$@"; }
cat >"$TOPO_DIR/naptd-unit" <<-EOF
	#!/usr/bin/env bash
	exec setpriv --bounding-set=-all,$bounding --inh-caps=-all ${nnp[*]} $real_naptd "\$@"
EOF
chmod 0755 "$TOPO_DIR/naptd-unit"
NAPTD=$TOPO_DIR/naptd-unit

# setpriv really confines what it starts: its own dump under the wrapper's options.
want=$(echo "${bounding//+/}" | tr , '\n' | sort | paste -sd, -)
got=$(as_unit setpriv -d | sed -n 's/^Capability bounding set: //p' | tr , '\n' | sort |
	paste -sd, -)
[ "$got" = "$want" ] || fail "setpriv gives the bounding set '$got', not the unit's '$want'"

# --- 1. start with control-group ------------------------------------------------------------
naptd_config "control-group nogroup" >"$TOPO_DIR/naptd.conf"
before=$(routing_snapshot)
start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start under the unit's capabilities"
[ "$(stat -c '%a %U:%G' "$TOPO_DIR/naptd.sock")" = "660 root:nogroup" ] ||
	fail "control socket $(stat -c '%a %U:%G' "$TOPO_DIR/naptd.sock"), not 660 root:nogroup"
echo "ok: naptd started under the unit's capabilities; socket 660 root:nogroup"

# --- 2. what naptd keeps ---------------------------------------------------------------------
field() { awk -v n="$1:" '$1 == n { print $2 }' "/proc/$NAPTD_PID/status"; }
for f in CapEff CapPrm; do
	[ "$(field $f)" = 0000000000001000 ] || fail "naptd $f $(field $f), not CAP_NET_ADMIN alone"
done
for f in CapInh CapBnd; do
	[ "$(field $f)" = 0000000000000000 ] || fail "naptd $f $(field $f), not empty"
done
echo "ok: after set-up CapEff=CapPrm=CAP_NET_ADMIN, CapInh=CapBnd=0"

# --- 3. the group's client, traffic, reload --------------------------------------------------
as_group() { in_rtr setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_group "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" forward add tcp 8022 "$LAN_IP:22" ||
	fail "nobody:nogroup could not add a forward through the socket"
grep -q "^forward tcp 8022 $LAN_IP:22" "$TOPO_DIR/naptd.state" ||
	fail "the forward is not in the state file: $(cat "$TOPO_DIR/naptd.state" 2>&1)"
in_lan ping -c 2 -i 0.2 -W 2 -w 10 "$WAN_IP" >"$TOPO_DIR/ping.log" ||
	fail "ping from the LAN failed: $(cat "$TOPO_DIR/ping.log")"
kill -HUP "$NAPTD_PID"
for ((i = 0; i < 50; i++)); do
	grep -q "SIGHUP: .* reloaded" "$NAPTD_LOG" && break
	sleep 0.1
done
kill -0 "$NAPTD_PID" 2>/dev/null || fail "naptd died on SIGHUP"
grep -q "SIGHUP: .* reloaded" "$NAPTD_LOG" || fail "naptd logged no reload within 5 s"
as_group "$NAPTCTL" -s "$TOPO_DIR/naptd.sock" show forwards | grep -q 8022 ||
	fail "the forward is gone after the reload"
echo "ok: a nobody:nogroup client added a forward (in the state file); ping; SIGHUP reloaded"

# --- 4. a clean exit -------------------------------------------------------------------------
stop_naptd
rc=$?
[ $rc = 0 ] || fail "naptd exited with $rc on SIGTERM"
expect_unchanged "$before" "$(routing_snapshot)" "naptd left rtr's routing changed"
echo "ok: SIGTERM: exit 0, routing as before"
echo "PASS: naptd works under the capabilities of docs/naptd.service.in"
