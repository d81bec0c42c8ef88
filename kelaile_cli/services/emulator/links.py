"""The emulated box's host link: a new pty (what a USB-serial port would be) or a ``socket://`` TCP server."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty

from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.endpoints import parse_endpoint

__all__ = ["Link", "PosPty", "PtyLink", "SocketLink"]


class Link:
    """Raw bytes to/from the host; ``read`` returns b"" on timeout, ``None`` when the host hung up."""

    name = ""

    def read(self, timeout: float) -> bytes | None:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def drop_host(self) -> None:
        """A reboot: the host's connection goes away (USB re-enumeration)."""

    def close(self) -> None:
        raise NotImplementedError


class PtyLink(Link):
    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.name = os.ttyname(self.slave)
        os.set_blocking(self.master, False)

    def read(self, timeout: float) -> bytes | None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.master, 65536)
        except BlockingIOError:
            return b""
        except OSError:  # EIO: no process has the port open right now
            time.sleep(timeout)
            return b""

    def write(self, data: bytes) -> None:
        """Like a UART, never blocks for long: if nobody drains the port, bytes are lost (after 0.2 s)."""
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.master, view)
            except BlockingIOError:
                if not select.select([], [self.master], [], 0.2)[1]:
                    return  # the host is not reading: what does not fit is lost
                continue
            except OSError:
                return  # nobody listening: bytes on a dead line are lost
            view = view[n:]

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class SocketLink(Link):
    """A TCP server for ``socket://``: one host at a time; a second one is turned away (a busy port)."""

    def __init__(self, url: str) -> None:
        ep = parse_endpoint(url.replace("socket://", "tcp://", 1))
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.server.bind((ep.host, ep.port))
        except OSError as exc:
            self.server.close()
            raise InputError(
                f"{url}: cannot listen ({exc.strerror or exc})",
                remedy="is another box sim using this port? pick another",
            ) from None
        self.server.listen(4)
        host, port = self.server.getsockname()[:2]
        self.name = f"socket://{host}:{port}"
        self.conn: socket.socket | None = None
        self._lock = threading.Lock()

    def read(self, timeout: float) -> bytes | None:
        conn = self.conn
        watch = [self.server] + ([conn] if conn else [])
        ready, _, _ = select.select(watch, [], [], timeout)
        if self.server in ready:
            new, _ = self.server.accept()
            new.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.conn is None:
                self.conn = new
            else:
                new.close()  # the port is busy
        if conn is None or conn not in ready:
            return b""
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._hang_up(conn)
            return None
        return data

    def _hang_up(self, conn: socket.socket) -> None:
        with self._lock:
            if self.conn is conn:
                self.conn = None
        with contextlib.suppress(OSError):
            conn.close()

    def write(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            conn.sendall(data)
        except OSError:
            self._hang_up(conn)

    def drop_host(self) -> None:
        if self.conn is not None:
            self._hang_up(self.conn)

    def close(self) -> None:
        self.drop_host()
        with contextlib.suppress(OSError):
            self.server.close()


class PosPty:
    """The POS side as a serial port: the POS prints to ``name`` (a pty), the box reads the other end.

    ``read``/``write``/``close`` like the capture service's serial links, so the passthrough runs on it.
    ``close`` leaves the port in place (a reboot of the box does not unplug the POS's cable);
    ``release`` removes it."""

    def __init__(self) -> None:
        self._pty = PtyLink()
        self.name = self._pty.name

    def read(self) -> bytes:
        return self._pty.read(0.05) or b""

    def write(self, data: bytes) -> None:
        self._pty.write(data)

    def close(self) -> None:
        """The passthrough is done with the port (the box reboots): the port itself stays."""

    def release(self) -> None:
        self._pty.close()
