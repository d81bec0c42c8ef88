"""``klx show``, ``klx parse``, ``klx printers``: look at print jobs in files."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import track
from rich.rule import Rule
from rich.table import Table

from kelaile_cli.cli.base import (
    DialectOpt,
    EncodingOpt,
    FilesArg,
    PrinterOpt,
    WidthOpt,
    app,
    decode_options,
    err,
    load_sources,
    out,
    say_error,
    write_out,
)
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.render.dump import dump_rich, format_dump
from kelaile_cli.core.render.html import HTML_TAIL, html_head, html_receipt
from kelaile_cli.core.render.terminal import render_rich
from kelaile_cli.core.render.text import render_text
from kelaile_cli.services import jobs
from kelaile_cli.services.profiles.library import load_profiles


class Format(StrEnum):
    rich = "rich"
    text = "text"
    html = "html"
    png = "png"


@app.command()
def show(
    files: FilesArg = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="How to show each receipt.")] = Format.rich,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write here (html: a file; png: a file, stem or directory)."),
    ] = None,
    dump: Annotated[bool, typer.Option("--dump", help="Annotated byte dump: each byte beside its command.")] = False,
    encoding: EncodingOpt = None,
    printer: PrinterOpt = "default",
    width: WidthOpt = None,
    dialect: DialectOpt = None,
) -> None:
    """Show receipts as they would come out of the printer (or, with --dump, byte by byte)."""
    options = decode_options(encoding, printer, width, dialect)
    sources, code = load_sources(files)
    stream = jobs.open_output(out_path) if fmt in (Format.text, Format.html) and not dump else None
    if stream is not None and fmt is Format.html:
        stream.write(html_head("klx show"))
    for source in sources:
        if dump:
            rows = jobs.dump_source(source, options)
            if fmt is Format.text:
                write_out(format_dump(rows) + "\n", out_path)
            else:
                out.print(Rule(escape(source.name)))
                out.print(dump_rich(rows))
            continue
        receipts = jobs.iter_receipts(source, options)  # each as soon as its job is decoded
        if stream is not None:
            for r in receipts:
                stream.write(render_text(r) + "\n" if fmt is Format.text else html_receipt(r, source.name))
        elif fmt is Format.rich:
            for r in receipts:
                out.print(Rule(f"{escape(source.name)} · receipt {r.index + 1} · {r.encoding} · {r.width} cols"))
                out.print(render_rich(r))
                for w in r.warnings[:5]:
                    out.print(f"[yellow]warning[/] @{w.offset:#x}: {escape(w.message)}")
                if len(r.warnings) > 5:
                    out.print(f"[yellow]… {len(r.warnings) - 5} more warnings (klx parse --json)[/]")
        else:
            for path in jobs.write_pngs(source, list(receipts), out_path):
                out.print(f"wrote {escape(str(path))}")
    if stream is not None:
        if fmt is Format.html:
            stream.write(HTML_TAIL)
        jobs.close_output(stream)
        if out_path and fmt is Format.html:
            out.print(f"wrote {escape(str(out_path))}")
    raise typer.Exit(code)


@app.command()
def parse(
    files: FilesArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines: one object per receipt.")] = False,
    profiles: Annotated[
        list[Path] | None,
        typer.Option("--profiles", help="Extra profile directory (repeatable); also KLX_PROFILES_PATH."),
    ] = None,
    encoding: EncodingOpt = None,
    printer: PrinterOpt = "default",
    width: WidthOpt = None,
    dialect: DialectOpt = None,
) -> None:
    """Parse print jobs into structured receipts (text, codes, images, warnings, the POS that printed them)."""
    options = decode_options(encoding, printer, width, dialect)
    loaded = load_profiles(profiles or [])
    for error in loaded.errors:
        say_error(error)
    detector = Detector(loaded.profiles)
    sources, code = load_sources(files)
    table = Table("source", "#", "profile", "kind", "lines", "codes", "encoding", "width", "warnings", box=None)
    progress = track(
        sources,
        description="parsing",
        console=err,
        transient=True,
        disable=len(sources) < 3 or not err.is_terminal,
    )
    for source in progress:
        for receipt in jobs.iter_receipts(source, options):
            record = jobs.receipt_record(source, receipt, detector)
            if as_json:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                table.add_row(
                    escape(source.name),
                    str(receipt.index + 1),
                    escape(record["profile"] or "unknown"),
                    escape(record["kind"] or "-"),
                    str(len(receipt.lines)),
                    escape(", ".join(f"{c['symbology']}:{c['data'][:24]}" for c in record["codes"])),
                    receipt.encoding,
                    str(receipt.width),
                    str(len(receipt.warnings)),
                )
    if not as_json and table.row_count:
        out.print(table)
    raise typer.Exit(code)


@app.command()
def printers(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False,
) -> None:
    """List printer models known to the capability database (for --printer)."""
    from kelaile_cli.core.stream.encoding import printer_models

    models = printer_models()
    if as_json:
        sys.stdout.write(json.dumps(models) + "\n")
    else:
        out.print("\n".join(models))
