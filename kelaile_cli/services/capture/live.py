"""Live capture: be (or sit in front of) the printer, pass every byte through, tap a copy.

The flow is the product's first promise: bytes reach the printer first and unchanged, in both
directions; the tap (recording, decoding, display) gets a copy through a queue that a separate
thread drains, so nothing it does — even crashing — can slow or stop printing.

TCP: ``listen://`` accepts POS connections (one print job each), each forwarded to its own
connection to ``tcp://`` when ``--forward`` is given. If the printer cannot be reached, the POS
connection is closed at once: the POS sees a failed print, as it would with the printer down,
rather than a job silently swallowed. Without ``--forward`` klx is a virtual printer that answers
real-time status requests (``DLE EOT n``) with "online, no error".
Serial: a port is read passively (sniff) or bridged to a second port (``--forward``), both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import re
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk, Direction
from kelaile_cli.core.stream.cut_gate import CutGate
from kelaile_cli.core.stream.printstream import DecodeOptions, PrintStream
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.services.emulator.answer_board import AnswerBoard
from kelaile_cli.transports.endpoints import Endpoint
from kelaile_cli.transports.serial import open_port
from kelaile_cli.transports.usb import UsbPrinter

__all__ = ["CaptureStats", "ReceiptSink", "SerialSettings", "Tap", "run_capture"]

Sink = Callable[[Chunk], None]
_DLE_EOT = re.compile(rb"\x10\x04([\x01-\x04])")
READ_SIZE = 65536
UPSTREAM_TIMEOUT = 5.0
DRAIN_AFTER_EOF = 2.0
TICK = 0.5  # seconds between status updates
SHUTDOWN_QUIET = 0.2  # seconds without a new connection before the listener closes on stop
SHUTDOWN_GRACE = 3.0  # at most this long


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
    refused: int = 0  # POS connections closed because the printer could not be reached
    last_error: str = ""


class Tap(threading.Thread):
    """Hands copies of the flow to sinks on its own thread; a failing sink is counted, not fatal."""

    def __init__(self, sinks: list[Sink], stats: CaptureStats) -> None:
        super().__init__(name="klx-tap", daemon=True)
        self.sinks = sinks
        self.stats = stats
        self._queue: queue.SimpleQueue[Chunk | int | None] = queue.SimpleQueue()

    def put(self, chunk: Chunk) -> None:
        self._queue.put(chunk)

    def end(self, conn: int) -> None:
        """Connection ``conn`` has closed: sinks may flush what they hold for it."""
        self._queue.put(conn)

    def run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, int):
                for sink in self.sinks:
                    end = getattr(sink, "end_connection", None)
                    if callable(end):
                        self._safely(end, item)
                continue
            self.stats.chunks += 1
            for sink in self.sinks:
                self._safely(sink, item)

    def _safely(self, fn: Callable[..., None], arg: object) -> None:
        try:
            fn(arg)
        except Exception as exc:  # a tap must never take the flow down with it
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"

    def finish(self) -> None:
        """Drain everything queued so far, then stop."""
        self._queue.put(None)
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


# -- TCP ---------------------------------------------------------------------------------------------


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TcpCapture:
    def __init__(
        self,
        listen: Endpoint,
        forward: Endpoint | None,
        tap: Tap,
        stats: CaptureStats,
        max_jobs: int | None,
        usb: UsbPrinter | None = None,
        answers: AnswerBoard | None = None,
    ) -> None:
        self.listen, self.forward, self.tap, self.stats = listen, forward, tap, stats
        self.answers = answers
        self.usb = usb
        self._usb_lock = asyncio.Lock()
        self.max_jobs = max_jobs
        self.stop = asyncio.Event()
        self._conn_ids = itertools.count()
        self._last_accept = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = next(self._conn_ids)
        self._last_accept = time.monotonic()
        self.stats.connections += 1
        _nodelay(writer)
        try:
            if self.forward is None:
                await self._virtual_printer(conn, reader, writer)
            else:
                await self._proxy(conn, reader, writer)
        finally:
            with contextlib.suppress(OSError):
                writer.close()
            self.tap.end(conn)
            self.stats.jobs_done += 1
            if task is not None:
                self._tasks.discard(task)
            if self.max_jobs and self.stats.jobs_done >= self.max_jobs:
                self.stop.set()

    async def _virtual_printer(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tail = b""
        while data := await reader.read(READ_SIZE):
            self.stats.bytes_out += len(data)
            self.tap.put(Chunk(time.time(), TO_PRINTER, conn, data))
            window = tail + data
            for m in _DLE_EOT.finditer(window):
                if m.end() > len(tail):
                    writer.write(b"\x16" if m.group(1) == b"\x01" else b"\x12")
            tail = window[-2:]
            await writer.drain()

    async def _proxy_usb(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One USB printer serves one job at a time: POS connections queue for it."""
        assert self.usb is not None
        usb, loop = self.usb, asyncio.get_running_loop()
        async with self._usb_lock:
            done = asyncio.Event()

            async def from_printer() -> None:
                while True:
                    data = await loop.run_in_executor(None, usb.read)
                    if data:
                        writer.write(data)
                        with contextlib.suppress(ConnectionError, OSError):
                            await writer.drain()
                        self.stats.bytes_in += len(data)
                        self.tap.put(Chunk(time.time(), TO_HOST, conn, data))
                    elif done.is_set():
                        return

            replies = asyncio.create_task(from_printer())
            try:
                while data := await reader.read(READ_SIZE):
                    await loop.run_in_executor(None, usb.write, data)  # the printer first ...
                    self.stats.bytes_out += len(data)
                    self.tap.put(Chunk(time.time(), TO_PRINTER, conn, data))  # ... then the copy
            except (ConnectionError, OSError):
                pass
            done.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(replies, DRAIN_AFTER_EOF)

    async def _proxy(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.forward is not None
        if self.forward.kind == "usb":
            await self._proxy_usb(conn, reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(self.forward.host, self.forward.port), UPSTREAM_TIMEOUT
            )
        except (OSError, TimeoutError) as exc:
            self.stats.refused += 1
            self.stats.last_error = f"printer {self.forward} unreachable: {exc}"
            return
        _nodelay(up_writer)

        gate = CutGate() if self.answers is not None else None

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, direction: Direction) -> None:
            try:
                while data := await src.read(READ_SIZE):
                    if gate is not None and direction == TO_PRINTER:
                        await self._gated(gate, conn, data, dst)
                        continue
                    dst.write(data)  # the printer (or the POS) first ...
                    await dst.drain()
                    if direction == TO_PRINTER:
                        self.stats.bytes_out += len(data)
                    else:
                        self.stats.bytes_in += len(data)
                    self.tap.put(Chunk(time.time(), direction, conn, data))  # ... then the copy
                if gate is not None and direction == TO_PRINTER:
                    dst.write(gate.flush().forward)  # the POS is done: nothing more can complete a cut
                    await dst.drain()
                if dst.can_write_eof():
                    dst.write_eof()
            except (ConnectionError, OSError):
                pass

        to_printer = asyncio.create_task(pump(reader, up_writer, TO_PRINTER))
        to_pos = asyncio.create_task(pump(up_reader, writer, TO_HOST))
        await to_printer
        try:  # the POS is done: give the printer a moment to answer and hang up
            await asyncio.wait_for(to_pos, DRAIN_AFTER_EOF)
        except TimeoutError:
            to_pos.cancel()
        with contextlib.suppress(OSError):
            up_writer.close()

    async def _gated(self, gate: CutGate, conn: int, data: bytes, dst: asyncio.StreamWriter) -> None:
        """Forward through the cut gate: every byte goes on at once except a receipt's cut, which
        waits (up to the board's deadline) for the cloud's answer to be printed above it."""
        assert self.answers is not None
        result = gate.feed(data)
        dst.write(result.forward)
        await dst.drain()
        self.stats.bytes_out += len(data)
        self.tap.put(Chunk(time.time(), TO_PRINTER, conn, data))  # the pipeline sees the POS's bytes
        while result.cut_held:
            payload = await self.answers.wait(conn, result.cut_end)
            result = gate.release(payload)
            dst.write(result.forward)
            await dst.drain()

    async def _ticks(self, on_tick: Callable[[CaptureStats], None]) -> None:
        while True:
            await asyncio.sleep(TICK)
            on_tick(self.stats)

    async def _watch(self, external_stop: threading.Event) -> None:
        while not external_stop.is_set():
            await asyncio.sleep(0.05)
        self.stop.set()

    async def run(
        self,
        ready: Callable[[str, int], None],
        duration: float | None,
        on_tick: Callable[[CaptureStats], None] | None = None,
        external_stop: threading.Event | None = None,
    ) -> None:
        try:
            server = await asyncio.start_server(self.handle, self.listen.host, self.listen.port, reuse_address=True)
        except OSError as exc:
            raise InputError(
                f"{self.listen}: cannot listen ({exc.strerror or exc})",
                remedy="is another program (or klx) already using this port? pick another port",
            ) from None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.stop.set)
        host, port = server.sockets[0].getsockname()[:2]
        ready(host, port)
        ticker = asyncio.create_task(self._ticks(on_tick)) if on_tick is not None else None
        watcher = asyncio.create_task(self._watch(external_stop)) if external_stop is not None else None
        async with server:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), duration)
            # Jobs a POS already sent may still wait in the kernel's accept queue: keep accepting
            # until it has been quiet for a moment, so stopping klx never resets a queued job.
            quiet_since = time.monotonic()
            while time.monotonic() - max(self._last_accept, quiet_since) < SHUTDOWN_QUIET:
                if time.monotonic() - quiet_since > SHUTDOWN_GRACE:
                    break
                await asyncio.sleep(0.02)
            server.close()
            if self._tasks:  # let jobs in flight finish: never cut a receipt in half
                await asyncio.wait(self._tasks, timeout=DRAIN_AFTER_EOF + 1)
        for task in (ticker, watcher):
            if task is not None:
                task.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


