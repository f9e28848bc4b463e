#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""gen_cases.py - the replay fixtures of pcaps/, described case by case.

Each case is a config, the packets that go into the gateway (with their times) and the
packets expected out, written by hand from docs/behaviour.md: the translated addresses and
ports are spelled out here, never taken from the engine. scapy computes the checksums of the
expected packets, except where a case keeps one on purpose (UDP checksum 0, a wrong TCP
checksum, which must stay wrong by the same amount: RFC 1624 arithmetic below).

    gen_cases.py OUTDIR [CASE...]     write OUTDIR/<NN-name>/{config,in.pcap,expected.pcap,
                                      README[,checks]} and, with no CASE, OUTDIR/README.md
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay_pcap  # noqa: E402

# The modules, not scapy.all: its import of every layer took 2 of the 3 s each case's check
# spends here (run_case.sh regenerates every case); the bytes written are the same.
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import checksum  # noqa: E402

I1, I2, I3, D = "192.168.1.10", "192.168.1.20", "192.168.1.21", "192.168.1.50"
E, E2 = "203.0.113.10", "203.0.113.11"
R1, R2 = "198.51.100.7", "198.51.100.8"
BASE = "inside 192.168.1.0/24\nexternal 203.0.113.10\n"
ONE_PORT = BASE + "port-range 50000-50000\n"  # every new mapping gets port 50000

T0 = 10.0  # seconds; the clock of every case starts here


# ---- packets --------------------------------------------------------------------------


def udp(src, sport, dst, dport, data=b"napt-udp", ipid=0x100, ttl=64, **ip):
    return IP(src=src, dst=dst, id=ipid, ttl=ttl, **ip) / UDP(sport=sport, dport=dport) / Raw(data)


def tcp(src, sport, dst, dport, flags, seq=1000, ack=0, data=b"", ipid=0x200, ttl=64):
    p = IP(src=src, dst=dst, id=ipid, ttl=ttl) / TCP(
        sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=65535)
    return p / Raw(data) if data else p


def echo(src, dst, ident, seq=1, reply=False, ipid=0x300, data=b"napt-ping"):
    return IP(src=src, dst=dst, id=ipid) / ICMP(type=0 if reply else 8, id=ident, seq=seq) / Raw(data)


def icmp_error(src, dst, icmp_type, code, quote, ipid=0x400, **fields):
    """An ICMP error whose body is the quoted packet's first bytes (quote: bytes)."""
    return IP(src=src, dst=dst, id=ipid) / ICMP(type=icmp_type, code=code, **fields) / Raw(quote)


