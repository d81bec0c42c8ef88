"""Look at print jobs from files: decode, render, describe. The work behind ``klx show`` and ``klx parse``."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kelaile_cli.core.encoding import DEFAULT_CODEC, codec_for_codepage, decode_text
from kelaile_cli.core.errors import InputError
from kelaile_cli.core.escpos.events import Command, Text
from kelaile_cli.core.printstream import (
    DecodeOptions,
    TextEvidence,
    choose_text_setup,
    decode_events,
    normalise_codec,
    read_receipts,
)
from kelaile_cli.core.receipt import Receipt
from kelaile_cli.core.render.dump import DumpRow, dump_rows
from kelaile_cli.core.render.png import render_png
from kelaile_cli.core.render.text import render_text
from kelaile_cli.services.fonts import load_receipt_font
from kelaile_cli.transports.files import read_bytes

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

SAMPLE_NAME = "sample.bin"


@dataclass(frozen=True, slots=True)
class Source:
    """A print stream and the name a user knows it by (its path)."""

    name: str
    data: bytes


def load_source(path: str | Path) -> Source:
    """Read a raw print job (``.bin``/``.prn``/any bytes) from a file."""
    return Source(str(path), read_bytes(path))


def sample_source() -> Source:
    """The sample stream bundled with klx (several receipts from different POS styles)."""
    data = (resources.files("kelaile_cli") / "data" / SAMPLE_NAME).read_bytes()
    return Source(f"<bundled {SAMPLE_NAME}>", data)


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
    from kelaile_cli.core.encoding import printer_models

    if options.printer not in printer_models():
        raise InputError(
            f"--printer {options.printer}: not in the printer database",
            remedy="see `klx printers` for known models",
        )


def source_receipts(source: Source, options: DecodeOptions) -> list[Receipt]:
    return read_receipts(source.data, options)


def receipt_record(source: Source, receipt: Receipt) -> dict[str, Any]:
    """The JSON object ``klx parse --json`` prints for one receipt."""
    return {
        "source": source.name,
        "index": receipt.index,
        "text": render_text(receipt, markers=False),
        "encoding": receipt.encoding,
        "width": receipt.width,
        "dialect": receipt.dialect,
        "cut": receipt.cut,
        "offset": {"start": receipt.start, "end": receipt.end},
        "codes": [{"symbology": c.symbology, "data": c.data, "offset": c.start} for c in receipt.codes],
        "images": [
            {"width": i.width, "height": i.height, "source": i.source, "key": i.key, "offset": i.start}
            for i in receipt.images
        ],
        "drawer_kicks": [{"pin": d.pin, "offset": d.start} for d in receipt.drawer_kicks],
        "queries": receipt.queries,
        "warnings": [w.to_dict() for w in receipt.warnings],
    }


def dump_source(source: Source, options: DecodeOptions) -> list[DumpRow]:
    """The annotated byte dump of a stream, each text run previewed in the encoding in force."""
    events, _ = decode_events(source.data, options.dialect)
    evidence = TextEvidence()
    evidence.add(events)
    setup = choose_text_setup(evidence, options)
    cjk = setup.cjk_default
    codecs: dict[int, str] = {}
    codepage = 0
    for ev in events:
        if isinstance(ev, Command):
            if ev.op == "cjk_on":
                cjk = True
            elif ev.op == "cjk_off":
                cjk = False
            elif ev.op == "codepage":
                codepage = int(ev.params.get("n", 0))
            elif ev.op == "init":
                cjk, codepage = setup.cjk_default, 0
        elif isinstance(ev, Text):
            codecs[ev.offset] = (
                setup.cjk_codec
                if cjk and setup.cjk_codec
                else setup.codepage_codec or codec_for_codepage(codepage, options.printer) or DEFAULT_CODEC
            )
    by_offset = iter(codecs.values())
    return dump_rows(events, text_decoder=lambda raw: decode_text(raw, next(by_offset))[0])


def write_pngs(source: Source, receipts: list[Receipt], out: Path | None) -> list[Path]:
    """Render each receipt to a PNG. ``out`` is a file (one receipt), a name stem or a directory."""
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
