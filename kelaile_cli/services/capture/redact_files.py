"""Redacting files (raw jobs and recordings) and live recordings.

A raw job is redacted block by block in two passes (the first only gathers the encoding evidence,
so the codecs are those a whole-file redaction would choose): memory stays a few blocks whatever
the file's size, and the output is byte for byte that of ``redact_stream`` over the whole file.
A recording the same way, chunk by chunk and connection by connection: each masked chunk is written
as soon as its connection's redactor has released its bytes (the text run still arriving at most is
held back), in the original order and chunking. The report lists the first ``LISTED`` masked places
one by one and counts them all."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk, Header
from kelaile_cli.core.formats.redact import Redaction, StreamingRedactor, gather_evidence
from kelaile_cli.core.stream.printstream import TextEvidence
from kelaile_cli.services.capture.recorder import RecordingWriter, is_recording, stream_recording
from kelaile_cli.transports.files import read_blocks

__all__ = ["LISTED", "RedactingSink", "RedactionReport", "redact_file"]

#: masked places a report lists one by one (all are counted): a huge file's list would not fit in memory
LISTED = 10_000


@dataclass(slots=True)
class RedactionReport:
    input: str
    output: str
    bytes: int = 0
    masked: list[dict[str, object]] = field(default_factory=list)
    unlisted: int = 0  # masked places beyond the first ``LISTED`` (counted, not listed)
    tally: dict[str, int] = field(default_factory=dict)  # kind -> places, in order of first appearance

    def add(self, entries: list[dict[str, object]]) -> None:
        for entry in entries:
            kind = str(entry["kind"])
            self.tally[kind] = self.tally.get(kind, 0) + 1
        room = max(0, LISTED - len(self.masked))
        self.masked += entries[:room]
        self.unlisted += len(entries[room:])

    def merge(self, part: RedactionReport) -> None:
        """Add another report's places (listed while there is room) and counts."""
        for kind, n in part.tally.items():
            self.tally[kind] = self.tally.get(kind, 0) + n
        room = max(0, LISTED - len(self.masked))
        self.masked += part.masked[:room]
        self.unlisted += part.unlisted + len(part.masked[room:])

    def counts(self) -> dict[str, int]:
        return dict(self.tally)

    def to_dict(self) -> dict[str, object]:
        """What ``klx redact --json`` prints."""
        return {"input": self.input, "output": self.output, "bytes": self.bytes, "masked": self.masked,
                "unlisted": self.unlisted, "counts": self.counts()}  # fmt: skip


def _entries(found: list[Redaction], conn: int | None = None) -> list[dict[str, object]]:
    return [
        {"kind": r.kind, "offset": r.offset, "length": r.length, **({"connection": conn} if conn is not None else {})}
        for r in found
    ]


def redact_file(src: str | Path, dest: str | Path, *, codes: bool = False) -> RedactionReport:
    """Write a redacted copy of a raw job or a recording (same kind, same length, same chunking)."""
    if Path(src).resolve() == Path(dest).resolve():
        raise InputError(f"{dest}: refusing to overwrite the input", remedy="write the redacted copy elsewhere")
    report = RedactionReport(str(src), str(dest))
    if not is_recording(src):
        _redact_raw(src, dest, codes, report)
        return report
    _redact_recording(src, dest, codes, report)
    return report


def _redact_raw(src: str | Path, dest: str | Path, codes: bool, report: RedactionReport) -> None:
    """A raw job, block by block: one pass for the encoding evidence, one to mask and write."""
    redactor = StreamingRedactor(codes=codes, evidence=gather_evidence(read_blocks(src)))
    try:
        with open(dest, "wb") as out:
            for block in read_blocks(src):
                out.write(redactor.feed(block))
                report.bytes += len(block)
                report.add(_entries(redactor.take_found()))
            out.write(redactor.close())
            report.add(_entries(redactor.take_found()))
    except OSError as exc:
        raise InputError(f"{dest}: cannot write ({exc.strerror or exc})") from None


