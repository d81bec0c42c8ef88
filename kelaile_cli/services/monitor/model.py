"""The fleet model: every box the monitor knows, built from monitor events, with the health rules.

Pure: no clock (``now`` is passed in), no I/O, no screen. The screens ask it for rows and a summary;
the tests feed it events. The rules (docs/monitor.md) decide online / degraded / offline, in order:

1. the link to the box is down → **offline** (the link's reason);
2. nothing heard for more than ``OFFLINE_AFTER`` s → **offline** ("silent, seen N s ago");
3. nothing heard for more than ``DEGRADED_AFTER`` s → **degraded** ("seen N s ago");
4. the printer reports a problem → **degraded** ("printer: paper out");
5. the box says its cloud is unreachable → **degraded** ("cloud: …");
6. ``BACKLOG_LIMIT`` or more transactions waiting to upload → **degraded** ("backlog N");
7. a QR answer missed its cut in the last ``MISSED_WINDOW`` s → **degraded** ("N QR missed");
8. online orders not printed: the cloud holds orders whose last print failed, or the box failed to print
   one in the last ``MISSED_WINDOW`` s → **degraded** ("N orders not printed");
9. otherwise **online** ("seen N s ago").
"""

from __future__ import annotations

import collections
import heapq
from dataclasses import dataclass, field
from typing import Any

from kelaile_cli.services.monitor.events import MonitorEvent

__all__ = [
    "BACKLOG_LIMIT",
    "DASH",
    "DEGRADED_AFTER",
    "MISSED_WINDOW",
    "OFFLINE_AFTER",
    "SORT_KEYS",
    "STATES",
    "BoxView",
    "FleetModel",
    "Summary",
    "age_text",
]

DASH = "—"
DEGRADED_AFTER = 30.0
OFFLINE_AFTER = 90.0
BACKLOG_LIMIT = 50
MISSED_WINDOW = 600.0
RATE_WINDOW = 60.0  # receipts per minute: receipts seen in the last minute
KEEP_RECEIPTS = 20  # receipts kept per box for the detail screen
KEEP_LOG = 50
_HEALTHY_PRINTER = {"ok", "online", "ready", "idle"}
_HEALTHY_CLOUD = {"ok", "online", "up", "connected", "idle"}
SORT_KEYS = ("serial", "store", "state", "last receipt", "rate", "backlog")
STATES = ("online", "degraded", "offline")
_STATE_ORDER = {"offline": 0, "degraded": 1, "online": 2}


def age_text(age: float | None) -> str:
    """A coarse age ("4s", "2m", "3h"): coarse so a thousand rows do not all change every second."""
    if age is None:
        return DASH
    age = max(0.0, age)
    if age < 10:
        return f"{int(age)}s"
    if age < 60:
        return f"{int(age) // 10 * 10}s"
    if age < 3600:
        return f"{int(age // 60)}m"
    return f"{int(age // 3600)}h"


_LONGEST = 3600.0  # a cached row is recomputed at least this often (and if the clock went back)


