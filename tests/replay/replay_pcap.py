# SPDX-License-Identifier: BSD-2-Clause
"""replay_pcap - read and write classic pcap files of raw IPv4 packets, byte for byte.

Written by hand (not scapy's writer) so the generated files depend only on the packets and
their timestamps: the fixtures must regenerate identically on any machine.
"""
import struct

LINKTYPE_RAW = 101
_MAGIC_US = 0xA1B2C3D4
_MAGIC_NS = 0xA1B23C4D


def write(path, records):
    """records: (time_us, bytes) pairs; written as linktype RAW, microsecond stamps."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", _MAGIC_US, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for time_us, data in records:
            sec, usec = divmod(time_us, 1000000)
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            f.write(data)


def read(path):
    """Returns (linktype, [(time_us, bytes)]) for a little- or big-endian pcap."""
    with open(path, "rb") as f:
        blob = f.read()
    for order in "<>":
        magic = struct.unpack(order + "I", blob[:4])[0]
        if magic in (_MAGIC_US, _MAGIC_NS):
            break
    else:
        raise ValueError("%s: not a pcap file" % path)
    nano = magic == _MAGIC_NS
    linktype = struct.unpack(order + "I", blob[20:24])[0] & 0x0FFFFFFF
    records, off = [], 24
    while off + 16 <= len(blob):
        sec, frac, caplen, _ = struct.unpack(order + "IIII", blob[off:off + 16])
        off += 16
        usec = frac // 1000 if nano else frac
        records.append((sec * 1000000 + usec, blob[off:off + caplen]))
        off += caplen
    return linktype, records
