"""Monitor events: what a source saw, one JSON object per line in a recording (``--record``/``--replay``).

An event is ``{"t": epoch seconds, "kind": KIND, "serial": box serial, "data": {...}}``. Kinds:

* ``state``     a box state snapshot (STATE, EV_STATE or the cloud's device row); fields are mapped
  defensively by the model: a missing one shows "—".
* ``heartbeat`` the box was heard from (a PING answered, a cloud heartbeat).
* ``link``      the link to the box went ``up`` (true/false) with a ``reason``.
* ``receipt``   a receipt seen: ``text`` (as on paper), ``profile``, ``recognised``, ``kind``, ``qr``.
* ``upload``    a transaction the cloud stored: ``transaction_id``, ``answer`` (true when it answered).
* ``missed``    an answer that missed its receipt's cut.
* ``orders``    the cloud's online orders for the box: ``queued`` (not printed yet), ``failed`` (of those,
  the ones whose last print failed). The box's own counters come in ``state`` (``orders``).
* ``log``       a log line from the box: ``level``, ``text``.
* ``cloud``     the cloud source itself: ``ok`` (true/false) and ``reason`` (a banner, not a box).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kelaile_cli.core.errors import InputError

__all__ = ["KINDS", "MonitorEvent", "Recorder", "parse_line", "read_events"]

KINDS = frozenset({"state", "heartbeat", "link", "receipt", "upload", "missed", "log", "cloud", "orders"})


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    """One thing a source saw about one box (``serial``), at wall-clock time ``t``."""

    kind: str
    serial: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        doc = {"t": round(self.t, 3), "kind": self.kind, "serial": self.serial, "data": self.data}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def parse_line(line: str, where: str) -> MonitorEvent:
    """One recorded line; ``InputError`` naming ``where`` (file:line) when it is not a monitor event."""
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(doc).__name__}")
    kind, serial, t, data = doc.get("kind"), doc.get("serial"), doc.get("t"), doc.get("data", {})
    if kind not in KINDS:
        raise InputError(f"{where}: unknown event kind {kind!r}", remedy=f"one of {', '.join(sorted(KINDS))}")
    if not isinstance(serial, str) or not isinstance(t, int | float) or not isinstance(data, dict):
        raise InputError(f"{where}: an event needs a text 'serial', a number 't' and an object 'data'")
    return MonitorEvent(kind, serial, float(t), data)


def read_events(path: Path) -> list[MonitorEvent]:
    """Every event of a recording (JSON Lines), in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: offset {exc.start}: not UTF-8 text") from None
    return [parse_line(line, f"{path}:{n}") for n, line in enumerate(text.splitlines(), 1) if line.strip()]


class Recorder:
    """Writes events as JSON Lines, flushed per line (a recording survives a Ctrl-C)."""

    def __init__(self, path: Path) -> None:
        try:
            self._file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        self.path = path
        self.count = 0

    def write(self, event: MonitorEvent) -> None:
        self._file.write(event.to_json() + "\n")
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        self._file.close()