def fragments(pkt, cuts):
    """Splits pkt after its IP header at the payload offsets in cuts (multiples of 8)."""
    raw = bytes(pkt)
    ihl = (raw[0] & 15) * 4
    hdr, payload = IP(raw[:ihl]), raw[ihl:]
    bounds = [0] + list(cuts) + [len(payload)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        more = b != len(payload)
        out.append(IP(src=hdr.src, dst=hdr.dst, id=hdr.id, ttl=hdr.ttl, proto=hdr.proto,
                      flags="MF" if more else 0, frag=a // 8) / Raw(payload[a:b]))
    return out


def with_ip_checksum(pkt, chksum):
    p = IP(bytes(pkt))
    p.chksum = chksum
    return bytes(p)


def ip_checksum_of(pkt):
    return IP(bytes(pkt)).chksum


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def words(*fields):
    """16-bit words of dotted addresses and ports, for RFC 1624 updates."""
    out = []
    for f in fields:
        if isinstance(f, str):
            a = bytes(map(int, f.split(".")))
            out += [a[0] << 8 | a[1], a[2] << 8 | a[3]]
        else:
            out.append(f)
    return out


def rfc1624_update(hc, old, new):
    """RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'), summed over every changed word."""
    s = (~hc & 0xFFFF) + sum(~m & 0xFFFF for m in old) + sum(new)
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


# ---- cases ----------------------------------------------------------------------------


class Case:
    def __init__(self, name, what, rule, config):
        self.name, self.what, self.rule, self.config = name, what, rule, config
        self.inputs, self.outputs = [], []
        self.counters = []      # lines napt-replay must print
        self.bad_checksums = []  # expected frames that keep a wrong checksum on purpose
        self.replay_options = []  # napt-replay options the case runs with (-p)

    def send(self, t, pkt, *expected):
        """pkt goes in at t seconds; expected (in order) come out at the same time."""
        us = int(round(t * 1000000))
        self.inputs.append((us, bytes(pkt)))
        self.outputs += [(us, bytes(p)) for p in expected]

    def expect(self, *lines):
        self.counters += lines


class Mapping:
    """An inside endpoint and the external endpoint it is translated to: a mapping, a forward,
    the DMZ host or a static pair (the port is kept unless eport is given; for ICMP echo the
    ports are identifiers). Each method gives the packet that goes in and the one expected
    out, for Case.send(t, *pair): the expected packet is the same packet with this mapping's
    rewrite, so a case states the rule instead of spelling each packet twice."""

    def __init__(self, inside, iport, ext, eport=None):
        self.inside, self.iport, self.ext = inside, iport, ext
        self.eport = iport if eport is None else eport

    def out(self, make, remote, rport, *args, **fields):
        """make(inside -> remote) goes in; it leaves from ext."""
        return (make(self.inside, self.iport, remote, rport, *args, **fields),
                make(self.ext, self.eport, remote, rport, *args, **fields))

    def back(self, make, remote, rport, *args, **fields):
        """make(remote -> ext) goes in; it reaches inside."""
        return (make(remote, rport, self.ext, self.eport, *args, **fields),
                make(remote, rport, self.inside, self.iport, *args, **fields))

    def echo_out(self, remote, **fields):
        return (echo(self.inside, remote, self.iport, **fields),
                echo(self.ext, remote, self.eport, **fields))

    def echo_back(self, remote, **fields):
        return (echo(remote, self.ext, self.eport, **fields),
                echo(remote, self.inside, self.iport, **fields))

    def error_back(self, router, icmp_type, code, quoted, cut=None, **fields):
        """router's ICMP error to ext quoting (the first cut bytes of) a packet that left:
        quoted is its out() pair. It reaches inside quoting the packet as inside sent it."""
        sent, left = (bytes(p)[:cut] for p in quoted)
        return (icmp_error(router, self.ext, icmp_type, code, left, **fields),
                icmp_error(router, self.inside, icmp_type, code, sent, **fields))

    def error_out(self, remote, icmp_type, code, quoted):
        """inside's ICMP error to remote quoting a packet that came in: quoted is its back()
        pair. It leaves from ext quoting the packet as remote sent it."""
        sent, arrived = (bytes(p) for p in quoted)
        return (icmp_error(self.inside, remote, icmp_type, code, arrived),
                icmp_error(self.ext, remote, icmp_type, code, sent))


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def numbered(number):
    """A case whose number was handed out in advance (branches written in parallel add cases
    side by side): it keeps that number whatever precedes it in this file."""
    def mark(fn):
        fn.number = number
        return case(fn)
    return mark


def handshake(c, t, m, remote, rport, iseq=1000, rseq=5000):
    """SYN out, SYN-ACK in, ACK out through mapping m: the session is established."""
    c.send(t, *m.out(tcp, remote, rport, "S", seq=iseq))
    c.send(t + 0.1, *m.back(tcp, remote, rport, "SA", seq=rseq, ack=iseq + 1))
    c.send(t + 0.2, *m.out(tcp, remote, rport, "A", seq=iseq + 1, ack=rseq + 1))


def close(c, t, m, remote, rport):
    """After handshake(): FIN out, FIN in, last ACK out: the session is in time-wait."""
    c.send(t, *m.out(tcp, remote, rport, "FA", seq=1001, ack=5001))
    c.send(t + 0.1, *m.back(tcp, remote, rport, "FA", seq=5001, ack=1002))
    c.send(t + 0.2, *m.out(tcp, remote, rport, "A", seq=1002, ack=5002))


@case
def udp_out_reply():
    c = Case("udp-out-reply", "An inside host sends a UDP datagram to a remote host: the source "
             "address becomes the external address and, the port being free and in range, the "
             "port is kept. The reply comes back to the inside host.",
             "behaviour.md 3 (port preservation), 4 step 1", BASE)
    m = Mapping(I1, 5000, E)
    c.send(T0, *m.out(udp, R1, 53))
    c.send(T0 + 1, *m.back(udp, R1, 53, b"answer"))
    c.expect("translated udp out 1", "translated udp in 1", "sessions created 1")
    return c


@case
def udp_port_changed():
    c = Case("udp-port-changed", "With port-range 50000-50000 the inside port 5000 lies outside "
             "the range, so the mapping takes the only port of the range: both the address and "
             "the port change (and the UDP checksum with them); the reply is restored.",
             "behaviour.md 3 (external port), 8; RFC 4787 REQ-1", ONE_PORT)
    m = Mapping(I1, 5000, E, 50000)
    c.send(T0, *m.out(udp, R1, 53))
    c.send(T0 + 1, *m.back(udp, R1, 53))
    return c


@case
def tcp_out_reply():
    c = Case("tcp-out-reply", "A TCP connection opened from inside: SYN, SYN-ACK, ACK and data "
             "both ways, with the port translated to 50000.",
             "behaviour.md 3, 6; RFC 5382 REQ-1", ONE_PORT)
    m = Mapping(I1, 40000, E, 50000)
    handshake(c, T0, m, R1, 80)
    c.send(T0 + 1, *m.out(tcp, R1, 80, "PA", seq=1001, ack=5001, data=b"GET /"))
    c.send(T0 + 2, *m.back(tcp, R1, 80, "PA", seq=5001, ack=1006, data=b"200 OK"))
    c.expect("translated tcp out 3", "translated tcp in 2", "sessions created 1")
    return c


@case
def icmp_echo():
    c = Case("icmp-echo", "Echo requests from one inside host to two remote hosts with the same "
             "identifier leave with the same (preserved) identifier; both replies return.",
             "behaviour.md 3 (ICMP identifier); RFC 5508 REQ-1, REQ-1a", BASE)
    m = Mapping(I1, 0x1234, E)
    c.send(T0, *m.echo_out(R1))
    c.send(T0 + 0.1, *m.echo_out(R2))
    c.send(T0 + 0.2, *m.echo_back(R1, reply=True))
    c.send(T0 + 0.3, *m.echo_back(R2, reply=True))
    c.expect("translated icmp out 2", "translated icmp in 2")
    return c


@case
def eim():
    c = Case("eim", "Endpoint-independent mapping: one inside endpoint talking to R1 and R2 (and "
             "another port of R1) uses one external port, 50000, for all.",
             "behaviour.md 3; RFC 4787 REQ-1", ONE_PORT)
    m = Mapping(I1, 5000, E, 50000)
    c.send(T0, *m.out(udp, R1, 53))
    c.send(T0 + 1, *m.out(udp, R2, 53))
    c.send(T0 + 2, *m.out(udp, R1, 54))
    c.send(T0 + 3, *m.back(udp, R2, 53))
    c.expect("mappings current 1", "sessions created 3")
    return c


@case
def adm():
    c = Case("adm", "Address-dependent mapping: a second remote address needs a new mapping "
             "(port 5000 being taken, it gets 5001, the only other port of the range); another "
             "port of the first remote address reuses the first mapping.",
             "behaviour.md 3; RFC 4787 4.1", BASE + "mapping address-dependent\n"
             "port-range 5000-5001\n")
    to_r1, to_r2 = Mapping(I1, 5000, E), Mapping(I1, 5000, E, 5001)
    c.send(T0, *to_r1.out(udp, R1, 53))
    c.send(T0 + 1, *to_r2.out(udp, R2, 53))
    c.send(T0 + 2, *to_r1.out(udp, R1, 54))
    c.send(T0 + 3, *to_r2.back(udp, R2, 53))
    c.send(T0 + 4, *to_r1.back(udp, R1, 54))
    c.expect("mappings current 2")
    return c


@case
def apdm():
    c = Case("apdm", "Address-and-port-dependent mapping: another port of the same remote host "
             "needs a new mapping (5001); a third remote endpoint finds no free port left and "
             "is dropped.", "behaviour.md 3; RFC 4787 4.1, REQ-3",
             BASE + "mapping address-and-port-dependent\nport-range 5000-5001\n")
    to_53, to_54 = Mapping(I1, 5000, E), Mapping(I1, 5000, E, 5001)
    c.send(T0, *to_53.out(udp, R1, 53))
    c.send(T0 + 1, *to_54.out(udp, R1, 54))
    c.send(T0 + 2, udp(I1, 5000, R2, 53))
    c.send(T0 + 3, *to_54.back(udp, R1, 54))
    c.expect("dropped ports-exhausted 1", "mappings current 2")
    return c


def filtering_case(name, mode, admits, rule):
    c = Case(name, "After I1:5000 -> R1:7, inbound packets from R1:7, R1:8 and R2:7 to the "
             "mapping under %s filtering: %s." % (mode, ", ".join(
                 "%s %s" % (src, "admitted" if ok else "refused (filtered)")
                 for src, ok in zip(("R1:7", "R1:8", "R2:7"), admits))),
             rule, BASE + "filtering %s\n" % mode)
    m = Mapping(I1, 5000, E)
    c.send(T0, *m.out(udp, R1, 7))
    for i, ((src, sport), ok) in enumerate(zip(((R1, 7), (R1, 8), (R2, 7)), admits)):
        inbound, delivered = m.back(udp, src, sport, b"in")
        c.send(T0 + 1 + i, inbound, *([delivered] if ok else []))
    c.expect("dropped filtered %d" % admits.count(False))
    return c


@case
def eif():
    return filtering_case("eif", "endpoint-independent", [True, True, True],
                          "behaviour.md 4 step 2; RFC 4787 REQ-8, rfc-checklist A.10")


@case
def adf():
    return filtering_case("adf", "address-dependent", [True, True, False],
                          "behaviour.md 4 step 2; RFC 4787 5, rfc-checklist A.10")


@case
def apdf():
    return filtering_case("apdf", "address-and-port-dependent", [True, False, False],
                          "behaviour.md 4 step 2; RFC 4787 5, rfc-checklist A.10")


@case
def udp_timeout():
    c = Case("udp-timeout", "UDP session timeout 300 s: a reply arriving exactly 300 s after the "
             "last packet still matches (and refreshes); one 301 s after that is dropped, the "
             "session and its mapping being gone.", "behaviour.md 5; RFC 4787 REQ-5", BASE)
    m = Mapping(I1, 5000, E)
    c.send(T0, *m.out(udp, R1, 53))
    c.send(T0 + 300, *m.back(udp, R1, 53))
    c.send(T0 + 601, udp(R1, 53, E, 5000))
    c.expect("dropped no-mapping 1")
    return c


@case
def tcp_established_timeout():
    c = Case("tcp-established-timeout", "An established TCP session idle exactly 7440 s still "
             "passes (far beyond the transitory timeout); idle 7441 s after that it is gone.",
             "behaviour.md 5, 6; RFC 5382 REQ-5", BASE)
    m = Mapping(I1, 40000, E)
    handshake(c, T0, m, R1, 80)
    last = T0 + 0.2
    c.send(last + 7440, *m.back(tcp, R1, 80, "A", seq=5001, ack=1001))
    c.send(last + 7440 + 7441, tcp(R1, 80, E, 40000, "A", seq=5001, ack=1001))
    return c


@case
def tcp_transitory_timeout():
    c = Case("tcp-transitory-timeout", "Two connections in syn-sent (tcp-transitory 240 s): the "
             "SYN-ACK of the first comes exactly 240 s after its SYN and passes; the SYN-ACK of "
             "the second comes 241 s after its SYN and is dropped.",
             "behaviour.md 5, 6; RFC 5382 REQ-5, RFC 7857 2.2", BASE)
    first, second = Mapping(I1, 40000, E), Mapping(I1, 40001, E)
    c.send(T0, *first.out(tcp, R1, 80, "S"))
    c.send(T0, *second.out(tcp, R1, 80, "S"))
    c.send(T0 + 240, *first.back(tcp, R1, 80, "SA", seq=5000, ack=1001))
    c.send(T0 + 241, tcp(R1, 80, E, 40001, "SA", seq=5000, ack=1001))
    return c


@case
def tcp_fin_time_wait():
    c = Case("tcp-fin-time-wait", "Handshake, FIN out, FIN in, last ACK out: the session is in "
             "time-wait (tcp-transitory 240 s). A retransmitted FIN exactly 240 s later passes; "
             "one 241 s after that is dropped.",
             "behaviour.md 5, 6; RFC 5382 5, RFC 7857 2.2", BASE)
    m = Mapping(I1, 40000, E)
    handshake(c, T0, m, R1, 80)
    close(c, T0 + 1, m, R1, 80)
    c.send(T0 + 241.2, *m.back(tcp, R1, 80, "FA", seq=5001, ack=1002))
    c.send(T0 + 482.2, tcp(R1, 80, E, 40000, "FA", seq=5001, ack=1002))
    return c


@case
def tcp_rst():
    c = Case("tcp-rst", "An inbound RST on an established connection is translated and puts the "
             "session in closed, under the transitory timeout: a segment 240 s later passes, one "
             "241 s after that (still far below 7440 s) is dropped.",
             "behaviour.md 5, 6; RFC 7857 2.3", BASE)
    m = Mapping(I1, 40000, E)
    handshake(c, T0, m, R1, 80)
    c.send(T0 + 1, *m.back(tcp, R1, 80, "R", seq=5001))
    c.send(T0 + 241, *m.back(tcp, R1, 80, "R", seq=5001))
    c.send(T0 + 482, tcp(R1, 80, E, 40000, "R", seq=5001))
    return c


@case
def tcp_simultaneous_open():
    c = Case("tcp-simultaneous-open", "Simultaneous open: SYN out, SYN in, SYN-ACK out, SYN-ACK "
             "in are all translated, and the session is established: a segment 300 s later "
             "(beyond the transitory timeout) still passes.",
             "behaviour.md 6; RFC 5382 REQ-2", BASE)
    m = Mapping(I1, 40000, E)
    c.send(T0, *m.out(tcp, R1, 5555, "S"))
    c.send(T0 + 0.1, *m.back(tcp, R1, 5555, "S", seq=5000))
    c.send(T0 + 0.2, *m.out(tcp, R1, 5555, "SA", seq=1000, ack=5001))
    c.send(T0 + 0.3, *m.back(tcp, R1, 5555, "SA", seq=5000, ack=1001))
    c.send(T0 + 300.3, *m.back(tcp, R1, 5555, "A", seq=5001, ack=1001))
    return c


@case
def tcp_syn_reuses_time_wait():
    c = Case("tcp-syn-reuses-time-wait", "A connection closes (time-wait); 5 s later the client "
             "reuses its port for a new SYN to the same server: the session starts again, the "
             "handshake passes and, established, survives 300 s of idleness.",
             "behaviour.md 6; RFC 7857 2", BASE)
    m = Mapping(I1, 40000, E)
    handshake(c, T0, m, R1, 80)
    close(c, T0 + 1, m, R1, 80)
    handshake(c, T0 + 6.2, m, R1, 80, iseq=9000, rseq=7000)
    c.send(T0 + 306.4, *m.back(tcp, R1, 80, "A", seq=7001, ack=9001))
    return c


@case
def tcp_no_session():
    c = Case("tcp-no-session", "Outbound TCP segments other than a SYN (an ACK, a data segment, "
             "a SYN-ACK) without a session are dropped and create no state.",
             "behaviour.md 3 (TCP)", BASE)
    c.send(T0, tcp(I1, 40000, R1, 80, "A", seq=1001, ack=5001))
    c.send(T0 + 1, tcp(I1, 40000, R1, 80, "PA", seq=1001, ack=5001, data=b"x"))
    c.send(T0 + 2, tcp(I1, 40000, R1, 80, "SA", seq=1000, ack=5001))
    c.expect("dropped tcp-no-session 3", "sessions created 0")
    return c


@case
def icmp_two_hosts_same_id():
    c = Case("icmp-two-hosts-same-id", "Two inside hosts ping with identifier 40000: the first "
             "keeps it, the second gets 40001, the only other value of port-range 40000-40001. "
             "Replies go to the right host with the identifier restored.",
             "behaviour.md 3; RFC 5508 REQ-1", BASE + "port-range 40000-40001\n")
    first, second = Mapping(I1, 40000, E), Mapping(I2, 40000, E, 40001)
    c.send(T0, *first.echo_out(R1))
    c.send(T0 + 1, *second.echo_out(R1))
    c.send(T0 + 2, *second.echo_back(R1, reply=True))
    c.send(T0 + 3, *first.echo_back(R1, reply=True))
    return c


@case
def icmp_timeout():
    c = Case("icmp-timeout", "ICMP echo session timeout 60 s: a reply exactly 60 s after the "
             "request passes; one 61 s after that is dropped.",
             "behaviour.md 5; RFC 5508 REQ-2", BASE)
    m = Mapping(I1, 0x1234, E)
    c.send(T0, *m.echo_out(R1))
    c.send(T0 + 60, *m.echo_back(R1, reply=True))
    c.send(T0 + 121, echo(R1, E, 0x1234, reply=True, seq=2))
    return c


@case
def icmp_error_port_unreachable():
    c = Case("icmp-error-port-unreachable", "A port unreachable from R1 quotes the whole UDP "
             "datagram E:50000 -> R1:53: it goes to the inside host with the quoted source "
             "restored (quoted IP and UDP checksums updated, ICMP checksum recomputed). The "
             "mapping still works afterwards.",
             "behaviour.md 7; RFC 5508 REQ-4, RFC 4787 REQ-12", ONE_PORT)
    m = Mapping(I1, 5000, E, 50000)
    c.send(T0, *m.out(udp, R1, 53))
    c.send(T0 + 1, *m.error_back(R1, 3, 3, m.out(udp, R1, 53, ttl=63)))
    c.send(T0 + 2, *m.back(udp, R1, 53))
    c.expect("icmp-errors translated 1")
    return c


@case
def icmp_error_frag_needed():
    c = Case("icmp-error-frag-needed", "A fragmentation-needed (3/4, MTU 1400) about a TCP "
             "connection quotes only the IP header and 8 bytes (ports and sequence number, no "
             "TCP checksum): it reaches the inside host with the quote translated back.",
             "behaviour.md 7; RFC 5382 REQ-9, RFC 5508 4.2.1", ONE_PORT)
    m = Mapping(I1, 40000, E, 50000)
    handshake(c, T0, m, R1, 80)
    big = dict(seq=1001, ack=5001, data=b"x" * 1460)
    c.send(T0 + 1, *m.out(tcp, R1, 80, "PA", **big))
    c.send(T0 + 1.1, *m.error_back(R2, 3, 4, m.out(tcp, R1, 80, "PA", ttl=63, **big), cut=28,
                                   nexthopmtu=1400))
    return c


@case
def icmp_error_time_exceeded():
    c = Case("icmp-error-time-exceeded", "A time exceeded (11/0) from a router quotes the IP "
             "header and 28 bytes of a TCP segment, the TCP checksum included: the quoted "
             "address, port and TCP checksum are restored.",
             "behaviour.md 7; RFC 5508 REQ-4, rfc-checklist F.52", ONE_PORT)
    seg = dict(seq=1001, ack=5001, data=b"12345678")
    m = Mapping(I1, 40000, E, 50000)
    handshake(c, T0, m, R1, 80)
    c.send(T0 + 1, *m.out(tcp, R1, 80, "PA", **seg))
    c.send(T0 + 1.1, *m.error_back(R2, 11, 0, m.out(tcp, R1, 80, "PA", ttl=1, **seg)))
    return c


@case
def ip_options_quoted():
    ra = dict(options=[IPOption_Router_Alert()])
    c = Case("ip-options-quoted", "An outbound UDP datagram with an IP option (router alert) "
             "keeps it; the port unreachable quoting it (a 24-byte quoted IP header) is "
             "translated back, the transport header found after the options.",
             "behaviour.md 2, 7; RFC 5508 REQ-3", ONE_PORT)
    m = Mapping(I1, 5000, E, 50000)
    c.send(T0, *m.out(udp, R1, 53, **ra))
    c.send(T0 + 1, *m.error_back(R1, 3, 3, m.out(udp, R1, 53, ttl=63, **ra)))
    return c


@case
def icmp_error_about_echo():
    c = Case("icmp-error-about-echo", "A host unreachable quoting an echo request from the "
             "external identifier 50000: the quoted identifier and echo checksum are restored.",
             "behaviour.md 7; RFC 5508 REQ-4", ONE_PORT)
    m = Mapping(I1, 0x1234, E, 50000)
    c.send(T0, *m.echo_out(R1))
    c.send(T0 + 1, *m.error_back(R2, 3, 1, m.echo_out(R1)))
    return c


@case
def icmp_error_unknown_flow():
    c = Case("icmp-error-unknown-flow", "An ICMP error quoting a flow with no session is dropped.",
             "behaviour.md 7; RFC 5508 REQ-4", BASE)
    c.send(T0, icmp_error(R1, E, 3, 3, bytes(udp(E, 6000, R1, 53, ttl=63))))
    c.expect("dropped no-session-icmp 1")
    return c


@case
def icmp_error_outbound():
    c = Case("icmp-error-outbound", "A forward sends R1:3333 -> E:6000 to I1:7000; I1 answers "
             "with a port unreachable, which leaves from E with the quoted destination E:6000.",
             "behaviour.md 7; RFC 5508 REQ-5",
             BASE + "forward udp 6000 192.168.1.10:7000\n")
    fwd = Mapping(I1, 7000, E, 6000)
    c.send(T0, *fwd.back(udp, R1, 3333))
    c.send(T0 + 1, *fwd.error_out(R1, 3, 3, fwd.back(udp, R1, 3333, ttl=63)))
    return c


def forward_case(name, what, rule, fwd, ext_port, in_addr, in_port):
    c = Case(name, what, rule, BASE + "forward " + fwd + "\n")
    m = Mapping(in_addr, in_port, E, ext_port)
    c.send(T0, *m.back(tcp, R1, 3333, "S", seq=5000))
    c.send(T0 + 0.1, *m.out(tcp, R1, 3333, "SA", ack=5001))
    return c


@case
def forward_same_port():
    return forward_case("forward-same-port", "A TCP forward of port 8080 to 192.168.1.10:8080: "
                        "the SYN from outside is sent to the inside host, its SYN-ACK leaves "
                        "from E:8080.", "behaviour.md 4 step 3", "tcp 8080 192.168.1.10:8080",
                        8080, I1, 8080)


@case
def forward_other_port():
    return forward_case("forward-other-port", "A TCP forward of port 8080 to 192.168.1.10:80: "
                        "the destination port changes inbound, the source port back outbound.",
                        "behaviour.md 4 step 3", "tcp 8080 192.168.1.10:80", 8080, I1, 80)


@case
def forward_range():
    c = Case("forward-range", "A UDP forward of 5000-5010 to 192.168.1.20:6000-6010: port 5003 "
             "goes to 6003, the reply leaves from 5003; port 5011 is outside the rule and is "
             "dropped.", "behaviour.md 4 steps 3, 5",
             BASE + "forward udp 5000-5010 192.168.1.20:6000-6010\n")
    fwd = Mapping(I2, 6003, E, 5003)
    c.send(T0, *fwd.back(udp, R1, 3333))
    c.send(T0 + 1, *fwd.out(udp, R1, 3333))
    c.send(T0 + 2, udp(R1, 3333, E, 5011))
    c.expect("dropped no-mapping 1")
    return c


@case
def forward_both():
    c = Case("forward-both", "A forward for both protocols: UDP and TCP to port 5353 reach "
             "192.168.1.10:53.", "behaviour.md 4 step 3",
             BASE + "forward both 5353 192.168.1.10:53\n")
    fwd = Mapping(I1, 53, E, 5353)
    c.send(T0, *fwd.back(udp, R1, 3333))
    c.send(T0 + 1, *fwd.back(tcp, R1, 3334, "S"))
    c.send(T0 + 2, *fwd.out(udp, R1, 3333))
    return c


@case
def forward_over_dmz():
    c = Case("forward-over-dmz", "With a DMZ host and a forward, the forwarded port goes to the "
             "forward's host and any other port to the DMZ host.",
             "behaviour.md 4 steps 3, 4; rfc-checklist F.53",
             BASE + "dmz 192.168.1.50\nforward tcp 8080 192.168.1.10:80\n")
    c.send(T0, *Mapping(I1, 80, E, 8080).back(tcp, R1, 3333, "S"))
    c.send(T0 + 1, *Mapping(D, 9090, E).back(tcp, R1, 3334, "S"))
    return c


@case
def dmz():
    c = Case("dmz", "A DMZ host receives unsolicited TCP, UDP and echo requests (port and "
             "identifier unchanged), and its replies leave from the external address.",
             "behaviour.md 4 step 4", BASE + "dmz 192.168.1.50\n")
    ssh, sip, ping = Mapping(D, 22, E), Mapping(D, 5060, E), Mapping(D, 77, E)
    c.send(T0, *ssh.back(tcp, R1, 3333, "S", seq=5000))
    c.send(T0 + 0.1, *ssh.out(tcp, R1, 3333, "SA", ack=5001))
    c.send(T0 + 1, *sip.back(udp, R1, 4444))
    c.send(T0 + 1.1, *sip.out(udp, R1, 4444))
    c.send(T0 + 2, *ping.echo_back(R1))
    c.send(T0 + 2.1, *ping.echo_out(R1, reply=True))
    return c


@case
def no_dmz():
    c = Case("no-dmz", "Without forward or DMZ, unsolicited TCP, UDP and echo requests are "
             "dropped and no state is created.", "behaviour.md 4 step 5", BASE)
    c.send(T0, tcp(R1, 3333, E, 22, "S"))
    c.send(T0 + 1, udp(R1, 4444, E, 5060))
    c.send(T0 + 2, echo(R1, E, 77))
    c.expect("dropped no-mapping 3", "sessions created 0")
    return c


@case
def hairpin_forward():
    c = Case("hairpin-forward", "I2 connects to E:8080, forwarded to I1:80: I1 sees the SYN from "
             "I2's mapping E:40000, and I2 sees the SYN-ACK from E:8080.",
             "behaviour.md 9; RFC 5382 REQ-8, RFC 4787 REQ-9",
             BASE + "forward tcp 8080 192.168.1.10:80\n")
    c.send(T0, tcp(I2, 40000, E, 8080, "S"), tcp(E, 40000, I1, 80, "S"))
    c.send(T0 + 0.1, tcp(I1, 80, E, 40000, "SA", seq=5000, ack=1001),
           tcp(E, 8080, I2, 40000, "SA", seq=5000, ack=1001))
    c.expect("hairpinned 2")
    return c


@case
def hairpin_eif():
    c = Case("hairpin-eif", "With endpoint-independent filtering, I1 has mapping E:5000; I2 "
             "sends to E:5000 and I1 sees it from E:6000 (I2's mapping); I1's answer reaches "
             "I2 from E:5000.", "behaviour.md 9; RFC 4787 REQ-9",
             BASE + "filtering endpoint-independent\n")
    c.send(T0, *Mapping(I1, 5000, E).out(udp, R1, 53))
    c.send(T0 + 1, udp(I2, 6000, E, 5000), udp(E, 6000, I1, 5000))
    c.send(T0 + 2, udp(I1, 5000, E, 6000), udp(E, 5000, I2, 6000))
    c.expect("hairpinned 2")
    return c


def udp_datagram(src, sport, dst, dport):
    return udp(src, sport, dst, dport, data=bytes(range(40)), ipid=0x777)


def datagram_in_two():
    """I1:5000 -> R1:53 in two fragments, and the two as they leave from E:50000."""
    sent, left = Mapping(I1, 5000, E, 50000).out(udp_datagram, R1, 53)
    return fragments(sent, [24]), fragments(left, [24])


@case
def fragments_in_order():
    c = Case("fragments-in-order", "A UDP datagram in two fragments, in order: the first gets "
             "the new port and the checksum of the whole datagram updated; the second only the "
             "source address.", "behaviour.md 10; RFC 4787 REQ-14", ONE_PORT)
    inside, outside = datagram_in_two()
    c.send(T0, inside[0], outside[0])
    c.send(T0 + 0.01, inside[1], outside[1])
    return c


@case
def fragments_out_of_order():
    c = Case("fragments-out-of-order", "The later fragment arrives first and is held; when the "
             "first arrives it goes out, followed by the released later fragment, translated.",
             "behaviour.md 10; RFC 4787 REQ-14a", ONE_PORT)
    inside, outside = datagram_in_two()
    c.send(T0, inside[1])
    c.send(T0 + 0.01, inside[0], outside[0], outside[1])
    return c


@case
def fragment_no_first():
    c = Case("fragment-no-first", "A later fragment whose first never comes is held, then "
             "dropped once 10 s have passed; a packet 11 s later advances the clock.",
             "behaviour.md 10; RFC 4787 REQ-14a", BASE)
    c.send(T0, fragments(udp_datagram(I1, 5000, R1, 53), [24])[1])
    c.send(T0 + 11, *Mapping(I1, 5001, E).out(udp, R1, 53))
    c.expect("dropped fragment-no-first 1")
    return c


@case
def first_fragment_short():
    c = Case("first-fragment-short", "A first fragment holding only 8 bytes of a TCP header "
             "(ports and sequence number) is dropped.", "behaviour.md 10; RFC 1858", BASE)
    c.send(T0, fragments(tcp(I1, 40000, R1, 80, "S", data=b"x" * 16), [8])[0])
    c.expect("dropped first-fragment-short 1")
    return c


@case
def port_collision():
    c = Case("port-collision", "Two inside hosts use source port 5000 to the same server: the "
             "first keeps 5000, the second gets 5001 (the only other port of the range); replies "
             "reach the right host.", "behaviour.md 3; RFC 4787 REQ-3",
             BASE + "port-range 5000-5001\n")
    first, second = Mapping(I1, 5000, E), Mapping(I2, 5000, E, 5001)
    c.send(T0, *first.out(udp, R1, 53))
    c.send(T0 + 1, *second.out(udp, R1, 53))
    c.send(T0 + 2, *second.back(udp, R1, 53))
    c.send(T0 + 3, *first.back(udp, R1, 53))
    return c


def two_then_refused(c):
    """I1:5000 and I1:5001 -> R1:53 keep their ports (T0, T0 + 1); I1:5002 -> R1:53 is
    dropped (T0 + 2), a limit of two being reached. Returns the two mappings."""
    first, second = Mapping(I1, 5000, E), Mapping(I1, 5001, E)
    c.send(T0, *first.out(udp, R1, 53))
    c.send(T0 + 1, *second.out(udp, R1, 53))
    c.send(T0 + 2, udp(I1, 5002, R1, 53))
    return first, second


@case
def ports_exhausted():
    c = Case("ports-exhausted", "port-range 5000-5001 holds two mappings; a third inside "
             "endpoint is dropped, and the existing mappings keep working.",
             "behaviour.md 3; RFC 4787 REQ-3", BASE + "port-range 5000-5001\n")
    _, second = two_then_refused(c)
    c.send(T0 + 3, *second.back(udp, R1, 53))
    c.expect("dropped ports-exhausted 1")
    return c


@case
def paired_pooling():
    c = Case("paired-pooling", "Pool of two external addresses: 192.168.1.10 (even) always gets "
             "203.0.113.10 for UDP, TCP and ICMP; 192.168.1.21 (odd) gets 203.0.113.11.",
             "behaviour.md 3 (external address); RFC 4787 REQ-2",
             "inside 192.168.1.0/24\nexternal 203.0.113.10\nexternal 203.0.113.11\n")
    odd = Mapping(I3, 5000, E2)
    c.send(T0, *Mapping(I1, 5000, E).out(udp, R1, 53))
    c.send(T0 + 1, *Mapping(I1, 40000, E).out(tcp, R2, 80, "S"))
    c.send(T0 + 2, *Mapping(I1, 0x1234, E).echo_out(R1))
    c.send(T0 + 3, *odd.out(udp, R1, 53))
    c.send(T0 + 4, *odd.back(udp, R1, 53))
    return c


def malformed_case(name, what, reason, *bad):
    c = Case(name, what + " It is dropped (%s); a good packet after it passes." % reason,
             "behaviour.md 2", BASE)
    for i, pkt in enumerate(bad):
        c.send(T0 + i, pkt)
    c.send(T0 + len(bad), *Mapping(I1, 5000, E).out(udp, R1, 53))
    c.expect("dropped %s %d" % (reason, len(bad)), "sessions created 1")
    return c


@case
def malformed_truncated():
    return malformed_case("malformed-truncated", "A 12-byte packet, shorter than an IPv4 header.",
                          "truncated", bytes(udp(I1, 5000, R1, 53))[:12])


@case
def malformed_total_length_past_end():
    return malformed_case("malformed-total-length-past-end", "A packet whose total length (100) "
                          "runs past its 36 bytes.", "truncated",
                          IP(src=I1, dst=R1, len=100, id=0x100) / UDP(sport=5000, dport=53) /
                          Raw(b"napt-udp"))


@case
def malformed_bad_version():
    good = bytearray(bytes(udp(I1, 5000, R1, 53)))
    good[0] = 0x65
    return malformed_case("malformed-bad-version", "A packet with version 6 in an IPv4 header.",
                          "bad-version", bytes(good))


@case
def malformed_bad_ihl():
    return malformed_case("malformed-bad-ihl", "A header length of 4 words (16 bytes).",
                          "bad-ihl", bytes(IP(src=I1, dst=R1, ihl=4, id=0x100) / UDP() /
                                           Raw(b"x")))


@case
def malformed_bad_total_length():
    return malformed_case("malformed-bad-total-length", "A total length of 16, shorter than the "
                          "header.", "bad-total-length",
                          bytes(IP(src=I1, dst=R1, len=16, id=0x100) / UDP(sport=5000, dport=53)))


@case
def malformed_bad_ip_checksum():
    pkt = udp(I1, 5000, R1, 53)
    return malformed_case("malformed-bad-ip-checksum", "An IP header checksum off by one.",
                          "bad-ip-checksum", with_ip_checksum(pkt, ip_checksum_of(pkt) ^ 1))


@case
def malformed_bad_icmp_checksum():
    pkt = echo(I1, R1, 0x1234)
    pkt[ICMP].chksum = ICMP(bytes(pkt[ICMP])).chksum ^ 0x0100
    return malformed_case("malformed-bad-icmp-checksum", "An echo request with a wrong ICMP "
                          "checksum.", "bad-icmp-checksum", pkt)


@case
def malformed_tcp_truncated():
    return malformed_case("malformed-tcp-truncated", "A TCP segment of 12 bytes, shorter than a "
                          "TCP header.", "bad-l4",
                          IP(src=I1, dst=R1, proto=6, id=0x100) /
                          Raw(bytes(TCP(sport=40000, dport=80, flags="S"))[:12]))


@case
def malformed_udp_length():
    return malformed_case("malformed-udp-length", "UDP length fields of 100 (past the IP "
                          "payload) and of 4 (less than the header).", "bad-l4",
                          IP(src=I1, dst=R1, id=0x100) / UDP(sport=5000, dport=53, len=100) /
                          Raw(b"napt-udp"),
                          IP(src=I1, dst=R1, id=0x101) / UDP(sport=5000, dport=53, len=4) /
                          Raw(b"napt-udp"))


@case
def unsupported_protocol():
    return malformed_case("unsupported-protocol", "A GRE packet (protocol 47) and an ICMP "
                          "timestamp request (type 13).", "unsupported",
                          IP(src=I1, dst=R1, proto=47, id=0x100) / Raw(b"\0\0\x08\0" + b"x" * 20),
                          IP(src=I1, dst=R1, id=0x101) / ICMP(type=13, ts_ori=0, ts_rx=0, ts_tx=0))


@case
def not_nat():
    return malformed_case("not-nat", "A packet from an address in no inside prefix, and one "
                          "between two inside hosts.", "not-nat",
                          udp("10.9.9.9", 5000, R1, 53), udp(I1, 5000, I2, 53))


@case
def spoofed():
    return malformed_case("spoofed", "A packet whose source is the external address.", "spoofed",
                          udp(E, 5000, R1, 53))


@case
def udp_checksum_zero():
    c = Case("udp-checksum-zero", "UDP datagrams without checksum (0) keep 0 both ways while "
             "address and port change.", "behaviour.md 8; RFC 768, rfc-checklist F.50", ONE_PORT)
    m = Mapping(I1, 5000, E, 50000)
    (out, exp), (reply, exp_reply) = m.out(udp, R1, 53), m.back(udp, R1, 53)
    for p in (out, exp, reply, exp_reply):
        p[UDP].chksum = 0
    c.send(T0, out, exp)
    c.send(T0 + 1, reply, exp_reply)
    return c


@case
def tcp_wrong_checksum_kept():
    pkt, exp = Mapping(I1, 40000, E, 50000).out(tcp, R1, 80, "S")
    good = TCP(bytes(pkt)[20:]).chksum
    wrong = (good + 0x1111) & 0xFFFF
    want = rfc1624_update(wrong, words(I1, 40000), words(E, 50000))
    # The same arithmetic on the right checksum must give what scapy computes: a check of
    # the helper itself.
    assert rfc1624_update(good, words(I1, 40000), words(E, 50000)) == \
        TCP(bytes(exp)[20:]).chksum
    pkt[TCP].chksum, exp[TCP].chksum = wrong, want
    c = Case("tcp-wrong-checksum-kept", "A SYN with a wrong TCP checksum: TCP checksums are not "
             "checked but updated incrementally, so it leaves exactly as wrong (0x%04x becomes "
             "0x%04x by RFC 1624 eqn 3)." % (wrong, want), "behaviour.md 2, 8; RFC 1624",
             ONE_PORT)
    c.send(T0, pkt, exp)
    c.bad_checksums.append(1)
    return c


@case
def udp_checksum_wraps_to_ffff():
    # Choose the last payload word so that the translated datagram sums to 0xFFFF: its
    # checksum computes to 0x0000 and must be sent as 0xFFFF.
    base = bytes(udp(E, 5000, R1, 53, data=b"wrap\0\0"))
    pseudo = base[12:20] + struct.pack("!BBH", 0, 17, len(base) - 20)
    udp0 = base[20:26] + b"\0\0" + base[28:]
    word = 0xFFFF - ones_sum(pseudo + udp0)
    pkt, exp = Mapping(I1, 5000, E).out(udp, R1, 53, data=b"wrap" + struct.pack("!H", word))
    assert UDP(bytes(exp)[20:]).chksum == 0xFFFF
    c = Case("udp-checksum-wraps-to-ffff", "A UDP datagram whose translated checksum computes to "
             "0x0000 is sent with 0xFFFF (0 would mean no checksum).",
             "behaviour.md 8; RFC 768, rfc-checklist F.49-50", BASE)
    c.send(T0, pkt, exp)
    return c


@case
def table_full():
    c = Case("table-full", "max-sessions 2: a third flow is dropped and the two existing ones "
             "are not evicted.", "behaviour.md 3 (max-sessions)", BASE + "max-sessions 2\n")
    first, _ = two_then_refused(c)
    c.send(T0 + 3, *first.back(udp, R1, 53))
    c.expect("dropped table-full 1")
    return c


def with_partial_checksum(pkt):
    """pkt as a TUN device with checksum offload hands it over (virtio NEEDS_CSUM): the TCP or
    UDP checksum field holds the pseudo-header sum (RFC 793 3.1, RFC 768), folded and not
    complemented; the device completes it over the transport header and data."""
    raw = bytearray(bytes(pkt))
    ihl = (raw[0] & 15) * 4
    off = ihl + (16 if raw[9] == 6 else 6)
    pseudo = ones_sum(bytes(raw[12:20]) + struct.pack("!BBH", 0, raw[9], len(raw) - ihl))
    raw[off:off + 2] = struct.pack("!H", pseudo)
    # Completing it as the device does must give the checksum scapy computes for pkt.
    assert ~ones_sum(bytes(raw[ihl:])) & 0xFFFF == struct.unpack("!H", bytes(pkt)[off:off + 2])[0]
    return bytes(raw)


@case
def partial_checksums():
    c = Case("partial-checksums", "TCP and UDP packets with a partial checksum, as a TUN device "
             "with offloads hands them over (napt-replay -p): the field holds the pseudo-header "
             "sum, which follows the address change only; the port change is left to the "
             "device, which sums the ports itself.", "napt.h csum_partial; RFC 1624", ONE_PORT)
    u, t = Mapping(I1, 5000, E, 50000), Mapping(I1, 40000, E, 50000)
    p = with_partial_checksum
    c.send(T0, *map(p, u.out(udp, R1, 53)))
    c.send(T0 + 1, *map(p, u.back(udp, R1, 53)))
    c.send(T0 + 2, *map(p, t.out(tcp, R1, 80, "S")))
    c.send(T0 + 3, *map(p, t.back(tcp, R1, 80, "SA", seq=5000, ack=1001)))
    c.expect("translated udp out 1", "translated udp in 1", "translated tcp out 1",
             "translated tcp in 1")
    c.bad_checksums += [1, 2, 3, 4]  # partial sums, not checksums, to tshark
    c.replay_options.append("-p")
    return c


# ---- static one-to-one NAT, per-host limits, port parity, answers to unsolicited SYNs ---

S_IN, S_EXT = "192.168.1.30", "203.0.113.30"  # a `static` pair: one-to-one NAT
STATIC = "static %s %s\n" % (S_IN, S_EXT)


def static(port):
    """The static pair on a port: every port maps to itself."""
    return Mapping(S_IN, port, S_EXT)


@case
def static_nat():
    c = Case("static-nat", "static 192.168.1.30 203.0.113.30 with port-range 50000-50000: the "
             "static host's UDP, TCP (an ACK without any session included) and echo leave from "
             "203.0.113.30 with ports and identifier unchanged; unsolicited UDP, a SYN and an "
             "echo request to 203.0.113.30 reach it with ports unchanged. No session is made; "
             "another inside host is translated by the pool as before (port 50000).",
             "static one-to-one NAT (stateless, all ports, both ways)", ONE_PORT + STATIC)
    c.send(T0, *static(5000).out(udp, R1, 53))
    c.send(T0 + 1, *static(5000).back(udp, R1, 53, b"answer"))
    c.send(T0 + 2, *static(40000).out(tcp, R1, 80, "PA", seq=1001, ack=5001, data=b"x"))
    c.send(T0 + 3, *static(22).back(tcp, R2, 4444, "S", seq=7000))
    c.send(T0 + 4, *static(7777).back(udp, R2, 9999))
    c.send(T0 + 5, *static(0x4321).echo_out(R1))
    c.send(T0 + 6, *static(0x99).echo_back(R2))
    c.send(T0 + 7, *Mapping(I1, 5000, E, 50000).out(udp, R1, 53))
    c.expect("translated udp out 2", "translated udp in 2", "translated tcp out 1",
             "translated tcp in 1", "translated icmp out 1", "translated icmp in 1",
             "sessions created 1")
    return c


@case
def static_nat_icmp_errors():
    c = Case("static-nat-icmp-errors", "ICMP errors about the static host's traffic: a port "
             "unreachable and a time exceeded (quote cut to IP header + 8 bytes) sent to "
             "203.0.113.30 reach 192.168.1.30 with the quoted source rewritten; a port "
             "unreachable from 192.168.1.30 leaves from 203.0.113.30 with the quoted "
             "destination rewritten. Ports stay; quoted and ICMP checksums are updated.",
             "static one-to-one NAT; RFC 5508 REQ-4, REQ-5", BASE + STATIC)
    dns, web, svc = static(5000), static(40000), static(7000)
    seg = dict(seq=1001, ack=5001, data=b"12345678", ttl=1)
    c.send(T0, *dns.out(udp, R1, 53))
    c.send(T0 + 1, *dns.error_back(R1, 3, 3, dns.out(udp, R1, 53, ttl=63)))
    c.send(T0 + 2, *web.error_back(R2, 11, 0, web.out(tcp, R1, 80, "PA", **seg), cut=28))
    c.send(T0 + 3, *svc.error_out(R1, 3, 3, svc.back(udp, R1, 3333, ttl=63)))
    c.expect("icmp-errors translated 3", "sessions created 0")
    return c


@case
def static_nat_spoofed():
    c = Case("static-nat-spoofed", "Packets whose source is a static external address "
             "(203.0.113.30), towards a remote host, the pool address and the static host "
             "itself, are dropped (spoofed); a good packet after them passes.",
             "static one-to-one NAT; behaviour.md 1", BASE + STATIC)
    c.send(T0, udp(S_EXT, 5000, R1, 53))
    c.send(T0 + 1, udp(S_EXT, 5000, E, 5000))
    c.send(T0 + 2, udp(S_EXT, 5000, S_IN, 5000))
    c.send(T0 + 3, *Mapping(I1, 5000, E).out(udp, R1, 53))
    c.expect("dropped spoofed 3", "sessions created 1")
    return c


@case
def host_session_limit():
    c = Case("host-session-limit", "max-sessions-per-host 2: 192.168.1.10 opens two flows; a "
             "third (new mapping) and a new remote on its existing mapping are dropped "
             "(host-session-limit); its existing flows keep passing both ways and another "
             "inside host opens a flow.", "RFC 6888 REQ-4", BASE + "max-sessions-per-host 2\n")
    first, second = two_then_refused(c)
    c.send(T0 + 3, udp(I1, 5000, R2, 53))
    c.send(T0 + 4, *first.out(udp, R1, 53))
    c.send(T0 + 5, *second.back(udp, R1, 53))
    c.send(T0 + 6, *Mapping(I2, 5002, E).out(udp, R1, 53))
    c.expect("dropped host-session-limit 2", "sessions created 3", "sessions current 3")
    return c


@case
def host_session_limit_inbound():
    c = Case("host-session-limit-inbound", "max-sessions-per-host 2 with a forward to "
             "192.168.1.10:7000 and endpoint-independent filtering: after one outbound flow, "
             "three inbound flows (two through the forward, one admitted by the mapping) still "
             "pass, as only outbound flows are refused; they count, so the host's next "
             "outbound flow is dropped (host-session-limit) while its forwarded flow answers.",
             "RFC 6888 REQ-4", BASE + "max-sessions-per-host 2\nfiltering endpoint-independent\n"
             "forward udp 6000 192.168.1.10:7000\n")
    m, fwd = Mapping(I1, 5000, E), Mapping(I1, 7000, E, 6000)
    c.send(T0, *m.out(udp, R1, 53))
    c.send(T0 + 1, *fwd.back(udp, R2, 3333))
    c.send(T0 + 2, *fwd.back(udp, R2, 3334))
    c.send(T0 + 3, *m.back(udp, R2, 53))
    c.send(T0 + 4, udp(I1, 5001, R1, 53))
    c.send(T0 + 5, *fwd.out(udp, R2, 3333))
    c.expect("dropped host-session-limit 1", "sessions created 4")
    return c


@case
def host_port_limit():
    c = Case("host-port-limit", "ports-per-host 2: 192.168.1.10 holds external ports 5000 and "
             "5001; a flow needing a third port, UDP or TCP, is dropped (host-port-limit); a new "
             "remote on its existing endpoint-independent mapping needs no port and passes; "
             "another inside host gets a port.", "RFC 6888 REQ-4", BASE + "ports-per-host 2\n")
    first, _ = two_then_refused(c)
    c.send(T0 + 3, tcp(I1, 40000, R1, 80, "S"))
    c.send(T0 + 4, *first.out(udp, R2, 53))
    c.send(T0 + 5, *Mapping(I2, 5002, E).out(udp, R1, 53))
    c.expect("dropped host-port-limit 2", "mappings current 3", "sessions created 4")
    return c


@case
def port_parity():
    c = Case("port-parity", "port-parity yes, port-range 50000-50001: inside port 5001 (odd) "
             "gets 50001; inside port 5003 (odd) finds only the even 50000 free and is dropped "
             "(ports-exhausted); inside port 5002 (even) gets 50000; TCP port 40000 (even) gets "
             "50000 of the TCP ports.", "RFC 4787 REQ-4", BASE + "port-range 50000-50001\n"
             "port-parity yes\n")
    odd = Mapping(I1, 5001, E, 50001)
    c.send(T0, *odd.out(udp, R1, 53))
    c.send(T0 + 1, udp(I1, 5003, R1, 53))
    c.send(T0 + 2, *Mapping(I1, 5002, E, 50000).out(udp, R1, 53))
    c.send(T0 + 3, *Mapping(I1, 40000, E, 50000).out(tcp, R1, 80, "S"))
    c.send(T0 + 4, *odd.back(udp, R1, 53))
    c.expect("dropped ports-exhausted 1")
    return c


def answer_ip(src, dst, proto):
    """The IPv4 header of an answer made by the NAT itself: TTL 64, DF, ID 0 (RFC 6864)."""
    return IP(src=src, dst=dst, id=0, ttl=64, flags="DF", proto=proto)


def rst_for(syn):
    """RFC 793 3.4 reset for a segment without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
    SEG.LEN counting the SYN and the data; window 0."""
    seg = IP(bytes(syn))
    seg_len = 1 + len(bytes(seg[TCP].payload))
    return answer_ip(seg.dst, seg.src, 6) / TCP(sport=seg[TCP].dport, dport=seg[TCP].sport,
                                                flags="RA", seq=0, ack=seg[TCP].seq + seg_len,
                                                window=0)


def port_unreachable_for(syn):
    """RFC 792 destination unreachable, code 3 (port), quoting the IP header and the first
    64 bits of the datagram."""
    raw = bytes(syn)
    seg = IP(raw)
    return answer_ip(seg.dst, seg.src, 1) / ICMP(type=3, code=3) / Raw(raw[:seg.ihl * 4 + 8])


def tick(c, t):
    """A datagram to an unmapped port of E at t, dropped (no-mapping): the engine's clock
    moves, and the answers whose 6 s passed come out after it."""
    c.send(t, udp(R2, 7, E, 9))


@case
def unsolicited_syn_rst():
    syn1 = tcp(R1, 4444, E, 80, "S", seq=1000)
    syn2 = tcp(R1, 4445, E, 81, "S", seq=7000, data=b"hello")
    filtered = tcp(R2, 5555, E, 40000, "S", seq=3000)
    c = Case("unsolicited-syn-rst", "unsolicited-syn rst: a SYN to an unmapped port, a SYN "
             "with 5 bytes of data, and a SYN refused by APDF filtering of a live mapping are "
             "each dropped, and answered 6 s later (the first packet from then on) by a "
             "RST|ACK from the external address (SEQ 0, ACK = SEQ + 1 + data, window 0, TTL "
             "64, DF, ID 0); an ACK, a SYN-ACK and a UDP datagram get no answer. Drops are "
             "still counted and no state is made.",
             "RFC 5382 REQ-4, RFC 793 3.4", BASE + "unsolicited-syn rst\n")
    c.send(T0, syn1)
    c.send(T0 + 1, syn2)
    c.send(T0 + 2, tcp(R1, 4446, E, 82, "A", seq=1000, ack=1))
    c.send(T0 + 3, tcp(R1, 4447, E, 83, "SA", seq=1000, ack=1))
    c.send(T0 + 4, udp(R1, 53, E, 9999))
    m = Mapping(I1, 40000, E)
    c.send(T0 + 5, *m.out(tcp, R1, 80, "S"))
    c.send(T0 + 5.5, filtered)
    c.send(T0 + 5.9, *m.back(tcp, R1, 80, "SA", seq=5000, ack=1001))
    c.send(T0 + 6, tcp(R1, 4448, E, 84, "A", seq=1000, ack=1), rst_for(syn1))
    c.send(T0 + 7, *(m.out(tcp, R1, 80, "A", seq=1001, ack=5001) + (rst_for(syn2),)))
    tick(c, T0 + 11.4)
    c.send(T0 + 11.5, udp(R1, 53, E, 9999), rst_for(filtered))
    c.expect("replies sent 3", "replies limited 0", "replies cancelled 0",
             "dropped no-mapping 8", "dropped filtered 1", "sessions created 1",
             "mappings current 1")
    return c


@case
def unsolicited_syn_icmp():
    syn1 = tcp(R1, 4444, E, 80, "S", seq=1000)
    syn2 = IP(src=R1, dst=E, id=0x200, options=[IPOption_Router_Alert()]) / TCP(
        sport=4445, dport=81, flags="S", seq=2000, window=65535)
    syn3 = tcp(R2, 4446, E, 82, "S", seq=3000, data=b"x" * 20)
    c = Case("unsolicited-syn-icmp", "unsolicited-syn icmp: SYNs to unmapped ports (one with "
             "an IP option, one with 20 bytes of data) are each dropped, and answered 6 s "
             "later by an ICMP port unreachable (3/3) from the external address, TTL 64, DF, "
             "ID 0, quoting the SYN's IP header (options included) and its first 8 bytes; a "
             "UDP datagram gets no answer.", "RFC 5382 REQ-4, RFC 792",
             BASE + "unsolicited-syn icmp\n")
    c.send(T0, syn1)
    c.send(T0 + 1, syn2)
    c.send(T0 + 2, syn3)
    c.send(T0 + 3, udp(R1, 53, E, 9999))
    c.send(T0 + 6, udp(R2, 7, E, 9), port_unreachable_for(syn1))
    c.send(T0 + 7, udp(R2, 7, E, 9), port_unreachable_for(syn2))
    c.send(T0 + 8, udp(R2, 7, E, 9), port_unreachable_for(syn3))
    c.expect("replies sent 3", "dropped no-mapping 7", "sessions created 0")
    return c


@case
def unsolicited_syn_rate_limit():
    c = Case("unsolicited-syn-rate-limit", "unsolicited-syn rst: 101 SYNs from as many "
             "sources within 0.4 s come due together 6 s later and get 100 answers, the 101st "
             "none (replies limited); a SYN 1.5 s after the first is answered 6 s later. Every "
             "SYN counts as dropped no-mapping.",
             "RFC 5382 REQ-4 (at most 100 answers a second)", BASE + "unsolicited-syn rst\n")
    syns = [tcp("198.51.100.%d" % (100 + i), 10000 + i, E, 80, "S", seq=1000 + i)
            for i in range(101)]
    for i, syn in enumerate(syns):
        c.send(T0 + i * 0.004, syn)
    late = tcp(R1, 20000, E, 80, "S", seq=9000)
    c.send(T0 + 1.5, late)
    c.send(T0 + 6.5, udp(R2, 7, E, 9), *[rst_for(syn) for syn in syns[:100]])
    c.send(T0 + 7.6, udp(R2, 7, E, 9), rst_for(late))
    c.expect("replies sent 101", "replies limited 1", "dropped no-mapping 104")
    return c


# ---- TCP state after RST and FIN, hairpins to the sender, echo requests, fragmented errors --


@numbered(76)
def tcp_rst_ignored():
    c = Case("tcp-rst-ignored", "A RST comes in on an established connection (stale or forged: "
             "the inside host ignores it) and is translated; the inside host's next segment "
             "takes the session back to established, so a segment 300 s later (beyond the "
             "240 s transitory timeout) still passes both ways.",
             "behaviour.md 5, 6; RFC 7857 2.2, RFC 6146 3.5.2.2 (TRANS)", BASE)
    m = Mapping(I1, 40000, E)
    handshake(c, T0, m, R1, 80)
    c.send(T0 + 1, *m.back(tcp, R1, 80, "R", seq=9999))
    c.send(T0 + 2, *m.out(tcp, R1, 80, "PA", seq=1001, ack=5001, data=b"still here"))
    c.send(T0 + 302, *m.back(tcp, R1, 80, "PA", seq=5001, ack=1011, data=b"so am I"))
    c.send(T0 + 302.1, *m.out(tcp, R1, 80, "A", seq=1011, ack=5008))
    c.expect("translated tcp in 3", "translated tcp out 4")
    return c


@numbered(77)
def tcp_half_close():
    c = Case("tcp-half-close", "The inside host sends its FIN (half-close) and the server "
             "goes on sending: the session keeps the established timeout, so the server's data "
             "300 s later passes. The server's FIN then puts the session in time-wait (240 s): "
             "a segment 241 s after it is dropped.",
             "behaviour.md 5, 6; RFC 6146 3.5.2.2 (V4/V6 FIN RCV), RFC 5382 REQ-5", BASE)
    m = Mapping(I1, 40000, E)
    handshake(c, T0, m, R1, 80)
    c.send(T0 + 1, *m.out(tcp, R1, 80, "FA", seq=1001, ack=5001))
    c.send(T0 + 301, *m.back(tcp, R1, 80, "PA", seq=5001, ack=1002, data=b"more data"))
    c.send(T0 + 301.1, *m.out(tcp, R1, 80, "A", seq=1002, ack=5010))
    c.send(T0 + 302, *m.back(tcp, R1, 80, "FA", seq=5010, ack=1002))
    c.send(T0 + 302.1, *m.out(tcp, R1, 80, "A", seq=1002, ack=5011))
    c.send(T0 + 543.2, tcp(R1, 80, E, 40000, "FA", seq=5010, ack=1002))
    c.expect("dropped no-mapping 1")
    return c


@numbered(78)
def tcp_fin_in_handshake():
    c = Case("tcp-fin-in-handshake", "Through a forward, a SYN then a FIN from outside without "
             "any answer: a FIN before the handshake completes does not make the session "
             "half-closed (which would get the established timeout); it stays in "
             "syn-received and is gone 241 s later.",
             "behaviour.md 5, 6; RFC 6146 3.5.2.2 (V4 INIT)",
             BASE + "forward tcp 8080 192.168.1.10:80\n")
    m = Mapping(I1, 80, E, 8080)
    c.send(T0, *m.back(tcp, R1, 4000, "S", seq=7000))
    c.send(T0 + 1, *m.back(tcp, R1, 4000, "FA", seq=7001, ack=1))
    c.send(T0 + 242, tcp(R1, 4000, E, 8080, "A", seq=7002, ack=1))
    c.expect("dropped tcp-no-session 1")
    return c


@numbered(79)
def icmp_error_fragmented():
    c = Case("icmp-error-fragmented", "Port unreachables quoting a whole 240-byte UDP datagram, "
             "each in two fragments (64 + 204 bytes of ICMP): the first fragment gets the "
             "quote translated and the ICMP checksum of the whole reassembled message, the "
             "second only the outer destination. The second error's later fragment comes "
             "first, is held and released after its first.",
             "behaviour.md 7, 8, 10; RFC 5508 REQ-4, RFC 4787 REQ-14", BASE)
    m = Mapping(I1, 5000, E)
    data = bytes(range(200)) + bytes(40)
    c.send(T0, *m.out(udp, R1, 53, data))
    arrived, reached = m.error_back(R1, 3, 3, m.out(udp, R1, 53, data, ttl=63))
    inside, outside = fragments(arrived, [64]), fragments(reached, [64])
    c.send(T0 + 1, inside[0], outside[0])
    c.send(T0 + 1.1, inside[1], outside[1])
    arrived, reached = m.error_back(R1, 3, 3, m.out(udp, R1, 53, data, ttl=63), ipid=0x401)
    inside, outside = fragments(arrived, [64]), fragments(reached, [64])
    c.send(T0 + 2, inside[1])
    c.send(T0 + 2.1, inside[0], outside[0], outside[1])
    c.expect("icmp-errors translated 2")
    return c


@numbered(80)
def hairpin_to_own_mapping():
    c = Case("hairpin-to-own-mapping", "With a DMZ host and endpoint-independent filtering, I1 "
             "holds mapping E:5000 and sends from I1:5000 to E:5000 itself (the STUN hairpin "
             "probe): the packet comes back to I1:5000 from E:5000, the owner of E:5000, not "
             "to the DMZ host. I2:6000 -> E:5000 reaches I1 from E:6000.",
             "behaviour.md 9; RFC 4787 REQ-9",
             BASE + "filtering endpoint-independent\ndmz %s\n" % D)
    c.send(T0, *Mapping(I1, 5000, E).out(udp, R1, 53))
    c.send(T0 + 1, udp(I1, 5000, E, 5000), udp(E, 5000, I1, 5000))
    c.send(T0 + 2, udp(I2, 6000, E, 5000), udp(E, 6000, I1, 5000))
    c.expect("hairpinned 2")
    return c


@numbered(81)
def hairpin_echo():
    c = Case("hairpin-echo", "With a DMZ host, I1 pings the pool address E (identifier 7700): "
             "the identifier is both ends of the query, so the request would come back to I1; "
             "it is dropped (filtered), reaching neither I1 nor the DMZ host. I1's ping to "
             "the static address 203.0.113.30 reaches the static host 192.168.1.30 from E, "
             "and its reply returns to I1 from 203.0.113.30 (Basic NAT hairpin).",
             "behaviour.md 9, 12; RFC 5508 REQ-7", BASE + "dmz %s\n" % D + STATIC)
    c.send(T0, echo(I1, E, 7700))
    c.send(T0 + 1, echo(I1, S_EXT, 7800), echo(E, S_IN, 7800))
    c.send(T0 + 1.1, echo(S_IN, E, 7800, reply=True), echo(S_EXT, I1, 7800, reply=True))
    c.expect("dropped filtered 1", "hairpinned 2")
    return c


@numbered(82)
def echo_request_on_query_mapping():
    c = Case("echo-request-on-query-mapping", "With endpoint-independent filtering and a DMZ "
             "host, I1 pings R1 with identifier 0x4242 and gets its reply. Echo requests to "
             "E with identifier 0x4242, from R2 and from R1 itself, are no replies: dropped "
             "(filtered), sent neither to I1 nor to the DMZ host. A request with another "
             "identifier goes to the DMZ host.",
             "behaviour.md 4; RFC 5508 3.1", BASE + "filtering endpoint-independent\ndmz %s\n" % D)
    m = Mapping(I1, 0x4242, E)
    c.send(T0, *m.echo_out(R1))
    c.send(T0 + 0.1, *m.echo_back(R1, reply=True))
    c.send(T0 + 1, echo(R2, E, 0x4242))
    c.send(T0 + 2, echo(R1, E, 0x4242, seq=2))
    c.send(T0 + 3, *Mapping(D, 0x5000, E).echo_back(R2))
    c.expect("dropped filtered 2")
    return c


# ---- fragments: held only when their first could match, shared fairly by source --------


def udp_fragments(src, sport, dst, dport, ipid, cut=24):
    """A 40-byte UDP datagram with IP ID ipid, in two fragments."""
    return fragments(udp(src, sport, dst, dport, data=bytes(range(40)), ipid=ipid), [cut])


def later_fragment_first(c, t, sent, arrived):
    """sent's later fragment comes at t and is held; its first, 10 ms later, releases it:
    both come out as arrived."""
    c.send(t, sent[1])
    c.send(t + 0.01, sent[0], arrived[0], arrived[1])


@numbered(71)
def fragment_wan_unsolicited():
    c = Case("fragment-wan-unsolicited", "Inbound later fragments are held only when their "
             "first fragment could be translated: R2, which has no session, sends a later "
             "fragment to E:50000 (I1's mapping) and it is dropped at once, not held; R1, which "
             "I1 talks to, sends its reply's later fragment first: it is held and follows the "
             "first fragment in.", "behaviour.md 10 (unsolicited fragments make no state)",
             ONE_PORT)
    m = Mapping(I1, 5000, E, 50000)
    c.send(T0, *m.out(udp, R1, 53))
    c.send(T0 + 1, udp_fragments(R2, 53, E, 50000, 0x901)[1])
    later_fragment_first(c, T0 + 2, udp_fragments(R1, 53, E, 50000, 0x902),
                         udp_fragments(R1, 53, I1, 5000, 0x902))
    c.expect("dropped fragment-no-first 1", "fragments held 1")
    return c


@numbered(72)
def fragment_pool_fair():
    c = Case("fragment-pool-fair", "I2 sends 80 later fragments whose first never comes: it "
             "holds at most 16 (its share of the 64-fragment pool), each new one taking the "
             "place of its own oldest. I1's datagram, later fragment first, is still held and "
             "released by its first fragment.", "behaviour.md 10 (fragments shared by source)",
             ONE_PORT)
    for i in range(80):
        c.send(T0 + i * 0.001, udp_fragments(I2, 6000, R1, 53, 0x1000 + i)[1])
    later_fragment_first(c, T0 + 1, udp_fragments(I1, 5000, R1, 53, 0x903),
                         udp_fragments(E, 50000, R1, 53, 0x903))
    c.expect("dropped fragment-full 64", "fragments held 81")
    return c


@numbered(73)
def fragment_ring_fair():
    c = Case("fragment-ring-fair", "I2 sends 1100 first fragments in 1.1 s (more than the "
             "1024 remembered translations); it keeps at most 64 of them, its own oldest "
             "giving way. I1's datagram then goes through, first fragment then later one: "
             "the later one is translated at once, not held.",
             "behaviour.md 10 (fragments shared by source)", BASE)
    flood = Mapping(I2, 6000, E)
    for i in range(1100):
        c.send(T0 + i * 0.001, *(f[0] for f in flood.out(udp_fragments, R1, 53, 0x2000 + i)))
    sent = udp_fragments(I1, 5000, R1, 53, 0x904)
    left = udp_fragments(E, 5000, R1, 53, 0x904)
    c.send(T0 + 2, sent[0], left[0])
    c.send(T0 + 2.01, sent[1], left[1])
    c.expect("fragments held 0")
    return c


@numbered(120)
def icmp_error_odd_length():
    c = Case("icmp-error-odd-length", "Port unreachables quoting 29 and 31 bytes of a UDP "
             "datagram (an ICMP message of odd length: the checksum pads the last byte): the "
             "quote is translated back and the ICMP checksum is that of the odd-length message.",
             "behaviour.md 7; RFC 5508 REQ-4, RFC 1071", BASE)
    m = Mapping(I1, 5000, E)
    c.send(T0, *m.out(udp, R1, 53, b"odd-length-data"))
    for cut in (29, 31):
        c.send(T0 + 1, *m.error_back(R1, 3, 3, m.out(udp, R1, 53, b"odd-length-data", ttl=63),
                                     cut=cut))
    c.expect("icmp-errors translated 2")
    return c


@numbered(121)
def icmp_error_quotes_first_fragment():
    c = Case("icmp-error-quotes-first-fragment", "A port unreachable quoting the first fragment "
             "(MF set, 16 bytes of UDP) of a datagram I1 sent in two: the quote is the fragment "
             "as it left, translated back to the fragment I1 sent, ICMP checksum right.",
             "behaviour.md 7, 10; RFC 5508 REQ-4", BASE)
    m = Mapping(I1, 5000, E)
    data = bytes(range(40))
    c.send(T0, *m.out(udp, R1, 53, data))
    sent, left = (fragments(p, [16])[0] for p in m.out(udp, R1, 53, data, ttl=63))
    c.send(T0 + 1, *m.error_back(R1, 3, 3, (sent, left)))
    c.expect("icmp-errors translated 1")
    return c


@numbered(122)
def icmp_error_quotes_later_fragment():
    c = Case("icmp-error-quotes-later-fragment", "ICMP errors quoting a later fragment (offset "
             "16: no ports in it), an error about an error, and a quote cut inside its own IP "
             "header (22 bytes of a 24-byte header) are dropped: nothing in them names a session.",
             "behaviour.md 7; RFC 5508 REQ-3, RFC 1122 3.2.2", BASE)
    m = Mapping(I1, 5000, E)
    data = bytes(range(40))
    c.send(T0, *m.out(udp, R1, 53, data))
    later = bytes(fragments(m.out(udp, R1, 53, data, ttl=63)[1], [16])[1])
    c.send(T0 + 1, icmp_error(R1, E, 3, 3, later))
    inner = bytes(icmp_error(E, R1, 3, 3, bytes(m.out(udp, R1, 53, data)[1])[:28]))
    c.send(T0 + 2, icmp_error(R1, E, 3, 3, inner))
    opts = bytes(IP(src=E, dst=R1, id=0x100, options=[IPOption_Router_Alert()]) /
                 UDP(sport=5000, dport=53) / Raw(data))
    c.send(T0 + 3, icmp_error(R1, E, 3, 3, opts[:22]))
    c.expect("dropped bad-icmp-quote 3")
    return c


def icmp_error_with_rest(pair, rest):
    """The pair of error_back() with the first two of the ICMP header's unused bytes set to
    rest, the ICMP checksum summed again (scapy's checksum()). Returns (bytes, checksum)
    pairs."""
    out = []
    for p in pair:
        raw = bytearray(bytes(p))
        raw[24:26] = struct.pack("!H", rest)
        raw[22:24] = b"\0\0"
        raw[22:24] = struct.pack("!H", checksum(bytes(raw[20:])))
        out.append((bytes(raw), struct.unpack("!H", raw[22:24])[0]))
    return out


@numbered(123)
def icmp_error_checksum_zero():
    c = Case("icmp-error-checksum-zero", "Two port unreachables whose unused header bytes are "
             "chosen so that the ICMP checksum is 0x0000: once on the translated error (it "
             "must be 0x0000, as a full sum gives, not 0xffff), once on the error as it "
             "arrives, written there as 0xffff (the other form of zero, RFC 1624 section 3).",
             "behaviour.md 7; RFC 5508 REQ-4, RFC 1624 3", BASE)
    m = Mapping(I1, 5000, E)
    c.send(T0, *m.out(udp, R1, 53))
    pair = m.error_back(R1, 3, 3, m.out(udp, R1, 53, ttl=63))
    (_, arrived), (_, reached) = icmp_error_with_rest(pair, 0)
    # rest = the checksum with rest 0 brings the sum to 0xffff: checksum 0x0000.
    (a, _), (r, c_r) = icmp_error_with_rest(pair, reached)
    assert c_r == 0
    c.send(T0 + 1, a, r)
    (a, c_a), (r, _) = icmp_error_with_rest(pair, arrived)
    assert c_a == 0
    c.send(T0 + 2, a[:22] + b"\xff\xff" + a[24:], r)
    c.expect("icmp-errors translated 2")
    return c


# ---- port rest, deterministic NAT (cases 100-119) ---------------------------------------


@numbered(100)
def port_rest():
    c = Case("port-rest", "The only port of the range, released when its UDP session times out, "
             "rests 120 s before a new mapping may take it: another host's flow 1 s and 120 s "
             "after the release is dropped (ports-exhausted), one 121 s after it gets the port.",
             "behaviour.md 3 (port rest); RFC 6888 REQ-8", ONE_PORT)
    first, second = Mapping(I1, 5000, E, 50000), Mapping(I2, 6000, E, 50000)
    c.send(T0, *first.out(udp, R1, 53))
    # T0 + 301: the session (and the mapping) expire at this packet; the port rests from here.
    c.send(T0 + 301, udp(I2, 6000, R1, 53))
    c.send(T0 + 420, udp(I2, 6000, R1, 53))
    c.send(T0 + 422, *second.out(udp, R1, 53))
    c.send(T0 + 423, *second.back(udp, R1, 53))
    c.expect("dropped ports-exhausted 2")
    return c


def ipv4_int(a):
    return struct.unpack("!I", bytes(int(x) for x in a.split(".")))[0]


def ipv4_text(n):
    return ".".join(str(b) for b in struct.pack("!I", n))


def det_endpoint(inside, iport, in_prefix, ext_prefix, lo, hi, ports=None):
    """docs/scale-out.md: S hosts per external address, P ports each; host k gets external
    address k / S and ports lo + (k % S) * P onwards; inside port p starts at p % P in it."""
    (in_base, in_len), (ext_base, ext_len) = ([(ipv4_int(a), int(n)) for a, n in
                                               [p.split("/") for p in (in_prefix, ext_prefix)]])
    hosts, addrs, total = 2 ** (32 - in_len), 2 ** (32 - ext_len), hi - lo + 1
    per_ext = total // ports if ports else -(-hosts // addrs)
    ports = ports or total // per_ext
    k = ipv4_int(inside) - in_base
    return ipv4_text(ext_base + k // per_ext), lo + (k % per_ext) * ports + iport % ports


DET_IN, DET_EXT = "100.64.0.0/24", "203.0.113.16/28"
DET = "inside 100.64.0.0/24\ndeterministic %s %s\n" % (DET_IN, DET_EXT)


def det_mapping(inside, iport):
    ext, eport = det_endpoint(inside, iport, DET_IN, DET_EXT, 1024, 65535)
    return Mapping(inside, iport, ext, eport)


@numbered(101)
def det_formula():
    c = Case("det-formula", "Deterministic NAT (RFC 7422) of 100.64.0.0/24 on 203.0.113.16/28 "
             "with port-range 1024-65535: 16 hosts per external address, 4032 ports each. "
             "100.64.0.1 leaves from 203.0.113.16 in 5056-9087, 100.64.0.17 from 203.0.113.17 "
             "in 5056-9087, 100.64.0.255 from 203.0.113.31 in 61504-65535, each flow on the port "
             "first + inside port % 4032; the replies come back.",
             "scale-out.md (formula); RFC 7422 section 2", DET)
    flows = [("100.64.0.1", 40000, udp), ("100.64.0.17", 40000, udp),
             ("100.64.0.255", 1234, udp), ("100.64.0.17", 50001, tcp)]
    for i, (host, port, make) in enumerate(flows):
        m = det_mapping(host, port)
        args = ("S",) if make is tcp else ()
        c.send(T0 + i, *m.out(make, R1, 80, *args))
        if make is tcp:
            c.send(T0 + i + 0.5, *m.back(make, R1, 80, "SA", seq=5000, ack=1001))
        else:
            c.send(T0 + i + 0.5, *m.back(make, R1, 80))
    c.expect("deterministic collisions 0")
    return c


@numbered(102)
def det_collision():
    c = Case("det-collision", "Deterministic NAT with deterministic-ports 100 in 2000-2999: "
             "192.168.1.10 (position 10: 203.0.113.17, ports 2000-2099) sends from 5000 and "
             "5100, both wanting 2000: the second takes 2001, the next free port of its "
             "range, counted; from 5099 it gets 2099 and from 5199 (2099 held) it wraps to "
             "2002. Replies reach each flow.",
             "scale-out.md (collisions); RFC 7422 section 2",
             BASE + "port-range 2000-2999\ndeterministic 192.168.1.0/28 203.0.113.16/30\n"
             "deterministic-ports 100\n")
    ports = [(5000, 2000), (5100, 2001), (5099, 2099), (5199, 2002)]
    for i, (iport, eport) in enumerate(ports):
        m = Mapping(I1, iport, "203.0.113.17", eport)
        c.send(T0 + i, *m.out(udp, R1, 53))
        c.send(T0 + i + 0.5, *m.back(udp, R1, 53))
    c.expect("deterministic collisions 2")
    return c


@numbered(103)
def det_pickup():
    c = Case("det-pickup", "A deterministic host's TCP flow met in the middle (its outbound "
             "ACK with data, no session: another node carried it so far) is picked up on "
             "the formula's endpoint as established: the server's answer 200 s later (within "
             "the transitory timeout a pickup has until it is answered) passes. An inbound "
             "segment without a session, a RST and a host outside the deterministic prefix "
             "still create nothing.",
             "scale-out.md (pickup); behaviour.md 3 (TCP)",
             "inside 100.64.0.0/16\ndeterministic %s %s\n" % (DET_IN, DET_EXT))
    m = det_mapping("100.64.0.17", 40000)
    c.send(T0, *m.out(tcp, R1, 443, "PA", seq=7000, ack=9000, data=b"mid-stream"))
    c.send(T0 + 200, *m.back(tcp, R1, 443, "PA", seq=9000, ack=7010, data=b"answer"))
    c.send(T0 + 201, *m.out(tcp, R1, 443, "A", seq=7010, ack=9006))
    other = det_mapping("100.64.0.18", 40000)
    c.send(T0 + 202, tcp(R1, 443, other.ext, other.eport, "A", seq=9000, ack=7000))
    c.send(T0 + 203, tcp("100.64.0.18", 40001, R1, 443, "R", seq=7000))
    c.send(T0 + 204, tcp("100.64.1.5", 40000, R1, 443, "A", seq=7000, ack=9000))
    c.expect("deterministic pickups 1", "dropped no-mapping 1", "dropped tcp-no-session 2",
             "sessions created 1")
    return c


@numbered(110)
def det_pickup_unanswered():
    c = Case("det-pickup-unanswered", "A picked-up TCP flow that nothing answers has the "
             "transitory timeout (240 s), not the established one: a stray or forged outbound "
             "ACK holds its port 4 minutes. 100.64.0.17's ACK is picked up; the server's "
             "answer 241 s later finds nothing (no-mapping). Its next ACK is picked up again, "
             "the answer 239 s later passes and makes the session established: the host's "
             "ACK 7000 s after that (past the transitory timeout, within the established one) "
             "goes out on the same session, no third pickup.",
             "behaviour.md 17 (pickup); RFC 5382 REQ-5",
             "inside 100.64.0.0/16\ndeterministic %s %s\n" % (DET_IN, DET_EXT))
    m = det_mapping("100.64.0.17", 40000)
    c.send(T0, *m.out(tcp, R1, 443, "A", seq=7000, ack=9000))
    c.send(T0 + 241, tcp(R1, 443, m.ext, m.eport, "A", seq=9000, ack=7000))
    c.send(T0 + 242, *m.out(tcp, R1, 443, "A", seq=7000, ack=9000))
    c.send(T0 + 481, *m.back(tcp, R1, 443, "A", seq=9000, ack=7000))
    c.send(T0 + 7481, *m.out(tcp, R1, 443, "A", seq=7000, ack=9000))
    c.expect("deterministic pickups 2", "dropped no-mapping 1", "sessions created 2",
             "sessions expired 1")
    return c


@numbered(104)
def port_blocks():
    c = Case("port-blocks", "port-block-size 4 in 5000-5007 (two blocks): 192.168.1.10's four "
             "flows from 5000-5003 fill the block holding 5000; its flow from 5005 opens the "
             "second block (the one holding its port); 192.168.1.20 then finds no free block "
             "and is dropped. Two block events for five mappings; replies pass.",
             "behaviour.md 3 (port blocks)", BASE + "port-range 5000-5007\nport-block-size 4\n"
             "port-rest 0\n")
    for i, port in enumerate([5000, 5001, 5002, 5003, 5005]):
        m = Mapping(I1, port, E)
        c.send(T0 + i, *m.out(udp, R1, 53))
        c.send(T0 + i + 0.5, *m.back(udp, R1, 53))
    c.send(T0 + 6, udp(I2, 5004, R1, 53))
    c.expect("port blocks allocated 2", "port blocks released 0", "dropped ports-exhausted 1")
    return c


@numbered(105)
def port_block_limit():
    c = Case("port-block-limit", "With ports-per-host 6 and port-block-size 4 a host holds one "
             "block (a second would pass 6 ports): 192.168.1.10's fifth flow is dropped "
             "(host-port-limit) although it holds only four mappings; 192.168.1.20 gets the "
             "other block.", "behaviour.md 3 (port blocks); RFC 6888 REQ-4",
             BASE + "port-range 5000-5007\nport-block-size 4\nports-per-host 6\n")
    for i, port in enumerate([5000, 5001, 5002, 5003]):
        c.send(T0 + i, *Mapping(I1, port, E).out(udp, R1, 53))
    c.send(T0 + 4, udp(I1, 5005, R1, 53))
    c.send(T0 + 5, *Mapping(I2, 5004, E).out(udp, R1, 53))
    c.expect("port blocks allocated 2", "dropped host-port-limit 1")
    return c


@numbered(106)
def port_block_rest():
    c = Case("port-block-rest", "port-block-size 4 in 5000-5003 (one block): 192.168.1.10 holds "
             "it, so 192.168.1.20 is dropped; when the mapping times out (at T0 + 301) the block "
             "goes back but rests 120 s with its port: 192.168.1.20 is dropped at T0 + 301 and "
             "T0 + 420, and gets the block (its own port) at T0 + 422.",
             "behaviour.md 3 (port blocks, port rest); RFC 6888 REQ-8",
             BASE + "port-range 5000-5003\nport-block-size 4\n")
    c.send(T0, *Mapping(I1, 5001, E).out(udp, R1, 53))
    for t in (1, 301, 420):
        c.send(T0 + t, udp(I2, 5002, R1, 53))
    late = Mapping(I2, 5002, E)
    c.send(T0 + 422, *late.out(udp, R1, 53))
    c.send(T0 + 423, *late.back(udp, R1, 53))
    c.expect("port blocks allocated 2", "port blocks released 1", "dropped ports-exhausted 3")
    return c


# ---- the home router: MSS clamping, the documents' worked example -------------------------


def tcp_opts(src, sport, dst, dport, flags, mss, seq=1000, ack=0):
    """A TCP segment with the options a Linux SYN carries: MSS first, then SACK permitted,
    timestamps, NOP and window scale."""
    opts = [("MSS", mss), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
    return IP(src=src, dst=dst, id=0x200) / TCP(sport=sport, dport=dport, flags=flags, seq=seq,
                                                ack=ack, window=65535, options=opts)


@numbered(90)
def mss_clamp():
    c = Case("mss-clamp", "mss-clamp 1452 (a PPPoE WAN link, MTU 1492): I1's SYN with MSS 1460 "
             "leaves with MSS 1452, the SYN-ACK coming in with MSS 1460 reaches I1 with MSS 1452; "
             "I2's SYN with MSS 1400 and the remote's SYN-ACK with MSS 1200 keep theirs; the "
             "ACK is not touched. Only the MSS option and the TCP checksum change besides the "
             "translation.", "behaviour.md 18; RFC 9293 3.7.1, RFC 879",
             BASE + "mss-clamp 1452\n")
    m, m2 = Mapping(I1, 40000, E), Mapping(I2, 40001, E)
    c.send(T0, tcp_opts(I1, 40000, R1, 80, "S", 1460), tcp_opts(E, 40000, R1, 80, "S", 1452))
    c.send(T0 + 0.1, tcp_opts(R1, 80, E, 40000, "SA", 1460, seq=5000, ack=1001),
           tcp_opts(R1, 80, I1, 40000, "SA", 1452, seq=5000, ack=1001))
    c.send(T0 + 0.2, *m.out(tcp, R1, 80, "A", seq=1001, ack=5001))
    c.send(T0 + 1, tcp_opts(I2, 40001, R1, 80, "S", 1400), tcp_opts(E, 40001, R1, 80, "S", 1400))
    c.send(T0 + 1.1, tcp_opts(R1, 80, E, 40001, "SA", 1200, seq=6000, ack=1001),
           tcp_opts(R1, 80, I2, 40001, "SA", 1200, seq=6000, ack=1001))
    c.send(T0 + 1.2, *m2.out(tcp, R1, 80, "A", seq=1001, ack=6001))
    c.expect("translated tcp out 4", "translated tcp in 2")
    return c


# The worked NAPT example of seed 004 (1.2.3.4 and 2.3.4.5 there, documentation addresses
# here): a port-range of one port gives the document's external port.
SEED_HOST, SEED_SERVER, SEED_PUBLIC = "192.168.1.101", "198.51.100.4", "203.0.113.45"


@numbered(91)
def seed004_napt_example():
    c = Case("seed004-napt-example", "The documents' worked NAPT example (seed 004): "
             "192.168.1.101 opens TCP port 1920 to the web server (1.2.3.4 there, "
             "198.51.100.4 here) port 80; the NAT writes its public address (2.3.4.5 there, "
             "203.0.113.45 here) and port 2345 as the source and records 192.168.1.101 tcp "
             "1920 ----- 203.0.113.45 tcp 2345; the server's answer to 203.0.113.45:2345 "
             "reaches 192.168.1.101:1920 with the server's address and port as its source (the "
             "document's step 5 names the NAT's, a slip: only the destination changes).",
             "seed 004 (NAPT); behaviour.md 3, 4",
             "inside 192.168.1.0/24\nexternal %s\nport-range 2345-2345\n" % SEED_PUBLIC)
    m = Mapping(SEED_HOST, 1920, SEED_PUBLIC, 2345)
    c.send(T0, *m.out(tcp, SEED_SERVER, 80, "S", seq=1000))
    c.send(T0 + 0.1, *m.back(tcp, SEED_SERVER, 80, "SA", seq=5000, ack=1001))
    c.send(T0 + 0.2, *m.out(tcp, SEED_SERVER, 80, "PA", seq=1001, ack=5001,
                            data=b"GET / HTTP/1.0\r\n\r\n"))
    c.send(T0 + 0.3, *m.back(tcp, SEED_SERVER, 80, "PA", seq=5001, ack=1019,
                             data=b"HTTP/1.0 200 OK\r\n\r\n"))
    c.expect("translated tcp out 2", "translated tcp in 2", "mappings current 1")
    return c


@numbered(92)
def refused_flow_icmp():
    c = Case("refused-flow-icmp", "refused-flows icmp with one external port: I1's flow takes "
             "E:50000; I2's new flow finds no port and I2 gets ICMP 3/13 (communication "
             "administratively prohibited) from E, TTL 64, DF, ID 0, quoting its datagram's IP "
             "header and first 8 bytes; I2's datagram to a multicast group gets no answer; "
             "I1's flow to another remote reuses its mapping (endpoint-independent).",
             "behaviour.md 19; RFC 5508 REQ-8, RFC 1122 3.2.2, RFC 792",
             ONE_PORT + "refused-flows icmp\n")
    m = Mapping(I1, 5000, E, 50000)
    c.send(T0, *m.out(udp, R1, 53))
    refused = udp(I2, 6000, R1, 53)
    c.send(T0 + 1, refused,
           answer_ip(E, I2, 1) / ICMP(type=3, code=13) / Raw(bytes(refused)[:28]))
    c.send(T0 + 2, udp(I2, 6001, "224.0.0.251", 5353))
    c.send(T0 + 3, *m.out(udp, R2, 53))
    c.expect("replies sent 1", "dropped ports-exhausted 2")
    return c


@numbered(93)
def unsolicited_syn_cancelled():
    c = Case("unsolicited-syn-cancelled", "unsolicited-syn rst and a TCP hole punch whose SYNs "
             "cross: R1:5555's SYN to E:40000 comes before I1's own SYN and is dropped; I1's "
             "SYN to R1:5555 leaves from E:40000 2 s later and cancels the answer, so no RST "
             "ever goes (the first SYN was dropped silently); R1's retransmitted SYN reaches "
             "I1 (simultaneous open) and the connection is established both ways. A SYN from "
             "R2 to another port, unanswered by anything, still gets its RST 6 s on.",
             "behaviour.md 11; RFC 5382 REQ-4, REQ-2", BASE + "unsolicited-syn rst\n")
    m = Mapping(I1, 40000, E)
    other = tcp(R2, 6000, E, 81, "S", seq=3000)
    c.send(T0, m.back(tcp, R1, 5555, "S", seq=5000)[0])
    c.send(T0 + 1, other)
    c.send(T0 + 2, *m.out(tcp, R1, 5555, "S", seq=1000))
    c.send(T0 + 3, *m.back(tcp, R1, 5555, "S", seq=5000))
    c.send(T0 + 3.1, *m.out(tcp, R1, 5555, "SA", seq=1000, ack=5001))
    c.send(T0 + 3.2, *m.back(tcp, R1, 5555, "SA", seq=5000, ack=1001))
    c.send(T0 + 6.5, *m.out(tcp, R1, 5555, "A", seq=1001, ack=5001))
    c.send(T0 + 7, *(m.out(tcp, R1, 5555, "PA", seq=1001, ack=5001, data=b"punched") +
                     (rst_for(other),)))
    c.send(T0 + 10, udp(R2, 7, E, 9))
    c.expect("replies sent 1", "replies cancelled 1", "dropped no-mapping 3",
             "sessions created 1", "translated tcp in 2")
    return c


@numbered(94)
def dynamic_nat():
    c = Case("dynamic-nat", "mode dynamic with the pool E, E2 and `timeout udp 10`: I1 gets E "
             "and I2 gets E2, each to itself, ports and echo identifiers unchanged (I1 and I2 "
             "both use port 5000); replies come back; filtering stays the configured one "
             "(APDF: R2 to I1's E:5000 is filtered, a port nobody uses is no-mapping). I3 finds "
             "the pool empty (pool-exhausted), again at 20 s, when I1's sessions have expired "
             "and E rests, and at 139 s; at 141 s, E's 120 s rest over, I3 gets it. At 150 s "
             "I2, idle since 62 s, gets E2 back at once (its own address, resting), and I1 "
             "finds the pool empty.", "behaviour.md 20; RFC 3022 2.1, 2.2 (Basic NAT)",
             "inside 192.168.1.0/24\nexternal %s\nexternal %s\nmode dynamic\n"
             "timeout udp 10\n" % (E, E2))
    m1, m1b, m2, m3 = Mapping(I1, 5000, E), Mapping(I1, 6000, E), Mapping(I2, 5000, E2), \
        Mapping(I3, 5000, E)
    c.send(T0, *m1.out(udp, R1, 53))
    c.send(T0 + 0.1, *m1.back(udp, R1, 53))
    c.send(T0 + 0.2, *m1b.out(udp, R2, 53))
    c.send(T0 + 0.3, *m2.out(udp, R1, 53))
    c.send(T0 + 0.4, udp(R2, 53, E, 5000))
    c.send(T0 + 0.5, udp(R1, 53, E, 7000))
    c.send(T0 + 1, udp(I3, 5000, R1, 53))
    c.send(T0 + 2, *Mapping(I2, 0x77, E2).echo_out(R1))
    c.send(T0 + 2.1, *Mapping(I2, 0x77, E2).echo_back(R1, reply=True))
    c.send(T0 + 20, udp(I3, 5000, R1, 53))
    c.send(T0 + 139, udp(I3, 5000, R1, 53))
    c.send(T0 + 141, *m3.out(udp, R1, 53))
    c.send(T0 + 141.1, *m3.back(udp, R1, 53))
    c.send(T0 + 150, *m2.out(udp, R1, 53))
    c.send(T0 + 151, udp(I1, 5000, R1, 53))
    c.expect("dropped pool-exhausted 4", "dropped filtered 1", "dropped no-mapping 1",
             "translated udp out 5", "translated udp in 2")
    return c


DYNAMIC_FALLBACK = "inside 192.168.1.0/24\nexternal %s\n%smode dynamic\n" \
    "dynamic-fallback napt\nport-range %s\n"


@numbered(107)
def dynamic_fallback_napt():
    c = Case("dynamic-fallback-napt", "mode dynamic, pool E and E2, `dynamic-fallback napt`, "
             "port-range 40000-40000: I1 gets E and I2 gets E2, ports kept (5000). I3 finds "
             "the pool empty and shares an address by NAPT instead of being refused: its "
             "port 5000 leaves from E2:40000 (paired: I3's address is odd, so E2 first), its "
             "port 5001 from E:40000 (E2 has no port left), replies come back to each; its "
             "port 5002 finds no port on either address and is refused (pool-exhausted). "
             "The holders' ports stay theirs.",
             "behaviour.md 20; RFC 3022 2.2 (NAPT over the pool), seed 004 (NAPT with an "
             "address pool)", DYNAMIC_FALLBACK % (E, "external %s\n" % E2, "40000-40000"))
    m1, m2 = Mapping(I1, 5000, E), Mapping(I2, 5000, E2)
    f1, f2 = Mapping(I3, 5000, E2, 40000), Mapping(I3, 5001, E, 40000)
    c.send(T0, *m1.out(udp, R1, 53))
    c.send(T0 + 0.1, *m2.out(udp, R1, 53))
    for t, f in ((1, f1), (2, f2)):
        c.send(T0 + t, *f.out(udp, R1, 53))
        c.send(T0 + t + 0.1, *f.back(udp, R1, 53))
    c.send(T0 + 3, udp(I3, 5002, R1, 53))
    c.send(T0 + 4, *m1.back(udp, R1, 53))
    c.expect("pool fallbacks 2", "dropped pool-exhausted 1", "translated udp out 4",
             "translated udp in 3")
    return c


@numbered(108)
def dynamic_fallback_holder_translated():
    c = Case("dynamic-fallback-holder-port", "mode dynamic, pool E alone, `dynamic-fallback "
             "napt`, port-range 5000-5001: I1 gets E from port 6000 (kept). I2 finds the pool "
             "empty and shares E by NAPT, its port 5000 kept (port preservation) as E:5000. "
             "Then I1, E's holder, sends from its port 5000: E:5000 is I2's, so I1's flow is "
             "translated as by NAPT, to the one free port E:5001, instead of taking I2's; "
             "replies to E:5000 reach I2 and to E:5001 reach I1.",
             "behaviour.md 20; RFC 3022 2.2, 4.1 (a mapping is unique on its external "
             "endpoint)", DYNAMIC_FALLBACK % (E, "", "5000-5001"))
    m1, f2, m1b = Mapping(I1, 6000, E), Mapping(I2, 5000, E), Mapping(I1, 5000, E, 5001)
    c.send(T0, *m1.out(udp, R1, 53))
    c.send(T0 + 1, *f2.out(udp, R1, 53))
    c.send(T0 + 2, *m1b.out(udp, R1, 53))
    c.send(T0 + 3, *f2.back(udp, R1, 53))
    c.send(T0 + 3.1, *m1b.back(udp, R1, 53))
    c.expect("pool fallbacks 1", "translated udp out 3", "translated udp in 2")
    return c


@numbered(109)
def dynamic_fallback_avoids_bound_port():
    c = Case("dynamic-fallback-bound-port", "mode dynamic, pool E alone, `dynamic-fallback "
             "napt`, port-range 5000-5001: I1 gets E and keeps its port 5000 (Basic NAT: "
             "E:5000, inside the port-range). I2 finds the pool empty and shares E by NAPT; "
             "its own port 5000 is E:5000, I1's, so it gets E:5001. I3 then finds no port "
             "left on E and is refused (pool-exhausted). Replies to E:5000 reach I1, to "
             "E:5001 reach I2.",
             "behaviour.md 20; RFC 3022 2.2, 4.1", DYNAMIC_FALLBACK % (E, "", "5000-5001"))
    m1, f2 = Mapping(I1, 5000, E), Mapping(I2, 5000, E, 5001)
    c.send(T0, *m1.out(udp, R1, 53))
    c.send(T0 + 1, *f2.out(udp, R1, 53))
    c.send(T0 + 2, udp(I3, 5000, R1, 53))
    c.send(T0 + 3, *m1.back(udp, R1, 53))
    c.send(T0 + 3.1, *f2.back(udp, R1, 53))
    c.expect("pool fallbacks 1", "dropped pool-exhausted 1", "translated udp out 2",
             "translated udp in 2")
    return c


# ---- output ---------------------------------------------------------------------------


def build_all(numbers=None):
    """Every case, or those whose number is in numbers: run_case.sh asks for one case, and
    building them all (fragment-ring-fair's 1100 datagrams most) took 4 s of each check."""
    cases = []
    for i, fn in enumerate(CASES):
        number = getattr(fn, "number", i + 1)
        if numbers is None or number in numbers:
            c = fn()
            c.dirname = "%02d-%s" % (number, c.name)
            cases.append(c)
    return cases


def write_case(c, outdir):
    d = os.path.join(outdir, c.dirname)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config"), "w") as f:
        f.write(c.config)
    replay_pcap.write(os.path.join(d, "in.pcap"), c.inputs)
    replay_pcap.write(os.path.join(d, "expected.pcap"), c.outputs)
    with open(os.path.join(d, "README"), "w") as f:
        f.write("%s\n\nRule: %s.\n" % (c.what, c.rule))
    lines = ["counter %s" % x for x in c.counters]
    lines += ["bad-checksum-frame %d" % n for n in c.bad_checksums]
    lines += ["replay-option %s" % o for o in c.replay_options]
    path = os.path.join(d, "checks")
    if lines:
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")


def write_index(cases, outdir):
    with open(os.path.join(outdir, "README.md"), "w") as f:
        f.write("# Replay fixtures\n\nGenerated by `tests/replay/gen_cases.py` from the rules "
                "in docs/behaviour.md; each case is checked by `tests/replay/run_case.sh` "
                "(napt-replay output compared byte for byte with expected.pcap). Files per "
                "case: config, in.pcap, expected.pcap, README, and checks (counters "
                "napt-replay must print, expected frames that keep a wrong checksum on "
                "purpose).\n\n| case | what it shows | rule / RFC item |\n| --- | --- | --- |\n")
        for c in sorted(cases, key=lambda c: int(c.dirname.split("-")[0])):
            f.write("| %s | %s | %s |\n" % (c.dirname, c.what, c.rule))


def main(argv):
    if len(argv) < 2:
        sys.exit("usage: gen_cases.py OUTDIR [CASE...]")
    outdir, wanted = argv[1], set(argv[2:])
    numbers = None  # all, unless every wanted case is named NN-name
    if wanted and all(w.split("-")[0].isdigit() for w in wanted):
        numbers = {int(w.split("-")[0]) for w in wanted}
    cases = build_all(numbers)
    unknown = wanted - {c.dirname for c in cases} - {c.name for c in cases}
    if unknown:
        sys.exit("gen_cases.py: no case %s" % ", ".join(sorted(unknown)))
    for c in cases:
        if not wanted or c.dirname in wanted or c.name in wanted:
            write_case(c, outdir)
    if not wanted:
        write_index(cases, outdir)


if __name__ == "__main__":
    main(sys.argv)
