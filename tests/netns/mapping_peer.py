#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""mapping_peer.py - the two ends of test_mapping_log.sh's flows, and a slow monitor reader.

  mapping_peer.py send DST PORT FIRST N      from inside: one datagram from each source port
                                             FIRST..FIRST+N-1, its text the source port
  mapping_peer.py recv ADDR PORT OUT N SECS  outside: write "SRC-ADDR:SRC-PORT TEXT" for each
                                             datagram to OUT until N came or SECS passed
  mapping_peer.py slow SOCKET GO SECS        a monitor reader that reads nothing until the file
                                             GO exists (at most SECS), then reads for 2 s and
                                             prints: EVENTS LOST (lines, sum of event=lost)
"""
import os
import socket
import sys
import time


def send(dst, port, first, n):
    for p in range(first, first + n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", p))
        s.sendto(str(p).encode(), (dst, port))
        s.close()


def recv(addr, port, out, n, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    s.settimeout(0.5)
    end = time.monotonic() + secs
    got = 0
    with open(out, "w", encoding="ascii") as f:
        while got < n and time.monotonic() < end:
            try:
                data, src = s.recvfrom(100)
            except socket.timeout:
                continue
            f.write(f"{src[0]}:{src[1]} {data.decode()}\n")
            f.flush()
            got += 1


def slow(path, go, secs):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.sendall(b"monitor\n")
    end = time.monotonic() + secs
    while not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.1)
    s.settimeout(2)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        pass
    lines = data.decode().splitlines()
    events = sum(1 for line in lines if line.startswith("event=") and "event=lost" not in line)
    lost = sum(int(line.rsplit("count=", 1)[1]) for line in lines if line.startswith("event=lost"))
    print(events, lost)


def main():
    mode = sys.argv[1]
    if mode == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "recv":
        recv(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    elif mode == "slow":
        slow(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
