"""Reading packet captures (pcap and pcapng) with dpkt: (time, link type, frame) records.

dpkt is a maintained, pure-Python packet library that reads both file formats and parses the link,
IP and TCP layers; TCP stream reassembly stays ours (``core/tcp_reassembly``) because it has to
report gaps and retransmissions the way a print-stream investigation needs.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dpkt

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.tcp_reassembly import Segment
from kelaile_cli.transports.files import read_bytes

__all__ = ["CaptureFile", "Frame", "open_capture", "tcp_segment"]

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_LOOP, DLT_LINUX_SLL, DLT_RAW_ALT = 0, 1, 101, 108, 113, 12


@dataclass(slots=True)
class Frame:
    t: float
    linktype: int
    data: bytes


@dataclass(slots=True)
class CaptureFile:
    name: str
    frames: Iterator[Frame]
    warnings: list[str] = field(default_factory=list)


def open_capture(path: str | Path) -> CaptureFile:
    """Open a pcap/pcapng file; frames are read lazily; a torn tail ends the iteration with a warning."""
    data = read_bytes(path)
    head = data[:4]
    try:
        if head in PCAP_MAGICS:
            reader = dpkt.pcap.Reader(io.BytesIO(data))
        elif head == PCAPNG_MAGIC:
            reader = dpkt.pcapng.Reader(io.BytesIO(data))
        else:
            raise InputError(f"{path}: not a pcap or pcapng capture (starts with {head.hex(' ')})")
    except (ValueError, dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError) as exc:
        raise InputError(f"{path}: unreadable capture header ({exc})") from None
    capture = CaptureFile(str(path), iter(()))
    linktype = reader.datalink()
    torn_at = _torn_pcap_record(data) if head in PCAP_MAGICS else None

    def frames() -> Iterator[Frame]:
        count = 0
        it = iter(reader)
        while True:
            try:
                ts, buf = next(it)
            except StopIteration:
                return
            except (ValueError, dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError, EOFError, IndexError) as exc:
                capture.warnings.append(f"{path}: capture ends in a torn packet after {count} packets ({exc})")
                return
            if count == torn_at:  # dpkt hands back a short last record without complaint
                capture.warnings.append(f"{path}: capture ends in a torn packet after {count} packets")
                return
            count += 1
            yield Frame(float(ts), linktype, bytes(buf))

    capture.frames = frames()
    return capture


def _torn_pcap_record(data: bytes) -> int | None:
    """Index of a classic-pcap record cut off by the end of the file, if any (a sanity walk over
    the 16-byte record headers; dpkt itself does the reading)."""
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, index = 24, 0
    while off < len(data):
        if off + 16 > len(data):
            return index
        (incl_len,) = struct.unpack_from(order + "I", data, off + 8)
        if off + 16 + incl_len > len(data):
            return index
        off += 16 + incl_len
        index += 1
    return None


def tcp_segment(frame: Frame) -> Segment | None:
    """The TCP segment in a link-layer frame, or None (not IP/TCP, or a link type we do not read)."""
    try:
        if frame.linktype == DLT_EN10MB:
            ip = dpkt.ethernet.Ethernet(frame.data).data
        elif frame.linktype in (DLT_RAW, DLT_RAW_ALT):
            ip = dpkt.ip.IP(frame.data) if frame.data[:1] and frame.data[0] >> 4 == 4 else dpkt.ip6.IP6(frame.data)
        elif frame.linktype in (DLT_NULL, DLT_LOOP):
            ip = dpkt.loopback.Loopback(frame.data).data
        elif frame.linktype == DLT_LINUX_SLL:
            ip = dpkt.sll.SLL(frame.data).data
        else:
            return None
    except (dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError, ValueError):
        return None
    if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6) or not isinstance(ip.data, dpkt.tcp.TCP):
        return None
    tcp = ip.data
    if isinstance(ip, dpkt.ip.IP):
        src, dst = dpkt.utils.inet_to_str(ip.src), dpkt.utils.inet_to_str(ip.dst)
    else:
        src, dst = dpkt.utils.inet_to_str(ip.src), dpkt.utils.inet_to_str(ip.dst)
    flags = tcp.flags
    return Segment(
        t=frame.t,
        src=(src, tcp.sport),
        dst=(dst, tcp.dport),
        seq=tcp.seq,
        payload=bytes(tcp.data),
        syn=bool(flags & dpkt.tcp.TH_SYN),
        fin=bool(flags & dpkt.tcp.TH_FIN),
        rst=bool(flags & dpkt.tcp.TH_RST),
    )
