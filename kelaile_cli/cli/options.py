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

from kelaile_cli.cli.clickopts import HELP, decode_options, load_sources, write_out

if TYPE_CHECKING:
    from kelaile_cli.core.stream.receipt import Receipt
    from kelaile_cli.services.jobs import Source

__all__ = [
    "HELP",
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
    "show_live_receipt",
    "write_out",
]


class LiveFormat(StrEnum):
    """How a live receipt (sniff, box tap) is shown."""

    rich = "rich"
    text = "text"


def show_live_receipt(source: Source, receipt: Receipt, as_json: bool, fmt: LiveFormat, title: str) -> None:
    """One receipt as it completes (sniff, box tap): the record ``klx parse --json`` prints, plain text, or
    rendered under ``title``."""
    if as_json:
        from kelaile_cli.cli.console import emit_json
        from kelaile_cli.services import jobs

        emit_json(jobs.receipt_record(source, receipt))
    elif fmt is LiveFormat.text:
        from kelaile_cli.core.render.text import render_text

        sys.stdout.write(render_text(receipt) + "\n")
        sys.stdout.flush()
    else:
        from rich.rule import Rule

        from kelaile_cli.cli.console import out
        from kelaile_cli.core.render.terminal import render_rich

        out.print(Rule(title))
        out.print(render_rich(receipt))


# -- decoding ---------------------------------------------------------------------------------
EncodingOpt = Annotated[str | None, typer.Option("--encoding", "-e", help=HELP["encoding"])]
ModelOpt = Annotated[str, typer.Option("--model", help=HELP["model"])]
#: the old spelling of ``--model`` (before it meant only the model), kept working but not shown
PrinterAliasOpt = Annotated[str | None, typer.Option("--printer", hidden=True, help=HELP["printer"])]
WidthOpt = Annotated[int | None, typer.Option("--width", "-w", help=HELP["width"])]
DialectOpt = Annotated[str | None, typer.Option("--dialect", help=HELP["dialect"])]
ProfilesOpt = Annotated[list[Path] | None, typer.Option("--profiles", help=HELP["profiles"])]
FilesArg = Annotated[list[Path] | None, typer.Argument(help=HELP["files"], show_default=False)]


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
