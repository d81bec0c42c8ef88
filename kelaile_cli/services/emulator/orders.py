"""The box prints online orders from the cloud on the shop's own printer, between the POS's jobs.

A thread polls the cloud (CloudPRNT-style, ``services/cloud/sandbox/online_orders.py``) at the interval the
cloud asks for, and at once again while jobs keep coming; the ready jobs (up to ``BATCH`` per poll) are
fetched, rendered by ``core/box/order_ticket`` in the printer's width and the encoding the POS itself uses (as
decoded from its receipts), printed — each its own job — in the printer's next free turn (never inside a POS
job: ``PrinterTurns``), and confirmed with ``OK``, or with the printer's trouble, so the cloud keeps them
queued and offers them again. Printed job tokens are kept in the state directory, so a box that reboots
between printing and confirming confirms again instead of printing twice.

A watched printer (config ``printer_watch_s``) is asked for its status before each batch and, while it is in
trouble, before each poll; the poll carries that status, so the cloud offers nothing to a printer out of
paper and says how many orders wait. While the cloud does not answer, the polls back off (``BACKOFF_S``) and
the counters say why (``cloud``, ``poll_failures``, ``last_error``). docs/cloud-api.md has the whole cycle.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from kelaile_cli.core.box.order_ticket import COPIES, compose_order_ticket
from kelaile_cli.core.errors import KlxError
from kelaile_cli.core.escpos.status import PrinterHealth
from kelaile_cli.services.capture.printer_turns import BusyPrinterError, PrinterTurns
from kelaile_cli.transports.files import write_atomic

__all__ = ["BACKOFF_S", "BATCH", "MAX_ORDER_WAIT_S", "OrderCounts", "OrderPrinter"]

PRINTED_FILE = "orders-printed.json"
MAX_ORDER_WAIT_S = 60.0  # the longest an order waits for a POS job to end before it is offered again
_KEEP = 500  # printed tokens remembered
_IDLE_POLL_S = 2.0  # while the box has no cloud configured
BATCH = 10  # the most orders taken from one poll and printed in one turn between POS jobs
BACKOFF_S = (1.0, 2.0, 4.0, 8.0)  # the wait after 1, 2, 3, 4 or more polls in a row the cloud did not answer


class OrderCloud(Protocol):
    def print_poll(self, printer: dict[str, Any]) -> dict[str, Any]: ...
    def print_job(self, token: str) -> dict[str, Any]: ...
    def confirm_print(self, token: str, code: str = "OK") -> dict[str, Any]: ...


class PrinterStatus(Protocol):
    """What the box knows of its printer (``services/emulator/printer_health.PrinterWatch``)."""

    health: PrinterHealth | None

    def check(self) -> PrinterHealth | None: ...


def _trouble(health: PrinterHealth | None) -> tuple[str, str] | None:
    """(the code the cloud is told, in words) when ``health`` says the printer cannot print, else None."""
    if health is None:
        return None
    if not health.online:
        return "OFFLINE", "offline"
    if health.paper == "end":
        return "PAPER_OUT", "out of paper"
    if health.cover == "open":
        return "COVER_OPEN", "cover open"
    return None


def _poll_body(health: PrinterHealth | None) -> dict[str, Any]:
    body: dict[str, Any] = {"online": True, "busy": False, "max_jobs": BATCH}
    if health is not None:
        paper = {"end": "out", "near_end": "near_end"}.get(health.paper, "ok")
        body |= {"online": health.online, "paper": paper, "cover_open": health.cover == "open"}
    return body


class OrderSink(Protocol):
    """What the box prints on and how: the printer side (``backup_printer.OrderPrinters``: the main printer,
    or the backup while the main one is down) and the POS's width and encoding."""

    turns: PrinterTurns

    def print_job(self, job: bytes) -> int: ...
    def layout(self) -> tuple[int, str | None]: ...
    def has_backup(self) -> bool:
        """A backup printer is configured: a main printer in trouble does not hold orders back."""
        ...


@dataclass(slots=True)
class OrderCounts:
    received: int = 0  # jobs fetched from the cloud
    printed: int = 0
    failed: int = 0  # print attempts the printer did not take (the order stays queued in the cloud)
    waiting: int = 0  # orders waiting: for the POS to finish a job, or in the cloud for a printer in trouble
    last_error: str | None = None
    cloud: str = "none"  # "ok": the last poll was answered; "away": polls fail (last_error says why); "none"
    poll_failures: int = 0  # polls in a row the cloud did not answer (the wait grows with them: BACKOFF_S)


