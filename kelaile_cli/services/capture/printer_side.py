"""The printer side of a passthrough, above one printer ``ByteLink`` (serial, USB, ``/dev/usb/lp``, a held
TCP connection, a file): the same cut gate, turns, status relay and health questions on every cable.

- **passthrough**: ``feed`` writes the POS's bytes to the printer first, in order, then hands the copy to
  the taps; a write waits while the printer is busy (flow control), so no byte is dropped;
- **cut gate**: with an ``AnswerBoard``, each receipt's cut waits (up to the board's deadline) for the
  cloud's answer, which is printed just above it (``CutGate``);
- **turns**: a POS job holds the printer from ``begin_job`` to ``pause``/``end_job``; the box's own jobs
  (``print_own``, inside ``PrinterTurns.box_turn``) go only between POS jobs;
- **relay**: what the printer sends (``DLE EOT``/``GS r`` answers, ASB) goes to the current job's ``reply``
  (or ``idle_reply`` between jobs: a serial POS hears its printer at any time);
- **health**: ``ask`` sends a status query and collects the answer instead of relaying it;
- **unplugged**: behind a stream POS (``hold_on_failure``), a printer link that fails is reopened (``reopen``,
  every ``REOPEN_S``) while the POS's bytes wait — the POS reading stops, so its flow control holds it —
  and the failed write is sent again once the printer is back (an unplugged cable takes nothing).

A TCP POS on a TCP printer keeps its own proxy (``tcp.py``: one printer connection per POS connection).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import threading
import time
from collections.abc import Callable

from kelaile_cli.core.errors import KlxError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk
from kelaile_cli.core.stream.cut_gate import CutGate
from kelaile_cli.services.capture.answer_board import AnswerBoard
from kelaile_cli.services.capture.printer_turns import PrinterTurns
from kelaile_cli.services.capture.tap import CaptureStats, Tap
from kelaile_cli.transports.link import ByteLink

__all__ = ["JOB_GAP_S", "UNCUT_GAP_S", "PrinterSide", "run_stream"]

JOB_GAP_S = 0.5  # a POS quiet this long after a receipt's cut has finished its job
UNCUT_GAP_S = 5.0  # ... and quiet this long without one too (a printer with no cutter, a job ending in feeds)
READ_S = 0.05
_POLL_S = 0.003
RETRY_S = 0.5  # a printer link that failed is read again after this long
REOPEN_S = (0.2, 0.5, 1.0, 2.0)  # waits between tries to reopen a failed printer link (the last repeats)


class PrinterSide:
    """One printer link shared by the POS's jobs, the box's own jobs and its health questions (thread-safe)."""

    def __init__(
        self,
        link: ByteLink,
        taps: list[Tap],
        stats: CaptureStats,
        answers: AnswerBoard | None = None,
        turns: PrinterTurns | None = None,
        reopen: Callable[[], ByteLink] | None = None,
    ) -> None:
        self.link, self.taps, self.stats, self.answers, self.turns = link, taps, stats, answers, turns
        self.reopen = reopen  # opens the printer link again (the same device path or USB ids)
        self.hold_on_failure = False  # a stream POS: wait for the printer to come back instead of failing
        self.reopened = 0  # how often the link was reopened after a failure
        self._recovering = False
        self.idle_reply: Callable[[bytes], None] | None = None  # where printer bytes go between jobs
        self.last_reply = 0.0  # monotonic time of the printer's latest bytes
        self.error = ""  # the latest failure of the printer link ("" while it works)
        self._reply: tuple[int, Callable[[bytes], None]] | None = None
        self._gates: dict[int, CutGate] = {}
        self._holding: set[int] = set()
        self._write_lock = threading.Lock()
        self._ask_lock = threading.Lock()
        self._cond = threading.Condition()
        self._asking: bytearray | None = None
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> PrinterSide:
        self._reader = threading.Thread(target=self._read_printer, name="printer-side", daemon=True)
        self._reader.start()
        return self

    def close(self) -> None:
        """Stop relaying and close the printer link."""
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=2)
        for conn in list(self._holding):
            self._release(conn)
        self.link.close()

    # -- POS jobs ----------------------------------------------------------------------------------
    def begin_job(self, conn: int, reply: Callable[[bytes], None]) -> None:
        """A POS job starts on ``conn``: wait while the box prints a ticket, then hold the printer."""
        if conn not in self._holding:
            if self.turns is not None:
                self.turns.pos_begin_blocking()
            self._holding.add(conn)
        self._reply = (conn, reply)
        if self.answers is not None:
            self._gates.setdefault(conn, CutGate())

    def feed(self, conn: int, data: bytes) -> None:
        """The POS's bytes: to the printer first (cut held for the answer), then to the taps.

        ``OSError`` when the printer link fails (the bytes may not have reached it)."""
        room = [tap.reserve(len(data)) for tap in self.taps]
        gate = self._gates.get(conn)
        if gate is None:
            self._write(data)
            self._hand(Chunk(time.time(), TO_PRINTER, conn, data), room)
            return
        result = gate.feed(data)
        self._write(result.forward)
        self._hand(Chunk(time.time(), TO_PRINTER, conn, data), room)  # the pipeline sees the receipt now
        while result.cut_held:
            result = gate.release(self._answer(conn, result.cut_end))
            self._write(result.forward)

    def between_receipts(self, conn: int) -> bool:
        """Whether a pause of ``conn``'s POS now falls between its receipts (its cut gate says so; no gate:
        nothing to tell, so any pause does)."""
        gate = self._gates.get(conn)
        return gate is None or gate.between_receipts

    def pause(self, conn: int) -> None:
        """The POS went quiet: forward what the gate kept (bytes that might have begun a cut) and let
        the box's own jobs print. The job's gate stays (a serial POS's stream goes on)."""
        gate = self._gates.get(conn)
        try:
            if gate is not None:
                self._write(gate.flush().forward)
        finally:
            self._release(conn)

    def end_job(self, conn: int) -> None:
        """The POS closed the job (a TCP connection): as ``pause``, and forget its gate."""
        try:
            self.pause(conn)
        finally:
            self._gates.pop(conn, None)
            for tap in self.taps:
                tap.end(conn)

    def _release(self, conn: int) -> None:
        if conn in self._holding:
            self._holding.discard(conn)
            if self.turns is not None:
                self.turns.pos_end()

    def _answer(self, conn: int, end: int) -> bytes:
        """What to print above the cut ending at ``end``: the cloud's answer, b"" after the deadline."""
        assert self.answers is not None
        deadline = time.monotonic() + self.answers.wait_s
        while not self._stop.is_set():
            found, payload = self.answers.take(conn, end)
            if found:
                return payload or b""
            if time.monotonic() >= deadline:
                break
            time.sleep(_POLL_S)
        return self.answers.settle(conn, end)

    # -- the box's own use of the printer ----------------------------------------------------------
    def print_own(self, job: bytes) -> None:
        """A job of the box's own (the caller holds ``PrinterTurns.box_turn``); ``OSError`` if it failed."""
        self._refuse_while_down()
        self._write(job, hold=False)

    def ask(self, query: bytes, size: int, timeout: float, until: bytes | None = None) -> bytes:
        """Send ``query`` and collect what the printer answers (``size`` bytes, or up to ``until``, or
        what came within ``timeout``); the answer is not relayed to the POS."""
        self._refuse_while_down()
        with self._ask_lock:
            with self._cond:
                self._asking = bytearray()
            try:
                self._write(query, hold=False)
                deadline = time.monotonic() + timeout
                with self._cond:
                    while len(self._asking) < size and not (until and until in self._asking):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self._cond.wait(left)
                    return bytes(self._asking)
            finally:
                with self._cond:
                    self._asking = None

    # -- plumbing ----------------------------------------------------------------------------------
    @property
    def down(self) -> str:
        """Why the printer link is being reopened ("" while it works)."""
        return self.error if self._recovering else ""

    def _refuse_while_down(self) -> None:
        """The box's own use of a printer being reopened fails at once (it would wait behind the POS's bytes)."""
        if self._recovering:
            raise OSError(errno.EIO, self.error or "the printer link is being reopened")

    def _write(self, data: bytes, hold: bool | None = None) -> None:
        if not data:
            return
        with self._write_lock:
            try:
                self.link.write(data)
            except OSError as exc:
                recover = self.reopen is not None and (self.hold_on_failure if hold is None else hold)
                self._recovering = recover  # before the error shows: whoever sees it sees the link down too
                self.error = f"printer {self.link.name}: {exc.strerror or exc}"
                if not recover:
                    raise
                self._recover(data)
        self.error = ""
        self.stats.bytes_out += len(data)

    def _recover(self, data: bytes) -> None:
        """Reopen the failed link until ``data`` goes through (or the side stops: ``OSError``)."""
        assert self.reopen is not None
        self._recovering = True
        try:
            for attempt in itertools.count():
                if self._stop.wait(REOPEN_S[min(attempt, len(REOPEN_S) - 1)]):
                    raise OSError(errno.EIO, self.error)
                with contextlib.suppress(Exception):
                    self.link.close()
                try:
                    self.link = self.reopen()
                    self.link.write(data)
                except (OSError, KlxError) as exc:
                    self.error = f"printer {self.link.name}: {getattr(exc, 'strerror', None) or exc}"
                    continue
                self.reopened += 1
                return
        finally:
            self._recovering = False

    def _hand(self, chunk: Chunk, room: list[bool]) -> None:
        self.stats.chunks += 1
        for tap, ok in zip(self.taps, room, strict=True):
            tap.hand(chunk, ok)

    def _read_printer(self) -> None:
        """The printer's bytes: to a pending ``ask``, else to the POS (and a copy to the taps)."""
        while not self._stop.is_set():
            asked_at = time.monotonic()
            try:
                data = self.link.read(READ_S)
            except Exception as exc:  # the printer link failed (unplugged USB): note it, try again
                self.error = f"printer {self.link.name}: {exc}"
                self._stop.wait(RETRY_S)
                continue
            if data is None:
                self.error = f"printer {self.link.name}: the printer closed the connection"
                self._stop.wait(RETRY_S)
                continue
            if not data:
                if time.monotonic() - asked_at < READ_S / 10:  # a link that does not wait: do not spin
                    self._stop.wait(READ_S / 5)
                continue
            self.last_reply = time.monotonic()
            with self._cond:
                if self._asking is not None:
                    self._asking += data
                    self._cond.notify_all()
                    continue
            current = self._reply
            conn, reply = current if current is not None else (0, self.idle_reply)
            if reply is not None:
                with contextlib.suppress(OSError):  # the POS went away: the answer has nobody to go to
                    reply(data)
            room = [tap.reserve(len(data)) for tap in self.taps]
            self.stats.bytes_in += len(data)
            self._hand(Chunk(time.time(), TO_HOST, conn, data), room)


def run_stream(pos: ByteLink, side: PrinterSide, stop: threading.Event, gap_s: float = JOB_GAP_S) -> None:
    """A stream POS (serial port, pty, USB printer gadget) on ``side`` until ``stop``: a job begins with
    the first byte after a quiet ``gap_s`` and ends with the next quiet gap that falls between receipts
    (with a cut gate: after a cut, nothing printed since), or with ``UNCUT_GAP_S`` of quiet."""
    side.idle_reply = pos.write
    side.hold_on_failure = True  # nothing to tell a serial POS but its flow control: wait for the printer
    in_job, last = False, 0.0
    while not stop.is_set():
        try:
            data = pos.read(READ_S)
        except OSError:
            data = None
        now = time.monotonic()
        if not data:
            quiet = now - last
            if in_job and (data is None or quiet >= UNCUT_GAP_S or (quiet >= gap_s and side.between_receipts(0))):
                side.pause(0)  # a short pause inside a receipt (no cut yet) is not a gap: the job goes on
                in_job = False
            if data is None:
                stop.wait(READ_S)
            continue
        if not in_job:
            side.begin_job(0, pos.write)
            side.stats.connections += 1
            in_job = True
        last = now
        try:
            side.feed(0, data)
        except OSError as exc:
            side.stats.refused += 1
            side.stats.last_error = f"printer {side.link.name}: {exc.strerror or exc}"
    if in_job:
        side.pause(0)
