"""``klx show``, ``klx parse``, ``klx printers``: look at print jobs in files.

These three are declared with plain click, not typer: they are the commands run most often, one file at
a time, and typer 0.29 imports itself and builds a pydantic validator for every parameter at each start
(see docs/performance.md, "Start-up"). Same options, help texts, aliases and exit codes as before; their
``--help`` is click's plain layout instead of typer's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from kelaile_cli.cli.clickopts import (
    CONTEXT,
    HELP,
    decode_click_options,
    decode_options,
    files_click_argument,
    load_sources,
    profiles_click_option,
    write_out,
)
from kelaile_cli.cli.console import emit_json, emit_utf8, err, escape, out, to_json
from kelaile_cli.services import jobs

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from kelaile_cli.core.stream.receipt import Receipt

__all__ = ["FORMATS", "parse", "printers", "show"]

#: ``--format`` of ``klx show``
FORMATS = ("rich", "text", "html", "png")
_FILES = f"FILES: {HELP['files']}"


@click.command(
    "show",
    context_settings=CONTEXT,
    help=f"Show receipts as they would come out of the printer (or, with --dump, byte by byte).\n\n{_FILES}",
)
@files_click_argument
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="rich", show_default=True,
    help="How to show each receipt.",
)  # fmt: skip
@click.option(
    "--output", "-o", "--out", "out_path", type=click.Path(path_type=Path), default=None,
    help="Write here (text/html: a file; png: a .png file, numbered when several, or a directory).",
)  # fmt: skip
@click.option("--dump", is_flag=True, help="Annotated byte dump: each byte beside its command.")
@decode_click_options
def show(
    files: Sequence[Path],
    fmt: str,
    out_path: Path | None,
    dump: bool,
    encoding: str | None,
    model: str,
    printer: str | None,
    width: int | None,
    dialect: str | None,
) -> None:
    """``klx show`` (its help text is click's ``help=`` above)."""
    options = decode_options(encoding, model, width, dialect, printer)
    sources, code = load_sources(files)
    # text and HTML are written receipt by receipt, as each job is decoded: memory stays flat however big the input
    stream = jobs.open_output(out_path) if fmt in ("text", "html") and not dump else None
    if stream is not None and fmt == "html":
        from kelaile_cli.core.render.html import html_head

        stream.write(html_head("klx show"))
    for source in sources:
        if dump:
            _dump(source, options, fmt, out_path)
            continue
        receipts = jobs.iter_receipts(source, options)
        if stream is not None:
            _write_receipts(stream, receipts, fmt, source.name)
        elif fmt == "rich":
            _show_rich(source.name, receipts)
        else:
            for path in jobs.write_pngs(source, list(receipts), out_path):
                out.print(f"wrote {escape(str(path))}")
    if stream is not None:
        if fmt == "html":
            from kelaile_cli.core.render.html import HTML_TAIL

            stream.write(HTML_TAIL)
        jobs.close_output(stream)
        if out_path and fmt == "html":
            out.print(f"wrote {escape(str(out_path))}")
    click.get_current_context().exit(code)


def _write_receipts(stream: TextIO, receipts: Iterable[Receipt], fmt: str, name: str) -> None:
    if fmt == "text":
        from kelaile_cli.core.render.text import render_text

        for r in receipts:
            stream.write(render_text(r) + "\n")
    else:
        from kelaile_cli.core.render.html import html_receipt

        for r in receipts:
            stream.write(html_receipt(r, name))


def _dump(source: jobs.Source, options: jobs.DecodeOptions, fmt: str, out_path: Path | None) -> None:
    from kelaile_cli.core.render.dump import dump_rich, format_dump

    rows = jobs.dump_source(source, options)
    if fmt == "text":
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


@click.command(
    "parse",
    context_settings=CONTEXT,
    help="Parse print jobs into structured receipts (text, codes, images, warnings, the POS that printed them)."
    f"\n\n{_FILES}",
)
@files_click_argument
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per receipt.")
@profiles_click_option
@decode_click_options
def parse(
    files: Sequence[Path],
    as_json: bool,
    profiles: Sequence[Path],
    encoding: str | None,
    model: str,
    printer: str | None,
    width: int | None,
    dialect: str | None,
) -> None:
    """``klx parse`` (its help text is click's ``help=`` above)."""
    from kelaile_cli.services.profiles.library import load_detection

    options = decode_options(encoding, model, width, dialect, printer)
    loaded = load_detection(list(profiles))  # rules only: a winner's full profile is built when needed
    for error in loaded.errors:
        err.print(f"[bold red]klx: error:[/] {escape(str(error))}", soft_wrap=True)
    detector = loaded.detector()
    sources, code = load_sources(files)
    if as_json:
        for source in sources:
            # each receipt as soon as the chunk (256 KB, or a recording's connection) that completes it is decoded
            for batch in jobs.iter_receipt_batches(source, options):
                parts: list[bytes] = []  # the batch's records in UTF-8 pieces, joined once (console.emit_utf8)
                for receipt in batch:
                    jobs.receipt_json_utf8(parts, source, receipt, detector, to_json)
                    parts.append(b"\n")
                emit_utf8(parts)
    else:
        _parse_table(sources, options, detector)
    click.get_current_context().exit(code)


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


@click.command(
    "printers", context_settings=CONTEXT, help="List printer models known to the capability database (for --model)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
def printers(as_json: bool) -> None:
    """``klx printers`` (its help text is click's ``help=`` above)."""
    from kelaile_cli.core.stream.encoding import printer_models

    models = printer_models()
    if as_json:
        emit_json(models)
    else:
        out.print("\n".join(models))
