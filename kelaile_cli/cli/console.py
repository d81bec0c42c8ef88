"""The two consoles (stdout and stderr), the one JSON emitter and the one error line of the command line.

The rich consoles are made on first use, so a command that prints no rich output (``klx --version``,
``klx parse --json``) never imports rich; ``reset()`` drops them so the next use sees the current
streams and environment (``NO_COLOR``, ``COLUMNS``) — the in-process test harness calls it per run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import json

    from rich.console import Console

__all__ = ["emit_json", "emit_utf8", "err", "escape", "out", "reset", "say_error", "say_warning", "to_json"]


def _make(stderr: bool) -> Console:
    from rich.console import Console

    class _PipeSafeConsole(Console):
        """Treats a closed pipe (``klx show | head``) as a normal end, exit 0."""

        def on_broken_pipe(self) -> None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0)

    return _PipeSafeConsole(stderr=stderr, highlight=False)


class _LazyConsole:
    """Stands for a rich ``Console`` and makes it on first attribute use."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            self._console = _make(self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)

    def reset(self) -> None:
        self._console = None


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)


def reset() -> None:
    """Forget both consoles (they are made again, for the current streams, on next use)."""
    out.reset()
    err.reset()


def escape(text: str) -> str:
    """Text with rich markup characters escaped."""
    from rich.markup import escape as _escape

    return _escape(text)


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Path) or type(value).__name__ == "Decimal":  # decimal is not imported for this
        return str(value)
    if hasattr(type(value), "__dataclass_fields__"):  # dataclasses.is_dataclass, for an instance
        from dataclasses import asdict  # imported when there is one: ``klx parse --json`` has none

        return asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


#: ``json.dumps(data, ensure_ascii=False, default=_default)`` makes this encoder anew at every call;
#: ``klx parse --json`` encodes two values per receipt a profile knows (its transaction and checks).
#: Made (and ``json`` imported) at the first use: ``klx parse --json`` of a raw file may have none.
_ENCODER: list[json.JSONEncoder] = []


def to_json(data: Any) -> str:
    """The one JSON style of klx: one line, UTF-8 text as is (``ensure_ascii=False``), bytes as hex."""
    if not _ENCODER:
        import json

        _ENCODER.append(json.JSONEncoder(ensure_ascii=False, default=_default))
    return _ENCODER[0].encode(data)


def emit_json(data: Any) -> None:
    """One JSON document (a JSON Lines record) on stdout, flushed at once (streams are watched live)."""
    sys.stdout.write(to_json(data) + "\n")
    sys.stdout.flush()


def emit_utf8(parts: list[bytes]) -> None:
    """UTF-8 text already made (JSON Lines records with their newlines, in pieces), joined, written and
    flushed at once: a batch of records costs one copy and one flush. Written to stdout's byte stream
    when stdout writes UTF-8 and newlines as they are (as stdout would write the text, without decoding
    and encoding it again); otherwise as text."""
    if not parts:
        return
    data = b"".join(parts)
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and os.linesep == "\n" and _is_utf8(getattr(stream, "encoding", None)):
        stream.flush()  # anything written as text before goes first
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "surrogateescape"))  # a file name's odd bytes back as Python holds them
        stream.flush()


def _is_utf8(encoding: str | None) -> bool:
    import codecs

    try:
        return encoding is not None and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def say_error(message: str) -> None:
    """One red line on stderr: ``klx: error: …``."""
    err.print(f"[bold red]klx: error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def say_warning(message: str) -> None:
    """One yellow line on stderr: something was wrong, the job goes on."""
    err.print(f"[yellow]klx: warning:[/] {escape(message)}", soft_wrap=True)
