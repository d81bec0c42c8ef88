"""``klx show``, ``klx parse``, ``klx printers``: look at print jobs in files."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from kelaile_cli.cli.console import emit_json, err, escape, out
from kelaile_cli.cli.options import (
    DialectOpt,
    EncodingOpt,
    FilesArg,
    ModelOpt,
    PrinterAliasOpt,
    ProfilesOpt,
    WidthOpt,
    decode_options,
    load_sources,
    write_out,
)
from kelaile_cli.services import jobs

if TYPE_CHECKING:
    from kelaile_cli.core.stream.receipt import Receipt

app = typer.Typer(rich_markup_mode="rich", add_completion=False)


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
        typer.Option("--output", "-o", "--out", help="Write here (html: a file; png: a file, stem or directory)."),
    ] = None,
    dump: Annotated[bool, typer.Option("--dump", help="Annotated byte dump: each byte beside its command.")] = False,
    encoding: EncodingOpt = None,
    model: ModelOpt = "default",
    printer: PrinterAliasOpt = None,
    width: WidthOpt = None,
    dialect: DialectOpt = None,
) -> None:
    """Show receipts as they would come out of the printer (or, with --dump, byte by byte)."""
    options = decode_options(encoding, model, width, dialect, printer)
    sources, code = load_sources(files)
    # text and HTML are written receipt by receipt, as each job is decoded: memory stays flat however big the input
    stream = jobs.open_output(out_path) if fmt in (Format.text, Format.html) and not dump else None
    if stream is not None and fmt is Format.html:
        from kelaile_cli.core.render.html import html_head

        stream.write(html_head("klx show"))
    for source in sources:
        if dump:
            _dump(source, options, fmt, out_path)
            continue
        receipts = jobs.iter_receipts(source, options)
        if stream is not None:
            _write_receipts(stream, receipts, fmt, source.name)
        elif fmt is Format.rich:
            _show_rich(source.name, receipts)
        else:
            for path in jobs.write_pngs(source, list(receipts), out_path):
                out.print(f"wrote {escape(str(path))}")
    if stream is not None:
        if fmt is Format.html:
            from kelaile_cli.core.render.html import HTML_TAIL

            stream.write(HTML_TAIL)
        jobs.close_output(stream)
        if out_path and fmt is Format.html:
            out.print(f"wrote {escape(str(out_path))}")
    raise typer.Exit(code)


def _write_receipts(stream: TextIO, receipts: Iterable[Receipt], fmt: Format, name: str) -> None:
    if fmt is Format.text:
        from kelaile_cli.core.render.text import render_text

        for r in receipts:
            stream.write(render_text(r) + "\n")
    else:
        from kelaile_cli.core.render.html import html_receipt

        for r in receipts:
            stream.write(html_receipt(r, name))


def _dump(source: jobs.Source, options: jobs.DecodeOptions, fmt: Format, out_path: Path | None) -> None:
    from kelaile_cli.core.render.dump import dump_rich, format_dump

    rows = jobs.dump_source(source, options)
    if fmt is Format.text:
        write_out(format_dump(rows) + "\n", out_path)
    else:
        from rich.rule import Rule

        out.print(Rule(escape(source.name)))
        out.print(dump_rich(rows))


def _show_rich(name: str, receipts: Iterable[Receipt]) -> None:
    from rich.rule import Rule

    from kelaile_cli.core.render.terminal import render_rich

    for r in receipts:
        out.print(Rule(f"{escape(name)} · receipt {r.index + 1} · {r.encoding} · {r.width} cols"))
        out.print(render_rich(r))
        for w in r.warnings[:5]:
            out.print(f"[yellow]warning[/] @{w.offset:#x}: {escape(w.message)}")
        if len(r.warnings) > 5:
            out.print(f"[yellow]… {len(r.warnings) - 5} more warnings (klx parse --json)[/]")


@app.command()
def parse(
    files: FilesArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines: one object per receipt.")] = False,
    profiles: ProfilesOpt = None,
    encoding: EncodingOpt = None,
    model: ModelOpt = "default",
    printer: PrinterAliasOpt = None,
    width: WidthOpt = None,
    dialect: DialectOpt = None,
) -> None:
    """Parse print jobs into structured receipts (text, codes, images, warnings, the POS that printed them)."""
    from kelaile_cli.core.profiles.detect import Detector
    from kelaile_cli.services.profiles.library import load_profiles

    options = decode_options(encoding, model, width, dialect, printer)
    loaded = load_profiles(profiles or [])
    for error in loaded.errors:
        err.print(f"[bold red]klx: error:[/] {escape(str(error))}", soft_wrap=True)
    detector = Detector(loaded.profiles)
    sources, code = load_sources(files)
    if as_json:
        for source in sources:
            for receipt in jobs.iter_receipts(source, options):  # each as soon as its job is decoded
                emit_json(jobs.receipt_record(source, receipt, detector))
        raise typer.Exit(code)
    _parse_table(sources, options, detector)
    raise typer.Exit(code)


def _parse_table(sources: list[jobs.Source], options: jobs.DecodeOptions, detector: object) -> None:
    from rich.progress import track
    from rich.table import Table

    table = Table("source", "#", "profile", "kind", "lines", "codes", "encoding", "width", "warnings", box=None)
    progress = track(
        sources, description="parsing", console=err.get(), transient=True,
        disable=len(sources) < 3 or not err.is_terminal,
    )  # fmt: skip
    for source in progress:
        for receipt in jobs.iter_receipts(source, options):
            record = jobs.receipt_record(source, receipt, detector)  # type: ignore[arg-type]
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
    if table.row_count:
        out.print(table)


@app.command()
def printers(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False,
) -> None:
    """List printer models known to the capability database (for --model)."""
    from kelaile_cli.core.stream.encoding import printer_models

    models = printer_models()
    if as_json:
        emit_json(models)
    else:
        out.print("\n".join(models))
