"""Redacting files (raw jobs and recordings) and live recordings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk, Header
from kelaile_cli.core.formats.redact import Redaction, StreamingRedactor, redact_stream
from kelaile_cli.services.capture.recorder import RecordingWriter, is_recording, read_recording
from kelaile_cli.transports.files import read_bytes

__all__ = ["RedactingSink", "RedactionReport", "redact_file"]


@dataclass(slots=True)
class RedactionReport:
    input: str
    output: str
    bytes: int = 0
    masked: list[dict[str, object]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.masked:
            out[str(m["kind"])] = out.get(str(m["kind"]), 0) + 1
        return out


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
        data = read_bytes(src)
        masked, found = redact_stream(data, codes=codes)
        try:
            Path(dest).write_bytes(masked)
        except OSError as exc:
            raise InputError(f"{dest}: cannot write ({exc.strerror or exc})") from None
        report.bytes, report.masked = len(data), _entries(found)
        return report
    rec = read_recording(src)
    masked_streams: dict[int, bytes] = {}
    for conn, chunks in rec.by_connection(TO_PRINTER).items():
        masked, found = redact_stream(b"".join(c.data for c in chunks), codes=codes)
        masked_streams[conn] = masked
        report.masked += _entries(found, conn)
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
