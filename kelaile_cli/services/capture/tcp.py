"""Live capture over TCP: be the network printer (``listen://``) and pass each job through to the real
one (``tcp://``: a connection per job; any other printer: its ``PrinterSide``), or answer as a virtual
printer.

The printer gets every byte first; the taps get copies. If the printer cannot be reached (or drops the
connection mid-job), the POS connection is *reset* (RST, ``SO_LINGER`` 0), never closed cleanly: a POS
reports a reset as a failed print, where a clean close would look like a job printed. After the POS
half-closes, the printer's replies are still relayed until the printer hangs up, or has been silent
for ``REPLY_IDLE`` seconds.

Both event loops klx runs on (uvloop, asyncio's) set ``TCP_NODELAY`` on every TCP transport: a job's
last bytes and the printer's status replies go out at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import socket
import struct
import threading
import time
from collections.abc import Callable

from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_HOST, TO_PRINTER, Chunk
from kelaile_cli.core.stream.cut_gate import CutGate
from kelaile_cli.services.capture.answer_board import AnswerBoard
from kelaile_cli.services.capture.printer_side import PrinterSide
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
                    await self.turns.pos_begin()  # waits only while the box prints a ticket of its own
                    self._holding.add(conn)
                await self._proxy(conn, reader, writer)
        except _PrinterGoneError:
            reset(writer)
        finally:
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

        async with self._side_lock:
            await loop.run_in_executor(None, side.begin_job, conn, reply)
            failed = False
            try:
                while data := await reader.read(READ_SIZE):
                    try:
                        await loop.run_in_executor(None, side.feed, conn, data)
                    except OSError:
                        failed = True
                        break
            except (ConnectionError, OSError):
                pass  # the POS went away
            finally:
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

        async def to_printer() -> bool:
            """POS -> printer; False if the printer dropped the connection before the job ended."""
            while True:
                try:
                    data = await reader.read(READ_SIZE)
                except (ConnectionError, OSError):
                    return True  # the POS went away: nothing to tell it
                try:
                    if not data:
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
        ready(host, port)
        ticker = asyncio.create_task(self._ticks(on_tick)) if on_tick is not None else None
        watcher = asyncio.create_task(self._watch(external_stop))
        async with server:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), duration)
            await self._shutdown(server)
        for task in (ticker, watcher):
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
