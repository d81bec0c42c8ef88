"""The emulated box's host link: a UART in front of a pty or a ``socket://`` server.

Bytes are paced at the simulated baud rate in both directions (a pty alone moves them at once),
faults damage them on the way (``Faults.drop``/``corrupt``), and ``SET_BAUD`` switches the rate
with a probation: when no valid frame arrives at the new rate in time, the old one comes back.
The reader loop (``run_reader``) fills ``rx`` with paced chunks: ``b""`` when the host hung up,
``None`` when the link stops.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable

from kelaile_cli.services.emulator.faults import Faults, PowerCut
from kelaile_cli.services.emulator.links import HostSideLink

__all__ = ["BAUDS", "BAUD_PROBATION", "PACE_SLACK", "PACE_SLICE", "HostLink"]

BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
BAUD_PROBATION = 2.0  # seconds to hear a valid frame at a new baud rate before reverting
PACE_SLICE = 0.005  # pace reads in slices of this many seconds of line time
# A UART moves bytes while the CPU does other things: when the emulator's thread wakes up late (the
# scheduler, the GIL), the line time it lost is made up, up to this much, instead of being charged
# to the link. Without it the emulated link would be slower than the baud rate it claims.
PACE_SLACK = 0.02


class HostLink:
    """Paced, fault-injecting byte link to the host at ``baud`` (8N1); ``send`` is thread-safe."""

    def __init__(
        self, link: HostSideLink, baud: int, faults: Faults, power: PowerCut, log: Callable[[str], None]
    ) -> None:
        self.link = link
        self.default_baud = baud
        self.baud = baud
        self.faults = faults
        self.power = power
        self.log = log
        # one generator per direction: what is damaged on the way in does not depend on thread timing
        seed = faults.seed
        self._rng_in, self._rng_out = random.Random(seed), random.Random(None if seed is None else seed + 1)
        self.rx: queue.Queue[bytes | None] = queue.Queue()
        self._tx_lock = threading.Lock()
        self._tx_clock = 0.0
        self.bytes_in = 0
        self.bytes_out = 0
        self.last_valid = time.monotonic()
        self._probation: tuple[float, int] | None = None  # (deadline, old baud)

    @property
    def name(self) -> str:
        """What a host opens: the pty path or the socket:// URL."""
        return self.link.name

    def line_time(self, n: int) -> float:
        """Seconds ``n`` bytes take on the line (8N1: ten bits per byte)."""
        return n * 10 / self.baud

    def _damage(self, data: bytes, rng: random.Random) -> bytes:
        f = self.faults
        if not (f.drop or f.corrupt):
            return data
        out = bytearray()
        for b in data:
            if f.drop and rng.random() < f.drop:
                continue
            out.append(b ^ rng.randrange(1, 256) if f.corrupt and rng.random() < f.corrupt else b)
        return bytes(out)

    def run_reader(self, stop: threading.Event) -> None:
        """Read the host's bytes into ``rx`` at line speed, damaged as the faults say, until ``stop``."""
        clock = 0.0
        while not stop.is_set():
            data = self.link.read(0.1)
            if data is None:
                self.rx.put(b"")  # the host hung up: resync the decoder
                continue
            if not data:
                continue
            self.power.phase("bytes", len(data))
            slice_bytes = max(1, int(self.baud / 10 * PACE_SLICE))
            for i in range(0, len(data), slice_bytes):
                part = data[i : i + slice_bytes]
                now = time.monotonic()
                clock = max(clock, now - PACE_SLACK) + self.line_time(len(part))
                if clock > now:
                    time.sleep(clock - now)
                self.bytes_in += len(part)
                self.rx.put(self._damage(part, self._rng_in))

    def send(self, data: bytes) -> None:
        """Paced write to the host (holds the line while it is busy, like a UART)."""
        if not data:
            return
        with self._tx_lock:
            now = time.monotonic()
            self._tx_clock = max(self._tx_clock, now - PACE_SLACK) + self.line_time(len(data))
            if self._tx_clock > now:
                time.sleep(self._tx_clock - now)
            self.bytes_out += len(data)
            self.link.write(self._damage(data, self._rng_out))

    def heard_frame(self) -> None:
        """A valid frame arrived: the host is alive and the current baud rate works."""
        self.last_valid = time.monotonic()
        self._probation = None

    def request_baud(self, baud: int) -> tuple[int, float]:
        """Switch to ``baud`` once an answer of up to 64 bytes has left -> (old baud, probation seconds)."""
        old = self.baud
        threading.Timer(self.line_time(64) + 0.01, self._switch_baud, (baud, old)).start()
        return old, BAUD_PROBATION

    def _switch_baud(self, baud: int, old: int) -> None:
        with self._tx_lock:
            self.baud = baud
            self._probation = (time.monotonic() + BAUD_PROBATION, old)

    def check_probation(self) -> None:
        """Go back to the old baud rate if no frame came at the new one in time."""
        if self._probation and time.monotonic() > self._probation[0]:
            self.baud = self._probation[1]
            self._probation = None
            self.log("no frame at the new baud rate; reverted")

    def drop_host(self) -> None:
        """A reboot: the host's connection goes away and the line comes back at the start baud rate."""
        self.link.drop_host()
        self.baud = self.default_baud

    def stop(self) -> None:
        """Wake the consumer of ``rx`` for good."""
        self.rx.put(None)

    def close(self) -> None:
        self.link.close()
