"""Incremental, sans-IO decoding of a command-table print stream.

``feed(bytes) -> events`` never blocks and never raises: it emits every event that is complete and
keeps the rest. Text runs carry their line feeds (LF is the one control byte that never starts
a command), so a block of plain lines is one event. ``close()`` flushes a pending text run and
reports a command cut off by the end of the stream. The events are the same however the stream is split into chunks.
"""

from __future__ import annotations

from typing import Any, Final

from kelaile_cli.core.escpos.events import Command, Event, Text, Truncated, Unknown
from kelaile_cli.core.escpos.table import BAD, MAX_COMMAND, NEED, Parsed, Table

__all__ = ["MAX_TEXT_RUN", "EscPosDecoder", "TableDecoder"]

#: module constants are Final: mypyc then inlines them instead of looking each up in the module's dict
MAX_TEXT_RUN: Final = 4096
#: printable bytes and LF stay 1, any other control byte (it ends a text run) becomes 0: the end of a
#: run is then one ``find`` (memchr) in the translated bytes instead of a regex walking it byte by byte
_RUN_ENDS: Final = bytes(0 if b < 0x20 and b != 0x0A else 1 for b in range(256))
_WINDOW: Final = 64 * 1024  # bytes translated at a time (a multiple of MAX_TEXT_RUN)
_PARSED_SIZE: Final = 8  # commands up to this many bytes (and longer than an Entry remembers) have their parse
_PARSED_COUNT: Final = 4096  # ... remembered per stream, this many of them


