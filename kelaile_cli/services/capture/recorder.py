"""Writing and reading ``.klr`` recordings on disk, crash-safely (format: docs/recording-format.md).

Writing: each chunk is one line handed to the kernel in a single ``os.write`` on an ``O_APPEND``
descriptor, so after ``kill -9`` every chunk whose ``write()`` returned is in the file (the page cache
outlives the process). ``fsync`` runs at most every ``sync_interval`` seconds and on close. ``.klr.gz``
files are gzip members flushed with ``Z_SYNC_FLUSH`` after every line and ended every
``GZIP_MEMBER`` bytes, so a torn compressed file still reads back to its last chunk. The file is
created 0600 (recordings hold card and phone numbers) and never through a symbolic link.

A write that fails (a full disk) never raises: the chunk is counted as lost, ``on_problem`` is told
once, and every later chunk tries again, so the recording resumes as soon as there is room. A line
cut short by the failure is closed off (the next write starts a new line, or a new gzip member) so
the reader skips just that line.

Reading streams the file block by block (memory: the chunks, not the file again) and bounds a line's
size and a compressed file's expansion. ``stream_recording`` goes further and keeps no chunk: each is
handed over as it is read, and what the file's end says about it (trailer, checksum, torn lines)
is known when the last one has been taken; ``scan_recording`` is such a pass that keeps only what a
second pass needs to decode the recording connection by connection (``ConnectionPlan``).
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import (
    MAX_CHUNK_DATA,
    MAX_LINE,
    Chunk,
    ConnectionPlan,
    Header,
    Recording,
    RecordingError,
    RecordingParser,
    Trailer,
    encode_chunk,
    encode_header,
    encode_trailer,
    looks_like_recording,
)
from kelaile_cli.transports.files import create_private, read_blocks

__all__ = [
    "GZIP_MEMBER",
    "MAX_EXPANSION",
    "RecordingStream",
    "RecordingWriter",
    "is_recording",
    "iter_recording",
    "read_recording",
    "scan_recording",
    "stream_recording",
]

GZIP_MAGIC = b"\x1f\x8b"
GZIP_MEMBER = 1024 * 1024  # uncompressed bytes per gzip member
#: A ``.klr.gz`` may expand to at most this many times its size (or 64 MiB, if more): beyond that it
#: is refused as a decompression bomb rather than read into memory.
MAX_EXPANSION = 100
_MIN_EXPANSION_LIMIT = 64 * 1024 * 1024
_OUT_PIECE = 1024 * 1024
_IN_PIECE = 1024 * 1024


class RecordingWriter:
    """Append chunks to a new recording; ``close()`` writes the trailer and syncs.

    ``on_problem`` receives one line when writing starts failing and one when it works again.
    Counters: ``chunks``/``bytes`` written, ``lost`` chunks (and ``lost_bytes``) not written,
    ``write_errors``; ``failing`` is true while the last write failed."""

    def __init__(
        self,
        path: str | Path,
        header: Header,
        *,
        compress: bool | None = None,
        sync_interval: float = 0.5,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.header = header
        self.compress = self.path.name.endswith(".gz") if compress is None else compress
        self.sync_interval = sync_interval
        self.on_problem = on_problem
        self.chunks = 0
        self.bytes = 0
        self.lost = 0
        self.lost_bytes = 0
        self.write_errors = 0
        self.failing = False
        self.last_error = ""
        import hashlib  # here: it loads OpenSSL, which `klx parse` of a raw file does not need

        self._digest = hashlib.sha256()
        self._zip: zlib._Compress | None = None
        self._member_bytes = 0
        self._torn = False  # the last write stopped mid-line: start the next one on a fresh line/member
        self._fd: int | None = create_private(self.path)
        self._last_sync = time.monotonic()
        if not self._emit(encode_header(header)):
            os.close(self._fd)
            self._fd = None
            raise InputError(f"{self.path}: cannot write the recording's header ({self.last_error})")

    # -- writing ---------------------------------------------------------------------------------

    def _encode(self, line: bytes) -> bytes:
        if not self.compress:
            return line
        out = b""
        if self._zip is None:
            self._zip = zlib.compressobj(6, zlib.DEFLATED, 31)
            self._member_bytes = 0
        out += self._zip.compress(line)
        self._member_bytes += len(line)
        if self._member_bytes >= GZIP_MEMBER:
            out += self._zip.flush(zlib.Z_FINISH)
            self._zip = None
        else:
            out += self._zip.flush(zlib.Z_SYNC_FLUSH)
        return out

    def _emit(self, line: bytes) -> bool:
        """Write one line; False (and counted) if the OS refused it."""
        if self._fd is None:
            raise ValueError("recording is closed")
        if self._torn:
            line = b"\n" + line  # close off the torn line: the reader skips it and reads on
            self._zip = None  # a torn gzip member cannot be continued: start a new one
        data = memoryview(self._encode(line))
        written = 0
        try:
            while written < len(data):  # a regular file takes it all at once; loop for exotic filesystems
                written += os.write(self._fd, data[written:])
            self._sync()
        except OSError as exc:
            self._torn = self._torn or written > 0 or self.compress
            self._failed(exc)
            return False
        self._torn = False
        if self.failing:
            self.failing = False
            self._tell(f"{self.path}: writing again after {self.lost} lost chunks")
        return True

    def _sync(self) -> None:
        now = time.monotonic()
        if now - self._last_sync >= self.sync_interval and self._fd is not None:
            os.fsync(self._fd)
            self._last_sync = now

    def _failed(self, exc: OSError) -> None:
        self.write_errors += 1
        self.last_error = exc.strerror or str(exc)
        if not self.failing:
            self.failing = True
            self._tell(
                f"{self.path}: cannot write ({self.last_error}); printing goes on, the recording resumes when it can"
            )

    def _tell(self, message: str) -> None:
        if self.on_problem is not None:
            self.on_problem(message)

    def write(self, chunk: Chunk) -> bool:
        """Append one chunk (as lines of at most ``MAX_CHUNK_DATA`` bytes); when this returns True, a
        killed process cannot lose it. False: it was not written (counted in ``lost``)."""
        ok = True
        for at in range(0, max(len(chunk.data), 1), MAX_CHUNK_DATA):
            piece = chunk.data[at : at + MAX_CHUNK_DATA]
            part = chunk if len(piece) == len(chunk.data) else Chunk(chunk.t, chunk.direction, chunk.conn, piece)
            if self._emit(encode_chunk(part, self.header.started)):
                self._digest.update(piece)
                self.chunks += 1
                self.bytes += len(piece)
            else:
                self.lost += 1
                self.lost_bytes += len(piece)
                ok = False
        return ok

    def __call__(self, chunk: Chunk) -> None:
        """A capture's recorder sink: ``Capture(CaptureOptions(..., recorders=[writer]))``."""
        self.write(chunk)

    def drop(self, chunks: int, size: int) -> None:
        """Chunks the capture could not hand over in time (a hung disk): counted as lost."""
        self.lost += chunks
        self.lost_bytes += size

    def close(self, ended: float | None = None) -> None:
        """Write the trailer, end the gzip stream, sync and close. A failure here is reported through
        ``on_problem`` (the chunks already written stay readable); it never raises."""
        if self._fd is None:
            return
        trailer = Trailer(ended or time.time(), self.chunks, self._digest.hexdigest(), self.lost)
        if self._emit(encode_trailer(trailer)) and self._zip is not None:
            try:
                os.write(self._fd, self._zip.flush(zlib.Z_FINISH))
            except OSError as exc:
                self._failed(exc)
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self._failed(exc)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# -- reading -----------------------------------------------------------------------------------------


