"""Look at print jobs from files: decode, render, describe. The work behind ``klx show`` and ``klx parse``."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.escpos.events import Event
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk, ConnectionPlan, Recording, parse_recording
from kelaile_cli.core.render.record_json import from_utf8, json_scalar, members_json, receipt_head_utf8, utf8
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.encoding import decode_text
from kelaile_cli.core.stream.layout import TextSetup
from kelaile_cli.core.stream.printstream import (
    CodecTracker,
    DecodeOptions,
    PrintStream,
    TextEvidence,
    choose_text_setup,
    decode_events,
    normalise_codec,
    stream_text_setup,
)
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.services.capture.recorder import is_recording, read_recording, scan_recording, stream_recording
from kelaile_cli.transports.files import read_bytes

if TYPE_CHECKING:  # imported where used: ``klx parse --json`` needs neither PIL nor the dump tables
    from kelaile_cli.core.profiles.detect import Detector
    from kelaile_cli.core.render.dump import DumpRow

__all__ = [
    "PRESCAN_BYTES",
    "SAMPLE_NAME",
    "Source",
    "check_options",
    "close_output",
    "dump_source",
    "iter_receipt_batches",
    "iter_receipts",
    "load_source",
    "open_output",
    "receipt_json",
    "receipt_json_utf8",
    "receipt_record",
    "sample_source",
    "source_receipts",
    "write_pngs",
]

SAMPLE_NAME = "sample.klr"


#: a raw file is decoded this much at a time. Small enough that one chunk's events and receipts stay
#: under the cycle collector's young-generation threshold (``runtime.GC_THRESHOLDS``) and die before it
#: runs: at 1 MB every chunk set off a collection that walked them all (28 collections, ~20 % of the CPU
#: of a 24 MB parse; at 256 KB: 5, ~1.5 %)
CHUNK_BYTES = 1 << 18
PRESCAN_BYTES = 8 << 20  # the text encoding of a raw file is decided from this much of its start


class Source:
    """A print stream and the name a user knows it by (its path).

    ``data`` is everything sent to the printer; a raw file given by ``path`` is read only when
    ``data`` is asked for, so ``iter_receipts`` can stream it in constant memory. A recording also
    keeps its chunks, so receipts get capture times, connections split jobs, and idle gaps count.
    A streamed recording (``load_source(path, stream=True)``) keeps none: its ``recording`` holds the
    header and integrity only, ``plan`` what its first pass learnt, and its chunks are read again from
    ``path`` when decoded.
    """

    __slots__ = ("_data", "name", "path", "plan", "recording")

    def __init__(
        self,
        name: str,
        data: bytes | None = None,
        recording: Recording | None = None,
        path: Path | None = None,
        plan: ConnectionPlan | None = None,
    ) -> None:
        self.name = name
        self._data = data
        self.recording = recording
        self.path = path
        self.plan = plan

    @property
    def data(self) -> bytes:
        if self._data is None:
            if self.plan is not None and self.path is not None:
                self._data = b"".join(c.data for c in self._chunks_again() if c.direction == TO_PRINTER)
            else:
                self._data = read_bytes(self.path) if self.path is not None else b""
        return self._data

    def _chunks_again(self) -> Iterator[Chunk]:
        """A streamed recording's chunks, read from the file again: as many as the first pass found
        (a recording still being written may have grown since)."""
        assert self.plan is not None and self.path is not None
        return islice(stream_recording(self.path), self.plan.chunks)

    def chunks(self, limit: int | None = None) -> Iterator[bytes]:
        """The stream in pieces of ``CHUNK_BYTES`` (the first ``limit`` bytes only, when given)."""
        if self._data is not None or self.path is None:
            data = self.data if limit is None else self.data[:limit]
            for at in range(0, len(data), CHUNK_BYTES):
                yield data[at : at + CHUNK_BYTES]
            return
        left = limit
        try:
            with self.path.open("rb") as fh:
                while left is None or left > 0:
                    piece = fh.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
                    if not piece:
                        return
                    if left is not None:
                        left -= len(piece)
                    yield piece
        except OSError:
            read_bytes(self.path)  # raises the one-line InputError naming the file
            raise


def load_source(path: str | Path, *, stream: bool = False) -> Source:
    """Open a recording (``.klr``, ``.klr.gz``) or a raw print job (``.bin``/``.prn``/any bytes:
    checked readable now, read as it is decoded). A recording is read whole, or with ``stream`` checked
    now in one pass that keeps no chunk (its integrity and warnings are known at once) and read again
    as it is decoded: memory stays flat whatever its size."""
    if is_recording(path):
        if stream:
            summary, plan = scan_recording(path, PRESCAN_BYTES)
            return Source(str(path), recording=summary, path=Path(path), plan=plan)
        rec = read_recording(path)
        return Source(str(path), rec.stream(TO_PRINTER), rec)
    p = Path(path)
    if not p.is_file():
        read_bytes(p)  # the one-line error: missing, a directory, ...
    try:
        with p.open("rb"):
            pass
    except OSError:
        read_bytes(p)
    return Source(str(path), path=p)


def sample_source() -> Source:
    """The sample recording bundled with klx: a restaurant's pre-bill and final receipt."""
    from importlib import resources  # only for the bundled sample (it pulls in tempfile)

    data = (resources.files("kelaile_cli") / "data" / SAMPLE_NAME).read_bytes()
    rec = parse_recording(data, f"<bundled {SAMPLE_NAME}>")
    return Source(f"<bundled {SAMPLE_NAME}>", rec.stream(TO_PRINTER), rec)


