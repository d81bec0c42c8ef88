"""Redacting files (raw jobs and recordings) and live recordings.

A raw job is redacted block by block in two passes (the first only gathers the encoding evidence,
so the codecs are those a whole-file redaction would choose): memory stays a few blocks whatever
the file's size, and the output is byte for byte that of ``redact_stream`` over the whole file.
The report lists the first ``LISTED`` masked places one by one and counts them all."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk, Header
from kelaile_cli.core.formats.redact import Redaction, StreamingRedactor, gather_evidence, redact_stream
from kelaile_cli.services.capture.recorder import RecordingWriter, is_recording, read_recording
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
    rec = read_recording(src)
    masked_streams: dict[int, bytes] = {}
    for conn, chunks in rec.by_connection(TO_PRINTER).items():
        masked, found = redact_stream(b"".join(c.data for c in chunks), codes=codes)
        masked_streams[conn] = masked
        report.add(_entries(found, conn))
    kinds = "phone, card, iban, national_id, email, member" + (", codes" if codes else "")
    notes = {**rec.header.notes, "redacted": kinds}
    header = Header(rec.header.source, rec.header.started, rec.header.klx_version, notes)
    pos: dict[int, int] = {}
    with RecordingWriter(dest, header) as writer:
        for chunk in rec.chunks:
            data = chunk.data
            if chunk.direction == TO_PRINTER:  # slice the masked stream back into the original reads
                at = pos.get(chunk.conn, 0)
                data = masked_streams[chunk.conn][at : at + len(chunk.data)]
                pos[chunk.conn] = at + len(chunk.data)
            writer.write(Chunk(chunk.t, chunk.direction, chunk.conn, data))
            report.bytes += len(data)
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
