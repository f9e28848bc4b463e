#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""compare_pcaps.py EXPECTED GOT - packet by packet, byte for byte, timestamps included.

Exits 0 when equal; otherwise prints the first mismatch readably (packet index, the first
field that differs, expected vs got, as scapy dissects them) and exits 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay_pcap  # noqa: E402


def dissect(data):
    """scapy's IP dissection of data, for the report of a mismatch only: importing scapy
    took most of this script's time in every replay case, which mostly passes."""
    from scapy.all import IP, conf

    conf.verb = 0
    return IP(data)


# Headers compared field by field; what follows them (payloads, which scapy may dissect as
# DNS and the like by port number) is compared byte by byte.
HEADERS = {"IP", "TCP", "UDP", "ICMP", "IP in ICMP", "TCP in ICMP", "UDP in ICMP",
           "ICMP in ICMP"}


def layers(pkt):
    """(layer name, field name, value) for every header field, in order."""
    out = []
    while pkt is not None and pkt.name in HEADERS:
        for f in pkt.fields_desc:
            out.append((pkt.name, f.name, pkt.getfieldval(f.name)))
        pkt = pkt.payload if pkt.payload else None
    return out


def first_difference(want, got):
    fw, fg = layers(dissect(want)), layers(dissect(got))
    for (lw, nw, vw), (lg, ng, vg) in zip(fw, fg):
        if (lw, nw) != (lg, ng):
            return "layer %s.%s expected, got %s.%s" % (lw, nw, lg, ng)
        if vw != vg:
            return "%s.%s: expected %r, got %r" % (lw, nw, vw, vg)
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            return "byte %d: expected 0x%02x, got 0x%02x" % (i, a, b)
    return "length: expected %d bytes, got %d" % (len(want), len(got))


def summary(data):
    """One line: addresses, ports or ICMP type, length."""
    p = dissect(data)
    ends = "%s > %s" % (p.src, p.dst)
    l4 = p.payload
    if l4.name in ("TCP", "UDP") and not p.frag:
        ends = "%s:%d > %s:%d %s" % (p.src, l4.sport, p.dst, l4.dport, l4.name)
    elif l4.name == "ICMP" and not p.frag:
        ends += " ICMP %d/%d" % (l4.type, l4.code)
    else:
        ends += " proto %d frag %d" % (p.proto, p.frag)
    return "%s, %d bytes" % (ends, len(data))


def main(expected_path, got_path):
    _, want = replay_pcap.read(expected_path)
    linktype, got = replay_pcap.read(got_path)
    if linktype != replay_pcap.LINKTYPE_RAW:
        print("%s: link type %d, expected %d (raw IP)" % (got_path, linktype,
                                                          replay_pcap.LINKTYPE_RAW))
        return 1
    for i, ((tw, dw), (tg, dg)) in enumerate(zip(want, got), start=1):
        if dw != dg:
            print("packet %d: %s" % (i, first_difference(dw, dg)))
            print("  expected: %s\n  got:      %s" % (summary(dw), summary(dg)))
            return 1
        if tw != tg:
            print("packet %d: time expected %d us, got %d us" % (i, tw, tg))
            return 1
    if len(want) != len(got):
        print("expected %d packets, got %d" % (len(want), len(got)))
        extra = want[len(got):] if len(want) > len(got) else got[len(want):]
        label = "missing" if len(want) > len(got) else "unexpected"
        for i, (_, data) in enumerate(extra, start=min(len(want), len(got)) + 1):
            print("  %s packet %d: %s" % (label, i, summary(data)))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: compare_pcaps.py EXPECTED.pcap GOT.pcap")
    sys.exit(main(sys.argv[1], sys.argv[2]))
