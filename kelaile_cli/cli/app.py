"""The ``klx`` command line: a table of commands, each imported only when it runs (see ARCHITECTURE.md).

``COMMANDS`` names every command and group, the module that implements it and its one-line help, so
``klx --help`` (and ``klx --version``) answer without importing any command — nor typer or rich: they
are answered by ``main`` directly. Everything else goes through ``LazyGroup``, a typer group whose
``list_commands``/``get_command`` consult the table; each command module holds its own typer app.
A test checks that the table's help matches each command's own.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from kelaile_cli import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

    import typer.core

__all__ = ["COMMANDS", "Entry", "load_command", "main", "make_root", "root_help", "run"]

_CMD = "kelaile_cli.cli.commands."


class Entry:
    """Where a command lives: ``module:attr`` is a typer app (a group), the app holding the command, or a
    plain click command (the hot commands: show, parse, printers — no typer set-up at their start).

    (A plain class: ``dataclasses`` would cost ``klx --version`` a few milliseconds.)
    """

    __slots__ = ("attr", "group", "help", "hidden", "module", "plain")

    def __init__(
        self, module: str, attr: str, help: str, hidden: bool = False, group: bool = False, plain: bool = False
    ) -> None:
        self.module, self.attr, self.help, self.hidden, self.group = module, attr, help, hidden, group
        #: ``attr`` is a plain click command: ``klx NAME …`` runs it without building typer's root
        self.plain = plain


COMMANDS: dict[str, Entry] = {
    "demo": Entry(
        _CMD + "demo", "app",
        "Run the whole loop locally: POS → emulated box → printer, and box → sandbox cloud → coupon QR.",
    ),
    "show": Entry(
        _CMD + "decode", "show",
        "Show receipts as they would come out of the printer (or, with --dump, byte by byte).", plain=True,
    ),
    "parse": Entry(
        _CMD + "decode", "parse",
        "Parse print jobs into structured receipts (text, codes, images, warnings, the POS that printed them).",
        plain=True,
    ),
    "printers": Entry(
        _CMD + "decode", "printers", plain=True,
        help="List printer models known to the capability database (for --model).",
    ),
    "detect": Entry(
        _CMD + "profile", "app",
        "Which POS printed these jobs? Ranked profiles per file (the first receipt that decides wins).",
    ),
    "profile": Entry(_CMD + "profile", "profile_app", "List, show, lint and describe POS profiles.", group=True),
    "record": Entry(
        _CMD + "capture", "app",
        "Record a print stream to a .klr file until Ctrl-C/SIGTERM (the file is closed cleanly).",
    ),
    "sniff": Entry(
        _CMD + "capture", "app", "Watch a live print stream: each receipt is shown as soon as it completes."
    ),
    "devices": Entry(
        _CMD + "capture", "app",
        "Serial ports (with USB VID:PID), USB printers and Kelaile boxes attached to this machine.",
    ),
    "import": Entry(
        _CMD + "imports", "app",
        "Reassemble printer traffic from a capture (both directions, one job per connection) into a .klr.",
    ),
    "redact": Entry(
        _CMD + "redact", "app",
        "Mask phones, cards (last 4 kept), IBANs, ID numbers, e-mails and member ids; the stream stays valid ESC/POS.",
    ),
    "box": Entry(_CMD + "box", "box_app", "Talk to a Kelaile box (or run its emulator) over its protocol.", group=True),
    "flash": Entry(
        _CMD + "firmware", "app",
        "Install a signed image: verify, stream resumably to the inactive slot, trial-boot, confirm.",
    ),
    "firmware": Entry(
        _CMD + "firmware", "firmware_app", "Make, sign and check signed firmware images (.kfw).", group=True
    ),
    "cloud": Entry(
        _CMD + "cloud", "cloud_app", "The sandbox Kelaile cloud: serve it, read its counts, simulate payments.",
        group=True,
    ),
    "replay": Entry(
        _CMD + "replay", "app",
        "Replay recordings as a box would upload them: decode, detect, extract, sign, send, compare.",
    ),
    "play": Entry(
        _CMD + "play", "app",
        "Send the POS side of a recording, connection by connection as the POS did, and say what came back.",
    ),
    "provision": Entry(
        _CMD + "provision", "app",
        "Connect a store's box in minutes: find it, check it, claim it, check printer and POS, print a ticket.",
    ),
    "insights": Entry(
        _CMD + "insights", "app",
        "What sold, when, at which table, and whether each shift report matches the captured receipts.",
    ),
    "monitor": Entry(
        _CMD + "monitor", "app",
        "Watch boxes live (Textual): fleet health, each box's receipts, uploads and QR answers.",
    ),
}  # fmt: skip

_ABOUT = (
    "Field toolkit for the Kelaile receipt box: run its loop (demo), talk to and flash boxes, capture "
    "and decode print streams, recognise POS programs, replay recordings to a cloud."
)
_EPILOG = "Exit codes: 0 ok · 1 the job failed · 2 bad usage or input · 130 interrupted. Colour follows NO_COLOR."
_ROOT_OPTIONS = (
    ("--version", "Print the version and exit."),
    ("--traceback", "Show Python tracebacks on errors."),
    ("--install-completion", "Install completion for the current shell."),
    ("--show-completion", "Show completion for the current shell, to copy it or customize the installation."),
    ("-h, --help", "Show this message and exit."),
)


def root_help(width: int | None = None) -> str:
    """``klx --help`` from the table alone (no command module is imported)."""
    import shutil
    import textwrap

    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)

    def rows(pairs: Sequence[tuple[str, str]]) -> list[str]:
        left = max(len(name) for name, _ in pairs) + 4
        lines = []
        for name, text in pairs:
            wrapped = textwrap.wrap(text, max(width - left, 30)) or [""]
            lines.append(f"  {name:<{left - 2}}{wrapped[0]}")
            lines.extend(" " * left + more for more in wrapped[1:])
        return lines

    commands = [(name, e.help) for name, e in COMMANDS.items() if not e.hidden]
    parts = [
        "Usage: klx [OPTIONS] COMMAND [ARGS]...",
        "",
        *textwrap.wrap(_ABOUT, width - 2, initial_indent="  ", subsequent_indent="  "),
        "",
        "Options:",
        *rows(_ROOT_OPTIONS),
        "",
        "Commands:",
        *rows(commands),
        "",
        *textwrap.wrap(_EPILOG, width - 2, initial_indent="  ", subsequent_indent="  "),
    ]
    return "\n".join(parts) + "\n"


def load_command(name: str) -> Any:
    """Import the module behind ``name`` and return its click command (a typer command or group, or click's)."""
    import importlib

    entry = COMMANDS[name]
    app = getattr(importlib.import_module(entry.module), entry.attr)
    if entry.plain:
        return app
    import typer.main

    command = typer.main.get_command(app)
    if entry.group:
        command.name = name
        return command
    commands = getattr(command, "commands", None)
    return commands[name] if commands is not None else command


def make_root() -> typer.core.TyperGroup:
    """The root click group of klx (imports typer, not the commands)."""
    import typer
    import typer.core
    import typer.main

    from kelaile_cli.cli.errors import flags

    if "_KLX_COMPLETE" in os.environ:  # the shell asks for completions: register typer's shells
        from typer.completion import completion_init

        completion_init()

    class LazyGroup(typer.core.TyperGroup):
        """A group whose commands come from ``COMMANDS``, imported on first use."""

        def list_commands(self, ctx: Any) -> list[str]:
            return list(COMMANDS)

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            return load_command(cmd_name) if cmd_name in COMMANDS else None

        def format_help(self, ctx: Any, formatter: Any) -> None:
            formatter.write(root_help())

        def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
            from typer._click.shell_completion import CompletionItem

            if incomplete.startswith("-"):
                return list(typer.core.TyperGroup.shell_complete(self, ctx, incomplete))
            return [
                CompletionItem(name, help=e.help)
                for name, e in COMMANDS.items()
                if name.startswith(incomplete) and not e.hidden
            ]

    app = typer.Typer(
        name="klx", cls=LazyGroup, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]}, help=_ABOUT, epilog=_EPILOG,
    )  # fmt: skip

    def _version(value: bool) -> None:
        if value:
            sys.stdout.write(f"klx {__version__}\n")
            raise typer.Exit()

    @app.callback()
    def root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help=_ROOT_OPTIONS[0][1]),
        traceback: bool = typer.Option(False, "--traceback", help=_ROOT_OPTIONS[1][1]),
    ) -> None:
        flags["traceback"] = traceback

    return typer.main.get_command(app)  # type: ignore[return-value]


