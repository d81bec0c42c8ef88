"""The protocol-analyser view: raw bytes beside the command each one belongs to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text as RichText

from kelaile_cli.core.escpos.events import Command, Event, Text, Truncated, Unknown

__all__ = ["DumpRow", "dump_rich", "dump_rows", "format_dump"]

ROW = 16
KEEP_DATA_ROWS = 4  # of a long binary command, rows shown before eliding


@dataclass(frozen=True, slots=True)
class DumpRow:
    offset: int
    raw: bytes
    label: str  # mnemonic: 'ESC !', 'GS v 0', 'TEXT', 'UNKNOWN', 'TRUNCATED', '' for continuation rows
    detail: str


def _describe(ev: Command) -> str:
    p = ev.params
    if ev.op == "print_mode":
        flags = [k.replace("_", " ") for k in ("bold", "double_height", "double_width", "underline") if p.get(k)]
        return f"print mode: font {p.get('font', 'A')}" + (", " + ", ".join(flags) if flags else "")
    if ev.op == "char_size":
        return f"character size ×{p.get('width')} wide ×{p.get('height')} high"
    if ev.op in ("image", "graphics_store"):
        return f"{ev.op.replace('_', ' ')} {p.get('width')}x{p.get('height')} dots"
    if ev.op == "barcode":
        return f"barcode {p.get('symbology')}: {bytes(p.get('data', b'')).decode('latin-1')}"
    if ev.op == "code2d_store":
        data = bytes(p.get("data", b""))
        return f"{p.get('symbology')} data: {data[:60].decode('utf-8', 'replace')}"
    if ev.op == "cut":
        return "partial cut" if p.get("partial") else "full cut"
    if ev.op == "status_query":
        return f"real-time query: {p.get('kind')}"
    shown = {k: v for k, v in p.items() if not isinstance(v, bytes | bytearray | dict | list) or k == "stops"}
    body = ", ".join(f"{k}={v}" for k, v in shown.items())
    return ev.op.replace("_", " ") + (f": {body}" if body else "")


def dump_rows(events: Iterable[Event], *, text_decoder: Callable[[bytes, int], str] | None = None) -> list[DumpRow]:
    """One row per event; long events continue on rows of 16 bytes, big binary ones elided.
    ``text_decoder(raw, offset)`` previews a text run (default: Latin-1)."""
    rows: list[DumpRow] = []
    for ev in events:
        if isinstance(ev, Text):  # one row group per printed line, so bytes and text stay side by side
            at = ev.offset
            for line in ev.raw.splitlines(keepends=True):
                preview = text_decoder(line, ev.offset) if text_decoder else line.decode("latin-1")
                rows += _rows(at, line, "TEXT", repr(preview)[1:-1], binary=False)
                at += len(line)
            continue
        if isinstance(ev, Command):
            label, detail = ev.name, _describe(ev)
        elif isinstance(ev, Unknown):
            label, detail = "UNKNOWN", ev.reason
        elif isinstance(ev, Truncated):
            label, detail = "TRUNCATED", f"{ev.name} cut off by the end of the stream"
        else:  # pragma: no cover - Event is a closed union
            continue
        rows += _rows(ev.offset, ev.raw, label, detail, binary=True)
    return rows


def _rows(offset: int, raw: bytes, label: str, detail: str, *, binary: bool) -> list[DumpRow]:
    chunks = [raw[i : i + ROW] for i in range(0, len(raw), ROW)] or [b""]
    rows = []
    for i, chunk in enumerate(chunks):
        if binary and i == KEEP_DATA_ROWS and len(chunks) > KEEP_DATA_ROWS + 1:
            rest = sum(len(c) for c in chunks[i:])
            rows.append(DumpRow(offset + i * ROW, b"", "", f"… {rest} more bytes"))
            break
        rows.append(DumpRow(offset + i * ROW, chunk, label if i == 0 else "", detail if i == 0 else ""))
    return rows


def _hex(raw: bytes) -> str:
    h = raw.hex(" ")
    return h[:23] + " " + h[23:] if len(raw) > 8 else h


def _ascii(raw: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in raw)


def format_dump(rows: Iterable[DumpRow]) -> str:
    """Fixed columns: offset, hex bytes, ASCII, command, meaning."""
    lines = [f"{r.offset:08x}  {_hex(r.raw):<48}  {_ascii(r.raw):<16}  {r.label:<10} {r.detail}".rstrip() for r in rows]
    return "\n".join(lines)


def dump_rich(rows: Iterable[DumpRow]) -> Table:
    """The dump as a rich table (no printing here)."""
    table = Table("offset", "bytes", "ascii", "command", "meaning", box=None, pad_edge=False)
    for r in rows:
        style = "red" if r.label in ("UNKNOWN", "TRUNCATED") else "green" if r.label == "TEXT" else "cyan"
        table.add_row(
            f"{r.offset:08x}",
            _hex(r.raw),
            RichText(_ascii(r.raw)),
            RichText(r.label, style=style),
            RichText(r.detail),
        )
    return table
