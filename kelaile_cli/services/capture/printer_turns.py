"""Whose turn it is at the printer: the POS's jobs pass first and whole; the box's own jobs (online orders)
go only between them.

The passthrough calls ``pos_begin`` before it forwards a POS job's first byte and ``pos_end`` after its last;
the box wraps each job of its own in ``box_turn``, which waits until no POS job is in progress and, while the
box prints, makes a POS job that starts meanwhile wait (for as long as one ticket takes to send) instead of
interleaving with it. So a ticket is never printed inside a POS job, and a POS job never inside a ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

__all__ = ["BusyPrinterError", "PrinterTurns"]

_POLL_S = 0.002


class BusyPrinterError(TimeoutError):
    """The POS kept the printer busy for the whole wait: the box's job stays queued."""


class PrinterTurns:
    """Thread-safe (the passthrough's event loop and the box's threads share it)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pos = 0  # POS jobs in progress
        self._box = False  # the box is printing a job of its own
        self._owner: int | None = None  # the thread holding the box's turn
        self.pos_waits = 0  # POS jobs that waited for a box job to finish (each for one ticket at most)

    @property
    def pos_busy(self) -> bool:
        with self._cond:
            return self._pos > 0

    async def pos_begin(self) -> None:
        """A POS job starts: wait while the box prints a ticket (never long), then it holds the printer."""
        waited = False
        while True:
            with self._cond:
                if not self._box:
                    self._pos += 1
                    self.pos_waits += waited
                    return
            waited = True
            await asyncio.sleep(_POLL_S)

    def pos_begin_blocking(self) -> None:
        """``pos_begin`` for a thread (a serial or USB passthrough): waits while the box prints a ticket."""
        with self._cond:
            waited = False
            while self._box:
                waited = True
                self._cond.wait(0.05)
            self._pos += 1
            self.pos_waits += waited

    def pos_end(self) -> None:
        with self._cond:
            self._pos = max(0, self._pos - 1)
            self._cond.notify_all()

    @contextlib.contextmanager
    def box_turn(self, timeout_s: float) -> Iterator[None]:
        """The printer for one job of the box's own, once no POS job is in progress (``BusyPrinterError``
        after ``timeout_s`` of a busy printer). The thread holding the turn may enter it again."""
        if self._owner == threading.get_ident():
            yield
            return
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pos > 0 or self._box:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BusyPrinterError(f"the POS kept the printer busy for {timeout_s:g} s")
                self._cond.wait(left)
            self._box = True
            self._owner = threading.get_ident()
        try:
            yield
        finally:
            with self._cond:
                self._box = False
                self._owner = None
                self._cond.notify_all()
