"""``klx box sim``: a faithful emulator of the Kelaile box, composed of its parts.

- ``host_link.HostLink``: the host side, a new pty (its path is what a USB-serial port would be) or
  a TCP server for pyserial's ``socket://`` URL, paced at the simulated baud rate, with faults;
- ``device.Device``: answers the requests of docs/box-protocol.md through its handler table;
- ``pipeline.PosPipeline``: the POS/printer side (passthrough, decode, detect, extract, upload queue,
  answers before the cut).

``BoxSim`` wires them and runs the threads: the host-link reader, the dispatcher (requests to the
device, answers to the host), the tap sender (EV_TAP frames, bounded backlog) and the upload loop;
the pipeline runs its capture thread itself. A reboot stops the pipeline and boots again; a power
loss (fault option) kills the process with SIGKILL, as pulling the plug would.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kelaile_cli.core.box.messages import MsgType
from kelaile_cli.core.box.session import DeviceSession
from kelaile_cli.core.errors import InputError
from kelaile_cli.services.box.registry import register_box, unregister_box
from kelaile_cli.services.capture.answer_board import AnswerBoard
from kelaile_cli.services.emulator.backup_printer import OrderPrinters
from kelaile_cli.services.emulator.device import Device, Tap
from kelaile_cli.services.emulator.faults import Faults, PowerCut, PowerLoss, parse_fault, parse_power_loss
from kelaile_cli.services.emulator.flash_receiver import SlotBackend
from kelaile_cli.services.emulator.host_link import BAUDS, HostLink
from kelaile_cli.services.emulator.journal import Journal
from kelaile_cli.services.emulator.links import HostSideLink, open_host_link
from kelaile_cli.services.emulator.orders import OrderCloud, OrderPrinter
from kelaile_cli.services.emulator.pipeline import PosPipeline, endpoint_problem
from kelaile_cli.services.emulator.provisioning import CAPS, BoxProvisioning
from kelaile_cli.services.emulator.state import BoxState, KeepQueued, Uploader

__all__ = ["BAUDS", "BoxSim", "Faults", "PowerLoss", "SimOptions", "parse_fault", "parse_power_loss", "slot_backend"]

UPLOAD_RETRY = 5.0  # seconds between tries to deliver the queue


@dataclass
class SimOptions:
    state: Path
    listen: str | None = None  # socket://HOST:PORT; None: a new pty
    pos: str | None = None  # overrides (and stores) config 'pos'
    printer: str | None = None  # overrides (and stores) config 'printer'
    printer_baud: int | None = None  # overrides (and stores) config 'printer_baud'
    printer_flow: str | None = None  # overrides (and stores) config 'printer_flow' (none, xonxoff, rtscts)
    backup_printer: str | None = None  # overrides (and stores) config 'backup_printer' (online orders)
    baud: int = 115200
    trust: Path | None = None
    faults: Faults = field(default_factory=Faults)
    profiles: list[Path] = field(default_factory=list)
    uploader: Uploader = field(default_factory=KeepQueued)
    slots: SlotBackend | None = None  # firmware slots; None: the box cannot be flashed
    usb_backend: Any = None  # pyusb backend for a usb:// printer (None: libusb; tests pass an emulated one)
    power_off: Callable[[], None] = lambda: os.kill(os.getpid(), signal.SIGKILL)


class BoxSim:
    """One emulated box. ``start`` it, read ``port`` (what a host opens), ``stop`` it."""

    def __init__(self, options: SimOptions) -> None:
        if options.baud not in BAUDS:
            raise InputError(f"--baud {options.baud}: the box supports {', '.join(map(str, BAUDS))}")
        self.options = options
        self.journal = Journal()  # plain lines with <N> levels on stderr when it is the journal (systemd)
        self.state = BoxState(options.state)
        overrides = (("pos", options.pos), ("printer", options.printer), ("printer_baud", options.printer_baud),
                     ("printer_flow", options.printer_flow), ("backup_printer", options.backup_printer))  # fmt: skip
        for key, value in overrides:
            if value is not None and self.state.config.get(key) != value:
                self.state.update_config({key: value})
        problem = endpoint_problem(self.state.config)
        if problem:
            raise InputError(problem)
        self.faults = options.faults
        power = PowerCut(options.faults, options.power_off)
        link = open_host_link(options.listen)
        # the parts report through the device (EV_LOG, EV_STATE), which is built last: it asks the others
        self.host = HostLink(link, options.baud, options.faults, power, log=self.note_error)
        tap = Tap()
        self.pipeline = PosPipeline(self.state, options, log=self.note_error, on_queued=self._announce, tap=tap)
        self.device = Device(
            self.state, self.host, self.pipeline, tap=tap, slots=options.slots, faults=options.faults, power=power,
            emit=self.host.send,
        )  # fmt: skip
        self.provisioning = BoxProvisioning(
            self.state, self.pipeline, options.faults, plain_test_print=self.device.handlers[MsgType.TEST_PRINT],
            on_change=self._changed,
        )  # fmt: skip
        self.provisioning.printer.ask = self.pipeline.ask_printer  # a printer on a link of its own: asked there
        self.device.handlers.update(self.provisioning.handlers)
        self.device.extra_caps += CAPS
        self.device.status_parts.append(self.provisioning.status)
        self.device.on_config.append(self.provisioning.config_changed)
        if isinstance(options.uploader, KeepQueued):  # no uploader given: the box's config drives its cloud link
            options.uploader = self.provisioning.cloud
        self.order_printers = OrderPrinters(  # online orders: the printer, or the backup while it is down
            self.pipeline, lambda: self.provisioning.printer.health, self.note_error, options.usb_backend
        )
        self.orders = OrderPrinter(
            options.state, self.order_printers, self._order_cloud, copies=self._order_copies, qr_base=self._cloud_url,
            log=self.note_error, inform=lambda text: self.device.log(text, level="info"),
            printer=self.provisioning.printer,
            watching=lambda: float(self.state.config.get("printer_watch_s") or 0) > 0,
        )  # fmt: skip
        self.device.status_parts.append(lambda: {"orders": self.orders.status()})
        self.power = power
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._registered: Path | None = None

    # -- what hosts, tests and the CLI read ----------------------------------------------------------
    @property
    def port(self) -> str:
        """What a host opens: the pty path or the socket:// URL."""
        return self.host.name

    @property
    def link(self) -> HostSideLink:
        return self.host.link

    @property
    def baud(self) -> int:
        return self.host.baud

    @property
    def pos_address(self) -> str:
        """Where the POS side listens (``listen://HOST:PORT`` or the POS pty), "" when it is not up."""
        return self.pipeline.pos_address

    @property
    def answers(self) -> AnswerBoard:
        return self.pipeline.answers

    @property
    def session(self) -> DeviceSession:
        return self.device.session

    @property
    def boot_info(self) -> dict[str, Any]:
        return self.device.boot_info

    def note_error(self, text: str) -> None:
        """An error of a part (host link, pipeline, the cloud uploader): kept for STATE, sent as EV_LOG and
        written to the journal."""
        self.journal.write("error", text)
        self.device.log(text)

    def _announce(self) -> None:
        self.device.announce_state()

    # -- online orders -----------------------------------------------------------------------------
    def _order_cloud(self) -> OrderCloud | None:
        """The claimed cloud client, when the box uploads to a cloud (its uploader can claim)."""
        device_client = getattr(self.options.uploader, "device_client", None)
        return device_client() if callable(device_client) else None

    def _order_copies(self) -> list[str]:
        return [c.strip() for c in str(self.state.config.get("order_copies") or "customer").split(",")]

    def _cloud_url(self) -> str:
        return str(self.state.config.get("cloud_url") or getattr(self.options.uploader, "base_url", "") or "")

    def _changed(self, text: str) -> None:
        """A change the host should hear of (printer health, cloud claim): EV_LOG, EV_STATE, the journal."""
        self.journal.write("info", text)
        self.device.log(text, level="info")
        self.device.announce_state()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Boot and serve; ``InputError`` (and nothing left running) if the POS/printer side cannot start."""
        self._boot()
        if self.pipeline.error:
            self.pipeline.release()
            self.host.close()
            raise InputError(self.pipeline.error, remedy="check --pos and --printer (is the port free?)")
        threads = [(self._read, "box-link"), (self._dispatch, "box-dispatch")]
        threads += [(self._upload_loop, "box-upload"), (self._tap_sender, "box-tap")]
        for target, name in threads:
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self.provisioning.start()
        self.orders.start()
        self._registered = register_box(self.state.serial, self.port, self.state.root)
        config = self.state.config
        self.journal.write("notice", (
            f"box {self.state.serial} up: host {self.port}, POS {self.pos_address or config.get('pos') or 'off'}, "
            f"printer {config.get('printer') or 'none'}, {len(self.state.queue)} queued, state {self.state.root}"
        ))  # fmt: skip

    def stop(self) -> None:
        if not self._stop.is_set():
            self.journal.write("notice", f"box {self.state.serial} stopping ({len(self.state.queue)} queued, kept)")
        self._stop.set()
        self.provisioning.stop()
        self.orders.stop()
        if self._registered is not None:
            unregister_box(self._registered)
        self.host.stop()
        self.pipeline.stop()
        for t in self._threads:
            t.join(timeout=3)
        self.host.close()
        self.pipeline.release()

    def wait(self) -> None:
        """Block until stopped (SIGINT/SIGTERM handled by the caller)."""
        while not self._stop.wait(0.2):
            pass

    def _boot(self) -> None:
        boot_event = self.device.boot()
        self.pipeline.start()
        self.host.send(boot_event)

    def _reboot(self) -> None:
        self.power.phase("reboot")
        self.pipeline.stop()
        time.sleep(0.05)  # let the RESULT leave before the link drops
        self.host.drop_host()
        self._boot()

    # -- threads -----------------------------------------------------------------------------------
    def _read(self) -> None:
        self.host.run_reader(self._stop)

    def _dispatch(self) -> None:
        """Received bytes to the device, its answers to the host; reboot when asked."""
        while not self._stop.is_set():
            try:
                data = self.host.rx.get(timeout=0.1)
            except queue.Empty:
                self._housekeeping()
                continue
            if data is None:
                return
            if data == b"":
                self.device.hang_up()
                continue
            for msg in self.device.session.receive(data):
                self.host.heard_frame()
                self.host.send(self.device.handle(msg))
                if msg.type is MsgType.REBOOT:
                    self._reboot()
            self.host.send(self.device.session.take_replies())
            self._housekeeping()

    def _housekeeping(self) -> None:
        self.host.check_probation()
        self.device.check_keepalive()

    def _upload_loop(self) -> None:
        while not self._stop.wait(UPLOAD_RETRY):
            self.pipeline.upload_pending()

    def _tap_sender(self) -> None:
        """Tap frames to the host on their own thread: the pipeline never waits for the host link."""
        backlog = self.device.tap.backlog
        while not self._stop.is_set():
            try:
                frame = backlog.get(timeout=0.1)
            except queue.Empty:
                continue
            if self.device.tap.on:
                self.host.send(frame)


def slot_backend(state: Path, trust: Path | None) -> SlotBackend | None:
    """The firmware slots of the box in ``state`` (None without ``--trust``: the box cannot be flashed)."""
    if trust is None:
        return None
    if not trust.is_dir():
        raise InputError(f"--trust {trust}: not a directory", remedy="give the directory `klx firmware keygen` wrote")
    from kelaile_cli.services.emulator.slot_store import open_backend

    return open_backend(state / "slots", trust)
