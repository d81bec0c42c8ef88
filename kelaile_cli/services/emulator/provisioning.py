"""What the emulated box adds for ``klx provision``: its clock (CLOCK_SET), the cloud check from the box
(CLOUD_CHECK), the provisioning ticket (TEST_PRINT with ``ticket``), and STATE's ``clock``, ``cloud``,
``printer`` and ``pos`` entries. Built from the box's parts and plugged into the device's handler table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kelaile_cli.core.box.messages import ErrorCode, Message, MsgType
from kelaile_cli.core.box.ticket import compose_ticket
from kelaile_cli.services.emulator.cloud_link import CloudFailureError, CloudLink
from kelaile_cli.services.emulator.faults import Faults
from kelaile_cli.services.emulator.flash_receiver import Refused
from kelaile_cli.services.emulator.pipeline import PosPipeline
from kelaile_cli.services.emulator.printer_health import PrinterWatch
from kelaile_cli.services.emulator.state import BoxState

__all__ = ["CAPS", "BoxProvisioning"]

CAPS = ["claim", "cloud-check", "clock", "printer-health", "ticket"]
Handler = Callable[[Message], dict[str, Any]]


class BoxProvisioning:
    """The box's provisioning side; ``handlers`` go into ``Device.handlers``, ``status`` into STATE."""

    def __init__(
        self,
        state: BoxState,
        pipeline: PosPipeline,
        faults: Faults,
        *,
        plain_test_print: Handler,
        on_change: Callable[[str], None],
    ) -> None:
        self.state = state
        self.pipeline = pipeline
        self.faults = faults
        self.cloud = CloudLink(state, faults, on_change)
        self.printer = PrinterWatch(
            lambda: str(state.config.get("printer") or ""),
            lambda: float(state.config.get("printer_watch_s") or 0),
            faults,
            on_change,
        )
        self.printer.on_health = pipeline.show_printer_health  # a USB printer gadget tells the PC (port status)
        self._plain_test_print = plain_test_print
        self.clock_offset = faults.clock_skew or 0.0

    @property
    def handlers(self) -> dict[MsgType, Handler]:
        return {
            MsgType.CLOCK_SET: self._clock_set,
            MsgType.CLOUD_CHECK: self._cloud_check,
            MsgType.TEST_PRINT: self._test_print,
        }

    def clock(self) -> float:
        return time.time() + self.clock_offset

    def _clock_set(self, msg: Message) -> dict[str, Any]:
        was = self.clock()
        if self.faults.clock_skew is None:  # with the clock-skew fault the RTC does not keep what it is set to
            self.clock_offset = msg["time"] - time.time()
        return {"was": int(was), "now": int(self.clock())}

    def _cloud_check(self, msg: Message) -> dict[str, Any]:
        url = msg.get("url") or self.cloud.url
        if not url:
            raise Refused(ErrorCode.BAD_STATE, "no cloud URL given or configured")
        return self.cloud.check(url)

    def _test_print(self, msg: Message) -> dict[str, Any]:
        ticket = msg.get("ticket")
        if ticket is None:
            return self._plain_test_print(msg)
        health = self.printer.check()
        if health is None or not health.online:
            raise Refused(ErrorCode.BAD_STATE, f"printer offline ({self.printer.detail})")
        try:
            url = self.cloud.ticket_url()
        except CloudFailureError as exc:
            raise Refused(ErrorCode.BAD_STATE, f"no ticket from the cloud: {exc.code} {exc.detail}") from None
        job = compose_ticket(ticket, url, self.clock())
        return {"bytes": self.pipeline.print_job(job), "qr": url, "job": job}

    def start(self) -> None:
        """At boot: watch the printer; a box with a cloud configured claims (if it has not) at once."""
        self.printer.start()
        self.cloud.config_changed({"cloud_url"})

    def stop(self) -> None:
        self.printer.stop()

    def config_changed(self, keys: set[str]) -> None:
        self.cloud.config_changed(keys)
        if keys & {"printer", "printer_watch_s"}:
            self.printer.wake()

    def status(self) -> dict[str, Any]:
        return {
            "clock": round(self.clock(), 3),
            "cloud": self.cloud.status(len(self.state.queue)),
            "printer": self.printer.report(),
            "pos": {
                "receipts": self.pipeline.receipts,
                "listening": self.pipeline.pos_address,
                "last": self.pipeline.last_receipt,
            },
        }