class _Compressed:
    """A compressed file, read where asked: forward piece by piece and, after damage only, again from
    an earlier point — so no more of it is held than the piece in hand."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size

    def read(self, at: int, n: int) -> bytes:
        self.fh.seek(at)
        return self.fh.read(n)

    def find(self, pattern: bytes, at: int) -> int:
        """Where ``pattern`` next occurs at or after ``at`` (the file's size when it does not)."""
        while at < self.size:
            found = self.read(at, _IN_PIECE + len(pattern) - 1).find(pattern)
            if found >= 0:
                return at + found
            at += _IN_PIECE
        return self.size


def _member_starts_at(src: _Compressed, at: int) -> bool:
    """Whether a gzip member really starts at ``at`` (not just its magic bytes inside deflate data)."""
    try:
        zlib.decompressobj(31).decompress(src.read(at, 4096), 64)
    except zlib.error:
        return False
    return True


def _gunzip(fh: BinaryIO, size: int, name: str) -> Iterator[bytes]:
    """Decompress gzip members one after another, read and given out in pieces of at most 1 MiB. A
    torn member (a full disk, a crash) gives back what was flushed, then ``\n`` ending its torn line,
    and reading resumes at the next member. Refuses to expand beyond ``MAX_EXPANSION`` × ``size``."""
    src = _Compressed(fh, size)
    limit = max(_MIN_EXPANSION_LIMIT, MAX_EXPANSION * size)
    magic = GZIP_MAGIC + b"\x08"
    total, start = 0, 0
    while start < size:
        d, pos, torn = zlib.decompressobj(31), start, False
        while not d.eof and not torn:
            end = src.find(magic, pos + 1)  # the member may end (torn) where the next begins
            at = pos  # read up to here
            try:
                while at < end and not d.eof:
                    pending = src.read(at, min(_IN_PIECE, end - at))
                    at += len(pending)
                    while pending and not d.eof:
                        out = d.decompress(pending, _OUT_PIECE)
                        total += len(out)
                        if total > limit:
                            raise RecordingError(
                                name, 0, f"decompresses to more than {limit // (1024 * 1024)} MiB (a gzip bomb?)"
                            )
                        yield out
                        pending = d.unconsumed_tail
            except zlib.error:
                torn = True
                end = pos if pos > start else end
            if d.eof:
                start = at - len(d.unused_data)
            elif end >= size:
                yield d.flush()  # torn at the end of the file (a killed recorder): keep what was flushed
                return
            elif torn or _member_starts_at(src, end):
                torn = True
            pos = end
        if torn:
            yield b"\n"
            start = pos


def _gunzip_file(path: str | Path, name: str) -> Iterator[bytes]:
    """``_gunzip`` of the file at ``path``."""
    try:
        fh = Path(path).open("rb")  # noqa: SIM115 (closed below: an OSError here is not one of reading it)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        yield from _gunzip(fh, os.fstat(fh.fileno()).st_size, name)


def _lines(pieces: Iterable[bytes], parser: RecordingParser) -> Iterator[tuple[int, bytes, bool]]:
    """Numbered lines from pieces of text, never buffering more than one line of ``MAX_LINE``."""
    partial, lineno = b"", 1
    for piece in pieces:
        if not piece:
            continue
        if b"\n" not in piece:
            partial += piece
            parser.check_length(lineno, len(partial))
            continue
        parts = (partial + piece).split(b"\n")
        partial = parts.pop()
        for raw in parts:
            yield lineno, raw, False
            lineno += 1
        parser.check_length(lineno, len(partial))
    if partial:
        yield lineno, partial, True


def iter_recording(path: str | Path, *, keep: bool = True) -> tuple[RecordingParser, Iterator[tuple[int, bytes, bool]]]:
    """A parser for ``path`` and the file's numbered lines, read block by block (gzip or plain);
    ``keep=False``: a parser that hands chunks over rather than keeping them (``RecordingParser``)."""
    name = str(path)
    parser = RecordingParser(name, keep=keep)
    blocks = read_blocks(path)
    first = next(blocks, b"")

    def chained() -> Iterator[bytes]:
        yield first
        yield from blocks

    if first.startswith(GZIP_MAGIC):
        del blocks  # dropped, its file closed: the gzip reader opens the file to read where it needs
        return parser, _lines(_gunzip_file(path, name), parser)
    return parser, _lines(chained(), parser)


def read_recording(path: str | Path) -> Recording:
    """Read a recording; errors name the file and line; what is wrong but readable is in ``warnings``."""
    parser, lines = iter_recording(path)
    try:
        for lineno, raw, last in lines:
            if parser.recording is None:
                parser.header(raw)
            else:
                parser.line(lineno, raw, last=last)
    except MemoryError:
        parser.recording = None  # let the chunks go before saying so
        raise InputError(
            f"{path}: not enough memory to hold this recording's chunks",
            remedy="split it (klx record --max-jobs/--duration) or read it on a machine with more memory",
        ) from None
    return parser.finish()


class RecordingStream:
    """A recording's chunks one by one, as the file is read, none kept (memory: one block and one line).

    Iterate once. Every line is checked as ``read_recording`` checks it, so a bad line raises the same
    ``RecordingError`` (naming ``file:line``) when it is reached. ``header`` is known once the first
    chunk is out (or the end reached); ``recording`` — the header and what the file's end says
    (trailer, checksum, torn lines, ``warnings``), with no chunks — once the last one is.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._parser, self._lines = iter_recording(path, keep=False)
        self.recording: Recording | None = None

    @property
    def header(self) -> Header | None:
        return self._parser.recording.header if self._parser.recording is not None else None

    @property
    def count(self) -> int:
        """Chunks handed over so far."""
        return self._parser.count - len(self._parser.fresh)

    def __iter__(self) -> Iterator[Chunk]:
        parser = self._parser
        fresh, line = parser.fresh, parser.line
        for lineno, raw, last in self._lines:
            if parser.recording is None:
                parser.header(raw)
                continue
            line(lineno, raw, last=last)
            if fresh:  # usually the one chunk of this line
                yield from fresh
                fresh.clear()
        self.recording = parser.finish()  # 'empty file' when there was not even a header


def stream_recording(path: str | Path) -> RecordingStream:
    """Read a recording chunk by chunk (see ``RecordingStream``)."""
    return RecordingStream(path)


def scan_recording(path: str | Path, head_bytes: int) -> tuple[Recording, ConnectionPlan]:
    """A first pass over a recording, keeping no chunk: the file checked (the returned recording holds
    its header and integrity, no chunks) and the plan a second pass decodes it by (``ConnectionPlan``:
    the first ``head_bytes`` bytes to the printer, where each connection ends)."""
    stream = RecordingStream(path)
    plan = ConnectionPlan(head_bytes)
    for chunk in stream:
        plan.add(chunk)
    assert stream.recording is not None  # set when the iteration ends
    return stream.recording, plan


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


assert MAX_LINE > 6 * MAX_CHUNK_DATA + 200  # a written chunk line always fits a reader's bound
