"""The ``klx`` command line: thin commands over the library (see ARCHITECTURE.md)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track
from rich.rule import Rule
from rich.table import Table

from kelaile_cli import __version__
from kelaile_cli.cli.errors import ExitCode, run_guarded
from kelaile_cli.core.errors import KlxError
from kelaile_cli.core.printstream import DecodeOptions
from kelaile_cli.core.render.dump import dump_rich, format_dump
from kelaile_cli.core.render.html import render_html
from kelaile_cli.core.render.terminal import render_rich
from kelaile_cli.core.render.text import render_text
from kelaile_cli.services import inspect

app = typer.Typer(
    name="klx",
    help="Field toolkit for the Kelaile receipt box: decode, show and parse receipt-printer streams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 ok · 1 the job failed · 2 bad usage or input · 130 interrupted. "
    "Colour follows NO_COLOR.",
)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_flags = {"traceback": False}


def _version(value: bool) -> None:
    if value:
        out.print(f"klx {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    traceback: Annotated[bool, typer.Option("--traceback", help="Show Python tracebacks on errors.")] = False,
) -> None:
    """klx — decode, show and parse what a POS sends to its receipt printer."""
    _flags["traceback"] = traceback


# -- shared options -----------------------------------------------------------------------------
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        "-e",
        help="Force the text encoding (gb18030, big5, shift_jis, euc_kr, cp858, …) instead of detecting it.",
    ),
]
PrinterOpt = Annotated[
    str,
    typer.Option("--printer", help="Printer model (python-escpos capability database) for ESC t code pages."),
]
WidthOpt = Annotated[
    int | None, typer.Option("--width", "-w", help="Paper width in columns (32, 42, 48); inferred if unset.")
]
DialectOpt = Annotated[
    str | None, typer.Option("--dialect", help="Force the command set: escpos or star (detected if unset).")
]
FilesArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Print job files (.bin/.prn raw bytes). None: the bundled sample.", show_default=False),
]


def _options(encoding: str | None, printer: str, width: int | None, dialect: str | None) -> DecodeOptions:
    options = DecodeOptions(encoding=encoding, printer=printer, width=width, dialect=dialect)
    inspect.check_options(options)
    return options


def _sources(files: list[Path] | None) -> tuple[list[inspect.Source], int]:
    """Load every file; a file that cannot be read is reported on one line and skipped."""
    if not files:
        return [inspect.sample_source()], ExitCode.OK
    sources, code = [], ExitCode.OK
    for path in files:
        try:
            sources.append(inspect.load_source(path))
        except KlxError as exc:
            err.print(f"[bold red]klx: error:[/] {escape(str(exc))}", soft_wrap=True)
            code = ExitCode(exc.exit_code)
    return sources, code


class Format(str, Enum):
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
    options = _options(encoding, printer, width, dialect)
    sources, code = _sources(files)
    html_receipts = []
    for source in sources:
        if dump:
            rows = inspect.dump_source(source, options)
            if fmt is Format.text:
                _write(format_dump(rows) + "\n", out_path)
            else:
                out.print(Rule(escape(source.name)))
                out.print(dump_rich(rows))
            continue
        receipts = inspect.source_receipts(source, options)
        if fmt is Format.rich:
            for r in receipts:
                out.print(Rule(f"{escape(source.name)} · receipt {r.index + 1} · {r.encoding} · {r.width} cols"))
                out.print(render_rich(r))
                for w in r.warnings[:5]:
                    out.print(f"[yellow]warning[/] @{w.offset:#x}: {escape(w.message)}")
                if len(r.warnings) > 5:
                    out.print(f"[yellow]… {len(r.warnings) - 5} more warnings (klx parse --json)[/]")
        elif fmt is Format.text:
            _write("\n".join(render_text(r) for r in receipts) + "\n", out_path)
        elif fmt is Format.html:
            html_receipts.extend(receipts)
        else:
            for path in inspect.write_pngs(source, receipts, out_path):
                out.print(f"wrote {escape(str(path))}")
    if html_receipts:
        _write(render_html(html_receipts, title="klx show"), out_path)
        if out_path:
            out.print(f"wrote {escape(str(out_path))}")
    raise typer.Exit(code)


def _write(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise KlxError(f"{path}: cannot write ({exc.strerror or exc})") from None


@app.command()
def parse(
    files: FilesArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines: one object per receipt.")] = False,
    encoding: EncodingOpt = None,
    printer: PrinterOpt = "default",
    width: WidthOpt = None,
    dialect: DialectOpt = None,
) -> None:
    """Parse print jobs into structured receipts (text, codes, images, warnings with offsets)."""
    options = _options(encoding, printer, width, dialect)
    sources, code = _sources(files)
    table = Table("source", "#", "lines", "codes", "encoding", "width", "cut", "warnings", box=None)
    progress = track(
        sources, description="parsing", console=err, transient=True, disable=len(sources) < 3 or not err.is_terminal
    )
    for source in progress:
        for receipt in inspect.source_receipts(source, options):
            record = inspect.receipt_record(source, receipt)
            if as_json:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                table.add_row(
                    escape(source.name),
                    str(receipt.index + 1),
                    str(len(receipt.lines)),
                    escape(", ".join(f"{c['symbology']}:{c['data'][:24]}" for c in record["codes"])),
                    receipt.encoding,
                    str(receipt.width),
                    receipt.cut or "-",
                    str(len(receipt.warnings)),
                )
    if not as_json:
        out.print(table)
    raise typer.Exit(code)


@app.command()
def printers(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False,
) -> None:
    """List printer models known to the capability database (for --printer)."""
    from kelaile_cli.core.encoding import printer_models

    models = printer_models()
    if as_json:
        sys.stdout.write(json.dumps(models) + "\n")
    else:
        out.print("\n".join(models))


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_guarded(app, err, lambda: _flags["traceback"]))
