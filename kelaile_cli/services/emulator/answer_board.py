"""Where the box's pipeline hands the cloud's answer to the passthrough that holds the receipt's cut.

The pipeline (a tap thread) decodes a receipt, uploads its transaction and ``publish``es the
ESC/POS to print above the cut — or ``None`` when there is nothing to print — under the receipt's
connection and end offset. The passthrough (the proxy's event loop), holding that cut, ``wait``s for
it up to a deadline and then lets the cut go with or without it: printing is never held longer.
"""

from __future__ import annotations

import asyncio
import threading
import time

__all__ = ["DEFAULT_WAIT_S", "AnswerBoard"]

DEFAULT_WAIT_S = 1.5  # longest a receipt's cut waits for the cloud's answer
_POLL_S = 0.003
_KEEP = 256  # answers kept per board (a proxy collects each within seconds)


class AnswerBoard:
    """Thread-safe: the pipeline publishes, the proxy waits; ``wait_s`` is the deadline."""

    def __init__(self, wait_s: float = DEFAULT_WAIT_S) -> None:
        self.wait_s = wait_s
        self._lock = threading.Lock()
        self._answers: dict[tuple[int, int], bytes | None] = {}

    def publish(self, conn: int, end: int, payload: bytes | None) -> None:
        with self._lock:
            self._answers[(conn, end)] = payload
            while len(self._answers) > _KEEP:
                del self._answers[next(iter(self._answers))]

    def take(self, conn: int, end: int) -> tuple[bool, bytes | None]:
        """(found, payload) — found is False while the pipeline has not decided yet."""
        with self._lock:
            if (conn, end) in self._answers:
                return True, self._answers.pop((conn, end))
            return False, None

    async def wait(self, conn: int, end: int) -> bytes:
        """The bytes to print above the cut ending at ``end``; b"" when none came in time."""
        deadline = time.monotonic() + self.wait_s
        while True:
            found, payload = self.take(conn, end)
            if found:
                return payload or b""
            if time.monotonic() >= deadline:
                return b""
            await asyncio.sleep(_POLL_S)
