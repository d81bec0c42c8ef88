"""A network receipt printer to test against: a TCP server (port 9100 style) that keeps what it is sent
and answers real-time status (``DLE EOT n``) and its model (``GS I 67``) from its settable state.

The box's printer-health queries, its passthrough and its test prints all reach it as they would reach
an Epson-style printer on the shop's network; tests and the bench flip ``offline``, ``cover_open`` and
``paper`` to see the box notice.
"""

from __future__ import annotations

import re
import socket
import threading

from kelaile_cli.core.escpos.status import status_answer

__all__ = ["NetworkPrinter"]

_QUERY = re.compile(rb"\x10\x04([\x01-\x04])|\x1dI\x43")


class NetworkPrinter:
    """``start()`` it on 127.0.0.1 (port 0: any free port), read ``received``, ``stop()`` it."""

    def __init__(self, port: int = 0, model: str = "TM-T88VI (emulated)") -> None:
        self.model = model
        self.offline = False  # answers status with the offline bit; ``refuse`` drops connections instead
        self.refuse = False
        self.cover_open = False
        self.paper = "ok"  # ok | near_end | end
        self.received = bytearray()
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"printer:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> NetworkPrinter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(3)
        self._server.close()

    def __enter__(self) -> NetworkPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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

    def _answer(self, match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            return b"_" + self.model.encode("ascii", "replace") + b"\x00"
        n = match.group(1)[0]
        return bytes((status_answer(n, offline=self.offline, cover_open=self.cover_open, paper=self.paper),))
