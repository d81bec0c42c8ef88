"""The hand-over between sources (any thread) and the model (the screen's thread): a queue drained in batches."""

from __future__ import annotations

import collections

from kelaile_cli.services.monitor.events import MonitorEvent, Recorder
from kelaile_cli.services.monitor.model import FleetModel

__all__ = ["Feed"]

MAX_PENDING = 100_000  # a stalled screen drops the oldest events rather than grow without bound


class Feed:
    """``emit`` from any thread (a deque append is atomic); ``drain`` applies what arrived to the model
    (and to the recording, when ``--record`` is on) and says how many events it took."""

    def __init__(self, model: FleetModel, recorder: Recorder | None = None) -> None:
        self.model = model
        self.recorder = recorder
        self._pending: collections.deque[MonitorEvent] = collections.deque(maxlen=MAX_PENDING)

    def emit(self, event: MonitorEvent) -> None:
        self._pending.append(event)

    def drain(self) -> int:
        n = 0
        while self._pending:
            ev = self._pending.popleft()
            self.model.apply(ev)
            if self.recorder is not None:
                self.recorder.write(ev)
            n += 1
        return n