def _age_tick(now: float, t: float) -> float:
    """When ``age_text(now - t)`` next changes (it is coarse: 1 s, then 10 s, 1 min, 1 h steps)."""
    age = max(0.0, now - t)
    step = 1.0 if age < 10 else 10.0 if age < 60 else 60.0 if age < 3600 else 3600.0
    return t + (int(age // step) + 1) * step


def _text(value: Any) -> str:
    return DASH if value is None or value == "" else str(value)


def _health(value: Any) -> str | None:
    """A printer's or cloud's health from a string or a {status|state|health: …} map."""
    if isinstance(value, dict):
        for key in ("health", "status", "state"):
            if isinstance(value.get(key), str):
                return str(value[key])
        if isinstance(value.get("online"), bool):  # the box's printer health (DLE EOT): the worst of its parts
            if "checked_at" in value and not value["checked_at"]:  # never asked yet: nothing known
                return None
            if not value["online"]:
                return "offline"
            if value.get("paper") == "end":
                return "paper out"
            if value.get("cover") == "open":
                return "cover open"
            return "paper low" if value.get("paper") == "near_end" else "ok"
        if isinstance(value.get("claimed"), bool):  # the box's cloud link (none configured: nothing to judge)
            if not value.get("url"):
                return None
            error = value.get("last_error")
            if isinstance(error, dict) and error.get("code"):
                return f"{error['code']}"
            return "ok" if value["claimed"] else "not claimed"
        return None
    return value if isinstance(value, str) and value else None


@dataclass
class BoxView:
    """What the monitor knows about one box; unknown fields stay None (shown as "—")."""

    serial: str
    store: str | None = None
    model: str | None = None
    firmware: str | None = None
    link_up: bool | None = None
    link_reason: str = ""
    link_name: str | None = None  # the port or URL the box is reached through
    last_seen: float | None = None
    last_receipt: float | None = None
    receipts_counted: int = 0
    receipts_reported: int | None = None  # the box's own counter
    recognised_reported: int | None = None
    profile: str | None = None
    printer: str | None = None
    cloud: str | None = None
    backlog: int | None = None
    missed_total: int = 0
    missed_times: collections.deque[float] = field(default_factory=collections.deque)
    receipt_times: collections.deque[float] = field(default_factory=collections.deque)
    receipts: collections.deque[dict[str, Any]] = field(default_factory=lambda: collections.deque(maxlen=KEEP_RECEIPTS))
    transactions: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=KEEP_RECEIPTS)
    )
    log: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=KEEP_LOG))
    stored: dict[str, bool] = field(default_factory=dict)  # receipt digest -> the cloud answered (recent uploads)
    links: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    slots: list[Any] = field(default_factory=list)
    orders: dict[str, Any] = field(default_factory=dict)  # the box's online-order counters (STATE ``orders``)
    orders_queued: int | None = None  # orders for this box not printed yet (the cloud's count)
    orders_failing: int | None = None  # of those, the ones whose last print failed (the cloud re-offers them)
    order_fail_times: collections.deque[float] = field(default_factory=collections.deque)
    # the row as last computed, with its lowercase text (the filter's haystack) and until when it holds
    cached: tuple[tuple[str, ...], str] | None = field(default=None, repr=False, compare=False)
    cached_until: float = field(default=0.0, repr=False, compare=False)

    @property
    def receipt_count(self) -> int:
        """The box's own receipt counter when it reports one, else the receipts the monitor saw."""
        return max(self.receipts_reported or 0, self.receipts_counted)

    def rate(self, now: float) -> int:
        """Receipts in the last minute."""
        while self.receipt_times and self.receipt_times[0] < now - RATE_WINDOW:
            self.receipt_times.popleft()
        return len(self.receipt_times)

    def missed_recent(self, now: float) -> int:
        while self.missed_times and self.missed_times[0] < now - MISSED_WINDOW:
            self.missed_times.popleft()
        return len(self.missed_times)

    def orders_not_printed(self, now: float) -> int:
        """Orders whose print failed: the cloud's count when it tells, else the box's recent failures."""
        while self.order_fail_times and self.order_fail_times[0] < now - MISSED_WINDOW:
            self.order_fail_times.popleft()
        return max(self.orders_failing or 0, len(self.order_fail_times))

    def orders_cell(self, now: float) -> str:
        """Printed orders, ``+N`` queued, ``!N`` not printed (``12 +2 !1``); "—" when nothing is known."""
        parts = []
        if isinstance(self.orders.get("printed"), int):
            parts.append(str(self.orders["printed"]))
        queued = self.orders_queued if self.orders_queued is not None else self.orders.get("waiting")
        if isinstance(queued, int) and queued > 0:
            parts.append(f"+{queued}")
        failing = self.orders_not_printed(now)
        if failing:
            parts.append(f"!{failing}")
        return " ".join(parts) or DASH

    def status(self, now: float) -> tuple[str, str]:
        """(online|degraded|offline, why), by the rules in this module's docstring."""
        age = None if self.last_seen is None else max(0.0, now - self.last_seen)
        seen = "never heard from" if age is None else f"seen {age_text(age)} ago"  # coarse: see age_text
        if self.link_up is False:
            return "offline", self.link_reason or "link down"
        if age is None or age > OFFLINE_AFTER:
            return "offline", f"silent, {seen}"
        if age > DEGRADED_AFTER:
            return "degraded", seen
        if self.printer is not None and self.printer.lower() not in _HEALTHY_PRINTER:
            return "degraded", f"printer: {self.printer}"
        if self.cloud is not None and self.cloud.lower() not in _HEALTHY_CLOUD:
            return "degraded", f"cloud: {self.cloud}"
        if self.backlog is not None and self.backlog >= BACKLOG_LIMIT:
            return "degraded", f"backlog {self.backlog}"
        missed = self.missed_recent(now)
        if missed:
            return "degraded", f"{missed} QR missed"
        failing = self.orders_not_printed(now)
        if failing:
            return "degraded", f"{failing} order{'s' if failing > 1 else ''} not printed"
        return "online", seen

    def cached_row(self, now: float) -> tuple[tuple[str, ...], str]:
        """``row(now)`` and its lowercase text, recomputed only when an event changed the box (the model
        drops the cache) or a time-dependent cell is due to change (``next_change``)."""
        if self.cached is None or now >= self.cached_until or now < self.cached_until - _LONGEST:
            row = self.row(now)
            self.cached = (row, "\x00".join(row).lower())
            self.cached_until = self.next_change(now)
        return self.cached

    def next_change(self, now: float) -> float:
        """The earliest time any cell of ``row(now)`` can read differently without a new event: an age
        that ticks over (see ``age_text``), a state threshold, a receipt or a failure leaving its window."""
        times = [now + _LONGEST]
        for t in (self.last_seen, self.last_receipt):
            if t is not None:
                times.append(_age_tick(now, t))
        if self.last_seen is not None:
            times += [t for t in (self.last_seen + DEGRADED_AFTER, self.last_seen + OFFLINE_AFTER) if t > now]
        for window, queue in (
            (RATE_WINDOW, self.receipt_times),
            (MISSED_WINDOW, self.missed_times),
            (MISSED_WINDOW, self.order_fail_times),
        ):
            if queue:
                times.append(queue[0] + window)
        return min(times)

    def row(self, now: float) -> tuple[str, ...]:
        """The fleet table's cells, in ``FleetModel.COLUMNS`` order."""
        state, why = self.status(now)
        link = DASH if self.link_up is None else ("up" if self.link_up else "down")
        return (
            self.serial,
            _text(self.store),
            f"{state}: {why}",
            age_text(None if self.last_receipt is None else now - self.last_receipt),
            str(self.rate(now)),
            str(self.receipt_count),
            _text(self.profile),
            _text(self.printer),
            _text(self.backlog),
            str(self.missed_total),
            self.orders_cell(now),
            _text(self.firmware),
            link,
        )


