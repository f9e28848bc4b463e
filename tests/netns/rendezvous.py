#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""rendezvous.py - a hole-punching rendezvous server and its two clients (UDP and TCP).

  rendezvous.py server ADDR PORT
  rendezvous.py udp-client SERVER PORT LOCAL_PORT PAIR NAME [--hold S] [--timeout S]
  rendezvous.py tcp-client SERVER PORT LOCAL_PORT PAIR NAME [--hold S] [--attempts N]
                [--timeout S]

Each client registers as NAME of PAIR from LOCAL_PORT; the server answers both members of a
pair with "PEER ip port SELF ip port": the public endpoint it saw for the other one and for
the receiver. Then both send straight to each other: hole punching as RFC 5128 section 3
describes it, for UDP and, by TCP simultaneous open, for TCP.

The udp-client succeeds (exit 0) once a datagram arrives from exactly the endpoint the server
reported for the peer; it keeps sending for a second after that so that the peer succeeds too.
--hold S waits S seconds after the server's answer before the first packet to the peer (the
"peer sends first" case). A datagram from any other source is a failure: it would mean the
peer's NAT used another port than the one the server saw. Exit 1 on failure or timeout.

The tcp-client registers over TCP from LOCAL_PORT, then connects from the same port to the
peer's public endpoint while the peer does the same (bounded retries), and exchanges a line.
--hold S waits S seconds before the first connect; --attempts N stops after N connects (1: the
first SYN must get through, no retry after a refusal).
Every client prints one line: "ok ..." or "fail ...".
"""
import argparse
import socket
import sys
import threading
import time

GRACE_S = 1.0  # keep punching after success so the peer's NAT sees our packets too
PUNCH_EVERY_S = 0.1
REGISTER_EVERY_S = 0.2


def endpoint_text(ep):
    return "%s:%d" % ep


def peer_message(peer, me):
    return "PEER %s %d SELF %s %d" % (peer[0], peer[1], me[0], me[1])


def parse_peer(text):
    """'PEER ip port SELF ip port' -> ((ip, port), (ip, port))."""
    words = text.split()
    if len(words) != 6 or words[0] != "PEER" or words[3] != "SELF":
        raise ValueError("bad answer %r" % text)
    return (words[1], int(words[2])), (words[4], int(words[5]))


# ---- server ------------------------------------------------------------------------------


class Registry:
    """The endpoints seen per (protocol, pair, name); a pair is complete with two names."""

    def __init__(self):
        self.lock = threading.Condition()
        self.seen = {}

    def register(self, key, name, endpoint):
        with self.lock:
            self.seen.setdefault(key, {})[name] = endpoint
            self.lock.notify_all()
            return dict(self.seen[key])

    def wait_pair(self, key, timeout):
        with self.lock:
            self.lock.wait_for(lambda: len(self.seen.get(key, {})) >= 2, timeout)
            return dict(self.seen.get(key, {}))


def serve_udp(sock, registry):
    while True:
        data, src = sock.recvfrom(2048)
        words = data.decode(errors="replace").split()
        if len(words) != 3 or words[0] != "REGISTER":
            continue
        members = registry.register(("udp", words[1]), words[2], src)
        if len(members) != 2:
            continue
        # Clients repeat REGISTER until answered, so answering both every time is safe.
        for name, ep in members.items():
            other = [e for n, e in members.items() if n != name][0]
            sock.sendto(peer_message(other, ep).encode(), ep)


def serve_tcp_client(conn, src, registry):
    with conn:
        conn.settimeout(20)
        try:
            words = conn.makefile("r").readline().split()
        except OSError:
            return
        if len(words) != 3 or words[0] != "REGISTER":
            return
        registry.register(("tcp", words[1]), words[2], src)
        members = registry.wait_pair(("tcp", words[1]), 20)
        if len(members) != 2:
            return
        other = [e for n, e in members.items() if n != words[2]][0]
        # The server closes first, so the TIME_WAIT stays here and the client may bind its
        # port again at once.
        conn.sendall((peer_message(other, src) + "\n").encode())


def serve_tcp(listener, registry):
    while True:
        conn, src = listener.accept()
        threading.Thread(target=serve_tcp_client, args=(conn, src, registry), daemon=True).start()


def run_server(args):
    registry = Registry()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((args.addr, args.port))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.addr, args.port))
    listener.listen(16)
    threading.Thread(target=serve_tcp, args=(listener, registry), daemon=True).start()
    print("listening on %s:%d udp and tcp" % (args.addr, args.port), flush=True)
    serve_udp(udp, registry)


# ---- UDP client --------------------------------------------------------------------------


def udp_register(sock, server, pair, name, deadline):
    message = ("REGISTER %s %s" % (pair, name)).encode()
    while time.monotonic() < deadline:
        sock.sendto(message, server)
        sock.settimeout(REGISTER_EVERY_S)
        try:
            data, src = sock.recvfrom(2048)
        except socket.timeout:
            continue
        if src == server:
            return parse_peer(data.decode())
    return None


def udp_punch(sock, peer, server, name, deadline):
    """Send to peer until a datagram from peer arrives; returns (ok, why). Late repeats of
    the server's answer are not the peer's and are skipped."""
    got_at = None
    while time.monotonic() < deadline:
        if got_at is not None and time.monotonic() - got_at > GRACE_S:
            break
        sock.sendto(("PUNCH %s" % name).encode(), peer)
        sock.settimeout(PUNCH_EVERY_S)
        try:
            _, src = sock.recvfrom(2048)
        except socket.timeout:
            continue
        if src == server:
            continue
        if src != peer:
            return False, "packet from %s, not from the peer %s" % (
                endpoint_text(src), endpoint_text(peer))
        if got_at is None:
            got_at = time.monotonic()
    if got_at is None:
        return False, "nothing from the peer %s" % endpoint_text(peer)
    return True, "received from %s" % endpoint_text(peer)


def run_udp_client(args):
    deadline = time.monotonic() + args.timeout
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", args.local_port))
    server = (args.server, args.port)
    answer = udp_register(sock, server, args.pair, args.name, deadline)
    if answer is None:
        print("fail %s: no answer from the rendezvous server" % args.name)
        return 1
    peer, me = answer
    time.sleep(args.hold)
    ok, why = udp_punch(sock, peer, server, args.name, deadline)
    print("%s %s: self %s peer %s: %s" % ("ok" if ok else "fail", args.name, endpoint_text(me),
                                          endpoint_text(peer), why))
    return 0 if ok else 1


# ---- TCP client --------------------------------------------------------------------------


def bound_tcp_socket(local_port):
    """A TCP socket on the fixed local port, which the rendezvous connection used before."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", local_port))
    return s