def check_options(options: DecodeOptions) -> None:
    """Refuse option values that cannot work, before any file is touched."""
    if options.encoding:
        try:
            normalise_codec(options.encoding)
        except ValueError as exc:
            raise InputError(f"--encoding: {exc}", remedy="e.g. gb18030, big5, cp858") from None
    if options.width is not None and options.width not in (32, 42, 48):
        raise InputError(f"--width {options.width}: paper width must be 32, 42 or 48 columns")
    if options.dialect not in (None, "escpos", "star"):
        raise InputError(f"--dialect {options.dialect}: expected escpos or star")
    from kelaile_cli.core.stream.encoding import printer_models

    # "default" is always there: only another model needs the capability database (~100 KB of JSON) loaded
    if options.printer != "default" and options.printer not in printer_models():
        raise InputError(
            f"--model {options.printer}: not in the printer database",
            remedy="see `klx printers` for known models",
        )


def source_receipts(source: Source, options: DecodeOptions) -> list[Receipt]:
    """Receipts of a source; for a recording, connection by connection with capture times."""
    return list(iter_receipts(source, options))


def iter_receipts(source: Source, options: DecodeOptions) -> Iterator[Receipt]:
    """Receipts of a source, each yielded as soon as its job is complete.

    A raw file is read ``CHUNK_BYTES`` at a time and no event is kept past its job, so memory stays
    flat whatever the file's size. Its text encoding is decided first from its first
    ``PRESCAN_BYTES`` (the whole file when smaller). A recording goes connection by connection with
    capture times.
    """
    for batch in iter_receipt_batches(source, options):
        yield from batch


def iter_receipt_batches(source: Source, options: DecodeOptions) -> Iterator[list[Receipt]]:
    """The receipts of ``iter_receipts``, in the groups that complete together: those of one chunk of
    a raw file (``CHUNK_BYTES``), or of one connection of a recording. A writer that flushes once per
    group instead of once per receipt still shows each receipt as soon as its chunk is decoded."""
    rec = source.recording
    if rec is None:
        yield from _raw_batches(source, options)
        return
    if source.plan is not None:  # streamed: the encoding from the first PRESCAN_BYTES, as for a raw file
        setup = _head_text_setup(source.plan.head, options)
        yield from _connection_batches(source._chunks_again(), source.plan, setup, options)
        return
    setup = stream_text_setup(source.data, options)
    index = 0
    for conn, chunks in rec.by_connection(TO_PRINTER).items():  # one pass over the chunks, not one per connection
        stream = PrintStream(options, text_setup=setup)
        found: list[Receipt] = []
        for chunk in chunks:
            found += stream.feed(chunk.data, chunk.t)
        found += stream.close()
        for r in found:
            r.connection = conn
            r.index = index
            index += 1
        yield found


def _head_text_setup(head: bytearray, options: DecodeOptions) -> TextSetup:
    """``stream_text_setup(head)``, decoded 64 KiB at a time so that its events are not all held at
    once (a decoder's output does not depend on how its input is cut)."""
    decoder = StreamDecoder(dialect=options.dialect)
    evidence = TextEvidence()
    view = memoryview(head)
    for at in range(0, len(view), 1 << 16):
        evidence.add(decoder.feed(bytes(view[at : at + (1 << 16)])))
    evidence.add(decoder.close())
    return choose_text_setup(evidence, options)


#: a recording's receipts are given out in groups of about this many (one write and flush each for
#: ``klx parse --json``), or fewer at the file's end
RECORDING_GROUP = 256


