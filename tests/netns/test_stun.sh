#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_stun.sh - naptd's four nat-types as classified by tools that are not ours: Debian's
# stund on the WAN host (two addresses) and Debian's stun-client (`stun`) on the LAN host.
# Then the same classification once against the kernel's nftables masquerade in the same
# topology, recorded only (docs/conformance.md keeps both).
#
# The expected lines are stun-client's own strings (client.cxx prints them per NatType of
# stunNatType(), stun.cxx), for the behaviours docs/behaviour.md gives each nat-type:
#  - mapping: test I (primary address) and test I2 (alternate address, same port) from one
#    socket see the same mapping under EIM: "Independent Mapping"; otherwise "Dependent
#    Mapping", where stun-client stops;
#  - filtering: tests II (answer from the alternate address and port) and III (from the
#    primary address, alternate port) go out from a second socket to the primary endpoint
#    only: EIF admits both answers ("Independent Filter"), ADF only III ("Address
#    Dependent Filter"), APDF neither ("Port Dependent Filter");
#  - ports: stun-client binds random ports in 16384-32767, inside port-range and free, so
#    port preservation (on by default) keeps them: "preserves ports";
#  - hairpin: stun-client sends from its first socket to its own mapped endpoint E:p1. The
#    packet leaves through the mapping that socket has for the destination E:p1 (behaviour.md
#    9): under EIM that is E:p1 itself, whose new session to E:p1 admits the packet coming
#    back in: "will hairpin". Under APDM it is a new mapping E:p2, and E:p1 (APDF) admits
#    only endpoints it sent to, not E:p2: "no hairpin".
set -u
# shellcheck source-path=SCRIPTDIR source=lib_behaviour.sh
. "$(dirname "$0")/lib_behaviour.sh"

topo_require stun stund nft ss timeout
topo_up
stun_server_up

declare -A expected=(
	[full-cone]="Independent Mapping, Independent Filter, preserves ports, will hairpin"
	[restricted-cone]="Independent Mapping, Address Dependent Filter, preserves ports, will hairpin"
	[port-restricted-cone]="Independent Mapping, Port Dependent Filter, preserves ports, will hairpin"
	[symmetric]="Dependent Mapping, preserves ports, no hairpin"
)
results=()
failed=0

for type in full-cone restricted-cone port-restricted-cone symmetric; do
	naptd_config "nat-type $type" >"$TOPO_DIR/naptd.conf"
	start_naptd "$TOPO_DIR/naptd.conf" || fail "naptd did not start with nat-type $type"
	got=$(stun_primary "$NS_LAN")
	stop_naptd || fail "naptd (nat-type $type) exited with status $? after SIGTERM"
	results+=("naptd nat-type $type | $got")
	if [ "$got" = "${expected[$type]}" ]; then
		echo "ok: nat-type $type: $got"
	else
		echo "FAIL: nat-type $type: stun-client says '$got', expected '${expected[$type]}'" >&2
		failed=1
	fi
done

# The kernel's NAT in the same place, naptd gone: masquerade to wan0's own address. No
# filter rules, as on a router whose firewall accepts everything.
in_rtr nft -f - <<-'NFT' || fail "nft could not load the masquerade table"
	table ip napt_stun_masq {
		chain postrouting {
			type nat hook postrouting priority srcnat;
			oifname "wan0" masquerade
		}
	}
NFT
got=$(stun_primary "$NS_LAN")
[ -n "$got" ] || fail "stun-client printed no classification behind nftables masquerade"
results+=("kernel nftables masquerade | $got")
echo "ok: stun-client ran behind the kernel's masquerade: $got"

echo "STUN classification (stun-client 0.97 against stund, this topology):"
printf '  %s\n' "${results[@]}"
exit $failed
