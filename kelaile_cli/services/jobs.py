"""Look at print jobs from files: decode, render, describe. The work behind ``klx show`` and ``klx parse``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_PRINTER, Recording, parse_recording
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.encoding import decode_text
from kelaile_cli.core.stream.printstream import (
    CodecTracker,
    DecodeOptions,
    PrintStream,
    decode_events,
    normalise_codec,
    read_receipts,
    stream_text_setup,
)
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.services.capture.recorder import is_recording, read_recording
from kelaile_cli.transports.files import read_bytes

if TYPE_CHECKING:  # imported where used: ``klx parse --json`` needs neither PIL nor the dump tables
    from kelaile_cli.core.profiles.detect import Detector
    from kelaile_cli.core.render.dump import DumpRow

__all__ = [
    "SAMPLE_NAME",
    "Source",
    "check_options",
    "dump_source",
    "load_source",
    "receipt_record",
    "sample_source",
    "source_receipts",
    "write_pngs",
]

SAMPLE_NAME = "sample.klr"


@dataclass(frozen=True, slots=True)
class Source:
    """A print stream and the name a user knows it by (its path).

    ``data`` is everything sent to the printer; a recording also keeps its chunks, so receipts get
    capture times, connections split jobs, and idle gaps count.
    """

    name: str
    data: bytes
    recording: Recording | None = None


def load_source(path: str | Path) -> Source:
    """Read a recording (``.klr``, ``.klr.gz``) or a raw print job (``.bin``/``.prn``/any bytes)."""
    if is_recording(path):
        rec = read_recording(path)
        return Source(str(path), rec.stream(TO_PRINTER), rec)
    return Source(str(path), read_bytes(path))


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
    rec = source.recording
    if rec is None:
        return read_receipts(source.data, options)
    setup = stream_text_setup(source.data, options)
    receipts: list[Receipt] = []
    for conn in rec.connections():
        stream = PrintStream(options, text_setup=setup)
        found: list[Receipt] = []
        for chunk in rec.chunks:
            if chunk.conn == conn and chunk.direction == TO_PRINTER:
                found += stream.feed(chunk.data, chunk.t)
        found += stream.close()
        for r in found:
            r.connection = conn
        receipts += found
    for i, r in enumerate(receipts):
        r.index = i
    return receipts


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
        "width": receipt.width,
        "dialect": receipt.dialect,
        "cut": receipt.cut,
        "offset": {"start": receipt.start, "end": receipt.end},
        "time": _iso(receipt.timestamp) if receipt.timestamp is not None else None,
        "connection": receipt.connection,
        "codes": [{"symbology": c.symbology, "data": c.data, "offset": c.start} for c in receipt.codes],
        "images": [
            {"width": i.width, "height": i.height, "source": i.source, "key": i.key, "offset": i.start}
            for i in receipt.images
        ],
        "drawer_kicks": [{"pin": d.pin, "offset": d.start} for d in receipt.drawer_kicks],
        "queries": receipt.queries,
        "warnings": [w.to_dict() for w in receipt.warnings],
        **identity,
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dump_source(source: Source, options: DecodeOptions) -> list[DumpRow]:
    """The annotated byte dump of a stream, each text run previewed in the encoding in force."""
    from kelaile_cli.core.render.dump import dump_rows

    events, _ = decode_events(source.data, options.dialect)
    codecs = CodecTracker(options).codecs(events)
    return dump_rows(events, text_decoder=lambda raw, offset: decode_text(raw, codecs.get(offset, "latin-1"))[0])


def write_pngs(source: Source, receipts: list[Receipt], out: Path | None) -> list[Path]:
    """Render each receipt to a PNG. ``out`` is a file (one receipt), a name stem or a directory."""
    from kelaile_cli.core.render.png import render_png
    from kelaile_cli.services.fonts import load_receipt_font

    font = load_receipt_font()
    stem = Path(source.name).stem if not source.name.startswith("<") else "sample"
    written = []
    for receipt in receipts:
        if out is None:
            path = Path(f"{stem}-{receipt.index + 1}.png")
        elif out.is_dir():
            path = out / f"{stem}-{receipt.index + 1}.png"
        elif len(receipts) == 1:
            path = out
        else:
            path = out.with_name(f"{out.stem}-{receipt.index + 1}{out.suffix or '.png'}")
        try:
            path.write_bytes(render_png(receipt, font=font))
        except OSError as exc:
            raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        written.append(path)
    return written
