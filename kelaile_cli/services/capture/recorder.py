"""Writing and reading ``.klr`` recordings on disk, crash-safely.

Each chunk is one line handed to the kernel in a single ``os.write`` on an ``O_APPEND`` descriptor,
so after ``kill -9`` every chunk whose ``write()`` returned is in the file (the page cache outlives
the process). ``fsync`` runs at most every ``sync_interval`` seconds and on close, bounding what a
power cut can take. ``.klr.gz`` files are gzip streams flushed with ``Z_SYNC_FLUSH`` after every
chunk, so a torn compressed file still reads back to its last chunk.
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from pathlib import Path
from types import TracebackType

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import (
    Chunk,
    Header,
    Recording,
    Trailer,
    encode_chunk,
    encode_header,
    encode_trailer,
    looks_like_recording,
    parse_recording,
)
from kelaile_cli.transports.files import read_bytes

__all__ = ["RecordingWriter", "is_recording", "read_recording"]

GZIP_MAGIC = b"\x1f\x8b"


class RecordingWriter:
    """Append chunks to a new recording; ``close()`` writes the trailer and syncs."""

    def __init__(
        self, path: str | Path, header: Header, *, compress: bool | None = None, sync_interval: float = 0.5
    ) -> None:
        self.path = Path(path)
        self.header = header
        self.compress = self.path.name.endswith(".gz") if compress is None else compress
        self.sync_interval = sync_interval
        self.chunks = 0
        self.bytes = 0
        self._digest = hashlib.sha256()
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31) if self.compress else None
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot create recording ({exc.strerror or exc})") from None
        self._last_sync = time.monotonic()
        self._emit(encode_header(header))

    def _emit(self, line: bytes) -> None:
        if self._fd is None:
            raise ValueError("recording is closed")
        if self._zip is not None:
            line = self._zip.compress(line) + self._zip.flush(zlib.Z_SYNC_FLUSH)
        view = memoryview(line)
        while view:  # a regular file takes it all at once; loop only for exotic filesystems
            n = os.write(self._fd, view)
            view = view[n:]
        now = time.monotonic()
        if now - self._last_sync >= self.sync_interval:
            os.fsync(self._fd)
            self._last_sync = now

    def write(self, chunk: Chunk) -> None:
        """Append one chunk; when this returns, a killed process cannot lose it."""
        self._emit(encode_chunk(chunk, self.header.started))
        self._digest.update(chunk.data)
        self.chunks += 1
        self.bytes += len(chunk.data)

    def close(self, ended: float | None = None) -> None:
        if self._fd is None:
            return
        self._emit(encode_trailer(Trailer(ended or time.time(), self.chunks, self._digest.hexdigest())))
        if self._zip is not None:
            os.write(self._fd, self._zip.flush(zlib.Z_FINISH))
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _gunzip(data: bytes) -> bytes:
    """Decompress as far as the data goes: a torn gzip stream gives back everything flushed."""
    d = zlib.decompressobj(31)
    try:
        return d.decompress(data)
    except zlib.error:
        return d.flush()


def is_recording(path: str | Path) -> bool:
    """Sniff the first bytes: a .klr (plain or gzip) rather than a raw print job."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    if head.startswith(GZIP_MAGIC):
        return p.name.endswith((".klr.gz", ".klr"))
    return looks_like_recording(head)


def read_recording(path: str | Path) -> Recording:
    """Read a recording; errors name the file and line."""
    data = read_bytes(path)
    if data.startswith(GZIP_MAGIC):
        data = _gunzip(data)
    return parse_recording(data, str(path))
