#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""tcp_peer_echo.py ADDR PORT - a TCP server that answers each connection with the client's
address and port as it sees them ("A.B.C.D:PORT"), then closes it: what a NAT made of the
client, seen from outside."""
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
while True:
    c, peer = s.accept()
    c.sendall(("%s:%d\n" % peer).encode())
    c.close()
