#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""stream_check.py - the two ends of test_coalesce.sh's traffic, each bounded in time.

  tcp-recv ADDR PORT CONNS OUTDIR   accept CONNS connections; each sends a one-byte stream
                                    number N, then data, stored in OUTDIR/stream-N
  tcp-send ADDR PORT N FILE         connect, send N and FILE, close
  udp-recv ADDR PORT COUNT OUT      receive datagrams until COUNT or 3 s of silence; write
                                    to OUT how many came, how many differ from what
                                    udp-send sent under their number, and in what order
  udp-send ADDR PORT COUNT SIZE     COUNT datagrams of SIZE bytes, in back-to-back runs of 32
"""
import hashlib
import socket
import struct
import sys
import threading
import time

LIMIT = 60  # seconds any one end may take


def datagram(number, size):
    """Datagram number: its number, then bytes that depend on it and on size."""
    seed = hashlib.sha256(struct.pack("!II", number, size)).digest()
    body = (seed * (size // len(seed) + 1))[: size - 4]
    return struct.pack("!I", number) + body


def tcp_recv(addr, port, conns, outdir):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(16)
    srv.settimeout(LIMIT)

    def take(conn):
        conn.settimeout(LIMIT)
        number = conn.recv(1)[0]
        with open("%s/stream-%d" % (outdir, number), "wb") as out:
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                out.write(chunk)
        conn.close()

    threads = []
    for _ in range(int(conns)):
        conn, _ = srv.accept()
        t = threading.Thread(target=take, args=(conn,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join(LIMIT)


def tcp_send(addr, port, number, path):
    with open(path, "rb") as f:
        data = f.read()
    s = socket.create_connection((addr, int(port)), timeout=LIMIT)
    s.sendall(bytes([int(number)]) + data)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the peer's close: everything arrived
    s.close()


def udp_recv(addr, port, count, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((addr, int(port)))
    s.settimeout(3)
    got, bad, order, end = 0, 0, [], time.time() + LIMIT
    while got < int(count) and time.time() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        number = struct.unpack("!I", data[:4])[0] if len(data) >= 4 else -1
        got += 1
        bad += data != datagram(number, len(data))
        order.append(number)
    inversions = sum(1 for a, b in zip(order, order[1:]) if b < a)
    with open(out, "w") as f:
        f.write("received %d bad %d inversions %d\n" % (got, bad, inversions))


def udp_send(addr, port, count, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for n in range(int(count)):
        s.sendto(datagram(n, int(size)), (addr, int(port)))
        if n % 32 == 31:
            time.sleep(0.002)


if __name__ == "__main__":
    {"tcp-recv": tcp_recv, "tcp-send": tcp_send, "udp-recv": udp_recv, "udp-send": udp_send}[
        sys.argv[1]
    ](*sys.argv[2:])
