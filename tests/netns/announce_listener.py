#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""announce_listener.py - catch a NAT gateway's unsolicited announcements on 224.0.0.1:5350.

  announce_listener.py LOCAL-ADDR EXTERNAL-ADDR [TIMEOUT-S]

Joins 224.0.0.1 on the interface of LOCAL-ADDR, binds port 5350 and collects one series of
announcements, written from the RFCs alone:
  - RFC 6886 section 3.2.1: NAT-PMP public address responses (version 0, opcode 128, result
    0, the external address), 10 of them, the first two 250 ms apart and each later gap twice
    the one before;
  - RFC 6887 section 14.1.3: PCP ANNOUNCE responses (version 2, R=1 opcode 0, result 0,
    lifetime 0), which the gateway sends along with each.
Prints "natpmp=N pcp=N gaps-ms=G1,G2,..." and exits 0 when the series is as above, 1 with
the reason otherwise (also when TIMEOUT-S, default 150, passes first).
"""
import socket
import struct
import sys
import time

PORT = 5350
ALL_HOSTS = "224.0.0.1"
COUNT = 10
FIRST_GAP_MS = 250


def listen(local):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", PORT))
    mreq = socket.inet_aton(ALL_HOSTS) + socket.inet_aton(local)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    return s


def natpmp_ok(data, external):
    # Section 3.2: version 0, opcode 128, result 0, epoch, external address.
    if len(data) != 12:
        return "NAT-PMP announcement of %d bytes, not 12" % len(data)
    version, op, result = struct.unpack("!BBH", data[:4])
    if (version, op, result) != (0, 128, 0):
        return "NAT-PMP announcement version %d opcode %d result %d" % (version, op, result)
    if socket.inet_ntoa(data[8:12]) != external:
        return "NAT-PMP announcement of %s, not %s" % (socket.inet_ntoa(data[8:12]), external)
    return None


def pcp_ok(data):
    # RFC 6887 section 7.2 header; 14.1.3: ANNOUNCE, result SUCCESS, lifetime 0.
    if len(data) < 24:
        return "PCP ANNOUNCE of %d bytes" % len(data)
    version, r_op, result, lifetime = struct.unpack("!BBxBI", data[:8])
    if (version, r_op, result, lifetime) != (2, 0x80, 0, 0):
        return "PCP announcement version %d opcode %#x result %d lifetime %d" % (
            version, r_op, result, lifetime)
    return None


def collect(s, external, timeout):
    """Arrival times of the NAT-PMP announcements and the count of PCP ones."""
    natpmp, pcp = [], 0
    deadline = time.monotonic() + timeout
    # After the 10th NAT-PMP one: a second for its PCP companion (and nothing else).
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(1100)
        except socket.timeout:
            break
        now = time.monotonic()
        why = natpmp_ok(data, external) if data[:1] == b"\0" else pcp_ok(data)
        if why:
            return None, 0, why
        if data[:1] == b"\0":
            natpmp.append(now)
            if len(natpmp) == COUNT:
                deadline = now + 1.0
        else:
            pcp += 1
    return natpmp, pcp, None


def check_gaps(gaps):
    """Gap i should be 250 ms * 2^i; scheduling adds a little, so allow some slack."""
    for i, gap in enumerate(gaps):
        want = FIRST_GAP_MS * 2 ** i
        if not 0.8 * want <= gap <= 1.2 * want + 100:
            return "gap %d is %d ms, not about %d ms" % (i + 1, gap, want)
    return None


def main():
    local, external = sys.argv[1:3]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 150.0
    natpmp, pcp, why = collect(listen(local), external, timeout)
    if why:
        print(why)
        return 1
    gaps = [round((b - a) * 1000) for a, b in zip(natpmp, natpmp[1:])]
    print("natpmp=%d pcp=%d gaps-ms=%s" % (len(natpmp), pcp, ",".join(map(str, gaps))))
    if len(natpmp) != COUNT or pcp != COUNT:
        print("want %d of each" % COUNT)
        return 1
    why = check_gaps(gaps)
    if why:
        print(why)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
