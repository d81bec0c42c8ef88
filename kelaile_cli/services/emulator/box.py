"""``klx box sim``: a faithful emulator of the Kelaile box.

Host side: a new pty (``os.openpty``, raw mode; its path is what a USB-serial port would be) or a
TCP server for pyserial's ``socket://`` URL. Bytes are paced at the simulated baud rate in both
directions (a pty does not), and faults can be injected. The box speaks the protocol of
docs/box-protocol.md through ``core.box.session.DeviceSession``.

POS/printer side: the capture service's passthrough (bytes reach the printer first and unchanged),
with the real pipeline on the tap: PrintStream → analyse() → the upload queue in the state
directory, and live tap events to the host when tap is on.

Threads: the host-link reader (paces and injects faults), the dispatcher (answers requests), the
tap sender (EV_TAP frames, bounded backlog), the upload loop, the capture (its own asyncio loop) and
its tap thread. The host link is ``box_links``, the faults ``box_faults``, the printer side and the
decoding ``box_pipeline``. A reboot stops the pipeline and boots again; a power loss (fault option)
kills the process with SIGKILL, as pulling the plug would.
"""

from __future__ import annotations

import collections
import os
import queue
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kelaile_cli import __version__
from kelaile_cli.core.box.answers import compose_answer
from kelaile_cli.core.box.config import CONFIG_KEYS, check_config, public_config
from kelaile_cli.core.box.framing import MAX_BODY
from kelaile_cli.core.box.messages import PROTOCOL_VERSION, ErrorCode, Message, MsgType
from kelaile_cli.core.box.session import DeviceSession
from kelaile_cli.core.cloud.protocol import idempotency_key, receipt_digest
from kelaile_cli.core.errors import InputError
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk
from kelaile_cli.core.profiles.analysis import analyse, upload_body
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.profiles.profile import ProfileError, parse_profile
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.services.capture.live import CaptureStats, run_capture
from kelaile_cli.services.emulator.answer_board import AnswerBoard
from kelaile_cli.services.emulator.faults import Faults, PowerLoss, parse_fault, parse_power_loss
from kelaile_cli.services.emulator.flash_receiver import CHUNK, WINDOW, FlashHandler, Refused, SlotBackend
from kelaile_cli.services.emulator.links import Link, PosPty, PtyLink, SocketLink
from kelaile_cli.services.emulator.pipeline import FileSink, ReceiptPipeline
from kelaile_cli.services.emulator.state import BoxState, KeepQueued, Uploader
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.transports.endpoints import parse_endpoint
from kelaile_cli.transports.files import write_atomic

__all__ = ["BAUDS", "BoxSim", "Faults", "PowerLoss", "SimOptions", "parse_fault", "parse_power_loss", "slot_backend"]

BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
BAUD_PROBATION = 2.0  # seconds to hear a valid frame at a new baud rate before reverting
KEEPALIVE_TAP_OFF = 10.0  # seconds without a valid frame before tap is turned off
UPLOAD_RETRY = 5.0  # seconds between tries to deliver the queue
PACE_SLICE = 0.005  # pace reads in slices of this many seconds of line time
# A UART moves bytes while the CPU does other things: when the emulator's thread wakes up late (the
# scheduler, the GIL), the line time it lost is made up, up to this much, instead of being charged
# to the link. Without it the emulated link would be slower than the baud rate it claims.
PACE_SLACK = 0.02
TAP_CHUNK = 3072  # tap data per EV_TAP frame
TAP_BACKLOG = 512  # EV_TAP frames waiting for the host link; more are dropped (a gap in seq)


@dataclass
class SimOptions:
    state: Path
    listen: str | None = None  # socket://HOST:PORT; None: a new pty
    pos: str | None = None  # overrides (and stores) config 'pos'
    printer: str | None = None  # overrides (and stores) config 'printer'
    baud: int = 115200
    trust: Path | None = None
    faults: Faults = field(default_factory=Faults)
    profiles: list[Path] = field(default_factory=list)
    uploader: Uploader = field(default_factory=KeepQueued)
    slots: SlotBackend | None = None  # firmware slots; None: the box cannot be flashed
    power_off: Callable[[], None] = lambda: os.kill(os.getpid(), signal.SIGKILL)


# -- the box ---------------------------------------------------------------------------------------


@dataclass
class _Counters:
    host_bytes_in: int = 0
    host_bytes_out: int = 0
    requests: int = 0
    receipts: int = 0
    recognised: int = 0
    tap_events: int = 0
    tap_dropped: int = 0
    queued: int = 0


