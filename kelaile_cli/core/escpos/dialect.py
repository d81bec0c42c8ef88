"""Tell ESC/POS from Star line mode, then decode with the right table.

Both dialects start commands with ESC but mean different things by them, so the stream is scored on
sequences only one dialect uses. ``StreamDecoder`` holds bytes back until a decision point that
depends only on the stream's content (the end of the first cut-like command, or 1,024 bytes, or
the end of the stream), so the decision — and every event — is the same however the stream is chunked.
"""

from __future__ import annotations

import re

from kelaile_cli.core.escpos.decoder import EscPosDecoder, TableDecoder
from kelaile_cli.core.escpos.events import Event
from kelaile_cli.core.escpos.star import StarDecoder

__all__ = ["DECIDE_AFTER", "StreamDecoder", "detect_dialect"]

DECIDE_AFTER = 1024

_STAR = [
    (re.compile(rb"\x1b\x1d[a-zA-Z#/=3]"), 3.0),  # ESC GS x: Star-only family
    (re.compile(rb"\x1b\x1e[a-zA-Z]"), 3.0),  # ESC RS x
    (re.compile(rb"\x1b\*r[A-Z]"), 3.0),  # raster mode
    (re.compile(rb"\x1bF"), 2.0),  # bold off (ESC/POS has no ESC F)
    (re.compile(rb"\x1b[45]"), 1.0),  # highlight on/off
    (re.compile(rb"\x1bd[\x00-\x03\x30-\x33]\Z"), 1.0),  # cut at the very end
]
_ESCPOS = [
    (re.compile(rb"(?<!\x1b)\x1d[!BVkvLHhwf(8]"), 3.0),  # GS commands: ESC/POS only
    (re.compile(rb"\x1b![\x00-\xff]"), 1.0),
    (re.compile(rb"\x1bt[\x00-\xff]"), 1.0),
    (re.compile(rb"\x1c[&.]"), 2.0),  # FS & / FS .
    (re.compile(rb"\x10\x04[\x01-\x04]"), 1.0),
]
_DECISION = re.compile(rb"\x1dV|\x1bd[\x00-\x03\x30-\x33]|\x1b[im]")


def detect_dialect(prefix: bytes) -> tuple[str, float]:
    """('escpos' | 'star', confidence 0..1) from the first bytes of a stream."""
    star = sum(w * len(p.findall(prefix)) for p, w in _STAR)
    escpos = sum(w * len(p.findall(prefix)) for p, w in _ESCPOS)
    if star > escpos and star >= 3.0:
        return "star", star / (star + escpos)
    if escpos == 0 and star == 0:
        return "escpos", 0.5
    return "escpos", escpos / (star + escpos) if escpos else 0.5


class StreamDecoder:
    """Dialect-detecting decoder: the ``feed``/``close`` interface of the table decoders."""

    def __init__(self, dialect: str | None = None) -> None:
        self.dialect: str | None = None
        self.confidence = 1.0
        self._inner: TableDecoder | None = None
        self._held = bytearray()
        if dialect is not None:
            self._choose(dialect)

    def _choose(self, dialect: str) -> None:
        if dialect not in ("escpos", "star"):
            raise ValueError(f"unknown dialect {dialect!r}")
        self.dialect = dialect
        self._inner = StarDecoder() if dialect == "star" else EscPosDecoder()

    def _decide(self, final: bool) -> bool:
        # The decision point is min(end of the first cut-like command + 1, DECIDE_AFTER): a property
        # of the stream, not of how much of it has arrived.
        m = _DECISION.search(self._held, 0, DECIDE_AFTER)
        point = min(m.end() + 1, DECIDE_AFTER) if m is not None else DECIDE_AFTER
        if point <= len(self._held):
            cut_at = point
        elif final:
            cut_at = len(self._held)
        else:
            return False
        dialect, self.confidence = detect_dialect(bytes(self._held[:cut_at]))
        self._choose(dialect)
        return True

    def feed(self, data: bytes) -> list[Event]:
        if self._inner is None:
            self._held += data
            if not self._decide(final=False):
                return []
            held, self._held = bytes(self._held), bytearray()
            return self._decoder().feed(held)
        return self._inner.feed(data)

    def close(self) -> list[Event]:
        events: list[Event] = []
        if self._inner is None:
            self._decide(final=True)
            held, self._held = bytes(self._held), bytearray()
            events = self._decoder().feed(held)
        return events + self._decoder().close()

    def preview_close(self) -> list[Event]:
        """The events ``close()`` would give now, leaving the decoder as it is (it can go on being fed)."""
        if self._inner is None:  # not decided yet: what close() does depends only on the bytes held
            twin = StreamDecoder()
            twin._held = bytearray(self._held)
            return twin.close()
        return self._inner.preview_close()

    def _decoder(self) -> TableDecoder:
        if self._inner is None:  # pragma: no cover - _decide always chooses before this is called
            raise RuntimeError("dialect not decided")
        return self._inner
