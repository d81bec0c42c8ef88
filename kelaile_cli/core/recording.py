"""The ``.klr`` recording model (format details: docs/recording-format.md).

A recording is a header plus an ordered list of chunks: the bytes seen on the wire, each with its
capture time, direction and connection. Encoding/decoding of the on-disk form lives here too and is
sans-IO (lines in, objects out); writing files crash-safely is the recorder service's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["TO_HOST", "TO_PRINTER", "Chunk", "Direction", "Header", "Recording"]

Direction = Literal["out", "in"]
TO_PRINTER: Direction = "out"  # POS -> printer: the print stream
TO_HOST: Direction = "in"  # printer -> POS: status replies


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes as they crossed the wire in one read."""

    t: float  # capture time, seconds since the Unix epoch
    direction: Direction
    conn: int  # connection number within the recording (one TCP connection = one job stream)
    data: bytes


@dataclass(slots=True)
class Header:
    source: str  # where the bytes came from: an endpoint URL, a capture file, ...
    started: float  # epoch seconds
    klx_version: str
    notes: dict[str, str] = field(default_factory=dict)
    version: int = 1  # format version


@dataclass(slots=True)
class Recording:
    header: Header
    chunks: list[Chunk] = field(default_factory=list)

    def connections(self) -> list[int]:
        """Connection numbers in order of first appearance."""
        return list(dict.fromkeys(c.conn for c in self.chunks))

    def stream(self, direction: Direction = TO_PRINTER, conn: int | None = None) -> bytes:
        """The concatenated bytes of one direction (and one connection, if given)."""
        return b"".join(c.data for c in self.chunks if c.direction == direction and (conn is None or c.conn == conn))
