"""Frames on a byte stream: COBS-encoded, 0x00-delimited, CRC-32 checked, bounded in size.

On the wire a frame is ``0x00? COBS(body + CRC32(body) as 4 bytes little-endian) 0x00``. A leading
delimiter is allowed (the sender may emit one to flush whatever junk the receiver holds). COBS
guarantees the encoded frame contains no 0x00, so the decoder always resynchronises at the next
delimiter: corruption, truncation or junk costs at most the frame it touches.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from cobs import cobs

__all__ = [
    "DELIMITER",
    "MAX_BODY",
    "MAX_ENCODED",
    "Frame",
    "FrameDecoder",
    "FrameError",
    "encode_frame",
]

DELIMITER = b"\x00"
MAX_BODY = 8192  # bytes of message (header + payload) in one frame, CRC excluded
CRC_SIZE = 4
# COBS adds one byte per 254 bytes (and one at the start); anything longer is not a frame.
MAX_ENCODED = MAX_BODY + CRC_SIZE + (MAX_BODY + CRC_SIZE) // 254 + 2


@dataclass(frozen=True, slots=True)
class Frame:
    """One good frame: its body (CRC checked and stripped) and where it started in the stream."""

    body: bytes
    offset: int


@dataclass(frozen=True, slots=True)
class FrameError:
    """Bytes between two delimiters that are not a frame; ``offset``/``size`` locate them in the stream."""

    reason: str  # 'cobs' | 'crc' | 'short' | 'too-long'
    offset: int
    size: int

    def __str__(self) -> str:
        return f"bad frame at byte {self.offset} ({self.size} bytes): {self.reason}"


def encode_frame(body: bytes, *, lead: bool = False) -> bytes:
    """The wire bytes of one frame; ``lead`` prefixes a delimiter (flushes a receiver's partial frame)."""
    if len(body) > MAX_BODY:
        raise ValueError(f"frame body of {len(body)} bytes exceeds the maximum of {MAX_BODY}")
    crc = zlib.crc32(body).to_bytes(CRC_SIZE, "little")
    return (DELIMITER if lead else b"") + cobs.encode(body + crc) + DELIMITER


class FrameDecoder:
    """Incremental decoder: ``feed`` any chunking of the stream, get frames and errors in order.

    Empty segments (two delimiters in a row) are skipped silently: they are how senders resync.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._start = 0  # stream offset of the first byte in _buf
        self._overflow = False  # the current segment already exceeded MAX_ENCODED
        self._consumed = 0  # stream bytes seen

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        out: list[Frame | FrameError] = []
        pos = 0
        while pos < len(data):
            end = data.find(0, pos)
            if end < 0:
                self._append(data[pos:])
                break
            self._append(data[pos:end])
            out.extend(self._segment())
            self._consumed += 1  # the delimiter
            self._start = self._consumed
            pos = end + 1
        return out

    def _append(self, chunk: bytes) -> None:
        self._consumed += len(chunk)
        if self._overflow:
            return
        self._buf += chunk
        if len(self._buf) > MAX_ENCODED:
            self._overflow = True
            self._buf.clear()

    def _segment(self) -> list[Frame | FrameError]:
        size = self._consumed - self._start
        buf, overflow = bytes(self._buf), self._overflow
        self._buf.clear()
        self._overflow = False
        if overflow:
            return [FrameError("too-long", self._start, size)]
        if not buf:
            return []
        try:
            raw = cobs.decode(buf)
        except cobs.DecodeError:
            return [FrameError("cobs", self._start, size)]
        if len(raw) < CRC_SIZE + 1:
            return [FrameError("short", self._start, size)]
        body, crc = raw[:-CRC_SIZE], raw[-CRC_SIZE:]
        if zlib.crc32(body).to_bytes(CRC_SIZE, "little") != crc:
            return [FrameError("crc", self._start, size)]
        return [Frame(body, self._start)]

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished frame."""
        return self._consumed - self._start
