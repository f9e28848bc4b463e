#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""upnp_attack.py - hostile UPnP clients for test_break13_upnp.sh, written from HTTP/1.1
(RFC 9112) and the UPnP Device Architecture 1.1, not from naptd's code.

  raw ADDR PORT REQUEST      send REQUEST (\\r\\n written as "|", {body} replaced by a SOAP
                             AddPortMapping body and {len} by its length) on one
                             connection; print each HTTP status line's code read back in 3 s
  subs URL CALLBACK N        N SUBSCRIBEs with that CALLBACK; print "ok A refused R"
  fill ADDR PORT CLIENT N     up to N AddAnyPortMappings of CLIENT (from $UPNP_SRC), internal
                             ports 2000 up, 9 a second (under the rate of 10); print
                             "granted G" and the last status
  slow ADDR PORT N SECONDS   hold N connections that send a header byte a second; after 5 s
                             print "slowloris N held H" and the status of one normal GET
                             of the description (or "timeout") and how long it took
"""
import socket
import sys
import time
import os
import re
import urllib.parse

SRC = (os.environ["UPNP_SRC"], 0) if os.environ.get("UPNP_SRC") else None
SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:2"


def add_body(client, ext_port, action="AddPortMapping", in_port="80"):
    args = (f"<NewRemoteHost></NewRemoteHost><NewExternalPort>{ext_port}</NewExternalPort>"
            f"<NewProtocol>TCP</NewProtocol><NewInternalPort>{in_port}</NewInternalPort>"
            f"<NewInternalClient>{client}</NewInternalClient><NewEnabled>1</NewEnabled>"
            "<NewPortMappingDescription>x</NewPortMappingDescription>"
            "<NewLeaseDuration>600</NewLeaseDuration>")
    return ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
            f'<s:Body><u:{action} xmlns:u="{SERVICE}">{args}</u:{action}>'
            '</s:Body></s:Envelope>')


def statuses(s, seconds):
    data, end = b"", time.time() + seconds
    s.settimeout(0.2)
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return [ln.split()[1] for ln in data.decode(errors="replace").split("\r\n")
            if ln.startswith("HTTP/") and len(ln.split()) > 1]


def raw(addr, port, request, client="", ext_port="0", action="AddPortMapping", in_port="80"):
    body = add_body(client, ext_port, action, in_port)
    req = request.replace("{body}", body).replace("{len}", str(len(body)))
    req = req.replace("{chunked}", f"{len(body):x}|{body}|0||").replace("|", "\r\n")
    s = socket.create_connection((addr, int(port)), timeout=3, source_address=SRC)
    s.sendall(req.encode())
    codes = statuses(s, 3)
    s.close()
    print(" ".join(codes) if codes else "none")


def subscribe(u, callback):
    s = socket.create_connection((u.hostname, u.port), timeout=3, source_address=SRC)
    s.sendall((f"SUBSCRIBE {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
               f"CALLBACK: {callback}\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n"
               ).encode())
    codes = statuses(s, 2)
    s.close()
    return codes[0] if codes else "none"


def subs(url, callback, n):
    u = urllib.parse.urlsplit(url)
    ok = refused = 0
    for _ in range(int(n)):
        if subscribe(u, callback) == "200":
            ok += 1
        else:
            refused += 1
    print(f"ok {ok} refused {refused}")


def post(addr, port, client, ext_port, action, in_port):
    body = add_body(client, ext_port, action, in_port)
    s = socket.create_connection((addr, int(port)), timeout=3, source_address=SRC)
    s.sendall((f"POST /ctl/IPConn HTTP/1.1\r\nHost: {addr}:{port}\r\nContent-Type: text/xml\r\n"
               f'SOAPAction: "{SERVICE}#{action}"\r\nContent-Length: {len(body)}\r\n\r\n'
               f"{body}").encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    text = data.decode(errors="replace")
    code = re.search(r"<errorCode>(\d+)</errorCode>", text)
    return code.group(1) if code else text.split(" ")[1] if text else "none"


def fill(addr, port, client, n):
    granted, last = 0, "none"
    for i in range(int(n)):
        last = post(addr, port, client, "0", "AddAnyPortMapping", str(2000 + i))
        if last != "200":
            break
        granted += 1
        time.sleep(0.11)
    print(f"granted {granted} last {last}")


def slow(addr, port, n, seconds):
    conns = []
    for _ in range(int(n)):
        try:
            s = socket.create_connection((addr, int(port)), timeout=2, source_address=SRC)
            s.sendall(f"GET /napt/WANIPCn.xml HTTP/1.1\r\nHost: {addr}:{port}\r\n".encode())
            conns.append(s)
        except OSError:
            break
    end = time.time() + float(seconds)
    probe_at, probe = time.time() + 5, None
    while time.time() < end and probe is None:
        for s in conns:
            try:
                s.sendall(b"X")
            except OSError:
                pass
        if time.time() >= probe_at:
            t = time.time()
            p = socket.create_connection((addr, int(port)), timeout=2, source_address=SRC)
            p.sendall(f"GET /napt/WANIPCn.xml HTTP/1.1\r\nHost: {addr}:{port}\r\n\r\n"
                      .encode())
            codes = statuses(p, min(15, end - time.time()))
            probe = f"{codes[0] if codes else 'timeout'} {time.time() - t:.1f}s"
        time.sleep(1)
    print(f"slowloris {len(conns)} probe {probe}")


if __name__ == "__main__":
    cmds = {"raw": raw, "fill": fill, "subs": subs, "slow": slow}
    cmds[sys.argv[1]](*sys.argv[2:])
