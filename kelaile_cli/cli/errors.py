"""Exit codes and the one error boundary of the command line."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from enum import IntEnum

import typer
from rich.console import Console
from rich.markup import escape

from kelaile_cli.core.errors import KlxError

__all__ = ["ExitCode", "run_guarded"]

# Recent typer ships its own copy of click (and no longer installs click): usage errors are
# recognised by shape rather than by class, so either copy works.
_CLICK_ABORT: tuple[type[BaseException], ...] = (typer.Abort,)


def _usage_error(exc: BaseException) -> bool:
    """A click-style usage error (either copy of click): it knows how to show itself and its code."""
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)


class ExitCode(IntEnum):
    """Documented in the README; never reuse a number for another meaning."""

    OK = 0
    FAILURE = 1  # the job failed: device, network, a check that did not pass
    USAGE = 2  # bad usage or input: unknown option, unreadable file, broken value
    INTERRUPTED = 130  # Ctrl-C


def _say(console: Console, message: str) -> None:
    console.print(f"[bold red]klx: error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def run_guarded(app: Callable[..., object], console: Console, show_traceback: Callable[[], bool]) -> int:
    """Run the click/typer app and turn every failure into one line and an exit code."""
    try:
        # With standalone_mode=False click returns the code of a ``typer.Exit`` instead of raising it.
        result = app(standalone_mode=False)
    except _CLICK_ABORT:
        return ExitCode.INTERRUPTED
    except KlxError as exc:
        if show_traceback():
            traceback.print_exc()
        _say(console, str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        console.print("klx: interrupted", highlight=False)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if _usage_error(exc):
            exc.show(file=sys.stderr)  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if show_traceback():
            traceback.print_exc()
        _say(console, f"internal error: {type(exc).__name__}: {exc} (run with --traceback and report it)")
        return ExitCode.FAILURE
    return result if isinstance(result, int) else ExitCode.OK
