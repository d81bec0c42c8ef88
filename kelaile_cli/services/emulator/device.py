"""The emulated box's device: answers the requests of docs/box-protocol.md through a handler table.

``Device`` owns what the firmware's request handler owns: config, identity, state (through
``BoxState``), tap, flash (through ``FlashHandler``), the boot and the requests to reboot. It does
no threading of its own: feed it a request ``Message`` with ``handle`` and it returns the answer
frame; events (EV_LOG, EV_STATE) go to ``emit``. The host link (baud rate, byte counters) and the
POS pipeline (receipts, test print, profiles) are parts it asks, not parts it runs.
"""

from __future__ import annotations

import collections
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from kelaile_cli import __version__
from kelaile_cli.core.box.config import CONFIG_KEYS, check_config, public_config
from kelaile_cli.core.box.errors import ErrorCode, Refused
from kelaile_cli.core.box.framing import MAX_BODY
from kelaile_cli.core.box.messages import PROTOCOL_VERSION, Message, MsgType
from kelaile_cli.core.box.replies import BootInfo, Hello, Identity, SlotInfo, State
from kelaile_cli.core.box.session import DeviceSession
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk
from kelaile_cli.core.profiles.profile import ProfileError, parse_profile
from kelaile_cli.services.emulator.faults import Faults, PowerCut
from kelaile_cli.services.emulator.flash_receiver import CHUNK, WINDOW, FlashHandler, SlotBackend
from kelaile_cli.services.emulator.host_link import BAUDS
from kelaile_cli.services.emulator.pipeline import PosPipeline, endpoint_problem
from kelaile_cli.services.emulator.state import BoxState
from kelaile_cli.transports.files import write_atomic
from kelaile_cli.transports.printer import link_kind

__all__ = ["KEEPALIVE_TAP_OFF", "TAP_BACKLOG", "TAP_CHUNK", "Device", "HostPort", "Tap"]

KEEPALIVE_TAP_OFF = 10.0  # seconds without a valid frame before tap is turned off
TAP_CHUNK = 3072  # tap data per EV_TAP frame
TAP_BACKLOG = 512  # EV_TAP frames waiting for the host link; more are dropped (a gap in seq)

Handler = Callable[[Message], dict[str, Any]]


class HostPort(Protocol):
    """What the device asks of its host link."""

    baud: int
    bytes_in: int
    bytes_out: int
    last_valid: float

    def request_baud(self, baud: int) -> tuple[int, float]: ...


class Tap:
    """Live copies of the bytes for the printer, as EV_TAP frames in a bounded backlog."""

    def __init__(self) -> None:
        self.on = False
        self.seq = 0
        self.events = 0
        self.dropped = 0
        self.backlog: queue.Queue[bytes] = queue.Queue(TAP_BACKLOG)

    def __call__(self, chunk: Chunk) -> None:
        """A pipeline sink: frame the printer-bound bytes while tap is on; drop them when the backlog is full."""
        if not self.on or chunk.direction != TO_PRINTER:
            return
        for i in range(0, len(chunk.data), TAP_CHUNK):
            self.seq += 1
            self.events += 1
            part = chunk.data[i : i + TAP_CHUNK]
            frame = DeviceSession.event(MsgType.EV_TAP, {"seq": self.seq, "data": part, "conn": chunk.conn})
            try:
                self.backlog.put_nowait(frame)
            except queue.Full:
                self.dropped += 1


