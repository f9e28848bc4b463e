#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# run-fuzz.sh SRCDIR SECONDS [TARGET...] - build the libFuzzer targets with clang under
# ASan + UBSan and run each for SECONDS, seeded from the replay fixtures. A crash (or an
# oracle abort) fails the run and leaves the input as crash-* in the work directory.
set -euo pipefail
src=$(cd "$1" && pwd); secs=$2; shift 2
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "run-fuzz.sh: SECONDS must be a whole number above 0, not '$secs'" >&2; exit 2; }
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(fuzz_packet fuzz_config fuzz_control fuzz_pcp fuzz_state
	fuzz_coalesce fuzz_upnp fuzz_sessions)
work=${FUZZ_WORK:-$PWD/fuzz-work}
mkdir -p "$work"
engine=$(ls "$src"/src/libnapt/*.c)
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -I"$src/include/napt" -I"$src/src/libnapt" -I"$src/src/common" -I"$src/src/naptd"
       -D_GNU_SOURCE)

seed_corpus() { # records of the packet target: ctl 0x00, 2-byte length, packet
	/usr/bin/python3 - "$src/pcaps" "$1" <<'PY'
import os, struct, sys
root, out = sys.argv[1], sys.argv[2]
n = 0
for case in sorted(os.listdir(root)):
    path = os.path.join(root, case, "in.pcap")
    if not os.path.isfile(path):
        continue
    data = open(path, "rb").read()
    rec, off = b"", 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        rec += bytes([0x01]) + struct.pack(">H", len(pkt)) + pkt
        off += 16 + incl
    open(os.path.join(out, case), "wb").write(rec)
    n += 1
print(f"seeded {n} inputs from {root}")
PY
}

seed_requests() { # one file per command of docs/control-protocol.md, plus a sequence
	local i=0 req
	while IFS= read -r req; do
		printf '%s\n' "$req" >"$1/req-$i"
		i=$((i + 1))
	done <<-'REQ'
		help
		json show stats
		show sessions udp inside 192.168.1.10
		json show mappings
		show forwards
		json show config
		forward add tcp 9000-9010 192.168.1.20:22-32
		forward del both 5000
		dmz set 192.168.1.50
		dmz clear
		timeout set tcp-established 60
		flush sessions
		reload
		lookup 203.0.113.1:40000 udp
		json lookup 192.168.1.10
		monitor
	REQ
	printf 'forward add both 7000 192.168.1.20:7000\ndmz set 192.168.1.7\nforward del both 7000\njson show forwards\ndmz clear\n' >"$1/req-sequence"
}

seed_pcp() { # NAT-PMP and PCP requests, each behind a sender byte and a length byte
	/usr/bin/python3 - "$1" <<'PY'
import os, struct, sys
out = sys.argv[1]
def rec(who, msg):
    return bytes([who, len(msg)]) + msg
def pcp_map(proto, inp, ext, life, opts=b""):
    hdr = struct.pack("!BBHI", 2, 1, 0, life) + bytes(10) + b"\xff\xff" + bytes([192, 168, 1, 10])
    return hdr + bytes(range(12)) + struct.pack("!B3xHH", proto, inp, ext) + bytes(16) + opts
def opt(code, data=b""):
    return struct.pack("!BBH", code, 0, len(data)) + data + bytes(-len(data) % 4)
def mapped(last, a=192, b=168, c=1):
    return bytes(10) + b"\xff\xff" + bytes([a, b, c, last])
def pcp_peer(proto, inp, ext, rport, life=600, opts=b""):
    hdr = struct.pack("!BBHI", 2, 2, 0, life) + mapped(10)
    return (hdr + bytes(range(12)) + struct.pack("!B3xHH", proto, inp, ext) + bytes(16) +
            struct.pack("!H2x", rport) + mapped(7, 198, 51, 100) + opts)
seeds = {
    "address": rec(10, struct.pack("!BB", 0, 0)),
    "map-delete": rec(10, struct.pack("!BBHHHI", 0, 2, 0, 80, 8080, 3600)) +
                  rec(10, struct.pack("!BBHHHI", 0, 2, 0, 80, 0, 0)),
    "port0": rec(10, struct.pack("!BBHHHI", 0, 1, 0, 0, 5000, 3600)),
    "outside": rec(0x85, struct.pack("!BBHHHI", 0, 2, 0, 22, 2222, 3600)),
    "pcp-map": rec(10, pcp_map(6, 80, 8081, 600, struct.pack("!BBH", 2, 0, 0))),
    "pcp-announce": rec(10, struct.pack("!BBHI", 2, 0, 0, 0) + bytes(10) + b"\xff\xff" + bytes([192, 168, 1, 10])),
    # PEER (RFC 6887 section 12.1): the MAP fields, remote peer port, reserved, address.
    "pcp-peer": rec(10, pcp_peer(17, 5000, 0, 3478)) + rec(10, pcp_peer(17, 5000, 0, 3478, 0)),
    "pcp-peer-suggest": rec(10, pcp_peer(6, 80, 4242, 443)),
    "pcp-peer-opts": rec(10, pcp_peer(17, 5000, 0, 3478, 600, opt(2) + opt(1, mapped(20)))),
    "pcp-third-party": rec(10, pcp_map(6, 22, 2222, 600, opt(1, mapped(20)))) +
                       rec(10, pcp_map(6, 22, 2222, 600, opt(1, mapped(10)))),
    "pcp-filter": rec(10, pcp_map(17, 5000, 5000, 600, opt(3, struct.pack("!xBH", 128, 3478) + mapped(7, 198, 51, 100)))),
    # FILTER (RFC 6887 section 13.3): a prefix, the renewal without, prefix 0, too many, malformed
    "pcp-filter-renew": rec(10, pcp_map(17, 5000, 5000, 600, opt(3, struct.pack("!xBH", 120, 0) + mapped(0, 198, 51, 100)))) +
                        rec(10, pcp_map(17, 5000, 5000, 600)) +
                        rec(10, pcp_map(17, 5000, 5000, 600, opt(3, struct.pack("!xBH", 128, 0) + mapped(7, 198, 51, 100)) + opt(3, struct.pack("!xBH", 0, 0) + bytes(16)))),
    "pcp-filter-many": rec(10, pcp_map(6, 80, 8081, 600, b"".join(opt(3, struct.pack("!xBH", 128, i) + mapped(i, 192, 0, 2)) for i in range(1, 6)))),
    "pcp-filter-bad": rec(10, pcp_map(6, 80, 8081, 600, opt(3, struct.pack("!xBH", 95, 0) + mapped(7, 198, 51, 100)))) +
                      rec(10, pcp_map(6, 80, 8081, 600, opt(3, struct.pack("!xBH", 128, 0) + b"\x20" + bytes(15)))),
    "pcp-options": rec(10, pcp_map(6, 80, 8081, 600, opt(2) + opt(2) + opt(99, b"abc") + opt(200, b"x"))),
}
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
PY
}

seed_state() { # state files: forwards, leases, the epoch, the DMZ, and lines to set aside
	printf 'forward tcp 8080 192.168.1.10:80\ndmz 192.168.1.50\n' >"$1/plain"
	printf 'forward udp 50000 192.168.1.20:5000 expires 4000000000 nonce 00112233445566778899aaff\npcp-epoch 1700000000\ndmz none\n' >"$1/lease"
	printf 'forward tcp 6000 192.168.1.2:0 expires 4000000000\nbogus\nforward tcp 8080 192.168.1.10:80\nforward tcp 8080 192.168.1.11:80\n' >"$1/bad"
	{ head -c 1500 /dev/zero | tr '\0' x; printf '\ndmz 192.168.1.50\n'; } >"$1/long-line"
	# UPnP descriptions, kept and refused; PCP FILTER: a lease's remote peers, and filters a
	# strict load refuses
	printf 'forward tcp 50082 192.168.1.10:80 expires 4000000000 upnp desc napt test #1\nforward tcp 50083 192.168.1.10:81 expires 4000000000 desc a"b\n' >"$1/desc"
	printf 'forward udp 50000 192.168.1.20:5000 expires 4000000000 filter 198.51.100.7/32:0 filter 192.0.2.0/24:3478 nonce 00112233445566778899aaff upnp\n' >"$1/lease-filters"
	printf 'forward udp 50000 192.168.1.20:5000 expires 4000000000 filter 198.51.100.7/24:0\nforward udp 50001 192.168.1.20:5001 expires 4000000000 filter 1.1.1.1/32:0 filter 1.1.1.2/32:0 filter 1.1.1.3/32:0 filter 1.1.1.4/32:0 filter 1.1.1.5/32:0\nforward udp 50002 192.168.1.20:5002 expires 4000000000 filter x\n' >"$1/bad-filters"
}

seed_upnp() { # UPnP actions as fuzz_upnp.c reads them: requester and action, then Name=Value
	local add='NewRemoteHost=\nNewExternalPort=5000\nNewProtocol=TCP\nNewInternalPort=80\nNewInternalClient=192.168.1.10\nNewEnabled=1\nNewPortMappingDescription=x\nNewLeaseDuration=0'
	printf "aAddPortMapping\n$add\n" >"$1/add"
	printf "aAddAnyPortMapping\n$add\n\naGetGenericPortMappingEntry\nNewPortMappingIndex=0\n" >"$1/add-any-list"
	printf "aAddPortMapping\n$add\n\nbDeletePortMapping\nNewRemoteHost=\nNewExternalPort=5000\nNewProtocol=TCP\n\naDeletePortMapping\nNewRemoteHost=\nNewExternalPort=5000\nNewProtocol=TCP\n" >"$1/add-delete"
	printf "aGetExternalIPAddress\n\nbGetStatusInfo\n\naGetSpecificPortMappingEntry\nNewRemoteHost=\nNewExternalPort=8080\nNewProtocol=UDP\n" >"$1/gets"
}

seed_sessions() { # sessions files (restart_peer.py), raw and to be resealed, for both configs
	local kind ctl
	for kind in old mixed; do
		/usr/bin/python3 "$src/tests/netns/restart_peer.py" sessions-file "$1/$kind.raw" "$kind"
		for ctl in 0 1 2 3; do
			{ printf "\\$(printf %o "$ctl")"; cat "$1/$kind.raw"; } >"$1/$kind-$ctl"
		done
		rm "$1/$kind.raw"
	done
}

for t in "${targets[@]}"; do
	bin="$work/$t"
	extra=()
	[ "$t" = fuzz_control ] && extra=(-I"$src/tests/unit" "$src"/src/naptd/control_commands.c
		"$src"/src/naptd/runtime_state.c "$src"/src/common/regular_file.c
		"$src"/src/common/file_replace.c "$src"/tests/unit/packet_builder.c
		"$src"/src/naptd/event_monitor.c "$src"/src/naptd/mapping_log.c
		"$src"/src/naptd/event_format.c "$src"/src/naptd/ipfix_export.c
		$(pkg-config --cflags --libs libfixbuf))
	case $t in fuzz_pcp | fuzz_state | fuzz_upnp) extra=("$src"/src/naptd/runtime_state.c
		"$src"/src/common/regular_file.c "$src"/src/common/file_replace.c) ;; esac
	[ "$t" = fuzz_sessions ] && extra=("$src"/src/common/regular_file.c "$src"/src/common/file_replace.c)
	[ "$t" = fuzz_coalesce ] && extra=(-I"$src/tests/unit" "$src"/src/naptd/tun_coalesce.c
		"$src"/tests/unit/packet_builder.c)
	clang "${flags[@]}" -o "$bin" "$src/tests/fuzz/$t.c" $engine "${extra[@]}"
	corpus="$work/corpus-$t"
	mkdir -p "$corpus"
	case $t in
	fuzz_packet) seed_corpus "$corpus" ;;
	fuzz_config) for c in "$src"/pcaps/*/config; do
			[ -e "$c" ] && cp "$c" "$corpus/$(basename "$(dirname "$c")")"
		done ;;
	fuzz_control) seed_requests "$corpus" ;;
	fuzz_pcp) seed_pcp "$corpus" ;;
	fuzz_state) seed_state "$corpus" ;;
	fuzz_upnp) seed_upnp "$corpus" ;;
	fuzz_sessions) seed_sessions "$corpus" ;;
	esac
	echo "== $t: ${secs}s"
	(cd "$work" && "$bin" -max_total_time="$secs" -print_final_stats=1 "$corpus" 2>&1 |
		grep -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done' ) ||
		{ echo "$t: FAILED (see $work)"; exit 1; }
	ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null && { echo "$t: found a failing input"; exit 1; }
done
echo "fuzz: all targets ran clean"