def _connection_batches(
    chunks: Iterable[Chunk], plan: ConnectionPlan, setup: TextSetup, options: DecodeOptions
) -> Iterator[list[Receipt]]:
    """A recording's receipts connection by connection, read in one pass in file order: a connection's
    stream is closed at its last chunk (``plan``), and its receipts are ready as they are found once
    those of every connection that began before it are — the order of ``Recording.by_connection``.
    Ready receipts are given out ``RECORDING_GROUP`` at a time. Held: the streams of connections still
    open, and the receipts of connections that began after one still open (docs/recording-format.md)."""
    streams: dict[int, PrintStream] = {}  # connections still open
    found: dict[int, list[Receipt]] = {}  # receipts found and not yet ready, per connection begun
    begun: deque[int] = deque()  # connections not wholly ready, in order of first appearance
    ready: list[Receipt] = []
    resumes = plan.resumes
    current, printer, index = -1, -1, 0
    stream: PrintStream | None = None
    for chunk in chunks:
        if chunk.direction != TO_PRINTER:
            continue
        printer += 1
        conn = chunk.conn
        moved = False  # something may be ready: a connection ended, or the oldest one has receipts
        if conn != current or stream is None:
            if current in streams and current not in resumes:  # its only run is over
                found[current] += streams.pop(current).close()
                moved = True
            current = conn
            stream = streams.get(conn)
            if stream is None:
                stream = streams[conn] = PrintStream(options, text_setup=setup)
                if conn not in found:
                    found[conn] = []
                    begun.append(conn)
        new = stream.feed(chunk.data, chunk.t)
        if new:
            found[conn] += new
            moved = moved or conn == begun[0]
        if resumes and resumes.get(conn) == printer:  # its last chunk
            found[conn] += streams.pop(conn).close()
            stream, moved = None, True
        while moved and begun:
            head = begun[0]
            if head in streams:  # still open: what it has so far
                index = _number(head, found[head], index)
                ready += found[head]
                found[head] = []
                break
            index = _number(begun.popleft(), found[head], index)
            ready += found.pop(head)
        if len(ready) >= RECORDING_GROUP:
            yield ready
            ready = []
    for conn, stream in streams.items():
        found[conn] += stream.close()
    while begun:
        head = begun.popleft()
        index = _number(head, found[head], index)
        ready += found.pop(head)
    if ready:
        yield ready


def _number(conn: int, receipts: list[Receipt], index: int) -> int:
    """Give receipts their connection and running number from ``index``; the next number."""
    for r in receipts:
        r.connection = conn
        r.index = index
        index += 1
    return index


def _raw_batches(source: Source, options: DecodeOptions) -> Iterator[list[Receipt]]:
    """A raw file's receipts, chunk by chunk. Its first ``PRESCAN_BYTES`` are decoded first and their
    events kept (memory bounded by that size) until the text encoding is chosen from them; then those
    events are laid out and the same decoder goes on with the rest, so no byte is decoded twice."""
    decoder = StreamDecoder(dialect=options.dialect)
    evidence = TextEvidence()
    held: list[list[Event]] = []
    pieces = source.chunks()
    seen = 0
    rest = b""
    ended = False
    while seen < PRESCAN_BYTES:
        piece = next(pieces, None)
        if piece is None:
            ended = True
            break
        head, rest = piece[: PRESCAN_BYTES - seen], piece[PRESCAN_BYTES - seen :]
        events = decoder.feed(head)
        evidence.add(events)
        held.append(events)
        seen += len(head)
    if ended:
        events = decoder.close()
        evidence.add(events)
        held.append(events)
    else:  # the evidence of the first PRESCAN_BYTES as if the stream ended there
        evidence.add(decoder.preview_close())
    stream = PrintStream(options, text_setup=choose_text_setup(evidence, options), decoder=decoder)
    while held:
        yield stream.feed_events(held.pop(0))
    if rest:
        yield stream.feed(rest)
    for piece in pieces:
        yield stream.feed(piece)
    yield stream.close()


def receipt_record(source: Source, receipt: Receipt, detector: Detector | None = None) -> dict[str, Any]:
    """The JSON object ``klx parse --json`` prints for one receipt (with its POS when a detector is given)."""
    identity: dict[str, Any] = {}
    if detector is not None:
        from kelaile_cli.core.profiles.analysis import analyse

        identity = analyse(receipt, detector).identity()
    return {
        "source": source.name,
        "index": receipt.index,
        "text": render_text(receipt, markers=False),
        "encoding": receipt.encoding,
        "encoding_confidence": receipt.encoding_confidence,
        "encoding_evidence": receipt.encoding_evidence,
        "width": receipt.width,
        "dialect": receipt.dialect,
        "cut": receipt.cut,
        "offset": {"start": receipt.start, "end": receipt.end},
        "time": _iso(receipt.timestamp) if receipt.timestamp is not None else None,
        "connection": receipt.connection,
        "codes": [
            {"symbology": c.symbology, "data": c.data, "check_digit": c.check_digit, "offset": c.start}
            for c in receipt.codes
        ],
        "images": [
            {"width": i.width, "height": i.height, "source": i.source, "key": i.key, "offset": i.start}
            for i in receipt.images
        ],
        "drawer_kicks": [{"pin": d.pin, "offset": d.start} for d in receipt.drawer_kicks],
        "queries": receipt.queries,
        "warnings": [w.to_dict() for w in receipt.warnings],
        "recording": source.recording.integrity() if source.recording is not None else None,
        **identity,
    }


