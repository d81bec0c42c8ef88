"""Live capture: be (or sit in front of) the printer, pass every byte through, tap a copy.

The flow is the product's first promise: bytes reach the printer first and unchanged, in both
directions; taps (recording, decoding, display) get copies on their own threads, so nothing they do —
even crashing — can stop printing (the recorder may hold it up by at most ``RECORD_LAG_BYTES``, see
``tap.py``).

``Capture`` is the one entry point::

    capture = Capture(CaptureOptions(source=parse_endpoint("listen://0.0.0.0:9100"), recorders=[writer]))
    capture.start()            # returns once listening (or raises: port busy, no printer, ...)
    capture.wait(timeout)      # True once it ended by itself (duration, max_jobs)
    stats = capture.stop()     # drain, close the sinks, final counters
    capture.stats()            # live counters, at any time, from any thread

No signal handling here: the caller (the CLI) turns SIGINT/SIGTERM into ``request_stop()``.

TCP (``listen://``) is in ``tcp.py``. Serial: a port is read passively (sniff) or bridged to a printer
(``forward``: a second port or a USB printer; or an already open ``printer_link``), both ways. Every
printer that is not a TCP printer behind a TCP POS is driven through ``printer_side.PrinterSide`` (cut
gate, turns, status relay), whatever the POS side.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk
from kelaile_cli.services.capture.answer_board import AnswerBoard
from kelaile_cli.services.capture.printer_side import PrinterSide, run_stream
from kelaile_cli.services.capture.printer_turns import PrinterTurns
from kelaile_cli.services.capture.tap import (
    RECORD_LAG_BYTES,
    RECORD_WAIT,
    SETTLE,
    CaptureStats,
    ReceiptSink,
    Sink,
    Tap,
)
from kelaile_cli.services.capture.tcp import TICK, TcpCapture
from kelaile_cli.transports.endpoints import Endpoint
from kelaile_cli.transports.serial import SerialLink, open_port
from kelaile_cli.transports.usb import UsbPrinter

__all__ = ["Capture", "CaptureOptions", "CaptureStats", "ReceiptSink", "SerialSettings", "Sink"]

START_TIMEOUT = 15.0  # seconds start() waits for the source to open


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """Line settings for serial endpoints (both sides of a bridge use the same)."""

    baud: int = 9600
    parity: str = "N"  # N, E, O, M, S
    rtscts: bool = False
    xonxoff: bool = False
    dsrdtr: bool = False


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (libuv: the latency the passthrough adds per job comes
    near socat's, docs/performance.md), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


@dataclass(frozen=True)
class CaptureOptions:
    """What to capture and where the copies go.

    ``sinks`` decode/display: they never hold printing up (past 64 MiB behind they miss copies,
    counted in ``stats.dropped``). ``recorders`` write files: printing waits for them when they are
    ``record_lag_bytes`` behind, so a killed recorder loses at most that much.
    ``usb_backend``: a pyusb backend for ``usb://`` printers (None: libusb; tests pass an emulated one).
    ``source_link``: an already open serial-like source (``read()``/``write()``/``close()``), e.g. the
    pty the box emulator offers a POS. ``answers``: hold each receipt's cut on the way to a TCP printer
    until the box's pipeline publishes what to print above it. ``stats``: the object to count into."""

    source: Endpoint
    forward: Endpoint | None = None
    sinks: Sequence[Sink] = ()
    recorders: Sequence[Sink] = ()
    duration: float | None = None
    max_jobs: int | None = None
    serial_line: SerialSettings = field(default_factory=SerialSettings)
    on_tick: Callable[[CaptureStats], None] | None = None
    on_ready: Callable[[str, int], None] | None = None
    usb_backend: Any = None
    source_link: Any = None
    answers: AnswerBoard | None = None
    turns: PrinterTurns | None = None  # the box's own jobs (online orders) print only between POS jobs
    printer_link: Any = None  # an already open printer ``ByteLink`` (the box's serial/USB/lp/file printer)
    printer_reopen: Callable[[], Any] | None = None  # opens it again after it failed (unplugged, plugged back)
    stats: CaptureStats | None = None
    record_lag_bytes: int = RECORD_LAG_BYTES


def _check(o: CaptureOptions) -> None:
    if o.forward is not None and o.forward.kind not in ("tcp", "serial", "usb") and o.printer_link is None:
        raise InputError(f"--forward {o.forward}: forwarding goes to tcp://HOST:PORT, usb://VID:PID or a serial port")
    if o.source.kind not in ("listen", "serial"):
        raise InputError(
            f"{o.source}: live capture reads from listen://HOST:PORT or a serial port",
            remedy="for files use `klx show`/`klx parse`; for packet captures `klx import`",
        )
    if o.source.kind == "listen" and o.forward is not None and o.forward.kind == "serial" and o.printer_link is None:
        raise InputError(f"--forward {o.forward}: a listen:// source forwards to tcp://HOST:PORT or usb://VID:PID")
    if o.serial_line.parity not in ("N", "E", "O", "M", "S"):
        raise InputError(f"--parity {o.serial_line.parity}: expected N, E, O, M or S")