@dataclass(frozen=True)
class Summary:
    online: int
    degraded: int
    offline: int
    rate: int  # receipts per minute, every box
    backlog: int

    def text(self) -> str:
        return (
            f"online {self.online} · degraded {self.degraded} · offline {self.offline} · "
            f"{self.rate} receipts/min · backlog {self.backlog}"
        )


class FleetModel:
    """Boxes by serial, fed by ``apply``; ``dirty`` names the boxes changed since ``take_dirty``."""

    COLUMNS = (
        "serial", "store", "state", "age", "/min", "rcpts", "POS", "printer", "backlog", "missed", "orders",
        "fw", "link",
    )  # fmt: skip

    def __init__(self) -> None:
        self.boxes: dict[str, BoxView] = {}
        self.dirty: set[str] = set()
        self._stale: set[str] = set()  # boxes changed by an event since the last ``changed_rows``
        self._due: list[tuple[float, str]] = []  # (when a cached row expires, serial): a heap
        self.cloud_ok: bool | None = None
        self.cloud_reason = ""
        self.events = 0

    def box(self, serial: str) -> BoxView:
        view = self.boxes.get(serial)
        if view is None:
            view = self.boxes[serial] = BoxView(serial)
        return view

    def take_dirty(self) -> set[str]:
        out, self.dirty = self.dirty, set()
        return out

    def apply(self, ev: MonitorEvent) -> None:
        """Take one event into the model."""
        self.events += 1
        d = ev.data
        if ev.kind == "cloud":
            self.cloud_ok = bool(d.get("ok"))
            self.cloud_reason = str(d.get("reason") or "")
            return
        box = self.box(ev.serial)
        box.cached = None
        self.dirty.add(ev.serial)
        self._stale.add(ev.serial)
        if ev.kind != "orders" and (ev.kind != "link" or d.get("up")):  # the cloud's orders: not the box heard
            box.last_seen = ev.t if box.last_seen is None else max(box.last_seen, ev.t)
        handler = getattr(self, f"_on_{ev.kind}", None)
        if handler is not None:
            handler(box, ev)

    def _on_link(self, box: BoxView, ev: MonitorEvent) -> None:
        box.link_up = bool(ev.data.get("up"))
        box.link_reason = str(ev.data.get("reason") or "")
        if ev.data.get("via"):
            box.link_name = str(ev.data["via"])
        box.log.append(f"link {'up' if box.link_up else 'down'}: {box.link_reason or '—'}")

    def _on_state(self, box: BoxView, ev: MonitorEvent) -> None:
        s = ev.data
        if box.link_up is None and s.get("link_up") is not None:
            box.link_up = bool(s["link_up"])
        for attr, key in (("store", "store"), ("model", "model"), ("firmware", "fw")):
            if s.get(key):
                setattr(box, attr, str(s[key]))
        boot = s.get("boot")
        if isinstance(boot, dict) and boot.get("version"):
            box.firmware = str(boot["version"])
        raw = s.get("counters")
        counters: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if isinstance(counters.get("receipts"), int):
            box.receipts_reported = counters["receipts"]
        if isinstance(counters.get("recognised"), int):
            box.recognised_reported = counters["recognised"]
        raw_answers = s.get("answers")
        answers: dict[str, Any] = raw_answers if isinstance(raw_answers, dict) else {}
        missed = answers.get("missed", counters.get("missed_answers", s.get("missed_answers")))
        if isinstance(missed, int) and missed > box.missed_total:
            box.missed_times.extend([ev.t] * min(missed - box.missed_total, 100))
            box.missed_total = missed
        for key in ("queue", "backlog"):
            if isinstance(s.get(key), int):
                box.backlog = s[key]
        if isinstance(s.get("links"), dict):
            box.links = s["links"]
            printer = s["links"].get("printer")
            if _health(printer):
                box.printer = _health(printer)
        for key in ("printer", "printer_health"):
            if _health(s.get(key)):
                box.printer = _health(s[key])
        if _health(s.get("cloud")):
            box.cloud = _health(s["cloud"])
        if isinstance(s.get("config"), dict):
            box.config = s["config"]
            if not box.store and s["config"].get("store"):
                box.store = str(s["config"]["store"])
        if isinstance(s.get("slots"), list):
            box.slots = s["slots"]
        if isinstance(s.get("orders"), dict):
            self._box_orders(box, s["orders"], ev.t)
        if s.get("profile"):
            box.profile = str(s["profile"])
        for err in s.get("last_errors") or []:
            text = f"error: {err}"
            if text not in box.log:
                box.log.append(text)

    def _on_receipt(self, box: BoxView, ev: MonitorEvent) -> None:
        box.receipts_counted += 1
        box.last_receipt = ev.t
        box.receipt_times.append(ev.t)
        if ev.data.get("profile"):
            box.profile = str(ev.data["profile"])
        record = {"t": ev.t, **ev.data}
        digest = ev.data.get("sha256")
        if digest in box.stored:  # the cloud's copy came first
            record.update(uploaded=True, answered=box.stored[digest])
        box.receipts.append(record)

    def _on_upload(self, box: BoxView, ev: MonitorEvent) -> None:
        box.transactions.append({"t": ev.t, **ev.data})
        digest = ev.data.get("receipt_sha256")
        if isinstance(digest, str):
            box.stored[digest] = bool(ev.data.get("answer"))
            while len(box.stored) > 10 * KEEP_RECEIPTS:
                del box.stored[next(iter(box.stored))]
            for receipt in box.receipts:  # the receipt the box saw: uploaded, and answered or not
                if receipt.get("sha256") == digest:
                    receipt.update(uploaded=True, answered=bool(ev.data.get("answer")))
        if box.link_up is None:  # seen only through the cloud: a stored transaction is the receipt it came from
            box.receipts_counted += 1
            box.last_receipt = ev.t if box.last_receipt is None else max(box.last_receipt, ev.t)
            box.receipt_times.append(ev.t)
        if ev.data.get("profile"):
            box.profile = str(ev.data["profile"])
        if isinstance(ev.data.get("backlog"), int):
            box.backlog = ev.data["backlog"]

    @staticmethod
    def _box_orders(box: BoxView, orders: dict[str, Any], t: float) -> None:
        """The box's online-order counters; a rise of ``failed`` is a print that did not happen."""
        failed, before = orders.get("failed"), box.orders.get("failed")
        if isinstance(failed, int) and isinstance(before, int) and failed > before:
            box.order_fail_times.extend([t] * min(failed - before, 100))
            error = orders.get("last_error")
            box.log.append(f"online order not printed: {error or 'print failed'}")
        box.orders = orders

    def _on_orders(self, box: BoxView, ev: MonitorEvent) -> None:
        """The cloud's view of a box's online orders: how many wait, how many last failed."""
        for attr, key in (("orders_queued", "queued"), ("orders_failing", "failed")):
            if isinstance(ev.data.get(key), int):
                setattr(box, attr, ev.data[key])

    def _on_missed(self, box: BoxView, ev: MonitorEvent) -> None:
        box.missed_total += 1
        box.missed_times.append(ev.t)
        box.log.append("QR answer missed its cut")

    def _on_log(self, box: BoxView, ev: MonitorEvent) -> None:
        box.log.append(f"{ev.data.get('level', 'info')}: {ev.data.get('text', '')}")

    # -- what the screens read ---------------------------------------------------------------------
    def _row(self, box: BoxView, now: float) -> tuple[tuple[str, ...], str]:
        """``box.cached_row(now)``, remembering when a freshly computed row expires."""
        before = box.cached
        cached = box.cached_row(now)
        if cached is not before:
            heapq.heappush(self._due, (box.cached_until, box.serial))
        return cached

    def changed_rows(self, now: float) -> set[str]:
        """The boxes whose row may read differently than at the last call: changed by an event, or due
        (an age ticked over, a threshold or a window passed), with their rows brought up to date.
        Costs the changed boxes, not the fleet."""
        candidates, self._stale = self._stale, set()
        while self._due and self._due[0][0] <= now:
            candidates.add(heapq.heappop(self._due)[1])
        for serial in candidates:
            self._row(self.boxes[serial], now)
        if len(self._due) > 4 * len(self.boxes) + 64:  # entries superseded by newer ones: rebuild
            self._due = [(b.cached_until, k) for k, b in self.boxes.items() if b.cached is not None]
            heapq.heapify(self._due)
        return candidates

    def summary(self, now: float) -> Summary:
        counts = {"online": 0, "degraded": 0, "offline": 0}
        rate = backlog = 0
        for box in self.boxes.values():
            row = self._row(box, now)[0]
            counts[row[2].split(":", 1)[0]] += 1
            rate += int(row[4])
            backlog += box.backlog or 0
        return Summary(counts["online"], counts["degraded"], counts["offline"], rate, backlog)

    def rows(
        self, now: float, text: str = "", sort: str = "serial", state: str | None = None, fresh: bool = True
    ) -> list[tuple[str, ...]]:
        """Fleet rows whose cells contain ``text`` (any case) and whose state is ``state`` (any when None),
        sorted by one of ``SORT_KEYS``. ``fresh=False``: the rows as last computed where there are any
        (an age may be a tick behind until ``changed_rows`` brings them up to date)."""
        needle = text.lower()
        boxes = self.boxes.values()
        cached = [self._row(b, now) for b in boxes] if fresh else [b.cached or self._row(b, now) for b in boxes]
        if needle:  # one substring search per row, in the cached lowercase text
            cached = [c for c in cached if needle in c[1]]
        rows = [c[0] for c in cached]
        if state:
            rows = [r for r in rows if r[2].startswith(state + ":")]
        rows.sort(key=_sort_key(sort, self, now))
        return rows


def _sort_key(sort: str, model: FleetModel, now: float) -> Any:
    if sort == "store":
        return lambda r: (r[1], r[0])
    if sort == "state":
        return lambda r: (_STATE_ORDER.get(r[2].split(":", 1)[0], 3), r[0])
    if sort == "last receipt":
        return lambda r: (-(model.boxes[r[0]].last_receipt or 0.0), r[0])
    if sort == "rate":
        return lambda r: (-int(r[4]), r[0])
    if sort == "backlog":
        return lambda r: (-(model.boxes[r[0]].backlog or 0), r[0])
    return lambda r: r[0]
