"""Exit codes and the one error boundary of the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import IntEnum

from kelaile_cli.cli.console import say_error
from kelaile_cli.core.errors import KlxError

__all__ = ["ExitCode", "flags", "run_guarded"]

#: set by the root callback (``--traceback``)
flags = {"traceback": False}


class ExitCode(IntEnum):
    """Documented in the README; never reuse a number for another meaning."""

    OK = 0
    FAILURE = 1  # the job failed: device, network, a check that did not pass
    USAGE = 2  # bad usage or input: unknown option, unreadable file, broken value
    INTERRUPTED = 130  # Ctrl-C


def _is_abort(exc: BaseException) -> bool:
    """click's ``Abort`` (Ctrl-C at a prompt), from whichever copy of click raised it."""
    return type(exc).__name__ == "Abort" and type(exc).__module__.endswith("click.exceptions")


def _print_traceback() -> None:
    """The current exception's traceback on stderr (``--traceback``; imported only then)."""
    import traceback

    traceback.print_exc()


def _exit_code(exc: BaseException) -> int | None:
    """The code of click's ``Exit`` (``ctx.exit``) raised by a plain click command inside typer's tree."""
    if type(exc).__name__ == "Exit" and type(exc).__module__.startswith("click."):
        return int(getattr(exc, "exit_code", 0))
    return None


def _usage_error(exc: BaseException) -> bool:
    """A click-style usage error (either copy of click): it knows how to show itself and its code."""
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)


def run_guarded(run: Callable[[], object]) -> int:
    """Run the click/typer app and turn every failure into one line and an exit code."""
    flags["traceback"] = False
    try:
        # With standalone_mode=False click returns the code of a ``typer.Exit`` instead of raising it.
        result = run()
    except KlxError as exc:
        if flags["traceback"]:
            _print_traceback()
        say_error(str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("klx: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if (code := _exit_code(exc)) is not None:
            return code
        if _is_abort(exc):
            return ExitCode.INTERRUPTED
        if _usage_error(exc):
            exc.show(file=sys.stderr)  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if flags["traceback"]:
            _print_traceback()
        say_error(f"internal error: {type(exc).__name__}: {exc} (run with --traceback and report it)")
        return ExitCode.FAILURE
    return result if isinstance(result, int) else ExitCode.OK
