"""Where online orders print: the box's printer, or the backup printer (config ``backup_printer``) while the
main one is offline, out of paper or open — or when a print on it fails.

``OrderPrinters`` is the ``OrderSink`` the order printer (``orders.py``) prints through: the same turns and
layout as the pipeline's printer side. The main printer's state is what the printer watch last saw
(``printer_watch_s``; the fault switches count), so an order is not sent into a printer known to be down.
The backup printer is opened for each order (``tcp://``, a port, ``usb://``, ``/dev/usb/lpN``, a file) and
closed again: the box holds no second printer while none is needed. Without a backup, a failed print is
the order printer's failure as before (the order stays queued in the cloud).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from kelaile_cli.core.box.errors import ErrorCode, Refused
from kelaile_cli.core.errors import KlxError
from kelaile_cli.core.escpos.status import PrinterHealth
from kelaile_cli.services.capture.printer_turns import PrinterTurns
from kelaile_cli.services.emulator.pipeline import PosPipeline
from kelaile_cli.transports.printer import LineSettings, open_printer, printer_endpoint

__all__ = ["OrderPrinters", "usable"]

CONNECT_S = 3.0


def usable(health: PrinterHealth | None) -> bool:
    """False when the printer is known to be offline, out of paper or open (None: not known, try it)."""
    return health is None or (health.online and health.paper != "end" and health.cover != "open")


class OrderPrinters:
    """The main printer (the pipeline) with a backup for online orders; counts what went to the backup."""

    def __init__(
        self,
        pipeline: PosPipeline,
        health: Callable[[], PrinterHealth | None],
        log: Callable[[str], None],
        usb_backend: Any = None,
    ) -> None:
        self.pipeline, self.health, self.log, self.usb_backend = pipeline, health, log, usb_backend
        self.turns: PrinterTurns = pipeline.turns  # the main printer's turns (the pipeline keeps one for good)
        self.on_backup = 0  # orders printed on the backup printer

    def layout(self) -> tuple[int, str | None]:
        return self.pipeline.layout()

    def has_backup(self) -> bool:
        return bool(self.pipeline.state.config.get("backup_printer"))

    def print_job(self, job: bytes) -> int:
        """Print on the main printer, or on the backup while the main one is down -> bytes sent."""
        backup = str(self.pipeline.state.config.get("backup_printer") or "")
        health = self.health()
        if backup and not usable(health):
            return self._backup(backup, job, "the main printer is " + _why(health))
        try:
            return self.pipeline.print_job(job)
        except KlxError as exc:
            if not backup:
                raise
            return self._backup(backup, job, f"the main printer failed ({exc.message})")

    def _backup(self, url: str, job: bytes, why: str) -> int:
        config = self.pipeline.state.config
        try:
            ep = printer_endpoint(url)
            if ep.kind == "tcp":
                with socket.create_connection((ep.host, ep.port), timeout=CONNECT_S) as s:
                    s.sendall(job)
            else:
                line = LineSettings(int(config.get("backup_printer_baud") or 9600), "none")
                link = open_printer(ep, line, usb_backend=self.usb_backend)
                try:
                    link.write(job)
                finally:
                    link.close()
        except (OSError, KlxError) as exc:
            detail = exc.message if isinstance(exc, KlxError) else (exc.strerror or str(exc))
            raise Refused(ErrorCode.INTERNAL, f"{why}; the backup printer {url} failed too ({detail})") from None
        self.on_backup += 1
        self.log(f"online order printed on the backup printer {url}: {why}")
        return len(job)


def _why(health: PrinterHealth | None) -> str:
    if health is None or not health.online:
        return "offline"
    return "out of paper" if health.paper == "end" else "open (cover)"
