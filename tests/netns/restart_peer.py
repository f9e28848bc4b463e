#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""restart_peer.py - the two ends of test_restart_sessions.sh's flows, each bounded in time.

  tcp-source ADDR PORT SECONDS      connect, send 8-byte big-endian counters 0, 1, 2, ...
                                    (64 KiB every 10 ms) for SECONDS, then close
  tcp-sink ADDR PORT SECONDS OUT    accept one connection; write to OUT (JSON) the peer's
                                    endpoint, the bytes, whether the counters ran on without
                                    a gap or a repeat, whether it ended cleanly, the
                                    longest time without data and the time from the first
                                    data to the last (ms)
  udp-source ADDR PORT SECONDS      a datagram holding its number every 5 ms for SECONDS
  udp-sink ADDR PORT SECONDS OUT FROM
                                    receive until SECONDS or 3 s of silence; write to OUT
                                    (JSON) every source endpoint seen, and of the datagrams
                                    from address FROM: how many, the highest number, the
                                    longest time without one and the time from the first
                                    to the last (ms)
  sessions-file OUT KIND            a sessions file (src/naptd/session_file.c's layout, from
                                    docs/design.md) for test_restart_hostile.sh: KIND old
                                    (saved a day ago), mixed (good, bad check, duplicate,
                                    address not external, invalid protocol)
"""
import json
import socket
import struct
import sys
import time

LIMIT = 60  # seconds any one end may take at most
CHUNK = 8192  # counters per write: 64 KiB


def tcp_source(addr, port, seconds):
    s = socket.create_connection((addr, int(port)), timeout=LIMIT)
    end = time.monotonic() + min(float(seconds), LIMIT)
    n = 0
    while time.monotonic() < end:
        s.sendall(struct.pack("!%dQ" % CHUNK, *range(n, n + CHUNK)))
        n += CHUNK
        time.sleep(0.01)
    s.close()


def tcp_sink(addr, port, seconds, out):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(1)
    srv.settimeout(LIMIT)
    conn, peer = srv.accept()
    end = time.monotonic() + min(float(seconds), LIMIT)
    res = {"peer": "%s:%d" % peer, "bytes": 0, "in_order": True, "clean_end": False, "gap_ms": 0,
           "span_ms": 0}
    buf, expect, first = b"", 0, time.monotonic()
    last = first
    while time.monotonic() < end:
        conn.settimeout(max(0.1, end - time.monotonic()))
        try:
            chunk = conn.recv(1 << 16)
        except socket.timeout:
            break
        except OSError as e:
            res["error"] = str(e)
            break
        now = time.monotonic()
        if not chunk:
            res["clean_end"] = True
            break
        res["gap_ms"] = max(res["gap_ms"], round((now - last) * 1000))
        last = now
        res["span_ms"] = round((now - first) * 1000)
        res["bytes"] += len(chunk)
        buf += chunk
        whole = len(buf) // 8 * 8
        for (v,) in struct.iter_unpack("!Q", buf[:whole]):
            if v != expect:
                res["in_order"] = False
            expect = v + 1
        buf = buf[whole:]
    json.dump(res, open(out, "w"))


def udp_source(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end = time.monotonic() + min(float(seconds), LIMIT)
    n = 0
    while time.monotonic() < end:
        s.sendto(struct.pack("!I", n) + bytes(60), (addr, int(port)))
        n += 1
        time.sleep(0.005)


def udp_sink(addr, port, seconds, out, want_from):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    end = time.monotonic() + min(float(seconds), LIMIT)
    res = {"sources": [], "datagrams": 0, "highest": -1, "gap_ms": 0, "span_ms": 0}
    first = last = None
    while time.monotonic() < end:
        s.settimeout(3 if last else max(0.1, end - time.monotonic()))
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            break
        now = time.monotonic()
        name = "%s:%d" % src
        if name not in res["sources"]:
            res["sources"].append(name)
        if src[0] != want_from:
            continue
        if last is not None:
            res["gap_ms"] = max(res["gap_ms"], round((now - last) * 1000))
        first = first or now
        last = now
        res["span_ms"] = round((now - first) * 1000)
        res["datagrams"] += 1
        if len(data) >= 4:
            res["highest"] = max(res["highest"], struct.unpack("!I", data[:4])[0])
    json.dump(res, open(out, "w"))


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def record(proto, in_ep, ext_ep, rem_ep, idle_ms, origin=0, seen=0):
    """One 32-byte record: endpoints as (dotted address, port)."""
    addrs = b"".join(socket.inet_aton(ep[0]) for ep in (in_ep, ext_ep, rem_ep))
    body = struct.pack("!BBBx", proto, origin, seen) + addrs
    body += struct.pack("!HHHxxI", in_ep[1], ext_ep[1], rem_ep[1], idle_ms)
    return body + struct.pack("!I", fnv1a(body))


def sessions_file(out, kind):
    lan, ext, wan = "192.168.77.2", "198.51.100.10", "198.51.100.2"
    good = record(17, (lan, 40001), (ext, 50001), (wan, 7001), 1000)
    if kind == "old":
        recs = [good, record(6, (lan, 40002), (ext, 50002), (wan, 7002), 1000, seen=3)]
        saved = int(time.time() * 1000) - 86400 * 1000
    else:
        bad = bytearray(record(17, (lan, 40003), (ext, 50003), (wan, 7003), 1000))
        bad[10] ^= 1  # an address bit flipped after the check was made
        recs = [good, bytes(bad), good,
                record(17, (lan, 40004), ("198.51.100.99", 50004), (wan, 7004), 1000),
                record(47, (lan, 40005), (ext, 50005), (wan, 7005), 1000)]
        saved = int(time.time() * 1000)
    head = b"naptsess" + struct.pack("!HHIII", 1, 32, len(recs), saved >> 32, saved & 0xFFFFFFFF)
    head += struct.pack("!II", fnv1a(head), 0)
    open(out, "wb").write(head + b"".join(recs))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"tcp-source": tcp_source, "tcp-sink": tcp_sink, "udp-source": udp_source,
     "udp-sink": udp_sink, "sessions-file": sessions_file}[cmd](*args)
