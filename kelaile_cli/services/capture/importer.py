"""``klx import``: packet captures (TCP 9100, Linux usbmon) into .klr recordings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kelaile_cli import __version__
from kelaile_cli.core.errors import JobError
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk, Header
from kelaile_cli.core.formats.tcp_reassembly import TcpReassembler
from kelaile_cli.core.formats.usbmon import DLT_USB_LINUX, DLT_USB_LINUX_MMAPPED, usbmon_chunk
from kelaile_cli.services.capture.recorder import RecordingWriter
from kelaile_cli.transports.pcap import open_capture, tcp_segment

__all__ = ["ImportSummary", "import_capture"]


@dataclass(slots=True)
class ImportSummary:
    capture: str
    output: str
    kind: str = "tcp"  # 'tcp' | 'usb'
    packets: int = 0
    connections: int = 0
    bytes_to_printer: int = 0
    bytes_from_printer: int = 0
    retransmitted: int = 0
    overlapping: int = 0
    out_of_order: int = 0
    gaps: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_capture(
    path: str | Path, out: str | Path, *, port: int = 9100, progress: Callable[[int], None] = lambda n: None
) -> ImportSummary:
    """Reassemble the printer traffic in a capture and write it as a recording."""
    capture = open_capture(path)
    summary = ImportSummary(str(path), str(out))
    reasm = TcpReassembler(server_port=port)
    usb_conns: dict[tuple[int, int], int] = {}
    chunks: list[Chunk] = []
    for frame in capture.frames:
        summary.packets += 1
        if summary.packets % 1000 == 0:
            progress(summary.packets)
        if frame.linktype in (DLT_USB_LINUX, DLT_USB_LINUX_MMAPPED):
            summary.kind = "usb"
            chunk = usbmon_chunk(frame.t, frame.data, frame.linktype, usb_conns)
            if chunk is not None:
                chunks.append(chunk)
            continue
        seg = tcp_segment(frame)
        if seg is not None:
            chunks += reasm.add(seg)
    chunks += reasm.close()
    summary.warnings += capture.warnings
    if not chunks:
        ports = sorted(reasm.ports_seen)
        seen = f"TCP ports seen: {', '.join(map(str, ports[:12]))}" if ports else "no TCP or usbmon printer traffic"
        raise JobError(f"{path}: no printer traffic on port {port} in {summary.packets} packets; {seen}",
                       remedy="use --port if the printer listens elsewhere")  # fmt: skip
    # chunks come out in capture order, stream order kept within each connection: write them as they are
    s = reasm.stats
    summary.retransmitted, summary.overlapping, summary.out_of_order = s.retransmitted, s.overlapping, s.out_of_order
    summary.gaps = [{"connection": g.conn, "direction": g.direction, "offset": g.offset, "missing": g.length}
                    for g in s.gaps]  # fmt: skip
    summary.connections = len({c.conn for c in chunks})
    with RecordingWriter(out, Header(f"capture:{Path(path).name}", chunks[0].t, __version__)) as writer:
        for chunk in chunks:
            writer.write(chunk)
            if chunk.direction == TO_PRINTER:
                summary.bytes_to_printer += len(chunk.data)
            else:
                summary.bytes_from_printer += len(chunk.data)
    return summary
