"""The taps beside the flow: copies of every chunk handed to sinks on their own thread, with a bound.

Printing never waits on a sink, with one documented exception: the recorder. Its tap holds at most
``RECORD_LAG_BYTES`` not yet written, counting bytes a pump has read but not yet forwarded: a pump
reserves room *before* it forwards a read and, if there is none, waits (up to ``RECORD_WAIT``) for the
file to catch up, so after ``kill -9`` the file lags what the printer received by at most that much,
however many connections are open. Decoding taps never hold printing up: past
``DECODE_BACKLOG_BYTES`` they drop copies and count them. Either way memory is bounded whatever the
traffic.

Taps give way to the flow: with ``settle`` set, a tap that finds copies waiting after it was idle first
lets the flow pause (``SETTLE``: no new copy for that long), but holds none much longer than
``SETTLE_MAX`` (at most twice that) nor while it is a quarter of its ``limit`` behind, and copies do not
wake it one by one. Decoding and writing are Python work that would
otherwise take the interpreter from the pump between a job's bytes and the printer's reply to them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk
from kelaile_cli.core.stream.printstream import DecodeOptions, PrintStream
from kelaile_cli.core.stream.receipt import Receipt

__all__ = [
    "DECODE_BACKLOG_BYTES",
    "RECORD_LAG_BYTES",
    "RECORD_WAIT",
    "CaptureStats",
    "ReceiptSink",
    "Sink",
    "Tap",
]

Sink = Callable[[Chunk], None]
RECORD_LAG_BYTES = 1024 * 1024  # the recording is at most this far behind the printer
RECORD_WAIT = 1.0  # seconds a pump waits for the recorder before the copy is dropped (a hung disk)
DECODE_BACKLOG_BYTES = 64 * 1024 * 1024  # decoders further behind than this miss copies (counted)
SETTLE = 0.002  # a tap waits for the flow to pause this long before it takes the interpreter ...
SETTLE_MAX = 0.02  # ... but never holds a copy back much longer than this
DEEP_IDLE = 1.0  # a settling tap quiet this long sleeps until woken (before: it looks every SETTLE_MAX)


@dataclass(slots=True)
class CaptureStats:
    started: float = field(default_factory=time.time)
    bytes_out: int = 0  # POS -> printer
    bytes_in: int = 0  # printer -> POS
    chunks: int = 0
    connections: int = 0
    jobs_done: int = 0
    receipts: int = 0
    errors: int = 0  # tap failures (decoding, recording): never affect the flow
    refused: int = 0  # POS connections reset because the printer could not be reached
    dropped: int = 0  # copies a tap could not take in time (bounded memory); counted, never silent
    record_waits: int = 0  # times printing waited for the recorder to catch up
    last_error: str = ""


@dataclass(slots=True)
class _Dropped:
    """Copies dropped in a row, merged into one entry (their data is not kept: memory stays bounded)."""

    chunks: int
    size: int


class Tap(threading.Thread):
    """Hands copies of the flow to sinks on its own thread; a failing sink is counted, not fatal.

    ``limit``: bytes it may hold; ``wait``: how long ``put`` may block for room (0: drop at once)."""

    def __init__(
        self,
        sinks: list[Sink],
        stats: CaptureStats,
        *,
        limit: int = DECODE_BACKLOG_BYTES,
        wait: float = 0.0,
        settle: float = 0.0,
    ) -> None:
        super().__init__(name="klx-tap", daemon=True)
        self.sinks = sinks
        self.stats = stats
        self.limit = limit
        self.wait = wait
        self.settle = settle  # 0: hand copies on at once; else wait for the flow to pause (``SETTLE``)
        self._last_hand = 0.0
        self._idle = False  # the thread waits for copies: a new one must wake it (else it looks by itself)
        self.held = 0  # bytes queued, not yet handed to every sink
        self._items: deque[Chunk | _Dropped | int | None] = deque()
        self._cond = threading.Condition()

    def has_room(self, size: int) -> bool:
        return self.held == 0 or self.held + size <= self.limit

    def try_reserve(self, size: int) -> bool | None:
        """Room for a copy of ``size`` bytes, taken now if there is some (never blocks): True; else
        None if the caller may wait (``reserve``), False if this tap never waits (the copy is lost)."""
        with self._cond:
            if self.has_room(size):
                self.held += size
                return True
        return None if self.wait > 0 else False

    def reserve(self, size: int) -> bool:
        """Take room for a copy, waiting up to ``wait`` for the sinks to catch up. Pumps reserve
        *before* they forward the bytes, so the printer is never more than ``limit`` ahead."""
        with self._cond:
            if not self.has_room(size):
                self.stats.record_waits += self.wait > 0
                if not self._cond.wait_for(lambda: self.has_room(size), self.wait):
                    return False
            self.held += size
        return True

    def hand(self, chunk: Chunk, reserved: bool) -> None:
        """Queue the copy whose room was reserved, or record that it was dropped (counted, and
        sinks with a ``drop`` method — the recorder — are told, in order)."""
        with self._cond:
            if not reserved:
                self.stats.dropped += 1
            if reserved:
                self._items.append(chunk)
            elif self._items and isinstance(self._items[-1], _Dropped):
                self._items[-1].chunks += 1
                self._items[-1].size += len(chunk.data)
            else:
                self._items.append(_Dropped(1, len(chunk.data)))
            self._last_hand = time.monotonic()
            self._wake()

    def put(self, chunk: Chunk) -> bool:
        """Reserve and queue a copy in one step; False if it was dropped."""
        ok = self.reserve(len(chunk.data))
        self.hand(chunk, ok)
        return ok

    def end(self, conn: int) -> None:
        """Connection ``conn`` has closed: sinks may flush what they hold for it."""
        with self._cond:
            self._items.append(conn)
            self._wake()

    def _wake(self) -> None:
        """(Holding the condition.) Tell the thread something was queued, where it would not look by itself: a
        settling tap is woken only when idle or a quarter of ``limit`` behind."""
        if self._idle or not self.settle or self.held * 4 >= self.limit:
            self._cond.notify_all()

    def run(self) -> None:
        while True:
            with self._cond:
                if not self._items:
                    self._wait_for_copies()
                item = self._items.popleft()
            if item is None:
                return
            if isinstance(item, _Dropped):
                self._dropped(item)
                continue
            if isinstance(item, int):
                for sink in self.sinks:
                    end = getattr(sink, "end_connection", None)
                    if callable(end):
                        self._safely(end, item)
                continue
            for sink in self.sinks:
                self._safely(sink, item)
            with self._cond:
                self.held -= len(item.data)
                self._cond.notify_all()

    def _wait_for_copies(self) -> None:
        """(Holding the condition.) Until copies are queued and, with ``settle``, the flow has paused for that
        long, or the oldest has waited ``SETTLE_MAX``, or a quarter of ``limit`` is held, or ``finish`` asks.

        A settling tap is not woken by every copy (waking a thread takes the interpreter from the pump when
        it matters most): while copies came within ``DEEP_IDLE`` it looks every ``SETTLE_MAX`` by itself;
        after a longer quiet spell it sleeps until the next copy wakes it."""
        if not self.settle:
            self._cond.wait_for(lambda: bool(self._items))
            return
        seen: float | None = None
        while True:
            now = time.monotonic()
            if not self._items:
                if now - self._last_hand >= DEEP_IDLE:
                    self._idle = True
                    self._cond.wait_for(lambda: bool(self._items))
                    self._idle = False
                else:
                    self._cond.wait(SETTLE_MAX)
                continue
            seen = now if seen is None else seen
            quiet = now - self._last_hand
            if self._items[-1] is None or self.held * 4 >= self.limit or quiet >= self.settle:
                return
            if now - seen >= SETTLE_MAX:
                return
            self._cond.wait(min(self.settle - quiet, SETTLE_MAX - (now - seen)))

    def _dropped(self, dropped: _Dropped) -> None:
        for sink in self.sinks:
            drop = getattr(sink, "drop", None)
            if callable(drop):
                try:
                    drop(dropped.chunks, dropped.size)
                except Exception as exc:  # as _safely
                    self.stats.errors += 1
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"

    def _safely(self, fn: Callable[..., None], arg: object) -> None:
        try:
            fn(arg)
        except Exception as exc:  # a tap must never take the flow down with it
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"

    def finish(self) -> None:
        """Drain everything queued so far, then stop."""
        with self._cond:
            self._items.append(None)
            self._cond.notify_all()
        self.join()


class ReceiptSink:
    """Decodes the print stream of each connection and reports each receipt as it completes."""

    def __init__(self, options: DecodeOptions, on_receipt: Callable[[Receipt, int], None]) -> None:
        self.options = options
        self.on_receipt = on_receipt
        self.receipts = 0
        self._streams: dict[int, PrintStream] = {}

    def __call__(self, chunk: Chunk) -> None:
        if chunk.direction != TO_PRINTER:
            return
        stream = self._streams.setdefault(chunk.conn, PrintStream(self.options))
        self._emit(stream.feed(chunk.data, chunk.t), chunk.conn)

    def end_connection(self, conn: int) -> None:
        stream = self._streams.pop(conn, None)
        if stream is not None:
            self._emit(stream.close(), conn)

    def close(self) -> None:
        for conn in list(self._streams):
            self.end_connection(conn)

    def _emit(self, receipts: list[Receipt], conn: int) -> None:
        for r in receipts:
            r.connection = conn
            self.receipts += 1
            self.on_receipt(r, conn)
