#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""upnp_peer.py - the UPnP side of test_upnp.sh, written from the UPnP Device Architecture 1.1
(SSDP section 1, SOAP section 3, GENA section 4), not from naptd's code.

  msearch ADDR SECONDS            send an SSDP M-SEARCH (ssdp:all) to ADDR:1900, print
                                  "replies N" after SECONDS
  soap URL HOST ACTION [NAME=VALUE...]
                                  POST one WANIPConnection:2 action to URL with that Host
                                  header (from address $UPNP_SRC if set); print the HTTP
                                  status and the body
  gena LISTEN_IP PORT EVENT_URL SECONDS EXPECT...
                                  listen on LISTEN_IP:PORT, SUBSCRIBE to EVENT_URL with a
                                  CALLBACK there, print each ExternalIPAddress and
                                  PortMappingNumberOfEntries NOTIFYed (IGD:2 events both);
                                  exit 0 once all EXPECT (an address, or entries=N) were
                                  seen in order, 1 after SECONDS
  subscribe EVENT_URL CALLBACK    SUBSCRIBE with that CALLBACK; print the HTTP status
  burst URL HOST RATE SECONDS     GetExternalIPAddress at RATE a second over 8 connections
                                  at a time; print "ok N failed M"
"""
import http.client
import http.server
import os
import re
import socket
import sys
import threading
import time
import urllib.parse

SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:2"


def msearch(addr, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    msg = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
           "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n").encode()
    s.sendto(msg, (addr, 1900))
    s.settimeout(0.2)
    n, end = 0, time.time() + seconds
    while time.time() < end:
        try:
            s.recvfrom(4096)
            n += 1
        except socket.timeout:
            pass
    print(f"replies {n}")


def envelope(action, args):
    body = "".join(f"<{k}>{v}</{k}>" for k, v in args)
    return ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
            f'<s:Body><u:{action} xmlns:u="{SERVICE}">{body}</u:{action}></s:Body>'
            '</s:Envelope>').encode()


def soap_once(url, host, action, args, timeout=5):
    u = urllib.parse.urlsplit(url)
    src = os.environ.get("UPNP_SRC")
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout,
                                   source_address=(src, 0) if src else None)
    c.putrequest("POST", u.path, skip_host=True)
    body = envelope(action, args)
    c.putheader("Host", host)
    c.putheader("Content-Type", 'text/xml; charset="utf-8"')
    c.putheader("SOAPAction", f'"{SERVICE}#{action}"')
    c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    out = r.status, r.read().decode(errors="replace")
    c.close()
    return out


def soap(url, host, action, *pairs):
    args = [p.split("=", 1) for p in pairs]
    try:
        status, body = soap_once(url, host, action, args)
    except OSError as e:
        print(f"error {e}")
        return
    print(status)
    print(body)


def subscribe(url, callback, timeout=5):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    c.putrequest("SUBSCRIBE", u.path, skip_host=True)
    c.putheader("Host", f"{u.hostname}:{u.port}")
    c.putheader("CALLBACK", callback)
    c.putheader("NT", "upnp:event")
    c.putheader("TIMEOUT", "Second-300")
    c.endheaders()
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def gena(listen_ip, port, url, seconds, *expect):
    seen = []
    done = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_NOTIFY(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            for name, value in re.findall(
                    r"<(ExternalIPAddress|PortMappingNumberOfEntries)>([^<]*)</\1>", body):
                print(f"event {name} {value}", flush=True)
                seen.append(value if name == "ExternalIPAddress" else f"entries={value}")
            self.send_response(200)
            self.end_headers()
            it = iter(seen)
            if all(e in it for e in expect):
                done.set()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer((listen_ip, int(port)), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(f"subscribe {subscribe(url, f'<http://{listen_ip}:{port}/>')}", flush=True)
    ok = done.wait(float(seconds))
    srv.shutdown()
    sys.exit(0 if ok else 1)


def burst(url, host, rate, seconds):
    rate, seconds = int(rate), float(seconds)
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    end = time.time() + seconds
    per_thread = rate / 8.0

    def worker():
        nxt = time.time()
        while time.time() < end:
            try:
                status, _ = soap_once(url, host, "GetExternalIPAddress", [], timeout=2)
                key = "ok" if status == 200 else "failed"
            except OSError:
                key = "failed"
            with lock:
                counts[key] += 1
            nxt += 1.0 / per_thread
            time.sleep(max(0.0, nxt - time.time()))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"ok {counts['ok']} failed {counts['failed']}")


if __name__ == "__main__":
    cmds = {"msearch": lambda a, s: msearch(a, float(s)), "soap": soap, "gena": gena,
            "subscribe": lambda u, c: print(subscribe(u, c)), "burst": burst}
    cmds[sys.argv[1]](*sys.argv[2:])