class Capture:
    """A running capture: ``start()``, ``wait()``, ``stop()``, ``stats()`` (see the module docstring)."""

    def __init__(self, options: CaptureOptions) -> None:
        self.options = options
        self._stats = options.stats if options.stats is not None else CaptureStats()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._ended = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._tcp: TcpCapture | None = None  # the TCP passthrough, once it runs
        self._taps: list[Tap] = []
        self._stopped = False
        self.address: tuple[str, int] = ("", 0)
        self.printer_side: PrinterSide | None = None  # the printer link, when it is not a TCP printer per job

    def stats(self) -> CaptureStats:
        return self._stats

    def start(self) -> None:
        """Open the source (and the printer) and start passing bytes; raises what prevents it."""
        o = self.options
        _check(o)
        if self._thread is not None:
            raise RuntimeError("capture already started")
        link = o.printer_link
        if link is None and o.forward is not None and o.forward.kind == "usb":
            link = UsbPrinter(o.forward.vid, o.forward.pid, backend=o.usb_backend)
        elif link is None and o.forward is not None and o.source.kind == "serial":
            link = SerialLink(_open_serial(o.forward, o.serial_line), o.forward.text)
        self._taps = [Tap(list(o.sinks), self._stats, settle=SETTLE)] if o.sinks else []
        if o.recorders:
            lag = o.record_lag_bytes
            self._taps.append(Tap(list(o.recorders), self._stats, limit=lag, wait=RECORD_WAIT, settle=SETTLE))
        for tap in self._taps:
            tap.start()
        if link is not None:
            self.printer_side = PrinterSide(link, self._taps, self._stats, o.answers, o.turns, o.printer_reopen).start()
        self._thread = threading.Thread(target=self._run, name="klx-capture", daemon=True)
        self._thread.start()
        self._ready.wait(START_TIMEOUT)
        if self._error is not None:
            self.stop()

    def _on_ready(self, host: str, port: int) -> None:
        self.address = (host, port)
        self._ready.set()
        if self.options.on_ready is not None:
            self.options.on_ready(host, port)

    def _run(self) -> None:
        o = self.options
        side = self.printer_side
        try:
            if o.source.kind == "listen":
                tcp = self._tcp = TcpCapture(
                    o.source, o.forward, self._taps, self._stats, o.max_jobs, answers=o.answers, turns=o.turns,
                    printer_side=side,
                )  # fmt: skip
                with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                    runner.run(tcp.run(self._on_ready, o.duration, o.on_tick, self._stop))
            else:
                _run_serial(o, side, self._taps, self._stats, self._stop, self._on_ready)
        except BaseException as exc:  # handed to the caller by stop()
            self._error = exc
        finally:
            if side is not None:
                side.close()
            self._ended.set()
            self._ready.set()

    def inject(self, job: bytes, timeout: float = 5.0) -> bool:
        """A job of the box's own (the caller holds ``PrinterTurns.box_turn``) sent down the printer connection
        of a TCP POS connection held open between its jobs; False when there is none to use."""
        tcp = self._tcp
        return tcp is not None and tcp.inject_from_thread(job, timeout)

    def request_stop(self) -> None:
        """Ask the capture to end (safe from a signal handler or another thread); ``stop()`` waits."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the capture ends by itself or is asked to; True if it has ended."""
        return self._ended.wait(timeout)

    def stop(self) -> CaptureStats:
        """End the capture: let jobs in flight finish, drain the taps, close the sinks. Raises the
        error that ended it, if any (port busy, printer unreachable for every job, ...)."""
        self._stop.set()
        if not self._stopped:
            self._stopped = True
            if self._thread is not None:
                self._thread.join()
            for tap in self._taps:
                tap.finish()
            for sink in [*self.options.sinks, *self.options.recorders]:
                close = getattr(sink, "close", None)
                if callable(close):
                    close()
        if self._error is not None:
            raise self._error
        s = self._stats
        if s.refused and not s.bytes_out:
            raise JobError(s.last_error, remedy="check the printer's address and that it is switched on")
        return s


# -- serial --------------------------------------------------------------------------------------------


def _open_serial(ep: Endpoint, line: SerialSettings) -> Any:
    """Through the one serial opener: the same OS error gives the same message and exit code everywhere."""
    if line.parity not in ("N", "E", "O", "M", "S"):
        raise InputError(f"--parity {line.parity}: expected N, E, O, M or S")
    return open_port(
        ep.path, baud=line.baud, parity=line.parity, rtscts=line.rtscts, xonxoff=line.xonxoff, dsrdtr=line.dsrdtr
    )


def _run_serial(
    o: CaptureOptions,
    side: PrinterSide | None,
    taps: list[Tap],
    stats: CaptureStats,
    stop: threading.Event,
    ready: Callable[[str, int], None],
) -> None:
    """A serial POS: bridged to the printer side (both ways), or only listened to (sniff)."""
    pos = o.source_link
    if pos is None:
        pos = SerialLink(_open_serial(o.source, o.serial_line), o.source.text)
    ready(o.source.path, 0)
    if side is not None:
        thread = threading.Thread(target=run_stream, args=(pos, side, stop), daemon=True)
    else:
        stats.connections = 1
        thread = threading.Thread(target=_sniff, args=(pos, taps, stats, stop), daemon=True)
    thread.start()
    deadline = None if o.duration is None else time.monotonic() + o.duration
    while not stop.is_set():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            break
        stop.wait(TICK if left is None else min(TICK, left))
        if o.on_tick is not None:
            o.on_tick(stats)
    stop.set()
    thread.join(timeout=2)
    pos.close()


def _sniff(pos: Any, taps: list[Tap], stats: CaptureStats, stop: threading.Event) -> None:
    """Listen to a serial line without forwarding anything (what the POS sends, as the printer sees it)."""
    while not stop.is_set():
        try:
            data = pos.read()
        except OSError:
            stop.set()
            return
        if not data:
            continue
        room = [tap.reserve(len(data)) for tap in taps]
        stats.bytes_out += len(data)
        chunk = Chunk(time.time(), TO_PRINTER, 0, data)
        stats.chunks += 1
        for tap, ok in zip(taps, room, strict=True):
            tap.hand(chunk, ok)
