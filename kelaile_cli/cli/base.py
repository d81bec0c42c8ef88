"""The typer app, consoles and options shared by every command module."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from kelaile_cli import __version__
from kelaile_cli.cli.errors import ExitCode
from kelaile_cli.core.errors import KlxError
from kelaile_cli.core.stream.printstream import DecodeOptions
from kelaile_cli.services import jobs

app = typer.Typer(
    name="klx",
    help=(
        "Field toolkit for the Kelaile receipt box: run its loop (demo), talk to and flash boxes, capture "
        "and decode print streams, recognise POS programs, replay recordings to a cloud."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 ok · 1 the job failed · 2 bad usage or input · 130 interrupted. Colour follows NO_COLOR.",
)


class _Console(Console):
    """A rich console that treats a closed pipe (``klx show | head``) as a normal end, exit 0."""

    def on_broken_pipe(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0)


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False)
flags = {"traceback": False}


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
    flags["traceback"] = traceback


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
ProfilesOpt = Annotated[
    list[Path] | None,
    typer.Option("--profiles", help="Extra profile directory (repeatable); also KLX_PROFILES_PATH."),
]
FilesArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Print job files (.bin/.prn raw bytes). None: the bundled sample.", show_default=False),
]


def decode_options(encoding: str | None, printer: str, width: int | None, dialect: str | None) -> DecodeOptions:
    options = DecodeOptions(encoding=encoding, printer=printer, width=width, dialect=dialect)
    jobs.check_options(options)
    return options


def load_sources(files: list[Path] | None) -> tuple[list[jobs.Source], int]:
    """Load every file; a file that cannot be read is reported on one line and skipped."""
    if not files:
        return [jobs.sample_source()], ExitCode.OK
    sources, code = [], ExitCode.OK
    for path in files:
        try:
            sources.append(source := jobs.load_source(path))
            for warning in source.recording.warnings if source.recording is not None else []:
                err.print(f"[yellow]klx: warning:[/] {escape(warning)}", soft_wrap=True)
        except KlxError as exc:
            say_error(exc)
            code = ExitCode(exc.exit_code)
    return sources, code


def say_error(exc: KlxError) -> None:
    """One red line on stderr."""
    err.print(f"[bold red]klx: error:[/] {escape(str(exc))}", soft_wrap=True)


def write_out(text: str, path: Path | None) -> None:
    """Text to stdout, or to a file."""
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise KlxError(f"{path}: cannot write ({exc.strerror or exc})") from None