def receipt_json(source: Source, receipt: Receipt, detector: Detector | None, encode: Callable[[Any], str]) -> str:
    """``encode(receipt_record(source, receipt, detector))``, character for character, made faster.

    ``encode`` is the JSON style of the caller (``json.dumps(..., ensure_ascii=False)`` with its
    ``default``). ``klx parse --json`` prints one of these per receipt, and a general encoder spends
    most of its time on the record's fixed frame; here the frame is written out (compiled:
    ``core.render.record_json``) and ``encode`` is used for the parts whose shape is not fixed (the
    transaction, checks, recording, warnings). The one-line separators ``", "`` and ``": "`` are
    ``json.dumps``' defaults.
    """
    out: list[bytes] = []
    receipt_json_utf8(out, source, receipt, detector, encode)
    return from_utf8(b"".join(out))


def receipt_json_utf8(
    out: list[bytes], source: Source, receipt: Receipt, detector: Detector | None, encode: Callable[[Any], str]
) -> None:
    """``receipt_json`` in UTF-8, appended to ``out`` in pieces (``klx parse --json`` joins a whole batch's
    once and writes the bytes: ``console.emit_utf8``)."""
    receipt_head_utf8(out, source.name, receipt, _iso(receipt.timestamp) if receipt.timestamp is not None else None)
    if receipt.warnings or source.recording is not None:
        out.append(
            utf8(
                f', "warnings": {encode([w.to_dict() for w in receipt.warnings]) if receipt.warnings else "[]"}, '
                f'"recording": {encode(source.recording.integrity()) if source.recording is not None else "null"}'
            )
        )
    else:  # a raw file's receipt without warnings (most)
        out.append(b', "warnings": [], "recording": null')
    if detector is not None:
        from kelaile_cli.core.profiles.analysis import analyse

        analysis = analyse(receipt, detector)
        if analysis.profile is None:  # no profile knows it (``identity()``'s members, written out)
            out.append(
                f', "profile": null, "confidence": {json_scalar(analysis.confidence)}, "kind": null, '
                '"transaction": null, "checks": []}'.encode()
            )
            return
        out.append(utf8(members_json(analysis.identity(), encode)))
    out.append(b"}")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dump_source(source: Source, options: DecodeOptions) -> list[DumpRow]:
    """The annotated byte dump of a stream, each text run previewed in the encoding in force."""
    from kelaile_cli.core.render.dump import dump_rows

    events, _ = decode_events(source.data, options.dialect)
    codecs = CodecTracker(options).codecs(events)
    return dump_rows(events, text_decoder=lambda raw, offset: decode_text(raw, codecs.get(offset, "latin-1"))[0])


def open_output(path: Path | None) -> TextIO:
    """Where rendered receipts go as they are made: stdout, or the file ``path`` (UTF-8)."""
    if path is None:
        return sys.stdout
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def close_output(stream: TextIO) -> None:
    """Finish what ``open_output`` opened (stdout is flushed, a file closed)."""
    if stream is sys.stdout:
        stream.flush()
    else:
        stream.close()


def write_pngs(source: Source, receipts: list[Receipt], out: Path | None) -> list[Path]:
    """Render each receipt to a PNG. ``out``: a ``.png`` name (numbered ``NAME-2.png``… when there are several
    receipts), or a directory (anything else; created when missing), or None (here, named after the source)."""
    from kelaile_cli.core.render.png import render_png
    from kelaile_cli.services.fonts import load_receipt_font

    font = load_receipt_font()
    stem = Path(source.name).stem if not source.name.startswith("<") else "sample"
    if out is not None and out.suffix.lower() != ".png" and not out.is_dir():
        try:
            out.mkdir(parents=True)
        except OSError as exc:
            raise InputError(f"{out}: cannot create the directory ({exc.strerror or exc})",
                             remedy="give a writable directory, or a file name ending in .png") from None  # fmt: skip
    written = []
    for receipt in receipts:
        if out is None:
            path = Path(f"{stem}-{receipt.index + 1}.png")
        elif out.is_dir():
            path = out / f"{stem}-{receipt.index + 1}.png"
        elif len(receipts) == 1:
            path = out
        else:
            path = out.with_name(f"{out.stem}-{receipt.index + 1}.png")
        try:
            path.write_bytes(render_png(receipt, font=font))
        except OSError as exc:
            raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        written.append(path)
    return written
