"""Every option shared by several commands, defined once (one meaning per name across klx).

* ``--model`` is the printer *model* (code-page table); ``--printer`` stays a hidden alias of it in
  show/parse/sniff/detect and means a printer *endpoint* elsewhere (``klx box sim --printer``).
* ``--forward`` is the printer endpoint of record/sniff; ``-o/--output`` is every output file.
* ``--port`` is the box's serial port for box and flash commands (``KLX_PORT``), ``--box`` its USB
  serial number (``KLX_BOX``); servers use ``--port`` for the TCP port they listen on.
* ``--format`` takes an enum; ``--json`` prints with the one emitter of ``cli.console``.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kelaile_cli.cli.console import say_error, say_warning
from kelaile_cli.core.errors import KlxError

if TYPE_CHECKING:
    from kelaile_cli.core.stream.printstream import DecodeOptions
    from kelaile_cli.services.jobs import Source

__all__ = [
    "BaudOpt",
    "BoxOpt",
    "DialectOpt",
    "EncodingOpt",
    "FilesArg",
    "JsonOpt",
    "LiveFormat",
    "ModelOpt",
    "PortOpt",
    "PrinterAliasOpt",
    "ProfilesOpt",
    "TimeoutOpt",
    "WidthOpt",
    "decode_options",
    "load_sources",
    "write_out",
]


class LiveFormat(StrEnum):
    """How a live receipt (sniff, box tap) is shown."""

    rich = "rich"
    text = "text"


# -- decoding ---------------------------------------------------------------------------------
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        "-e",
        help="Force the text encoding (gb18030, big5, shift_jis, euc_kr, cp858, …) instead of detecting it.",
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option("--model", help="Printer model (python-escpos capability database) for ESC t code pages."),
]
#: the old spelling of ``--model`` (before it meant only the model), kept working but not shown
PrinterAliasOpt = Annotated[str | None, typer.Option("--printer", hidden=True, help="Old name of --model.")]
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
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON; JSON Lines for streams).")]

# -- the box (box commands and flash) ---------------------------------------------------------------
PortOpt = Annotated[
    str | None,
    typer.Option(
        "--port",
        "-p",
        envvar="KLX_PORT",
        help="The box's port: a device path (/dev/ttyACM0, a pty) or socket://HOST:PORT (or KLX_PORT).",
    ),
]
BoxOpt = Annotated[
    str | None,
    typer.Option(
        "--box", envvar="KLX_BOX", help="Find the box by its USB serial number instead of a port (or KLX_BOX)."
    ),
]
BaudOpt = Annotated[int, typer.Option("--baud", help="Serial speed to open the port at.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds to wait for the box to answer HELLO.")]


def decode_options(
    encoding: str | None, model: str, width: int | None, dialect: str | None, printer: str | None = None
) -> DecodeOptions:
    """Checked decode options; ``printer`` is the hidden old spelling of ``--model``."""
    from kelaile_cli.core.stream.printstream import DecodeOptions
    from kelaile_cli.services import jobs

    options = DecodeOptions(encoding=encoding, printer=printer or model, width=width, dialect=dialect)
    jobs.check_options(options)
    return options


def load_sources(files: list[Path] | None) -> tuple[list[Source], int]:
    """Load every file; a file that cannot be read is reported on one line and skipped (exit code kept)."""
    from kelaile_cli.services import jobs

    if not files:
        return [jobs.sample_source()], 0
    sources, code = [], 0
    for path in files:
        try:
            sources.append(source := jobs.load_source(path))
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