# -- serial --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """Line settings for serial endpoints (both sides of a bridge use the same)."""

    baud: int = 9600
    parity: str = "N"  # N, E, O, M, S
    rtscts: bool = False
    xonxoff: bool = False
    dsrdtr: bool = False


def _open_serial(ep: Endpoint, line: SerialSettings) -> Any:
    if line.parity not in ("N", "E", "O", "M", "S"):
        raise InputError(f"--parity {line.parity}: expected N, E, O, M or S")
    return open_port(
        ep.path, baud=line.baud, parity=line.parity, rtscts=line.rtscts, xonxoff=line.xonxoff, dsrdtr=line.dsrdtr
    )


class _SerialLink:
    """read()/write()/close() over a pyserial port, like ``UsbPrinter``."""

    def __init__(self, port: Any) -> None:
        self.port = port

    def read(self) -> bytes:
        return bytes(self.port.read(self.port.in_waiting or 1))

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def close(self) -> None:
        self.port.close()


def _run_serial(source: Endpoint, printer: _SerialLink | UsbPrinter | None, tap: Tap, stats: CaptureStats,
                line: SerialSettings, duration: float | None, stop: threading.Event,
                ready: Callable[[str, int], None],
                on_tick: Callable[[CaptureStats], None] | None = None,
                source_link: Any = None) -> None:  # fmt: skip
    pos = source_link if source_link is not None else _SerialLink(_open_serial(source, line))
    stats.connections = 1
    ready(source.path, 0)

    def pump(src: _SerialLink | UsbPrinter, dst: _SerialLink | UsbPrinter | None, direction: Direction) -> None:
        while not stop.is_set():
            try:
                data = src.read()
            except OSError:
                stop.set()
                return
            if not data:
                continue
            if dst is not None:
                dst.write(data)
            if direction == TO_PRINTER:
                stats.bytes_out += len(data)
            else:
                stats.bytes_in += len(data)
            tap.put(Chunk(time.time(), direction, 0, data))

    threads = [threading.Thread(target=pump, args=(pos, printer, TO_PRINTER), daemon=True)]
    if printer is not None:
        threads.append(threading.Thread(target=pump, args=(printer, pos, TO_HOST), daemon=True))
    for t in threads:
        t.start()
    deadline = None if duration is None else time.monotonic() + duration
    while not stop.is_set():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            break
        stop.wait(TICK if left is None else min(TICK, left))
        if on_tick is not None:
            on_tick(stats)
    stop.set()
    for t in threads:
        t.join(timeout=2)
    pos.close()
    if printer is not None:
        printer.close()


