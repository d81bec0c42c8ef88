"""Fault injection for the sandbox cloud: slow answers, 5xx, and answers committed but never sent.

``Faults`` decides per request (seeded, so a test run is repeatable); ``DropMiddleware`` carries out a
drop: when the app starts its response for a request marked ``drop``, the connection is aborted
instead, so the client sees the connection die with nothing received although the work was committed.
Aborting needs the server's transport, which uvicorn exposes on its ``send`` callable; under another
server a drop degrades to a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

from kelaile_cli.core.errors import InputError

__all__ = ["DROP_SCOPE_KEY", "DropMiddleware", "Faults", "parse_latency", "parse_rate"]

DROP_SCOPE_KEY = "klx.fault"


def parse_latency(text: str | None) -> tuple[float, float]:
    """``"MS"`` or ``"MS:JITTER"`` → (ms, jitter ms)."""
    if not text:
        return 0.0, 0.0
    base, _, jitter = text.partition(":")
    try:
        ms, jit = float(base), float(jitter or 0)
    except ValueError:
        raise InputError(f"--latency {text}: expected MS or MS:JITTER, e.g. 50 or 50:20") from None
    if ms < 0 or jit < 0:
        raise InputError(f"--latency {text}: must not be negative")
    return ms, jit


def parse_rate(name: str, value: float) -> float:
    """A probability in [0, 1] or a clear error."""
    if not 0.0 <= value <= 1.0:
        raise InputError(f"{name} {value}: expected a probability between 0 and 1, e.g. 0.1")
    return value


@dataclass
class Faults:
    """What to inject on device endpoints. Rates are probabilities per request."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or self.jitter_ms or self.error_rate or self.drop_rate)

    def delay_s(self) -> float:
        if not (self.latency_ms or self.jitter_ms):
            return 0.0
        return max(0.0, self.latency_ms + self._rng.uniform(-self.jitter_ms, self.jitter_ms)) / 1000.0

    def error(self) -> bool:
        return self.error_rate > 0 and self._rng.random() < self.error_rate

    def drop(self) -> bool:
        return self.drop_rate > 0 and self._rng.random() < self.drop_rate

    def as_dict(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "jitter_ms": self.jitter_ms, "error_rate": self.error_rate,
                "drop_rate": self.drop_rate}  # fmt: skip


def _transport(send: Any) -> Any:
    """The asyncio transport behind uvicorn's ``send`` (its request cycle keeps it), or ``None``."""
    return getattr(getattr(send, "__self__", None), "transport", None)


class DropMiddleware:
    """Outermost ASGI wrapper: aborts the connection instead of sending a response marked for dropping."""

    def __init__(self, app: Any, faults: Faults | None = None) -> None:
        self.app = app
        self.faults = faults  # when given and its drop rate is 0, requests pass straight through

    def __getattr__(self, name: str) -> Any:  # expose the wrapped app (``.openapi()``, ``.state``, …)
        return getattr(self.app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (self.faults is not None and not self.faults.drop_rate):
            await self.app(scope, receive, send)
            return
        marks: dict[str, bool] = {}
        scope[DROP_SCOPE_KEY] = marks
        dropped = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start" and marks.get("drop"):
                transport = _transport(send)
                if transport is not None:
                    dropped = True
                    transport.abort()
                    return
            await send(message)

        await self.app(scope, receive, guarded_send)
        if dropped:  # let the server notice the dead connection before it thinks of answering for us
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    while (await receive())["type"] != "http.disconnect":
                        pass
