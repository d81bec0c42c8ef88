"""kill -9 of a recording capture at random points: what the printer got, the file has (within the bound).

A real capture process (``Capture`` with a ``RecordingWriter``), a real printer socket and a POS
printing job after job; the capture is killed with SIGKILL at a random moment. Every byte in the file
must be a byte the printer received, in order, and the file may lag the printer by at most the
documented bound (``RECORD_LAG_BYTES``), however many POS connections are open at once.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from kelaile_cli.services.capture.recorder import read_recording
from kelaile_cli.services.capture.tap import RECORD_LAG_BYTES

CAPTURE = textwrap.dedent(
    """
    import sys, time
    from kelaile_cli.core.formats.recording import Header
    from kelaile_cli.services.capture.live import Capture, CaptureOptions
    from kelaile_cli.services.capture.recorder import RecordingWriter
    from kelaile_cli.transports.endpoints import parse_endpoint
    writer = RecordingWriter(sys.argv[1], Header("listen://", time.time(), "test"))
    capture = Capture(CaptureOptions(parse_endpoint("listen://127.0.0.1:0"), parse_endpoint(sys.argv[2]),
                                     recorders=[writer], record_lag_bytes=int(sys.argv[3])))
    capture.start()
    print(capture.address[1], flush=True)
    capture.wait()
    """
)


class CountingPrinter:
    """A network printer keeping every byte of every connection, in accept order."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.jobs: list[bytearray] = []
        self.open = 0
        self.lock = threading.Lock()
        self.draining = threading.Event()
        self.sock.settimeout(0.1)
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                if self.draining.is_set():
                    return  # nothing left in the backlog
                continue
            except OSError:
                return
            got = bytearray()
            with self.lock:
                self.jobs.append(got)
                self.open += 1
            threading.Thread(target=self._serve, args=(conn, got), daemon=True).start()

    def drain(self, timeout: float = 10) -> None:
        """Once nobody connects any more: accept what is still in the backlog, and wait for every
        connection to end (a connection the capture made but the printer had not yet accepted holds
        bytes the capture already counted as sent)."""
        self.draining.set()
        self.acceptor.join(timeout)
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.01)
        self.sock.close()

    def _serve(self, conn: socket.socket, got: bytearray) -> None:
        conn.settimeout(10)
        try:
            while data := conn.recv(65536):
                got += data
        except OSError:
            pass
        conn.close()
        with self.lock:
            self.open -= 1


def job(i: int, rng: random.Random) -> bytes:
    size = rng.choice([200, 5_000, 80_000, 400_000])
    return bytes((i * 7 + k) % 251 for k in range(size))


def pos(port: int, rng: random.Random, stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(job(i, rng))
        except OSError:
            return  # the capture died under us
        i += 1


# The default bound, and a tighter one that a capture without a bound overshoots on this machine
# (unbounded, the file lagged the printer by up to 400 kB here when killed; with the room taken after
# forwarding instead of before, by 198 kB against 128 kB: one read per open connection on top).
@pytest.mark.parametrize("bound", [RECORD_LAG_BYTES, 128 * 1024])
@pytest.mark.parametrize("name", ["kill.klr", "kill.klr.gz"])
def test_kill_9_at_random_points_loses_at_most_the_bound(tmp_path, name, bound):
    rng = random.Random(f"{name}-{bound}-13")
    for round_ in range(3):
        printer = CountingPrinter()
        path = tmp_path / f"{round_}-{name}"
        proc = subprocess.Popen(
            [sys.executable, "-c", CAPTURE, str(path), f"tcp://127.0.0.1:{printer.port}", str(bound)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            port = int(proc.stdout.readline())
            stop = threading.Event()
            sender = threading.Thread(target=pos, args=(port, random.Random(round_), stop), daemon=True)
            sender.start()
            time.sleep(rng.uniform(0.3, 1.5))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        stop.set()
        sender.join(10)
        printer.drain()

        rec = read_recording(path)
        assert not rec.complete and any("no trailer" in w for w in rec.warnings)
        in_file = rec.by_connection("out")
        at_printer = [bytes(j) for j in printer.jobs]
        assert sum(map(len, at_printer)) > 0
        for conn, chunks in in_file.items():
            data = b"".join(c.data for c in chunks)
            assert at_printer[conn].startswith(data), f"connection {conn}: the file has bytes the printer never got"
        lag = sum(map(len, at_printer)) - sum(len(c.data) for c in rec.chunks)
        assert 0 <= lag <= bound, f"the file lags the printer by {lag} bytes"
