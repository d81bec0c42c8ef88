"""A TCP server for one peer at a time as a ``ByteLink``: what pyserial's ``socket://HOST:PORT`` connects to.

A second peer while one is connected is turned away at once (a busy port). ``read`` returns
``None`` when the peer hangs up; the server keeps listening for the next one.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from kelaile_cli.core.errors import InputError
from kelaile_cli.transports.endpoints import parse_endpoint
from kelaile_cli.transports.link import DEFAULT_READ_TIMEOUT

__all__ = ["SocketServerLink"]


class SocketServerLink:
    """Listens on ``socket://HOST:PORT`` (port 0: any free port; ``name`` says which)."""

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

    def read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> bytes | None:
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
        """Send to the connected peer; with none connected the bytes are lost (a line with nobody on it)."""
        conn = self.conn
        if conn is None:
            return
        try:
            conn.sendall(data)
        except OSError:
            self._hang_up(conn)

    def drop_host(self) -> None:
        """Disconnect the peer (the box reboots); keep listening."""
        if self.conn is not None:
            self._hang_up(self.conn)

    def close(self) -> None:
        self.drop_host()
        with contextlib.suppress(OSError):
            self.server.close()
