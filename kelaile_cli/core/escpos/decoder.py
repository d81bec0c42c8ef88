"""Incremental, sans-IO decoding of a command-table print stream.

``feed(bytes) -> events`` never blocks and never raises: it emits every event that is complete and
keeps the rest. Text runs carry their line feeds (LF is the one control byte that never starts
a command), so a block of plain lines is one event. ``close()`` flushes a pending text run and
reports a command cut off by the end of the stream. The events are the same however the stream is split into chunks.
"""

from __future__ import annotations

from typing import Any

from kelaile_cli.core.escpos.events import Command, Event, Text, Truncated, Unknown
from kelaile_cli.core.escpos.table import BAD, MAX_COMMAND, NEED, Table

__all__ = ["MAX_TEXT_RUN", "EscPosDecoder", "TableDecoder"]

MAX_TEXT_RUN = 4096
#: printable bytes and LF stay 1, any other control byte (it ends a text run) becomes 0: the end of a
#: run is then one ``find`` (memchr) in the translated bytes instead of a regex walking it byte by byte
_RUN_ENDS = bytes(0 if b < 0x20 and b != 0x0A else 1 for b in range(256))
_WINDOW = 64 * 1024  # bytes translated at a time (a multiple of MAX_TEXT_RUN)
_COMPACT_AT = 64 * 1024
_PARSED_SIZE = 8  # commands up to this many bytes have their parse remembered ...
_PARSED_COUNT = 4096  # ... this many of them per stream


class TableDecoder:
    """Decode a stream with a command table (see ``table.py``)."""

    def __init__(self, table: Table, offset: int = 0) -> None:
        self.table = table
        self._buf = bytearray()
        self._pos = 0  # read position in _buf
        self._base = offset  # stream offset of _buf[0]
        #: short commands already parsed -> (op, params): POS programs repeat the same few
        self._parsed: dict[bytes, tuple[str, dict[str, Any]]] = {}

    def feed(self, data: bytes) -> list[Event]:
        if data:
            self._buf += data
        return self._drain(final=False)

    def close(self) -> list[Event]:
        events = self._drain(final=True)
        rest = bytes(self._buf[self._pos :])
        if rest:
            spec, plen = self.table.lookup(rest, 0, len(rest))
            name = spec.name if spec else self.table.describe(rest[: max(plen, 1)])
            events.append(Truncated(self._base + self._pos, rest, name))
            self._pos = len(self._buf)
        self._compact(force=True)
        return events

    def preview_close(self) -> list[Event]:
        """The events ``close()`` would give now, leaving the decoder as it is (it can go on being fed)."""
        buf, pos, base = bytes(self._buf), self._pos, self._base
        events = self.close()
        self._buf, self._pos, self._base = bytearray(buf), pos, base
        return events

    # ---------------------------------------------------------------------------------------------
    def _drain(self, final: bool) -> list[Event]:
        buf = self._buf
        end = len(buf)
        pos = self._pos
        out: list[Event] = []
        table = self.table
        # a window of the buffer as bytes, win = buf[at : at + len(win)], and the same translated by
        # _RUN_ENDS: events' bytes are sliced from it (one copy instead of two) and text runs end at
        # a find in it
        win = b""
        ends = b""
        at = 0
        while pos < end:
            b = buf[pos]
            if b >= 0x20 or b == 0x0A:
                limit = min(end, pos + MAX_TEXT_RUN)
                if limit > at + len(win):
                    at = pos
                    win = bytes(buf[pos : min(end, pos + _WINDOW)])
                    ends = win.translate(_RUN_ENDS)
                stop = ends.find(0, pos - at, limit - at)
                stop = limit if stop < 0 else stop + at
                if stop == end and end - pos < MAX_TEXT_RUN and not final:
                    break  # the run may go on in the next chunk
                out.append(Text(self._base + pos, win[pos - at : stop - at]))
                pos = stop
                continue
            spec = table.pairs.get(b << 8 | buf[pos + 1]) if pos + 1 < end else None
            if spec is not None:
                plen = 2  # the most common shape (ESC x, GS x), and never a prefix of a longer command
            else:
                spec, plen = table.lookup(buf, pos, end)
            if spec is None:
                if plen == 0:
                    break  # prefix incomplete
                raw = bytes(buf[pos : pos + plen])
                out.append(Unknown(self._base + pos, raw, f"unknown command {table.describe(raw)}"))
                pos += plen
                continue
            total = spec.length(buf, pos, end, plen)
            if total == NEED:
                break
            if total == BAD or total > MAX_COMMAND:
                raw = bytes(buf[pos : pos + plen])
                out.append(Unknown(self._base + pos, raw, f"malformed {spec.name}"))
                pos += plen
                continue
            if pos + total > end:
                break
            raw = win[pos - at : pos + total - at] if pos + total <= at + len(win) else bytes(buf[pos : pos + total])
            known = self._parsed.get(raw) if total <= _PARSED_SIZE else None
            if known is not None:  # a short command seen before in this stream: same meaning
                out.append(Command(self._base + pos, raw, spec.name, known[0], dict(known[1])))
                pos += total
                continue
            try:
                params = spec.params(raw)
            except (IndexError, ValueError) as exc:
                out.append(Unknown(self._base + pos, raw, f"malformed {spec.name}: {exc}"))
            else:
                op = params.pop("op", spec.op)  # families whose meaning depends on a function byte
                if total <= _PARSED_SIZE and len(self._parsed) < _PARSED_COUNT and _flat(params):
                    self._parsed[raw] = (op, dict(params))  # kept apart: each event gets its own dict
                out.append(Command(self._base + pos, raw, spec.name, op, params))
            pos += total
        self._pos = pos
        self._compact(force=False)
        return out

    def _compact(self, force: bool) -> None:
        if self._pos and (force or self._pos >= _COMPACT_AT or self._pos == len(self._buf)):
            del self._buf[: self._pos]
            self._base += self._pos
            self._pos = 0


def _flat(params: dict[str, Any]) -> bool:
    """Whether a copy of ``params`` shares nothing mutable with it (no lists, e.g. tab stops)."""
    return all(v is None or isinstance(v, (bool, int, float, str, bytes)) for v in params.values())


class EscPosDecoder(TableDecoder):
    """Epson ESC/POS (and the many clones that follow it)."""

    def __init__(self, offset: int = 0) -> None:
        from kelaile_cli.core.escpos.commands import ESCPOS

        super().__init__(ESCPOS, offset)