def _default_encoding(order: dict[str, Any]) -> str:
    """Before the POS printed anything the box could read: GB18030 for Chinese text (the home market's
    printers are in that mode), else code page 437."""
    text = " ".join(str(i.get("name", "")) for i in order.get("items") or []) + str(order.get("note") or "")
    return "gb18030" if any("\u3400" <= ch <= "\u9fff" for ch in text) else "cp437"


class OrderPrinter:
    """One per box; ``start``/``stop`` with the box. ``cloud`` returns the claimed device's client (or raises
    ``KlxError`` when there is none)."""

    def __init__(
        self,
        state_dir: Path,
        sink: OrderSink,
        cloud: Callable[[], OrderCloud | None],
        *,
        copies: Callable[[], list[str]],
        qr_base: Callable[[], str],
        log: Callable[[str], None],
        inform: Callable[[str], None] | None = None,
        printer: PrinterStatus | None = None,
        watching: Callable[[], bool] = lambda: False,
    ) -> None:
        """``log`` takes trouble (kept for STATE), ``inform`` news (orders printed; default: not said);
        ``printer`` is asked for its status while ``watching()`` (a printer known to answer DLE EOT)."""
        self.sink, self.cloud, self.copies, self.qr_base, self.log = sink, cloud, copies, qr_base, log
        self.inform: Callable[[str], None] = inform or (lambda _text: None)
        self.counts = OrderCounts()
        self.interval_s = 1.0
        self._file = state_dir / PRINTED_FILE
        self._printed = self._load()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cloud_why: str | None = None  # why the cloud did not answer, while it does not
        self.printer, self.watching = printer, watching
        self._trouble = False  # the last print or status said the printer cannot print: ask it before each poll

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="box-orders", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def status(self) -> dict[str, Any]:
        return {**asdict(self.counts), "poll_interval_s": self.interval_s}

    # -- the cycle ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.cycle())

    def cycle(self) -> float:
        """One poll with what follows -> seconds until the next: the cloud's interval, none while jobs flow,
        ``BACKOFF_S`` growing while the cloud does not answer (the box's own printing never stops for it)."""
        try:
            client = self.cloud()
            if client is None:
                self.counts.cloud = "none"
                return _IDLE_POLL_S
            return self.poll_once(client)
        except Exception as exc:  # the cloud away, a refused claim…
            why = str(exc) if isinstance(exc, KlxError) else f"{type(exc).__name__}: {exc}"
            self.counts.poll_failures += 1
            wait = BACKOFF_S[min(self.counts.poll_failures, len(BACKOFF_S)) - 1]
            if self.counts.cloud != "away" or why != self.counts.last_error:  # said once, not at every poll
                self.log(f"online orders: polling the cloud failed ({why}); trying again, less often")
            self.counts.cloud, self.counts.last_error, self._cloud_why = "away", why, why
            return wait

    def _answered(self) -> None:
        """A poll was answered: the cloud is back, if it was away."""
        if self.counts.cloud == "away":
            self.inform(f"online orders: the cloud answers again after {self.counts.poll_failures} failed poll(s)")
            if self.counts.last_error == self._cloud_why:
                self.counts.last_error = None
        self.counts.cloud, self.counts.poll_failures = "ok", 0

    def poll_once(self, client: OrderCloud) -> float:
        """One poll (and the jobs it offers, if any) -> seconds until the next poll: none while jobs flow."""
        health = self._printer_now(ask=self._trouble)  # a printer in trouble is asked again before each poll
        trouble = None if self.sink.has_backup() else _trouble(health)  # the backup prints meanwhile
        if trouble is None and _trouble(health) is not None:
            health = None  # the cloud is not told of the main printer's trouble: orders go to the backup
        answer = client.print_poll(_poll_body(health))  # the cloud offers nothing to a printer that cannot print
        self._answered()
        self.interval_s = float(answer.get("poll_interval_s") or 1.0)
        tokens = [str(t) for t in answer.get("job_tokens") or [answer.get("job_token")] if t]
        was_in_trouble, self._trouble = self._trouble, trouble is not None
        self.counts.waiting = int(answer.get("jobs_waiting") or 0)
        if trouble is not None:
            self.counts.last_error = f"printer {trouble[1]}: {self.counts.waiting} order(s) wait in the cloud"
        elif was_in_trouble and health is not None:  # the printer answered fine again
            self.counts.last_error = None
        if not answer.get("job_ready") or not tokens:
            return self.interval_s
        batch: list[tuple[str, dict[str, Any]]] = []
        for token in tokens:
            if token in self._printed:  # printed before a reboot, confirmation lost: confirm, never reprint
                client.confirm_print(token, "OK")
                continue
            batch.append((token, client.print_job(token)["order"]))
            self.counts.received += 1
        codes = self._print(batch)
        for (token, _), code in zip(batch, codes, strict=True):
            client.confirm_print(token, code)  # OK, or the printer's status: the cloud keeps the order queued
        self._report(batch, codes)  # after the cloud heard: the box's log line may wait for a slow host link
        return 0.0 if all(c == "OK" for c in codes) else self.interval_s

    def _printer_now(self, ask: bool) -> PrinterHealth | None:
        """The printer's status when the box watches it (config ``printer_watch_s``; ``ask``: query it now),
        else None: unknown, a print attempt will tell."""
        if self.printer is None or not self.watching():
            return None
        return self.printer.check() if ask else self.printer.health

    def _ticket(self, order: dict[str, Any], copies: list[str]) -> bytes:
        width, encoding = self.sink.layout()
        encoding = encoding or _default_encoding(order)
        qr = f"{self.qr_base().rstrip('/')}/o/{order.get('order_id')}" if self.qr_base() else None
        return b"".join(compose_order_ticket(order, width=width, encoding=encoding, copy=c, qr_url=qr) for c in copies)

    def _print(self, batch: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Print the batch's orders, each its own job, in one turn between POS jobs -> the code of each: ``OK``,
        or why the printer did not take it (that one and the rest stay queued in the cloud)."""
        if not batch:
            return []
        copies = [c for c in self.copies() if c in COPIES] or ["customer"]
        tickets = [self._ticket(order, copies) for _, order in batch]
        codes: list[str] = []
        self.counts.waiting = len(batch)
        trouble = _trouble(self._printer_now(ask=True))  # paper out takes bytes silently: ask before printing
        if trouble is not None and self.sink.has_backup():
            trouble = None  # the sink sends the batch to the backup printer (it knows the main one's health)
        try:
            if trouble is not None:
                codes += self._failed(batch, codes, trouble[0], f"printer {trouble[1]}")
            else:
                with self.sink.turns.box_turn(MAX_ORDER_WAIT_S):
                    for ticket in tickets:
                        self.sink.print_job(ticket)
                        codes.append("OK")
                        self.counts.waiting -= 1
        except BusyPrinterError as exc:
            codes += self._failed(batch, codes, "BUSY", str(exc))
        except KlxError as exc:
            codes += self._failed(batch, codes, "OFFLINE", str(exc))
        self._trouble = any(c in ("OFFLINE", "PAPER_OUT", "COVER_OPEN") for c in codes)
        self.counts.waiting = len(batch) - codes.count("OK")  # not printed: still queued in the cloud
        self._remember([token for (token, _), code in zip(batch, codes, strict=True) if code == "OK"])
        self.counts.printed += codes.count("OK")  # remembered before any confirmation: a reboot never reprints
        if codes.count("OK") == len(batch):
            self.counts.last_error = None
        return codes

    def _failed(self, batch: list[tuple[str, dict[str, Any]]], codes: list[str], code: str, why: str) -> list[str]:
        """The rest of the batch after the printer failed: each stays queued in the cloud, told ``code``."""
        left = len(batch) - len(codes)
        self.counts.failed += left
        self.counts.last_error = why
        return [code] * left

    def _report(self, batch: list[tuple[str, dict[str, Any]]], codes: list[str]) -> None:
        """One log line per batch: which orders printed, which did not and why."""

        def numbers(ok: bool) -> str:
            return ", ".join(f"{o.get('platform')} #{o.get('number')}" for (_, o), c in zip(batch, codes, strict=True)
                             if (c == "OK") == ok)  # fmt: skip

        if "OK" in codes:
            self.inform(f"online orders printed: {numbers(True)}")
        if any(c != "OK" for c in codes):
            failed = next(c for c in codes if c != "OK")
            self.log(f"online orders not printed ({failed}): {numbers(False)}: {self.counts.last_error}")

    # -- printed tokens ----------------------------------------------------------------------------
    def _load(self) -> list[str]:
        try:
            tokens = json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [t for t in tokens if isinstance(t, str)] if isinstance(tokens, list) else []

    def _remember(self, tokens: list[str]) -> None:
        if not tokens:
            return
        self._printed = [*self._printed, *tokens][-_KEEP:]
        write_atomic(self._file, json.dumps(self._printed).encode())
