#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ecmp_peer.py - the traffic of test_ecmp_nodes.sh: many small TCP and UDP flows and one
long TCP upload, the server that answers them and records each flow's external endpoint, and
the report that judges a node's death from both records.

  ecmp_peer.py server ADDR PORT OUT
      TCP and UDP echo on PORT (lines "FLOW SEQ"), the long upload on PORT+1 (answered with
      "BYTES SHA256" at its end), a paced download on PORT+2; OUT gets, each second,
      {flow: [endpoints seen]}.
  ecmp_peer.py client SERVER PORT OUT --hosts A,B,... --flows N --seconds S --bulk-rate B
      flow i: host i % H (H hosts), TCP when i / H is even, else UDP, inside port 30000 + i,
      one line every 0.1 s, for S seconds or until the file OUT.stop exists; the upload
      from the first host, inside port 31000, B bytes/s; a download (PORT+2, 500 kB/s) to
      the second host, inside port 31001, and another from inside port 31002 whose socket
      has a 1 s TCP keepalive. OUT: the reply times of every flow, its errors,
      the upload's verdict. Writes OUT.up once every flow has had a reply.
  ecmp_peer.py report CLIENT SERVER EVENTS LAYOUT PING
      EVENTS: lines "EVENT NODE T" (T a time.time() value; the first a kill of the node
      whose slice holds the upload's host); LAYOUT: JSON with the deterministic formula's
      parameters and each node's inside slices; PING: the output of `ping -D -i 0.01` from
      the upload's host. Prints how long traffic stopped and how many flows survived;
      exit 1 below 95 %, when the upload failed, or when the download with the host's
      keepalive did not resume after each move of its slice.
"""
import hashlib
import ipaddress
import json
import os
import selectors
import socket
import sys
import time

INTERVAL = 0.1
DOWN_RATE = 500000  # the download's bytes a second
DOWN_PORT = 31001
PING_INTERVAL = 0.01
FLOW_PORT0 = 30000
BULK_PORT = 31000


def dump(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, path)


def server(addr, port, out):
    sel = selectors.DefaultSelector()
    seen = {}  # flow -> set of "addr:port"
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(512)
    bulk = socket.socket()
    bulk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bulk.bind((addr, port + 1))
    bulk.listen(4)
    down = socket.socket()
    down.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    down.bind((addr, port + 2))
    down.listen(4)
    downloads = []  # [socket, start, bytes sent]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, port))
    for s, kind in ((tcp, "accept"), (bulk, "bulk-accept"), (down, "down-accept"),
                    (udp, "udp")):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, (kind, None))
    last_dump = 0
    while True:
        for key, _ in sel.select(0.2):
            kind, st = key.data
            s = key.fileobj
            if kind == "accept":
                c, peer = s.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, ("tcp", {"peer": peer, "buf": b""}))
            elif kind == "bulk-accept":
                c, peer = s.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ,
                             ("bulk", {"peer": peer, "n": 0, "h": hashlib.sha256()}))
            elif kind == "down-accept":
                c, _ = s.accept()
                c.setblocking(False)
                downloads.append([c, time.time(), 0])
            elif kind == "udp":
                try:
                    data, peer = s.recvfrom(2048)
                except OSError:
                    continue
                flow = data.split(b" ")[0].decode(errors="replace")
                seen.setdefault("u" + flow, set()).add("%s:%d" % peer)
                s.sendto(data, peer)
            elif kind == "tcp":
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    s.close()
                    continue
                st["buf"] += data
                while b"\n" in st["buf"]:
                    line, st["buf"] = st["buf"].split(b"\n", 1)
                    flow = line.split(b" ")[0].decode(errors="replace")
                    seen.setdefault("t" + flow, set()).add("%s:%d" % st["peer"])
                    try:
                        s.send(line + b"\n")
                    except OSError:
                        pass
            elif kind == "bulk":
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if data:
                    st["n"] += len(data)
                    st["h"].update(data)
                    continue
                seen.setdefault("bulk", set()).add("%s:%d" % st["peer"])
                s.setblocking(True)
                s.settimeout(2)
                try:
                    s.sendall(b"%d %s\n" % (st["n"], st["h"].hexdigest().encode()))
                except OSError:
                    pass
                sel.unregister(s)
                s.close()
        for d in downloads:
            d[2] += pace(d[0], DOWN_RATE * (time.time() - d[1]) - d[2])
        if time.time() - last_dump >= 1:
            dump(out, {k: sorted(v) for k, v in seen.items()})
            last_dump = time.time()


def pace(sock, due):
    """Send up to due bytes (at most 64 KiB) without blocking; the bytes sent."""
    if due < 1:
        return 0
    try:
        return sock.send(b"d" * min(int(due), 65536))
    except OSError:
        return 0


class Flow:
    def __init__(self, i, host, tcp):
        self.i, self.host, self.tcp = i, host, tcp
        self.seq = 0
        self.replies = []
        self.error = None
        self.buf = b""
        self.sock = None


def open_flows(args, sel):
    flows = []
    for i in range(args["flows"]):
        nhosts = len(args["hosts"])
        f = Flow(i, args["hosts"][i % nhosts], (i // nhosts) % 2 == 0)
        kind = socket.SOCK_STREAM if f.tcp else socket.SOCK_DGRAM
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((f.host, FLOW_PORT0 + i))
        if f.tcp:
            s.settimeout(10)
            s.connect((args["server"], args["port"]))
        s.setblocking(False)
        f.sock = s
        sel.register(s, selectors.EVENT_READ, f)
        flows.append(f)
    return flows


def flow_read(f, now):
    try:
        data = f.sock.recv(4096)
    except BlockingIOError:
        return
    except OSError as e:
        # An unconnected UDP socket reports no ICMP errors; a TCP one only fatal ones.
        if f.tcp:
            f.error = f.error or "recv: %s" % e
        return
    if not f.tcp:
        f.replies.append(now)
        return
    if not data:
        f.error = f.error or "connection closed"
        return
    f.buf += data
    while b"\n" in f.buf:
        _, f.buf = f.buf.split(b"\n", 1)
        f.replies.append(now)


def flow_send(f, args):
    f.seq += 1
    line = b"%d %d\n" % (f.i, f.seq)
    try:
        if f.tcp:
            f.sock.send(line)
        else:
            f.sock.sendto(line, (args["server"], args["port"]))
    except BlockingIOError:
        pass
    except OSError as e:
        if f.tcp:
            f.error = f.error or "send: %s" % e


class Bulk:
    """The long upload, paced at rate bytes a second, from a reproducible byte stream."""

    def __init__(self, args):
        self.rate = args["bulk_rate"]
        self.sock = socket.socket()
        self.sock.bind((args["hosts"][0], BULK_PORT))
        self.sock.settimeout(10)
        self.sock.connect((args["server"], args["port"] + 1))
        self.sock.setblocking(False)
        self.block = hashlib.sha256(b"ecmp").digest() * 2048  # 64 KiB
        self.sent = 0
        self.h = hashlib.sha256()
        self.error = None

    def pump(self, elapsed):
        due = min(int(elapsed * self.rate), self.sent + len(self.block)) - self.sent
        if due <= 0 or self.error:
            return
        try:
            n = self.sock.send(self.block[:due])
        except BlockingIOError:
            return
        except OSError as e:
            self.error = "send: %s" % e
            return
        self.h.update(self.block[:n])
        self.sent += n

    def finish(self):
        if self.error:
            return self.error
        self.sock.setblocking(True)
        self.sock.settimeout(20)
        try:
            self.sock.shutdown(socket.SHUT_WR)
            answer = self.sock.makefile().readline().split()
        except OSError as e:
            return "finish: %s" % e
        want = [str(self.sent), self.h.hexdigest()]
        return None if answer == want else "server got %s, sent %s" % (answer, want)


def open_download(args, port, keepalive):
    """A paced download to the second host from inside port port. With keepalive, the
    host's TCP sends a keepalive probe after 1 s without data (every 1 s, 30 unanswered at
    most): the host-side remedy of docs/scale-out.md, Limits, "Inbound before outbound"."""
    s = socket.socket()
    if keepalive:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 30)
    s.bind((args["hosts"][1], port))
    s.settimeout(10)
    s.connect((args["server"], args["port"] + 2))
    s.setblocking(False)
    return s


def client(args):
    sel = selectors.DefaultSelector()
    flows = open_flows(args, sel)
    bulk = Bulk(args)
    downs = {"download": open_download(args, DOWN_PORT, False),
             "download_ka": open_download(args, DOWN_PORT + 1, True)}
    for name, s in downs.items():
        sel.register(s, selectors.EVENT_READ, name)
    down_times = {name: [] for name in downs}
    start = time.time()
    up_written = False
    next_send = start
    stop = args["out"] + ".stop"
    while time.time() - start < args["seconds"] and not os.path.exists(stop):
        now = time.time()
        if now >= next_send:
            for f in flows:
                if not f.error:
                    flow_send(f, args)
            next_send += INTERVAL
        bulk.pump(now - start)
        for key, _ in sel.select(max(0.0, min(next_send - time.time(), 0.01))):
            if isinstance(key.data, str):
                try:
                    if key.fileobj.recv(65536):
                        down_times[key.data].append(time.time())
                except OSError:
                    pass
            else:
                flow_read(key.data, time.time())
        if not up_written and all(f.replies for f in flows):
            open(args["out"] + ".up", "w").close()
            up_written = True
    result = {
        "start": start,
        "end": time.time(),
        "flows": [{"i": f.i, "host": f.host, "tcp": f.tcp, "replies": f.replies,
                   "error": f.error} for f in flows],
        "bulk": {"sent": bulk.sent, "error": bulk.finish()},
    }
    result.update(down_times)
    dump(args["out"], result)


def formula(layout, host, port):
    """The external endpoint of docs/scale-out.md's formula (no collisions: the flows'
    inside ports differ modulo P)."""
    k = int(ipaddress.ip_address(host)) - int(ipaddress.ip_address(layout["in_base"]))
    ext = ipaddress.ip_address(layout["ext_base"]) + k // layout["per_ext"]
    first = layout["port_lo"] + (k % layout["per_ext"]) * layout["ports"]
    return "%s:%d" % (ext, first + port % layout["ports"])


def node_of(layout, host):
    for node, prefixes in layout["slices"].items():
        if any(ipaddress.ip_address(host) in ipaddress.ip_network(p) for p in prefixes):
            return node
    return None


def stop_time(replies, t, t_next, interval=INTERVAL):
    """How long a flow got no reply at an event at time t: its longest gap between replies
    that ends after t and starts before t + 0.5 s (the time is taken a fork or two before
    the signal, which may come late on a loaded machine) and before the next event at
    t_next, less the sending interval. None if it got no reply before t or none after. A
    stall of the client itself shows in every group of flows alike."""
    if not replies or replies[0] > t or replies[-1] <= t:
        return None
    gaps = [b - a for a, b in zip(replies, replies[1:])
            if b > t and a < min(t + 0.5, t_next)]
    return max(0.0, max(gaps) - interval)


def ping_replies(path):
    """The reply times of `ping -D`: its lines start "[SECONDS] 64 bytes from"."""
    times = []
    for line in open(path):
        if line.startswith("[") and "bytes from" in line:
            times.append(float(line[1:line.index("]")]))
    return times


def summary(name, values):
    if not values:
        return "%s: none" % name
    values = sorted(values)
    return "%s: %d flows, median %.0f ms, max %.0f ms" % (
        name, len(values), 1000 * values[len(values) // 2], 1000 * values[-1])


def event_stops(c, layout, event, node, t, t_next):
    """Print how long the flows of node's slice (by protocol) and the others stopped after
    the event at t."""
    groups = (("moved udp", lambda f: node_of(layout, f["host"]) == node and not f["tcp"]),
              ("moved tcp", lambda f: node_of(layout, f["host"]) == node and f["tcp"]),
              ("other", lambda f: node_of(layout, f["host"]) != node))
    for name, member in groups:
        gaps = [stop_time(f["replies"], t, t_next) for f in c["flows"] if member(f)]
        stalled = sum(g is None for g in gaps)
        print("%s %s, %s: %s%s" % (
            event, node, name, summary("traffic stopped", [g for g in gaps if g is not None]),
            ", %d never resumed" % stalled if stalled else ""))


def report(client_path, server_path, events_path, layout_path, ping_path):
    with open(client_path) as f:
        c = json.load(f)
    with open(server_path) as f:
        seen = json.load(f)
    with open(layout_path) as f:
        layout = json.load(f)
    events = [(e, node, float(t)) for e, node, t in (line.split() for line in open(events_path))]
    last = max(t for _, _, t in events)
    end = c["end"]
    survived, lost = 0, []
    for f in c["flows"]:
        key = ("t" if f["tcp"] else "u") + str(f["i"])
        want = formula(layout, f["host"], FLOW_PORT0 + f["i"])
        ok = (not f["error"] and seen.get(key) == [want] and f["replies"] and
              f["replies"][-1] > end - 2 and any(last < r for r in f["replies"]))
        if ok:
            survived += 1
        else:
            lost.append("flow %d (%s %s): error %s, endpoints %s, want %s, last reply %.1f s"
                        % (f["i"], "tcp" if f["tcp"] else "udp", f["host"], f["error"],
                           seen.get(key), want,
                           (f["replies"][-1] - c["start"]) if f["replies"] else -1))
    probe = ping_replies(ping_path)
    for k, (event, node, t) in enumerate(events):
        t_next = events[k + 1][2] if k + 1 < len(events) else end
        event_stops(c, layout, event, node, t, t_next)
        if node == node_of(layout, layout["bulk_host"]):
            g = stop_time(probe, t, t_next, PING_INTERVAL)
            print("%s %s: ping every %.0f ms from %s (%d replies): %s" % (
                event, node, 1000 * PING_INTERVAL, layout["bulk_host"], len(probe),
                "no reply on both sides" if g is None else "traffic stopped %.0f ms" % (1000 * g)))
    total = len(c["flows"])
    print("flows survived: %d of %d (%.1f %%), same external endpoint before and after"
          % (survived, total, 100.0 * survived / total))
    for line in lost[:10]:
        print("  lost: " + line)
    bulk_want = formula(layout, layout["bulk_host"], BULK_PORT)
    bulk_ok = c["bulk"]["error"] is None and seen.get("bulk") == [bulk_want]
    print("long upload: %d bytes, %s, endpoint %s (formula %s)" % (
        c["bulk"]["sent"], "complete" if c["bulk"]["error"] is None else c["bulk"]["error"],
        seen.get("bulk"), bulk_want))
    # Reported, not judged: docs/scale-out.md, Limits, "Inbound before outbound".
    d = c["download"]
    print("download to %s (%d bytes/s, not judged): last data %.1f s after the start, "
          "%s after the kill" % (layout["down_host"], DOWN_RATE,
                                 (d[-1] - c["start"]) if d else -1,
                                 "resumed" if d and d[-1] > events[0][2] + 1 else "stalled"))
    ka_ok = download_ka(c, layout, events, end)
    return 0 if survived * 100 >= 95 * total and bulk_ok and ka_ok else 1


def download_ka(c, layout, events, end):
    """Print how long the download with the host's 1 s keepalive stopped at each event of
    its slice; False unless it resumed before the next event every time."""
    ok = True
    node = node_of(layout, layout["down_host"])
    for k, (event, n, t) in enumerate(events):
        if n != node:
            continue
        t_next = events[k + 1][2] if k + 1 < len(events) else end
        g = stop_time(c["download_ka"], t, t_next, 0)
        resumed = g is not None and t + g < t_next
        ok = ok and resumed
        print("%s %s: download with 1 s host keepalive to %s: %s" % (
            event, n, layout["down_host"],
            "stopped %.0f ms" % (1000 * g) if resumed else "did not resume before the next event"))
    return ok


def main():
    mode = sys.argv[1]
    if mode == "server":
        server(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "client":
        a = sys.argv[2:]
        opts = dict(zip(a[3::2], a[4::2]))
        client({"server": a[0], "port": int(a[1]), "out": a[2],
                "hosts": opts["--hosts"].split(","), "flows": int(opts["--flows"]),
                "seconds": float(opts["--seconds"]), "bulk_rate": int(opts["--bulk-rate"])})
    elif mode == "report":
        sys.exit(report(*sys.argv[2:7]))
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main()