def tcp_register(args):
    with bound_tcp_socket(args.local_port) as s:
        s.settimeout(args.timeout)
        s.connect((args.server, args.port))
        s.sendall(("REGISTER %s %s\n" % (args.pair, args.name)).encode())
        return parse_peer(s.makefile("r").readline())


def tcp_exchange(s, name):
    s.sendall(("HELLO %s\n" % name).encode())
    return s.makefile("r").readline().strip()


def run_tcp_client(args):
    deadline = time.monotonic() + args.timeout
    try:
        peer, me = tcp_register(args)
    except (OSError, ValueError) as e:
        print("fail %s: rendezvous: %s" % (args.name, e))
        return 1
    attempts = 0
    why = "no attempt"
    time.sleep(args.hold)
    while attempts == 0 or (time.monotonic() < deadline and attempts != args.attempts):
        attempts += 1
        with bound_tcp_socket(args.local_port) as s:
            s.settimeout(max(0.1, min(4.0, deadline - time.monotonic())))
            try:
                s.connect(peer)
                line = tcp_exchange(s, args.name)
            except OSError as e:
                why = str(e)
                time.sleep(0.2)
                continue
            if s.getpeername() == peer and line.startswith("HELLO "):
                print("ok %s: self %s peer %s: connected on attempt %d, got %r" %
                      (args.name, endpoint_text(me), endpoint_text(peer), attempts, line))
                return 0
            why = "connected to %s, got %r" % (endpoint_text(s.getpeername()), line)
    print("fail %s: self %s peer %s: %d attempts, last: %s" %
          (args.name, endpoint_text(me), endpoint_text(peer), attempts, why))
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("addr")
    s.add_argument("port", type=int)
    for cmd in ("udp-client", "tcp-client"):
        c = sub.add_parser(cmd)
        c.add_argument("server")
        c.add_argument("port", type=int)
        c.add_argument("local_port", type=int)
        c.add_argument("pair")
        c.add_argument("name")
        c.add_argument("--timeout", type=float, default=5.0)
        c.add_argument("--hold", type=float, default=0.0)
        if cmd == "tcp-client":
            c.add_argument("--attempts", type=int, default=0, help="0: until the timeout")
    args = ap.parse_args()
    if args.cmd == "server":
        run_server(args)
        return 0
    return run_udp_client(args) if args.cmd == "udp-client" else run_tcp_client(args)


if __name__ == "__main__":
    sys.exit(main())