class Device:
    """Requests in, answers out; ``handlers`` maps each request type to its handler."""

    def __init__(
        self,
        state: BoxState,
        host: HostPort,
        pipeline: PosPipeline,
        *,
        tap: Tap,
        slots: SlotBackend | None,
        faults: Faults,
        power: PowerCut,
        emit: Callable[[bytes], None],
    ) -> None:
        self.state = state
        self.host = host
        self.pipeline = pipeline
        self.slots = slots
        self.faults = faults
        self.power = power
        self.emit = emit
        self.flash = FlashHandler(slots, slow=faults.slow_flash) if slots else None
        self.session = DeviceSession()
        self.tap = tap
        self.errors: collections.deque[str] = collections.deque(maxlen=10)
        self.booted_at = time.monotonic()
        self.boot_info: dict[str, Any] = {}
        # parts plugged in by the box (provisioning): more capabilities, STATE entries, config listeners
        self.extra_caps: list[str] = []
        self.status_parts: list[Callable[[], dict[str, Any]]] = []
        self.on_config: list[Callable[[set[str]], None]] = []
        flash: Handler = self._flash
        self.handlers: dict[MsgType, Handler] = {
            MsgType.HELLO: self._hello,
            MsgType.PING: lambda msg: {},
            MsgType.IDENTITY: self._identity,
            MsgType.CONFIG_GET: self._config_get,
            MsgType.CONFIG_SET: self._config_set,
            MsgType.PROFILE_UPLOAD: self._profile_upload,
            MsgType.TAP: self._tap,
            MsgType.STATE: lambda msg: self.status(),
            MsgType.TEST_PRINT: self._test_print,
            MsgType.REBOOT: lambda msg: {},  # answered first; the caller reboots after sending the answer
            MsgType.SET_BAUD: self._set_baud,
            MsgType.CLOCK_SET: self._unsupported,  # the box's provisioning part replaces these two
            MsgType.CLOUD_CHECK: self._unsupported,
            **{t: flash for t in MsgType if t.name.startswith("FLASH_")},
        }

    # -- boot and log ------------------------------------------------------------------------------
    def boot(self) -> bytes:
        """Power-up: pick the firmware image, forget the host's session and tap -> the EV_BOOT frame."""
        self.power.phase("boot")
        if self.slots is not None:
            fail = self.faults.fail_first_boot and bool(self.slots.describe().get("trial"))
            self.boot_info = self.slots.boot(fail_trial=fail)
            if fail:
                self.faults.fail_first_boot = False  # the crash happened; the store has reverted
                self.log("trial image crashed during boot; reverted")
                self.boot_info = self.slots.boot()
        else:
            self.boot_info = {"slot": "A", "version": __version__, "trial": False}
        self.booted_at = time.monotonic()
        self.hang_up()
        info = self.boot_info
        body = {"slot": str(info.get("slot")), "version": str(info.get("version")), "trial": bool(info.get("trial"))}
        return DeviceSession.event(MsgType.EV_BOOT, body)

    def hang_up(self) -> None:
        """The host went away: a half-received frame is garbage and nobody listens to the tap."""
        self.session = DeviceSession()
        self.tap.on = False

    def check_keepalive(self) -> None:
        """Turn the tap off when the host has been silent too long."""
        if self.tap.on and time.monotonic() - self.host.last_valid > KEEPALIVE_TAP_OFF:
            self.tap.on = False

    def log(self, text: str, level: str = "error") -> None:
        """A log line: errors kept for STATE; every line sent to the host as EV_LOG."""
        if level == "error":
            self.errors.append(text)
        self.emit(DeviceSession.event(MsgType.EV_LOG, {"level": level, "text": text}))

    def announce_state(self) -> None:
        """EV_STATE: the host hears about a change (config, a receipt) without polling."""
        self.emit(DeviceSession.event(MsgType.EV_STATE, {"state": self.status()}))

    # -- requests ----------------------------------------------------------------------------------
    def handle(self, msg: Message) -> bytes:
        """The answer frame to request ``msg``: RESULT, or ERROR with a typed code — never an exception."""
        handler = self.handlers.get(msg.type)
        try:
            if handler is None:
                raise Refused(ErrorCode.UNKNOWN_TYPE, f"{msg.type.name} is not a request")
            return DeviceSession.reply(msg, handler(msg))
        except Refused as exc:
            return DeviceSession.fail(msg, exc.error, exc.text, exc.next)
        except Exception as exc:  # the box must answer, whatever broke inside
            self.log(f"{msg.type.name}: {type(exc).__name__}: {exc}")
            return DeviceSession.fail(msg, ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}")

    def _caps(self) -> list[str]:
        caps = ["tap", "config", "profiles", "baud", "test-print", *self.extra_caps]
        return [*caps, "flash", "flash-z"] if self.flash else caps

    def _hello(self, msg: Message) -> dict[str, Any]:
        self.power.phase("hello")
        if PROTOCOL_VERSION not in msg["versions"]:
            raise Refused(ErrorCode.BAD_VERSION, f"this box speaks protocol version {PROTOCOL_VERSION}")
        ident = self.state.identity
        return Hello(
            version=PROTOCOL_VERSION,
            model=str(ident["model"]),
            serial=str(ident["serial"]),
            hw=str(ident["hw"]),
            fw=str(self.boot_info.get("version")),
            slot=str(self.boot_info.get("slot")),
            caps=self._caps(),
            max_frame=MAX_BODY,
            bauds=list(BAUDS),
            baud=self.host.baud,
            chunk=CHUNK,
            window=WINDOW,
        ).to_body()

    def _identity(self, msg: Message) -> dict[str, Any]:
        ident = self.state.identity
        fw = str(self.boot_info.get("version"))
        if self.slots is not None:
            described = self.slots.describe()
            active, trial = str(described.get("active")), bool(described.get("trial"))
            slots = [SlotInfo.from_body(s) for s in described.get("slots", [])]
        else:
            active, trial = "A", False
            slots = [SlotInfo("A", "valid", version=fw, confirmed=True), SlotInfo("B", "empty")]
        model, serial, hw = str(ident["model"]), str(ident["serial"]), str(ident["hw"])
        return Identity(model, serial, hw, fw, active, trial, slots).to_body()

    def _config_get(self, msg: Message) -> dict[str, Any]:
        keys = msg.get("keys")
        if keys and (unknown := [k for k in keys if k not in CONFIG_KEYS]):
            raise Refused(ErrorCode.BAD_CONFIG, f"unknown config key(s): {', '.join(map(str, unknown))}")
        return {"config": public_config(self.state.config, keys)}

    def _config_set(self, msg: Message) -> dict[str, Any]:
        values = msg["values"]
        problem = check_config(values) or endpoint_problem({**self.state.config, **values}, flag="")
        if problem:  # nothing is changed: a value the box could not boot with never reaches the state
            raise Refused(ErrorCode.BAD_CONFIG, problem)
        self.state.update_config(values)
        if "profile" in values:
            self.pipeline.forget_profiles()
        if "cut_wait_ms" in values:
            self.pipeline.apply_cut_wait()
        restart = [k for k in values if CONFIG_KEYS[k].restart]
        self.log(f"config changed: {', '.join(sorted(values))}", level="info")
        for listener in self.on_config:
            listener(set(values))
        return {"config": public_config(self.state.config), "restart": restart}

    def _profile_upload(self, msg: Message) -> dict[str, Any]:
        name = Path(msg["name"]).name
        if not name.endswith((".yaml", ".yml")):
            name += ".yaml"
        try:
            profile = parse_profile(msg["yaml"].decode("utf-8"), name)
        except (ProfileError, UnicodeDecodeError) as exc:
            raise Refused(ErrorCode.BAD_PAYLOAD, f"profile rejected: {exc}") from None
        write_atomic(self.state.profiles_dir / name, msg["yaml"])
        if msg.get("activate"):
            self.state.update_config({"profile": profile.id})
        self.pipeline.forget_profiles()
        return {"id": profile.id, "profiles": [p.id for p in self.pipeline.profiles().profiles]}

    def _tap(self, msg: Message) -> dict[str, Any]:
        self.tap.on = msg["on"]
        return {"on": self.tap.on}

    def _test_print(self, msg: Message) -> dict[str, Any]:
        text = msg.get("text") or f"Kelaile box {self.state.serial} test print"
        job = b"\x1b@" + text.encode("ascii", "replace") + b"\n\n\n\x1dV\x01"
        return {"bytes": self.pipeline.print_job(job)}

    def _unsupported(self, msg: Message) -> dict[str, Any]:
        raise Refused(ErrorCode.UNSUPPORTED, f"{msg.type.name}: this box has no provisioning support")

    def _set_baud(self, msg: Message) -> dict[str, Any]:
        baud = msg["baud"]
        if baud not in BAUDS:
            raise Refused(ErrorCode.UNSUPPORTED, f"{baud} baud is not supported ({', '.join(map(str, BAUDS))})")
        old, probation = self.host.request_baud(baud)
        return {"baud": baud, "old": old, "timeout": probation}

    def _flash(self, msg: Message) -> dict[str, Any]:
        self.power.phase(msg.type.name.lower().replace("_", "-"))
        if self.flash is None:
            raise Refused(ErrorCode.UNSUPPORTED, "this box has no firmware slots (start the sim with --trust)")
        return self.flash.handle(msg)

    # -- state -------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The STATE answer: uptime, boot, links, counters, queue, recent errors, tap."""
        cap = self.pipeline.capture_stats
        printer = self.state.config.get("printer") or ""
        boot = self.boot_info
        return State(
            uptime=round(time.monotonic() - self.booted_at, 3),
            boot=BootInfo(str(boot.get("slot")), str(boot.get("version")), bool(boot.get("trial"))),
            links={
                "host": {"baud": self.host.baud},
                "pos": {"endpoint": self.state.config.get("pos") or "", "listening": self.pipeline.pos_address},
                "printer": {"endpoint": printer, "kind": link_kind(printer)},
            },
            counters={
                "bytes_to_printer": cap.bytes_out,
                "bytes_from_printer": cap.bytes_in,
                "jobs": cap.connections,
                "refused_jobs": cap.refused,
                "receipts": self.pipeline.receipts,
                "recognised": self.pipeline.recognised,
                "tap_events": self.tap.events,
                "tap_dropped": self.tap.dropped,
                "host_bytes_in": self.host.bytes_in,
                "host_bytes_out": self.host.bytes_out,
                "bad_frames": self.session.garbage,
            },
            answers={
                "cut_wait_ms": round(self.pipeline.answers.wait_s * 1000),
                **self.pipeline.answers.stats.as_dict(),
            },
            queue=len(self.state.queue),
            last_errors=list(self.errors),
            tap=self.tap.on,
            **{k: v for part in self.status_parts for k, v in part().items()},
        ).to_body()
