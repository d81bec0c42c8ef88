"""What the plain click commands (show, parse, printers) share with the typer ones, without importing typer.

The hot commands are declared with click (see ``commands/decode.py``); this module holds their option
declarations and the helpers every decoding command uses, so a ``klx parse`` never imports typer.
``cli.options`` re-exports the helpers and declares the same options for typer, from the same ``HELP``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kelaile_cli.cli.console import say_error, say_warning
from kelaile_cli.core.errors import KlxError

if TYPE_CHECKING:
    from kelaile_cli.core.stream.printstream import DecodeOptions
    from kelaile_cli.services.jobs import Source

__all__ = [
    "CONTEXT",
    "HELP",
    "decode_click_options",
    "decode_options",
    "files_click_argument",
    "load_sources",
    "profiles_click_option",
    "write_out",
]

#: click's settings of every plain click command (the root's, which typer gives its own commands)
CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"]}

#: help texts shared with the plain click declarations of the hot commands (``cli.clickopts``)
HELP = {
    "encoding": "Force the text encoding (gb18030, big5, shift_jis, euc_kr, cp858, …) instead of detecting it.",
    "model": "Printer model (python-escpos capability database) for ESC t code pages.",
    "printer": "Old name of --model.",
    "width": "Paper width in columns (32, 42, 48); inferred if unset.",
    "dialect": "Force the command set: escpos or star (detected if unset).",
    "profiles": "Extra profile directory (repeatable); also KLX_PROFILES_PATH.",
    "files": "Print job files (.bin/.prn raw bytes). None: the bundled sample.",
}


def decode_click_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The decoding options above as plain click options, for the commands declared with click (show, parse).

    Same names, help and defaults as the typer declarations; click skips typer's per-parameter pydantic
    set-up, which these hot commands would pay at every start (docs/performance.md).
    """
    import click

    for option in reversed(
        [
            click.option("--encoding", "-e", default=None, metavar="TEXT", help=HELP["encoding"]),
            click.option("--model", default="default", show_default=True, help=HELP["model"]),
            click.option("--printer", default=None, hidden=True, help=HELP["printer"]),
            click.option("--width", "-w", type=int, default=None, help=HELP["width"]),
            click.option("--dialect", default=None, metavar="TEXT", help=HELP["dialect"]),
        ]
    ):
        command = option(command)
    return command


def files_click_argument(command: Callable[..., Any]) -> Callable[..., Any]:
    """``FILES...`` as a plain click argument (see ``decode_click_options``); its help is in the docstring."""
    import click

    return click.argument("files", nargs=-1, type=click.Path(path_type=Path))(command)


def profiles_click_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--profiles`` as a plain click option (see ``decode_click_options``)."""
    import click

    return click.option("--profiles", multiple=True, type=click.Path(path_type=Path), help=HELP["profiles"])(command)


def decode_options(
    encoding: str | None, model: str, width: int | None, dialect: str | None, printer: str | None = None
) -> DecodeOptions:
    """Checked decode options; ``printer`` is the hidden old spelling of ``--model``."""
    from kelaile_cli.core.stream.printstream import DecodeOptions
    from kelaile_cli.services import jobs

    options = DecodeOptions(encoding=encoding, printer=printer or model, width=width, dialect=dialect)
    jobs.check_options(options)
    return options


def load_sources(files: Sequence[Path] | None) -> tuple[list[Source], int]:
    """Load every file; a file that cannot be read is reported on one line and skipped (exit code kept).

    A recording is checked whole now and decoded later in constant memory (``load_source(stream=True)``),
    so its warnings are printed here, before any of its receipts."""
    from kelaile_cli.services import jobs

    if not files:
        return [jobs.sample_source()], 0
    sources, code = [], 0
    for path in files:
        try:
            sources.append(source := jobs.load_source(path, stream=True))
        except KlxError as exc:
            say_error(str(exc))
            code = int(exc.exit_code)
            continue
        for warning in source.recording.warnings if source.recording is not None else []:
            say_warning(warning)  # a damaged recording: what was lost, where (the rest is read)
    return sources, code


def write_out(text: str, path: Path | None) -> None:
    """Text to stdout, or to a file."""
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise KlxError(f"{path}: cannot write ({exc.strerror or exc})") from None
