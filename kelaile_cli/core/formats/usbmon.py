"""Linux usbmon capture records (pcap link types 189 and 220): printer bulk transfers as chunks.

Bulk OUT data is in the URB *submission* record ('S'), bulk IN data in the *completion* ('C').
Header layout per the Linux kernel's Documentation/usb/usbmon: 48 bytes (link type 189) or
64 bytes (220, "mmapped", with four more 32-bit fields). Little-endian on the machines that
capture; the byte order is taken from the capture file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk

__all__ = ["DLT_USB_LINUX", "DLT_USB_LINUX_MMAPPED", "UsbTransfer", "parse_usbmon"]

DLT_USB_LINUX = 189
DLT_USB_LINUX_MMAPPED = 220
XFER_BULK = 3
_HEAD = struct.Struct("<QcBBBHccqiiII8s")  # 48 bytes


@dataclass(frozen=True, slots=True)
class UsbTransfer:
    bus: int
    device: int
    endpoint: int
    direction_in: bool
    kind: str  # 'S' submit, 'C' complete, 'E' error
    transfer_type: int
    data: bytes


def parse_usbmon(packet: bytes, linktype: int) -> UsbTransfer | None:
    """One usbmon record; None when it is too short to be one."""
    size = 64 if linktype == DLT_USB_LINUX_MMAPPED else 48
    if len(packet) < size:
        return None
    (_id, kind, xfer, epnum, devnum, busnum, _setup, _data, _sec, _usec, _status, _length, len_cap, _s) = (
        _HEAD.unpack_from(packet)
    )
    return UsbTransfer(
        bus=busnum,
        device=devnum,
        endpoint=epnum & 0x7F,
        direction_in=bool(epnum & 0x80),
        kind=kind.decode("latin-1"),
        transfer_type=xfer,
        data=packet[size : size + len_cap],
    )


def usbmon_chunk(t: float, packet: bytes, linktype: int, conns: dict[tuple[int, int], int]) -> Chunk | None:
    """The printer data a usbmon record carries, as a recording chunk (connection = bus/device)."""
    tr = parse_usbmon(packet, linktype)
    if tr is None or tr.transfer_type != XFER_BULK or not tr.data:
        return None
    if tr.direction_in and tr.kind == "C":
        direction = TO_HOST
    elif not tr.direction_in and tr.kind == "S":
        direction = TO_PRINTER
    else:
        return None
    conn = conns.setdefault((tr.bus, tr.device), len(conns))
    return Chunk(t, direction, conn, tr.data)
