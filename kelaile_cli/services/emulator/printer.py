"""Receipt printers to test against: ``NetworkPrinter``, a TCP server (port 9100 style), and ``SerialPrinter``,
a serial printer on a pty (paced at its baud, with XON/XOFF flow control).

A network receipt printer to test against: a TCP server (port 9100 style) that keeps what it is sent
and answers real-time status (``DLE EOT n``) and its model (``GS I 67``) from its settable state.

The box's printer-health queries, its passthrough and its test prints all reach it as they would reach
an Epson-style printer on the shop's network; tests and the bench flip ``offline``, ``cover_open`` and
``paper`` to see the box notice.
"""

from __future__ import annotations

import os
import re
import select
import socket
import threading
import time
from typing import Self

from kelaile_cli.core.escpos.status import status_answer

__all__ = ["NetworkPrinter", "SerialPrinter"]

_QUERY = re.compile(rb"\x10\x04([\x01-\x04])|\x1dI\x43")


class _EmulatedPrinter:
    """What both printers share: settable status, what they were sent, a serving thread, and the answers to
    ``DLE EOT n`` and ``GS I 67``. ``start()`` it, ``stop()`` it (or use it as a context manager)."""

    def __init__(self, model: str, thread_name: str) -> None:
        self.model = model
        self.offline = False  # answers status with the offline bit
        self.cover_open = False
        self.paper = "ok"  # ok | near_end | end
        self.received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=thread_name, daemon=True)

    def _serve(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Close the printer's end of its link (after the serving thread ended)."""
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(3)
        self._release()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            return b"_" + self.model.encode("ascii", "replace") + b"\x00"
        n = match.group(1)[0]
        return bytes((status_answer(n, offline=self.offline, cover_open=self.cover_open, paper=self.paper),))


class NetworkPrinter(_EmulatedPrinter):
    """``start()`` it on 127.0.0.1 (port 0: any free port), read ``received``, ``stop()`` it."""

    def __init__(self, port: int = 0, model: str = "TM-T88VI (emulated)") -> None:
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        super().__init__(model, f"printer:{self.port}")
        self.refuse = False  # drops connections (``offline`` answers status with the offline bit instead)
        self.connections = 0

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _release(self) -> None:
        self._server.close()

    def jobs(self) -> bytes:
        """Everything received except status and model queries (what would reach the paper)."""
        with self._lock:
            return _QUERY.sub(b"", bytes(self.received))

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            if self.refuse:
                conn.close()
                continue
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        self.connections += 1
        conn.settimeout(0.2)
        tail = b""
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self.received += data
                window = tail + data
                for match in _QUERY.finditer(window):
                    if match.end() <= len(tail):
                        continue  # answered with the previous read
                    try:
                        conn.sendall(self._answer(match))
                    except OSError:
                        return
                tail = window[-2:]


class SerialPrinter(_EmulatedPrinter):
    """A serial receipt printer on a new pty: the box opens ``url`` (the pty's port), the printer holds the
    other end. It keeps what it is sent, answers ``DLE EOT n`` and ``GS I 67`` from its settable state,
    takes bytes off the line no faster than ``baud`` (None: as fast as they come) and, with ``buffer`` set,
    prints them at half that speed from an input buffer of that many bytes: it asserts busy with XOFF at
    half full and XON when nearly empty (software flow control, as a printer with a small input buffer
    does), and takes no more while full. ``busy(True)`` sends XOFF by hand.

    A pty carries XON/XOFF like a UART (the kernel's tty layer stops the port's output on XOFF); it has no
    RTS/CTS lines, so hardware flow control cannot be tested on one."""

    XOFF, XON = b"\x13", b"\x11"

    def __init__(self, baud: int | None = None, buffer: int | None = None, model: str = "TM-T88V serial (emulated)"):
        from kelaile_cli.transports.pty import PtyLink

        super().__init__(model, "serial-printer")
        self.baud, self.buffer = baud, buffer
        self.xoffs = 0  # how often the printer asserted busy
        self._pty = PtyLink()
        self.url = self._pty.name
        self._busy = False
        self.backlog = 0.0  # bytes received, not yet printed (with ``buffer``)

    def _release(self) -> None:
        self._pty.close()

    def busy(self, on: bool) -> None:
        """Assert (XOFF) or release (XON) busy by hand."""
        self._busy = on
        self.xoffs += on
        self._pty.write(self.XOFF if on else self.XON)

    def wait_printed(self, timeout: float = 30.0) -> bool:
        """Wait until everything received is printed and the printer is not busy (a fresh start)."""
        deadline = time.monotonic() + timeout
        while (self.backlog >= 1 or self._busy) and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.backlog < 1 and not self._busy

    def send(self, data: bytes) -> None:
        """Bytes the printer sends on its own (an automatic status back, ASB)."""
        self._pty.write(data)

    def jobs(self) -> bytes:
        """Everything received except status and model queries."""
        with self._lock:
            return _QUERY.sub(b"", bytes(self.received))

    def wait_for(self, size: int, timeout: float = 10.0) -> bytes:
        """Wait until ``size`` bytes arrived (or ``timeout``); everything received."""
        deadline = time.monotonic() + timeout
        while len(self.received) < size and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            return bytes(self.received)

    def _serve(self) -> None:
        """Take bytes off the line at ``baud`` (bytes/s = baud/10); with a buffer, print them at half that."""
        tail, tokens, backlog = b"", 0.0, 0.0
        last = time.monotonic()
        self.backlog = 0.0
        burst = max(16.0, (self.baud or 0) / 10 * 0.01)  # what the line carries in 10 ms
        while not self._stop.is_set():
            now = time.monotonic()
            if self.baud:
                tokens = min(burst, tokens + (now - last) * self.baud / 10)
                backlog = max(0.0, backlog - (now - last) * self.baud / 20)
            last = now
            room = self.buffer - backlog if self.buffer is not None else float("inf")
            want = min(tokens, room) if self.baud else 65536
            if want < 1:
                time.sleep(0.002)
                continue
            data = self._take(int(want))
            if self.baud:
                tokens -= len(data)
                backlog += len(data) if self.buffer is not None else 0
            if data:
                with self._lock:
                    self.received += data
                window = tail + data
                for match in _QUERY.finditer(window):
                    if match.end() > len(tail):
                        self._pty.write(self._answer(match))
                tail = window[-2:]
            self.backlog = backlog
            if self.buffer is not None:
                if not self._busy and backlog >= self.buffer / 2:
                    self.busy(True)
                elif self._busy and backlog <= self.buffer / 8:
                    self.busy(False)

    def _take(self, size: int) -> bytes:
        """At most ``size`` bytes off the line (waits up to 10 ms for some)."""
        if not select.select([self._pty.master], [], [], 0.01)[0]:
            return b""
        try:
            return os.read(self._pty.master, size)
        except OSError:
            return b""