class BoxSim:
    """One emulated box. ``start`` it, read ``port`` (what a host opens), ``stop`` it."""

    def __init__(self, options: SimOptions) -> None:
        if options.baud not in BAUDS:
            raise InputError(f"--baud {options.baud}: the box supports {', '.join(map(str, BAUDS))}")
        self.options = options
        self.state = BoxState(options.state)
        for key, value in (("pos", options.pos), ("printer", options.printer)):
            if value is not None and self.state.config.get(key) != value:
                self.state.update_config({key: value})
        self._check_links()
        self.faults = options.faults
        # one generator per direction: what is damaged on the way in does not depend on thread timing
        seed = self.faults.seed
        self._rng_in, self._rng_out = random.Random(seed), random.Random(None if seed is None else seed + 1)
        self.link: Link = SocketLink(options.listen) if options.listen else PtyLink()
        self.baud = options.baud
        self._rx: queue.Queue[bytes | None] = queue.Queue()
        self._tx_lock = threading.Lock()
        self._tx_clock = 0.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.counters = _Counters()
        self.errors: collections.deque[str] = collections.deque(maxlen=10)
        self._phase_counts: collections.Counter[str] = collections.Counter()
        self.flash = FlashHandler(options.slots, slow=self.faults.slow_flash) if options.slots else None
        self.booted_at = time.monotonic()
        self.boot_info: dict[str, Any] = {}
        self.session = DeviceSession()
        self.tap_on = False
        self._tap_seq = 0
        self._tap_out: queue.Queue[bytes] = queue.Queue(TAP_BACKLOG)
        self._last_valid = time.monotonic()
        self._baud_probation: tuple[float, int] | None = None  # (deadline, old baud)
        self._capture: threading.Thread | None = None
        self._capture_stop = threading.Event()
        self.capture_stats = CaptureStats()
        self._pipeline_lock = threading.Lock()
        self._detector: Detector | None = None
        self.pos_address = ""  # where the POS side really listens (port 0 resolved)
        self.answers = AnswerBoard()  # cloud answers on their way to the held cuts (TCP printers)
        self.pipeline_error = ""  # why the POS/printer side did not start at the last boot
        self._pos_pty: PosPty | None = None  # --pos pty: the POS's port, kept across reboots

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def port(self) -> str:
        """What a host opens: the pty path or the socket:// URL."""
        return self.link.name

    def start(self) -> None:
        """Boot and serve; ``InputError`` (and nothing left running) if the POS/printer side cannot start."""
        self._boot()
        if self.pipeline_error:
            self._stop_pipeline()
            self.link.close()
            if self._pos_pty is not None:
                self._pos_pty.release()
            raise InputError(self.pipeline_error, remedy="check --pos and --printer (is the port free?)")
        threads = [(self._reader, "box-link"), (self._dispatcher, "box-dispatch")]
        threads += [(self._upload_loop, "box-upload"), (self._tap_sender, "box-tap")]
        for target, name in threads:
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self._rx.put(None)
        self._stop_pipeline()
        for t in self._threads:
            t.join(timeout=3)
        self.link.close()
        if self._pos_pty is not None:
            self._pos_pty.release()

    def wait(self) -> None:
        """Block until stopped (SIGINT/SIGTERM handled by the caller)."""
        while not self._stop.wait(0.2):
            pass

    def _boot(self) -> None:
        """Power-up: pick the firmware image, start the pipeline, announce the boot."""
        self._phase("boot")
        if self.options.slots is not None:
            fail = self.faults.fail_first_boot and bool(self.options.slots.describe().get("trial"))
            self.boot_info = self.options.slots.boot(fail_trial=fail)
            if fail:
                self.faults.fail_first_boot = False  # the crash happened; the store has reverted
                self._log("trial image crashed during boot; reverted")
                self.boot_info = self.options.slots.boot()
        else:
            self.boot_info = {"slot": "A", "version": __version__, "trial": False}
        self.booted_at = time.monotonic()
        self.session = DeviceSession()
        self.tap_on = False
        self._start_pipeline()
        body = {k: self.boot_info.get(k) for k in ("slot", "version", "trial")}
        body = {"slot": str(body["slot"]), "version": str(body["version"]), "trial": bool(body["trial"])}
        self._send(DeviceSession.event(MsgType.EV_BOOT, body))

    def _reboot(self) -> None:
        self._phase("reboot")
        self._stop_pipeline()
        time.sleep(0.05)  # let the RESULT leave before the link drops
        self.link.drop_host()
        self.baud = self.options.baud
        self._boot()

    def _phase(self, phase: str, amount: int = 1) -> None:
        """Count a phase; cut the power if the fault says so."""
        loss = self.faults.power_loss
        if loss is None:
            return
        self._phase_counts[phase] += amount
        if phase == loss.phase and self._phase_counts[phase] >= loss.n:
            self.options.power_off()

    def note_error(self, text: str) -> None:
        """An error from a part outside the box's threads (the cloud uploader): kept and sent as EV_LOG."""
        self._log(text)

    def _log(self, text: str, level: str = "error") -> None:
        """A log line: kept for STATE (errors) and sent to the host as EV_LOG."""
        if level == "error":
            self.errors.append(text)
        self._send(DeviceSession.event(MsgType.EV_LOG, {"level": level, "text": text}))

    def _announce_state(self) -> None:
        """EV_STATE: the host hears about a change (config, a receipt) without polling."""
        self._send(DeviceSession.event(MsgType.EV_STATE, {"state": self.status()}))

    def _upload_loop(self) -> None:
        """Offer the queued transactions to the uploader, oldest first, until one is not delivered."""
        while not self._stop.wait(UPLOAD_RETRY):
            delivered: set[str] = set()
            for item in self.state.queue.items():
                try:
                    answer = self.options.uploader.upload(item)
                except Exception as exc:  # a broken uploader must not stop the box
                    self._log(f"upload: {type(exc).__name__}: {exc}")
                    break
                if answer is None:
                    break
                delivered.add(str(item.get("key")))
            if delivered:
                self.state.queue.remove(delivered)

    def _check_links(self) -> None:
        for key in ("pos", "printer"):
            value = self.state.config.get(key) or ""
            if not value:
                continue
            if key == "pos" and value == "pty":
                continue
            ep = parse_endpoint(value) if "://" in value or key == "pos" else None
            if key == "pos" and ep is not None and ep.kind != "listen":
                raise InputError(f"--pos {value}: the emulator's POS side is listen://HOST:PORT or pty")
            if key == "printer" and ep is not None and ep.kind != "tcp":
                raise InputError(f"--printer {value}: expected tcp://HOST:PORT or a file path")

    # -- host link: pacing and faults -------------------------------------------------------------
    def _line_time(self, n: int) -> float:
        return n * 10 / self.baud  # 8N1: ten bits per byte

    def _damage(self, data: bytes, rng: random.Random) -> bytes:
        f = self.faults
        if not (f.drop or f.corrupt):
            return data
        out = bytearray()
        for b in data:
            if f.drop and rng.random() < f.drop:
                continue
            out.append(b ^ rng.randrange(1, 256) if f.corrupt and rng.random() < f.corrupt else b)
        return bytes(out)

    def _reader(self) -> None:
        clock = 0.0
        while not self._stop.is_set():
            data = self.link.read(0.1)
            if data is None:
                self._rx.put(b"")  # the host hung up: resync the decoder
                continue
            if not data:
                continue
            self._phase("bytes", len(data))
            slice_bytes = max(1, int(self.baud / 10 * PACE_SLICE))
            for i in range(0, len(data), slice_bytes):
                part = data[i : i + slice_bytes]
                now = time.monotonic()
                clock = max(clock, now - PACE_SLACK) + self._line_time(len(part))
                if clock > now:
                    time.sleep(clock - now)
                self.counters.host_bytes_in += len(part)
                self._rx.put(self._damage(part, self._rng_in))

    def _send(self, data: bytes) -> None:
        """Paced write to the host (holds the line while it is busy, like a UART)."""
        if not data:
            return
        with self._tx_lock:
            now = time.monotonic()
            self._tx_clock = max(self._tx_clock, now - PACE_SLACK) + self._line_time(len(data))
            if self._tx_clock > now:
                time.sleep(self._tx_clock - now)
            self.counters.host_bytes_out += len(data)
            self.link.write(self._damage(data, self._rng_out))

    # -- requests ---------------------------------------------------------------------------------
    def _dispatcher(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._rx.get(timeout=0.1)
            except queue.Empty:
                self._housekeeping()
                continue
            if data is None:
                return
            if data == b"":
                self.session = DeviceSession()
                self.tap_on = False
                continue
            for msg in self.session.receive(data):
                self._last_valid = time.monotonic()
                self._baud_probation = None
                self.counters.requests += 1
                self._send(self._answer(msg))
                if msg.type is MsgType.REBOOT:
                    self._reboot()
            self._send(self.session.take_replies())
            self._housekeeping()

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self._baud_probation and now > self._baud_probation[0]:
            self.baud = self._baud_probation[1]
            self._baud_probation = None
            self._log("no frame at the new baud rate; reverted")
        if self.tap_on and now - self._last_valid > KEEPALIVE_TAP_OFF:
            self.tap_on = False

    def _answer(self, msg: Message) -> bytes:
        handler = getattr(self, f"_on_{msg.type.name.lower()}", None)
        try:
            if msg.type.name.startswith("FLASH_"):
                self._phase(msg.type.name.lower().replace("_", "-"))
                if self.flash is None:
                    raise Refused(ErrorCode.UNSUPPORTED, "this box has no firmware slots (start the sim with --trust)")
                return DeviceSession.reply(msg, self.flash.handle(msg))
            if handler is None:
                raise Refused(ErrorCode.UNKNOWN_TYPE, f"{msg.type.name} is not a request")
            return DeviceSession.reply(msg, handler(msg))
        except Refused as exc:
            return DeviceSession.fail(msg, exc.code, exc.text, exc.next)
        except Exception as exc:  # the box must answer, whatever broke inside
            self._log(f"{msg.type.name}: {type(exc).__name__}: {exc}")
            return DeviceSession.fail(msg, ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}")

    def _caps(self) -> list[str]:
        caps = ["tap", "config", "profiles", "baud", "test-print"]
        return [*caps, "flash", "flash-z"] if self.flash else caps

    def _on_hello(self, msg: Message) -> dict[str, Any]:
        self._phase("hello")
        if PROTOCOL_VERSION not in msg["versions"]:
            raise Refused(ErrorCode.BAD_VERSION, f"this box speaks protocol version {PROTOCOL_VERSION}")
        ident = self.state.identity
        return {
            "version": PROTOCOL_VERSION,
            "model": ident["model"],
            "serial": ident["serial"],
            "hw": ident["hw"],
            "fw": str(self.boot_info.get("version")),
            "slot": str(self.boot_info.get("slot")),
            "caps": self._caps(),
            "max_frame": MAX_BODY,
            "bauds": list(BAUDS),
            "baud": self.baud,
            "chunk": CHUNK,
            "window": WINDOW,
        }

    def _on_ping(self, msg: Message) -> dict[str, Any]:
        return {}

    def _on_identity(self, msg: Message) -> dict[str, Any]:
        ident = self.state.identity
        out: dict[str, Any] = {"model": ident["model"], "serial": ident["serial"], "hw": ident["hw"]}
        out["fw"] = str(self.boot_info.get("version"))
        if self.options.slots is not None:
            slots = self.options.slots.describe()
            out.update(active=slots.get("active"), trial=bool(slots.get("trial")), slots=slots.get("slots", []))
        else:
            only = {"name": "A", "state": "valid", "version": out["fw"], "confirmed": True}
            out.update(active="A", trial=False, slots=[only, {"name": "B", "state": "empty"}])
        return out

    def _on_config_get(self, msg: Message) -> dict[str, Any]:
        keys = msg.get("keys")
        if keys and (unknown := [k for k in keys if k not in CONFIG_KEYS]):
            raise Refused(ErrorCode.BAD_CONFIG, f"unknown config key(s): {', '.join(map(str, unknown))}")
        return {"config": public_config(self.state.config, keys)}

    def _on_config_set(self, msg: Message) -> dict[str, Any]:
        values = msg["values"]
        problem = check_config(values)
        if problem:
            raise Refused(ErrorCode.BAD_CONFIG, problem)
        self.state.update_config(values)
        if "profile" in values:
            self._detector = None
        restart = [k for k in values if CONFIG_KEYS[k].restart]
        self._log(f"config changed: {', '.join(sorted(values))}", level="info")
        return {"config": public_config(self.state.config), "restart": restart}

    def _on_profile_upload(self, msg: Message) -> dict[str, Any]:
        name = Path(msg["name"]).name
        if not name.endswith((".yaml", ".yml")):
            name += ".yaml"
        path = self.state.profiles_dir / name
        try:
            profile = parse_profile(msg["yaml"].decode("utf-8"), name)
        except (ProfileError, UnicodeDecodeError) as exc:
            raise Refused(ErrorCode.BAD_PAYLOAD, f"profile rejected: {exc}") from None
        write_atomic(path, msg["yaml"])
        if msg.get("activate"):
            self.state.update_config({"profile": profile.id})
        self._detector = None
        return {"id": profile.id, "profiles": [p.id for p in self._profiles().profiles]}

    def _on_tap(self, msg: Message) -> dict[str, Any]:
        self.tap_on = msg["on"]
        return {"on": self.tap_on}

    def _on_state(self, msg: Message) -> dict[str, Any]:
        return self.status()

    def _on_test_print(self, msg: Message) -> dict[str, Any]:
        text = msg.get("text") or f"Kelaile box {self.state.serial} test print"
        job = b"\x1b@" + text.encode("ascii", "replace") + b"\n\n\n\x1dV\x01"
        sent = self._print(job)
        return {"bytes": sent}

    def _on_reboot(self, msg: Message) -> dict[str, Any]:
        return {}

    def _on_set_baud(self, msg: Message) -> dict[str, Any]:
        baud = msg["baud"]
        if baud not in BAUDS:
            raise Refused(ErrorCode.UNSUPPORTED, f"{baud} baud is not supported ({', '.join(map(str, BAUDS))})")
        old = self.baud
        threading.Timer(self._line_time(64) + 0.01, self._switch_baud, (baud, old)).start()
        return {"baud": baud, "old": old, "timeout": BAUD_PROBATION}

    def _switch_baud(self, baud: int, old: int) -> None:
        with self._tx_lock:
            self.baud = baud
            self._baud_probation = (time.monotonic() + BAUD_PROBATION, old)

    # -- state ------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        cap = self.capture_stats
        printer = self.state.config.get("printer") or ""
        return {
            "uptime": round(time.monotonic() - self.booted_at, 3),
            "boot": {k: self.boot_info.get(k) for k in ("slot", "version", "trial")},
            "links": {
                "host": {"baud": self.baud},
                "pos": {"endpoint": self.state.config.get("pos") or "", "listening": self.pos_address},
                "printer": {"endpoint": printer, "kind": "tcp" if "://" in printer else "file" if printer else "none"},
            },
            "counters": {
                "bytes_to_printer": cap.bytes_out,
                "bytes_from_printer": cap.bytes_in,
                "jobs": cap.connections,
                "refused_jobs": cap.refused,
                "receipts": self.counters.receipts,
                "recognised": self.counters.recognised,
                "tap_events": self.counters.tap_events,
                "tap_dropped": self.counters.tap_dropped,
                "host_bytes_in": self.counters.host_bytes_in,
                "host_bytes_out": self.counters.host_bytes_out,
                "bad_frames": self.session.garbage,
            },
            "queue": len(self.state.queue),
            "last_errors": list(self.errors),
            "tap": self.tap_on,
        }

    # -- the print pipeline --------------------------------------------------------------------------
    def _profiles(self) -> Any:
        return load_profiles([self.state.profiles_dir, *self.options.profiles])

    def _detector_now(self) -> Detector:
        if self._detector is None:
            found = self._profiles()
            active = self.state.config.get("profile") or ""
            chosen = [p for p in found.profiles if p.id == active] if active else found.profiles
            self._detector = Detector(chosen or found.profiles)
        return self._detector

    def _start_pipeline(self) -> None:
        self.pipeline_error = ""
        pos = self.state.config.get("pos") or ""
        if not pos:
            return
        printer = self.state.config.get("printer") or ""
        forward = parse_endpoint(printer) if printer.startswith("tcp://") else None
        if pos == "pty" and self._pos_pty is None:
            self._pos_pty = PosPty()
        pos_pty = self._pos_pty if pos == "pty" else None
        if pos_pty is not None and forward is not None:  # a serial stream: one connection to the printer
            forward = parse_endpoint(printer.replace("tcp://", "socket://", 1))
        out_file = Path(printer) if printer and forward is None else None
        sinks: list[Callable[[Chunk], None]] = []
        if out_file is not None:
            try:
                sinks.append(FileSink(out_file))
            except InputError as exc:
                self.pipeline_error = str(exc)
                self._log(self.pipeline_error)
                return
        sinks += [self._tap_sink, ReceiptPipeline(self._queue_receipt)]
        self._capture_stop = threading.Event()
        self.capture_stats = CaptureStats()
        ready = threading.Event()

        def on_ready(host: str, port: int) -> None:
            self.pos_address = host if pos_pty is not None else f"listen://{host}:{port}"
            ready.set()

        def run() -> None:
            try:
                source = parse_endpoint(pos_pty.name if pos_pty is not None else pos)
                self.capture_stats = run_capture(
                    source, forward, sinks, stop=self._capture_stop, ready=on_ready, stats=self.capture_stats,
                    source_link=pos_pty, answers=self.answers if forward is not None else None,
                )  # fmt: skip
            except Exception as exc:
                self.pipeline_error = f"POS side {pos}: {exc}"
                self._log(self.pipeline_error)
                ready.set()

        self._capture = threading.Thread(target=run, name="box-capture", daemon=True)
        self._capture.start()
        ready.wait(5)

    def _stop_pipeline(self) -> None:
        self.pos_address = ""
        if self._capture is not None:
            self._capture_stop.set()
            self._capture.join(timeout=10)
            self._capture = None

    def _queue_receipt(self, receipt: Receipt, raw: bytes) -> None:
        """A finished receipt: analyse it, queue the transaction durably, offer it to the uploader,
        and hand what the cloud answered to the passthrough that holds this receipt's cut."""
        printable: bytes | None = None
        try:
            answer = self._upload_receipt(receipt, raw)
            if answer and "refused" not in answer and receipt.dialect == "escpos" and receipt.cut:
                printable = compose_answer(answer, width=receipt.width)
        finally:
            if receipt.connection is not None:
                self.answers.publish(receipt.connection, receipt.end, printable)

    def _upload_receipt(self, receipt: Receipt, raw: bytes) -> dict[str, Any] | None:
        self.counters.receipts += 1
        analysis = analyse(receipt, self._detector_now())
        if analysis.profile is not None:
            self.counters.recognised += 1
        digest = receipt_digest(raw)
        device = self.state.config.get("device_id") or self.state.serial
        occurrence = self.state.next_occurrence(digest)
        printed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(receipt.timestamp or time.time()))
        item = {
            "key": idempotency_key(device, digest, occurrence),
            "queued_at": round(time.time(), 3),
            "body": upload_body(analysis, digest, printed),
        }
        self.state.queue.push(item)
        self.counters.queued += 1
        self._announce_state()
        answer = self.options.uploader.upload(item)
        if answer is not None:
            self.state.queue.remove({str(item["key"])})
        return answer

    def _tap_sink(self, chunk: Chunk) -> None:
        if not self.tap_on or chunk.direction != TO_PRINTER:
            return
        for i in range(0, len(chunk.data), TAP_CHUNK):
            self._tap_seq += 1
            self.counters.tap_events += 1
            part = chunk.data[i : i + TAP_CHUNK]
            frame = DeviceSession.event(MsgType.EV_TAP, {"seq": self._tap_seq, "data": part, "conn": chunk.conn})
            try:
                self._tap_out.put_nowait(frame)
            except queue.Full:
                self.counters.tap_dropped += 1

    def _tap_sender(self) -> None:
        """Tap frames to the host on their own thread: the pipeline never waits for the host link."""
        while not self._stop.is_set():
            try:
                frame = self._tap_out.get(timeout=0.1)
            except queue.Empty:
                continue
            if self.tap_on:
                self._send(frame)

    def _print(self, job: bytes) -> int:
        """Send a job of the box's own to the printer side (test print)."""
        printer = self.state.config.get("printer") or ""
        if not printer:
            raise Refused(ErrorCode.BAD_STATE, "no printer configured (config 'printer')")
        if printer.startswith("tcp://"):
            ep = parse_endpoint(printer)
            try:
                with socket.create_connection((ep.host, ep.port), timeout=3) as s:
                    s.sendall(job)
            except OSError as exc:
                raise Refused(ErrorCode.INTERNAL, f"printer {printer} unreachable ({exc})") from None
        else:
            with open(printer, "ab") as f:
                f.write(job)
        return len(job)


def slot_backend(state: Path, trust: Path | None) -> SlotBackend | None:
    """The firmware slots of the box in ``state`` (None without ``--trust``: the box cannot be flashed)."""
    if trust is None:
        return None
    if not trust.is_dir():
        raise InputError(f"--trust {trust}: not a directory", remedy="give the directory `klx firmware keygen` wrote")
    from kelaile_cli.services.emulator.slot_store import open_backend

    return open_backend(state / "slots", trust)
