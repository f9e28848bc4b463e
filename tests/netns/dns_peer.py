#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dns_peer.py - the two ends of a DNS lookup over UDP, written from RFC 1035 section 4.1.

  dns_peer.py serve ADDR PORT ANSWER   answer every A query with the address ANSWER
  dns_peer.py ask SERVER PORT NAME     send one A query (from an ephemeral port), print the
                                       address of the answer; exit 1 after 5 s without one
"""
import socket
import struct
import sys


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question_end(msg):
    """Offset after the first question: name (labels, no compression in a query), type, class."""
    i = 12
    while msg[i]:
        i += 1 + msg[i]
    return i + 1 + 4


def serve(addr, port, answer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        msg, peer = s.recvfrom(512)
        if len(msg) < 17:
            continue
        end = question_end(msg)
        # Header: same ID, QR=1 RD copied RA=1, one question, one answer.
        head = msg[:2] + struct.pack("!HHHHH", 0x8180 | (msg[2] & 1) << 8, 1, 1, 0, 0)
        # Answer: a pointer to the question's name (offset 12), A, IN, TTL 60, 4 bytes.
        rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(answer)
        s.sendto(head + msg[12:end] + rr, peer)


def ask(server, port, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    query = struct.pack("!HHHHHH", 0x4E41, 0x0100, 1, 0, 0, 0) + encode_name(name)
    s.sendto(query + struct.pack("!HH", 1, 1), (server, port))
    try:
        msg, _ = s.recvfrom(512)
    except socket.timeout:
        print("no answer", file=sys.stderr)
        return 1
    if msg[:2] != b"\x4e\x41" or struct.unpack("!H", msg[6:8])[0] < 1:
        print("bad answer", file=sys.stderr)
        return 1
    print(socket.inet_ntoa(msg[-4:]))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "ask":
        sys.exit(ask(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    else:
        sys.exit(__doc__)
