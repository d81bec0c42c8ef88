"""The box watches its printer: every ``printer_watch_s`` seconds (config; ``klx provision`` turns it on)
and before its own prints it asks the printer's real-time status (``DLE EOT 1..4``) and, once, its
model (``GS I 67``); a change is an event (EV_LOG and EV_STATE through ``on_change``). Off by default
in the emulator, so a printer that was never provisioned receives exactly the POS's bytes.

A printer the POS side holds open (serial, USB, ``/dev/usb/lp``, or a TCP printer behind a serial POS) is
asked on that link, between POS jobs (``ask``, set by the box: ``PosPipeline.ask_printer``); a TCP printer
behind a TCP POS on a connection of its own; a file printer is always "online". The fault switches
``printer-offline``, ``paper-out`` and ``cover-open`` stand for a printer in that state: they replace
what the printer answered, as a real one in that state would.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kelaile_cli.core.escpos.status import MODEL_QUERY, STATUS_QUERY, PrinterHealth, parse_model
from kelaile_cli.services.capture.printer_side import PrinterSide
from kelaile_cli.services.capture.printer_turns import BusyPrinterError, PrinterTurns
from kelaile_cli.services.emulator.faults import Faults
from kelaile_cli.transports.endpoints import parse_endpoint
from kelaile_cli.transports.printer import link_kind

__all__ = ["Asker", "PrinterWatch", "query_printer", "query_side"]

Asker = Callable[[bool], "tuple[PrinterHealth, str] | None"]  # see PrinterWatch.ask
IDLE_S = 0.5  # how often an idle watch looks at its config again
ANSWER_TIMEOUT_S = 1.0


def query_printer(url: str, ask_model: bool) -> tuple[PrinterHealth, str]:
    """Ask a ``tcp://`` printer for its status (and model) -> its health and a one-line detail."""
    ep = parse_endpoint(url)
    try:
        with socket.create_connection((ep.host, ep.port), timeout=ANSWER_TIMEOUT_S) as s:
            s.sendall(STATUS_QUERY)
            answers = _read(s, 4)
            model = None
            if ask_model and len(answers) >= 4:
                s.sendall(MODEL_QUERY)
                model = parse_model(_read(s, 64, until=b"\x00"))
    except OSError as exc:
        return PrinterHealth(online=False), f"no connection to the printer ({exc.strerror or exc})"
    health = PrinterHealth.from_answers(answers, model)
    detail = "no answer to the status query" if len(answers) < 4 else "answered"
    return health, detail


def query_side(side: PrinterSide, turns: PrinterTurns, ask_model: bool) -> tuple[PrinterHealth, str]:
    """Ask the printer on the POS side's own link, in the box's turn (``BusyPrinterError`` while POS jobs
    hold the printer for the whole wait)."""
    if side.down:  # unplugged: the POS's bytes wait for the link to come back, the box need not ask
        return PrinterHealth(online=False), f"the printer link failed ({side.down}); reopening it"
    try:
        with turns.box_turn(ANSWER_TIMEOUT_S):
            answers = side.ask(STATUS_QUERY, 4, ANSWER_TIMEOUT_S)
            model = None
            if ask_model and len(answers) >= 4:
                model = parse_model(side.ask(MODEL_QUERY, 64, ANSWER_TIMEOUT_S, until=b"\x00"))
    except BusyPrinterError:  # a TimeoutError (an OSError): the printer is busy, not failed
        raise
    except OSError as exc:
        return PrinterHealth(online=False), f"the printer link failed ({exc.strerror or exc})"
    health = PrinterHealth.from_answers(answers, model)
    return health, "no answer to the status query" if len(answers) < 4 else "answered"


def _read(s: socket.socket, n: int, until: bytes | None = None) -> bytes:
    got = b""
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while len(got) < n and time.monotonic() < deadline:
        if until is not None and until in got:
            break
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(n - len(got))
        except (TimeoutError, OSError):
            break
        if not data:
            break
        got += data
    return got


class PrinterWatch:
    """Polls the printer the box's config names; ``report()`` is the STATE ``printer`` entry."""

    def __init__(
        self,
        printer: Callable[[], str],
        interval: Callable[[], float],
        faults: Faults,
        on_change: Callable[[str], None],
    ) -> None:
        self.printer = printer
        self.interval = interval
        self.faults = faults
        self.on_change = on_change
        self.on_health: Callable[[PrinterHealth], None] | None = None  # every answer (the POS side shows it)
        self.health: PrinterHealth | None = None
        self.detail = ""
        self.checked_at = 0.0
        self._model: str | None = None
        # the box's way to ask the printer on the POS side's link -> (health, detail), None when the printer
        # has no such link (a TCP printer per job, a file); BusyPrinterError: POS jobs kept it busy
        self.ask: Asker | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="box-printer-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(3)

    def wake(self) -> None:
        """The config changed: check at once."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            every = self.interval()
            if every > 0:
                self.check()
            self._wake.wait(every if every > 0 else IDLE_S)
            self._wake.clear()

    def check(self) -> PrinterHealth | None:
        """Ask the printer now; announce a change."""
        link = self.printer()
        try:
            asked = self._ask() if link and not self.faults.printer_offline else None
        except BusyPrinterError:  # POS jobs kept the printer busy the whole wait: what was known stands
            return self.health
        if not link:
            health, detail = None, "no printer configured"
        elif self.faults.printer_offline:
            health, detail = PrinterHealth(online=False), "no connection to the printer (fault printer-offline)"
        elif asked is not None:
            health, detail = self._with_model(asked[0]), asked[1]
        elif link.startswith("tcp://"):
            health, detail = query_printer(link, ask_model=self._model is None)
            health = self._with_model(health)
        elif link_kind(link) == "file":
            health, detail = PrinterHealth(online=True), "a file"
        else:
            health, detail = PrinterHealth(online=False), "the printer's link is not open (is the POS side set?)"
        if health is not None and self.faults.paper_out:
            health = replace(health, paper="end")
        if health is not None and self.faults.cover_open:
            health = replace(health, cover="open")
        changed = health != self.health
        self.health, self.detail, self.checked_at = health, detail, time.time()
        if health is not None and self.on_health is not None:
            self.on_health(health)
        if changed:
            self.on_change(f"printer: {self._words(health)}")
        return health

    def _ask(self) -> tuple[PrinterHealth, str] | None:
        """The answer asked on the POS side's printer link; None: no such link (``BusyPrinterError``: busy)."""
        return self.ask(self._model is None) if self.ask is not None else None

    def _with_model(self, health: PrinterHealth) -> PrinterHealth:
        if health.model:
            self._model = health.model
        return replace(health, model=self._model)

    @staticmethod
    def _words(health: PrinterHealth | None) -> str:
        if health is None:
            return "none configured"
        if not health.online:
            return "offline"
        parts = [f"paper {health.paper.replace('_', ' ')}", f"cover {health.cover}"]
        return ", ".join(["online", *parts, *([f"error {health.error}"] if health.error else [])])

    def report(self) -> dict[str, Any]:
        link = self.printer()
        out: dict[str, Any] = {
            "link": link, "kind": link_kind(link), "checked_at": self.checked_at, "detail": self.detail,
        }  # fmt: skip
        if self.health is not None:
            out.update(self.health.as_dict())
        else:  # no printer: it cannot print; one never asked (no printer watch yet): unknown, not offline
            out.update(online=None if link else False, paper=None, cover=None, error=None, model=None)
            out["detail"] = out["detail"] or ("not checked yet" if link else "")
        return out
