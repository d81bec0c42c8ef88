"""Live capture over TCP: be the network printer (``listen://``) and pass each job through to the real
one (``tcp://``: a connection per job; any other printer: its ``PrinterSide``), or answer as a virtual
printer.

The printer gets every byte first; the taps get copies. If the printer cannot be reached (or drops the
connection mid-job), the POS connection is *reset* (RST, ``SO_LINGER`` 0), never closed cleanly: a POS
reports a reset as a failed print, where a clean close would look like a job printed. After the POS
half-closes, the printer's replies are still relayed until the printer hangs up, or has been silent
for ``REPLY_IDLE`` seconds.

In the box (``turns`` given), a POS job holds the printer's turn, so the box prints its own tickets (online
orders, a test print) only between POS jobs. A POS that keeps its connection open between receipts gives
the turn back once it has been quiet ``JOB_GAP_S`` after a receipt's cut, or ``UNCUT_GAP_S`` without one (a
serial POS's rule), and takes it again with its next byte; meanwhile the box's own jobs go down that
connection's printer connection (``inject``), since a network printer may serve one connection at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import re
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk
from kelaile_cli.core.stream.cut_gate import CutGate
from kelaile_cli.services.capture.answer_board import AnswerBoard
from kelaile_cli.services.capture.printer_side import JOB_GAP_S, UNCUT_GAP_S, PrinterSide
from kelaile_cli.services.capture.printer_turns import PrinterTurns
from kelaile_cli.services.capture.tap import CaptureStats, Tap
from kelaile_cli.transports.endpoints import Endpoint

__all__ = ["REPLY_IDLE", "TcpCapture"]

_DLE_EOT = re.compile(rb"\x10\x04([\x01-\x04])")
READ_SIZE = 65536
UPSTREAM_TIMEOUT = 5.0
DRAIN_AFTER_EOF = 2.0  # a printer link: longest the replies are relayed after the POS is done
REPLY_QUIET = 0.2  # ... once the printer has been quiet this long
REPLY_IDLE = 30.0  # TCP: relay the printer's replies after the POS half-closes until this long silent
TICK = 0.5  # seconds between status updates
SHUTDOWN_QUIET = 0.2  # seconds without a new connection before the listener closes on stop
SHUTDOWN_GRACE = 3.0  # at most this long
_LINGER_RESET = struct.pack("ii", 1, 0)
GAP_CHECK_S = 0.1  # how often connections held open are looked at for a job gap


@dataclass(slots=True, eq=False)
class _HeldJob:
    """A POS connection that holds the printer's turn (box only). A POS may keep one connection open from
    receipt to receipt: quiet after a cut (as a serial POS), its job is over and the turn goes back."""

    pause: Callable[[], Awaitable[None]]  # give the turn back (what a cut gate kept goes on first)
    resume: Callable[[], Awaitable[None]]  # take it again (waits while the box prints a ticket)
    boundary: Callable[[], bool]  # the POS's bytes so far end between receipts (after a cut)
    last: float = field(default_factory=time.monotonic)  # when its last bytes were forwarded
    busy: bool = False  # forwarding now (a cut may be held for the cloud's answer): never a gap
    paused: bool = False  # the turn went back; the next byte takes it again
    printer: asyncio.StreamWriter | None = None  # its printer connection (TCP printer): the box's own jobs go here
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # a pause and a resume never overlap

    async def begin_bytes(self) -> None:
        """Bytes came from the POS: no gap now; after one, the turn is taken again first."""
        self.busy = True
        if self.paused:
            async with self.lock:
                if self.paused:
                    await self.resume()
                    self.paused = False

    def _over(self, now: float) -> bool:
        quiet = now - self.last
        return quiet >= UNCUT_GAP_S or (quiet >= JOB_GAP_S and self.boundary())

    def end_bytes(self) -> None:
        self.busy = False
        self.last = time.monotonic()

    async def gap(self, now: float) -> None:
        """Not forwarding, and quiet ``JOB_GAP_S`` after a receipt's cut (or ``UNCUT_GAP_S`` without one): the
        job is over, the turn goes back. A POS briefly quiet inside a receipt keeps it: nothing of the box's
        goes inside a receipt."""
        if self.paused or self.busy or not self._over(now):
            return
        async with self.lock:
            if not (self.paused or self.busy) and self._over(now):
                try:
                    await self.pause()
                except (ConnectionError, OSError, RuntimeError):  # the printer connection went: it ends anyway
                    return
                self.paused = True


def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Relay a printer answer to a POS connection that may be gone already."""
    if not writer.is_closing():
        writer.write(data)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), so the peer sees a failure rather than an end of job."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    writer.transport.abort()


