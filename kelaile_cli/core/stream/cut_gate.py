"""Hold each receipt's cut until the cloud has answered, then print the answer above it.

The box forwards the POS's bytes to the printer as they come; only a cut command is held back, so
the coupon the cloud returns can be printed on the same receipt, before the cut. ``CutGate`` is the
sans-IO part: bytes in, bytes to forward out, "a cut is held" flagged; the box's service decides
how long to wait for the answer and then calls ``release`` with the bytes to inject (or none).

Guarantees (property-tested): with nothing injected, the output is the input, byte for byte and in
order, however it was chunked; with an answer injected, the output is the input with the answer
inserted just before that cut. A cut with nothing printed since the previous one is not held. Bytes
that might be the start of a cut (``GS V``, ``ESC i``,
``ESC m``, Star ``ESC d``) wait only until the decoder has told what they are, or until ``flush``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.escpos.events import Command, Unknown
from kelaile_cli.core.stream.segmenter import CONTENT_OPS

__all__ = ["CutGate", "GateOutput"]

_CUT_SECOND = frozenset(b"Vimd")  # GS V, ESC i, ESC m, Star ESC d
_PREFIX = frozenset(b"\x1b\x1d")


@dataclass(frozen=True, slots=True)
class GateOutput:
    forward: bytes  # send these to the printer now
    cut_held: bool  # a cut is waiting: call ``release`` (with the answer, or b"" after the deadline)
    receipts: int  # cuts held so far in this stream (the held one included)
    cut_end: int = 0  # stream offset just after the held cut (a receipt's ``end``), when one is held


class CutGate:
    """One per POS connection (one print stream)."""

    def __init__(self, dialect: str | None = None) -> None:
        self._decoder = StreamDecoder(dialect=dialect)
        self._pending = bytearray()  # received, not yet forwarded; starts at stream offset ``_sent``
        self._sent = 0
        self._decoded_end = 0  # every byte before this belongs to an event the decoder emitted
        self._cuts: deque[tuple[int, int, bool]] = deque()  # (start, end, ends content) of cuts not yet forwarded
        self._content = False  # something printable since the last cut
        self._held: tuple[int, int] | None = None
        self._count = 0

    def feed(self, data: bytes) -> GateOutput:
        """Take bytes from the POS; returns what may go to the printer now."""
        self._pending += data
        self._note(self._decoder.feed(data))
        return self._advance(b"")

    def release(self, inject: bytes = b"") -> GateOutput:
        """Let the held cut go, with ``inject`` printed just before it."""
        if self._held is None:
            return self._advance(b"")
        start, end = self._held
        assert start == self._sent
        cut = bytes(self._pending[: end - start])
        del self._pending[: end - start]
        self._sent = end
        self._held = None
        return self._advance(inject + cut)

    def flush(self) -> GateOutput:
        """The POS went quiet: forward bytes kept only because they *might* have started a cut.

        A cut already held stays held (the caller releases it). Bytes the decoder still has not
        resolved are forwarded; if they do turn out to be a cut, that receipt gets no answer."""
        if self._held is not None:
            return self._advance(b"")
        out = bytes(self._pending)
        self._sent += len(self._pending)
        self._pending.clear()
        return GateOutput(out, False, self._count)

    @property
    def between_receipts(self) -> bool:
        """Every byte so far decoded, no cut held, and nothing printable since the last cut (or the start):
        a pause here is a gap between jobs, where the box may print a ticket of its own."""
        return self._held is None and not self._content and self._decoded_end >= self._sent + len(self._pending)

    @property
    def held_cut_end(self) -> int:
        """Stream offset just after the held cut (0 when none is held)."""
        return self._held[1] if self._held is not None else 0

    # -- internals ------------------------------------------------------------------------------------

    def _note(self, events: list) -> None:
        for event in events:
            end = event.offset + len(event.raw)
            self._decoded_end = max(self._decoded_end, end)
            if isinstance(event, Command) and event.op == "cut":
                if event.offset >= self._sent:
                    self._cuts.append((event.offset, end, self._content))
                self._content = False
            elif isinstance(event, Command):
                self._content = self._content or event.op in CONTENT_OPS
            elif not isinstance(event, Unknown) and event.raw.strip():  # text that is more than blank lines
                self._content = True

    def _advance(self, prefix: bytes) -> GateOutput:
        out = bytearray(prefix)
        if self._held is None:
            while self._cuts and self._cuts[0][0] < self._sent:
                self._cuts.popleft()  # a cut already forwarded by flush(): too late to hold it
            while self._cuts and self._held is None:
                start, end, content = self._cuts.popleft()
                if not content:  # a cut after nothing printed (a second cut, a bare feed-and-cut): let it go
                    self._take(end, out)
                    continue
                self._take(start, out)
                self._held = (start, end)
                self._count += 1
            if self._held is None:
                self._take(self._safe_limit(), out)
        return GateOutput(bytes(out), self._held is not None, self._count, self.held_cut_end)

    def _take(self, limit: int, out: bytearray) -> None:
        n = max(0, limit - self._sent)
        out += self._pending[:n]
        del self._pending[:n]
        self._sent += n

    def _safe_limit(self) -> int:
        """Up to where bytes are surely not part of a cut still to be recognised."""
        start = max(self._decoded_end, self._sent) - self._sent
        tail = self._pending
        for i in range(start, len(tail)):
            if tail[i] in _PREFIX and (i + 1 == len(tail) or tail[i + 1] in _CUT_SECOND):
                return self._sent + i
        return self._sent + len(tail)
