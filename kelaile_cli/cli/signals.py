"""SIGINT and SIGTERM, handled by the command line in one place.

A long-running command (a capture, the box emulator, a tap) runs inside ``stopping(stop)``: the first
SIGINT or SIGTERM calls ``stop()`` (e.g. ``Capture.stop`` or ``Event.set``) so the command ends
cleanly — files closed, counts printed — and the previous handlers are restored on the way out.
After a Ctrl-C the block ends normally, then ``KeyboardInterrupt`` is raised, which the error boundary
turns into exit 130 (SIGTERM is the normal way to stop a service: exit 0).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["stopping"]


@contextmanager
def stopping(stop: Callable[[], object], interrupt: bool = True) -> Iterator[threading.Event]:
    """Call ``stop`` on SIGINT/SIGTERM while the block runs; raise ``KeyboardInterrupt`` after it if Ctrl-C came
    (``interrupt=False``: the caller reports and picks the exit code itself, e.g. a partial replay report).

    Yields an event that is set by either signal (for loops that poll). Outside the main thread
    (where Python cannot install handlers) the block simply runs with the handlers as they are.
    """
    fired = threading.Event()
    by_ctrl_c = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield fired
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT:
            by_ctrl_c.set()
        if not fired.is_set():
            fired.set()
            stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield fired
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    if interrupt and by_ctrl_c.is_set():
        raise KeyboardInterrupt