class _PrinterGoneError(Exception):
    """The printer refused or dropped the connection: the POS must see its job fail."""


class TcpCapture:
    """One listening socket; each POS connection is one job, proxied or answered by a virtual printer."""

    def __init__(
        self,
        listen: Endpoint,
        forward: Endpoint | None,
        taps: list[Tap],
        stats: CaptureStats,
        max_jobs: int | None,
        answers: AnswerBoard | None = None,
        turns: PrinterTurns | None = None,
        printer_side: PrinterSide | None = None,
    ) -> None:
        self.listen, self.forward, self.taps, self.stats = listen, forward, taps, stats
        self.answers = answers
        self.turns = turns  # a POS job holds the printer from its connection until its last byte went on
        self._holding: set[int] = set()  # connections holding the printer's turn
        self._held: dict[int, _HeldJob] = {}  # connections open with the turns on: their job gaps
        self.loop: asyncio.AbstractEventLoop | None = None
        self.printer_side = printer_side  # a printer that is not a TCP printer: one job at a time on its link
        self._side_lock = asyncio.Lock()
        self.max_jobs = max_jobs
        self.stop = asyncio.Event()
        self._conn_ids = itertools.count()
        self._last_accept = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._replies_only: set[asyncio.Task[None]] = set()  # jobs done, only waiting for printer replies

    async def _room(self, size: int) -> list[bool]:
        """Reserve room for a copy in every tap *before* the bytes are forwarded; waits only while
        the recorder is ``RECORD_LAG_BYTES`` behind (then at most ``RECORD_WAIT``)."""
        got = []
        for tap in self.taps:
            ok = tap.try_reserve(size)
            if ok is None:
                ok = await asyncio.get_running_loop().run_in_executor(None, tap.reserve, size)
            got.append(ok)
        return got

    def _hand(self, chunk: Chunk, room: list[bool]) -> None:
        self.stats.chunks += 1
        for tap, ok in zip(self.taps, room, strict=True):
            tap.hand(chunk, ok)

    def _end(self, conn: int) -> None:
        for tap in self.taps:
            tap.end(conn)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = next(self._conn_ids)
        self._last_accept = time.monotonic()
        self.stats.connections += 1
        try:
            if self.forward is None and self.printer_side is None:
                await self._virtual_printer(conn, reader, writer)
            elif self.printer_side is not None:
                await self._proxy_link(conn, reader, writer)  # the printer side keeps the turns
            else:
                if self.turns is not None:
                    await self._take_turn(conn)  # waits only while the box prints a ticket of its own
                await self._proxy(conn, reader, writer)
        except _PrinterGoneError:
            reset(writer)
        finally:
            self._held.pop(conn, None)
            self._release_turn(conn)
            with contextlib.suppress(OSError):
                writer.close()
            self._end(conn)
            self.stats.jobs_done += 1
            if task is not None:
                self._tasks.discard(task)
                self._replies_only.discard(task)
            if self.max_jobs and self.stats.jobs_done >= self.max_jobs:
                self.stop.set()

    async def _virtual_printer(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tail = b""
        while data := await reader.read(READ_SIZE):
            self.stats.bytes_out += len(data)
            self._hand(Chunk(time.time(), TO_PRINTER, conn, data), await self._room(len(data)))
            window = tail + data
            for m in _DLE_EOT.finditer(window):
                if m.end() > len(tail):
                    writer.write(b"\x16" if m.group(1) == b"\x01" else b"\x12")
            tail = window[-2:]
            await writer.drain()

    async def _proxy_link(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A printer on a link of its own (USB, serial, lp) serves one job at a time: POS connections queue
        for it; the printer side does the cut gate, the turns and the relay of its answers."""
        assert self.printer_side is not None
        side, loop = self.printer_side, asyncio.get_running_loop()

        def reply(data: bytes) -> None:  # from the printer side's thread
            loop.call_soon_threadsafe(_send, writer, data)

        async def pause() -> None:
            await loop.run_in_executor(None, side.pause, conn)

        async def resume() -> None:
            await loop.run_in_executor(None, side.begin_job, conn, reply)

        async with self._side_lock:
            await resume()
            job = self._held[conn] = _HeldJob(pause, resume, lambda: side.between_receipts(conn))
            failed = False
            try:
                while data := await reader.read(READ_SIZE):
                    await job.begin_bytes()
                    try:
                        await loop.run_in_executor(None, side.feed, conn, data)
                    except OSError:
                        failed = True
                        break
                    finally:
                        job.end_bytes()
            except (ConnectionError, OSError):
                pass  # the POS went away
            finally:
                async with job.lock:
                    del self._held[conn]
                await loop.run_in_executor(None, side.end_job, conn)
            if failed:
                self.stats.refused += 1
                self.stats.last_error = side.error or f"printer {self.forward} failed mid-job"
                raise _PrinterGoneError
            done = time.monotonic()
            while time.monotonic() - done < DRAIN_AFTER_EOF:  # the printer's answers to the job's last requests
                if time.monotonic() - max(done, side.last_reply) >= REPLY_QUIET:
                    break
                await asyncio.sleep(0.02)

    async def _take_turn(self, conn: int) -> None:
        assert self.turns is not None
        await self.turns.pos_begin()
        self._holding.add(conn)

    def _release_turn(self, conn: int) -> None:
        """The POS job's last byte went on (or the connection ended): the box may print between jobs now."""
        if conn in self._holding and self.turns is not None:
            self._holding.discard(conn)
            self.turns.pos_end()

    async def _proxy(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.forward is not None
        try:
            async with asyncio.timeout(UPSTREAM_TIMEOUT):  # no task of its own, unlike wait_for
                up_reader, up_writer = await asyncio.open_connection(self.forward.host, self.forward.port)
        except (OSError, TimeoutError) as exc:
            self.stats.refused += 1
            self.stats.last_error = f"printer {self.forward} unreachable: {exc}"
            raise _PrinterGoneError from None
        try:
            await self._relay(conn, reader, writer, up_reader, up_writer)
        finally:
            with contextlib.suppress(OSError):
                up_writer.close()

    async def _relay(
        self,
        conn: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        gate = CutGate() if self.answers is not None else None
        last_reply = [time.monotonic()]
        job: _HeldJob | None = None
        if self.turns is not None:

            async def pause() -> None:
                if gate is not None:
                    up_writer.write(gate.flush().forward)  # bytes kept in case they began a cut go on now
                    await up_writer.drain()
                self._release_turn(conn)

            job = self._held[conn] = _HeldJob(
                pause,
                lambda: self._take_turn(conn),
                lambda: gate is not None and gate.between_receipts,  # no gate: only the long gap tells
                printer=up_writer,
            )

        async def to_printer() -> bool:
            """POS -> printer; False if the printer dropped the connection before the job ended."""
            while True:
                try:
                    data = await reader.read(READ_SIZE)
                except (ConnectionError, OSError):
                    return True  # the POS went away: nothing to tell it
                if job is not None and data:
                    await job.begin_bytes()
                try:
                    if not data:
                        self._held.pop(conn, None)  # the job ends here: no gap to look for, nothing to inject
                        if gate is not None:
                            up_writer.write(gate.flush().forward)  # the POS is done: no cut can complete now
                            await up_writer.drain()
                        if up_writer.can_write_eof():
                            up_writer.write_eof()
                        self._release_turn(conn)  # the job is whole at the printer; its replies may still come
                        return True
                    room = await self._room(len(data))
                    if gate is not None:
                        await self._gated(gate, conn, data, up_writer, room)
                        continue
                    up_writer.write(data)  # the printer first ...
                    await up_writer.drain()
                except (ConnectionError, OSError):
                    return False
                finally:
                    if job is not None:
                        job.end_bytes()
                self.stats.bytes_out += len(data)
                self._hand(Chunk(time.time(), TO_PRINTER, conn, data), room)  # ... then the copy

        async def to_pos() -> None:
            try:
                while data := await up_reader.read(READ_SIZE):
                    last_reply[0] = time.monotonic()
                    room = await self._room(len(data))
                    writer.write(data)
                    await writer.drain()
                    self.stats.bytes_in += len(data)
                    self._hand(Chunk(time.time(), TO_HOST, conn, data), room)
                if writer.can_write_eof():
                    writer.write_eof()
            except (ConnectionError, OSError):
                pass

        replies = asyncio.create_task(to_pos())
        if not await to_printer():
            replies.cancel()
            self.stats.last_error = f"printer {self.forward} dropped connection {conn} mid-job"
            raise _PrinterGoneError
        task = asyncio.current_task()
        if task is not None:
            self._replies_only.add(task)
        last_reply[0] = max(last_reply[0], time.monotonic())
        while not replies.done():  # the POS is done: relay the printer's answers until it hangs up
            await asyncio.wait({replies}, timeout=min(1.0, REPLY_IDLE))
            if not replies.done() and time.monotonic() - last_reply[0] >= REPLY_IDLE:
                replies.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await replies

    async def _gated(self, gate: CutGate, conn: int, data: bytes, dst: asyncio.StreamWriter, room: list[bool]) -> None:
        """Forward through the cut gate: every byte goes on at once except a receipt's cut, which
        waits (up to the board's deadline) for the cloud's answer to be printed above it."""
        assert self.answers is not None
        result = gate.feed(data)
        dst.write(result.forward)
        await dst.drain()
        self.stats.bytes_out += len(data)
        self._hand(Chunk(time.time(), TO_PRINTER, conn, data), room)  # the pipeline sees the POS's bytes
        while result.cut_held:
            payload = await self.answers.wait(conn, result.cut_end)
            result = gate.release(payload)
            dst.write(result.forward)
            await dst.drain()

    async def _gaps(self) -> None:
        """Connections held open: give the turn back in a job gap (``_HeldJob.gap``)."""
        while True:
            await asyncio.sleep(GAP_CHECK_S)
            now = time.monotonic()
            for job in list(self._held.values()):
                await job.gap(now)

    async def inject(self, data: bytes) -> bool:
        """A job of the box's own (its caller holds the box's turn) sent down the printer connection of a POS
        connection held open in a job gap; False when there is none (the caller opens a connection itself)."""
        for job in list(self._held.values()):
            printer = job.printer
            if job.paused and printer is not None and not printer.is_closing():
                try:
                    printer.write(data)
                    await printer.drain()
                except (ConnectionError, OSError):
                    return False
                return True
        return False

    def inject_from_thread(self, data: bytes, timeout: float) -> bool:
        """``inject`` from another thread (the box's): False at once when no POS connection is held open."""
        loop = self.loop
        if loop is None or not any(job.paused and job.printer is not None for job in list(self._held.values())):
            return False
        sent = asyncio.run_coroutine_threadsafe(self.inject(data), loop)
        try:
            return sent.result(timeout)
        except TimeoutError:
            if sent.cancel():  # never started: nothing was written, the caller may send it another way
                return False
            raise OSError(errno.ETIMEDOUT, f"the printer did not take the box's job within {timeout:g} s") from None

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
        on_tick: Callable[[CaptureStats], None] | None,
        external_stop: threading.Event,
    ) -> None:
        try:
            server = await asyncio.start_server(self.handle, self.listen.host, self.listen.port, reuse_address=True)
        except OSError as exc:
            raise InputError(
                f"{self.listen}: cannot listen ({exc.strerror or exc})",
                remedy="is another program (or klx) already using this port? pick another port",
            ) from None
        host, port = server.sockets[0].getsockname()[:2]
        self.loop = asyncio.get_running_loop()
        ready(host, port)
        ticker = asyncio.create_task(self._ticks(on_tick)) if on_tick is not None else None
        watcher = asyncio.create_task(self._watch(external_stop))
        gaps = asyncio.create_task(self._gaps()) if self.turns is not None else None
        async with server:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), duration)
            await self._shutdown(server)
        for task in (ticker, watcher, gaps):
            if task is not None:
                task.cancel()

    async def _shutdown(self, server: asyncio.Server) -> None:
        # Jobs a POS already sent may still wait in the kernel's accept queue: keep accepting
        # until it has been quiet for a moment, so stopping klx never resets a queued job.
        quiet_since = time.monotonic()
        while time.monotonic() - max(self._last_accept, quiet_since) < SHUTDOWN_QUIET:
            if time.monotonic() - quiet_since > SHUTDOWN_GRACE:
                break
            await asyncio.sleep(0.02)
        server.close()
        for task in list(self._replies_only):  # their jobs are printed: stop waiting for replies
            task.cancel()
        if self._tasks:  # let jobs in flight finish: never cut a receipt in half
            await asyncio.wait(self._tasks, timeout=DRAIN_AFTER_EOF + 1)