def run_capture(
    source: Endpoint,
    forward: Endpoint | None,
    sinks: list[Sink],
    *,
    duration: float | None = None,
    max_jobs: int | None = None,
    serial_line: SerialSettings | None = None,
    on_tick: Callable[[CaptureStats], None] | None = None,
    ready: Callable[[str, int], None] = lambda host, port: None,
    usb_backend: Any = None,
    stop: threading.Event | None = None,
    stats: CaptureStats | None = None,
    source_link: Any = None,
    answers: AnswerBoard | None = None,
) -> CaptureStats:
    """Capture until ``duration`` passes, ``max_jobs`` connections have finished, or SIGINT/SIGTERM.

    ``usb_backend`` is a pyusb backend for ``usb://`` printers (None: libusb); tests pass the
    emulated printer of ``transports.usb_emulated`` since no USB hardware exists there.
    ``stop``: set it from another thread to end the capture (the box emulator's reboot); ``stats``:
    the object to count into, so a caller can watch the counters while the capture runs;
    ``source_link``: an already open serial-like source (``read()``/``write()``/``close()``), e.g. the
    master side of the pty the box emulator offers to a POS; ``answers``: hold each receipt's cut on
    the way to a TCP printer until the box's pipeline publishes what to print above it (the box)."""
    if forward is not None and forward.kind not in ("tcp", "serial", "usb"):
        raise InputError(f"--forward {forward}: forwarding goes to tcp://HOST:PORT, usb://VID:PID or a serial port")
    if source.kind not in ("listen", "serial"):
        raise InputError(
            f"{source}: live capture reads from listen://HOST:PORT or a serial port",
            remedy="for files use `klx show`/`klx parse`; for packet captures `klx import`",
        )
    if source.kind == "listen" and forward is not None and forward.kind == "serial":
        raise InputError(f"--forward {forward}: a listen:// source forwards to tcp://HOST:PORT or usb://VID:PID")
    usb = UsbPrinter(forward.vid, forward.pid, backend=usb_backend) if forward and forward.kind == "usb" else None
    stats = stats if stats is not None else CaptureStats()
    tap = Tap(sinks, stats)
    tap.start()
    try:
        if source.kind == "listen":
            capture = _TcpCapture(source, forward, tap, stats, max_jobs, usb, answers)
            asyncio.run(capture.run(ready, duration, on_tick, stop))
        else:
            stop = stop if stop is not None else threading.Event()
            old = {}
            if threading.current_thread() is threading.main_thread():
                old = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
            line = serial_line or SerialSettings()
            printer = usb or (_SerialLink(_open_serial(forward, line)) if forward is not None else None)
            try:
                _run_serial(source, printer, tap, stats, line, duration, stop, ready, on_tick, source_link)
            finally:
                for sig, handler in old.items():
                    signal.signal(sig, handler)
    finally:
        tap.finish()
        if usb is not None and source.kind == "listen":
            usb.close()
    for sink in sinks:
        close = getattr(sink, "close", None)
        if callable(close):
            close()
    if stats.refused and not stats.bytes_out:
        raise JobError(stats.last_error, remedy="check the printer's address and that it is switched on")
    return stats