class TableDecoder:
    """Decode a stream with a command table (see ``table.py``).

    Bytes are decoded in the ``bytes`` object they arrive in (mypyc indexes ``bytes`` natively; no
    buffer they are first copied into). Only what a chunk leaves undecided (a text run that may go
    on, a command cut short) is kept, in ``_tail``, and fed again in front of the next chunk. A
    command whose length is known waits in ``_tail`` until all of it has arrived, so a long image
    sent in small chunks is decoded once, not once per chunk.
    """

    def __init__(self, table: Table, offset: int = 0) -> None:
        self.table = table
        self._tail = bytearray()  # undecided bytes, stream offset _base
        self._base = offset
        self._want = 0  # _tail is decoded again once it holds this many bytes (0: at any new byte)
        #: short commands (longer than an Entry remembers) already parsed -> their meaning: POS
        #: programs repeat the same few
        self._parsed: dict[bytes, Parsed] = {}

    def feed(self, data: bytes) -> list[Event]:
        tail = self._tail
        if tail:
            if len(tail) + len(data) < self._want:  # the command waiting is still incomplete
                tail += data
                return []
            data = b"".join([tail, data])
            tail.clear()
        elif not data:
            return []
        return self._drain(data, final=False)

    def close(self) -> list[Event]:
        rest = bytes(self._tail)
        self._tail.clear()
        events = self._drain(rest, final=True) if rest else []
        rest = bytes(self._tail)
        if rest:
            spec, plen = self.table.lookup(rest, 0, len(rest))
            name = spec.name if spec else self.table.describe(rest[: max(plen, 1)])
            events.append(Truncated(self._base, rest, name))
            self._base += len(rest)
            self._tail.clear()
        self._want = 0
        return events

    def preview_close(self) -> list[Event]:
        """The events ``close()`` would give now, leaving the decoder as it is (it can go on being fed)."""
        tail, base, want = bytes(self._tail), self._base, self._want
        events = self.close()
        self._tail, self._base, self._want = bytearray(tail), base, want
        return events

    # ---------------------------------------------------------------------------------------------
    def _drain(self, data: bytes, final: bool) -> list[Event]:
        """Decode ``data`` (stream offset ``_base``); keep what is undecided in ``_tail``."""
        end = len(data)
        pos = 0
        base = self._base
        out: list[Event] = []
        table = self.table
        want = 0
        # ends = data[at : at + len(ends)] translated by _RUN_ENDS: text runs end at a find in it
        ends = b""
        at = 0
        while pos < end:
            b = data[pos]
            if b >= 0x20 or b == 0x0A:
                limit = min(end, pos + MAX_TEXT_RUN)
                if limit > at + len(ends):
                    at = pos
                    ends = data[pos : pos + _WINDOW].translate(_RUN_ENDS)
                stop = ends.find(0, pos - at, limit - at)
                stop = limit if stop < 0 else stop + at
                if stop == end and end - pos < MAX_TEXT_RUN and not final:
                    break  # the run may go on in the next chunk
                out.append(Text(base + pos, data[pos:stop]))
                pos = stop
                continue
            entry = table.entry_at(data, pos, end)
            if entry is not None:
                memo = entry.memo
                if memo is not None:  # the common case, first: a short fixed command seen before
                    total = entry.size
                    if pos + total <= end:
                        known = memo[data[pos + total - 1] if total > entry.plen else 0]
                        if known is not None:  # same bytes, same meaning
                            out.append(Command(base + pos, known.raw, entry.spec.name, known.op, None, known.params))
                            pos += total
                            continue
                spec = entry.spec
                plen = entry.plen
                total = entry.size
                if total == 0:
                    total = spec.length(data, pos, end, plen)
                    if total == NEED:
                        break
            else:
                found, plen = table.lookup(data, pos, end)
                if found is None:
                    if plen == 0:
                        break  # prefix incomplete
                    raw = data[pos : pos + plen]
                    out.append(Unknown(base + pos, raw, f"unknown command {table.describe(raw)}"))
                    pos += plen
                    continue
                spec = found
                total = spec.length(data, pos, end, plen)
                if total == NEED:
                    break
            if total == BAD or total > MAX_COMMAND:
                raw = data[pos : pos + plen]
                out.append(Unknown(base + pos, raw, f"malformed {spec.name}"))
                pos += plen
                continue
            if pos + total > end:
                want = total  # all of it is needed before it can be decoded
                break
            memoizable = entry is not None and entry.memoizable
            raw = data[pos : pos + total]
            known = self._parsed.get(raw) if not memoizable and total <= _PARSED_SIZE else None
            if known is not None:
                out.append(Command(base + pos, raw, spec.name, known.op, None, known.params))
                pos += total
                continue
            try:
                params = spec.params(raw)
            except (IndexError, ValueError) as exc:
                out.append(Unknown(base + pos, raw, f"malformed {spec.name}: {exc}"))
                pos += total
                continue
            op = params.pop("op", spec.op)  # families whose meaning depends on a function byte
            if total <= _PARSED_SIZE and _flat(params):
                if entry is not None and memoizable:
                    memo = entry.memo
                    if memo is None:
                        memo = entry.memo = [None] * 256
                    memo[data[pos + plen] if total > plen else 0] = Parsed(raw, op, params)
                    out.append(Command(base + pos, raw, spec.name, op, None, params))
                    pos += total
                    continue
                if len(self._parsed) < _PARSED_COUNT:
                    self._parsed[raw] = Parsed(raw, op, params)
                    out.append(Command(base + pos, raw, spec.name, op, None, params))
                    pos += total
                    continue
            out.append(Command(base + pos, raw, spec.name, op, params))
            pos += total
        if pos < end:
            self._tail += data[pos:]
        self._base = base + pos
        self._want = want
        return out


def _flat(params: dict[str, Any]) -> bool:
    """Whether a copy of ``params`` shares nothing mutable with it (no lists, e.g. tab stops)."""
    return all(v is None or isinstance(v, (bool, int, float, str, bytes)) for v in params.values())


class EscPosDecoder(TableDecoder):
    """Epson ESC/POS (and the many clones that follow it)."""

    def __init__(self, offset: int = 0) -> None:
        from kelaile_cli.core.escpos.commands import ESCPOS

        super().__init__(ESCPOS, offset)