def _evidence(src: str | Path) -> tuple[Header, dict[int, TextEvidence]]:
    """First pass over a recording: its header and each connection's encoding evidence."""
    chunks = stream_recording(src)  # every line checked as read_recording checks it, no chunk kept
    decoders: dict[int, tuple[StreamDecoder, TextEvidence]] = {}
    for chunk in chunks:
        if chunk.direction == TO_PRINTER:
            decoder, evidence = decoders.setdefault(chunk.conn, (StreamDecoder(), TextEvidence()))
            evidence.add(decoder.feed(chunk.data))
    for decoder, evidence in decoders.values():
        evidence.add(decoder.close())
    assert chunks.header is not None  # the iteration raised otherwise ('empty file')
    return chunks.header, {conn: evidence for conn, (_, evidence) in decoders.items()}


def _redact_recording(src: str | Path, dest: str | Path, codes: bool, report: RedactionReport) -> None:
    """A recording, chunk by chunk: same chunks, times and order; the data to the printer masked."""
    source, evidence = _evidence(src)
    kinds = "phone, card, iban, national_id, email, member" + (", codes" if codes else "")
    header = Header(source.source, source.started, source.klx_version, {**source.notes, "redacted": kinds})
    redactors = {conn: StreamingRedactor(codes=codes, evidence=ev) for conn, ev in evidence.items()}
    parts: dict[int, RedactionReport] = {conn: RedactionReport("", "") for conn in evidence}  # first-seen order
    released: dict[int, bytearray] = {conn: bytearray() for conn in evidence}  # masked, not yet written
    waiting: deque[Chunk] = deque()  # read, not yet written (in order: a chunk waits for the ones before it)

    def write_ready(writer: RecordingWriter) -> None:
        while waiting:
            chunk = waiting[0]
            data = chunk.data
            if chunk.direction == TO_PRINTER:
                ready = released[chunk.conn]
                if len(ready) < len(data):
                    return
                data = bytes(ready[: len(data)])
                del ready[: len(data)]
            waiting.popleft()
            writer.write(Chunk(chunk.t, chunk.direction, chunk.conn, data))
            report.bytes += len(data)

    chunks = stream_recording(src)
    with RecordingWriter(dest, header) as writer:
        for chunk in chunks:
            if chunk.direction == TO_PRINTER:
                redactor = redactors[chunk.conn]
                released[chunk.conn] += redactor.feed(chunk.data)
                parts[chunk.conn].add(_entries(redactor.take_found(), chunk.conn))
            waiting.append(chunk)
            write_ready(writer)
        for conn, redactor in redactors.items():
            released[conn] += redactor.close()
            parts[conn].add(_entries(redactor.take_found(), conn))
        write_ready(writer)
    for part in parts.values():
        report.merge(part)
    if waiting:  # the file changed between the two passes
        raise InputError(f"{src}: changed while it was being redacted", remedy=f"redact it again into {dest}")


class RedactingSink:
    """Wraps a recording sink so that what reaches the file is redacted; printing is unaffected."""

    def __init__(self, write: Callable[[Chunk], None], *, codes: bool = False) -> None:
        self.write = write
        self.codes = codes
        self._redactors: dict[int, StreamingRedactor] = {}
        self.found: list[Redaction] = []

    def __call__(self, chunk: Chunk) -> None:
        if chunk.direction != TO_PRINTER:
            self.write(chunk)
            return
        redactor = self._redactors.setdefault(chunk.conn, StreamingRedactor(codes=self.codes))
        released = redactor.feed(chunk.data)
        if released:
            self.write(Chunk(chunk.t, chunk.direction, chunk.conn, released))

    def drop(self, chunks: int, size: int) -> None:
        """Chunks the capture could not hand over in time: the wrapped sink counts them as lost."""
        drop = getattr(self.write, "drop", None)
        if callable(drop):
            drop(chunks, size)

    def end_connection(self, conn: int) -> None:
        redactor = self._redactors.pop(conn, None)
        if redactor is not None:
            rest = redactor.close()
            self.found += redactor.found
            if rest:
                self.write(Chunk(time.time(), TO_PRINTER, conn, rest))

    def close(self) -> None:
        for conn in list(self._redactors):
            self.end_connection(conn)
