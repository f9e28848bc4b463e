#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pcp_client.py - a small PCP client (RFC 6887) for the tests, written from the RFC alone.

  pcp_client.py SERVER CLIENT announce [OPTION...]
  pcp_client.py SERVER CLIENT map tcp|udp INTERNAL-PORT SUGGESTED-PORT LIFETIME [OPTION...]
  pcp_client.py SERVER CLIENT peer tcp|udp INTERNAL-PORT REMOTE-ADDR REMOTE-PORT LIFETIME
                [suggest PORT] [OPTION...]

OPTION (section 13): prefer-failure; third-party ADDR; filter ADDR/LEN:PORT; filter-none;
raw CODE
(an option of that code, no data).
SERVER is the PCP server's address (port 5351), CLIENT this host's address (it goes in the
request header). The mapping nonce is random, or PCP_NONCE (24 hex digits) from the
environment: a client renews its mapping under the nonce it made it with (section 11.1). Prints one line: "result=N lifetime=N epoch=N" and, for MAP and PEER,
"port=N external=A.B.C.D nonce-ok=yes|no" (PEER: also "remote-ok=yes|no", the remote peer
echoed). Exit 0 when an answer came, 2 on timeout.
"""
import ipaddress
import os
import socket
import struct
import sys

PCP_PORT = 5351
OP_ANNOUNCE, OP_MAP, OP_PEER = 0, 1, 2
OPT_THIRD_PARTY, OPT_PREFER_FAILURE, OPT_FILTER = 1, 2, 3


def mapped(addr):
    """An IPv4 address as PCP carries it: IPv4-mapped IPv6 (RFC 6887 section 5)."""
    return ipaddress.IPv6Address("::ffff:" + addr).packed


def header(opcode, lifetime, client):
    # Section 7.1: version 2, R=0 and opcode, 16 reserved bits, lifetime, client address.
    return struct.pack("!BBHI", 2, opcode, 0, lifetime) + mapped(client)


def option(code, data=b""):
    # Section 7.3: code, reserved, length of the data, the data padded to 4 bytes.
    return struct.pack("!BBH", code, 0, len(data)) + data + bytes(-len(data) % 4)


def options(words):
    """The OPTION words of the command line as options (section 13)."""
    out, i = b"", 0
    while i < len(words):
        w = words[i]
        if w == "prefer-failure":
            out += option(OPT_PREFER_FAILURE)
        elif w == "third-party":
            i += 1
            out += option(OPT_THIRD_PARTY, mapped(words[i]))
        elif w == "filter":
            # Section 13.3: reserved, prefix length (of the 128-bit form), remote port,
            # remote address.
            i += 1
            prefix, port = words[i].rsplit(":", 1)
            addr, plen = prefix.split("/")
            out += option(OPT_FILTER, struct.pack("!xBH", 96 + int(plen), int(port)) +
                          mapped(addr))
        elif w == "filter-none":
            # Section 13.3: prefix length 0 removes all existing filters (erratum 3891: the
            # port and address are zero).
            out += option(OPT_FILTER, bytes(20))
        elif w == "raw":
            i += 1
            out += option(int(words[i]))
        else:
            raise SystemExit("pcp_client.py: unknown option word %r" % w)
        i += 1
    return out


def map_request(client, proto, internal, suggested, lifetime, nonce, opts):
    # Section 11.1: nonce (12), protocol, 3 reserved, internal port, suggested external
    # port, suggested external address (all zero: no preference).
    body = nonce + struct.pack("!B3xHH", proto, internal, suggested) + bytes(16)
    return header(OP_MAP, lifetime, client) + body + opts


def peer_request(client, proto, internal, suggested, remote, remote_port, lifetime, nonce,
                 opts):
    # Section 12.1: the MAP fields, then remote peer port, 16 reserved bits, remote peer
    # address.
    body = (nonce + struct.pack("!B3xHH", proto, internal, suggested) + bytes(16) +
            struct.pack("!H2x", remote_port) + mapped(remote))
    return header(OP_PEER, lifetime, client) + body + opts


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
    nonce = bytes.fromhex(os.environ["PCP_NONCE"]) if "PCP_NONCE" in os.environ else os.urandom(12)
    if op == "announce":
        msg = header(OP_ANNOUNCE, 0, client) + options(sys.argv[4:])
    elif op == "map":
        proto = {"tcp": 6, "udp": 17}[sys.argv[4]]
        internal, suggested, lifetime = (int(v) for v in sys.argv[5:8])
        msg = map_request(client, proto, internal, suggested, lifetime, nonce,
                          options(sys.argv[8:]))
    else:
        proto = {"tcp": 6, "udp": 17}[sys.argv[4]]
        internal, remote = int(sys.argv[5]), sys.argv[6]
        remote_port, lifetime = int(sys.argv[7]), int(sys.argv[8])
        words, suggested = sys.argv[9:], 0
        if words[:1] == ["suggest"]:
            suggested, words = int(words[1]), words[2:]
        msg = peer_request(client, proto, internal, suggested, remote, remote_port,
                           lifetime, nonce, options(words))
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
    if op in ("map", "peer") and len(data) >= 60:
        port = struct.unpack("!H", data[42:44])[0]
        ext = ipaddress.IPv6Address(data[44:60])
        ext4 = ext.ipv4_mapped or ext
        line += " port=%d external=%s nonce-ok=%s" % (
            port, ext4, "yes" if data[24:36] == nonce else "no")
    if op == "peer" and len(data) >= 80:
        line += " remote-ok=%s" % ("yes" if data[60:80] == msg[60:80] else "no")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