def run(args: Sequence[str]) -> int:
    """Run klx with ``args`` (without the program name) and return the exit code; never raises."""
    from kelaile_cli.cli.errors import run_guarded

    entry = COMMANDS.get(args[0]) if args else None
    if entry is not None and entry.plain and not _completing():
        # ``klx parse …``: the plain click command alone, as ``klx parse`` (the root adds nothing to it)
        command = load_command(args[0])
        return run_guarded(lambda: command.main(list(args[1:]), prog_name=f"klx {args[0]}", standalone_mode=False))
    return run_guarded(lambda: make_root().main(list(args), prog_name="klx", standalone_mode=False))


def _completing() -> bool:
    """The shell asks for completions (``_KLX_COMPLETE``): typer's root answers them."""
    return any(k.endswith("_COMPLETE") for k in os.environ)


def main() -> None:
    """Console-script entry point: ``--version`` and ``--help`` answered at once, the rest through ``run``."""
    args = sys.argv[1:]
    if args == ["--version"]:
        sys.stdout.write(f"klx {__version__}\n")
        return
    if args in (["--help"], ["-h"]) and not _completing():
        sys.stdout.write(root_help())
        return
    from kelaile_cli.runtime import quiet_pydantic_plugins, tune_gc

    tune_gc()
    quiet_pydantic_plugins()
    code = run(args)
    entry = COMMANDS.get(args[0]) if args else None
    if entry is not None and entry.plain:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """End a plain command's process without tearing the interpreter down (``os._exit``).

    Freeing every module and object at exit costs ~40 ms after a ``klx parse`` (pydantic, the decoder);
    these commands have written and closed their files by now and register no exit handlers, so only
    the standard streams need flushing. A reader that went away (``klx parse … | head``) ends it quietly.
    """
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing left to write to
            stream.flush()
    os._exit(code)
