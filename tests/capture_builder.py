"""Build real pcap/pcapng files with dpkt for the import tests (Ethernet/IPv4/TCP, usbmon)."""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt

POS, PRINTER = ("10.0.0.5", 51000), ("10.0.0.9", 9100)  # addresses inside the file only: no traffic is sent


def ip(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


def frame(
    src: tuple[str, int], dst: tuple[str, int], seq: int, data: bytes = b"", flags: int = dpkt.tcp.TH_ACK
) -> bytes:
    tcp = dpkt.tcp.TCP(sport=src[1], dport=dst[1], seq=seq % (1 << 32), flags=flags, data=data)
    pkt = dpkt.ip.IP(src=ip(src[0]), dst=ip(dst[0]), p=dpkt.ip.IP_PROTO_TCP, data=tcp)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=pkt))


def connection(job: bytes, reply: bytes, *, pos=POS, isn: int = 1000, isn_srv: int = 5000, seg: int = 100,
               t0: float = 1795609800.0) -> list[tuple[float, bytes]]:  # fmt: skip
    """Handshake, the job in ``seg``-byte segments, the printer's reply, FINs — in order."""
    pk = [(t0, frame(pos, PRINTER, isn, flags=dpkt.tcp.TH_SYN)),
          (t0 + 0.001, frame(PRINTER, pos, isn_srv, flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK))]  # fmt: skip
    t = t0 + 0.002
    for off in range(0, len(job), seg):
        pk.append((t, frame(pos, PRINTER, isn + 1 + off, job[off : off + seg])))
        t += 0.001
    pk.append((t, frame(PRINTER, pos, isn_srv + 1, reply)))
    pk.append((t + 0.001, frame(pos, PRINTER, isn + 1 + len(job), flags=dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)))
    pk.append((t + 0.002, frame(PRINTER, pos, isn_srv + 1 + len(reply), flags=dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)))
    return pk


def write_pcap(path: Path, packets: list[tuple[float, bytes]], linktype: int = dpkt.pcap.DLT_EN10MB) -> None:
    with path.open("wb") as fh:
        w = dpkt.pcap.Writer(fh, linktype=linktype)
        for t, data in packets:
            w.writepkt(data, ts=t)


def write_pcapng(path: Path, packets: list[tuple[float, bytes]]) -> None:
    with path.open("wb") as fh:
        w = dpkt.pcapng.Writer(fh)
        for t, data in packets:
            w.writepkt(data, ts=t)


def usbmon(kind: bytes, epnum: int, data: bytes, dev: int = 3, bus: int = 1) -> bytes:
    """A 64-byte-header (link type 220) usbmon record carrying ``data``."""
    head = struct.pack("<QcBBBHccqiiII8s", 0xFFFF0001, kind, 3, epnum, dev, bus, b"-", b"=" if not data else b"\0",
                       0, 0, 0, len(data), len(data), b"\0" * 8)  # fmt: skip
    return head + struct.pack("<iiII", 0, 0, 0, 0) + data
