#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_holepunch.sh - hole punching between two LAN hosts behind two naptd routers, with a
# rendezvous server on the shared WAN segment (lib_behaviour.sh's pair topology,
# rendezvous.py). RFC 5128 section 3 describes the method; what must happen follows from the
# behaviours each nat-type sets (docs/behaviour.md 3 and 4):
#  - cone types (EIM): the mapping the server saw is the one each host then uses towards the
#    peer, so once both have sent, each router's filter admits the other: UDP succeeds for
#    every pair of cone types;
#  - symmetric (APDM + APDF) on both sides: the packets to the peer leave from new mappings,
#    and the peer sends to the mapping the server saw, which admits only the server: UDP
#    fails, for both hosts;
#  - the peer sends first: its probe reaches router A before host A's first packet and is
#    dropped (APDF), and creates no state (behaviour.md 4 step 5), so host A's packet still
#    leaves from the endpoint the server saw: the peer accepts only that endpoint;
#  - TCP simultaneous open (RFC 5382 REQ-2) succeeds between two port-restricted cones;
#  - RFC 5382 REQ-4 with `unsolicited-syn rst` on both routers: B's SYN reaches router A a
#    second before A's own SYN leaves and finds no session; its RST waits 6 s, A's SYN cancels
#    it, so each host's first and only connect succeeds (an immediate RST would refuse B's).
# Last, recorded only: the peer-first case with the kernel's masquerade in router A.
set -u
# shellcheck source-path=SCRIPTDIR source=lib_behaviour.sh
. "$(dirname "$0")/lib_behaviour.sh"

topo_require ss timeout
pair_up
rendezvous_up

# nat_pair TYPE_A TYPE_B: both routers (re)started with these nat-types.
nat_pair() {
	side_naptd a "$1" || fail "naptd A did not start with nat-type $1"
	side_naptd b "$2" || fail "naptd B did not start with nat-type $2"
}

# Every pair of cone types: the clients give up after 5 s, far more than a success needs.
cones=(full-cone restricted-cone port-restricted-cone)
for ((i = 0; i < ${#cones[@]}; i++)); do
	for ((j = i; j < ${#cones[@]}; j++)); do
		a=${cones[$i]} b=${cones[$j]}
		nat_pair "$a" "$b"
		punch udp-client "udp-$a-$b" || fail "UDP hole punching $a + $b did not succeed"
		echo "ok: UDP hole punching between $a and $b"
	done
done

# Symmetric on both sides: 3 s of punching, both must come back empty-handed.
nat_pair symmetric symmetric
punch udp-client udp-symmetric "--timeout 3" "--timeout 3"
rc=$?
[ $rc = 1 ] || fail "UDP hole punching symmetric + symmetric: expected both to fail, got $rc"
echo "ok: UDP hole punching between two symmetric NATs fails for both hosts"

# The peer sends first: A (port-restricted) waits 1 s after the rendezvous before its first
# packet, B (full cone, so it admits A's packet whenever it comes) punches at once.
nat_pair port-restricted-cone full-cone
punch udp-client udp-peer-first "--hold 1" ||
	fail "UDP hole punching with the peer sending first did not succeed"
filtered=$(side_stat a dropped-filtered)
[ "${filtered:-0}" -ge 1 ] ||
	fail "router A filtered no packet: the peer's probe did not arrive before A's first packet"
echo "ok: B's probe arrived first and was dropped ($filtered filtered at A); A's packet left" \
	"from the endpoint the rendezvous server saw"

# TCP simultaneous open between two port-restricted cones; each client retries its connect
# (at most 4 s each) for 15 s.
nat_pair port-restricted-cone port-restricted-cone
punch tcp-client tcp-simultaneous-open "--timeout 15" "--timeout 15" ||
	fail "TCP hole punching (simultaneous open) between port-restricted cones did not succeed"
echo "ok: TCP hole punching by simultaneous open between two port-restricted cones"

# Crossed SYNs with answers to unsolicited SYNs on: one connect each, A a second after B.
nat_pair "port-restricted-cone
unsolicited-syn rst" "port-restricted-cone
unsolicited-syn rst"
punch tcp-client tcp-crossed-rst "--timeout 10 --attempts 1 --hold 1" \
	"--timeout 10 --attempts 1" ||
	fail "TCP hole punching with unsolicited-syn rst: a first connect was refused"
cancelled=$(side_stat a replies-cancelled)
[ "${cancelled:-0}" -ge 1 ] ||
	fail "router A cancelled no answer: B's SYN did not arrive before A's own SYN"
echo "ok: with unsolicited-syn rst, B's early SYN was dropped silently ($cancelled answer" \
	"cancelled at A) and both first connects succeeded (RFC 5382 REQ-4)"

# Recorded, not asserted: the peer-first case again (B full cone), with the kernel's
# nftables masquerade in router A instead of naptd (external address: wan0's own, no filter
# rules). Conntrack makes an entry for the peer's early probe, so A's packet may leave from
# another port than the one the server saw, which the peer refuses (docs/conformance.md).
side_naptd_stop a
side_naptd b full-cone || fail "naptd B did not start with nat-type full-cone"
in_rtr nft -f - <<-'NFT' || fail "nft could not load the masquerade table"
	table ip napt_holepunch_masq {
		chain postrouting {
			type nat hook postrouting priority srcnat;
			oifname "wan0" masquerade
		}
	}
NFT
if punch udp-client kernel-peer-first "--hold 1"; then
	echo "recorded: kernel masquerade, peer sends first: both hosts succeed"
else
	echo "recorded: kernel masquerade, peer sends first: hole punching fails (see above)"
fi
exit 0
