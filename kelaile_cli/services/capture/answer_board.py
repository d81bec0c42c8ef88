"""Where the box's pipeline hands the cloud's answer to the passthrough that holds the receipt's cut.

The pipeline (a tap thread) decodes a receipt, uploads its transaction and ``publish``es the
ESC/POS to print above the cut — or ``None`` when there is nothing to print — under the receipt's
connection and end offset. The passthrough (the proxy's event loop), holding that cut, ``wait``s for
it up to a deadline and then lets the cut go with or without it: printing is never held longer.

The board also keeps the account support needs ("the coupon did not print on receipt X"): every cut
that went without its answer is a **missed** answer; an answer that arrives after its cut went is **late**
(an event says which receipt and how late); an upload that got no answer at all is **unanswered**.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["DEFAULT_WAIT_S", "AnswerBoard", "AnswerStats"]

DEFAULT_WAIT_S = 1.5  # longest a receipt's cut waits for the cloud's answer (config cut_wait_ms)
_POLL_S = 0.003
_KEEP = 256  # answers kept per board (a proxy collects each within seconds)


@dataclass(slots=True)
class AnswerStats:
    printed: int = 0  # answers printed above their cut
    missed: int = 0  # cuts that went without their answer (the QR is not on that receipt)
    late: int = 0  # answers that came after their cut had gone
    unanswered: int = 0  # uploads the cloud did not answer (unreachable, refused, queued for later)
    last_missed: dict[str, Any] | None = None  # {order_no, late_s, at} of the latest late or missing answer

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AnswerBoard:
    """Thread-safe: the pipeline publishes, the proxy waits; ``wait_s`` is the deadline (may change live)."""

    def __init__(
        self, wait_s: float = DEFAULT_WAIT_S, on_event: Callable[[str, dict[str, Any]], None] | None = None
    ) -> None:
        self.wait_s = wait_s
        self.on_event = on_event
        self.stats = AnswerStats()
        self._lock = threading.Lock()
        self._answers: dict[tuple[int, int], bytes | None] = {}
        self._gone: dict[tuple[int, int], float] = {}  # cuts that went without their answer → when

    def publish(self, conn: int, end: int, payload: bytes | None, *, order_no: str | None = None,
                answered: bool = True) -> None:  # fmt: skip
        """The pipeline's verdict on the receipt ending at ``end``: bytes to print (or None), and whether the
        cloud answered at all (``answered=False``: the upload failed or waits in the queue)."""
        event: tuple[str, dict[str, Any]] | None = None
        with self._lock:
            if not answered:
                self.stats.unanswered += 1
            cut_at = self._gone.pop((conn, end), None)
            if cut_at is not None:  # its cut went already: count it, print nothing
                late = round(time.monotonic() - cut_at, 3)
                info = {"order_no": order_no, "late_s": late if answered else None, "at": round(time.time(), 3)}
                if answered and payload:
                    self.stats.late += 1
                    event = ("answer_late", info)
                else:
                    event = ("answer_missing", info)
                self.stats.last_missed = info
            else:
                self._answers[(conn, end)] = payload
                while len(self._answers) > _KEEP:
                    del self._answers[next(iter(self._answers))]
        if event is not None and self.on_event is not None:
            self.on_event(*event)

    def take(self, conn: int, end: int) -> tuple[bool, bytes | None]:
        """(found, payload) — found is False while the pipeline has not decided yet."""
        with self._lock:
            if (conn, end) in self._answers:
                payload = self._answers.pop((conn, end))
                if payload:
                    self.stats.printed += 1
                return True, payload
            return False, None

    def settle(self, conn: int, end: int) -> bytes:
        """The deadline: the answer if it is here now, else the cut goes without it (counted as missed)."""
        with self._lock:
            if (conn, end) in self._answers:
                payload = self._answers.pop((conn, end))
                self.stats.printed += bool(payload)
                return payload or b""
            self.stats.missed += 1
            self._gone[(conn, end)] = time.monotonic()
            while len(self._gone) > _KEEP:
                del self._gone[next(iter(self._gone))]
            return b""

    async def wait(self, conn: int, end: int) -> bytes:
        """The bytes to print above the cut ending at ``end``; b"" when none came in time."""
        deadline = time.monotonic() + self.wait_s
        while True:
            found, payload = self.take(conn, end)
            if found:
                return payload or b""
            if time.monotonic() >= deadline:
                return self.settle(conn, end)
            await asyncio.sleep(_POLL_S)
