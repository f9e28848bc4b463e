#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""control_client.py - raw clients of naptd's control socket, for test_cli.sh.

Speaks the protocol of docs/control-protocol.md byte by byte, so the tests can send what
naptctl never would: binary, over-long, unfinished requests, and many clients at once.

  control_client.py SOCKET req HEX          send the bytes, print the answer's first line
  control_client.py SOCKET halfclose TEXT   send TEXT without "\\n", shut down writing
  control_client.py SOCKET hangup TEXT      send TEXT without "\\n" and close at once
  control_client.py SOCKET silent           connect, send nothing, print seconds until closed
  control_client.py SOCKET many N TEXT      N connections opened first, then TEXT sent on
                                            each, print how many answers start with "ok"
  control_client.py SOCKET flood N          N silent connections, print how many were refused
  control_client.py SOCKET slow TEXT        send TEXT, wait 2 s before reading, print the answer
  control_client.py SOCKET stall N TEXT S   N connections each send TEXT and never read; after
                                            S seconds print how many naptd has not closed
"""
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    return s


def answer(s):
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        data += d
    return data


def first_line(data):
    return data.split(b"\n", 1)[0].decode("ascii", "replace")


def still_open(s):
    """No end of file or reset waits among what the socket has received (read past it)."""
    try:
        while True:
            d = s.recv(1 << 20, socket.MSG_DONTWAIT)
            if not d:
                return False
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False


def send_quietly(s, data):
    """The server may refuse and close before reading everything: its answer still counts."""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "req":
        s = connect(path)
        send_quietly(s, bytes.fromhex(sys.argv[3]))
        print(first_line(answer(s)))
    elif mode == "halfclose":
        s = connect(path)
        send_quietly(s, sys.argv[3].encode())
        s.shutdown(socket.SHUT_WR)
        print(first_line(answer(s)))
    elif mode == "hangup":
        s = connect(path)
        send_quietly(s, sys.argv[3].encode())
        s.close()
    elif mode == "silent":
        s = connect(path)
        start = time.monotonic()
        answer(s)
        print(round(time.monotonic() - start))
    elif mode == "many":
        n, text = int(sys.argv[3]), sys.argv[4]
        socks = [connect(path) for _ in range(n)]
        for s in socks:
            s.sendall(text.encode() + b"\n")
        print(sum(1 for s in socks if answer(s).startswith(b"ok\n")))
    elif mode == "flood":
        socks = [connect(path) for _ in range(int(sys.argv[3]))]
        time.sleep(1.5)  # the refusals are sent at accept time; the others stay silent
        refused = 0
        for s in socks:
            try:
                if s.recv(100, socket.MSG_DONTWAIT).startswith(b"error: too many clients"):
                    refused += 1
            except BlockingIOError:
                pass
        print(refused)
    elif mode == "slow":
        s = connect(path)
        s.sendall(sys.argv[3].encode() + b"\n")
        time.sleep(2)  # the answer outgrows the socket buffer: naptd must wait for room
        sys.stdout.write(answer(s).decode())
    elif mode == "stall":
        n, text, secs = int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
        socks = [connect(path) for _ in range(n)]
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(text.encode() + b"\n")
        print("sent", flush=True)
        time.sleep(secs)
        print(sum(1 for s in socks if still_open(s)))
    else:
        sys.exit("unknown mode " + mode)


main()
