#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pcp_client.py - a small PCP client (RFC 6887) for the tests, written from the RFC alone.

  pcp_client.py SERVER CLIENT announce
  pcp_client.py SERVER CLIENT map tcp|udp INTERNAL-PORT SUGGESTED-PORT LIFETIME [prefer-failure]

SERVER is the PCP server's address (port 5351), CLIENT this host's address (it goes in the
request header). Prints one line: "result=N lifetime=N epoch=N" and, for MAP, "port=N
external=A.B.C.D nonce-ok=yes|no". Exit 0 when an answer came, 2 on timeout.
"""
import ipaddress
import os
import socket
import struct
import sys

PCP_PORT = 5351
OP_ANNOUNCE, OP_MAP = 0, 1
OPT_PREFER_FAILURE = 2


def mapped(addr):
    """An IPv4 address as PCP carries it: IPv4-mapped IPv6 (RFC 6887 section 5)."""
    return ipaddress.IPv6Address("::ffff:" + addr).packed


def header(opcode, lifetime, client):
    # Section 7.1: version 2, R=0 and opcode, 16 reserved bits, lifetime, client address.
    return struct.pack("!BBHI", 2, opcode, 0, lifetime) + mapped(client)


def map_request(client, proto, internal, suggested, lifetime, nonce, prefer_failure):
    # Section 11.1: nonce (12), protocol, 3 reserved, internal port, suggested external
    # port, suggested external address (all zero: no preference).
    body = nonce + struct.pack("!B3xHH", proto, internal, suggested) + bytes(16)
    opts = struct.pack("!BBH", OPT_PREFER_FAILURE, 0, 0) if prefer_failure else b""
    return header(OP_MAP, lifetime, client) + body + opts


def exchange(server, msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    # Section 8.1.1: retransmit; a few tries are enough in a namespace.
    for _ in range(4):
        s.sendto(msg, (server, PCP_PORT))
        try:
            data, peer = s.recvfrom(1100)
        except socket.timeout:
            continue
        if peer[0] == server and peer[1] == PCP_PORT:
            return data
    return None


def main():
    server, client, op = sys.argv[1:4]
    nonce = os.urandom(12)
    if op == "announce":
        msg = header(OP_ANNOUNCE, 0, client)
    else:
        proto = {"tcp": 6, "udp": 17}[sys.argv[4]]
        internal, suggested, lifetime = (int(v) for v in sys.argv[5:8])
        msg = map_request(client, proto, internal, suggested, lifetime, nonce,
                          "prefer-failure" in sys.argv[8:])
    data = exchange(server, msg)
    if data is None:
        print("timeout")
        return 2
    # Section 7.2: version, R=1 and opcode, reserved, result, lifetime, epoch, 96 reserved.
    version, r_op, result, lifetime, epoch = struct.unpack("!BBxBII", data[:12])
    if version != 2 or r_op != (0x80 | msg[1]):
        print("bad response header: version %d opcode %#x" % (version, r_op))
        return 1
    line = "result=%d lifetime=%d epoch=%d" % (result, lifetime, epoch)
    if op == "map" and len(data) >= 60:
        port = struct.unpack("!H", data[42:44])[0]
        ext = ipaddress.IPv6Address(data[44:60])
        ext4 = ext.ipv4_mapped or ext
        line += " port=%d external=%s nonce-ok=%s" % (
            port, ext4, "yes" if data[24:36] == nonce else "no")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
