"""A real TCP server on 127.0.0.1 that misbehaves as a broken cloud would, for transport tests.

Modes: ``silent`` (accepts, reads, never answers), ``drop`` (reads the request, closes without an
answer), ``plain`` (answers plain HTTP — a TLS client sees garbage), ``garbage`` (a 200 whose body is
not JSON). Every wait is bounded; the thread stops when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

_PLAIN = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Type: application/json\r\nConnection: close\r\n\r\nnotjson"


@contextlib.contextmanager
def bad_http_server(mode: str) -> Iterator[int]:
    """Serve ``mode`` on an ephemeral port of 127.0.0.1; yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            conn.settimeout(2.0)
            with contextlib.suppress(OSError):
                conn.recv(65536)
                if mode in ("plain", "garbage"):
                    conn.sendall(_PLAIN)
                if mode != "silent":
                    conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in held:
            conn.close()
