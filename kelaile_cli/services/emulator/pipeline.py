"""The emulated box's POS side: passthrough to the printer, then decode → detect → extract → upload queue
→ answer board.

``PosPipeline`` runs the capture service's passthrough between the POS (``listen://`` or a pty) and the
printer (``tcp://`` or a file); bytes reach the printer first and unchanged. On its tap, every receipt
is decoded (``ReceiptPipeline``), its profile detected and its transaction extracted (``analyse``),
queued durably in the state directory and offered to the uploader; the cloud's answer goes on the
``AnswerBoard`` where the passthrough holding that receipt's cut picks it up.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from kelaile_cli.core.box.answers import compose_answer
from kelaile_cli.core.box.errors import ErrorCode, Refused
from kelaile_cli.core.cloud.protocol import idempotency_key, receipt_digest
from kelaile_cli.core.errors import InputError, KlxError
from kelaile_cli.core.escpos.status import PrinterHealth, usb_port_status
from kelaile_cli.core.formats.recording import TO_PRINTER, Chunk
from kelaile_cli.core.profiles.analysis import analyse, upload_body
from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.stream.printstream import DecodeOptions, PrintStream
from kelaile_cli.core.stream.receipt import Receipt
from kelaile_cli.services.capture.answer_board import DEFAULT_WAIT_S, AnswerBoard
from kelaile_cli.services.capture.live import Capture, CaptureOptions, CaptureStats
from kelaile_cli.services.capture.printer_side import PrinterSide
from kelaile_cli.services.capture.printer_turns import BusyPrinterError, PrinterTurns
from kelaile_cli.services.emulator.links import PosPty
from kelaile_cli.services.emulator.printer_health import query_side
from kelaile_cli.services.emulator.state import BoxState, Uploader
from kelaile_cli.services.profiles.library import ProfileSet, load_profiles
from kelaile_cli.transports.chardev import CharDeviceLink, is_chardev_path
from kelaile_cli.transports.endpoints import Endpoint, parse_endpoint
from kelaile_cli.transports.link import ByteLink
from kelaile_cli.transports.printer import (
    FLOWS,
    FileLink,
    LineSettings,
    is_port_path,
    link_kind,
    open_printer,
    printer_endpoint,
    printer_kind,
)
from kelaile_cli.transports.serial import SerialLink

__all__ = ["FileSink", "PipelineOptions", "PosPipeline", "ReceiptPipeline", "endpoint_problem", "open_pos"]


def endpoint_problem(config: dict[str, Any], flag: str = "--") -> str | None:
    """Why the ``pos``/``printer`` of ``config`` would keep the POS side from starting, or None.

    The same check runs at boot and on CONFIG_SET (``flag=""``: messages name the config key), so a
    value the box could not start with is refused before it is stored."""
    for key in ("pos", "printer"):
        value = config.get(key) or ""
        if not value or (key == "pos" and value == "pty"):
            continue
        label = f"{flag}{key} {value}" if flag else f"config '{key}' = {value!r}"
        try:
            ep = parse_endpoint(value) if key == "pos" else printer_endpoint(value)
        except InputError as exc:
            return f"{label}: {exc.message.removeprefix(value + ': ')}"
        if key == "pos" and (ep.kind not in ("listen", "serial") or not _port_like(value)):
            return f"{label}: the POS side is listen://HOST:PORT, a serial port (/dev/…), a USB printer gadget or pty"
    backup = config.get("backup_printer") or ""
    if backup:
        label = f"{flag}backup-printer {backup}" if flag else f"config 'backup_printer' = {backup!r}"
        try:
            printer_endpoint(backup)
        except InputError as exc:
            return f"{label}: {exc.message.removeprefix(backup + ': ')}"
    flow = config.get("printer_flow") or "none"
    if flow not in FLOWS:
        label = f"{flag}printer-flow {flow}" if flag else f"config 'printer_flow' = {flow!r}"
        return f"{label}: expected one of {', '.join(FLOWS)}"
    return None


def _port_like(value: str) -> bool:
    """A POS-side value that names a port: a URL (listen://, socket://, …) or a device path."""
    return "://" in value or value.startswith("/dev/") or value.upper().startswith("COM") or is_port_path(value)


def open_pos(pos: str, baud: int) -> ByteLink:
    """The POS side's link for a serial port or a USB printer gadget (``/dev/g_printerN``, ``chardev://``)."""
    if is_chardev_path(pos) or pos.startswith("chardev://"):
        return CharDeviceLink(pos.removeprefix("chardev://"))
    return SerialLink.open(pos, baud=baud)


OWN_JOB_WAIT_S = 30.0  # longest the box's own job (a test print) waits for a POS job to finish


class PipelineOptions(Protocol):
    """What the pipeline reads from the emulator's options (``uploader`` may be replaced before start)."""

    profiles: list[Path]
    uploader: Uploader
    usb_backend: Any  # a pyusb backend for usb:// printers (None: libusb; tests pass an emulated one)


class PosPipeline:
    """The POS/printer side of one box; ``start`` at boot, ``stop`` at reboot (the POS pty survives)."""

    def __init__(
        self,
        state: BoxState,
        options: PipelineOptions,
        *,
        log: Callable[[str], None],
        on_queued: Callable[[], None],
        tap: Callable[[Chunk], None],
    ) -> None:
        self.state = state
        self.options = options
        self.log = log
        self.on_queued = on_queued
        self.tap = tap
        self.answers = AnswerBoard(on_event=self._answer_event)  # cloud answers on their way to the held cuts
        self.turns = PrinterTurns()  # POS jobs first and whole; the box's own jobs between them
        self._layout: tuple[int, str | None] = (48, None)  # the POS's paper width and encoding, as last decoded
        self.capture_stats = CaptureStats()
        self.pos_address = ""  # where the POS side really listens (port 0 resolved)
        self.error = ""  # why the POS/printer side did not start at the last boot
        self.receipts = 0
        self.recognised = 0
        self.last_receipt: dict[str, Any] | None = None  # profile and confidence of the latest receipt
        self._detector: Detector | None = None
        self._capture: threading.Thread | None = None
        self._capture_stop = threading.Event()
        self._pos_pty: PosPty | None = None  # --pos pty: the POS's port, kept across reboots
        self.printer_side: PrinterSide | None = None  # the printer's link, when it is not a TCP printer per job
        self._running: Capture | None = None  # the passthrough while it runs
        self._pos_link: ByteLink | None = None  # the POS side's own link (serial, pty, printer gadget) while it runs

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the POS side and the printer side; ``error`` says why not (nothing raised)."""
        self.error = ""
        self.apply_cut_wait()
        pos = self.state.config.get("pos") or ""
        if not pos:
            return
        try:
            source, source_link, forward, printer_link, paper = self._open_sides(pos)
        except (InputError, KlxError) as exc:
            self.error = str(exc)
            self.log(self.error)
            return
        sinks: list[Callable[[Chunk], None]] = [self.tap, ReceiptPipeline(self._queue_receipt)]
        self._capture_stop = threading.Event()
        self.capture_stats = CaptureStats()
        ready = threading.Event()

        def on_ready(host: str, port: int) -> None:
            self.pos_address = host if source.kind != "listen" else f"listen://{host}:{port}"
            ready.set()

        def run() -> None:
            try:
                capture = Capture(CaptureOptions(
                    source, forward, sinks, paper, on_ready=on_ready, stats=self.capture_stats,
                    source_link=source_link, printer_link=printer_link, answers=self.answers, turns=self.turns,
                    printer_reopen=self._reopener(forward) if printer_link is not None else None,
                ))  # fmt: skip
                capture.start()
                self.printer_side = capture.printer_side
                self._running = capture
                self._pos_link = source_link
                while not capture.wait(0.05) and not self._capture_stop.is_set():
                    pass
                self.printer_side = None
                self._running = None
                self._pos_link = None
                self.capture_stats = capture.stop()
            except Exception as exc:
                self.error = f"POS side {pos}: {exc}"
                self.log(self.error)
                ready.set()

        self._capture = threading.Thread(target=run, name="box-capture", daemon=True)
        self._capture.start()
        ready.wait(5)

    def _reopener(self, ep: Endpoint | None) -> Callable[[], ByteLink] | None:
        """How to open the printer link again after it failed (a USB-serial adapter or USB printer
        unplugged and plugged back in: the same path or ids); None for a file."""
        if ep is None or printer_kind(ep) == "file":
            return None
        config = self.state.config
        line = LineSettings(int(config.get("printer_baud") or 9600), str(config.get("printer_flow") or "none"))
        backend = getattr(self.options, "usb_backend", None)
        return lambda: open_printer(ep, line, usb_backend=backend)

    def _open_sides(self, pos: str) -> tuple[Endpoint, ByteLink | None, Endpoint | None, ByteLink | None, list[Any]]:
        """(POS endpoint, its open link, printer endpoint, its open link, file sinks) for the config.

        A TCP POS on a TCP printer keeps the TCP proxy (a printer connection per POS job), and a TCP POS
        on a file printer the virtual printer; every other printer is one open link (``PrinterSide``)."""
        config = self.state.config
        printer = config.get("printer") or ""
        ep = printer_endpoint(printer) if printer else None
        line = LineSettings(int(config.get("printer_baud") or 9600), str(config.get("printer_flow") or "none"))
        source_link: ByteLink | None = None
        if pos == "pty":
            if self._pos_pty is None:
                self._pos_pty = PosPty()
            source_link = self._pos_pty
        source = parse_endpoint(self._pos_pty.name if source_link is not None else pos)  # type: ignore[union-attr]
        paper: list[Any] = []
        if source.kind == "listen" and (ep is None or ep.kind in ("tcp", "file")):
            if ep is not None and ep.kind == "file":
                paper.append(FileSink(Path(ep.path)))
            return source, None, ep if ep is not None and ep.kind == "tcp" else None, None, paper
        backend = getattr(self.options, "usb_backend", None)
        printer_link = open_printer(ep, line, usb_backend=backend) if ep is not None else None
        if source.kind != "listen" and source_link is None:
            try:
                source_link = open_pos(pos, int(config.get("pos_baud") or 9600))
            except KlxError:
                if printer_link is not None:
                    printer_link.close()
                raise
        return source, source_link, ep, printer_link, paper

    def stop(self) -> None:
        """Close the POS and printer sides (a reboot); the POS pty stays."""
        self.pos_address = ""
        if self._capture is not None:
            self._capture_stop.set()
            self._capture.join(timeout=10)
            self._capture = None

    def release(self) -> None:
        """The box is switched off for good: the POS pty goes too."""
        self.stop()
        if self._pos_pty is not None:
            self._pos_pty.release()
            self._pos_pty = None

    def apply_cut_wait(self) -> None:
        """Config ``cut_wait_ms`` → the answer board's deadline; takes effect with the next held cut."""
        wait_ms = self.state.config.get("cut_wait_ms")
        self.answers.wait_s = DEFAULT_WAIT_S if wait_ms is None else max(0, int(wait_ms)) / 1000

    def _answer_event(self, kind: str, info: dict[str, Any]) -> None:
        order = info.get("order_no") or "?"
        if kind == "answer_late":
            self.log(f"answer for receipt {order} came {info['late_s']:.2f} s after its cut: QR not printed")
        else:
            self.log(f"receipt {order} was cut without an answer (the cloud gave none)")

    # -- profiles ----------------------------------------------------------------------------------
    def profiles(self) -> ProfileSet:
        """The profiles the box knows: uploaded ones and those given at start."""
        return load_profiles([self.state.profiles_dir, *self.options.profiles])

    def forget_profiles(self) -> None:
        """The profiles or the active profile changed: detect with the new set from the next receipt."""
        self._detector = None

    def _detector_now(self) -> Detector:
        if self._detector is None:
            found = self.profiles()
            active = self.state.config.get("profile") or ""
            chosen = [p for p in found.profiles if p.id == active] if active else found.profiles
            self._detector = Detector(chosen or found.profiles)
        return self._detector

    # -- receipts ----------------------------------------------------------------------------------
    def _queue_receipt(self, receipt: Receipt, raw: bytes) -> None:
        """A finished receipt: analyse it, queue the transaction durably, offer it to the uploader,
        and hand what the cloud answered to the passthrough that holds this receipt's cut."""
        printable: bytes | None = None
        answer: dict[str, Any] | None = None
        order_no: str | None = None
        try:
            answer, order_no = self._upload_receipt(receipt, raw)
            if answer and "refused" not in answer and receipt.dialect == "escpos" and receipt.cut:
                printable = compose_answer(answer, width=receipt.width)
        finally:
            if receipt.connection is not None:
                self.answers.publish(receipt.connection, receipt.end, printable, order_no=order_no,
                                     answered=answer is not None)  # fmt: skip

    def layout(self) -> tuple[int, str | None]:
        """(paper width in columns, text encoding) of the POS's last receipt: what the box's own jobs use."""
        return self._layout

    def _upload_receipt(self, receipt: Receipt, raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
        """Queue and offer the receipt's transaction -> (the cloud's answer or None, the order number)."""
        self.receipts += 1
        if receipt.dialect == "escpos":
            self._layout = (receipt.width, receipt.encoding)
        analysis = analyse(receipt, self._detector_now())
        order_no = analysis.transaction.order_no if analysis.transaction is not None else None
        if analysis.profile is not None:
            self.recognised += 1
        self.last_receipt = {
            "profile": analysis.profile,
            "confidence": round(analysis.confidence, 3),
            "at": time.time(),
        }
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
        self.on_queued()
        answer = self.options.uploader.upload(item)
        if answer is not None:
            self.state.queue.remove({str(item["key"])})
        return answer, order_no

    def upload_pending(self) -> None:
        """Offer the queued transactions to the uploader, oldest first, until one is not delivered."""
        delivered: set[str] = set()
        for item in self.state.queue.items():
            try:
                answer = self.options.uploader.upload(item)
            except Exception as exc:  # a broken uploader must not stop the box
                self.log(f"upload: {type(exc).__name__}: {exc}")
                break
            if answer is None:
                break
            delivered.add(str(item.get("key")))
        if delivered:
            self.state.queue.remove(delivered)

    def ask_printer(self, ask_model: bool) -> tuple[PrinterHealth, str] | None:
        """The printer's health asked on the POS side's printer link; None when there is no such link
        (a TCP printer behind a TCP POS, a file). ``BusyPrinterError`` while POS jobs hold the printer."""
        side = self.printer_side
        if side is None or isinstance(side.link, FileLink):
            return None
        return query_side(side, self.turns, ask_model)

    def show_printer_health(self, health: PrinterHealth) -> None:
        """A POS on the USB printer gadget sees the printer's health where a USB printer shows it: its port
        status (out of paper, offline, error), as the PC's printer driver reads it."""
        link = self._pos_link
        if isinstance(link, CharDeviceLink):
            link.set_port_status(usb_port_status(health))

    # -- the box's own print jobs -------------------------------------------------------------------
    def print_job(self, job: bytes) -> int:
        """Send a job of the box's own to the printer side (test print) -> bytes sent."""
        printer = self.state.config.get("printer") or ""
        if not printer:
            raise Refused(ErrorCode.BAD_STATE, "no printer configured (config 'printer')")
        side = self.printer_side
        if side is None and link_kind(printer) not in ("tcp", "file"):
            raise Refused(ErrorCode.BAD_STATE, f"printer {printer}: its link is open only while the POS side runs")
        if side is not None:
            try:
                with self.turns.box_turn(OWN_JOB_WAIT_S):  # a shared printer link: never inside a POS job
                    side.print_own(job)
            except BusyPrinterError as exc:
                raise Refused(ErrorCode.BAD_STATE, f"printer {printer}: {exc}") from None
            except OSError as exc:
                raise Refused(ErrorCode.INTERNAL, f"printer {printer}: {exc.strerror or exc}") from None
        elif printer.startswith("tcp://"):
            try:
                with self.turns.box_turn(OWN_JOB_WAIT_S):  # never inside a POS job
                    running = self._running  # a POS holding its printer connection open between jobs: that one
                    if running is None or not running.inject(job):  # (a printer may serve one at a time)
                        self._send_tcp(printer, job)
            except BusyPrinterError as exc:
                raise Refused(ErrorCode.BAD_STATE, f"printer {printer}: {exc}") from None
            except OSError as exc:
                raise Refused(ErrorCode.INTERNAL, f"printer {printer}: {exc.strerror or exc}") from None
        else:
            with open(printer, "ab") as f:
                f.write(job)
        return len(job)

    @staticmethod
    def _send_tcp(printer: str, job: bytes) -> None:
        ep = parse_endpoint(printer)
        try:
            with socket.create_connection((ep.host, ep.port), timeout=3) as s:
                s.sendall(job)
        except OSError as exc:
            raise Refused(ErrorCode.INTERNAL, f"printer {printer} unreachable ({exc})") from None


class FileSink:
    """The printer side as a file: every byte for the printer appended, in order."""

    def __init__(self, path: Path) -> None:
        try:
            self.file = open(path, "ab")  # noqa: SIM115  (closed by close())
        except OSError as exc:
            raise InputError(f"--printer {path}: cannot write ({exc.strerror or exc})") from None

    def __call__(self, chunk: Chunk) -> None:
        if chunk.direction == TO_PRINTER:
            self.file.write(chunk.data)
            self.file.flush()

    def close(self) -> None:
        self.file.close()


class _Stream:
    """One POS connection's decoder and the raw bytes of its receipt in progress (``base``: their offset)."""

    __slots__ = ("base", "decoder", "raw")

    def __init__(self) -> None:
        self.decoder = PrintStream(DecodeOptions())
        self.raw = bytearray()
        self.base = 0


class ReceiptPipeline:
    """Decodes the print stream of each POS connection; hands every finished receipt out with its raw bytes.

    Only the bytes of the receipt in progress are kept: a serial POS's stream never ends (an unattended box
    runs for months), so what a finished receipt used is let go."""

    def __init__(self, on_receipt: Callable[[Receipt, bytes], None]) -> None:
        self.on_receipt = on_receipt
        self._streams: dict[int, _Stream] = {}

    def __call__(self, chunk: Chunk) -> None:
        if chunk.direction != TO_PRINTER:
            return
        stream = self._streams.get(chunk.conn)
        if stream is None:
            stream = self._streams[chunk.conn] = _Stream()
        stream.raw += chunk.data
        self._handle(stream.decoder.feed(chunk.data, chunk.t), stream, chunk.conn)

    def end_connection(self, conn: int) -> None:
        stream = self._streams.pop(conn, None)
        if stream is not None:
            self._handle(stream.decoder.close(), stream, conn)

    def close(self) -> None:
        for conn in list(self._streams):
            self.end_connection(conn)

    def kept(self, conn: int) -> int:
        """Bytes held for ``conn``'s receipt in progress."""
        stream = self._streams.get(conn)
        return len(stream.raw) if stream is not None else 0

    def _handle(self, receipts: list[Receipt], stream: _Stream, conn: int) -> None:
        for receipt in receipts:
            receipt.connection = conn
            self.on_receipt(receipt, bytes(stream.raw[receipt.start - stream.base : receipt.end - stream.base]))
        if receipts:
            end = max(r.end for r in receipts)
            if end > stream.base:
                del stream.raw[: end - stream.base]
                stream.base = end
